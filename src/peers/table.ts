/**
 * A director's flow table: what decides which real server a flow goes to
 * (services, their scheduler, flags and persistence; real servers in kernel
 * order with weights, thresholds and forwarding; sloppy_tcp/sloppy_sctp),
 * as served on `/v1/table` and compared by `lvsd peers`. Counters and
 * timeouts are left out: they do not move flows. Pure.
 */
import { LvsdError } from '../errors.js';
import { realServerKey, serviceKey } from '../model/keys.js';
import type { LiveState } from '../model/types.js';
import { isOrderSensitive } from '../plan/order.js';

/** The path of the table on the status endpoint. */
export const TABLE_PATH = '/v1/table';

/** The sysctls that change what a director does with a flow it did not see start. */
export const FLOW_SYSCTLS = { sloppy_tcp: 'net/ipv4/vs/sloppy_tcp', sloppy_sctp: 'net/ipv4/vs/sloppy_sctp' } as const;
export type FlowSysctl = keyof typeof FLOW_SYSCTLS;

/** One real server as a peer compares it. */
export interface FlowRealServer {
  key: string;
  forward: string;
  weight: number;
  upper_threshold: number;
  lower_threshold: number;
  /** `ipip`, `gue:6080:csum`...: absent unless forward is tunnel. */
  tunnel?: string;
}

/** One service as a peer compares it; real servers in kernel order (head first). */
export interface FlowService {
  key: string;
  scheduler: string;
  flags: string[];
  /** `300s/255.255.255.255`; absent when not persistent. */
  persistence?: string;
  one_packet: boolean;
  pe?: string;
  realservers: FlowRealServer[];
}

/** A director's flow table. */
export interface FlowTable {
  version: 1;
  /** Value of each flow sysctl; null where this kernel lacks it (or it could not be read). */
  sysctls: Record<FlowSysctl, string | null>;
  /** Sorted by key. */
  services: FlowService[];
}

/** The flow table of a live IPVS table and the flow sysctls' values (keys as in FLOW_SYSCTLS). */
export function flowTable(live: LiveState, sysctls: ReadonlyMap<string, string | undefined>): FlowTable {
  const services = live.services.map((s): FlowService => {
    const out: FlowService = {
      key: serviceKey(s),
      scheduler: s.scheduler,
      flags: [...s.flags].sort(),
      one_packet: s.onePacket,
      realservers: s.realservers.map((r) => {
        const fr: FlowRealServer = {
          key: realServerKey(r),
          forward: r.forward,
          weight: r.weight,
          upper_threshold: r.upperThreshold,
          lower_threshold: r.lowerThreshold,
        };
        if (r.tunnel) fr.tunnel = [r.tunnel.type, r.tunnel.port, r.tunnel.checksum].join(':');
        return fr;
      }),
    };
    if (s.persistence) out.persistence = `${s.persistence.timeout}s/${s.persistence.netmask}`;
    if (s.pe !== undefined) out.pe = s.pe;
    return out;
  });
  services.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return {
    version: 1,
    sysctls: {
      sloppy_tcp: sysctls.get(FLOW_SYSCTLS.sloppy_tcp) ?? null,
      sloppy_sctp: sysctls.get(FLOW_SYSCTLS.sloppy_sctp) ?? null,
    },
    services,
  };
}

/** One difference between two directors' tables that changes where a flow goes. */
export interface TableDifference {
  /** serviceKey, when the difference is within one service. */
  service?: string;
  /** realServerKey, when it concerns one real server. */
  realserver?: string;
  /** What differs: `only here`, `only there`, `weight`, `real-server order`, `sloppy_tcp`... */
  what: string;
  /** Values on each side as text ('absent' for a missing object). */
  here: string;
  there: string;
}

const show = (v: unknown): string =>
  v === undefined || v === null ? 'none' : Array.isArray(v) ? v.join(',') || 'none' : String(v);

/** Each field of `a` and `b` under `names` that differs, as a difference. */
function fieldDiffs<T extends object>(
  a: T,
  b: T,
  names: readonly (keyof T & string)[],
  where: Pick<TableDifference, 'service' | 'realserver'>,
): TableDifference[] {
  return names
    .filter((n) => show(a[n]) !== show(b[n]))
    .map((n) => ({ ...where, what: n, here: show(a[n]), there: show(b[n]) }));
}

const SERVICE_FIELDS = ['scheduler', 'flags', 'persistence', 'one_packet', 'pe'] as const;
const REALSERVER_FIELDS = ['forward', 'weight', 'upper_threshold', 'lower_threshold', 'tunnel'] as const;

