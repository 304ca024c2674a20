/**
 * keepalived's `virtual_server` block read into a draft: identity (IP PORT,
 * `fwmark N` or `group NAME`), scheduler and flags, forwarding, persistence,
 * sorry server, the settings its checkers inherit, and its real servers.
 * services.ts turns a draft into lvsd services. Pure.
 */
import { familyOf } from '../../model/address.js';
import type { Reporter } from '../migration.js';
import type { Statement } from './blocks.js';
import type { CheckSettings } from './checkers.js';
import { readCheckSetting } from './checkers.js';
import type { RealServerDraft } from './real-server.js';
import { readRealServer } from './real-server.js';
import type { Forwarding } from './values.js';
import { forwardingArg, intArg } from './values.js';

/** Which services a virtual_server declares. */
export type VirtualServerId =
  | { kind: 'address'; address: string; port: number }
  | { kind: 'fwmark'; fwmark: number }
  | { kind: 'group'; name: string };

/** A virtual_server as read. */
export interface VirtualServerDraft {
  at: Statement;
  id: VirtualServerId;
  scheduler?: string;
  protocol?: { value: 'tcp' | 'udp' | 'sctp'; at: Statement };
  flags: Set<string>;
  onePacket?: Statement;
  forwarding?: Forwarding;
  persistence?: { timeout: number; at: Statement };
  granularity?: { value: string | number; at: Statement };
  pe?: string;
  family?: 'ipv4' | 'ipv6';
  sorry?: { address: string; port?: number; at: Statement };
  sorryForwarding?: Forwarding;
  settings: CheckSettings;
  realservers: RealServerDraft[];
}

/** keepalived's persistence_timeout without a value (libipvs.h IPVS_SVC_PERSISTENT_TIMEOUT). */
export const KEEPALIVED_PERSISTENCE = 360;

/** The identity of `virtual_server ARGS`, or undefined (reported: keepalived skips such a block too). */
export function readVirtualServerId(st: Statement, r: Reporter): VirtualServerId | undefined {
  const [a, b] = st.args;
  if (a === 'group' && b !== undefined) return { kind: 'group', name: b };
  if (a === 'fwmark' && b !== undefined && /^\d+$/.test(b) && Number(b) > 0 && Number(b) <= 0xffffffff) {
    return { kind: 'fwmark', fwmark: Number(b) };
  }
  if (a !== undefined && familyOf(a) !== undefined && (b === undefined || (/^\d+$/.test(b) && Number(b) <= 65535))) {
    return { kind: 'address', address: a, port: b === undefined ? 0 : Number(b) };
  }
  r.omit(
    st,
    'virtual_server',
    `'${st.args.join(' ')}' is not IP [PORT], fwmark N or group NAME; keepalived skips it too`,
  );
  return undefined;
}

/** A virtual_server block as a draft. */
export function readVirtualServer(st: Statement, id: VirtualServerId, r: Reporter): VirtualServerDraft {
  const vs: VirtualServerDraft = { at: st, id, flags: new Set(), settings: {}, realservers: [] };
  for (const s of st.block ?? []) {
    if (s.keyword === 'real_server') {
      const rs = readRealServer(s, r);
      if (rs) vs.realservers.push(rs);
    } else if (!readCheckSetting(s, vs.settings, r) && !readServiceSetting(s, vs, r)) {
      r.omit(s, s.keyword, VS_OMITTED[s.keyword] ?? 'not a virtual_server setting keepalived or lvsd knows');
    }
  }
  return vs;
}

const VS_OMITTED: Record<string, string> = {
  ha_suspend: 'lvsd checks real servers whether or not the VIP is on this host',
  omega: 'lvsd runs no scripts when it stops',
  quorum_up: 'lvsd runs no scripts; it logs state changes and exports them in /metrics',
  quorum_down: 'lvsd runs no scripts; it logs state changes and exports them in /metrics',
  weight: "a virtual server's weight only counts for keepalived's quorum, which lvsd does not have",
  sorry_server_inhibit: 'lvsd adds the sorry server at its weight and removes it when a real server is up',
};

