/**
 * The `director` and `realserver` sections into the desired host state, and
 * sysctl names into paths. Their rules are in rules/host.ts. Pure.
 */
import { canonicalAddress, familyOf, hostPrefixLength } from '../model/address.js';
import {
  type Announce,
  DEFAULT_ANNOUNCE_INTERFACE,
  type DesiredHost,
  type HostAddress,
  type Sysctl,
  TUNNEL_DEVICE,
} from '../model/host.js';
import type { DesiredService } from '../model/types.js';
import { isRecord } from './values.js';

/** A sysctl name part: dotted names split on dots, so their parts hold none. */
const DOTTED_PART = /^[A-Za-z0-9_-]+$/;
/** A path part: may hold dots (interface eth0.100), never be only dots ("." and ".." leave the directory). */
const PATH_PART = /^(?!\.+$)[A-Za-z0-9_.-]+$/;

/**
 * A sysctl name as written to its path under /proc/sys, or why it is none
 * that lvsd sets. Written with dots (net.ipv4.ip_forward, as sysctl(8)) or,
 * when a part holds a dot (an interface like eth0.100), with slashes
 * (net/ipv4/conf/eth0.100/rp_filter). lvsd manages network settings only:
 * the path starts with net/ and has at least three parts, none empty, "."
 * or "..", so it cannot leave /proc/sys/net.
 */
export function sysctlPath(name: string): { ok: true; path: string } | { ok: false; reason: string } {
  const slashed = name.includes('/');
  if (slashed && /^[^/]*\./.test(name.replace(/^proc\/sys\//, ''))) {
    return {
      ok: false,
      reason: 'mixes dots and slashes: write it with dots only, or (when a part holds a dot) with slashes only',
    };
  }
  const parts = (slashed ? name.replace(/^proc\/sys\//, '') : name).split(slashed ? '/' : '.');
  if (!parts.every((p) => (slashed ? PATH_PART : DOTTED_PART).test(p))) {
    return {
      ok: false,
      reason: 'has an empty, "." or ".." part, or a character other than letters, digits, _ - and .',
    };
  }
  if (parts[0] !== 'net' || parts.length < 3) {
    return { ok: false, reason: 'is no network setting: lvsd sets net.* sysctls only (use sysctl.d for the others)' };
  }
  return { ok: true, path: parts.join('/') };
}

/** The path under /proc/sys of a validated sysctl name. */
export function sysctlKey(name: string): string {
  const p = sysctlPath(name);
  if (!p.ok) throw new TypeError(`normalize: unvalidated sysctl ${name}`);
  return p.path;
}

/** IPVS's sloppy TCP and SCTP state tracking, which ECMP needs (director.announce). */
export const SLOPPY_TCP = 'net/ipv4/vs/sloppy_tcp';
export const SLOPPY_SCTP = 'net/ipv4/vs/sloppy_sctp';

function announceOf(a: Record<string, unknown>): Announce {
  return {
    interface: typeof a['interface'] === 'string' ? a['interface'] : DEFAULT_ANNOUNCE_INTERFACE,
    when: a['when'] === 'always' ? 'always' : 'healthy',
    drain: a['drain'] === true,
  };
}

function sysctlValue(v: unknown): string {
  if (typeof v === 'boolean') return v ? '1' : '0';
  return String(v).trim().split(/\s+/).join(' ');
}

/** The desired host state of validated files, or undefined when none has a host section. */
export function normalizeHost(
  files: readonly { data: unknown }[],
  services: readonly DesiredService[] | undefined,
): DesiredHost | undefined {
  let host: DesiredHost | undefined;
  const ensure = (): DesiredHost => (host ??= { addresses: [], sysctls: [], arpStrict: false, tunnel: false });
  const addresses = new Map<string, HostAddress>();
  const add = (iface: string, address: string) => {
    const family = familyOf(address) ?? 'ipv4';
    const a: HostAddress = { interface: iface, address, prefix: hostPrefixLength(family), family };
    addresses.set(`${iface} ${address}`, a);
  };
  const sysctls = new Map<string, string>();
  const setAll = (m: unknown) => {
    if (isRecord(m)) for (const [k, v] of Object.entries(m)) sysctls.set(sysctlKey(k), sysctlValue(v));
  };

  for (const { data } of files) {
    if (!isRecord(data)) continue;
    const director = data['director'];
    if (isRecord(director)) {
      ensure();
      const vips = (services ?? []).filter((s) => s.fwmark === undefined).map((s) => s.address!);
      if (typeof director['bind_vips'] === 'string') for (const vip of vips) add(director['bind_vips'], vip);
      if (typeof director['ip_forward'] === 'boolean') {
        const v = director['ip_forward'] ? '1' : '0';
        sysctls.set('net/ipv4/ip_forward', v);
        if ((services ?? []).some((s) => s.family === 'ipv6')) sysctls.set('net/ipv6/conf/all/forwarding', v);
      }
      setAll(director['sysctl']);
      const announce = director['announce'];
      if (isRecord(announce)) {
        ensure().announce = announceOf(announce);
        // ECMP: a director must take over flows it did not see start (rules/announce.ts refuses 0 for these).
        sysctls.set(SLOPPY_TCP, '1');
        if ((services ?? []).some((s) => s.protocol === 'sctp')) sysctls.set(SLOPPY_SCTP, '1');
      }
      const vrrp = director['vrrp'];
      if (isRecord(vrrp)) {
        const h = ensure();
        h.vrrp = typeof vrrp['track_file'] === 'string' ? { trackFile: vrrp['track_file'] } : {};
      }
    }
    const rs = data['realserver'];
    if (isRecord(rs)) {
      const h = ensure();
      for (const v of rs['vips'] as string[]) add('lo', canonicalAddress(v));
      h.arpStrict = rs['arp'] !== 'off';
      if (rs['tunnel'] === true) {
        h.tunnel = true;
        // The kernel filters with the larger of conf.all and conf.<dev>: both must be 0.
        sysctls.set('net/ipv4/conf/all/rp_filter', '0');
        sysctls.set(`net/ipv4/conf/${TUNNEL_DEVICE}/rp_filter`, '0');
      }
      setAll(rs['sysctl']);
    }
  }
  if (!host) return undefined;
  const out = host as DesiredHost;
  out.addresses = [...addresses.values()];
  out.sysctls = [...sysctls].map(([key, value]): Sysctl => ({ key, value }));
  return out;
}