/** The differences between the real servers of one service on two directors. */
function realServerDiffs(here: FlowService, there: FlowService): TableDifference[] {
  const out: TableDifference[] = [];
  const service = here.key;
  const thereByKey = new Map(there.realservers.map((r) => [r.key, r]));
  const hereKeys = new Set(here.realservers.map((r) => r.key));
  for (const r of here.realservers) {
    const t = thereByKey.get(r.key);
    if (!t) out.push({ service, realserver: r.key, what: 'real server only here', here: 'present', there: 'absent' });
    else out.push(...fieldDiffs(r, t, REALSERVER_FIELDS, { service, realserver: r.key }));
  }
  for (const t of there.realservers) {
    if (!hereKeys.has(t.key))
      out.push({ service, realserver: t.key, what: 'real server only there', here: 'absent', there: 'present' });
  }
  // Order moves flows only under mh, sh and dh; compared over the real servers both have.
  if (isOrderSensitive(here.scheduler) || isOrderSensitive(there.scheduler)) {
    const a = here.realservers.map((r) => r.key).filter((k) => thereByKey.has(k));
    const b = there.realservers.map((r) => r.key).filter((k) => hereKeys.has(k));
    if (a.join(' ') !== b.join(' '))
      out.push({ service, what: 'real-server order', here: a.join(', '), there: b.join(', ') });
  }
  return out;
}

/** Every difference between two directors' tables that changes where a flow goes; empty when they agree. */
export function compareTables(here: FlowTable, there: FlowTable): TableDifference[] {
  const out: TableDifference[] = [];
  for (const k of Object.keys(FLOW_SYSCTLS) as FlowSysctl[]) {
    if (here.sysctls[k] !== there.sysctls[k])
      out.push({ what: k, here: show(here.sysctls[k]), there: show(there.sysctls[k]) });
  }
  const thereByKey = new Map(there.services.map((s) => [s.key, s]));
  const hereKeys = new Set(here.services.map((s) => s.key));
  for (const s of here.services) {
    const t = thereByKey.get(s.key);
    if (!t) {
      out.push({ service: s.key, what: 'service only here', here: 'present', there: 'absent' });
      continue;
    }
    out.push(...fieldDiffs(s, t, SERVICE_FIELDS, { service: s.key }), ...realServerDiffs(s, t));
  }
  for (const t of there.services) {
    if (!hereKeys.has(t.key))
      out.push({ service: t.key, what: 'service only there', here: 'absent', there: 'present' });
  }
  return out;
}

/** A difference as one line, e.g. `service tcp/192.0.2.10:80: real-server order: here A, B; there B, A`. */
export function formatDifference(d: TableDifference): string {
  const where = [d.service ? `service ${d.service}` : '', d.realserver ? `real server ${d.realserver}` : '']
    .filter(Boolean)
    .join(' ');
  return `${where ? where + ': ' : ''}${d.what}: here ${d.here}; there ${d.there}`;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const optStr = (v: unknown): boolean => v === undefined || isStr(v);

function isRealServer(v: unknown): v is FlowRealServer {
  return (
    isObj(v) &&
    isStr(v['key']) &&
    isStr(v['forward']) &&
    isNum(v['weight']) &&
    isNum(v['upper_threshold']) &&
    isNum(v['lower_threshold']) &&
    optStr(v['tunnel'])
  );
}

function isService(v: unknown): v is FlowService {
  return (
    isObj(v) &&
    isStr(v['key']) &&
    isStr(v['scheduler']) &&
    Array.isArray(v['flags']) &&
    v['flags'].every(isStr) &&
    optStr(v['persistence']) &&
    typeof v['one_packet'] === 'boolean' &&
    optStr(v['pe']) &&
    Array.isArray(v['realservers']) &&
    v['realservers'].every(isRealServer)
  );
}

/** A parsed `/v1/table` answer checked to be a FlowTable; PEER_ANSWER naming `from` otherwise. */
export function parseFlowTable(v: unknown, from: string): FlowTable {
  const sysctls = isObj(v) ? v['sysctls'] : undefined;
  const ok =
    isObj(v) &&
    v['version'] === 1 &&
    isObj(sysctls) &&
    (Object.keys(FLOW_SYSCTLS) as FlowSysctl[]).every((k) => sysctls[k] === null || isStr(sysctls[k])) &&
    Array.isArray(v['services']) &&
    v['services'].every(isService);
  if (!ok) throw new LvsdError('PEER_ANSWER', `${from}: the answer is not an lvsd table (version 1)`);
  return v as unknown as FlowTable;
}
