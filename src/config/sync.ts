/**
 * `director.sync` into the desired sync daemons, with the kernel's defaults
 * filled in so that a plan compares like with like. Its rules are in
 * rules/sync.ts. Pure.
 */
import { canonicalAddress, familyOf, type Family } from '../model/address.js';
import type { SyncDaemon, SyncRole } from '../model/types.js';
import { isRecord } from './values.js';

/** The kernel's defaults (ip_vs_sync.c: IP_VS_SYNC_GROUP, IP_VS_SYNC_PORT, start_sync_thread). */
export const SYNC_DEFAULTS = { group: '224.0.0.81', port: 8848, ttl: 1 } as const;

/** IP + UDP header bytes the kernel takes off the MTU for a sync message. */
export function syncHeaderLength(family: Family): number {
  return family === 'ipv4' ? 20 + 8 : 40 + 8;
}

/** The maxlen bounds the kernel keeps a value within (it clamps outside them) for a role. */
export function syncMaxlenRange(role: SyncRole | 'both', family: Family): { min: number; max: number } {
  return { min: role === 'master' ? 1 : 1024, max: 65535 - syncHeaderLength(family) };
}

/**
 * The daemons of the file set's director.sync (one per role), or undefined
 * when no file has one. A master's maxlen, when not given, is the kernel's
 * fixed default (1500 minus the headers); a backup's follows the interface's
 * MTU, so it stays unset and is not compared.
 */
export function normalizeSync(files: readonly { data: unknown }[]): SyncDaemon[] | undefined {
  for (const { data } of files) {
    const director = isRecord(data) ? data['director'] : undefined;
    const sync = isRecord(director) ? director['sync'] : undefined;
    if (!isRecord(sync)) continue;
    const group = typeof sync['group'] === 'string' ? canonicalAddress(sync['group']) : SYNC_DEFAULTS.group;
    const family = familyOf(group) ?? 'ipv4';
    const role = (sync['role'] as SyncRole | 'both' | undefined) ?? 'both';
    const roles: SyncRole[] = role === 'both' ? ['master', 'backup'] : [role];
    return roles.map((r) => {
      const d: SyncDaemon = {
        role: r,
        interface: sync['interface'] as string,
        id: sync['id'] as number,
        group,
        port: (sync['port'] as number | undefined) ?? SYNC_DEFAULTS.port,
        ttl: (sync['ttl'] as number | undefined) ?? SYNC_DEFAULTS.ttl,
      };
      const maxlen = sync['maxlen'] as number | undefined;
      if (maxlen !== undefined) d.maxlen = maxlen;
      else if (r === 'master') d.maxlen = 1500 - syncHeaderLength(family);
      return d;
    });
  }
  return undefined;
}
