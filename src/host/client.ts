/**
 * The port through which lvsd reads and changes the host: links, addresses
 * (rtnetlink) and sysctls (/proc/sys). The adapter is netlink-host.ts; tests
 * use an in-memory fake.
 */
import type { OpResult } from '../ipvs/client.js';
import type { HostAddress, HostLink, LiveHost } from '../model/host.js';

/** One host change. */
export type HostOp =
  | { op: 'add-address'; address: HostAddress }
  | { op: 'delete-address'; address: HostAddress }
  | { op: 'set-sysctl'; key: string; value: string }
  | { op: 'link-up'; name: string };

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
