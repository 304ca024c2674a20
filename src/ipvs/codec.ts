/**
 * The IPVS generic netlink codec: kernel-shaped services and destinations to
 * attribute bytes and back. Pure. The kernel's nouns live here (service,
 * destination); map.ts turns them into the model's.
 */
import { addressToBytes, bytesToAddress } from '../model/address.js';
import { AF_INET, AF_INET6, GENL_HDRLEN } from '../netlink/constants.js';
import {
  type Attrs,
  genlMessage,
  indexAttrs,
  LE,
  type MessageHeader,
  need,
  readStrAt,
  readU16,
  readU32,
  readU64,
  u32At,
} from '../netlink/wire.js';
import { NetlinkWriter } from '../netlink/writer.js';
import * as K from './constants.js';

/** IPVS counters; 64-bit where the kernel sends IPVS_*_ATTR_STATS64. */
export interface IpvsStats {
  conns: bigint;
  inpkts: bigint;
  outpkts: bigint;
  inbytes: bigint;
  outbytes: bigint;
  cps: bigint;
  inpps: bigint;
  outpps: bigint;
  inbps: bigint;
  outbps: bigint;
}

/** What identifies a service: af + protocol + addr + port, or af + fwmark. */
export interface IpvsServiceId {
  af: number;
  /** 0 for fwmark services. */
  protocol: number;
  /** Canonical text; '' for fwmark services. */
  addr: string;
  port: number;
  /** 0 for address services. */
  fwmark: number;
}

export interface IpvsService extends IpvsServiceId {
  schedName: string;
  /** IP_VS_SVC_F_*, the hashed flag stripped on decode. */
  flags: number;
  /** Persistence timeout, seconds. */
  timeout: number;
  /** IPv4: the mask as a 32-bit number (0xffffff00); IPv6: the prefix length. */
  netmask: number;
  peName?: string;
  stats?: IpvsStats;
}

export interface IpvsDestId {
  /** The destination's own family (may differ from the service's for tunnels). */
  af: number;
  addr: string;
  port: number;
}

export interface IpvsDest extends IpvsDestId {
  /** IP_VS_CONN_F_MASQ / LOCALNODE / TUNNEL / DROUTE */
  fwdMethod: number;
  weight: number;
  uThresh: number;
  lThresh: number;
  tunType: number;
  tunPort: number;
  tunFlags: number;
  activeConns?: number;
  inactConns?: number;
  persistConns?: number;
  stats?: IpvsStats;
}

export interface IpvsTimeouts {
  tcp: number;
  tcpFin: number;
  udp: number;
}

/** A connection sync daemon as the kernel sees it (struct ipvs_sync_daemon_cfg). */
export interface IpvsDaemon {
  /** IP_VS_STATE_MASTER or IP_VS_STATE_BACKUP. */
  state: number;
  mcastIfn: string;
  syncId: number;
  /** 0 or absent on NEW: the kernel's default. */
  maxlen?: number;
  /** The group's family: AF_INET or AF_INET6; absent on NEW with no group: the kernel's 224.0.0.81. */
  groupAf?: number;
  group?: string;
  port?: number;
  ttl?: number;
}

/** encodeService and encodeDest write here and copy out; each starts it over, so a throw leaves nothing behind. */
const scratch = new NetlinkWriter(4096);

/** A union nf_inet_addr attribute (16 bytes: the kernel copies what it needs for the family). */
function writeAddr(w: NetlinkWriter, type: number, text: string): void {
  const at = w.attr(type, 16);
  if (!ipv4Into(w.bytes, at, text)) w.bytes.set(addressToBytes(text), at);
}

/** Dotted-quad text straight into 4 bytes; false (nothing written) for anything else. */
function ipv4Into(b: Buffer, at: number, text: string): boolean {
  let part = 0;
  let v = 0;
  let digits = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46 /* . */) {
      if (digits === 0 || part === 3) return false;
      b[at + part++] = v;
      v = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      v = v * 10 + (c - 48);
      digits++;
      if (v > 255) return false;
    } else {
      return false;
    }
  }
  if (digits === 0 || part !== 3) return false;
  b[at + 3] = v;
  return true;
}

