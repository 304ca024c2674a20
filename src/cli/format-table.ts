/**
 * The live table as `lvsd show` prints it: like `ipvsadm -Ln`, or as JSON
 * with statistics. Pure.
 */
import type { AnnounceStatus, DaemonStatus } from '../daemon/status-file.js';
import { drainState } from '../plan/announce.js';
import { hostPort } from '../model/address.js';
import { defaultNetmask, healthKey, realServerKey, serviceKey, syncDaemonKey } from '../model/keys.js';
import type { LiveService, LiveState, Stats, SyncDaemon } from '../model/types.js';

const FORWARD_NAME = { dr: 'Route', nat: 'Masq', tunnel: 'Tunnel', local: 'Local' } as const;

/** Text like `ipvsadm -Ln`, plus the thresholds and tunnel columns ipvsadm hides behind flags. */
export function formatIpvsadm(live: LiveState, version: string, connTableSize: number): string {
  const lines = [
    `IP Virtual Server version ${version} (size=${connTableSize})`,
    'Prot LocalAddress:Port Scheduler Flags',
    `  -> ${'RemoteAddress:Port'.padEnd(28)} ${'Forward'.padEnd(7)} ${'Weight'.padEnd(6)} ${'ActiveConn'.padEnd(10)} ${'InActConn'.padEnd(9)} Uthreshold Lthreshold TunnelInfo`,
  ];
  for (const s of sortServices(live.services)) {
    lines.push(serviceHeader(s));
    for (const r of [...s.realservers].sort((a, b) => realServerKey(a).localeCompare(realServerKey(b)))) {
      const tunnel = r.tunnel
        ? [
            r.tunnel.type,
            r.tunnel.type === 'gue' ? String(r.tunnel.port) : '',
            r.tunnel.checksum === 'none' ? '' : r.tunnel.checksum,
          ]
            .filter(Boolean)
            .join(':')
        : '';
      lines.push(
        `  -> ${realServerKey(r).padEnd(28)} ${FORWARD_NAME[r.forward].padEnd(7)} ${String(r.weight).padEnd(6)} ${String(r.activeConnections).padEnd(10)} ${String(r.inactiveConnections).padEnd(9)} ${String(r.upperThreshold).padEnd(10)} ${String(r.lowerThreshold).padEnd(10)} ${tunnel}`.trimEnd(),
      );
    }
  }
  return lines.join('\n') + '\n';
}

function serviceHeader(s: LiveService): string {
  const where =
    s.fwmark !== undefined
      ? `FWM  ${s.fwmark}${s.family === 'ipv6' ? ' IPv6' : ''}`
      : `${s.protocol.toUpperCase().padEnd(4)} ${hostPort(s.address, s.port)}`;
  const parts = [where, s.scheduler];
  if (s.flags.length) parts.push(`(${s.flags.join(',')})`);
  if (s.persistence) {
    parts.push(`persistent ${s.persistence.timeout}`);
    if (s.persistence.netmask !== defaultNetmask(s.family)) parts.push(`mask ${s.persistence.netmask}`);
  }
  if (s.pe) parts.push(`pe ${s.pe}`);
  if (s.onePacket) parts.push('ops');
  return parts.join(' ');
}

/** Services in a stable order: by key. */
export function sortServices<T extends LiveService>(services: readonly T[]): T[] {
  return [...services].sort((a, b) => serviceKey(a).localeCompare(serviceKey(b)));
}

/** A JSON-safe copy of the live table: counters as numbers (exact up to 2^53) with keys added. */
export function liveToJson(live: LiveState): unknown {
  return {
    timeouts: live.timeouts,
    syncDaemons: (live.syncDaemons ?? []).map((d) => ({ key: syncDaemonKey(d), ...d })),
    services: sortServices(live.services).map((s) => ({
      key: serviceKey(s),
      ...s,
      stats: statsJson(s.stats),
      realservers: s.realservers.map((r) => ({ key: realServerKey(r), ...r, stats: statsJson(r.stats) })),
    })),
  };
}

function statsJson(s: Stats | undefined): Record<string, number> | undefined {
  if (!s) return undefined;
  return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, Number(v)]));
}

/** The sync daemons as `ipvsadm -L --daemon` prints them, as comment lines. */
export function formatSyncDaemons(daemons: readonly SyncDaemon[]): string {
  return daemons
    .map(
      (d) =>
        `# ${d.role} sync daemon (mcast=${d.interface}, syncid=${d.id}, maxlen=${d.maxlen ?? 0}, group=${d.group}, port=${d.port}, ttl=${d.ttl})\n`,
    )
    .join('');
}

/** The daemon's health and drains as comment lines under a table (yaml and ipvsadm formats). */
export function formatDaemonStatus(s: DaemonStatus): string {
  const lines = [`# lvsd run (pid ${s.pid}), as of ${s.updated}:`];
  const byKey = (h: DaemonStatus['health'][number]): string => healthKey(h.service, h.realserver);
  for (const h of [...s.health].sort((a, b) => byKey(a).localeCompare(byKey(b)))) {
    lines.push(
      `#   ${h.service} -> ${h.realserver}: ${h.up ? 'up' : 'DOWN'} since ${h.since}${!h.up && h.lastError ? ` (${h.lastError})` : ''}`,
    );
  }
  for (const [key, until] of Object.entries(s.draining))
    lines.push(`#   draining: ${key.replace(' ', ' -> ')} (deleted by ${until} at the latest)`);
  if (lines.length === 1) lines.push('#   no health checks, nothing draining');
  for (const v of s.vips ?? [])
    lines.push(`#   vip ${v.vip}: ${v.held ? 'held (this director is active)' : 'not held'} since ${v.since}`);
  if (s.track) {
    const why = s.track.reason ? ` (${s.track.reason})` : '';
    lines.push(`#   vrrp track file ${s.track.path}: ${s.track.value} ${s.track.state}${why}`);
  }
  return lines.join('\n') + '\n';
}

/**
 * director.announce as the daemon left it: each VIP announced or withdrawn,
 * and under drain whether new connections still arrive (read from `live` now).
 */
export function formatAnnounce(a: AnnounceStatus, live: LiveState): string {
  const vips = a.vips.map((v) => `${v.address} ${v.announced ? 'announced' : `withdrawn (${v.reason ?? '?'})`}`);
  const lines = [`#   announce on ${a.interface} (when ${a.when}): ${vips.join(', ') || 'no VIP'}`];
  if (a.drain) {
    const d = drainState(
      a.vips.map((v) => v.address),
      live.services,
    );
    lines.push(
      d.state === 'draining'
        ? `#   draining: ${d.cps} new connection(s)/s still arrive`
        : '#   drained: no new connections arrive',
    );
  }
  return lines.join('\n') + '\n';
}
