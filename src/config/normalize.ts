/**
 * Validated config data to the desired state (model/types.ts): canonical
 * addresses, defaults filled in, durations in seconds, shorthands expanded.
 * Built from the same resolved services and real servers the rules checked
 * (resolve.ts). Services keep file order (the main file, then the drop-ins by
 * name). Pure; only call it on files that passed parse.ts and validate.ts.
 */
import { defaultNetmask } from '../model/keys.js';
import { TIMEOUT_KEYS } from '../model/timeouts.js';
import type {
  DesiredRealServer,
  DesiredService,
  DesiredState,
  IgnoreRule,
  Persistence,
  RealServer,
  SchedFlag,
  Timeouts,
  TunnelChecksum,
  TunnelType,
} from '../model/types.js';
import { parseDuration } from './duration.js';
import { resolveCheck } from './health.js';
import { normalizeHost } from './host.js';
import { normalizeSync } from './sync.js';
import { resolveConfig } from './resolve.js';
import type { DataFile, ResolvedRealServer, ResolvedService } from './resolve.js';
import { DEFAULT_PERSISTENCE, intOf, isRecord, parseNetmask } from './values.js';
import type { Defaults } from './values.js';

/**
 * The desired state of a set of validated files. `services` is undefined when
 * no file has a `services` key (lvsd then leaves the table alone), `[]` when
 * the key is there with no service. `timeouts` holds only the keys given.
 */
export function normalize(files: readonly DataFile[]): DesiredState {
  const config = resolveConfig(files);
  const { defaults } = config;
  const state: DesiredState = {
    ignore: config.ignore.map((r): IgnoreRule => r.rule ?? unvalidated(`ignore rule ${r.text}`)),
  };
  for (const { data } of config.records) {
    const t = data['timeouts'];
    if (!isRecord(t)) continue;
    const timeouts: Partial<Timeouts> = {};
    for (const { field, key } of TIMEOUT_KEYS) if (Object.hasOwn(t, key)) timeouts[field] = seconds(t[key]);
    if (Object.keys(timeouts).length > 0) state.timeouts = timeouts;
  }
  const services = config.hasServices ? config.services.map((s) => service(s, defaults)) : undefined;
  if (services) state.services = services;
  if (defaults.drain > 0) state.defaultDrain = defaults.drain;
  const host = normalizeHost(files, services);
  if (host) state.host = host;
  const sync = normalizeSync(files);
  if (sync) state.sync = sync;
  return state;
}

function service(s: ResolvedService, defaults: Defaults): DesiredService {
  const id = s.id ?? unvalidated('service identity');
  const svc = s.raw;
  const out: DesiredService = {
    name: typeof svc['name'] === 'string' ? svc['name'] : s.key!,
    ...id,
    scheduler: s.scheduler,
    flags: Array.isArray(svc['flags']) ? [...(svc['flags'] as SchedFlag[])].sort() : [],
    onePacket: svc['one_packet'] === true,
    realservers: s.realservers.map((rs) => {
      const r: DesiredRealServer = realServer(rs, defaults);
      const check = resolveCheck(svc['check'], rs.rec?.['check'], r.port);
      if (check) r.check = check;
      return r;
    }),
  };
  const p = svc['persistence'];
  if (isRecord(p)) {
    const persistence: Persistence = {
      timeout: Object.hasOwn(p, 'timeout') ? seconds(p['timeout']) : DEFAULT_PERSISTENCE,
      netmask: Object.hasOwn(p, 'netmask') ? parseNetmask(p['netmask'], id.family)! : defaultNetmask(id.family),
    };
    out.persistence = persistence;
  }
  if (typeof svc['pe'] === 'string') out.pe = svc['pe'];
  const sorry = s.sorry;
  if (sorry) {
    if (!sorry.parsed.ok) unvalidated(`sorry server ${sorry.text}`);
    const { address, family } = sorry.parsed;
    out.sorryServer = realServer(
      { index: -1, address, family, effectivePort: sorry.effectivePort, forward: defaults.forward, ownForward: false },
      defaults,
    );
  }
  const drain = Object.hasOwn(svc, 'drain') ? seconds(svc['drain']) : defaults.drain;
  if (drain > 0) out.drain = drain;
  return out;
}

function realServer(rs: ResolvedRealServer, defaults: Defaults): RealServer {
  if (rs.address === undefined || rs.family === undefined || rs.effectivePort === undefined) unvalidated('real server');
  const rec = rs.rec ?? {};
  const out: RealServer = {
    family: rs.family!,
    address: rs.address!,
    port: rs.effectivePort!,
    forward: rs.forward,
    weight: intOf(rec['weight']) ?? defaults.weight,
    upperThreshold: intOf(rec['upper_threshold']) ?? 0,
    lowerThreshold: intOf(rec['lower_threshold']) ?? 0,
  };
  if (rs.forward === 'tunnel') {
    const t = isRecord(rec['tunnel']) ? rec['tunnel'] : {};
    out.tunnel = {
      type: (t['type'] as TunnelType | undefined) ?? 'ipip',
      port: intOf(t['port']) ?? 0,
      checksum: (t['checksum'] as TunnelChecksum | undefined) ?? 'none',
    };
  }
  return out;
}

function seconds(v: unknown): number {
  return parseDuration(v) ?? unvalidated(`duration ${String(v)}`);
}

function unvalidated(what: string): never {
  throw new TypeError(`normalize: unvalidated ${what}`);
}
