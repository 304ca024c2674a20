/**
 * keepalived's checkers (TCP_CHECK, HTTP_GET, SSL_GET, UDP_CHECK, MISC_CHECK,
 * SMTP_CHECK; the others are reported) as lvsd checks, with the settings a
 * checker takes from its real server and virtual server (keepalived.conf(5):
 * "the virtual server setting is the default for real servers, and the real
 * server setting is the default for checkers"). Pure.
 */
import type { Reporter } from '../migration.js';
import type { Statement } from './blocks.js';
import { boolArg, intArg, timerArg } from './values.js';

/** Settings a virtual server, real server or checker sets, the nearest winning. */
export interface CheckSettings {
  connectTimeout?: number;
  retry?: number;
  delayLoop?: number;
  inhibit?: boolean;
  alpha?: boolean;
  virtualhost?: string;
}

/** A checker as read, before the settings of its real and virtual server fill it in. */
export interface CheckerDraft {
  at: Statement;
  type: 'tcp' | 'http' | 'https' | 'udp' | 'exec' | 'smtp' | 'dns';
  own: CheckSettings;
  port?: number;
  /** keepalived's retry default for this checker: 0 for MISC_CHECK, else 1. */
  defaultRetry: number;
  /** MISC_CHECK's misc_timeout (its default is the delay_loop). */
  miscTimeout?: number;
  http?: { path?: string; expect?: number[]; host?: string; digest?: string };
  udp?: { send?: string; expect?: string };
  /** UDP_CHECK has require_reply: keepalived then needs an answer, as lvsd always does. */
  udpReplied?: boolean;
  exec?: { command: string[] };
  dns?: { name?: string; type?: string };
}

const NOT_LVSD = 'lvsd has no such setting';

const OMITTED_SETTINGS: Record<string, string> = {
  delay_before_retry: 'lvsd checks again after the interval, also after a failure (fall counts the retries)',
  warmup: 'lvsd starts every check at once, without a random delay',
  connect_ip: 'lvsd checks the real server address itself',
  bindto: 'lvsd checks from the director, without choosing a source address',
  bind_port: 'lvsd checks without choosing a source port',
  bind_if: 'lvsd checks without choosing an interface',
  fwmark: 'lvsd does not mark check packets',
  log_all_failures: 'lvsd logs each change of a real server state, not each failure',
  smtp_alert: 'lvsd sends no mail; it logs each change at warn and exports lvsd_backend_up in /metrics',
  snmp_name: 'lvsd has no SNMP; /metrics names services by key',
  notify_up: 'lvsd runs no scripts on state changes; it logs them and exports lvsd_backend_up',
  notify_down: 'lvsd runs no scripts on state changes; it logs them and exports lvsd_backend_up',
};

/**
 * Reads a setting checkers inherit (or reports one lvsd lacks) into `s`;
 * false when `st` is not such a setting.
 */
export function readCheckSetting(st: Statement, s: CheckSettings, r: Reporter): boolean {
  switch (st.keyword) {
    case 'connect_timeout':
      s.connectTimeout = timerArg(st, r) ?? s.connectTimeout;
      return true;
    case 'retry':
    case 'nb_get_retry':
      s.retry = intArg(st, r, 0, 99) ?? s.retry;
      return true;
    case 'delay_loop':
      s.delayLoop = timerArg(st, r) ?? s.delayLoop;
      return true;
    case 'inhibit_on_failure':
    case 'alpha': {
      const b = boolArg(st);
      if (b === undefined) r.omit(st, st.keyword, `'${st.args[0]}' is not on/off/true/false/yes/no`);
      else if (st.keyword === 'alpha') s.alpha = b;
      else s.inhibit = b;
      return true;
    }
    case 'virtualhost':
      s.virtualhost = st.args[0];
      return true;
  }
  const why = OMITTED_SETTINGS[st.keyword];
  if (why === undefined) return false;
  r.omit(st, st.keyword, why);
  return true;
}

const UNSUPPORTED_CHECKERS: Record<string, string> = {
  PING_CHECK: 'lvsd has no ping check kind (ICMP needs privileges lvsd does not use)',
  FILE_CHECK: 'lvsd has no file check kind (a weight read from a file)',
  BFD_CHECK: 'lvsd has no BFD',
};

const CHECKER_TYPES: Record<string, CheckerDraft['type']> = {
  TCP_CHECK: 'tcp',
  HTTP_GET: 'http',
  SSL_GET: 'https',
  UDP_CHECK: 'udp',
  MISC_CHECK: 'exec',
  SMTP_CHECK: 'smtp',
  DNS_CHECK: 'dns',
};

