/**
 * Rules on one service: its identity (vip + port + protocol, or fwmark +
 * family), scheduler flags, persistence, pe and one_packet; and across all
 * services, duplicate identities and names. Pure.
 */
import { SCHEDULERS } from '../../model/types.js';
import { show } from '../parse.js';
import { netmaskHelp, parseNetmask } from '../values.js';
import type { Config, Place, Report, Service } from './context.js';
import { familyName, servicePlace } from './context.js';
import { unusableMessage } from './usable.js';

const has = (s: Service, key: string) => Object.hasOwn(s.raw, key);

/** CONFIG_CONFLICT / CONFIG_MISSING: a service has vip or fwmark, exactly one. */
export function vipOrFwmark(s: Service, report: Report): void {
  if (s.form === 'both') {
    report.add(
      'CONFIG_CONFLICT',
      servicePlace(s, ['fwmark'], 'key'),
      'a service has vip (with port and protocol) or fwmark (with family), not both',
    );
  } else if (s.form === 'none') {
    report.add('CONFIG_MISSING', servicePlace(s), 'a service needs vip and port, or fwmark and family');
  }
}

/** CONFIG_CONFLICT / CONFIG_MISSING: a fwmark service takes family, not port or protocol. */
export function fwmarkIdentity(s: Service, report: Report): void {
  if (s.form !== 'fwmark') return;
  for (const k of ['port', 'protocol']) {
    if (!has(s, k)) continue;
    report.add(
      'CONFIG_CONFLICT',
      servicePlace(s, [k], 'key'),
      `${k} does not go with fwmark: a fwmark service takes whatever packets the firewall marked`,
    );
  }
  if (!has(s, 'family'))
    report.add('CONFIG_MISSING', servicePlace(s, ['fwmark'], 'key'), 'a fwmark service needs family: ipv4 or ipv6');
}

/** CONFIG_ADDRESS / CONFIG_FAMILY_MISMATCH: a vip is an address IPVS can serve, of the family given. */
export function vipIsUsable(s: Service, report: Report): void {
  if (s.form !== 'vip') return;
  const vip = s.raw['vip'];
  if (typeof vip !== 'string') return;
  const place = servicePlace(s, ['vip']);
  if (!s.family || !s.vip) {
    report.add('CONFIG_ADDRESS', place, `vip ${show(vip)} is not an IPv4 or IPv6 address`);
    return;
  }
  const unusable = unusableMessage(s.vip);
  if (unusable) report.add('CONFIG_ADDRESS', place, `vip ${s.vip} ${unusable}`);
  const family = s.raw['family'];
  if ((family === 'ipv4' || family === 'ipv6') && family !== s.family) {
    report.add(
      'CONFIG_FAMILY_MISMATCH',
      servicePlace(s, ['family']),
      `family ${family} does not fit vip ${vip}, an ${familyName(s.family)} address (leave family out: the vip implies it)`,
    );
  }
}

/** CONFIG_MISSING / CONFIG_RANGE: a vip service has a port; port 0 only with persistence. */
export function vipPort(s: Service, report: Report): void {
  if (s.form !== 'vip') return;
  if (!has(s, 'port'))
    report.add('CONFIG_MISSING', servicePlace(s, ['vip'], 'key'), 'a service with a vip needs a port');
  if (s.port === 0 && !has(s, 'persistence')) {
    report.add(
      'CONFIG_RANGE',
      servicePlace(s, ['port']),
      'port 0 (every port) needs persistence, as in ipvsadm; otherwise use a port from 1 to 65535',
    );
  }
}

/** CONFIG_SCHEDULER_FLAG: sh-* flags need scheduler sh, mh-* flags scheduler mh. */
export function flagsFitScheduler(s: Service, report: Report): void {
  const flags = s.raw['flags'];
  if (!Array.isArray(flags) || !(SCHEDULERS as readonly string[]).includes(s.scheduler)) return;
  flags.forEach((flag: unknown, j) => {
    const m = typeof flag === 'string' ? /^(sh|mh)-(fallback|port)$/.exec(flag) : null;
    if (!m || m[1] === s.scheduler) return;
    const which = `${s.scheduler}${s.ownScheduler ? '' : ' (the default)'}`;
    report.add(
      'CONFIG_SCHEDULER_FLAG',
      servicePlace(s, ['flags', j]),
      `flag ${String(flag)} needs scheduler ${m[1]}, but this service's scheduler is ${which}`,
    );
  });
}

/** CONFIG_NETMASK: a persistence netmask fits the service's family. */
export function netmaskFitsFamily(s: Service, report: Report): void {
  const p = s.raw['persistence'];
  const mask = p && typeof p === 'object' ? (p as Record<string, unknown>)['netmask'] : undefined;
  if (!s.family || (typeof mask !== 'number' && typeof mask !== 'string')) return;
  if (parseNetmask(mask, s.family) !== undefined) return;
  report.add(
    'CONFIG_NETMASK',
    servicePlace(s, ['persistence', 'netmask']),
    `netmask ${show(mask)} does not fit this ${familyName(s.family)} service: ${netmaskHelp(s.family)}`,
  );
}

/** CONFIG_MISSING: a persistence engine needs persistence. */
export function peNeedsPersistence(s: Service, report: Report): void {
  if (!has(s, 'pe') || has(s, 'persistence')) return;
  report.add(
    'CONFIG_MISSING',
    servicePlace(s, ['pe'], 'key'),
    `pe ${show(s.raw['pe'])} works only on a persistent service: add persistence (\`persistence: {}\` keeps each client on its server for 5 minutes)`,
  );
}

/** CONFIG_ONE_PACKET: one_packet is for UDP (and fwmark) services. */
export function onePacketIsUdp(s: Service, report: Report): void {
  if (s.raw['one_packet'] !== true || has(s, 'fwmark') || !s.protocol || s.protocol === 'udp') return;
  report.add(
    'CONFIG_ONE_PACKET',
    servicePlace(s, ['one_packet'], 'key'),
    `one_packet is for UDP services (and fwmark services that carry UDP); this service is ${s.protocol}`,
  );
}

/**
 * CONFIG_DUPLICATE_SERVICE / CONFIG_DUPLICATE_NAME, across all files: an
 * identity, then a name (given, or the identity's key), used once. A service
 * that repeats an identity is not checked for its name again.
 */
export function servicesUnique(config: Config, report: Report): void {
  const servicesAt = new Map<string, Place>();
  const namesAt = new Map<string, Place>();
  for (const s of config.services) {
    const idPlace = servicePlace(s, s.form === 'fwmark' ? ['fwmark'] : s.form === 'vip' ? ['vip'] : []);
    if (s.key !== undefined) {
      const first = servicesAt.get(s.key);
      if (first) {
        report.add('CONFIG_DUPLICATE_SERVICE', idPlace, `service ${s.key} is already defined at ${report.here(first)}`);
        continue;
      }
      servicesAt.set(s.key, idPlace);
    }
    const name = typeof s.raw['name'] === 'string' ? s.raw['name'] : s.key;
    if (name === undefined) continue;
    const place = has(s, 'name') ? servicePlace(s, ['name']) : idPlace;
    const first = namesAt.get(name);
    if (first)
      report.add('CONFIG_DUPLICATE_NAME', place, `service name '${name}' is already used at ${report.here(first)}`);
    else namesAt.set(name, place);
  }
}
