/**
 * The kernel operations a plan is made of, in the model's nouns: what plan/
 * produces and the IPVS and host adapters carry out. They live here, below
 * both, so that the plan depends on no adapter.
 */
import type { LvsdError } from '../errors.js';
import type { HostAddress } from './host.js';
import type { RealServer, RealServerId, Service, ServiceId, SyncDaemon, Timeouts } from './types.js';

/** One IPVS write operation. */
export type IpvsOp =
  | { op: 'add-service'; service: Service }
  | { op: 'edit-service'; service: Service }
  | { op: 'delete-service'; service: ServiceId }
  | { op: 'add-realserver'; service: ServiceId; realserver: RealServer }
  | { op: 'edit-realserver'; service: ServiceId; realserver: RealServer }
  | { op: 'delete-realserver'; service: ServiceId; realserver: RealServerId }
  | { op: 'set-timeouts'; timeouts: Partial<Timeouts> }
  | { op: 'start-sync'; daemon: SyncDaemon }
  /** Stops the daemon of `daemon.role`; the other fields name it in messages. */
  | { op: 'stop-sync'; daemon: SyncDaemon }
  /** Deletes every service. Tests only: lvsd itself never flushes. */
  | { op: 'flush' };

/** One host change. */
export type HostOp =
  | { op: 'add-address'; address: HostAddress }
  | { op: 'delete-address'; address: HostAddress }
  | { op: 'set-sysctl'; key: string; value: string }
  | { op: 'link-up'; name: string };

/** The outcome of one operation, in the order the operations were given. */
export type OpResult = { ok: true } | { ok: false; error: LvsdError };
