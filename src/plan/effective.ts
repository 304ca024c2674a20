/**
 * What the kernel should hold right now, given the file and what lvsd knows
 * beyond it: which real servers are down (health checks), and which are
 * draining (left the file but still have connections). Health is part of
 * the desired state, so drift correction and checks never fight. Pure.
 */
import { healthKey, isIgnored, realServerKey, serviceKey } from '../model/keys.js';
import type {
  DesiredRealServer,
  DesiredService,
  DesiredState,
  LiveRealServer,
  LiveService,
  LiveState,
  RealServer,
} from '../model/types.js';

/** Up (true) or down (false) of checked real servers by healthKey: a map, or a live view of the checks. */
export type HealthView = Pick<ReadonlyMap<string, boolean>, 'get'>;

export interface EffectiveInput {
  desired: DesiredState;
  live: LiveState;
  /** Up (true) or down (false) by healthKey; a checked real server not in it has its check's initial state. Undefined: checks are not run (one-shot apply): every real server counts as up. */
  health?: HealthView;
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

/** What effectiveDesired reports besides the state. */
type Tracking = Omit<EffectiveResult, 'state'>;

/**
 * The desired state as health checks and drains shape it: checked real
 * servers that are down are left out or quiesced, a sorry server comes in
 * when none is up, and what left the file keeps its connections at weight 0
 * until they end or its drain runs out.
 */
export function effectiveDesired(input: EffectiveInput): EffectiveResult {
  const { desired, live } = input;
  const t: Tracking = { drains: new Map(), draining: new Map(), sorry: new Set() };
  if (desired.services === undefined) return { state: desired, ...t };

  const liveByKey = new Map<string, LiveService>();
  for (const s of live.services) if (!isIgnored(s, desired.ignore)) liveByKey.set(serviceKey(s), s);

  const services = desired.services.map((svc) => serviceNow(svc, liveByKey, input, t));
  for (const s of leavingServices(desired.services, liveByKey, input, t)) services.push(s);
  return { state: { ...desired, services }, ...t };
}

/**
 * True while the drain of `key` (started now, or when `input.drains` says)
 * has not run out after `seconds`; it is then kept in `t`.
 */
function drainRuns(key: string, seconds: number, input: EffectiveInput, t: Tracking): boolean {
  const since = input.drains.get(key) ?? input.now;
  const until = since + seconds * 1000;
  if (input.now >= until) return false;
  t.drains.set(key, since);
  t.draining.set(key, until);
  return true;
}

/** A live real server as the kernel should keep it while it drains: weight 0, no counters. */
function drained(live: LiveRealServer): RealServer {
  const { activeConnections: _a, inactiveConnections: _i, persistentConnections: _p, stats: _s, ...r } = live;
  return { ...r, weight: 0 };
}

/** A service of the file as its checks, sorry server and drain make it now. */
function serviceNow(
  svc: DesiredService,
  liveByKey: ReadonlyMap<string, LiveService>,
  input: EffectiveInput,
  t: Tracking,
): DesiredService {
  const { health } = input;
  // Nothing to decide for a service without checks (or with no verdicts), sorry server or drain:
  // it is as the file says.
  if (!svc.sorryServer && !((svc.drain ?? 0) > 0) && (!health || !svc.realservers.some((r) => r.check))) return svc;
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
  const sorryKey = svc.sorryServer ? realServerKey(svc.sorryServer) : undefined;
  if (svc.sorryServer && !anyUp && !inFile.has(sorryKey!)) {
    realservers.push(svc.sorryServer);
    t.sorry.add(key);
  }
  const wanted = new Set(realservers.map(realServerKey));
  const drain = svc.drain ?? 0;
  for (const r of liveByKey.get(key)?.realservers ?? []) {
    const rk = realServerKey(r);
    // Only what left the file drains; a server taken out by its check or a sorry server going is meant to go now.
    if (wanted.has(rk) || inFile.has(rk) || rk === sorryKey) continue;
    if (drain > 0 && connections(r) > 0 && drainRuns(healthKey(key, rk), drain, input, t)) realservers.push(drained(r));
  }
  return { ...svc, realservers };
}

/** Live services that left the file and still have connections: they drain as a whole, with the defaults' drain. */
function leavingServices(
  inFile: readonly DesiredService[],
  liveByKey: ReadonlyMap<string, LiveService>,
  input: EffectiveInput,
  t: Tracking,
): DesiredService[] {
  const out: DesiredService[] = [];
  if (input.defaultDrain <= 0) return out;
  const desiredKeys = new Set(inFile.map(serviceKey));
  for (const [key, have] of liveByKey) {
    if (desiredKeys.has(key)) continue;
    const total = have.realservers.reduce((n, r) => n + connections(r), 0);
    if (total === 0 || !drainRuns(key, input.defaultDrain, input, t)) continue;
    const { stats: _s, realservers, ...svc } = have;
    out.push({ ...svc, name: key, realservers: realservers.map(drained) });
  }
  return out;
}
