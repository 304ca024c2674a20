/**
 * A table (desired, live or imported) as config YAML: what `lvsd import` and
 * `lvsd show --format yaml` print. Compact: values equal to what the loader
 * would fill in anyway are left out (protocol tcp, real server port equal to
 * the service's, zero thresholds, default netmask, ipip tunnel), while
 * scheduler, forward and weight are always written out. Printing and loading
 * again gives back the same state. Pure.
 */
import type { Document, Pair, Scalar, YAMLMap, YAMLSeq } from 'yaml';
import { defaultNetmask, serviceKey } from '../model/keys.js';
import { TIMEOUT_KEYS } from '../model/timeouts.js';
import type { IgnoreRule, RealServer, ServiceEntry, SyncDaemon, Timeouts } from '../model/types.js';
import { formatDuration } from './duration.js';
import { syncBlockOf } from './sync.js';
import { yaml } from './yaml-module.js';

/** What printConfig prints: services with or without names, timeouts, ignore rules. */
export interface PrintableState {
  /** Undefined: no `services` key (lvsd would not manage services). */
  services?: (ServiceEntry & { name?: string })[];
  timeouts?: Partial<Timeouts>;
  ignore?: IgnoreRule[];
  /** Running sync daemons, printed as director.sync (sync.ts syncBlockOf). */
  sync?: readonly SyncDaemon[];
}

export interface PrintOptions {
  /** Comment lines at the top, without the `#`. Default: a one-line title. */
  header?: string[];
  /** Adds `# yaml-language-server: $schema=SCHEMA` so editors check the file. */
  schema?: string;
}

export const DEFAULT_HEADER = ['lvsd configuration; format reference: docs/config.md'];

/** The config YAML text for a state, starting with a comment header and `version: 1`. */
export function printConfig(state: PrintableState, opts: PrintOptions = {}): string {
  const root: Record<string, unknown> = { version: 1 };
  // A timeout of 0 cannot be configured (ipvsadm --set reads 0 as "leave it"): left out.
  const t = state.timeouts ?? {};
  const timeouts: Record<string, string> = {};
  for (const { field, key } of TIMEOUT_KEYS) {
    const seconds = t[field];
    if (seconds) timeouts[key] = formatDuration(seconds);
  }
  if (Object.keys(timeouts).length > 0) root['timeouts'] = timeouts;
  if (state.ignore && state.ignore.length > 0) {
    root['ignore'] = state.ignore.map((r) =>
      'fwmark' in r ? { fwmark: r.fwmark } : { vip: `${r.vip.network}/${r.vip.length}` },
    );
  }
  const sync = syncBlockOf(state.sync ?? []);
  if (sync) root['director'] = { sync: sync.block };
  if (state.services) root['services'] = state.services.map(service);

  const doc = new (yaml().Document)(root);
  const header = [...(opts.header ?? DEFAULT_HEADER)];
  if (sync?.leftOut) header.push(`NOTE: ${sync.leftOut}`);
  if (opts.schema !== undefined) header.push(`yaml-language-server: $schema=${opts.schema}`);
  if (header.length > 0) doc.commentBefore = header.map((l) => (l === '' ? '' : ` ${l}`)).join('\n');
  style(doc);
  return doc.toString({ lineWidth: 0 });
}

function service(s: ServiceEntry & { name?: string }): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (s.name !== undefined && s.name !== serviceKey(s)) o['name'] = s.name;
  let servicePort = 0;
  if (s.fwmark !== undefined) {
    o['fwmark'] = s.fwmark;
    o['family'] = s.family;
  } else {
    o['vip'] = s.address;
    o['port'] = s.port;
    servicePort = s.port;
    if (s.protocol !== 'tcp') o['protocol'] = s.protocol;
  }
  o['scheduler'] = s.scheduler;
  if (s.flags.length > 0) o['flags'] = [...s.flags].sort();
  if (s.persistence) {
    const p: Record<string, unknown> = { timeout: formatDuration(s.persistence.timeout) };
    if (s.persistence.netmask !== defaultNetmask(s.family)) {
      p['netmask'] = s.family === 'ipv6' ? Number(s.persistence.netmask) : s.persistence.netmask;
    }
    o['persistence'] = p;
  }
  if (s.onePacket) o['one_packet'] = true;
  if (s.pe !== undefined) o['pe'] = s.pe;
  o['realservers'] = s.realservers.map((r) => realServer(r, servicePort));
  return o;
}

function realServer(r: RealServer, servicePort: number): Record<string, unknown> {
  const o: Record<string, unknown> = { address: r.address };
  if (r.port !== servicePort) o['port'] = r.port;
  // `local` is what the kernel reports for a real server on this host; the config says dr.
  o['forward'] = r.forward === 'local' ? 'dr' : r.forward;
  o['weight'] = r.weight;
  if (r.upperThreshold !== 0) o['upper_threshold'] = r.upperThreshold;
  if (r.lowerThreshold !== 0) o['lower_threshold'] = r.lowerThreshold;
  if (r.forward === 'tunnel' && r.tunnel) {
    const t: Record<string, unknown> = {};
    if (r.tunnel.type !== 'ipip') t['type'] = r.tunnel.type;
    if (r.tunnel.port !== 0) t['port'] = r.tunnel.port;
    if (r.tunnel.checksum !== 'none') t['checksum'] = r.tunnel.checksum;
    if (Object.keys(t).length > 0) o['tunnel'] = t;
  }
  return o;
}

/** Blank lines between sections and between services; real servers and flags on one line each. */
function style(doc: Document): void {
  const { isMap, isScalar, isSeq } = yaml();
  const root = doc.contents;
  if (!isMap(root)) return;
  root.items.forEach((pair, i) => {
    if (i > 0 && isScalar(pair.key)) pair.key.spaceBefore = true;
  });
  const services = root.get('services', true);
  if (!isSeq(services)) return;
  (services as YAMLSeq<YAMLMap>).items.forEach((svc, i) => {
    if (i > 0) svc.spaceBefore = true;
    for (const pair of svc.items as Pair<Scalar, unknown>[]) {
      if (pair.key.value === 'flags' && isSeq(pair.value)) pair.value.flow = true;
      if (pair.key.value === 'realservers' && isSeq(pair.value)) {
        for (const rs of pair.value.items) if (isMap(rs)) rs.flow = true;
      }
    }
  });
}
