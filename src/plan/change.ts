/**
 * A change: one kernel operation in the user's nouns, with the phase it is
 * sent in. The phase is decided once, where the change is made (diff.ts,
 * host-diff.ts), and carried on the change: the plan's order and apply's
 * batches read it. Pure.
 */
import type { HostOp, IpvsOp } from '../model/ops.js';

/**
 * The phases of a plan, in the order they are sent; apply sends each phase as
 * one batch, after the phase before it.
 * - `host`: settings, the tunnel device and new addresses (ready before traffic comes);
 * - `sync-stops`: sync daemons the file no longer wants (before real server adds:
 *   while one runs, the kernel refuses a real server of another family than its service);
 * - `services`: timeouts, service adds and edits;
 * - `realservers`: real server adds, edits and deletes (they need their service);
 * - `service-deletes`: after their traffic has somewhere else to go;
 * - `sync`: sync daemon starts and restarts (a stop right before its start), once the
 *   table is whole: the kernel refuses a daemon while a service has real servers of
 *   another family, which the phases before may have removed;
 * - `address-deletes`: addresses whose services are gone.
 */
export const PHASES = [
  'host',
  'sync-stops',
  'services',
  'realservers',
  'service-deletes',
  'sync',
  'address-deletes',
] as const;
export type Phase = (typeof PHASES)[number];

const PHASE_INDEX = new Map<Phase, number>(PHASES.map((p, i) => [p, i]));

/** The position of a phase in PHASES. */
export function phaseIndex(p: Phase): number {
  return PHASE_INDEX.get(p)!;
}

/** One field of a change: the live value and/or the desired value. */
export interface FieldChange {
  old?: unknown;
  new?: unknown;
}

interface ChangeBase {
  action: 'add' | 'edit' | 'delete';
  /** Edits: the fields that differ. Adds: the new values. Deletes: the old values. */
  fields: Record<string, FieldChange>;
  /** Why this change cannot work on this host; apply reports it instead of sending it. */
  problem?: string;
  /** Why the change is made, when the file alone does not say (e.g. a drain). */
  note?: string;
}

/** A service added, edited or deleted; deletes go after the real server changes. */
export interface ServiceChange extends ChangeBase {
  kind: 'service';
  phase: 'services' | 'service-deletes';
  /** serviceKey of the service. */
  service: string;
  realserver?: undefined;
  target?: undefined;
  /** The kernel operation that carries out this change. */
  op: IpvsOp;
}

/** A real server added, edited or deleted. */
export interface RealServerChange extends ChangeBase {
  kind: 'realserver';
  phase: 'realservers';
  /** serviceKey of its service. */
  service: string;
  /** realServerKey of the real server. */
  realserver: string;
  target?: undefined;
  /** The kernel operation that carries out this change. */
  op: IpvsOp;
}

/** The connection timeouts set. */
export interface TimeoutsChange extends ChangeBase {
  kind: 'timeouts';
  action: 'edit';
  phase: 'services';
  service?: undefined;
  realserver?: undefined;
  target?: undefined;
  /** The kernel operation that carries out this change. */
  op: IpvsOp;
}

/** An address bound or removed, a sysctl set, a link brought up. */
export interface HostChange extends ChangeBase {
  kind: 'address' | 'sysctl' | 'link';
  phase: 'host' | 'address-deletes';
  /** What it concerns: `eth0 192.0.2.1/32`, `net.ipv4.ip_forward`, `tunl0`. */
  target: string;
  service?: undefined;
  realserver?: undefined;
  /** The kernel operation that carries out this change. */
  op: HostOp;
}

/** A connection sync daemon started or stopped; a restart is a stop and a start. */
export interface SyncChange extends ChangeBase {
  kind: 'sync';
  action: 'add' | 'delete';
  phase: 'sync-stops' | 'sync';
  /** syncDaemonKey of the daemon: `master eth1 id 7`. */
  target: string;
  service?: undefined;
  realserver?: undefined;
  /** The kernel operation that carries out this change. */
  op: IpvsOp;
}

/** A change the IPVS client carries out. */
export type IpvsChange = ServiceChange | RealServerChange | TimeoutsChange | SyncChange;

/** Exactly one kernel operation, described in the user's nouns. */
export type Change = IpvsChange | HostChange;

/** The changes, in the order they are to be sent. */
export type Plan = Change[];

/** True for a change the host client carries out. */
export function isHostChange(c: Change): c is HostChange {
  return c.kind === 'address' || c.kind === 'sysctl' || c.kind === 'link';
}

/** The changes by phase, in PHASES order; within a phase, in the order given. */
export function inPhaseOrder(changes: readonly Change[]): Plan {
  const byPhase: Change[][] = PHASES.map(() => []);
  for (const c of changes) byPhase[phaseIndex(c.phase)]!.push(c);
  // concat, not push(...): a spread of 100,000 changes overflows the call stack.
  return ([] as Change[]).concat(...byPhase);
}
