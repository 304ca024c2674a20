/**
 * The sync daemon part of a plan: starts, stops and restarts of the kernel's
 * connection sync daemons. Pure.
 *
 * Whose daemons: the file's, when it says `director.sync`, and also when it
 * manages the IPVS table (`services`) without `director.sync`: a running
 * daemon is then stopped, as a service that left the file is deleted. A file
 * without services (a real server's, or timeouts only) leaves them alone.
 */
import { syncDaemonKey } from '../model/keys.js';
import type { DesiredState, LiveState, SyncDaemon, SyncRole } from '../model/types.js';
import type { FieldChange, SyncChange } from './change.js';

const ROLES: readonly SyncRole[] = ['master', 'backup'];

/** The fields the kernel cannot change in a running daemon, in the order a plan shows them. */
const FIELDS = ['interface', 'id', 'group', 'port', 'ttl', 'maxlen'] as const;

/** Why a restart is a stop and a start, on both of its changes. */
export const RESTART_NOTE =
  'restart: the kernel cannot change a running sync daemon; sync messages sent between the stop and the start are lost';

/** True when lvsd owns the sync daemons of this host under `desired` (see the module comment). */
export function managesSync(desired: DesiredState): boolean {
  return desired.sync !== undefined || desired.services !== undefined;
}

/** The fields where `want` differs from `have`; an unset desired maxlen is the kernel's to choose. */
function changedFields(want: SyncDaemon, have: SyncDaemon): Record<string, FieldChange> {
  const out: Record<string, FieldChange> = {};
  for (const f of FIELDS) {
    if (want[f] === undefined || want[f] === have[f]) continue;
    out[f] = { old: have[f], new: want[f] };
  }
  return out;
}

/** True when the running daemon `have` is the one `want` describes (an unset desired maxlen matches any). */
export function isSyncDaemon(want: SyncDaemon, have: SyncDaemon): boolean {
  return want.role === have.role && Object.keys(changedFields(want, have)).length === 0;
}

function allFields(d: SyncDaemon, side: 'old' | 'new'): Record<string, FieldChange> {
  const out: Record<string, FieldChange> = {};
  for (const f of FIELDS) if (d[f] !== undefined) out[f] = { [side]: d[f] };
  return out;
}

function start(d: SyncDaemon, fields: Record<string, FieldChange>): SyncChange {
  return {
    action: 'add',
    kind: 'sync',
    phase: 'sync',
    target: syncDaemonKey(d),
    fields,
    op: { op: 'start-sync', daemon: d },
  };
}

function stop(d: SyncDaemon, phase: SyncChange['phase']): SyncChange {
  return {
    action: 'delete',
    kind: 'sync',
    phase,
    target: syncDaemonKey(d),
    fields: allFields(d, 'old'),
    op: { op: 'stop-sync', daemon: d },
  };
}

/**
 * Changes that make the running sync daemons match the file. A daemon the
 * file no longer wants stops in phase `sync-stops`, ahead of the real server
 * changes; starts, and restarts (a stop right before its start, so that the
 * gap is as short as it can be), go in phase `sync` after the table is whole.
 */
export function diffSync(desired: DesiredState, live: LiveState): SyncChange[] {
  if (!managesSync(desired)) return [];
  const changes: SyncChange[] = [];
  for (const role of ROLES) {
    const want = desired.sync?.find((d) => d.role === role);
    const have = live.syncDaemons?.find((d) => d.role === role);
    if (!want && have) {
      const c = stop(have, 'sync-stops');
      c.note = desired.sync ? `director.sync asks for no ${role}` : 'the file has no director.sync';
      changes.push(c);
    } else if (want && !have) {
      changes.push(start(want, allFields(want, 'new')));
    } else if (want && have) {
      const fields = changedFields(want, have);
      if (Object.keys(fields).length === 0) continue;
      const down = stop(have, 'sync');
      const up = start(want, fields);
      down.note = up.note = RESTART_NOTE;
      changes.push(down, up);
    }
  }
  return changes;
}
