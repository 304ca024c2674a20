/**
 * The whole plan for a host: its settings and new addresses, then the IPVS
 * changes, then the addresses whose services went. Pure.
 */
import type { LiveHost } from '../model/host.js';
import type { DesiredState, LiveState } from '../model/types.js';
import { diff, type Plan } from './diff.js';
import { diffHost } from './host-diff.js';

/** `host` is the live host, read when the config has a director or realserver section. */
export function planAll(desired: DesiredState, live: LiveState, host?: LiveHost): Plan {
  const h = host ? diffHost(desired.host, host) : { before: [], after: [] };
  return h.before.concat(diff(desired, live), h.after);
}

/** True when the config manages anything in IPVS (services or timeouts). */
export function managesIpvs(desired: DesiredState): boolean {
  return desired.services !== undefined || (desired.timeouts !== undefined && Object.keys(desired.timeouts).length > 0);
}
