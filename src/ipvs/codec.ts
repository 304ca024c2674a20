/**
 * The IPVS generic netlink codec: kernel-shaped services and destinations to
 * attribute bytes and back. Pure. The kernel's nouns live here (service,
 * destination); map.ts turns them into the model's.
 */
import { addressToBytes, bytesToAddress } from '../model/address.js';
import * as K from './constants.js';
import { attr, type Attrs, be16, be32, genlMessage, hostU32, type MessageHeader, nested, parseAttrs, readStr, readU16, readU32, readU64, str, u16, u32, u8 } from './wire.js';

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

// union nf_inet_addr is 16 bytes; the kernel copies what it needs for the family.
function inetAddr(text: string): Buffer {
  const out = Buffer.alloc(16);
  out.set(addressToBytes(text));
  return out;
}

/** The nested IPVS_CMD_ATTR_SERVICE. `full` adds what NEW and SET require. */
export function encodeService(s: IpvsServiceId | IpvsService, full: boolean): Buffer {
  const a: Buffer[] = [u16(K.IPVS_SVC_ATTR_AF, s.af)];
  if (s.fwmark) {
    a.push(u32(K.IPVS_SVC_ATTR_FWMARK, s.fwmark));
  } else {
    a.push(u16(K.IPVS_SVC_ATTR_PROTOCOL, s.protocol), attrAddr(K.IPVS_SVC_ATTR_ADDR, s.addr), be16(K.IPVS_SVC_ATTR_PORT, s.port));
  }
  if (full) {
    const f = s as IpvsService;
    // struct ip_vs_flags with a mask of all ones, as ipvsadm sends: every flag becomes exactly
    // what we give. Never the hashed flag: the kernel refuses to hash a service twice.
    const flags = Buffer.concat([hostU32(f.flags & ~K.IP_VS_SVC_F_HASHED), hostU32(0xffffffff)]);
    a.push(str(K.IPVS_SVC_ATTR_SCHED_NAME, f.schedName), attr(K.IPVS_SVC_ATTR_FLAGS, flags), u32(K.IPVS_SVC_ATTR_TIMEOUT, f.timeout));
    // The kernel reads NETMASK as __be32: an IPv4 mask in network order, an IPv6 prefix length in host order.
    a.push(s.af === K.AF_INET ? be32(K.IPVS_SVC_ATTR_NETMASK, f.netmask) : u32(K.IPVS_SVC_ATTR_NETMASK, f.netmask));
    if (f.peName) a.push(str(K.IPVS_SVC_ATTR_PE_NAME, f.peName));
  }
  return nested(K.IPVS_CMD_ATTR_SERVICE, a);
}

/** The nested IPVS_CMD_ATTR_DEST. `full` adds what NEW and SET require. */
export function encodeDest(d: IpvsDestId | IpvsDest, full: boolean): Buffer {
  const a: Buffer[] = [attrAddr(K.IPVS_DEST_ATTR_ADDR, d.addr), be16(K.IPVS_DEST_ATTR_PORT, d.port), u16(K.IPVS_DEST_ATTR_ADDR_FAMILY, d.af)];
  if (full) {
    const f = d as IpvsDest;
    a.push(
      u32(K.IPVS_DEST_ATTR_FWD_METHOD, f.fwdMethod),
      u32(K.IPVS_DEST_ATTR_WEIGHT, f.weight),
      u32(K.IPVS_DEST_ATTR_U_THRESH, f.uThresh),
      u32(K.IPVS_DEST_ATTR_L_THRESH, f.lThresh),
      u8(K.IPVS_DEST_ATTR_TUN_TYPE, f.tunType),
      be16(K.IPVS_DEST_ATTR_TUN_PORT, f.tunPort),
      u16(K.IPVS_DEST_ATTR_TUN_FLAGS, f.tunFlags),
    );
  }
  return nested(K.IPVS_CMD_ATTR_DEST, a);
}

/** IPVS_CMD_SET_CONFIG attributes; a timeout of 0 or absent leaves the kernel's value. */
export function encodeTimeouts(t: Partial<IpvsTimeouts>): Buffer[] {
  const a: Buffer[] = [];
  if (t.tcp) a.push(u32(K.IPVS_CMD_ATTR_TIMEOUT_TCP, t.tcp));
  if (t.tcpFin) a.push(u32(K.IPVS_CMD_ATTR_TIMEOUT_TCP_FIN, t.tcpFin));
  if (t.udp) a.push(u32(K.IPVS_CMD_ATTR_TIMEOUT_UDP, t.udp));
  return a;
}