/** The nested IPVS_CMD_ATTR_SERVICE into a writer. `full` adds what NEW and SET require. */
export function writeService(w: NetlinkWriter, s: IpvsServiceId | IpvsService, full: boolean): void {
  const n = w.beginNested(K.IPVS_CMD_ATTR_SERVICE);
  w.u16(K.IPVS_SVC_ATTR_AF, s.af);
  if (s.fwmark) {
    w.u32(K.IPVS_SVC_ATTR_FWMARK, s.fwmark);
  } else {
    w.u16(K.IPVS_SVC_ATTR_PROTOCOL, s.protocol);
    writeAddr(w, K.IPVS_SVC_ATTR_ADDR, s.addr);
    w.be16(K.IPVS_SVC_ATTR_PORT, s.port);
  }
  if (full) {
    const f = s as IpvsService;
    w.str(K.IPVS_SVC_ATTR_SCHED_NAME, f.schedName);
    // struct ip_vs_flags with a mask of all ones, as ipvsadm sends: every flag becomes exactly
    // what we give. Never the hashed flag: the kernel refuses to hash a service twice.
    const at = w.attr(K.IPVS_SVC_ATTR_FLAGS, 8);
    u32At(w.bytes, at, f.flags & ~K.IP_VS_SVC_F_HASHED);
    u32At(w.bytes, at + 4, 0xffffffff);
    w.u32(K.IPVS_SVC_ATTR_TIMEOUT, f.timeout);
    // The kernel reads NETMASK as __be32: an IPv4 mask in network order, an IPv6 prefix length in host order.
    if (s.af === AF_INET) w.be32(K.IPVS_SVC_ATTR_NETMASK, f.netmask);
    else w.u32(K.IPVS_SVC_ATTR_NETMASK, f.netmask);
    if (f.peName) w.str(K.IPVS_SVC_ATTR_PE_NAME, f.peName);
  }
  w.endNested(n);
}

/** The nested IPVS_CMD_ATTR_DEST into a writer. `full` adds what NEW and SET require. */
export function writeDest(w: NetlinkWriter, d: IpvsDestId | IpvsDest, full: boolean): void {
  const n = w.beginNested(K.IPVS_CMD_ATTR_DEST);
  writeAddr(w, K.IPVS_DEST_ATTR_ADDR, d.addr);
  w.be16(K.IPVS_DEST_ATTR_PORT, d.port);
  w.u16(K.IPVS_DEST_ATTR_ADDR_FAMILY, d.af);
  if (full) {
    const f = d as IpvsDest;
    w.u32(K.IPVS_DEST_ATTR_FWD_METHOD, f.fwdMethod);
    w.u32(K.IPVS_DEST_ATTR_WEIGHT, f.weight);
    w.u32(K.IPVS_DEST_ATTR_U_THRESH, f.uThresh);
    w.u32(K.IPVS_DEST_ATTR_L_THRESH, f.lThresh);
    w.u8(K.IPVS_DEST_ATTR_TUN_TYPE, f.tunType);
    w.be16(K.IPVS_DEST_ATTR_TUN_PORT, f.tunPort);
    w.u16(K.IPVS_DEST_ATTR_TUN_FLAGS, f.tunFlags);
  }
  w.endNested(n);
}

/**
 * The nested IPVS_CMD_ATTR_DAEMON into a writer, in ipvsadm's order. `full`
 * (NEW_DAEMON) adds the parameters; DEL_DAEMON needs the state only.
 */
