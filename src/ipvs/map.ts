/**
 * The one mapping between the kernel's nouns (service, destination) and the
 * model's (service, realserver). Pure. Reading back what was written gives
 * the same model object: the kernel's additions (hashed flag, a netmask or
 * timeout kept on a non-persistent service, unused tunnel fields) are dropped here.
 */
import { familyOf, maskToPrefix, prefixToMask } from '../model/address.js';
import { defaultNetmask, schedFlagBits, schedFlagNames } from '../model/keys.js';
import type {
  Family,
  Forward,
  LiveRealServer,
  LiveService,
  Protocol,
  RealServer,
  RealServerId,
  Service,
  ServiceId,
  Stats,
  SyncDaemon,
  SyncRole,
  TunnelChecksum,
  TunnelType,
} from '../model/types.js';
import { AF_INET, AF_INET6 } from '../netlink/constants.js';
import type { IpvsDaemon, IpvsDest, IpvsDestId, IpvsService, IpvsServiceId, IpvsStats } from './codec.js';
import * as K from './constants.js';

const AF: Record<Family, number> = { ipv4: AF_INET, ipv6: AF_INET6 };
const PROTO: Record<Protocol, number> = { tcp: K.IPPROTO_TCP, udp: K.IPPROTO_UDP, sctp: K.IPPROTO_SCTP };
const FWD: Record<Forward, number> = {
  nat: K.IP_VS_CONN_F_MASQ,
  local: K.IP_VS_CONN_F_LOCALNODE,
  tunnel: K.IP_VS_CONN_F_TUNNEL,
  dr: K.IP_VS_CONN_F_DROUTE,
};
const TUN: Record<TunnelType, number> = {
  ipip: K.IP_VS_CONN_F_TUNNEL_TYPE_IPIP,
  gue: K.IP_VS_CONN_F_TUNNEL_TYPE_GUE,
  gre: K.IP_VS_CONN_F_TUNNEL_TYPE_GRE,
};
const CSUM: Record<TunnelChecksum, number> = {
  none: K.IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM,
  csum: K.IP_VS_TUNNEL_ENCAP_FLAG_CSUM,
  remcsum: K.IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM,
};

const invert = <T extends string>(m: Record<T, number>): Map<number, T> =>
  new Map(Object.entries(m).map(([k, v]) => [v as number, k as T]));
const FAMILY_OF = invert(AF);
const PROTO_OF = invert(PROTO);
const FWD_OF = invert(FWD);
const TUN_OF = invert(TUN);

function family(af: number): Family {
  const f = FAMILY_OF.get(af);
  if (!f) throw new RangeError(`unknown address family ${af}`);
  return f;
}

// No object spreads on these paths: one literal per object, built once per operation or reply
// (a spread then more properties measured slower than everything else of an encode together).

export function toKernelServiceId(s: ServiceId): IpvsServiceId {
  if (s.fwmark !== undefined) return { af: AF[s.family], protocol: 0, addr: '', port: 0, fwmark: s.fwmark };
  return { af: AF[s.family], protocol: PROTO[s.protocol], addr: s.address, port: s.port, fwmark: 0 };
}

export function toKernelService(s: Service): IpvsService {
  let flags = schedFlagBits(s.flags) * K.IP_VS_SVC_F_SCHED1;
  if (s.persistence) flags |= K.IP_VS_SVC_F_PERSISTENT;
  if (s.onePacket) flags |= K.IP_VS_SVC_F_ONEPACKET;
  const netmask = s.persistence?.netmask ?? defaultNetmask(s.family);
  const fw = s.fwmark !== undefined;
  const out: IpvsService = {
    af: AF[s.family],
    protocol: fw ? 0 : PROTO[s.protocol],
    addr: fw ? '' : s.address,
    port: fw ? 0 : s.port,
    fwmark: fw ? s.fwmark : 0,
    schedName: s.scheduler,
    flags,
    timeout: s.persistence?.timeout ?? 0,
    netmask: s.family === 'ipv4' ? ipv4MaskNumber(netmask) : Number(netmask),
  };
  if (s.pe) out.peName = s.pe;
  return out;
}

export function fromKernelService(k: IpvsService): LiveService {
  const fam = family(k.af);
  const scheduler = k.schedName;
  const flags = schedFlagNames((k.flags / K.IP_VS_SVC_F_SCHED1) & 3, k.schedName);
  const onePacket = (k.flags & K.IP_VS_SVC_F_ONEPACKET) !== 0;
  const svc: LiveService = k.fwmark
    ? { family: fam, fwmark: k.fwmark, scheduler, flags, onePacket, realservers: [] }
    : {
        family: fam,
        protocol: protocol(k.protocol),
        address: k.addr,
        port: k.port,
        scheduler,
        flags,
        onePacket,
        realservers: [],
      };
  if (k.flags & K.IP_VS_SVC_F_PERSISTENT) {
    svc.persistence = { timeout: k.timeout, netmask: fam === 'ipv4' ? ipv4MaskText(k.netmask) : String(k.netmask) };
  }
  if (k.peName) svc.pe = k.peName;
  if (k.stats) svc.stats = fromKernelStats(k.stats);
  return svc;
}

export function toKernelDestId(r: RealServerId): IpvsDestId {
  return { af: AF[r.family], addr: r.address, port: r.port };
}

export function toKernelDest(r: RealServer): IpvsDest {
  return {
    af: AF[r.family],
    addr: r.address,
    port: r.port,
    fwdMethod: FWD[r.forward],
    weight: r.weight,
    uThresh: r.upperThreshold,
    lThresh: r.lowerThreshold,
    tunType: r.tunnel ? TUN[r.tunnel.type] : 0,
    tunPort: r.tunnel?.port ?? 0,
    tunFlags: r.tunnel ? CSUM[r.tunnel.checksum] : 0,
  };
}

