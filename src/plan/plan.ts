/**
 * The whole plan for a host: its settings and new addresses, then the IPVS
 * changes, then the addresses whose services went. Pure.
 */
import type { LiveHost } from '../model/host.js';
import { healthKey } from '../model/keys.js';
import type { DesiredState, LiveState } from '../model/types.js';
import { inPhaseOrder, type Plan } from './change.js';
import { diff } from './diff.js';
import { effectiveDesired } from './effective.js';
import { diffHost } from './host-diff.js';
import { diffSync } from './sync-diff.js';

/** `host` is the live host, read when the config has a director or realserver section. */
export function planAll(desired: DesiredState, live: LiveState, host?: LiveHost): Plan {
  const ipvs = diff(desired, live);
  const sync = diffSync(desired, live);
  if (!host && sync.length === 0) return ipvs;
  return inPhaseOrder([...(host ? diffHost(desired.host, host) : []), ...sync, ...ipvs]);
}

/** True when the config manages anything in IPVS (services, timeouts or sync daemons). */
export function managesIpvs(desired: DesiredState): boolean {
  return (
    desired.services !== undefined ||
    desired.sync !== undefined ||
    (desired.timeouts !== undefined && Object.keys(desired.timeouts).length > 0)
  );
}

export interface PlanInput {
  desired: DesiredState;
  live: LiveState;
  host?: LiveHost;
  /** Check results by healthKey; undefined when checks are not run (one-shot commands). */
  health?: ReadonlyMap<string, boolean>;
  /** Drain clocks from the previous reconcile. */
  drains?: ReadonlyMap<string, number>;
  now: number;
}

export interface PlanOutput {
  plan: Plan;
  /** Drain clocks to keep for the next reconcile. */
  drains: Map<string, number>;
  /** What is draining, with its deadline (ms). */
  draining: Map<string, number>;
}

/**
 * The plan for the file as health checks and drains shape it. Changes that
 * start or continue a drain carry a note saying so.
 */
export function planFor(input: PlanInput): PlanOutput {
  const eff = effectiveDesired({
    desired: input.desired,
    live: input.live,
    ...(input.health ? { health: input.health } : {}),
    drains: input.drains ?? new Map(),
    defaultDrain: input.desired.defaultDrain ?? 0,
    now: input.now,
  });
  const plan = planAll(eff.state, input.live, input.host);
  for (const c of plan) {
    const key =
      c.kind === 'realserver' && c.service && c.realserver
        ? healthKey(c.service, c.realserver)
        : c.kind === 'service'
          ? c.service
          : undefined;
    const until =
      key !== undefined ? (eff.draining.get(key) ?? (c.service ? eff.draining.get(c.service) : undefined)) : undefined;
    if (until !== undefined)
      c.note = `draining: deleted when its connections end, or in ${Math.max(0, Math.ceil((until - input.now) / 1000))}s`;
  }
  return { plan, drains: eff.drains, draining: eff.draining };
}