export function writeDaemon(w: NetlinkWriter, d: IpvsDaemon, full: boolean): void {
  const n = w.beginNested(K.IPVS_CMD_ATTR_DAEMON);
  w.u32(K.IPVS_DAEMON_ATTR_STATE, d.state);
  if (full) {
    w.str(K.IPVS_DAEMON_ATTR_MCAST_IFN, d.mcastIfn);
    w.u32(K.IPVS_DAEMON_ATTR_SYNC_ID, d.syncId);
    if (d.maxlen) w.u16(K.IPVS_DAEMON_ATTR_SYNC_MAXLEN, d.maxlen);
    // The kernel reads the port with nla_get_u16: host order, unlike every other port of the family.
    if (d.port) w.u16(K.IPVS_DAEMON_ATTR_MCAST_PORT, d.port);
    if (d.ttl) w.u8(K.IPVS_DAEMON_ATTR_MCAST_TTL, d.ttl);
    if (d.group !== undefined && d.groupAf === AF_INET6) {
      w.bytes.set(addressToBytes(d.group), w.attr(K.IPVS_DAEMON_ATTR_MCAST_GROUP6, 16));
    } else if (d.group !== undefined) {
      const at = w.attr(K.IPVS_DAEMON_ATTR_MCAST_GROUP, 4);
      if (!ipv4Into(w.bytes, at, d.group)) throw new RangeError(`not an IPv4 address: ${d.group}`);
    }
  }
  w.endNested(n);
}

/** The nested IPVS_CMD_ATTR_DAEMON of a NEW_DAEMON (`full`) or DEL_DAEMON request. */
export function encodeDaemon(d: IpvsDaemon, full: boolean): Buffer {
  scratch.reset();
  writeDaemon(scratch, d, full);
  return scratch.take();
}

/** IPVS_CMD_SET_CONFIG attributes into a writer; a timeout of 0 or absent leaves the kernel's value. */
export function writeTimeouts(w: NetlinkWriter, t: Partial<IpvsTimeouts>): void {
  if (t.tcp) w.u32(K.IPVS_CMD_ATTR_TIMEOUT_TCP, t.tcp);
  if (t.tcpFin) w.u32(K.IPVS_CMD_ATTR_TIMEOUT_TCP_FIN, t.tcpFin);
  if (t.udp) w.u32(K.IPVS_CMD_ATTR_TIMEOUT_UDP, t.udp);
}

/** The nested IPVS_CMD_ATTR_SERVICE. `full` adds what NEW and SET require. */
export function encodeService(s: IpvsServiceId | IpvsService, full: boolean): Buffer {
  scratch.reset();
  writeService(scratch, s, full);
  return scratch.take();
}

/** The nested IPVS_CMD_ATTR_DEST. `full` adds what NEW and SET require. */
export function encodeDest(d: IpvsDestId | IpvsDest, full: boolean): Buffer {
  scratch.reset();
  writeDest(scratch, d, full);
  return scratch.take();
}

/** IPVS_CMD_SET_CONFIG attributes; a timeout of 0 or absent leaves the kernel's value. */
export function encodeTimeouts(t: Partial<IpvsTimeouts>): Buffer[] {
  scratch.reset();
  writeTimeouts(scratch, t);
  return [scratch.take()];
}

/** A whole IPVS request message. */
export function ipvsMessage(h: MessageHeader, cmd: number, attrs: Uint8Array[]): Buffer {
  return genlMessage(h, cmd, K.IPVS_GENL_VERSION, attrs);
}

/*
 * Decoding walks attributes by offset (wire.ts indexAttrs) into these tables,
 * reused for every message: no Map, no Buffer view per attribute. Decoding is
 * synchronous and each level has its own table, so one set serves all.
 */
const TOP = new Int32Array(2 * 8);
const INNER = new Int32Array(2 * 16);
const STATS = new Int32Array(2 * 11);

/**
 * A service from one GET_SERVICE reply message: buf[off, end) is the
 * message after its nlmsghdr (generic netlink header, then attributes).
 * Without `stats` its counters are left undecoded.
 */
export function decodeServiceReply(buf: Buffer, off: number, end: number, stats = true): IpvsService {
  const at = topAttr(buf, off, end, K.IPVS_CMD_ATTR_SERVICE, 'IPVS_CMD_ATTR_SERVICE');
  return decodeServiceAt(buf, at, at + TOP[2 * K.IPVS_CMD_ATTR_SERVICE + 1]!, stats);
}