/** Sets what `s` says about the service; false when it is no service setting. */
function readServiceSetting(s: Statement, vs: VirtualServerDraft, r: Reporter): boolean {
  switch (s.keyword) {
    case 'lb_algo':
    case 'lvs_sched':
      vs.scheduler = s.args[0];
      return true;
    case 'protocol':
      readProtocol(s, vs, r);
      return true;
    case 'lb_kind':
    case 'lvs_method':
      vs.forwarding = forwardingArg(s, r) ?? vs.forwarding;
      return true;
    case 'sorry_server_lvs_method':
      vs.sorryForwarding = forwardingArg(s, r) ?? vs.sorryForwarding;
      return true;
    case 'sorry_server':
      readSorryServer(s, vs, r);
      return true;
    case 'ip_family':
      if (s.args[0] === 'inet' || s.args[0] === 'inet6') vs.family = s.args[0] === 'inet' ? 'ipv4' : 'ipv6';
      else r.omit(s, s.keyword, `'${s.args[0] ?? ''}' is not inet or inet6`);
      return true;
  }
  return readPersistence(s, vs, r) || readFlag(s, vs, r) || readQuorum(s, r);
}

function readProtocol(s: Statement, vs: VirtualServerDraft, r: Reporter): void {
  const p = s.args[0]?.toLowerCase();
  if (p === 'tcp' || p === 'udp' || p === 'sctp') vs.protocol = { value: p, at: s };
  else r.omit(s, 'protocol', `'${s.args[0] ?? ''}' is not TCP, UDP or SCTP`);
}

function readSorryServer(s: Statement, vs: VirtualServerDraft, r: Reporter): void {
  const [address, portText] = s.args;
  if (address === undefined || familyOf(address) === undefined) {
    r.omit(s, 'sorry_server', `'${address ?? ''}' is not an IP address`);
    return;
  }
  const port = portText !== undefined && /^\d+$/.test(portText) ? Number(portText) : undefined;
  vs.sorry = { address, at: s, ...(port !== undefined && port > 0 ? { port } : {}) };
}

function readPersistence(s: Statement, vs: VirtualServerDraft, r: Reporter): boolean {
  if (s.keyword === 'persistence_timeout') {
    const t = s.args.length === 0 ? KEEPALIVED_PERSISTENCE : intArg(s, r, 1);
    if (t !== undefined) vs.persistence = { timeout: t, at: s };
  } else if (s.keyword === 'persistence_granularity') {
    const g = s.args[0] ?? '';
    vs.granularity = { value: /^\d+$/.test(g) ? Number(g) : g, at: s };
  } else if (s.keyword === 'persistence_engine') {
    if (s.args[0] === 'sip') vs.pe = 'sip';
    else r.omit(s, s.keyword, `the kernel's only persistence engine is sip, not '${s.args[0] ?? ''}'`);
  } else return false;
  return true;
}

/** keepalived's flag keywords; flag-N are the kernel's IP_VS_SVC_F_SCHED1..3. */
function readFlag(s: Statement, vs: VirtualServerDraft, r: Reporter): boolean {
  const k = s.keyword;
  if (k === 'ops') {
    vs.onePacket = s;
    return true;
  }
  if (k === 'hashed') {
    r.note(s, k, 'the kernel sets the hashed flag on every service itself');
    return true;
  }
  if (!['flag-1', 'flag-2', 'flag-3', 'sh-port', 'sh-fallback', 'mh-port', 'mh-fallback'].includes(k)) return false;
  // keepalived reads sh-*/mh-* against the scheduler set so far, and ignores them for another one.
  const sched = vs.scheduler;
  const named: Record<string, string | undefined> = {
    'flag-1': sched === 'sh' || sched === 'mh' ? `${sched}-fallback` : undefined,
    'flag-2': sched === 'sh' || sched === 'mh' ? `${sched}-port` : undefined,
    'flag-3': undefined,
  };
  const flag = k in named ? named[k] : k.startsWith(`${sched}-`) ? k : undefined;
  if (flag !== undefined) vs.flags.add(flag);
  else if (k === 'flag-3') r.omit(s, k, 'no scheduler in the kernel uses flag-3, and lvsd cannot set it');
  else r.omit(s, k, `keepalived ignores it with the ${sched ?? 'default wlc'} scheduler set before it`);
  return true;
}

function readQuorum(s: Statement, r: Reporter): boolean {
  if (s.keyword !== 'quorum' && s.keyword !== 'hysteresis') return false;
  const v = intArg(s, r);
  const plain = s.keyword === 'quorum' ? 1 : 0;
  if (v !== undefined && v !== plain) {
    r.omit(
      s,
      s.keyword,
      'lvsd adds the sorry server only when no real server is up (keepalived: quorum 1, hysteresis 0)',
    );
  }
  return true;
}
