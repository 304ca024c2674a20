/**
 * The checks a schema cannot express, over all files of a config at once
 * (duplicates and defaults cross files). Each rule has its own error code and
 * points at the offending key or value. Runs on data the schema may have
 * rejected: values of the wrong type are skipped, never reported twice. Pure.
 */
import { LvsdError, formatWithPos } from '../errors.js';
import type { ErrorCode } from '../errors.js';
import { canonicalAddress, familyOf } from '../model/address.js';
import { isIgnored, realServerKey, serviceKey } from '../model/keys.js';
import { SCHEDULERS } from '../model/types.js';
import type { Family, IgnoreRule, Protocol, ServiceId } from '../model/types.js';
import { formatDuration, parseDuration } from './duration.js';
import type { ParsedFile } from './parse.js';
import { TOP_LEVEL_KEYS, show } from './parse.js';
import { validateHealth } from './health.js';
import { validateHost } from './host.js';
import { sourcePos } from './positions.js';
import type { PathSegment } from './positions.js';
import {
  MAX_PERSISTENCE,
  MAX_TIMEOUT,
  SHORTHAND_HELP,
  hasKey,
  intOf,
  isRecord,
  netmaskHelp,
  parseNetmask,
  parsePrefix,
  parseShorthand,
  readDefaults,
} from './values.js';

/** Sections that may be spread over several files; every other one lives in one file. */
export const MERGED_SECTIONS: readonly string[] = ['services', 'ignore'];

interface Place {
  src: ParsedFile;
  path: PathSegment[];
  at: 'key' | 'value';
}

type Records = ParsedFile & { data: Record<string, unknown> };

