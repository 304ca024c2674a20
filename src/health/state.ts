/**
 * The up/down state of one checked real server: rise consecutive successes
 * make it up, fall consecutive failures make it down. Pure.
 */
import type { CheckSpec } from '../model/types.js';

export interface HealthState {
  up: boolean;
  /** Consecutive successes (while down) or failures (while up) so far. */
  streak: number;
  /** Why the last check failed. */
  lastError?: string;
  /** When the state last changed (ms). */
  since: number;
}

export function initialHealth(spec: CheckSpec, now: number): HealthState {
  return { up: spec.initial === 'up', streak: 0, since: now };
}

/** The state after one check result; `changed` when it flipped. */
export function observe(
  s: HealthState,
  ok: boolean,
  spec: Pick<CheckSpec, 'rise' | 'fall'>,
  now: number,
  error?: string,
): { state: HealthState; changed: boolean } {
  // A result that agrees with the state resets the count towards flipping it.
  if (ok === s.up) {
    const state: HealthState = { up: s.up, streak: 0, since: s.since };
    if (!ok && error !== undefined) state.lastError = error;
    return { state, changed: false };
  }
  const streak = s.streak + 1;
  const needed = ok ? spec.rise : spec.fall;
  if (streak >= needed) {
    const state: HealthState = { up: ok, streak: 0, since: now };
    if (!ok && error !== undefined) state.lastError = error;
    return { state, changed: true };
  }
  const state: HealthState = { up: s.up, streak, since: s.since };
  if (!ok && error !== undefined) state.lastError = error;
  return { state, changed: false };
}
