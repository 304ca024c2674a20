/**
 * Validated config data to the desired state (model/types.ts): canonical
 * addresses, defaults filled in, durations in seconds, shorthands expanded.
 * Services keep file order (the main file, then the drop-ins by name). Pure;
 * only call it on files that passed parse.ts and validate.ts.
 */
import { canonicalAddress, familyOf } from '../model/address.js';
import { defaultNetmask, serviceKey } from '../model/keys.js';
import type {
  DesiredRealServer,
  DesiredService,
  DesiredState,
  Family,
  Forward,
  IgnoreRule,
  Persistence,
  Protocol,
  RealServer,
  SchedFlag,
  ServiceId,
  Timeouts,
  TunnelChecksum,
  TunnelType,
} from '../model/types.js';
import { parseDuration } from './duration.js';
import { resolveCheck } from './health.js';
import { normalizeHost } from './host.js';
import { DEFAULT_PERSISTENCE, intOf, isRecord, parseNetmask, parsePrefix, parseShorthand, readDefaults } from './values.js';
import type { Defaults } from './values.js';

const TIMEOUT_KEYS = { tcp: 'tcp', tcp_fin: 'tcpFin', udp: 'udp' } as const;

/**
 * The desired state of a set of validated files. `services` is undefined when
 * no file has a `services` key (lvsd then leaves the table alone), `[]` when
 * the key is there with no service. `timeouts` holds only the keys given.
 */
export function normalize(files: readonly { data: unknown }[]): DesiredState {
  const defaults = readDefaults(files);
  const state: DesiredState = { ignore: [] };
  let services: DesiredService[] | undefined;
  for (const { data } of files) {
    if (!isRecord(data)) continue;
    const t = data['timeouts'];
    if (isRecord(t)) {
      const timeouts: Partial<Timeouts> = {};
      for (const [key, field] of Object.entries(TIMEOUT_KEYS)) {
        if (Object.hasOwn(t, key)) timeouts[field] = seconds(t[key]);
      }
      if (Object.keys(timeouts).length > 0) state.timeouts = timeouts;
    }
    const ignore = data['ignore'];
    if (Array.isArray(ignore)) state.ignore.push(...ignore.map(ignoreRule));
    const list = data['services'];
    if (Array.isArray(list)) {
      services ??= [];
      for (const svc of list) services.push(service(record(svc), defaults));
    }
  }
  if (services) state.services = services;
  if (defaults.drain > 0) state.defaultDrain = defaults.drain;
  const host = normalizeHost(files, services);
  if (host) state.host = host;
  return state;
}

function service(svc: Record<string, unknown>, defaults: Defaults): DesiredService {
  let id: ServiceId;
  const fwmark = intOf(svc['fwmark']);
  if (fwmark !== undefined) {
    id = { family: svc['family'] as Family, fwmark };
  } else {
    const vip = String(svc['vip']);
    id = {
      family: familyOf(vip)!,
      protocol: (svc['protocol'] as Protocol | undefined) ?? 'tcp',
      address: canonicalAddress(vip),
      port: intOf(svc['port'])!,
    };
  }
  const family = id.family;
  const out: DesiredService = {
    name: typeof svc['name'] === 'string' ? svc['name'] : serviceKey(id),
    ...id,
    scheduler: typeof svc['scheduler'] === 'string' ? svc['scheduler'] : defaults.scheduler,
    flags: Array.isArray(svc['flags']) ? [...(svc['flags'] as SchedFlag[])].sort() : [],
    onePacket: svc['one_packet'] === true,
    realservers: [],
  };
  const p = svc['persistence'];
  if (isRecord(p)) {
    const persistence: Persistence = {
      timeout: Object.hasOwn(p, 'timeout') ? seconds(p['timeout']) : DEFAULT_PERSISTENCE,
      netmask: Object.hasOwn(p, 'netmask') ? parseNetmask(p['netmask'], family)! : defaultNetmask(family),
    };
    out.persistence = persistence;
  }
  if (typeof svc['pe'] === 'string') out.pe = svc['pe'];
  const servicePort = fwmark === undefined ? (id.port as number) : 0;
  const rss = svc['realservers'];
  if (Array.isArray(rss)) {
    out.realservers = rss.map((rs: unknown) => {
      const r: DesiredRealServer = realServer(rs, servicePort, defaults);
      const check = resolveCheck(svc['check'], isRecord(rs) ? rs['check'] : undefined, r.port);
      if (check) r.check = check;
      return r;
    });
  }
  if (typeof svc['sorry_server'] === 'string') out.sorryServer = realServer(svc['sorry_server'], servicePort, defaults);
  const drain = Object.hasOwn(svc, 'drain') ? seconds(svc['drain']) : defaults.drain;
  if (drain > 0) out.drain = drain;
  return out;
}

function realServer(rs: unknown, servicePort: number, defaults: Defaults): RealServer {
  let address: string;
  let family: Family;
  let port: number | undefined;
  let rec: Record<string, unknown> = {};
  if (typeof rs === 'string') {
    const sh = parseShorthand(rs);
    if (!sh.ok) throw new TypeError(`normalize: unvalidated real server ${rs}`);
    ({ address, family, port } = sh);
  } else {
    rec = record(rs);
    const text = String(rec['address']);
    address = canonicalAddress(text);
    family = familyOf(text)!;
    port = intOf(rec['port']);
  }
  const forward = (rec['forward'] as Forward | undefined) ?? defaults.forward;
  const out: RealServer = {
    family,
    address,
    port: port ?? servicePort,
    forward,
    weight: intOf(rec['weight']) ?? defaults.weight,
    upperThreshold: intOf(rec['upper_threshold']) ?? 0,
    lowerThreshold: intOf(rec['lower_threshold']) ?? 0,
  };
  if (forward === 'tunnel') {
    const t = isRecord(rec['tunnel']) ? rec['tunnel'] : {};
    out.tunnel = {
      type: (t['type'] as TunnelType | undefined) ?? 'ipip',
      port: intOf(t['port']) ?? 0,
      checksum: (t['checksum'] as TunnelChecksum | undefined) ?? 'none',
    };
  }
  return out;
}

function ignoreRule(rule: unknown): IgnoreRule {
  const r = record(rule);
  if (typeof r['vip'] === 'string') {
    const prefix = parsePrefix(r['vip']);
    if (!prefix) throw new TypeError(`normalize: unvalidated ignore rule ${r['vip']}`);
    return { vip: prefix };
  }
  return { fwmark: intOf(r['fwmark'])! };
}

function seconds(v: unknown): number {
  const s = parseDuration(v);
  if (s === undefined) throw new TypeError(`normalize: unvalidated duration ${String(v)}`);
  return s;
}

function record(v: unknown): Record<string, unknown> {
  if (!isRecord(v)) throw new TypeError('normalize: unvalidated config (expected a mapping)');
  return v;
}
