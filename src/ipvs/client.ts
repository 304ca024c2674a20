/**
 * The port through which everything above the IPVS layer reaches the kernel.
 * It speaks the model's nouns; the netlink adapter (netlink-client.ts) maps
 * them to the kernel's in one place (map.ts). Its operations are the model's
 * (src/model/ops.ts). Tests use an in-memory fake
 * that implements the same interface.
 */
import type { IpvsOp, OpResult } from '../model/ops.js';
import type { LiveService, LiveState, ServiceId, SyncDaemon, Timeouts } from '../model/types.js';

export interface IpvsInfo {
  /** e.g. "1.2.1" */
  version: string;
  connTableSize: number;
}

/** What a whole-table read decodes. */
export interface ReadOptions {
  /**
   * The traffic counters of every service and real server (default true).
   * The kernel always sends them; a diff never looks at them, so the reads
   * that plan skip decoding them. Connection counts are read either way.
   */
  stats?: boolean;
  /**
   * An earlier read of the table (the daemon's picture of it). Whatever reads
   * the same as its earlier self (every field, connection counts included) is
   * handed back as that earlier object, so a read of an unchanged table
   * leaves only short-lived garbage behind: nothing new for the old
   * generation of the heap to grow by. Its objects must never be changed.
   */
  previous?: LiveState;
}

export interface IpvsClient {
  info(): Promise<IpvsInfo>;
  timeouts(): Promise<Timeouts>;
  /** Every service, without real servers. */
  services(): Promise<LiveService[]>;
  /** The real servers of one service. */
  realServers(service: ServiceId): Promise<LiveService['realservers']>;
  /** The running connection sync daemons (at most a master and a backup). */
  syncDaemons(): Promise<SyncDaemon[]>;
  /** Services with their real servers, the timeouts and the sync daemons. */
  readTable(options?: ReadOptions): Promise<LiveState>;
  /**
   * Sends the operations in order, batched, and reports each one's outcome.
   * A failure does not stop the operations after it.
   */
  execute(ops: readonly IpvsOp[]): Promise<OpResult[]>;
  close(): void;
}
