/**
 * Canonical keys and small pure helpers shared by config, plan and ipvs.
 * Keys are built here and nowhere else.
 */
import { hostPort, inPrefix } from './address.js';
import type { Family, IgnoreRule, RealServer, RealServerId, SchedFlag, Service, ServiceId } from './types.js';

/** `tcp/192.0.2.1:80`, `udp/[2001:db8::1]:53`, `fwmark/7/ipv6`. */
export function serviceKey(s: ServiceId): string {
  if (s.fwmark !== undefined) return `fwmark/${s.fwmark}/${s.family}`;
  return `${s.protocol}/${hostPort(s.address, s.port)}`;
}

/** `192.0.2.10:80`, `[2001:db8::10]:80`. */
export function realServerKey(r: RealServerId): string {
  return hostPort(r.address, r.port);
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
  for (const r of rules) {
    if ('fwmark' in r) {
      if (s.fwmark === r.fwmark) return true;
    } else if (s.fwmark === undefined && s.family === r.vip.family && inPrefix(s.address, r.vip.network, r.vip.length)) {
      return true;
    }
  }
  return false;
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
