/**
 * Rules on director.sync: the group is a multicast address, maxlen is one
 * the kernel keeps as given, and no service has real servers of another
 * family than its own (the kernel refuses a sync daemon then). Pure.
 */
import { canonicalAddress, familyOf, unusableClass } from '../../model/address.js';
import type { SyncRole } from '../../model/types.js';
import { syncMaxlenRange } from '../sync.js';
import { isRecord } from '../values.js';
import { type Config, familyName, type Report, realServerPlace, type Service, servicePlace } from './context.js';

/** The director.sync mapping of each file that has one. */
function syncBlocks(config: Config): { src: Config['records'][number]; sync: Record<string, unknown> }[] {
  const out = [];
  for (const src of config.records) {
    const director = src.data['director'];
    const sync = isRecord(director) ? director['sync'] : undefined;
    if (isRecord(sync)) out.push({ src, sync });
  }
  return out;
}

/** CONFIG_ADDRESS / CONFIG_RANGE: group is an IPv4 or IPv6 multicast address; maxlen within the kernel's bounds. */
export function syncSettings(config: Config, report: Report): void {
  for (const { src, sync } of syncBlocks(config)) {
    const group = sync['group'];
    let family = familyOf(typeof group === 'string' ? group : '224.0.0.81');
    if (group !== undefined) {
      const place = { src, path: ['director', 'sync', 'group'], at: 'value' as const };
      if (typeof group !== 'string' || !family) {
        report.add('CONFIG_ADDRESS', place, `director.sync.group: ${JSON.stringify(group)} is not an IP address`);
        family = undefined;
      } else if (unusableClass(canonicalAddress(group)) !== 'multicast') {
        report.add(
          'CONFIG_ADDRESS',
          place,
          `director.sync.group: ${group} is not a multicast address (IPv4 224.0.0.0/4, IPv6 ff00::/8; default 224.0.0.81)`,
        );
      }
    }
    const maxlen = sync['maxlen'];
    if (family && typeof maxlen === 'number') {
      const role = (typeof sync['role'] === 'string' ? sync['role'] : 'both') as SyncRole | 'both';
      const { min, max } = syncMaxlenRange(role, family);
      if (maxlen < min || maxlen > max)
        report.add(
          'CONFIG_RANGE',
          { src, path: ['director', 'sync', 'maxlen'], at: 'value' },
          `director.sync.maxlen: ${maxlen} is outside ${min}..${max}, which the kernel keeps for role ${role} with an ${familyName(family)} group (it would change the value, and lvsd restart the daemon on every apply)`,
        );
    }
  }
}

/** True when a service has a real server or a sorry server of another family than its own (sync refuses it). */
export function mixesFamilies(s: Service): boolean {
  if (!s.family) return false;
  if (s.realservers.some((r) => r.family !== undefined && r.family !== s.family)) return true;
  const sorry = s.sorry?.parsed;
  return sorry?.ok === true && sorry.family !== s.family;
}

/**
 * CONFIG_SYNC: while a sync daemon runs, the kernel refuses real servers of
 * another family than their service (and refuses to start one while any
 * exists): the sync protocol carries one family per connection.
 */
export function syncNeedsOneFamilyPerService(config: Config, report: Report): void {
  const [first] = syncBlocks(config);
  if (!first) return;
  const at = report.here({ src: first.src, path: ['director', 'sync'], at: 'key' });
  const why = `but director.sync (${at}) is set: the kernel refuses sync daemons while a service mixes address families`;
  for (const s of config.services) {
    if (!s.family || !mixesFamilies(s)) continue;
    const name = s.key ?? servicePlace(s).path.join('.');
    const rs = s.realservers.find((r) => r.family !== undefined && r.family !== s.family);
    if (rs) {
      const what = `${familyName(rs.family!)} real server ${rs.address} in an ${familyName(s.family)} service`;
      report.add('CONFIG_SYNC', realServerPlace(s, rs), `service ${name} has ${what}, ${why}`);
    }
    // The sorry server becomes a real server of the service while none is up.
    const sorry = s.sorry?.parsed;
    if (sorry?.ok && sorry.family !== s.family) {
      const what = `${familyName(sorry.family)} sorry server ${sorry.address} in an ${familyName(s.family)} service`;
      report.add('CONFIG_SYNC', servicePlace(s, ['sorry_server']), `service ${name} has ${what}, ${why}`);
    }
  }
}