/**
 * A destination from one GET_DEST reply message (as decodeServiceReply); `svcAf` is its service's family.
 * Without `stats` the counters the kernel always sends are left undecoded (connection counts stay).
 */
export function decodeDestReply(buf: Buffer, off: number, end: number, svcAf: number, stats = true): IpvsDest {
  const at = topAttr(buf, off, end, K.IPVS_CMD_ATTR_DEST, 'IPVS_CMD_ATTR_DEST');
  return decodeDestAt(buf, at, at + TOP[2 * K.IPVS_CMD_ATTR_DEST + 1]!, svcAf, stats);
}

/** A sync daemon from one GET_DAEMON reply message (as decodeServiceReply). */
export function decodeDaemonReply(buf: Buffer, off: number, end: number): IpvsDaemon {
  const start = topAttr(buf, off, end, K.IPVS_CMD_ATTR_DAEMON, 'IPVS_CMD_ATTR_DAEMON');
  const a = INNER;
  indexAttrs(buf, start, start + TOP[2 * K.IPVS_CMD_ATTR_DAEMON + 1]!, a);
  const six = a[2 * K.IPVS_DAEMON_ATTR_MCAST_GROUP6 + 1]! > 0;
  const groupAt = six
    ? needAt(a, K.IPVS_DAEMON_ATTR_MCAST_GROUP6, 16, 'IPVS_DAEMON_ATTR_MCAST_GROUP6')
    : needAt(a, K.IPVS_DAEMON_ATTR_MCAST_GROUP, 4, 'IPVS_DAEMON_ATTR_MCAST_GROUP');
  return {
    state: readU32(buf, needAt(a, K.IPVS_DAEMON_ATTR_STATE, 4, 'IPVS_DAEMON_ATTR_STATE')),
    mcastIfn: readStrAt(
      buf,
      needAt(a, K.IPVS_DAEMON_ATTR_MCAST_IFN, 0, 'IPVS_DAEMON_ATTR_MCAST_IFN'),
      a[2 * K.IPVS_DAEMON_ATTR_MCAST_IFN + 1]!,
    ),
    syncId: readU32(buf, needAt(a, K.IPVS_DAEMON_ATTR_SYNC_ID, 4, 'IPVS_DAEMON_ATTR_SYNC_ID')),
    maxlen: readU16(buf, needAt(a, K.IPVS_DAEMON_ATTR_SYNC_MAXLEN, 2, 'IPVS_DAEMON_ATTR_SYNC_MAXLEN')),
    groupAf: six ? AF_INET6 : AF_INET,
    group: readAddr(buf, groupAt, six ? AF_INET6 : AF_INET),
    port: readU16(buf, needAt(a, K.IPVS_DAEMON_ATTR_MCAST_PORT, 2, 'IPVS_DAEMON_ATTR_MCAST_PORT')),
    ttl: buf[needAt(a, K.IPVS_DAEMON_ATTR_MCAST_TTL, 1, 'IPVS_DAEMON_ATTR_MCAST_TTL')]!,
  };
}

/** A service from the top-level attributes of a GET_SERVICE reply. */
export function decodeService(top: Attrs): IpvsService {
  const b = need(top, K.IPVS_CMD_ATTR_SERVICE, 'IPVS_CMD_ATTR_SERVICE');
  return decodeServiceAt(b, 0, b.length);
}

/** A destination from the top-level attributes of a GET_DEST reply; `svcAf` is its service's family. */
export function decodeDest(top: Attrs, svcAf: number): IpvsDest {
  const b = need(top, K.IPVS_CMD_ATTR_DEST, 'IPVS_CMD_ATTR_DEST');
  return decodeDestAt(b, 0, b.length, svcAf);
}

