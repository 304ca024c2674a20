/**
 * The port through which lvsd reads and changes the host: links, addresses
 * (rtnetlink) and sysctls (/proc/sys). The adapter is netlink-host.ts; tests
 * use an in-memory fake.
 */
import type { HostLink, LiveHost } from '../model/host.js';
import type { HostOp, OpResult } from '../model/ops.js';

export interface HostClient {
  links(): Promise<HostLink[]>;
  /** Host-route addresses (/32, /128) of every link, with whether lvsd added them. */
  addresses(): Promise<LiveHost['addresses']>;
  /** Current values; undefined for a setting this kernel does not have. */
  sysctls(keys: readonly string[]): Promise<Map<string, string | undefined>>;
  /** Carries out the operations in order; a failure does not stop the rest. */
  execute(ops: readonly HostOp[]): Promise<OpResult[]>;
  close(): void;
}
