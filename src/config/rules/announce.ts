/**
 * Rules of director.announce (ECMP scale-out, docs/scale-out.md): it needs
 * services, its interface is its own (bind_vips may not name it), the
 * sloppy state tracking ECMP needs may not be turned off, `mh` must hash the
 * port, and any other scheduler is a warning: flows move between directors
 * when one comes or goes, unless connection sync (director.sync) copies
 * their state. Pure.
 */
import { isRecord } from '../values.js';
import { SLOPPY_SCTP, SLOPPY_TCP, sysctlPath } from '../host.js';
import type { Config, Report, Service } from './context.js';
import { servicePlace } from './context.js';

/** The file and director section that set director.announce, if any. */
function announcing(config: Config): { src: Config['records'][number]; director: Record<string, unknown> } | undefined {
  for (const src of config.records) {
    const director = src.data['director'];
    if (isRecord(director) && isRecord(director['announce'])) return { src, director };
  }
  return undefined;
}

/** The announce interface as written (the default when left out). */
function announceInterface(director: Record<string, unknown>): string {
  const a = director['announce'] as Record<string, unknown>;
  return typeof a['interface'] === 'string' ? a['interface'] : 'lvs0';
}

/**
 * CONFIG_HOST / CONFIG_CONFLICT: announce needs services; bind_vips may bind
 * the VIPs elsewhere (lo keeps them local while withdrawn) but not on the
 * announce interface, where withdrawing would remove what bind_vips keeps.
 */
export function announceFitsDirector(config: Config, report: Report): void {
  const a = announcing(config);
  if (!a) return;
  if (!config.hasServices)
    report.add(
      'CONFIG_HOST',
      { src: a.src, path: ['director', 'announce'], at: 'key' },
      "director.announce announces the VIPs of the services, but the config has no 'services'",
    );
  const bind = a.director['bind_vips'];
  const iface = announceInterface(a.director);
  if (bind === iface)
    report.add(
      'CONFIG_CONFLICT',
      { src: a.src, path: ['director', 'bind_vips'], at: 'value' },
      `director.bind_vips binds the VIPs on ${iface}, the interface director.announce adds and withdraws them on: bind them elsewhere (lo keeps them local while withdrawn) or leave bind_vips out`,
    );
}

const SLOPPY = new Map([
  [SLOPPY_TCP, 'without it a director resets every TCP flow that another director started'],
  [SLOPPY_SCTP, 'without it a director drops every SCTP association that another director started'],
]);

/** CONFIG_CONFLICT: under announce, no sysctl section turns sloppy_tcp or sloppy_sctp off. */
export function announceKeepsSloppy(config: Config, report: Report): void {
  if (!announcing(config)) return;
  for (const src of config.records) {
    for (const section of ['director', 'realserver']) {
      const block = src.data[section];
      const sysctl = isRecord(block) ? block['sysctl'] : undefined;
      if (!isRecord(sysctl)) continue;
      for (const [key, value] of Object.entries(sysctl)) {
        const p = sysctlPath(key);
        const why = p.ok ? SLOPPY.get(p.path) : undefined;
        if (!why || !(value === false || String(value).trim() === '0')) continue;
        report.add(
          'CONFIG_CONFLICT',
          { src, path: [section, 'sysctl', key], at: 'value' },
          `${section}.sysctl: ${key}=0 under director.announce: ECMP directors need it at 1 (${why}); lvsd sets it, leave the key out`,
        );
      }
    }
  }
}

/** True when the service's flags hold mh-port. */
function hashesPort(s: Service): boolean {
  const flags = s.raw['flags'];
  return Array.isArray(flags) && flags.includes('mh-port');
}

/**
 * CONFIG_SCHEDULER_FLAG (error) and a warning, under announce: `mh` without
 * mh-port hashes the client address only; another scheduler sends a flow
 * that moves to another director (one came or went) to another real server,
 * unless director.sync copies the connection (the sync key: any file's
 * director section).
 */
export function schedulerFitsEcmp(s: Service, report: Report, config: Config): void {
  const a = announcing(config);
  if (!a) return;
  const place = s.ownScheduler ? servicePlace(s, ['scheduler']) : servicePlace(s);
  const which = `${s.scheduler}${s.ownScheduler ? '' : ' (the default)'}`;
  if (s.scheduler === 'mh') {
    if (!hashesPort(s))
      report.add(
        'CONFIG_SCHEDULER_FLAG',
        place,
        'scheduler mh without flag mh-port under director.announce: directors must hash the client port too, or all flows of a client go to one real server; add flags: [mh-port]',
      );
    return;
  }
  if (config.records.some((r) => isRecord(r.data['director']) && r.data['director']['sync'] !== undefined)) return;
  report.warn(
    'CONFIG_ECMP',
    place,
    `scheduler ${which} under director.announce: when a director comes or goes, the router moves flows between directors and the new one picks its own real server, so those connections break; use scheduler mh with flags [mh-port], or set director.sync`,
  );
}
