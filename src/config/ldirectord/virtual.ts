/**
 * An ldirectord `virtual =` section as an lvsd service: its address and
 * port or fwmark, protocol, scheduler, persistence, real servers (`real =
 * ADDRESS[:PORT] gate|masq|ipip [WEIGHT] ["REQUEST", "RECEIVE"]`), fallback
 * (the sorry server) and check. Pure.
 */
import { familyOf } from '../../model/address.js';
import { rangeAddresses } from '../keepalived/groups.js';
import { addressText } from '../keepalived/values.js';
import type { ConvertedService, Forwarding, Reporter } from '../migration.js';
import type { CheckTarget, Lookup } from './check.js';
import { ldirectordCheck, requestPath } from './check.js';
import type { Directive, VirtualSection } from './lines.js';
import { unquote } from './lines.js';

const FORWARDS: Record<string, Forwarding['forward']> = { gate: 'dr', masq: 'nat', ipip: 'tunnel' };

/** Port names ldirectord resolves through /etc/services that configs use most. */
const PORT_NAMES: Record<string, number> = {
  ftp: 21,
  smtp: 25,
  domain: 53,
  http: 80,
  www: 80,
  pop3: 110,
  nntp: 119,
  imap: 143,
  imap2: 143,
  ldap: 389,
  https: 443,
  submission: 587,
  imaps: 993,
  pop3s: 995,
  mysql: 3306,
  postgresql: 5432,
  sip: 5060,
};

/** What the section settles before its directives are read. */
interface Identity {
  vip?: string;
  port: number;
  fwmark?: number;
}

/** Handled by the check (check.ts) or below; everything else in a section is reported. */
const CHECK_KEYS = new Set([
  'checktype',
  'service',
  'request',
  'receive',
  'httpmethod',
  'virtualhost',
  'checkport',
  'checkcommand',
  'checktimeout',
  'negotiatetimeout',
  'connecttimeout',
  'checkinterval',
  'checkcount',
  'failurecount',
  'quiescent',
  'login',
  'passwd',
  'database',
  'secret',
]);

const SECTION_OMITTED: Record<string, string> = {
  emailalert: 'lvsd sends no mail; it logs each change and exports lvsd_backend_up in /metrics',
  emailalertfreq: 'lvsd sends no mail',
  emailalertstatus: 'lvsd sends no mail',
  smtp: 'lvsd sends no mail',
  fallbackcommand: 'lvsd runs no scripts when every real server is down',
  monitorfile: 'lvsd logs check state changes to its log, not to a file per service',
  cleanstop: 'lvsd leaves the table as it is when it stops',
  load: 'lvsd has no load test',
  comment: 'a comment',
  servicename: 'lvsd names a service by its key (or name:, set by hand)',
};

/** The service of a section, or undefined (reported) when its virtual line is not an address:port or fwmark. */
export function virtualService(
  sec: VirtualSection,
  global: Lookup,
  fork: boolean,
  r: Reporter,
): ConvertedService | undefined {
  const id = identity(sec.virtual, r);
  if (!id) return undefined;
  const local = new Map<string, Directive>();
  for (const d of sec.directives) local.set(d.key === 'fallback6' ? 'fallback' : d.key, d);
  const get: Lookup = (k) => {
    const d = local.get(k);
    if (k === 'checkinterval' && d && !fork) {
      r.omit(d, k, 'ldirectord uses the global checkinterval unless fork = yes');
      return global(k);
    }
    return d ?? global(k);
  };
  const svc: Record<string, unknown> = {};
  const protocol = serviceIdentity(svc, id, get, sec.virtual, r);
  serviceSettings(svc, get, r);
  const target: CheckTarget = { at: sec.virtual, protocol, ...id };
  const check = ldirectordCheck(get, target, r);
  if (check) svc['check'] = check;
  svc['realservers'] = sec.directives
    .filter((d) => d.key === 'real' || d.key === 'real6')
    .flatMap((d) => realServers(d, id, r));
  for (const d of sec.directives) {
    if (
      d.key === 'real' ||
      d.key === 'real6' ||
      CHECK_KEYS.has(d.key) ||
      SERVICE_KEYS.has(d.key) ||
      d.key === 'fallback6'
    )
      continue;
    r.omit(d, d.key, SECTION_OMITTED[d.key] ?? 'not a directive ldirectord or lvsd knows');
  }
  const fallback = get('fallback');
  if (!fallback) return { service: svc };
  const [where, fwd] = unquote(fallback.value).split(/\s+/);
  const addr = splitAddress(where ?? '');
  if (!addr || familyOf(addr.host) === undefined) {
    r.omit(fallback, 'fallback', 'lvsd needs an IP address (and a numeric port or a common service name)');
    return { service: svc };
  }
  svc['sorry_server'] = addressText(addr.host, addr.port ?? (id.port || undefined));
  return { service: svc, sorry: { forwarding: { forward: FORWARDS[fwd ?? 'gate'] ?? 'dr' }, at: fallback } };
}

const SERVICE_KEYS = new Set(['protocol', 'scheduler', 'persistent', 'netmask', 'ops', 'schedflags', 'fallback']);

function identity(d: Directive, r: Reporter): Identity | undefined {
  const v = unquote(d.value).split(/\s+/)[0]!;
  if (/^\d+$/.test(v)) return { fwmark: Number(v), port: 0 };
  const a = splitAddress(v);
  if (a && a.port !== undefined && familyOf(a.host) !== undefined) return { vip: a.host, port: a.port };
  r.omit(d, d.key, `'${v}' is not ADDRESS:PORT or a fwmark: lvsd needs IP addresses, not host names`);
  return undefined;
}

