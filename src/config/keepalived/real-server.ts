/**
 * keepalived's `real_server IP [PORT] { ... }` as an lvsd real server, and
 * its first checker as the real server's lvsd check. Pure.
 */
import { familyOf } from '../../model/address.js';
import type { Reporter } from '../migration.js';
import { expectList } from '../migration.js';
import type { Statement } from './blocks.js';
import type { CheckerDraft, CheckSettings } from './checkers.js';
import { DEFAULT_STATUS, isChecker, readChecker, readCheckSetting } from './checkers.js';
import type { Forwarding } from './values.js';
import { forwardingArg, intArg } from './values.js';

/** A real server as read, before its virtual server's settings fill it in. */
export interface RealServerDraft {
  at: Statement;
  address: string;
  /** Undefined: no port given (or 0). */
  port?: number;
  weight: number;
  forwarding?: Forwarding;
  upper?: number;
  lower?: number;
  settings: CheckSettings;
  checkers: CheckerDraft[];
}

/** keepalived's defaults for what neither checker, real server nor virtual server sets. */
const KEEPALIVED_DEFAULTS = { connectTimeout: 5, delayLoop: 60 } as const;

/** The most consecutive failures lvsd counts (check.fall). */
const MAX_FALL = 100;

/** A real_server block as a draft; undefined (reported) when its address is not one. */
export function readRealServer(st: Statement, r: Reporter): RealServerDraft | undefined {
  const [address, portText] = st.args;
  if (address === undefined || familyOf(address) === undefined) {
    r.omit(st, 'real_server', `'${address ?? ''}' is not an IP address; keepalived skips it too`);
    return undefined;
  }
  const port = portText !== undefined && /^\d+$/.test(portText) ? Number(portText) : undefined;
  const d: RealServerDraft = { at: st, address, weight: 1, settings: {}, checkers: [] };
  if (port !== undefined && port > 0 && port <= 65535) d.port = port;
  else if (portText !== undefined && port !== 0) r.omit(st, 'real_server', `'${portText}' is not a port`);
  for (const s of st.block ?? []) readRealServerStatement(s, d, r);
  return d;
}

function readRealServerStatement(s: Statement, d: RealServerDraft, r: Reporter): void {
  if (isChecker(s.keyword)) {
    const c = readChecker(s, r);
    if (c && d.checkers.length > 0) {
      r.omit(s, s.keyword, 'lvsd runs one check per real server: the first checker is converted');
    } else if (c) d.checkers.push(c);
    return;
  }
  if (readCheckSetting(s, d.settings, r)) return;
  switch (s.keyword) {
    case 'weight':
      d.weight = intArg(s, r) ?? d.weight;
      return;
    case 'lvs_method':
    case 'lb_kind':
      d.forwarding = forwardingArg(s, r) ?? d.forwarding;
      return;
    case 'uthreshold':
      d.upper = intArg(s, r) ?? d.upper;
      return;
    case 'lthreshold':
      d.lower = intArg(s, r) ?? d.lower;
      return;
  }
  r.omit(s, s.keyword, 'not a real_server setting keepalived or lvsd knows');
}

/** The lvsd check of a checker, its real server's and virtual server's settings filling in what it leaves out. */
export function resolveCheck(
  c: CheckerDraft,
  rs: CheckSettings,
  vs: CheckSettings,
  r: Reporter,
): Record<string, unknown> {
  const pick = <K extends keyof CheckSettings>(k: K): CheckSettings[K] => c.own[k] ?? rs[k] ?? vs[k];
  const interval = pick('delayLoop') ?? KEEPALIVED_DEFAULTS.delayLoop;
  let timeout =
    c.type === 'exec' ? (c.miscTimeout ?? interval) : (pick('connectTimeout') ?? KEEPALIVED_DEFAULTS.connectTimeout);
  if (timeout > interval) {
    r.note(
      c.at,
      c.at.keyword,
      `its ${timeout}s timeout is cut to the ${interval}s delay_loop: lvsd's timeout is at most the interval`,
    );
    timeout = interval;
  }
  // keepalived declares a real server down after 1 + retry failed checks, and up after one success.
  const fall = Math.min(MAX_FALL, (pick('retry') ?? c.defaultRetry) + 1);
  const check: Record<string, unknown> = { type: c.type, interval, timeout, rise: 1, fall };
  if (c.port !== undefined) check['port'] = c.port;
  if (pick('alpha') === true) check['initial'] = 'down';
  check['on_failure'] = pick('inhibit') === true ? 'quiesce' : 'remove';
  if (c.http || c.type === 'http' || c.type === 'https') {
    const host = c.http?.host ?? pick('virtualhost');
    check['http'] = {
      ...(c.http?.path !== undefined ? { path: c.http.path } : {}),
      expect: expectList(c.http?.expect ?? DEFAULT_STATUS),
      ...(host !== undefined ? { host } : {}),
      ...(c.http?.digest !== undefined ? { digest: c.http.digest } : {}),
    };
  }
  if (c.udp && Object.keys(c.udp).length > 0) check['udp'] = c.udp;
  if (c.exec) check['exec'] = c.exec;
  if (c.dns) check['dns'] = c.dns;
  return check;
}
