/**
 * ldirectord's checks (checktype, service, request/receive, timeouts,
 * failurecount, quiescent) as an lvsd check. Defaults as ldirectord's
 * read_config and set_defaults have them: checktype negotiate, service from
 * the virtual port, checkinterval 10, checktimeout 5, negotiatetimeout 30,
 * failurecount 1, quiescent no. Pure.
 */
import { familyOf } from '../../model/address.js';
import type { Reporter } from '../migration.js';
import type { Directive } from './lines.js';
import { unquote } from './lines.js';

/** A setting of the virtual section, else the global one. */
export type Lookup = (key: string) => Directive | undefined;

/** ldirectord's service for a virtual port (ld_port_to_service). */
const PORT_SERVICES: Record<number, string> = {
  21: 'ftp',
  25: 'smtp',
  53: 'dns',
  80: 'http',
  110: 'pop',
  119: 'nntp',
  143: 'imap',
  389: 'ldap',
  443: 'https',
  587: 'submission',
  993: 'imaps',
  995: 'pops',
  1521: 'oracle',
  1812: 'radius',
  3128: 'http_proxy',
  3306: 'mysql',
  5432: 'pgsql',
  5060: 'sip',
};

/** Services over TCP lvsd checks only by connecting (the exchange is reported as left out). */
const TCP_SERVICES = new Set([
  'simpletcp',
  'ftp',
  'imap',
  'imaps',
  'pop',
  'pops',
  'nntp',
  'ldap',
  'mysql',
  'pgsql',
  'oracle',
  'http_proxy',
]);

/** Status codes ldirectord's http check accepts (LWP's is_success). */
const SUCCESS = ['200-299'];

/** The virtual service a check belongs to. */
export interface CheckTarget {
  at: Directive;
  vip?: string;
  port: number;
  fwmark?: number;
  protocol: string;
}

/** The lvsd check of a virtual section, or undefined when it has none (checktype on/off, service none). */
export function ldirectordCheck(get: Lookup, t: CheckTarget, r: Reporter): Record<string, unknown> | undefined {
  const typeDirective = get('checktype');
  let checktype = typeDirective ? unquote(typeDirective.value) : 'negotiate';
  if (/^\d+$/.test(checktype)) {
    r.note(typeDirective!, 'checktype', `lvsd negotiates on every check, not after ${checktype} connects`);
    checktype = 'negotiate';
  }
  const serviceDirective = get('service');
  const service = serviceDirective
    ? unquote(serviceDirective.value)
    : t.fwmark !== undefined
      ? 'none'
      : (PORT_SERVICES[t.port] ?? 'none');
  const at = typeDirective ?? t.at;
  let base: Record<string, unknown> | undefined;
  if (checktype === 'on') return undefined;
  if (checktype === 'off') {
    r.omit(
      at,
      'checktype off',
      'ldirectord then activates no real server; lvsd has no such state (no check: always up)',
    );
    return undefined;
  }
  if (checktype === 'ping') r.omit(at, 'checktype ping', 'lvsd has no ping check kind');
  else if (checktype === 'connect') base = connect(t, at, r);
  else if (checktype === 'external' || checktype === 'external-perl') base = external(get, t, at, checktype, r);
  else if (checktype === 'negotiate') base = negotiate(get, t, service, serviceDirective ?? at, r);
  else r.omit(at, `checktype ${checktype}`, 'not a checktype ldirectord knows');
  if (base === undefined) return undefined;
  const port = get('checkport');
  const portValue = port ? Number(unquote(port.value)) : undefined;
  const { type, ...rest } = base;
  return { type, ...timing(get, checktype, t, r), ...(portValue ? { port: portValue } : {}), ...rest };
}

function connect(t: CheckTarget, at: Directive, r: Reporter): Record<string, unknown> | undefined {
  if (t.protocol === 'udp') {
    r.omit(at, 'checktype connect', 'ldirectord pings UDP real servers for connect; lvsd has no ping check kind');
    return undefined;
  }
  return { type: 'tcp' };
}

function external(get: Lookup, t: CheckTarget, at: Directive, kind: string, r: Reporter): Record<string, unknown> {
  if (kind === 'external-perl')
    r.note(at, 'checktype', 'lvsd runs the script as a program (ldirectord: the same arguments)');
  const cmd = get('checkcommand');
  // ldirectord passes: virtual ip (or fwmark), virtual port, real ip, real port.
  const virtual = t.fwmark !== undefined ? String(t.fwmark) : t.vip!;
  return {
    type: 'exec',
    exec: { command: [cmd ? unquote(cmd.value) : '/bin/true', virtual, String(t.port), '{address}', '{port}'] },
  };
}

