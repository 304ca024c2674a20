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

/** A director.sync block as a config file writes it, and why part of the live state did not fit in it. */
export interface SyncBlock {
  block: Record<string, unknown>;
  /** Set when the running daemons cannot be written as one block: what was left out. */
  leftOut?: string;
}

/**
 * The director.sync block that asks for exactly the running daemons: role
 * both when master and backup share their settings (a backup's maxlen
 * follows its interface's MTU, so it is written only when the master's is
 * not the default), values equal to the kernel's defaults left out. One
 * block holds one set of settings: a backup that differs from the master
 * is left out, and `leftOut` says so. Undefined when none runs.
 */
export function syncBlockOf(daemons: readonly SyncDaemon[]): SyncBlock | undefined {
  const master = daemons.find((d) => d.role === 'master');
  const backup = daemons.find((d) => d.role === 'backup');
  const first = master ?? backup;
  if (!first) return undefined;
  const defaultMaxlen = 1500 - syncHeaderLength(familyOf(first.group) ?? 'ipv4');
  const block: Record<string, unknown> = { interface: first.interface, id: first.id };
  const same = (a: SyncDaemon, b: SyncDaemon) =>
    a.interface === b.interface && a.id === b.id && a.group === b.group && a.port === b.port && a.ttl === b.ttl;
  let leftOut: string | undefined;
  if (
    master &&
    backup &&
    same(master, backup) &&
    (master.maxlen === defaultMaxlen || master.maxlen === backup.maxlen)
  ) {
    block['role'] = 'both';
  } else {
    block['role'] = first.role;
    if (master && backup)
      leftOut = `the backup sync daemon (${backup.interface}, id ${backup.id}, group ${backup.group}:${backup.port}, ttl ${backup.ttl}, maxlen ${backup.maxlen}) has other settings than the master: director.sync holds one set, so only the master is in this config`;
  }
  if (first.group !== SYNC_DEFAULTS.group) block['group'] = first.group;
  if (first.port !== SYNC_DEFAULTS.port) block['port'] = first.port;
  if (first.ttl !== SYNC_DEFAULTS.ttl) block['ttl'] = first.ttl;
  if (first.maxlen !== undefined && first.maxlen !== defaultMaxlen) block['maxlen'] = first.maxlen;
  return leftOut ? { block, leftOut } : { block };
}
