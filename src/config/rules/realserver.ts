/**
 * Rules on one real server (mapping or shorthand) within its service:
 * address, family, port under dr and tunnel, thresholds, tunnel settings;
 * and within a service, each real server listed once. Pure.
 */
import { realServerKey } from '../../model/keys.js';
import { show } from '../parse.js';
import { SHORTHAND_HELP, hasKey, intOf, isRecord } from '../values.js';
import type { RealServer, Report, Service } from './context.js';
import { familyName, fromDefaults, realServerPlace } from './context.js';
import { unusableMessage } from './usable.js';

/** CONFIG_ADDRESS: a real server is an address (with a port in the shorthand) that IPVS can send to. */
export function realServerAddress(rs: RealServer, s: Service, report: Report): void {
  const place = () => realServerPlace(s, rs, 'address');
  if (rs.shorthand && !rs.shorthand.ok) {
    report.add(
      'CONFIG_ADDRESS',
      place(),
      `bad real server ${show(rs.text)}: ${rs.shorthand.reason}; write ${SHORTHAND_HELP}, or a mapping`,
    );
    return;
  }
  const a = rs.rec?.['address'];
  if (typeof a === 'string' && !rs.address) {
    const hint = /^(\[.*\]|[^:]*):\d+$/.test(a) ? ' (write the port as `port: N`)' : '';
    report.add('CONFIG_ADDRESS', place(), `real server address ${show(a)} is not an IPv4 or IPv6 address${hint}`);
    return;
  }
  const unusable = rs.address === undefined ? undefined : unusableMessage(rs.address);
  if (unusable) report.add('CONFIG_ADDRESS', place(), `real server ${rs.address!} ${unusable}`);
}

/** CONFIG_FAMILY_MISMATCH: only tunnel forwarding mixes address families. */
export function realServerFamily(rs: RealServer, s: Service, report: Report): void {
  if (!rs.family || !s.family || rs.family === s.family || rs.forward === 'tunnel') return;
  report.add(
    'CONFIG_FAMILY_MISMATCH',
    realServerPlace(s, rs, 'address'),
    `real server ${rs.address!} is ${familyName(rs.family)} but the service is ${familyName(s.family)}: ` +
      `only forward: tunnel can mix address families (forward is ${rs.forward}${fromDefaults(rs.ownForward)})`,
  );
}

/** CONFIG_PORT: dr and tunnel send packets on with their port, so the real server's port is the service's. */
export function realServerPortFitsForward(rs: RealServer, s: Service, report: Report): void {
  if (s.form !== 'vip' || s.port === undefined || rs.port === undefined || rs.port === s.port) return;
  if (rs.forward !== 'dr' && rs.forward !== 'tunnel') return;
  report.add(
    'CONFIG_PORT',
    realServerPlace(s, rs, 'port'),
    `real server port ${rs.port} differs from the service port ${s.port}, but forward ${rs.forward}${fromDefaults(rs.ownForward)} ` +
      'sends packets on with their port unchanged (only nat rewrites ports): leave the port out, or use forward: nat',
  );
}

/** CONFIG_THRESHOLDS: lower_threshold <= upper_threshold, as the kernel needs. */
export function thresholdsOrdered(rs: RealServer, s: Service, report: Report): void {
  const rec = rs.rec;
  if (!rec) return;
  const upper = hasKey(rec, 'upper_threshold') ? intOf(rec['upper_threshold']) : 0;
  const lower = hasKey(rec, 'lower_threshold') ? intOf(rec['lower_threshold']) : 0;
  if (upper === undefined || lower === undefined || lower <= upper) return;
  const unset = hasKey(rec, 'upper_threshold') ? '' : ' (not set)';
  report.add(
    'CONFIG_THRESHOLDS',
    realServerPlace(s, rs, 'lower_threshold', 'key'),
    `lower_threshold ${lower} is above upper_threshold ${upper}${unset}: the kernel needs lower_threshold <= upper_threshold`,
  );
}

/** CONFIG_TUNNEL: tunnel settings need forward tunnel; gue needs a port, which only gue takes; checksums per type. */
export function tunnelSettings(rs: RealServer, s: Service, report: Report): void {
  if (!rs.rec || !hasKey(rs.rec, 'tunnel')) return;
  const place = (field: string[], at: 'key' | 'value' = 'value') => realServerPlace(s, rs, ['tunnel', ...field], at);
  if (rs.forward !== 'tunnel') {
    report.add(
      'CONFIG_TUNNEL',
      place([], 'key'),
      `tunnel settings need forward: tunnel (this real server's forward is ${rs.forward}${fromDefaults(rs.ownForward)})`,
    );
    return;
  }
  const t = rs.rec['tunnel'];
  if (!isRecord(t)) return;
  const type = hasKey(t, 'type') ? t['type'] : 'ipip';
  if (type === 'gue' && !hasKey(t, 'port')) {
    report.add(
      'CONFIG_TUNNEL',
      place([], 'key'),
      'a gue tunnel needs a port: the UDP port the real server decapsulates on (e.g. 6080)',
    );
  }
  if (type !== 'gue' && hasKey(t, 'port')) {
    report.add(
      'CONFIG_TUNNEL',
      place(['port'], 'key'),
      `a tunnel port is for gue only; this tunnel is ${String(type)}`,
    );
  }
  const checksum = t['checksum'];
  if (checksum === 'remcsum' && type !== 'gue') {
    report.add(
      'CONFIG_TUNNEL',
      place(['checksum']),
      `checksum remcsum is for gue tunnels only; this tunnel is ${String(type)}`,
    );
  } else if (checksum === 'csum' && type === 'ipip') {
    report.add('CONFIG_TUNNEL', place(['checksum']), 'ipip tunnels have no checksum; csum is for gue and gre');
  }
}

/** CONFIG_DUPLICATE_REALSERVER: a real server (canonical address and effective port) listed once per service. */
export function realServersUnique(s: Service, report: Report): void {
  const seen = new Map<string, RealServer>();
  for (const rs of s.realservers) {
    if (rs.address === undefined || rs.effectivePort === undefined) continue;
    const key = realServerKey({ family: rs.family!, address: rs.address, port: rs.effectivePort });
    const first = seen.get(key);
    if (!first) {
      seen.set(key, rs);
      continue;
    }
    report.add(
      'CONFIG_DUPLICATE_REALSERVER',
      realServerPlace(s, rs, 'address'),
      `real server ${key} is already listed in this service at ${report.here(realServerPlace(s, first, 'address'))}`,
    );
  }
}