function negotiate(
  get: Lookup,
  t: CheckTarget,
  service: string,
  at: Directive,
  r: Reporter,
): Record<string, unknown> | undefined {
  if (service === 'none') return undefined;
  if (service === 'http' || service === 'https') return httpCheck(get, service, r);
  if (service === 'smtp' || service === 'submission') return smtpCheck(get, service, r);
  if (service === 'dns') return dnsCheck(get, at, r);
  if (TCP_SERVICES.has(service) && t.protocol !== 'udp') {
    r.omit(
      at,
      `service ${service}`,
      `lvsd has no ${service} check kind: it only checks that the port accepts connections`,
    );
    for (const k of ['request', 'receive', 'login', 'passwd', 'database']) {
      const d = get(k);
      if (d) r.omit(d, k, `lvsd has no ${service} check kind`);
    }
    return { type: 'tcp' };
  }
  r.omit(at, `service ${service}`, `lvsd has no ${service} check kind`);
  return undefined;
}

function httpCheck(get: Lookup, service: string, r: Reporter): Record<string, unknown> {
  const http: Record<string, unknown> = { path: '/', expect: SUCCESS };
  const request = get('request');
  if (request) {
    const path = requestPath(unquote(request.value));
    if (path.overridden)
      r.omit(request, 'request', 'lvsd checks each real server itself, not the host in an http:// request');
    http['path'] = path.path;
  }
  const receive = get('receive');
  if (receive) r.omit(receive, 'receive', 'lvsd checks the status code only, not a regexp over the body');
  const host = get('virtualhost');
  if (host) http['host'] = unquote(host.value);
  const method = get('httpmethod');
  if (method && unquote(method.value) !== 'GET') r.note(method, 'httpmethod', 'lvsd sends GET');
  for (const k of ['login', 'passwd', 'database', 'secret']) {
    const d = get(k);
    if (d) r.omit(d, k, 'an http check uses none');
  }
  return { type: service, http };
}

/** ldirectord's smtp check (Net::SMTP): a greeting and a HELO answered; request/receive are not used. */
function smtpCheck(get: Lookup, service: string, r: Reporter): Record<string, unknown> {
  for (const k of ['request', 'receive', 'login', 'passwd']) {
    const d = get(k);
    if (d) r.omit(d, k, `lvsd's ${service} check only awaits the 220 greeting and 250 to HELO`);
  }
  return { type: 'smtp' };
}

/**
 * ldirectord's dns check: the request is the name of an A record (or an
 * address, for a PTR lookup lvsd does not make); receive, an address the
 * answer must hold, is not checked: lvsd counts an answer without error.
 */
function dnsCheck(get: Lookup, at: Directive, r: Reporter): Record<string, unknown> | undefined {
  const request = get('request');
  const name = request ? unquote(request.value) : undefined;
  if (name === undefined || name === '/' || familyOf(name) !== undefined) {
    r.omit(
      request ?? at,
      'service dns',
      'lvsd queries a name (an A record): give request = "NAME"; PTR lookups are not made',
    );
    return undefined;
  }
  const receive = get('receive');
  if (receive) r.omit(receive, 'receive', 'lvsd counts any answer without error, whatever addresses it holds');
  return { type: 'dns', dns: { name, type: 'A' } };
}

/** The path of a request: ldirectord adds a leading `/`; an `http://host/...` request names another host. */
export function requestPath(request: string): { path: string; overridden: boolean } {
  const m = /^https?:\/\/[^/]*(\/.*)?$/.exec(request);
  if (m) return { path: m[1] ?? '/', overridden: true };
  return { path: request.startsWith('/') ? request : `/${request}`, overridden: false };
}

function timing(get: Lookup, checktype: string, t: CheckTarget, r: Reporter): Record<string, unknown> {
  const num = (k: string): number | undefined => {
    const d = get(k);
    return d && /^\d+$/.test(unquote(d.value)) && Number(unquote(d.value)) > 0 ? Number(unquote(d.value)) : undefined;
  };
  const interval = num('checkinterval') ?? 10;
  let timeout =
    checktype === 'negotiate'
      ? (num('negotiatetimeout') ?? num('connecttimeout') ?? 30)
      : (num('checktimeout') ?? num('negotiatetimeout') ?? 5);
  if (timeout > interval) {
    r.note(
      get('checkinterval') ?? t.at,
      'checkinterval',
      `the ${timeout}s check timeout is cut to the ${interval}s interval`,
    );
    timeout = interval;
  }
  const count = get('checkcount');
  if (count && num('checkcount') !== 1)
    r.omit(count, 'checkcount', 'lvsd tries once per interval; failurecount is fall');
  const quiescent = get('quiescent');
  return {
    interval,
    timeout,
    rise: 1,
    fall: Math.min(100, num('failurecount') ?? 1),
    on_failure: quiescent && unquote(quiescent.value) === 'yes' ? 'quiesce' : 'remove',
  };
}