/** A service from the attributes nested in IPVS_CMD_ATTR_SERVICE, buf[start, end). */
function decodeServiceAt(buf: Buffer, start: number, end: number, withStats = true): IpvsService {
  const a = INNER;
  indexAttrs(buf, start, end, a);
  const af = readU16(buf, needAt(a, K.IPVS_SVC_ATTR_AF, 2, 'IPVS_SVC_ATTR_AF'));
  const fwmark =
    a[2 * K.IPVS_SVC_ATTR_FWMARK + 1]! > 0
      ? readU32(buf, needAt(a, K.IPVS_SVC_ATTR_FWMARK, 4, 'IPVS_SVC_ATTR_FWMARK'))
      : 0;
  const flagsAt = needAt(a, K.IPVS_SVC_ATTR_FLAGS, 4, 'IPVS_SVC_ATTR_FLAGS');
  const netmaskAt = needAt(a, K.IPVS_SVC_ATTR_NETMASK, 4, 'IPVS_SVC_ATTR_NETMASK');
  const svc: IpvsService = {
    af,
    protocol: fwmark ? 0 : readU16(buf, needAt(a, K.IPVS_SVC_ATTR_PROTOCOL, 2, 'IPVS_SVC_ATTR_PROTOCOL')),
    addr: fwmark
      ? ''
      : readAddr(buf, needAt(a, K.IPVS_SVC_ATTR_ADDR, af === AF_INET6 ? 16 : 4, 'IPVS_SVC_ATTR_ADDR'), af),
    port: fwmark ? 0 : buf.readUInt16BE(needAt(a, K.IPVS_SVC_ATTR_PORT, 2, 'IPVS_SVC_ATTR_PORT')),
    fwmark,
    schedName: readStrAt(
      buf,
      needAt(a, K.IPVS_SVC_ATTR_SCHED_NAME, 0, 'IPVS_SVC_ATTR_SCHED_NAME'),
      a[2 * K.IPVS_SVC_ATTR_SCHED_NAME + 1]!,
    ),
    // The kernel marks every listed service as hashed; it is not ours to compare.
    flags: readU32(buf, flagsAt) & ~K.IP_VS_SVC_F_HASHED,
    timeout: readU32(buf, needAt(a, K.IPVS_SVC_ATTR_TIMEOUT, 4, 'IPVS_SVC_ATTR_TIMEOUT')),
    netmask: af === AF_INET ? buf.readUInt32BE(netmaskAt) : readU32(buf, netmaskAt),
  };
  if (a[2 * K.IPVS_SVC_ATTR_PE_NAME + 1]! > 0) {
    const pe = readStrAt(buf, a[2 * K.IPVS_SVC_ATTR_PE_NAME]!, a[2 * K.IPVS_SVC_ATTR_PE_NAME + 1]!);
    if (pe) svc.peName = pe;
  }
  const stats = withStats ? statsOf(buf, a, K.IPVS_SVC_ATTR_STATS64, K.IPVS_SVC_ATTR_STATS) : undefined;
  if (stats) svc.stats = stats;
  return svc;
}

