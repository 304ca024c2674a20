/**
 * The `director` and `realserver` sections: their checks beyond the schema,
 * and their normalization into the desired host state. Pure.
 */
import { LvsdError } from '../errors.js';
import { canonicalAddress, familyOf } from '../model/address.js';
import { type DesiredHost, type HostAddress, type Sysctl, TUNNEL_DEVICE } from '../model/host.js';
import type { DesiredService } from '../model/types.js';
import type { ParsedFile } from './parse.js';
import { sourcePos } from './positions.js';
import { isRecord } from './values.js';

const hostPrefix = (address: string): number => (address.includes(':') ? 128 : 32);

/** A sysctl name as written (net.ipv4.ip_forward, or with slashes) to its path under /proc/sys. */
export function sysctlKey(name: string): string {
  return name.includes('/') ? name.replace(/^\/?(proc\/sys\/)?/, '') : name.split('.').join('/');
}

function sysctlValue(v: unknown): string {
  if (typeof v === 'boolean') return v ? '1' : '0';
  return String(v).trim().split(/\s+/).join(' ');
}

/**
 * Checks of the host sections that need more than the schema: VIP syntax and
 * duplicates, bind_vips without services, a real server's VIPs that are no
 * service's VIP in a file that also has services.
 */
export function validateHost(files: readonly ParsedFile[], serviceVips: ReadonlySet<string> | undefined): LvsdError[] {
  const errors: LvsdError[] = [];
  for (const src of files) {
    const data = src.data;
    if (!isRecord(data)) continue;
    const director = data['director'];
    if (isRecord(director) && typeof director['bind_vips'] === 'string' && serviceVips === undefined) {
      errors.push(new LvsdError('CONFIG_HOST', "director.bind_vips binds the VIPs of the services, but the config has no 'services'", { pos: sourcePos(src, ['director', 'bind_vips'], 'key') }));
    }
    const rs = data['realserver'];
    if (!isRecord(rs) || !Array.isArray(rs['vips'])) continue;
    const seen = new Map<string, number>();
    rs['vips'].forEach((v: unknown, i: number) => {
      const pos = sourcePos(src, ['realserver', 'vips', i]);
      if (typeof v !== 'string' || !familyOf(v)) {
        errors.push(new LvsdError('CONFIG_ADDRESS', `realserver.vips: ${JSON.stringify(v)} is not an IP address (write an IPv4 or IPv6 address, e.g. 192.168.1.200)`, { pos }));
        return;
      }
      const canon = canonicalAddress(v);
      if (seen.has(canon)) {
        errors.push(new LvsdError('CONFIG_HOST', `realserver.vips: ${v} is listed twice (first as item ${seen.get(canon)! + 1})`, { pos }));
      }
      seen.set(canon, i);
      if (serviceVips && !serviceVips.has(canon)) {
        const known = [...serviceVips].join(', ') || 'none';
        errors.push(new LvsdError('CONFIG_HOST', `realserver.vips: ${v} is not the VIP of any service in this config (its VIPs: ${known}); leave 'services' out of a real server's file`, { pos }));
      }
    });
  }
  return errors;
}

/** The desired host state of validated files, or undefined when none has a host section. */
export function normalizeHost(files: readonly { data: unknown }[], services: readonly DesiredService[] | undefined): DesiredHost | undefined {
  let host: DesiredHost | undefined;
  const ensure = (): DesiredHost => (host ??= { addresses: [], sysctls: [], arpStrict: false, tunnel: false });
  const addresses = new Map<string, HostAddress>();
  const add = (iface: string, address: string) => {
    const a: HostAddress = { interface: iface, address, prefix: hostPrefix(address), family: address.includes(':') ? 'ipv6' : 'ipv4' };
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
