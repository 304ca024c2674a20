/**
 * The port through which everything above the IPVS layer reaches the kernel.
 * It speaks the model's nouns; the netlink adapter (netlink-client.ts) maps
 * them to the kernel's in one place (map.ts). Tests use an in-memory fake
 * that implements the same interface.
 */
import type { LvsdError } from '../errors.js';
import type { LiveService, LiveState, RealServer, RealServerId, Service, ServiceId, Timeouts } from '../model/types.js';

/** One kernel write operation. */
export type IpvsOp =
  | { op: 'add-service'; service: Service }
  | { op: 'edit-service'; service: Service }
  | { op: 'delete-service'; service: ServiceId }
  | { op: 'add-realserver'; service: ServiceId; realserver: RealServer }
  | { op: 'edit-realserver'; service: ServiceId; realserver: RealServer }
  | { op: 'delete-realserver'; service: ServiceId; realserver: RealServerId }
  | { op: 'set-timeouts'; timeouts: Partial<Timeouts> }
  /** Deletes every service. Tests only: lvsd itself never flushes. */
  | { op: 'flush' };

/** The outcome of one operation, in the order the operations were given. */
export type OpResult = { ok: true } | { ok: false; error: LvsdError };

export interface IpvsInfo {
  /** e.g. "1.2.1" */
  version: string;
  connTableSize: number;
}

export interface IpvsClient {
  info(): Promise<IpvsInfo>;
  timeouts(): Promise<Timeouts>;
  /** Every service, without real servers. */
  services(): Promise<LiveService[]>;
  /** The real servers of one service. */
  realServers(service: ServiceId): Promise<LiveService['realservers']>;
  /** Services with their real servers, and the timeouts. */
  readTable(): Promise<LiveState>;
  /**
   * Sends the operations in order, batched, and reports each one's outcome.
   * A failure does not stop the operations after it.
   */
  execute(ops: readonly IpvsOp[]): Promise<OpResult[]>;
  close(): void;
}