/** `1.2.3.4:80`, `[2001:db8::1]:80`, `1.2.3.4:http`, `1.2.3.4`. */
function splitAddress(text: string): { host: string; port?: number } | undefined {
  const m = /^\[([0-9A-Fa-f:.]+)\](?::(\w+))?$/.exec(text) ?? /^([^:\s]+)(?::([\w-]+))?$/.exec(text);
  if (!m) return undefined;
  if (m[2] === undefined) return { host: m[1]! };
  const port = /^\d+$/.test(m[2]) ? Number(m[2]) : PORT_NAMES[m[2]];
  return port === undefined ? undefined : { host: m[1]!, port };
}

function serviceIdentity(svc: Record<string, unknown>, id: Identity, get: Lookup, at: Directive, r: Reporter): string {
  const p = get('protocol');
  // ldirectord: tcp, or udp for port 53; fwm for a fwmark.
  const protocol = p ? unquote(p.value) : id.fwmark !== undefined ? 'fwm' : id.port === 53 ? 'udp' : 'tcp';
  if (id.fwmark !== undefined) {
    svc['fwmark'] = id.fwmark;
    svc['family'] = at.key === 'virtual6' ? 'ipv6' : 'ipv4';
    if (protocol !== 'fwm') r.omit(p!, 'protocol', 'a fwmark service has no protocol');
    return protocol;
  }
  svc['vip'] = id.vip;
  svc['port'] = id.port;
  if (protocol === 'udp' || protocol === 'sctp') svc['protocol'] = protocol;
  else if (protocol !== 'tcp') r.omit(p!, 'protocol', `'${protocol}' is not tcp, udp or sctp`);
  return protocol;
}

function serviceSettings(svc: Record<string, unknown>, get: Lookup, r: Reporter): void {
  svc['scheduler'] = unquote(get('scheduler')?.value ?? 'wrr');
  const flags = get('schedflags');
  if (flags)
    svc['flags'] = unquote(flags.value)
      .split(/[,\s]+/)
      .filter((f) => f !== '');
  const persistent = get('persistent');
  const netmask = get('netmask');
  if (persistent) {
    const p: Record<string, unknown> = { timeout: Number(unquote(persistent.value)) };
    if (netmask) p['netmask'] = /^\d+$/.test(netmask.value) ? Number(netmask.value) : unquote(netmask.value);
    svc['persistence'] = p;
  } else if (netmask) r.omit(netmask, 'netmask', 'without persistent nothing uses it');
  const ops = get('ops');
  if (ops && unquote(ops.value) === 'yes') svc['one_packet'] = true;
}

/** The real servers of a `real =` line (a `A->B` range is one per address). */
function realServers(d: Directive, id: Identity, r: Reporter): Record<string, unknown>[] {
  const m = /^(\S+?)(?:->(\S+?))?(?::([\w-]+))?\s+(gate|masq|ipip)\b\s*(\d+)?(.*)$/.exec(unquote(d.value));
  if (!m) {
    r.omit(d, d.key, 'not ADDRESS[:PORT] gate|masq|ipip [WEIGHT] with an IP address');
    return [];
  }
  const [, first, last, portText, fwd, weight, rest] = m;
  const host = first!.replace(/^\[(.*)\]$/, '$1');
  const addresses = last === undefined ? [host] : rangeAddresses(`${host}-${last.replace(/^\[(.*)\]$/, '$1')}`);
  const port = portText === undefined ? 0 : /^\d+$/.test(portText) ? Number(portText) : PORT_NAMES[portText];
  if (typeof addresses === 'string' || familyOf(host) === undefined || port === undefined) {
    r.omit(d, d.key, 'lvsd needs IP addresses and a numeric port or common service name');
    return [];
  }
  const forward = FORWARDS[fwd!]!;
  // ldirectord (and ipvsadm): only masq keeps another port; a port left out is the virtual port.
  const rsPort =
    id.fwmark !== undefined ? (forward === 'nat' ? port : 0) : forward === 'nat' && port !== 0 ? port : id.port;
  const servicePort = id.fwmark !== undefined ? 0 : id.port;
  const extra = realServerExtras(d, rest ?? '', r);
  return addresses.map((address) => ({
    address,
    ...(rsPort !== servicePort ? { port: rsPort } : {}),
    forward,
    weight: weight === undefined ? 1 : Number(weight),
    ...extra,
  }));
}

/** `"REQUEST", "RECEIVE"` (the check's path for this real server) and `l:N` / `u:N` thresholds. */
function realServerExtras(d: Directive, rest: string, r: Reporter): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const pair = /^\s*"(.*?)"[, ]\s*"(.*?)"/.exec(rest);
  if (pair) {
    out['check'] = { http: { path: requestPath(pair[1]!).path } };
    r.omit(d, `${d.key} ... "${pair[2]}"`, 'lvsd checks the status code only, not a regexp over the body');
  }
  const lower = /\bl:(\d+)/.exec(rest);
  const upper = /\bu:(\d+)/.exec(rest);
  if (lower) out['lower_threshold'] = Number(lower[1]);
  if (upper) out['upper_threshold'] = Number(upper[1]);
  return out;
}