/** True when `keyword` names a keepalived checker block. */
export function isChecker(keyword: string): boolean {
  return keyword in CHECKER_TYPES || keyword in UNSUPPORTED_CHECKERS;
}

/** A checker block as a draft, or undefined (reported) for a kind lvsd does not have. */
export function readChecker(st: Statement, r: Reporter): CheckerDraft | undefined {
  const unsupported = UNSUPPORTED_CHECKERS[st.keyword];
  if (unsupported !== undefined) {
    r.omit(st, st.keyword, unsupported);
    return undefined;
  }
  const d: CheckerDraft = { at: st, type: CHECKER_TYPES[st.keyword]!, own: {}, defaultRetry: 1 };
  // keepalived.conf(5): "The retry default is 0" (MISC_CHECK), "The retry default is 3" (DNS_CHECK).
  if (st.keyword === 'MISC_CHECK') d.defaultRetry = 0;
  if (st.keyword === 'DNS_CHECK') d.defaultRetry = 3;
  for (const s of st.block ?? []) readCheckerStatement(s, d, r);
  if (d.type === 'udp') udpDefaults(st, d, r);
  if ((d.type === 'http' || d.type === 'https') && !d.http) {
    r.omit(st, st.keyword, 'has no url with a path, so keepalived ignores this checker too');
    return undefined;
  }
  if (d.type === 'exec' && !d.exec) {
    r.omit(st, st.keyword, 'has no misc_path, so keepalived would not run it either');
    return undefined;
  }
  return d;
}

function readCheckerStatement(s: Statement, d: CheckerDraft, r: Reporter): void {
  if (s.keyword === 'connect_port') {
    d.port = intArg(s, r, 1, 65535) ?? d.port;
    return;
  }
  if (readCheckSetting(s, d.own, r)) return;
  if ((d.type === 'http' || d.type === 'https') && readHttp(s, d, r)) return;
  if (d.type === 'udp' && readUdp(s, d, r)) return;
  if (d.type === 'exec' && readMisc(s, d, r)) return;
  if (d.type === 'dns' && (s.keyword === 'type' || s.keyword === 'name')) {
    readDns(s, d, r);
    return;
  }
  if (d.type === 'smtp' && s.keyword === 'helo_name') {
    r.omit(s, s.keyword, "lvsd's smtp check says HELO with the director's host name");
    return;
  }
  r.omit(s, s.keyword, `not a ${d.at.keyword} setting lvsd knows`);
}

const DNS_TYPES = ['A', 'NS', 'CNAME', 'SOA', 'MX', 'TXT', 'AAAA'];

/** DNS_CHECK's `type` (A|NS|CNAME|SOA|MX|TXT|AAAA, default SOA) and `name` (default `.`). */
function readDns(s: Statement, d: CheckerDraft, r: Reporter): void {
  const dns = (d.dns ??= {});
  const v = s.args[0];
  if (s.keyword === 'name' && v !== undefined) dns.name = v;
  else if (s.keyword === 'type' && v !== undefined && DNS_TYPES.includes(v.toUpperCase())) dns.type = v.toUpperCase();
  else r.omit(s, s.keyword, `'${v ?? ''}' is not a ${s.keyword === 'type' ? DNS_TYPES.join('|') : 'name'}`);
}

const HTTP_OMITTED: Record<string, string> = {
  http_protocol: 'lvsd sends HTTP/1.1 requests',
  fast_recovery: 'lvsd checks one URL, so there is nothing to speed up',
  enable_sni: 'lvsd sends no SNI of its own choosing',
  sni_name: 'lvsd sends no SNI of its own choosing',
  tls_compliant: NOT_LVSD,
};

function readHttp(s: Statement, d: CheckerDraft, r: Reporter): boolean {
  if (s.keyword === 'url') {
    if (d.http) r.omit(s, 'url', 'lvsd checks one URL per real server: the first url block is converted');
    else readUrl(s, d, r);
    return true;
  }
  const why = HTTP_OMITTED[s.keyword];
  if (why === undefined) return false;
  r.omit(s, s.keyword, why);
  return true;
}

const URL_OMITTED: Record<string, string> = {
  regex: 'lvsd does not match the body against a regex; only the status code is checked',
  regex_no_match: 'lvsd does not match the body; only the status code is checked',
  regex_options: 'lvsd does not match the body; only the status code is checked',
  regex_stack: 'lvsd does not match the body; only the status code is checked',
  regex_min_offset: 'lvsd does not match the body; only the status code is checked',
  regex_max_offset: 'lvsd does not match the body; only the status code is checked',
  tls_compliant: NOT_LVSD,
};