/** A whole IPVS request message. */
export function ipvsMessage(h: MessageHeader, cmd: number, attrs: Uint8Array[]): Buffer {
  return genlMessage(h, cmd, K.IPVS_GENL_VERSION, attrs);
}

/** CTRL_CMD_GETFAMILY for a family name. */
export function getFamilyMessage(h: Omit<MessageHeader, 'type'>, name: string): Buffer {
  return genlMessage({ ...h, type: K.GENL_ID_CTRL }, K.CTRL_CMD_GETFAMILY, 1, [str(K.CTRL_ATTR_FAMILY_NAME, name)]);
}

export function decodeFamily(attrs: Attrs): { id: number; version: number } {
  return { id: readU16(need(attrs, K.CTRL_ATTR_FAMILY_ID, 'CTRL_ATTR_FAMILY_ID')), version: readU32(need(attrs, K.CTRL_ATTR_VERSION, 'CTRL_ATTR_VERSION')) };
}

/** A service from the top-level attributes of a GET_SERVICE reply. */
export function decodeService(top: Attrs): IpvsService {
  const a = parseAttrs(need(top, K.IPVS_CMD_ATTR_SERVICE, 'IPVS_CMD_ATTR_SERVICE'));
  const af = readU16(need(a, K.IPVS_SVC_ATTR_AF, 'IPVS_SVC_ATTR_AF'));
  const fwmark = opt(a, K.IPVS_SVC_ATTR_FWMARK, readU32) ?? 0;
  const flagsBuf = need(a, K.IPVS_SVC_ATTR_FLAGS, 'IPVS_SVC_ATTR_FLAGS');
  const netmaskBuf = need(a, K.IPVS_SVC_ATTR_NETMASK, 'IPVS_SVC_ATTR_NETMASK');
  const svc: IpvsService = {
    af,
    protocol: fwmark ? 0 : readU16(need(a, K.IPVS_SVC_ATTR_PROTOCOL, 'IPVS_SVC_ATTR_PROTOCOL')),
    addr: fwmark ? '' : readAddr(need(a, K.IPVS_SVC_ATTR_ADDR, 'IPVS_SVC_ATTR_ADDR'), af),
    port: fwmark ? 0 : need(a, K.IPVS_SVC_ATTR_PORT, 'IPVS_SVC_ATTR_PORT').readUInt16BE(0),
    fwmark,
    schedName: readStr(need(a, K.IPVS_SVC_ATTR_SCHED_NAME, 'IPVS_SVC_ATTR_SCHED_NAME')),
    // The kernel marks every listed service as hashed; it is not ours to compare.
    flags: readU32(flagsBuf, 0) & ~K.IP_VS_SVC_F_HASHED,
    timeout: readU32(need(a, K.IPVS_SVC_ATTR_TIMEOUT, 'IPVS_SVC_ATTR_TIMEOUT')),
    netmask: af === K.AF_INET ? netmaskBuf.readUInt32BE(0) : readU32(netmaskBuf),
  };
  const pe = opt(a, K.IPVS_SVC_ATTR_PE_NAME, readStr);
  if (pe) svc.peName = pe;
  const stats = decodeStats(a.get(K.IPVS_SVC_ATTR_STATS64), a.get(K.IPVS_SVC_ATTR_STATS));
  if (stats) svc.stats = stats;
  return svc;
}