export function fromKernelDest(k: IpvsDest): LiveRealServer {
  const forward = FWD_OF.get(k.fwdMethod);
  if (!forward) throw new RangeError(`unknown forwarding method ${k.fwdMethod}`);
  const r: LiveRealServer = {
    family: family(k.af),
    address: k.addr,
    port: k.port,
    forward,
    weight: k.weight,
    upperThreshold: k.uThresh,
    lowerThreshold: k.lThresh,
    activeConnections: k.activeConns ?? 0,
    inactiveConnections: k.inactConns ?? 0,
    persistentConnections: k.persistConns ?? 0,
  };
  if (forward === 'tunnel') {
    const type = TUN_OF.get(k.tunType) ?? 'ipip';
    r.tunnel = {
      type,
      port: type === 'gue' ? k.tunPort : 0,
      checksum:
        k.tunFlags & K.IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM
          ? 'remcsum'
          : k.tunFlags & K.IP_VS_TUNNEL_ENCAP_FLAG_CSUM
            ? 'csum'
            : 'none',
    };
  }
  if (k.stats) r.stats = fromKernelStats(k.stats);
  return r;
}

function fromKernelStats(s: IpvsStats): Stats {
  return {
    connections: s.conns,
    packetsIn: s.inpkts,
    packetsOut: s.outpkts,
    bytesIn: s.inbytes,
    bytesOut: s.outbytes,
    cps: s.cps,
    ppsIn: s.inpps,
    ppsOut: s.outpps,
    bpsIn: s.inbps,
    bpsOut: s.outbps,
  };
}

function protocol(p: number): Protocol {
  const name = PROTO_OF.get(p);
  if (!name) throw new RangeError(`unsupported protocol ${p}`);
  return name;
}

function ipv4MaskNumber(text: string): number {
  const [a, b, c, d] = text.split('.').map(Number) as [number, number, number, number];
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

function ipv4MaskText(n: number): string {
  const text = [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join('.');
  // Canonical for contiguous masks, kept verbatim for the rare non-contiguous one.
  const len = maskToPrefix(text);
  return len === undefined ? text : prefixToMask(len);
}

const STATE: Record<SyncRole, number> = { master: K.IP_VS_STATE_MASTER, backup: K.IP_VS_STATE_BACKUP };
const ROLE_OF = invert(STATE);

/** A sync daemon for NEW_DAEMON (or, with the role only read, DEL_DAEMON). */
export function toKernelDaemon(d: SyncDaemon): IpvsDaemon {
  const k: IpvsDaemon = {
    state: STATE[d.role],
    mcastIfn: d.interface,
    syncId: d.id,
    groupAf: AF[familyOf(d.group) ?? 'ipv4'],
    group: d.group,
    port: d.port,
    ttl: d.ttl,
  };
  if (d.maxlen !== undefined) k.maxlen = d.maxlen;
  return k;
}

/** A running sync daemon as read (GET_DAEMON replies carry every field). */
export function fromKernelDaemon(k: IpvsDaemon): SyncDaemon {
  const role = ROLE_OF.get(k.state);
  if (!role) throw new RangeError(`unknown sync daemon state ${k.state}`);
  return {
    role,
    interface: k.mcastIfn,
    id: k.syncId,
    group: k.group ?? '224.0.0.81',
    port: k.port ?? 0,
    ttl: k.ttl ?? 0,
    maxlen: k.maxlen ?? 0,
  };
}

/**
 * True when two real servers read from the kernel hold the same values in
 * every field: identity, attributes, connection counts, tunnel, and neither
 * has traffic counters (counters change all the time: objects with them are
 * never the same). A unit test holds it to every field fromKernelDest makes.
 */
export function sameLiveRealServer(a: LiveRealServer, b: LiveRealServer): boolean {
  if (
    a.address !== b.address ||
    a.port !== b.port ||
    a.weight !== b.weight ||
    a.family !== b.family ||
    a.forward !== b.forward ||
    a.upperThreshold !== b.upperThreshold ||
    a.lowerThreshold !== b.lowerThreshold ||
    a.activeConnections !== b.activeConnections ||
    a.inactiveConnections !== b.inactiveConnections ||
    a.persistentConnections !== b.persistentConnections ||
    a.stats !== undefined ||
    b.stats !== undefined
  )
    return false;
  if (a.tunnel === undefined || b.tunnel === undefined) return a.tunnel === b.tunnel;
  return a.tunnel.type === b.tunnel.type && a.tunnel.port === b.tunnel.port && a.tunnel.checksum === b.tunnel.checksum;
}

/** True when two services read from the kernel hold the same values (their real servers aside), as sameLiveRealServer. */
export function sameLiveService(a: LiveService, b: LiveService): boolean {
  if (
    a.family !== b.family ||
    a.protocol !== b.protocol ||
    a.address !== b.address ||
    a.port !== b.port ||
    a.fwmark !== b.fwmark ||
    a.scheduler !== b.scheduler ||
    a.onePacket !== b.onePacket ||
    a.pe !== b.pe ||
    a.stats !== undefined ||
    b.stats !== undefined ||
    a.flags.length !== b.flags.length ||
    a.flags.some((f, i) => f !== b.flags[i])
  )
    return false;
  if (a.persistence === undefined || b.persistence === undefined) return a.persistence === b.persistence;
  return a.persistence.timeout === b.persistence.timeout && a.persistence.netmask === b.persistence.netmask;
}
