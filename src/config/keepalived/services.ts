/**
 * A read virtual_server as lvsd services: one per address or fwmark it (or
 * its virtual_server_group) declares, with keepalived's corrections applied
 * as keepalived applies them (check_data.c: no protocol means UDP, port 0
 * makes a service persistent, dr/tunnel real servers take the virtual port,
 * fwmark ones port 0, NAT is the default forwarding). Pure.
 */
import { familyOf } from '../../model/address.js';
import type { ConvertedService, Reporter } from '../migration.js';
import type { GroupEntry } from './groups.js';
import type { RealServerDraft } from './real-server.js';
import { resolveCheck } from './real-server.js';
import { addressText } from './values.js';
import type { VirtualServerDraft } from './virtual-server.js';
import { KEEPALIVED_PERSISTENCE } from './virtual-server.js';

/** The lvsd services of a virtual server; `groups` resolves `virtual_server group NAME`. */
export function servicesOf(vs: VirtualServerDraft, groups: Map<string, GroupEntry[]>, r: Reporter): ConvertedService[] {
  const id = vs.id;
  let entries: GroupEntry[];
  if (id.kind === 'group') {
    const g = groups.get(id.name);
    if (g === undefined) r.omit(vs.at, 'virtual_server group', `no virtual_server_group '${id.name}' is defined`);
    entries = g ?? [];
  } else if (id.kind === 'fwmark') entries = [{ kind: 'fwmark', fwmark: id.fwmark, at: vs.at }];
  else entries = [{ kind: 'address', address: id.address, port: id.port, at: vs.at }];
  if (vs.forwarding === undefined && vs.realservers.some((rs) => rs.forwarding === undefined)) {
    r.note(vs.at, 'virtual_server', 'no lvs_method: keepalived forwards by NAT, and so does the import');
  }
  return entries.map((e) => serviceOf(vs, e, r));
}

function serviceOf(vs: VirtualServerDraft, e: GroupEntry, r: Reporter): ConvertedService {
  const svc: Record<string, unknown> = {};
  const port = e.kind === 'address' ? e.port : 0;
  if (e.kind === 'address') {
    svc['vip'] = e.address;
    svc['port'] = port;
    if (!vs.protocol) r.note(vs.at, 'virtual_server', 'no protocol: keepalived makes it UDP, and so does the import');
    const protocol = vs.protocol?.value ?? 'udp';
    if (protocol !== 'tcp') svc['protocol'] = protocol;
  } else {
    svc['fwmark'] = e.fwmark;
    svc['family'] = e.family ?? vs.family ?? realServerFamily(vs.realservers) ?? 'ipv4';
  }
  svc['scheduler'] = vs.scheduler ?? 'wlc';
  if (vs.flags.size > 0) svc['flags'] = [...vs.flags].sort();
  if (vs.onePacket) {
    if (e.kind === 'fwmark' || svc['protocol'] === 'udp') svc['one_packet'] = true;
    else r.omit(vs.onePacket, 'ops', 'one-packet scheduling is for UDP; keepalived resets it on this service too');
  }
  persistence(vs, svc, e, r);
  const seen = new Set<string>();
  const realservers: Record<string, unknown>[] = [];
  for (const rs of vs.realservers) {
    const out = realServerOf(rs, vs, e, r);
    const key = `${out['address']}|${out['port'] ?? port}`;
    if (seen.has(key)) r.omit(rs.at, 'real_server', 'is listed twice; keepalived removes the second one too');
    else realservers.push(out);
    seen.add(key);
  }
  hoistCheck(svc, realservers);
  svc['realservers'] = realservers;
  if (!vs.sorry) return { service: svc };
  const sorryForwarding = vs.sorryForwarding ?? vs.forwarding ?? { forward: 'nat' };
  const sorryPort = sorryForwarding.forward === 'nat' ? (vs.sorry.port ?? (port || undefined)) : undefined;
  svc['sorry_server'] = addressText(vs.sorry.address, sorryPort === port ? undefined : sorryPort);
  return { service: svc, sorry: { forwarding: sorryForwarding, at: vs.sorry.at } };
}

function realServerFamily(rss: RealServerDraft[]): 'ipv4' | 'ipv6' | undefined {
  const families = new Set(rss.map((rs) => familyOf(rs.address)));
  return families.size === 1 ? [...families][0] : undefined;
}

function persistence(vs: VirtualServerDraft, svc: Record<string, unknown>, e: GroupEntry, r: Reporter): void {
  let timeout = vs.persistence?.timeout;
  if (timeout === undefined && e.kind === 'address' && e.port === 0) {
    r.note(
      e.at,
      'virtual_server',
      `port 0 is only for persistent services: keepalived makes it persistent (${KEEPALIVED_PERSISTENCE}s)`,
    );
    timeout = KEEPALIVED_PERSISTENCE;
  }
  if (timeout === undefined) {
    if (vs.granularity)
      r.omit(vs.granularity.at, 'persistence_granularity', 'without persistence_timeout nothing uses it');
    if (vs.pe) r.omit(vs.at, 'persistence_engine', 'without persistence_timeout the kernel does not use it');
    return;
  }
  const p: Record<string, unknown> = { timeout };
  if (vs.granularity) p['netmask'] = vs.granularity.value;
  svc['persistence'] = p;
  if (vs.pe) svc['pe'] = vs.pe;
}

function realServerOf(
  rs: RealServerDraft,
  vs: VirtualServerDraft,
  e: GroupEntry,
  r: Reporter,
): Record<string, unknown> {
  const fwd = rs.forwarding ?? vs.forwarding ?? { forward: 'nat' };
  const servicePort = e.kind === 'address' ? e.port : 0;
  let port = rs.port ?? servicePort;
  if (fwd.forward !== 'nat' && rs.port !== undefined && rs.port !== servicePort) {
    r.note(
      rs.at,
      'real_server',
      `port ${rs.port} becomes ${servicePort}: only NAT changes ports (keepalived resets it too)`,
    );
    port = servicePort;
  }
  const out: Record<string, unknown> = { address: rs.address };
  if (port !== servicePort) out['port'] = port;
  out['forward'] = fwd.forward;
  out['weight'] = rs.weight;
  if (rs.upper !== undefined && rs.upper > 0) out['upper_threshold'] = rs.upper;
  if (rs.lower !== undefined && rs.lower > 0) out['lower_threshold'] = rs.lower;
  if (fwd.tunnel) out['tunnel'] = fwd.tunnel;
  const c = rs.checkers[0];
  if (c && c.port === undefined && port === 0) {
    r.omit(c.at, c.at.keyword, 'a check of a real server without a port needs connect_port');
  } else if (c) out['check'] = resolveCheck(c, rs.settings, vs.settings, r);
  return out;
}

/** One check for the service when every real server has the same one; a real server only says what differs. */
function hoistCheck(svc: Record<string, unknown>, realservers: Record<string, unknown>[]): void {
  const first = realservers[0]?.['check'];
  if (first === undefined) return;
  const text = JSON.stringify(first);
  if (!realservers.every((rs) => JSON.stringify(rs['check']) === text)) return;
  svc['check'] = first;
  for (const rs of realservers) delete rs['check'];
}