/** A destination from the top-level attributes of a GET_DEST reply; `svcAf` is its service's family. */
export function decodeDest(top: Attrs, svcAf: number): IpvsDest {
  const a = parseAttrs(need(top, K.IPVS_CMD_ATTR_DEST, 'IPVS_CMD_ATTR_DEST'));
  // Kernels before 4.? send no ADDR_FAMILY: the destination then has the service's family.
  const af = opt(a, K.IPVS_DEST_ATTR_ADDR_FAMILY, readU16) ?? svcAf;
  const d: IpvsDest = {
    af,
    addr: readAddr(need(a, K.IPVS_DEST_ATTR_ADDR, 'IPVS_DEST_ATTR_ADDR'), af),
    port: need(a, K.IPVS_DEST_ATTR_PORT, 'IPVS_DEST_ATTR_PORT').readUInt16BE(0),
    fwdMethod: readU32(need(a, K.IPVS_DEST_ATTR_FWD_METHOD, 'IPVS_DEST_ATTR_FWD_METHOD')) & K.IP_VS_CONN_F_FWD_MASK,
    weight: readU32(need(a, K.IPVS_DEST_ATTR_WEIGHT, 'IPVS_DEST_ATTR_WEIGHT')) | 0,
    uThresh: readU32(need(a, K.IPVS_DEST_ATTR_U_THRESH, 'IPVS_DEST_ATTR_U_THRESH')),
    lThresh: readU32(need(a, K.IPVS_DEST_ATTR_L_THRESH, 'IPVS_DEST_ATTR_L_THRESH')),
    tunType: opt(a, K.IPVS_DEST_ATTR_TUN_TYPE, (b) => b[0]!) ?? 0,
    tunPort: opt(a, K.IPVS_DEST_ATTR_TUN_PORT, (b) => b.readUInt16BE(0)) ?? 0,
    tunFlags: opt(a, K.IPVS_DEST_ATTR_TUN_FLAGS, readU16) ?? 0,
  };
  const active = opt(a, K.IPVS_DEST_ATTR_ACTIVE_CONNS, readU32);
  if (active !== undefined) d.activeConns = active;
  const inact = opt(a, K.IPVS_DEST_ATTR_INACT_CONNS, readU32);
  if (inact !== undefined) d.inactConns = inact;
  const persist = opt(a, K.IPVS_DEST_ATTR_PERSIST_CONNS, readU32);
  if (persist !== undefined) d.persistConns = persist;
  const stats = decodeStats(a.get(K.IPVS_DEST_ATTR_STATS64), a.get(K.IPVS_DEST_ATTR_STATS));
  if (stats) d.stats = stats;
  return d;
}

/** Counters from STATS64 when present, else from the older 32/64-bit mix of STATS. */
export function decodeStats(stats64: Buffer | undefined, stats32: Buffer | undefined): IpvsStats | undefined {
  const src = stats64 ?? stats32;
  if (!src) return undefined;
  const a = parseAttrs(src);
  const num = (type: number): bigint => {
    const b = a.get(type);
    if (!b) return 0n;
    return b.length >= 8 ? readU64(b) : BigInt(readU32(b));
  };
  return {
    conns: num(K.IPVS_STATS_ATTR_CONNS),
    inpkts: num(K.IPVS_STATS_ATTR_INPKTS),
    outpkts: num(K.IPVS_STATS_ATTR_OUTPKTS),
    inbytes: num(K.IPVS_STATS_ATTR_INBYTES),
    outbytes: num(K.IPVS_STATS_ATTR_OUTBYTES),
    cps: num(K.IPVS_STATS_ATTR_CPS),
    inpps: num(K.IPVS_STATS_ATTR_INPPS),
    outpps: num(K.IPVS_STATS_ATTR_OUTPPS),
    inbps: num(K.IPVS_STATS_ATTR_INBPS),
    outbps: num(K.IPVS_STATS_ATTR_OUTBPS),
  };
}

export function decodeInfo(top: Attrs): { version: string; connTableSize: number } {
  const v = readU32(need(top, K.IPVS_INFO_ATTR_VERSION, 'IPVS_INFO_ATTR_VERSION'));
  return { version: `${(v >> 16) & 0xff}.${(v >> 8) & 0xff}.${v & 0xff}`, connTableSize: readU32(need(top, K.IPVS_INFO_ATTR_CONN_TAB_SIZE, 'IPVS_INFO_ATTR_CONN_TAB_SIZE')) };
}

export function decodeTimeouts(top: Attrs): IpvsTimeouts {
  return {
    tcp: opt(top, K.IPVS_CMD_ATTR_TIMEOUT_TCP, readU32) ?? 0,
    tcpFin: opt(top, K.IPVS_CMD_ATTR_TIMEOUT_TCP_FIN, readU32) ?? 0,
    udp: opt(top, K.IPVS_CMD_ATTR_TIMEOUT_UDP, readU32) ?? 0,
  };
}

function attrAddr(type: number, text: string): Buffer {
  return attr(type, inetAddr(text));
}
function readAddr(b: Buffer, af: number): string {
  return bytesToAddress(b.subarray(0, af === K.AF_INET6 ? 16 : 4));
}
function need(a: Attrs, type: number, name: string): Buffer {
  const b = a.get(type);
  if (!b) throw new RangeError(`reply lacks ${name}`);
  return b;
}
function opt<T>(a: Attrs, type: number, read: (b: Buffer) => T): T | undefined {
  const b = a.get(type);
  return b && b.length ? read(b) : undefined;
}