/** Status codes keepalived accepts without a status_code (keepalived.conf(5): "Default is 200-299"). */
export const DEFAULT_STATUS = Array.from({ length: 100 }, (_, i) => 200 + i);

function readUrl(st: Statement, d: CheckerDraft, r: Reporter): void {
  const http: NonNullable<CheckerDraft['http']> = { expect: DEFAULT_STATUS };
  for (const s of st.block ?? []) {
    if (s.keyword === 'path') http.path = s.args.join(' ');
    else if (s.keyword === 'virtualhost') http.host = s.args[0];
    else if (s.keyword === 'status_code') http.expect = statusCodes(s, r) ?? http.expect;
    else if (s.keyword === 'digest' && /^[0-9a-fA-F]{32}$/.test(s.args[0] ?? ''))
      http.digest = s.args[0]!.toLowerCase();
    else if (s.keyword === 'digest') r.omit(s, 'digest', 'not 32 hex digits (an MD5, as genhash prints it)');
    else r.omit(s, s.keyword, URL_OMITTED[s.keyword] ?? 'not a url setting lvsd knows');
  }
  if (http.path === undefined) r.omit(st, 'url', 'has no path, so keepalived ignores it too');
  else d.http = http;
}

/** `status_code 200 300-399 ...` as the list of codes. */
function statusCodes(st: Statement, r: Reporter): number[] | undefined {
  const codes = new Set<number>();
  for (const a of st.args) {
    const m = /^(\d{3})(?:-(\d{3}))?$/.exec(a);
    const lo = Number(m?.[1]);
    const hi = Number(m?.[2] ?? m?.[1]);
    if (!m || lo < 100 || hi > 599 || hi < lo) {
      r.omit(st, 'status_code', `'${a}' is not a status code or range from 100 to 599`);
      return undefined;
    }
    for (let c = lo; c <= hi; c++) codes.add(c);
  }
  return codes.size > 0 ? [...codes].sort((a, b) => a - b) : undefined;
}

function readUdp(s: Statement, d: CheckerDraft, r: Reporter): boolean {
  const udp = (d.udp ??= {});
  if (s.keyword === 'payload') {
    const text = hexText(s.args.join(''));
    if (text === undefined) r.omit(s, 'payload', 'lvsd sends text: this payload is not printable ASCII');
    else udp.send = text;
  } else if (s.keyword === 'require_reply') {
    const want = s.args.join('');
    const text = want === '' ? '' : hexText(want);
    if (text === undefined) r.omit(s, 'require_reply', 'lvsd matches text: the expected reply is not printable ASCII');
    else if (text !== '') udp.expect = text;
    d.udpReplied = true;
  } else if (s.keyword === 'min_reply_length' || s.keyword === 'max_reply_length') {
    r.omit(s, s.keyword, 'lvsd does not check the length of the reply');
  } else return false;
  return true;
}

function udpDefaults(st: Statement, d: CheckerDraft, r: Reporter): void {
  const udp = (d.udp ??= {});
  if (!d.udpReplied) {
    r.omit(st, st.keyword, "lvsd's udp check needs an answer; without require_reply keepalived passes on silence");
  }
  if (udp.send === undefined) r.note(st, st.keyword, 'keepalived sends random bytes; lvsd sends "ping"');
}

/** keepalived's free-form HEX_STR as text, or undefined when it is not printable ASCII (or has X nibbles). */
function hexText(hex: string): string | undefined {
  const clean = hex.replace(/\s/g, '');
  if (!/^[0-9a-fA-F]*$/.test(clean) || clean.length % 2 !== 0) return undefined;
  const text = Buffer.from(clean, 'hex').toString('latin1');
  return /^[\x20-\x7e]*$/.test(text) ? text : undefined;
}

function readMisc(s: Statement, d: CheckerDraft, r: Reporter): boolean {
  if (s.keyword === 'misc_path') d.exec = { command: commandWords(s.args.join(' ')) };
  else if (s.keyword === 'misc_timeout') d.miscTimeout = intArg(s, r, 1) ?? d.miscTimeout;
  else if (s.keyword === 'misc_dynamic')
    r.omit(s, s.keyword, 'lvsd takes the weight from the config, not from exit codes');
  else if (s.keyword === 'user') r.omit(s, s.keyword, 'lvsd runs the command as its own user');
  else return false;
  return true;
}

/** A misc_path as program and arguments: spaces split, single quotes keep spaces (keepalived.conf(5), "Quoted strings"). */
function commandWords(text: string): string[] {
  const words: string[] = [];
  for (const m of text.matchAll(/'([^']*)'|(\S+)/g)) words.push(m[1] ?? m[2]!);
  return words;
}
