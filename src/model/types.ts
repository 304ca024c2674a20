/**
 * The IPVS table in the user's nouns (service, realserver). Both the desired
 * state (from the config file) and the live state (from the kernel) are
 * expressed with these types, fully normalized, so that comparing them is a
 * matter of comparing fields. The IPVS layer maps kernel objects to these in
 * one place (src/ipvs/map.ts).
 */
import type { Family } from './address.js';
import type { DesiredHost } from './host.js';

export type { Family };
export type Protocol = 'tcp' | 'udp' | 'sctp';
/** Forwarding method. `local` only appears when reading a table made by another tool. */
export type Forward = 'dr' | 'nat' | 'tunnel' | 'local';
export type SchedFlag = 'sh-fallback' | 'sh-port' | 'mh-fallback' | 'mh-port';
export type TunnelType = 'ipip' | 'gue' | 'gre';
export type TunnelChecksum = 'none' | 'csum' | 'remcsum';

/** Every scheduler the kernel knows (net/netfilter/ipvs/ip_vs_*.c). */
export const SCHEDULERS = [
  'rr',
  'wrr',
  'lc',
  'wlc',
  'lblc',
  'lblcr',
  'dh',
  'sh',
  'sed',
  'nq',
  'fo',
  'ovf',
  'mh',
  'twos',
] as const;
export const SCHED_FLAGS: readonly SchedFlag[] = ['sh-fallback', 'sh-port', 'mh-fallback', 'mh-port'];

/**
 * What identifies a service to the kernel: family + protocol + address + port,
 * or family + fwmark. Changing any of these is a delete and an add.
 */
export type ServiceId =
  | { family: Family; protocol: Protocol; address: string; port: number; fwmark?: undefined }
  | { family: Family; fwmark: number; protocol?: undefined; address?: undefined; port?: undefined };

export interface Persistence {
  /** Seconds. */
  timeout: number;
  /** IPv4: dotted mask ("255.255.255.255"); IPv6: prefix length as text ("128"). */
  netmask: string;
}

/** The attributes of a service the kernel edits in place (SET_SERVICE). */
export interface ServiceAttrs {
  scheduler: string;
  /** Scheduler flags, sorted, named after the scheduler (mh-* for mh, sh-* otherwise). */
  flags: SchedFlag[];
  /** Absent: not persistent. */
  persistence?: Persistence;
  onePacket: boolean;
  /** Persistence engine, e.g. "sip". */
  pe?: string;
}

export type Service = ServiceId & ServiceAttrs;

export interface TunnelSettings {
  type: TunnelType;
  /** 0 unless type is gue. */
  port: number;
  checksum: TunnelChecksum;
}

/** What identifies a real server within its service: address + port. */
export interface RealServerId {
  family: Family;
  address: string;
  port: number;
}

/** The attributes of a real server the kernel edits in place (SET_DEST). */
export interface RealServerAttrs {
  forward: Forward;
  weight: number;
  upperThreshold: number;
  lowerThreshold: number;
  /** Present exactly when forward is tunnel. */
  tunnel?: TunnelSettings;
}

export type RealServer = RealServerId & RealServerAttrs;

/** Connection timeouts in seconds (ipvsadm --set). */
export interface Timeouts {
  tcp: number;
  tcpFin: number;
  udp: number;
}

/** A service with its real servers. */
export type ServiceEntry = Service & { realservers: RealServer[] };

export type CheckType = 'tcp' | 'http' | 'https' | 'udp' | 'exec' | 'smtp' | 'dns';

/** The record types a dns check may ask for (keepalived's DNS_CHECK's). */
export type DnsRecordType = 'A' | 'AAAA' | 'NS' | 'CNAME' | 'SOA' | 'MX' | 'TXT';

/** A health check of one real server, every field resolved (service's, overridden by the real server's). */
export interface CheckSpec {
  type: CheckType;
  /** Seconds. */
  interval: number;
  /** Seconds. */
  timeout: number;
  rise: number;
  fall: number;
  /** The port checked. */
  port: number;
  initial: 'up' | 'down';
  onFailure: 'quiesce' | 'remove';
  http?: { path: string; expect: number[]; host?: string; verify: boolean; digest?: string };
  udp?: { send: string; expect?: string };
  exec?: { command: string[] };
  dns?: { name: string; type: DnsRecordType };
}

/** A real server as the config wants it, with its health check if it has one. */
export type DesiredRealServer = RealServer & { check?: CheckSpec };

/** A desired service: a service entry with the name the config gave it, and its health and drain settings. */
export type DesiredService = Service & {
  name: string;
  realservers: DesiredRealServer[];
  /** Takes traffic only while no real server of the service is up. */
  sorryServer?: RealServer;
  /** Seconds a leaving real server keeps its connections at weight 0 before it is deleted; 0 deletes at once. */
  drain?: number;
};

/** Services lvsd never touches. */
export type IgnoreRule = { vip: { network: string; length: number; family: Family } } | { fwmark: number };

/** A connection sync daemon's role: master sends the connections of this director, backup receives the peer's. */
export type SyncRole = 'master' | 'backup';

/**
 * One kernel connection sync daemon (ip_vs_sync.c). The kernel runs at most
 * one per role, and cannot change a running one: a changed field is a stop
 * and a start.
 */
export interface SyncDaemon {
  role: SyncRole;
  /** The multicast interface. */
  interface: string;
  /** Sync id 0-255; a backup with 0 accepts every id. */
  id: number;
  /** Multicast group, canonical text; its family is the sync protocol's. */
  group: string;
  port: number;
  ttl: number;
  /**
   * Largest sync message payload. Desired: undefined leaves it to the kernel
   * (a backup's default follows the interface's MTU, so it is not compared).
   */
  maxlen?: number;
}

/** The normalized config: what the kernel should look like. */
export interface DesiredState {
  /** Only the keys given are managed. */
  timeouts?: Partial<Timeouts>;
  /** Undefined: the file does not manage the IPVS table at all. */
  services?: DesiredService[];
  ignore: IgnoreRule[];
  /** Undefined: the file has neither a director nor a realserver section. */
  host?: DesiredHost;
  /** defaults.drain (seconds): how services that leave the file drain. */
  defaultDrain?: number;
  /**
   * The sync daemons director.sync asks for (one per role). Undefined: the
   * file has no director.sync; with `services` lvsd then stops running
   * daemons, without services it leaves them alone (plan/sync-diff.ts).
   */
  sync?: SyncDaemon[];
}

/** IPVS counters for a service or real server. */
export interface Stats {
  connections: bigint;
  packetsIn: bigint;
  packetsOut: bigint;
  bytesIn: bigint;
  bytesOut: bigint;
  cps: bigint;
  ppsIn: bigint;
  ppsOut: bigint;
  bpsIn: bigint;
  bpsOut: bigint;
}

export type LiveRealServer = RealServer & {
  activeConnections: number;
  inactiveConnections: number;
  persistentConnections: number;
  stats?: Stats;
};

export type LiveService = Service & { realservers: LiveRealServer[]; stats?: Stats };

/** The kernel's table as read. */
export interface LiveState {
  services: LiveService[];
  timeouts: Timeouts;
  /** The running sync daemons; undefined when they were not read (none then). */
  syncDaemons?: SyncDaemon[];
}