/** A destination from the attributes nested in IPVS_CMD_ATTR_DEST, buf[start, end). */
function decodeDestAt(buf: Buffer, start: number, end: number, svcAf: number, withStats = true): IpvsDest {
  const a = INNER;
  indexAttrs(buf, start, end, a);
  // Kernels before 4.? send no ADDR_FAMILY: the destination then has the service's family.
  const af =
    a[2 * K.IPVS_DEST_ATTR_ADDR_FAMILY + 1]! > 0
      ? readU16(buf, needAt(a, K.IPVS_DEST_ATTR_ADDR_FAMILY, 2, 'IPVS_DEST_ATTR_ADDR_FAMILY'))
      : svcAf;
  const d: IpvsDest = {
    af,
    addr: readAddr(buf, needAt(a, K.IPVS_DEST_ATTR_ADDR, af === AF_INET6 ? 16 : 4, 'IPVS_DEST_ATTR_ADDR'), af),
    port: buf.readUInt16BE(needAt(a, K.IPVS_DEST_ATTR_PORT, 2, 'IPVS_DEST_ATTR_PORT')),
    fwdMethod:
      readU32(buf, needAt(a, K.IPVS_DEST_ATTR_FWD_METHOD, 4, 'IPVS_DEST_ATTR_FWD_METHOD')) & K.IP_VS_CONN_F_FWD_MASK,
    weight: readU32(buf, needAt(a, K.IPVS_DEST_ATTR_WEIGHT, 4, 'IPVS_DEST_ATTR_WEIGHT')) | 0,
    uThresh: readU32(buf, needAt(a, K.IPVS_DEST_ATTR_U_THRESH, 4, 'IPVS_DEST_ATTR_U_THRESH')),
    lThresh: readU32(buf, needAt(a, K.IPVS_DEST_ATTR_L_THRESH, 4, 'IPVS_DEST_ATTR_L_THRESH')),
    tunType: a[2 * K.IPVS_DEST_ATTR_TUN_TYPE + 1]! > 0 ? buf[a[2 * K.IPVS_DEST_ATTR_TUN_TYPE]!]! : 0,
    tunPort:
      a[2 * K.IPVS_DEST_ATTR_TUN_PORT + 1]! > 0
        ? buf.readUInt16BE(needAt(a, K.IPVS_DEST_ATTR_TUN_PORT, 2, 'IPVS_DEST_ATTR_TUN_PORT'))
        : 0,
    tunFlags:
      a[2 * K.IPVS_DEST_ATTR_TUN_FLAGS + 1]! > 0
        ? readU16(buf, needAt(a, K.IPVS_DEST_ATTR_TUN_FLAGS, 2, 'IPVS_DEST_ATTR_TUN_FLAGS'))
        : 0,
  };
  if (a[2 * K.IPVS_DEST_ATTR_ACTIVE_CONNS + 1]! > 0)
    d.activeConns = readU32(buf, needAt(a, K.IPVS_DEST_ATTR_ACTIVE_CONNS, 4, 'IPVS_DEST_ATTR_ACTIVE_CONNS'));
  if (a[2 * K.IPVS_DEST_ATTR_INACT_CONNS + 1]! > 0)
    d.inactConns = readU32(buf, needAt(a, K.IPVS_DEST_ATTR_INACT_CONNS, 4, 'IPVS_DEST_ATTR_INACT_CONNS'));
  if (a[2 * K.IPVS_DEST_ATTR_PERSIST_CONNS + 1]! > 0)
    d.persistConns = readU32(buf, needAt(a, K.IPVS_DEST_ATTR_PERSIST_CONNS, 4, 'IPVS_DEST_ATTR_PERSIST_CONNS'));
  const stats = withStats ? statsOf(buf, a, K.IPVS_DEST_ATTR_STATS64, K.IPVS_DEST_ATTR_STATS) : undefined;
  if (stats) d.stats = stats;
  return d;
}

/** The counters of a service or destination indexed in `a`: STATS64 when present, else STATS. */
function statsOf(buf: Buffer, a: Int32Array, stats64: number, stats32: number): IpvsStats | undefined {
  const type = a[2 * stats64]! >= 0 ? stats64 : a[2 * stats32]! >= 0 ? stats32 : -1;
  if (type < 0) return undefined;
  const at = a[2 * type]!;
  return decodeStatsAt(buf, at, at + a[2 * type + 1]!);
}

/** Counters from STATS64 when present, else from the older 32/64-bit mix of STATS. */
export function decodeStats(stats64: Buffer | undefined, stats32: Buffer | undefined): IpvsStats | undefined {
  const src = stats64 ?? stats32;
  return src ? decodeStatsAt(src, 0, src.length) : undefined;
}

/** Counters from the attributes of a STATS or STATS64 nest, buf[start, end). */
function decodeStatsAt(buf: Buffer, start: number, end: number): IpvsStats {
  indexAttrs(buf, start, end, STATS);
  return {
    conns: counter(buf, K.IPVS_STATS_ATTR_CONNS),
    inpkts: counter(buf, K.IPVS_STATS_ATTR_INPKTS),
    outpkts: counter(buf, K.IPVS_STATS_ATTR_OUTPKTS),
    inbytes: counter(buf, K.IPVS_STATS_ATTR_INBYTES),
    outbytes: counter(buf, K.IPVS_STATS_ATTR_OUTBYTES),
    cps: counter(buf, K.IPVS_STATS_ATTR_CPS),
    inpps: counter(buf, K.IPVS_STATS_ATTR_INPPS),
    outpps: counter(buf, K.IPVS_STATS_ATTR_OUTPPS),
    inbps: counter(buf, K.IPVS_STATS_ATTR_INBPS),
    outbps: counter(buf, K.IPVS_STATS_ATTR_OUTBPS),
  };
}

