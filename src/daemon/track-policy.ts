/**
 * What lvsd run writes into keepalived's track file: whether this director
 * can serve. Pure.
 *
 * keepalived (vrrp_track_file, `track_file { NAME weight 1 }`) adds the
 * file's integer times the weight to the instance's priority, clamped to
 * 1..254; a product of -254 or below puts the instance in FAULT (it drops
 * the VIP and stops advertising). lvsd's values, for weight 1:
 * - 0 (`ok`): the table is applied and every service has a real server up.
 * - -253 (`cannot_serve`): a service has no real server up, or the last
 *   reconcile failed or erred. The priority drops to 1, below any peer that
 *   is not itself degraded, so the peer takes the VIPs; FAULT is not used so
 *   that when both directors are degraded one still holds the VIPs (a
 *   failed operation may concern one service of many, and an answer beats
 *   no ARP reply at all).
 * - -100 (`warming`): the first seconds after lvsd started a sync backup
 *   daemon (SYNC_WARMUP_MS). A director that comes back must not preempt
 *   before its backup learnt the peer's live connections (each is synced
 *   again every sync_refresh_period with traffic, and a sync buffer waits up
 *   to 2 s), or they are reset when the VIP comes to it.
 * - -100 (`stopped`): lvsd stopped cleanly. The IPVS table stays and still
 *   serves, but nothing checks the real servers or corrects drift any more:
 *   a peer whose lvsd runs (priorities differing by less than 100) is
 *   better, a degraded peer (-253) is worse.
 * A crashed lvsd writes nothing: the file keeps its last value.
 */
import type { HealthView } from '../plan/effective.js';
import { healthKey, realServerKey, serviceKey } from '../model/keys.js';
import type { DesiredService } from '../model/types.js';
import type { ReconcileSummary } from './reconciler.js';

/** The track file's values (for `weight 1`). */
export const TRACK_VALUE = { ok: 0, warming: -100, stopped: -100, cannot_serve: -253 } as const;

/** How long a sync backup daemon learns the peer's connections before this director says it can serve (ms). */
export const SYNC_WARMUP_MS = 5000;

export type TrackState = keyof typeof TRACK_VALUE;

export interface TrackVerdict {
  state: TrackState;
  value: number;
  /** Why the director cannot serve (or is stopped); undefined when ok. */
  reason?: string;
}

export interface TrackInput {
  /** The services of the last valid config. */
  services: readonly DesiredService[];
  /** Up/down of checked real servers by healthKey; a checked one not in it has its check's initial state. */
  health: HealthView;
  /** The last reconcile that applied a config (not skipped, not an invalid config); undefined: none yet. */
  lastReconcile?: Pick<ReconcileSummary, 'result' | 'reason'>;
  /** lvsd is stopping or has stopped. */
  stopped: boolean;
  /** A sync backup daemon started less than SYNC_WARMUP_MS ago. */
  warming?: boolean;
}

/** The services that have real servers but none of them up. */
export function servicesWithoutRealServer(services: readonly DesiredService[], health: HealthView): string[] {
  const out: string[] = [];
  for (const s of services) {
    if (s.realservers.length === 0) continue;
    const key = serviceKey(s);
    const up = s.realservers.some(
      (r) => !r.check || (health.get(healthKey(key, realServerKey(r))) ?? r.check.initial === 'up'),
    );
    if (!up) out.push(key);
  }
  return out;
}

/** The track file's value and why. */
export function trackVerdict(input: TrackInput): TrackVerdict {
  if (input.stopped) {
    return { state: 'stopped', value: TRACK_VALUE.stopped, reason: 'lvsd stopped: nothing checks the real servers' };
  }
  const last = input.lastReconcile;
  if (last && (last.result === 'failed' || last.result === 'error')) {
    const why = `the last reconcile ${last.result === 'failed' ? 'failed' : 'ended with an error'}`;
    return { state: 'cannot_serve', value: TRACK_VALUE.cannot_serve, reason: `${why}: ${last.reason ?? ''}` };
  }
  const dead = servicesWithoutRealServer(input.services, input.health);
  if (dead.length > 0) {
    const more = dead.length > 3 ? ` and ${dead.length - 3} more` : '';
    const reason = `no real server up in ${dead.slice(0, 3).join(', ')}${more}`;
    return { state: 'cannot_serve', value: TRACK_VALUE.cannot_serve, reason };
  }
  if (input.warming) {
    const reason = "lvsd just started: the sync backup is learning the peer's connections";
    return { state: 'warming', value: TRACK_VALUE.warming, reason };
  }
  return { state: 'ok', value: TRACK_VALUE.ok };
}
