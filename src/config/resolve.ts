/**
 * The config's services, real servers, sorry servers and ignore rules, each
 * resolved once into a typed record: identity, family, canonical address,
 * effective port, forwarding, and where it sits in which file. The rules
 * (rules/*.ts) and normalize.ts read these records and nothing else, so a
 * real server's address or port has one reading. Values of the wrong type
 * are left unresolved (undefined fields), never guessed: the schema reports
 * them. Pure.
 */
import { canonicalAddress, familyOf, parseAddressPort } from '../model/address.js';
import type { AddressPort } from '../model/address.js';
import { serviceKey } from '../model/keys.js';
import type { Family, IgnoreRule, Protocol, ServiceId } from '../model/types.js';
import { intOf, isRecord, parsePrefix, readDefaults } from './values.js';
import type { Defaults } from './values.js';

/** A config file as resolve reads it: a ParsedFile in validation, plain data in normalize. */
export interface DataFile {
  data: unknown;
}

/** A file whose data is a mapping. */
export type RecordFile<F extends DataFile> = F & { data: Record<string, unknown> };

/** How a service says who it is. `both` and `none` are mistakes the service rules report. */
export type ServiceForm = 'vip' | 'fwmark' | 'both' | 'none';

/** Forwarding methods a config can ask for. */
export type ConfigForward = 'dr' | 'nat' | 'tunnel';

export interface ResolvedService<F extends DataFile = DataFile> {
  src: RecordFile<F>;
  /** Index in its file's `services`. */
  index: number;
  raw: Record<string, unknown>;
  form: ServiceForm;
  /** The vip's family, or a fwmark service's `family`. */
  family?: Family;
  /** The canonical vip. */
  vip?: string;
  /** Undefined when `protocol` is given but not tcp, udp or sctp. */
  protocol?: Protocol;
  port?: number;
  /** Set when the identity is complete and in range. */
  id?: ServiceId;
  key?: string;
  scheduler: string;
  /** False when the scheduler is the default's. */
  ownScheduler: boolean;
  realservers: ResolvedRealServer[];
  sorry?: ResolvedSorryServer;
}

export interface ResolvedRealServer {
  /** Index in the service's `realservers`. */
  index: number;
  /** The mapping form; undefined for a shorthand. */
  rec?: Record<string, unknown>;
  /** The shorthand form: its text, and what it reads as. */
  text?: string;
  shorthand?: AddressPort;
  /** Canonical. */
  address?: string;
  family?: Family;
  /** The port as written (mapping or shorthand). */
  port?: number;
  /** The port the kernel gets: as written, else the service's (0 for fwmark services). */
  effectivePort?: number;
  forward: ConfigForward;
  /** False when the forward is the default's. */
  ownForward: boolean;
}

export interface ResolvedSorryServer {
  text: string;
  parsed: AddressPort;
  effectivePort?: number;
}

export interface ResolvedIgnore<F extends DataFile = DataFile> {
  src: RecordFile<F>;
  /** Index in its file's `ignore`. */
  index: number;
  field: 'vip' | 'fwmark';
  /** Undefined when a vip is no prefix. */
  rule?: IgnoreRule;
  text?: string;
}

export interface ResolvedConfig<F extends DataFile = DataFile> {
  /** Every file, in reading order. */
  files: readonly F[];
  /** The files whose data is a mapping. */
  records: RecordFile<F>[];
  defaults: Defaults;
  /** Services of every file in reading order. */
  services: ResolvedService<F>[];
  ignore: ResolvedIgnore<F>[];
  /** True when some file has a `services` list. */
  hasServices: boolean;
}

/**
 * Resolves the services, real servers and ignore rules of a file set once.
 * The result is kept for the same list of files: load.ts validates, then
 * normalizes the same parse results, and nothing changes parsed data.
 */
export function resolveConfig<F extends DataFile>(files: readonly F[]): ResolvedConfig<F> {
  const known = resolved.get(files);
  if (known) return known as ResolvedConfig<F>;
  const config = resolveFresh(files);
  resolved.set(files, config);
  return config;
}

const resolved = new WeakMap<readonly DataFile[], ResolvedConfig<DataFile>>();

function resolveFresh<F extends DataFile>(files: readonly F[]): ResolvedConfig<F> {
  const records = files.filter((f): f is RecordFile<F> => isRecord(f.data));
  const defaults = readDefaults(records);
  const config: ResolvedConfig<F> = { files, records, defaults, services: [], ignore: [], hasServices: false };
  for (const src of records) {
    const list = src.data['services'];
    if (Array.isArray(list)) {
      config.hasServices = true;
      list.forEach((svc: unknown, index) => {
        if (isRecord(svc)) config.services.push(resolveService(src, index, svc, defaults));
      });
    }
    const ignore = src.data['ignore'];
    if (Array.isArray(ignore))
      ignore.forEach((rule: unknown, index) => config.ignore.push(...resolveIgnore(src, index, rule)));
  }
  return config;
}