/** Every problem of the file set the schema cannot see; empty when there is none. */
export function validateConfig(files: readonly ParsedFile[]): LvsdError[] {
  const errors: LvsdError[] = [];
  const report = (code: ErrorCode, place: Place, message: string) =>
    errors.push(new LvsdError(code, message, { pos: sourcePos(place.src, place.path, place.at) }));
  const here = (p: Place) => formatWithPos('', sourcePos(p.src, p.path, p.at)).slice(0, -2);

  const records = files.filter((f): f is Records => isRecord(f.data));
  const defaults = readDefaults(records);

  // Sections other than services and ignore: one file each.
  const sectionAt = new Map<string, Place>();
  for (const src of records) {
    for (const key of Object.keys(src.data)) {
      if (key === 'version' || MERGED_SECTIONS.includes(key) || !TOP_LEVEL_KEYS.includes(key)) continue;
      const place: Place = { src, path: [key], at: 'key' };
      const first = sectionAt.get(key);
      if (first) {
        report('CONFIG_DUPLICATE_SECTION', place, `'${key}' is already set in ${here(first)}: only ${MERGED_SECTIONS.join(' and ')} may be spread over several files`);
      } else sectionAt.set(key, place);
    }
  }

  // A config that declares nothing is a mistake, never "delete everything".
  if (files.length > 0 && records.length === files.length && records.every((f) => Object.keys(f.data).every((k) => k === 'version'))) {
    report('CONFIG_EMPTY', { src: records[0]!, path: [], at: 'value' },
      'the config declares nothing but its version: list the services lvsd should keep (`services: []` for none), or timeouts');
  }

  const duration = (place: Place, value: unknown, min: number, max: number, label: string) => {
    const seconds = typeof value === 'number' && Number.isInteger(value) ? value : parseDuration(value);
    if (seconds === undefined || (seconds >= min && seconds <= max)) return;
    report('CONFIG_DURATION', place, `${label} must be from ${formatDuration(min)} to ${formatDuration(max)} (${max} seconds) (got ${show(value)})`);
  };

  for (const src of records) {
    const t = src.data['timeouts'];
    if (!isRecord(t)) continue;
    for (const key of ['tcp', 'tcp_fin', 'udp']) {
      if (hasKey(t, key)) duration({ src, path: ['timeouts', key], at: 'value' }, t[key], 1, MAX_TIMEOUT, `timeouts.${key}`);
    }
  }

  // Ignore rules, kept with their places to name them in conflicts.
  const ignoreRules: { rule: IgnoreRule; place: Place }[] = [];
  for (const src of records) {
    const list = src.data['ignore'];
    if (!Array.isArray(list)) continue;
    list.forEach((rule: unknown, i) => {
      if (!isRecord(rule)) return;
      if (typeof rule['vip'] === 'string') {
        const place: Place = { src, path: ['ignore', i, 'vip'], at: 'value' };
        const prefix = parsePrefix(rule['vip']);
        if (prefix) ignoreRules.push({ rule: { vip: prefix }, place });
        else report('CONFIG_ADDRESS', place, `ignore vip ${show(rule['vip'])} is neither an address nor a prefix like 10.96.0.0/12 or 2001:db8::/32`);
      }
      const mark = intOf(rule['fwmark']);
      if (mark !== undefined && mark >= 1) ignoreRules.push({ rule: { fwmark: mark }, place: { src, path: ['ignore', i, 'fwmark'], at: 'value' } });
    });
  }

  const servicesAt = new Map<string, Place>();
  const namesAt = new Map<string, Place>();
  for (const src of records) {
    const list = src.data['services'];
    if (!Array.isArray(list)) continue;
    list.forEach((svc: unknown, i) => {
      if (!isRecord(svc)) return;
      const base: PathSegment[] = ['services', i];
      const at = (path: PathSegment[], where: 'key' | 'value' = 'value'): Place => ({ src, path: [...base, ...path], at: where });
      const has = (k: string) => Object.hasOwn(svc, k);

      // Identity: vip + port (+ protocol), or fwmark + family.
      let family: Family | undefined;
      let id: ServiceId | undefined;
      let idPlace: Place = at([]);
      const protocol: Protocol | undefined = has('protocol')
        ? (['tcp', 'udp', 'sctp'] as const).find((p) => p === svc['protocol'])
        : 'tcp';
      const port = intOf(svc['port']);
      if (has('vip') && has('fwmark')) {
        report('CONFIG_CONFLICT', at(['fwmark'], 'key'), 'a service has vip (with port and protocol) or fwmark (with family), not both');
      } else if (has('fwmark')) {
        idPlace = at(['fwmark']);
        for (const k of ['port', 'protocol']) {
          if (has(k)) report('CONFIG_CONFLICT', at([k], 'key'), `${k} does not go with fwmark: a fwmark service takes whatever packets the firewall marked`);
        }
        if (!has('family')) report('CONFIG_MISSING', at(['fwmark'], 'key'), 'a fwmark service needs family: ipv4 or ipv6');
        family = svc['family'] === 'ipv4' || svc['family'] === 'ipv6' ? svc['family'] : undefined;
        const mark = intOf(svc['fwmark']);
        if (family && mark !== undefined && mark >= 1 && mark <= 0xffffffff) id = { family, fwmark: mark };
      } else if (has('vip')) {
        idPlace = at(['vip']);
        const vip = svc['vip'];
        if (typeof vip === 'string') {
          family = familyOf(vip);
          if (!family) report('CONFIG_ADDRESS', idPlace, `vip ${show(vip)} is not an IPv4 or IPv6 address`);
        }
        if (family && (svc['family'] === 'ipv4' || svc['family'] === 'ipv6') && svc['family'] !== family) {
          report('CONFIG_FAMILY_MISMATCH', at(['family']), `family ${svc['family']} does not fit vip ${String(vip)}, an ${familyName(family)} address (leave family out: the vip implies it)`);
        }
        if (!has('port')) report('CONFIG_MISSING', at(['vip'], 'key'), 'a service with a vip needs a port');
        if (port === 0 && !has('persistence')) {
          report('CONFIG_RANGE', at(['port']), 'port 0 (every port) needs persistence, as in ipvsadm; otherwise use a port from 1 to 65535');
        }
        if (family && typeof vip === 'string' && protocol && port !== undefined && port >= 0 && port <= 65535) {
          id = { family, protocol, address: canonicalAddress(vip), port };
        }
      } else {
        report('CONFIG_MISSING', at([]), 'a service needs vip and port, or fwmark and family');
      }

      // Scheduler flags: sh-* with sh, mh-* with mh.
      const ownScheduler = typeof svc['scheduler'] === 'string';
      const scheduler = ownScheduler ? (svc['scheduler'] as string) : defaults.scheduler;
      const flags = svc['flags'];
      if (Array.isArray(flags) && (SCHEDULERS as readonly string[]).includes(scheduler)) {
        flags.forEach((flag: unknown, j) => {
          const m = typeof flag === 'string' ? /^(sh|mh)-(fallback|port)$/.exec(flag) : null;
          if (m && m[1] !== scheduler) {
            report('CONFIG_SCHEDULER_FLAG', at(['flags', j]),
              `flag ${String(flag)} needs scheduler ${m[1]}, but this service's scheduler is ${scheduler}${ownScheduler ? '' : ' (the default)'}`);
          }
        });
      }

      // Persistence.
      const persistence = svc['persistence'];
      if (isRecord(persistence)) {
        if (hasKey(persistence, 'timeout')) {
          duration(at(['persistence', 'timeout']), persistence['timeout'], 1, MAX_PERSISTENCE, 'the persistence timeout');
        }
        const mask = persistence['netmask'];
        if (family && (typeof mask === 'number' || typeof mask === 'string') && parseNetmask(mask, family) === undefined) {
          report('CONFIG_NETMASK', at(['persistence', 'netmask']), `netmask ${show(mask)} does not fit this ${familyName(family)} service: ${netmaskHelp(family)}`);
        }
      }
      if (has('pe') && !has('persistence')) {
        report('CONFIG_MISSING', at(['pe'], 'key'), `pe ${show(svc['pe'])} works only on a persistent service: add persistence (\`persistence: {}\` keeps each client on its server for 5 minutes)`);
      }
      if (svc['one_packet'] === true && !has('fwmark') && protocol && protocol !== 'udp') {
        report('CONFIG_ONE_PACKET', at(['one_packet'], 'key'), `one_packet is for UDP services (and fwmark services that carry UDP); this service is ${protocol}`);
      }

      // Duplicates across all files: identity, then name.
      let duplicate = false;
      if (id) {
        const key = serviceKey(id);
        const first = servicesAt.get(key);
        if (first) {
          duplicate = true;
          report('CONFIG_DUPLICATE_SERVICE', idPlace, `service ${key} is already defined at ${here(first)}`);
        } else servicesAt.set(key, idPlace);
        for (const { rule, place } of ignoreRules) {
          if (!isIgnored(id, [rule])) continue;
          report('CONFIG_CONFLICT', idPlace, `service ${key} is matched by the ignore rule at ${here(place)}: lvsd would never touch it; remove the service or narrow the rule`);
          break;
        }
      }
      const name = typeof svc['name'] === 'string' ? svc['name'] : id ? serviceKey(id) : undefined;
      if (name !== undefined && !duplicate) {
        const place = has('name') ? at(['name']) : idPlace;
        const first = namesAt.get(name);
        if (first) report('CONFIG_DUPLICATE_NAME', place, `service name '${name}' is already used at ${here(first)}`);
        else namesAt.set(name, place);
      }

      // Real servers.
      const rss = svc['realservers'];
      if (!Array.isArray(rss)) return;
      const isVip = has('vip') && !has('fwmark');
      const realserversAt = new Map<string, () => Place>();
      rss.forEach((rs: unknown, j) => {
        const rsBase: PathSegment[] = ['realservers', j];
        let address: string | undefined;
        let rsFamily: Family | undefined;
        let rsPort: number | undefined;
        // Places are built only when reported (a config may list 100,000 real servers).
        let inFields = false;
        const addressPlace = (): Place => (inFields ? at([...rsBase, 'address']) : at(rsBase));
        const portPlace = (): Place => (inFields ? at([...rsBase, 'port']) : at(rsBase));
        let rec: Record<string, unknown> | undefined;
        if (typeof rs === 'string') {
          const sh = parseShorthand(rs);
          if (!sh.ok) {
            report('CONFIG_ADDRESS', addressPlace(), `bad real server ${show(rs)}: ${sh.reason}; write ${SHORTHAND_HELP}, or a mapping`);
            return;
          }
          ({ address, family: rsFamily, port: rsPort } = sh);
        } else if (isRecord(rs)) {
          rec = rs;
          inFields = true;
          const a = rs['address'];
          if (typeof a === 'string') {
            rsFamily = familyOf(a);
            if (rsFamily) address = canonicalAddress(a);
            else {
              const hint = /^(\[.*\]|[^:]*):\d+$/.test(a) ? ' (write the port as `port: N`)' : '';
              report('CONFIG_ADDRESS', addressPlace(), `real server address ${show(a)} is not an IPv4 or IPv6 address${hint}`);
            }
          }
          rsPort = intOf(rs['port']);
        } else return;

        const ownForward = rec !== undefined && ['dr', 'nat', 'tunnel'].includes(rec['forward'] as string);
        const forward = ownForward ? (rec!['forward'] as string) : defaults.forward;
        const fromDefaults = ownForward ? '' : ' (the default)';

        if (rsFamily && family && rsFamily !== family && forward !== 'tunnel') {
          report('CONFIG_FAMILY_MISMATCH', addressPlace(),
            `real server ${address} is ${familyName(rsFamily)} but the service is ${familyName(family)}: only forward: tunnel can mix address families (forward is ${forward}${fromDefaults})`);
        }
        if (isVip && port !== undefined && rsPort !== undefined && rsPort !== port && (forward === 'dr' || forward === 'tunnel')) {
          report('CONFIG_PORT', portPlace(),
            `real server port ${rsPort} differs from the service port ${port}, but forward ${forward}${fromDefaults} sends packets on with their port unchanged (only nat rewrites ports): leave the port out, or use forward: nat`);
        }
        const effectivePort = rsPort ?? (isVip ? port : 0);
        if (address !== undefined && effectivePort !== undefined) {
          const key = realServerKey({ family: rsFamily!, address, port: effectivePort });
          const first = realserversAt.get(key);
          if (first) report('CONFIG_DUPLICATE_REALSERVER', addressPlace(), `real server ${key} is already listed in this service at ${here(first())}`);
          else realserversAt.set(key, addressPlace);
        }
        if (!rec) return;

        const upper = hasKey(rec, 'upper_threshold') ? intOf(rec['upper_threshold']) : 0;
        const lower = hasKey(rec, 'lower_threshold') ? intOf(rec['lower_threshold']) : 0;
        if (upper !== undefined && lower !== undefined && lower > upper) {
          const unset = hasKey(rec, 'upper_threshold') ? '' : ' (not set)';
          report('CONFIG_THRESHOLDS', at([...rsBase, 'lower_threshold'], 'key'),
            `lower_threshold ${lower} is above upper_threshold ${upper}${unset}: the kernel needs lower_threshold <= upper_threshold`);
        }

        if (!hasKey(rec, 'tunnel')) return;
        const tunnelPlace = at([...rsBase, 'tunnel'], 'key');
        if (forward !== 'tunnel') {
          report('CONFIG_TUNNEL', tunnelPlace, `tunnel settings need forward: tunnel (this real server's forward is ${forward}${fromDefaults})`);
          return;
        }
        const t = rec['tunnel'];
        if (!isRecord(t)) return;
        const type = hasKey(t, 'type') ? t['type'] : 'ipip';
        if (type === 'gue' && !hasKey(t, 'port')) {
          report('CONFIG_TUNNEL', tunnelPlace, 'a gue tunnel needs a port: the UDP port the real server decapsulates on (e.g. 6080)');
        }
        if (type !== 'gue' && hasKey(t, 'port')) {
          report('CONFIG_TUNNEL', at([...rsBase, 'tunnel', 'port'], 'key'), `a tunnel port is for gue only; this tunnel is ${String(type)}`);
        }
        const checksum = t['checksum'];
        if (checksum === 'remcsum' && type !== 'gue') {
          report('CONFIG_TUNNEL', at([...rsBase, 'tunnel', 'checksum']), `checksum remcsum is for gue tunnels only; this tunnel is ${String(type)}`);
        } else if (checksum === 'csum' && type === 'ipip') {
          report('CONFIG_TUNNEL', at([...rsBase, 'tunnel', 'checksum']), 'ipip tunnels have no checksum; csum is for gue and gre');
        }
      });
    });
  }
  errors.push(...validateHost(records, serviceVips(records)), ...validateHealth(records));
  return errors;
}

/** Canonical VIPs of the services of all files; undefined when no file has `services`. */
function serviceVips(records: readonly Records[]): Set<string> | undefined {
  let vips: Set<string> | undefined;
  for (const src of records) {
    const list = src.data['services'];
    if (!Array.isArray(list)) continue;
    vips ??= new Set();
    for (const svc of list) {
      const vip = isRecord(svc) ? svc['vip'] : undefined;
      if (typeof vip === 'string' && familyOf(vip)) vips.add(canonicalAddress(vip));
    }
  }
  return vips;
}

function familyName(f: Family): string {
  return f === 'ipv4' ? 'IPv4' : 'IPv6';
}
