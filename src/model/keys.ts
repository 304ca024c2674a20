/**
 * Canonical keys and small pure helpers shared by config, plan and ipvs.
 * Keys are built here and nowhere else.
 */
import { addressToBytes, hostPort } from './address.js';
import type {
  Family,
  IgnoreRule,
  RealServer,
  RealServerId,
  SchedFlag,
  Service,
  ServiceId,
  SyncDaemon,
} from './types.js';

/** `tcp/192.0.2.1:80`, `udp/[2001:db8::1]:53`, `fwmark/7/ipv6`. */
export function serviceKey(s: ServiceId): string {
  if (s.fwmark !== undefined) return `fwmark/${s.fwmark}/${s.family}`;
  return `${s.protocol}/${hostPort(s.address, s.port)}`;
}

/** `192.0.2.10:80`, `[2001:db8::10]:80`. */
export function realServerKey(r: RealServerId): string {
  return hostPort(r.address, r.port);
}

/** `master eth1 id 7`: a sync daemon as plans, errors and metrics name it. */
export function syncDaemonKey(d: Pick<SyncDaemon, 'role' | 'interface' | 'id'>): string {
  return `${d.role} ${d.interface} id ${d.id}`;
}

/** `tcp/192.0.2.1:80 192.0.2.10:80`: one real server of one service, from their keys. */
export function healthKey(service: string, realserver: string): string {
  return `${service} ${realserver}`;
}

/** The netmask the kernel keeps for a service without one: /32 or /128. */
export function defaultNetmask(family: Family): string {
  return family === 'ipv4' ? '255.255.255.255' : '128';
}

/** True when the service is matched by one of the ignore rules. */
export function isIgnored(s: ServiceId, rules: readonly IgnoreRule[]): boolean {
  if (rules.length === 0) return false;
  let compiled = matchers.get(rules);
  // A list may grow after a first use (normalize pushes rule by rule): compile again then.
  if (compiled?.length !== rules.length) {
    compiled = { length: rules.length, match: ignoreMatcher(rules) };
    matchers.set(rules, compiled);
  }
  return compiled.match(s) >= 0;
}

/** Compiled rule lists, by list: a plan asks about every service against the same list. */
const matchers = new WeakMap<readonly IgnoreRule[], { length: number; match: (s: ServiceId) => number }>();

/**
 * The ignore rules compiled for many questions: the index of the first rule
 * that matches a service, or -1. Fwmarks are looked up in a map, prefixes by
 * family and length (one lookup per distinct length), so 2,000 rules against
 * 20,000 services cost 20,000 x (lengths in use) lookups, not 40 million
 * prefix comparisons.
 */
export function ignoreMatcher(rules: readonly IgnoreRule[]): (s: ServiceId) => number {
  const marks = new Map<number, number>();
  const byFamily = { ipv4: new Map<number, Map<string, number>>(), ipv6: new Map<number, Map<string, number>>() };
  rules.forEach((r, i) => {
    if ('fwmark' in r) {
      if (!marks.has(r.fwmark)) marks.set(r.fwmark, i);
      return;
    }
    const lengths = byFamily[r.vip.family];
    let networks = lengths.get(r.vip.length);
    if (!networks) lengths.set(r.vip.length, (networks = new Map()));
    const key = prefixKey(addressToBytes(r.vip.network), r.vip.length);
    if (!networks.has(key)) networks.set(key, i);
  });
  return (s) => {
    if (s.fwmark !== undefined) return marks.get(s.fwmark) ?? -1;
    const lengths = byFamily[s.family];
    if (lengths.size === 0) return -1;
    const bytes = addressToBytes(s.address);
    let first = -1;
    for (const [length, networks] of lengths) {
      const i = networks.get(prefixKey(bytes, length));
      if (i !== undefined && (first < 0 || i < first)) first = i;
    }
    return first;
  };
}

/** The first `length` bits of an address as a map key. */
function prefixKey(bytes: Uint8Array, length: number): string {
  let key = '';
  for (let i = 0; i * 8 < length; i++) {
    const keep = Math.min(8, length - i * 8);
    key += String.fromCharCode(bytes[i]! & ((0xff << (8 - keep)) & 0xff));
  }
  return key;
}

/** Bits of IP_VS_SVC_F_SCHED1/2 behind the flag names. */
export const SCHED_FLAG_BITS: Record<SchedFlag, 1 | 2> = {
  'sh-fallback': 1,
  'mh-fallback': 1,
  'sh-port': 2,
  'mh-port': 2,
};

/**
 * Scheduler flag names for bits 1 (fallback) and 2 (port), named after the
 * scheduler: `mh-*` for mh, `sh-*` for every other. Sorted.
 */
export function schedFlagNames(bits: number, scheduler: string): SchedFlag[] {
  const prefix = scheduler === 'mh' ? 'mh' : 'sh';
  const out: SchedFlag[] = [];
  if (bits & 1) out.push(`${prefix}-fallback`);
  if (bits & 2) out.push(`${prefix}-port`);
  return out;
}

/** The bits (1 fallback, 2 port) behind a list of flag names. */
export function schedFlagBits(flags: readonly SchedFlag[]): number {
  return flags.reduce((acc, f) => acc | SCHED_FLAG_BITS[f], 0);
}

/** The identity part of a service. */
export function serviceIdOf(s: ServiceId): ServiceId {
  return s.fwmark !== undefined
    ? { family: s.family, fwmark: s.fwmark }
    : { family: s.family, protocol: s.protocol, address: s.address, port: s.port };
}

/** A copy with only what the kernel takes: no real servers, name, health, drain or counters. */
export function bareService(s: Service): Service {
  return {
    ...serviceIdOf(s),
    scheduler: s.scheduler,
    flags: [...s.flags],
    onePacket: s.onePacket,
    ...(s.persistence ? { persistence: { ...s.persistence } } : {}),
    ...(s.pe !== undefined ? { pe: s.pe } : {}),
  };
}

/** A copy with only what the kernel takes: no check, connection counts or counters. */
export function bareRealServer(r: RealServer): RealServer {
  return {
    family: r.family,
    address: r.address,
    port: r.port,
    forward: r.forward,
    weight: r.weight,
    upperThreshold: r.upperThreshold,
    lowerThreshold: r.lowerThreshold,
    ...(r.tunnel ? { tunnel: { ...r.tunnel } } : {}),
  };
}