const ZERO = 0n;
const TWO32 = 0x1_0000_0000;
/** One counter of the STATS table, 64- or 32-bit by its length; no BigInt arithmetic, none at all for 0. */
function counter(buf: Buffer, type: number): bigint {
  const at = STATS[2 * type]!;
  const len = STATS[2 * type + 1]!;
  if (at < 0 || len < 4) return ZERO;
  if (len < 8) {
    const v = readU32(buf, at);
    return v === 0 ? ZERO : BigInt(v);
  }
  const lo = readU32(buf, LE ? at : at + 4);
  const hi = readU32(buf, LE ? at + 4 : at);
  if (hi === 0) return lo === 0 ? ZERO : BigInt(lo);
  // Exact as a double below 2^53.
  return hi < 0x200000 ? BigInt(hi * TWO32 + lo) : readU64(buf, at);
}

export function decodeInfo(top: Attrs): { version: string; connTableSize: number } {
  const v = readU32(need(top, K.IPVS_INFO_ATTR_VERSION, 'IPVS_INFO_ATTR_VERSION'));
  return {
    version: `${(v >> 16) & 0xff}.${(v >> 8) & 0xff}.${v & 0xff}`,
    connTableSize: readU32(need(top, K.IPVS_INFO_ATTR_CONN_TAB_SIZE, 'IPVS_INFO_ATTR_CONN_TAB_SIZE')),
  };
}

export function decodeTimeouts(top: Attrs): IpvsTimeouts {
  return {
    tcp: opt(top, K.IPVS_CMD_ATTR_TIMEOUT_TCP, readU32) ?? 0,
    tcpFin: opt(top, K.IPVS_CMD_ATTR_TIMEOUT_TCP_FIN, readU32) ?? 0,
    udp: opt(top, K.IPVS_CMD_ATTR_TIMEOUT_UDP, readU32) ?? 0,
  };
}

/** The offset of a top-level attribute of a generic netlink message buf[off, end); throws when absent. */
function topAttr(buf: Buffer, off: number, end: number, type: number, name: string): number {
  indexAttrs(buf, off + GENL_HDRLEN, end, TOP);
  return needAt(TOP, type, 0, name);
}
/** The payload offset of an indexed attribute of at least `size` bytes; throws when absent or short. */
function needAt(a: Int32Array, type: number, size: number, name: string): number {
  const at = a[2 * type]!;
  if (at < 0) throw new RangeError(`reply lacks ${name}`);
  if (a[2 * type + 1]! < size) throw new RangeError(`${name} of ${a[2 * type + 1]} bytes`);
  return at;
}
/**
 * IPv4 address texts by their 32-bit value: a table of 100,000 real servers
 * names a few hundred addresses, and one string each (not one per real
 * server) is what a daemon keeps in its picture. Emptied when it grows past
 * IPV4_TEXTS_MAX, so it stays small whatever the table.
 */
const ipv4Texts = new Map<number, string>();
const IPV4_TEXTS_MAX = 1 << 16;

/** Address text of the 4 (IPv4) or 16 bytes at `at`. */
function readAddr(b: Buffer, at: number, af: number): string {
  if (af === AF_INET6) return bytesToAddress(b.subarray(at, at + 16));
  const v = b[at]! * 0x1000000 + ((b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!);
  let text = ipv4Texts.get(v);
  if (text === undefined) {
    if (ipv4Texts.size >= IPV4_TEXTS_MAX) ipv4Texts.clear();
    text = `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
    ipv4Texts.set(v, text);
  }
  return text;
}
function opt<T>(a: Attrs, type: number, read: (b: Buffer) => T): T | undefined {
  const b = a.get(type);
  return b && b.length ? read(b) : undefined;
}
