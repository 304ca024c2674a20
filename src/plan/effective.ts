/**
 * What the kernel should hold right now, given the file and what lvsd knows
 * beyond it: which real servers are down (health checks), and which are
 * draining (left the file but still have connections). Health is part of
 * the desired state, so drift correction and checks never fight. Pure.
 */
import { healthKey, isIgnored, realServerKey, serviceKey } from '../model/keys.js';
import type { DesiredRealServer, DesiredService, DesiredState, LiveRealServer, LiveService, LiveState } from '../model/types.js';

export interface EffectiveInput {
  desired: DesiredState;
  live: LiveState;
  /** Up (true) or down (false) by healthKey; a checked real server not in it has its check's initial state. Undefined: checks are not run (one-shot apply): every real server counts as up. */
  health?: ReadonlyMap<string, boolean>;
  /** When each draining real server or service started draining (ms), by healthKey or serviceKey. */
  drains: ReadonlyMap<string, number>;
  /** Drain of services no longer in the file (seconds): the defaults' drain. */
  defaultDrain: number;
  now: number;
}

export interface EffectiveResult {
  state: DesiredState;
  /** Drain start times to keep for the next reconcile. */
  drains: Map<string, number>;
  /** What is draining now, with when it will be deleted at the latest (ms), by healthKey or serviceKey. */
  draining: Map<string, number>;
  /** Services whose sorry server is in (none of their real servers is up). */
  sorry: Set<string>;
}

const connections = (r: LiveRealServer): number => r.activeConnections + r.inactiveConnections;

export function effectiveDesired(input: EffectiveInput): EffectiveResult {
  const { desired, live, health, drains, now } = input;
  const nextDrains = new Map<string, number>();
  const draining = new Map<string, number>();
  const sorry = new Set<string>();
  if (desired.services === undefined) return { state: desired, drains: nextDrains, draining, sorry };

  const liveByKey = new Map<string, LiveService>();
  for (const s of live.services) if (!isIgnored(s, desired.ignore)) liveByKey.set(serviceKey(s), s);

  /** Keeps `r` at weight 0 while it has connections and its drain has not run out. */
  const keepDraining = (key: string, r: LiveRealServer, drainSeconds: number): DesiredRealServer | undefined => {
    if (drainSeconds <= 0 || connections(r) === 0) return undefined;
    const since = drains.get(key) ?? now;
    const until = since + drainSeconds * 1000;
    if (now >= until) return undefined;
    nextDrains.set(key, since);
    draining.set(key, until);
    const { activeConnections: _a, inactiveConnections: _i, persistentConnections: _p, stats: _s, ...rs } = r;
    return { ...rs, weight: 0 };
  };

  const services: DesiredService[] = [];
  for (const svc of desired.services) {
    // Nothing to decide for a service without checks (or with no verdicts), sorry server or drain: it is as the file says.
    if (!svc.sorryServer && !((svc.drain ?? 0) > 0) && (!health || !svc.realservers.some((r) => r.check))) {
      services.push(svc);
      continue;
    }
    const key = serviceKey(svc);
    const realservers: DesiredRealServer[] = [];
    let anyUp = false;
    for (const r of svc.realservers) {
      const up = !r.check || !health ? true : (health.get(healthKey(key, realServerKey(r))) ?? r.check.initial === 'up');
      if (up) {
        anyUp = true;
        realservers.push(r);
      } else if (r.check?.onFailure === 'quiesce') {
        realservers.push({ ...r, weight: 0 });
      }
    }
    const inFile = new Set(svc.realservers.map(realServerKey));
    if (svc.sorryServer && !anyUp && !inFile.has(realServerKey(svc.sorryServer))) {
      realservers.push(svc.sorryServer);
      sorry.add(key);
    }
    const have = liveByKey.get(key);
    const wanted = new Set(realservers.map(realServerKey));
    for (const r of have?.realservers ?? []) {
      const rk = realServerKey(r);
      // Only what left the file drains; a server taken out by its check or a sorry server going is meant to go now.
      if (wanted.has(rk) || inFile.has(rk) || (svc.sorryServer && rk === realServerKey(svc.sorryServer))) continue;
      const kept = keepDraining(healthKey(key, rk), r, svc.drain ?? 0);
      if (kept) realservers.push(kept);
    }
    services.push({ ...svc, realservers });
  }

  // Services that left the file drain as a whole, with the defaults' drain.
  const desiredKeys = new Set(desired.services.map(serviceKey));
  for (const [key, have] of liveByKey) {
    if (desiredKeys.has(key) || input.defaultDrain <= 0) continue;
    const total = have.realservers.reduce((n, r) => n + connections(r), 0);
    const since = drains.get(key) ?? now;
    const until = since + input.defaultDrain * 1000;
    if (total === 0 || now >= until) continue;
    nextDrains.set(key, since);
    draining.set(key, until);
    const { stats: _s, realservers, ...svc } = have;
    services.push({
      ...svc,
      name: key,
      realservers: realservers.map(({ activeConnections: _a, inactiveConnections: _i, persistentConnections: _p, stats: _r, ...r }) => ({ ...r, weight: 0 })),
    });
  }
  return { state: { ...desired, services }, drains: nextDrains, draining, sorry };
}