/** One service of a file's `services` list (index `index`), under the config's defaults. */
export function resolveService<F extends DataFile>(
  src: RecordFile<F>,
  index: number,
  raw: Record<string, unknown>,
  defaults: Defaults,
): ResolvedService<F> {
  const has = (k: string) => Object.hasOwn(raw, k);
  const form: ServiceForm = has('vip') ? (has('fwmark') ? 'both' : 'vip') : has('fwmark') ? 'fwmark' : 'none';
  const ownScheduler = typeof raw['scheduler'] === 'string';
  const s: ResolvedService<F> = {
    src,
    index,
    raw,
    form,
    protocol: has('protocol') ? (['tcp', 'udp', 'sctp'] as const).find((p) => p === raw['protocol']) : 'tcp',
    port: intOf(raw['port']),
    scheduler: ownScheduler ? (raw['scheduler'] as string) : defaults.scheduler,
    ownScheduler,
    realservers: [],
  };
  if (form === 'fwmark') resolveFwmark(s);
  if (form === 'vip') resolveVip(s);
  if (s.id) s.key = serviceKey(s.id);
  // The port real servers inherit: the service's, or 0 (the client's port) for fwmark services.
  const inherited = form === 'vip' ? s.port : 0;
  const rss = raw['realservers'];
  if (Array.isArray(rss)) {
    rss.forEach((rs: unknown, j) => {
      const r = resolveRealServer(rs, j, inherited, defaults);
      if (r) s.realservers.push(r);
    });
  }
  const sorry = raw['sorry_server'];
  if (typeof sorry === 'string') {
    const parsed = parseAddressPort(sorry);
    s.sorry = { text: sorry, parsed, effectivePort: (parsed.ok ? parsed.port : undefined) ?? inherited };
  }
  return s;
}

function resolveFwmark(s: ResolvedService<DataFile>): void {
  const family = s.raw['family'];
  s.family = family === 'ipv4' || family === 'ipv6' ? family : undefined;
  const mark = intOf(s.raw['fwmark']);
  if (s.family && mark !== undefined && mark >= 1 && mark <= 0xffffffff) s.id = { family: s.family, fwmark: mark };
}

function resolveVip(s: ResolvedService<DataFile>): void {
  const vip = s.raw['vip'];
  if (typeof vip !== 'string') return;
  s.family = familyOf(vip);
  if (!s.family) return;
  s.vip = canonicalAddress(vip);
  if (s.protocol && s.port !== undefined && s.port >= 0 && s.port <= 65535) {
    s.id = { family: s.family, protocol: s.protocol, address: s.vip, port: s.port };
  }
}

function resolveRealServer(
  rs: unknown,
  index: number,
  inherited: number | undefined,
  defaults: Defaults,
): ResolvedRealServer | undefined {
  // One object shape for every real server, all fields set at once: a config may list 100,000.
  if (typeof rs === 'string') {
    const shorthand = parseAddressPort(rs);
    const { address, family, port } = shorthand.ok
      ? shorthand
      : { address: undefined, family: undefined, port: undefined };
    const effectivePort = shorthand.ok ? (port ?? inherited) : undefined;
    return {
      index,
      rec: undefined,
      text: rs,
      shorthand,
      address,
      family,
      port,
      effectivePort,
      forward: defaults.forward,
      ownForward: false,
    };
  }
  if (!isRecord(rs)) return undefined;
  const forward = rs['forward'];
  const ownForward = forward === 'dr' || forward === 'nat' || forward === 'tunnel';
  const a = rs['address'];
  const family = typeof a === 'string' ? familyOf(a) : undefined;
  const port = intOf(rs['port']);
  return {
    index,
    rec: rs,
    text: undefined,
    shorthand: undefined,
    address: family ? canonicalAddress(a as string) : undefined,
    family,
    port,
    effectivePort: port ?? inherited,
    forward: ownForward ? forward : defaults.forward,
    ownForward,
  };
}

function resolveIgnore<F extends DataFile>(src: RecordFile<F>, index: number, rule: unknown): ResolvedIgnore<F>[] {
  if (!isRecord(rule)) return [];
  const out: ResolvedIgnore<F>[] = [];
  const vip = rule['vip'];
  if (typeof vip === 'string') {
    const prefix = parsePrefix(vip);
    out.push({ src, index, field: 'vip', text: vip, ...(prefix ? { rule: { vip: prefix } } : {}) });
  }
  const mark = intOf(rule['fwmark']);
  if (mark !== undefined && mark >= 1) out.push({ src, index, field: 'fwmark', rule: { fwmark: mark } });
  return out;
}
