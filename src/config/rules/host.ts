/**
 * Rules on the host sections: director.bind_vips needs services and is not
 * used with director.vrrp (keepalived binds the VIPs then);
 * realserver.vips are usable addresses, each once, each a service's VIP when
 * the file set has services; sysctl keys are network settings under
 * /proc/sys/net. Pure.
 */
import { canonicalAddress, familyOf } from '../../model/address.js';
import { sysctlPath } from '../host.js';
import { isRecord } from '../values.js';
import type { Config, Report } from './context.js';
import { unusableMessage } from './usable.js';

/** CONFIG_HOST: bind_vips binds the services' VIPs, so the config must have services. */
export function bindVipsNeedServices(config: Config, report: Report): void {
  if (config.hasServices) return;
  for (const src of config.records) {
    const director = src.data['director'];
    if (!isRecord(director) || typeof director['bind_vips'] !== 'string') continue;
    report.add(
      'CONFIG_HOST',
      { src, path: ['director', 'bind_vips'], at: 'key' },
      "director.bind_vips binds the VIPs of the services, but the config has no 'services'",
    );
  }
}

/**
 * CONFIG_HOST: with director.vrrp, keepalived's virtual_ipaddress owns the
 * VIPs (keepalived 2.2.7 cannot leave them to another): lvsd binding them
 * too would hold them on the standby as well, and both directors would
 * answer for them.
 */
export function vrrpOwnsVips(config: Config, report: Report): void {
  for (const src of config.records) {
    const director = src.data['director'];
    if (!isRecord(director) || !isRecord(director['vrrp']) || typeof director['bind_vips'] !== 'string') continue;
    report.add(
      'CONFIG_HOST',
      { src, path: ['director', 'bind_vips'], at: 'key' },
      'director.bind_vips and director.vrrp: keepalived binds the VIPs of a VRRP pair (its virtual_ipaddress), ' +
        'so lvsd must not; remove bind_vips',
    );
  }
}

/** CONFIG_ADDRESS / CONFIG_HOST: each realserver.vips item a usable address, listed once, a VIP of the services. */
export function realserverVips(config: Config, report: Report): void {
  const serviceVips = config.hasServices ? new Set(config.services.flatMap((s) => (s.vip ? [s.vip] : []))) : undefined;
  for (const src of config.records) {
    const rs = src.data['realserver'];
    if (!isRecord(rs) || !Array.isArray(rs['vips'])) continue;
    const seen = new Map<string, number>();
    rs['vips'].forEach((v: unknown, i: number) => {
      const place = { src, path: ['realserver', 'vips', i], at: 'value' as const };
      if (typeof v !== 'string' || !familyOf(v)) {
        report.add(
          'CONFIG_ADDRESS',
          place,
          `realserver.vips: ${JSON.stringify(v)} is not an IP address (write an IPv4 or IPv6 address, e.g. 192.168.1.200)`,
        );
        return;
      }
      const canon = canonicalAddress(v);
      const unusable = unusableMessage(canon);
      if (unusable) report.add('CONFIG_ADDRESS', place, `realserver.vips: ${canon} ${unusable}`);
      if (seen.has(canon))
        report.add(
          'CONFIG_HOST',
          place,
          `realserver.vips: ${v} is listed twice (first as item ${seen.get(canon)! + 1})`,
        );
      seen.set(canon, i);
      if (serviceVips && !serviceVips.has(canon)) {
        const known = [...serviceVips].join(', ') || 'none';
        report.add(
          'CONFIG_HOST',
          place,
          `realserver.vips: ${v} is not the VIP of any service in this config (its VIPs: ${known}); leave 'services' out of a real server's file`,
        );
      }
    });
  }
}

/** CONFIG_HOST: a sysctl key names a network setting and cannot leave /proc/sys/net (no "..", no empty part). */
export function sysctlKeysAreNetwork(config: Config, report: Report): void {
  for (const src of config.records) {
    for (const section of ['director', 'realserver']) {
      const block = src.data[section];
      const sysctl = isRecord(block) ? block['sysctl'] : undefined;
      if (!isRecord(sysctl)) continue;
      for (const key of Object.keys(sysctl)) {
        const p = sysctlPath(key);
        if (p.ok) continue;
        report.add(
          'CONFIG_HOST',
          { src, path: [section, 'sysctl', key], at: 'key' },
          `${section}.sysctl: ${key} ${p.reason}`,
        );
      }
    }
  }
}
