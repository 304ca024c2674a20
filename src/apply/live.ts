/**
 * Reading what a plan is made against: the IPVS table when the config
 * manages it, the host when the config has host sections. A real server's
 * file (no services) never needs IPVS, which real servers usually lack.
 */
import type { HostClient } from '../host/client.js';
import type { IpvsClient } from '../ipvs/client.js';
import { type LiveHost, wantedSysctls } from '../model/host.js';
import type { DesiredState, LiveState } from '../model/types.js';
import { managesIpvs } from '../plan/plan.js';

/** The kernel interfaces a command or the daemon holds open. */
export interface Kernel {
  ipvs?: IpvsClient;
  host?: HostClient;
}

/** An IPVS table lvsd does not manage, for plans that have no IPVS part. */
export const UNMANAGED_TABLE: LiveState = { services: [], timeouts: { tcp: 0, tcpFin: 0, udp: 0 } };

export async function readLiveHost(host: HostClient, desired: DesiredState): Promise<LiveHost | undefined> {
  if (!desired.host) return undefined;
  const links = await host.links();
  const addresses = await host.addresses();
  const sysctls = await host.sysctls(wantedSysctls(desired.host, links).map((s) => s.key));
  return { links, addresses, sysctls };
}

/**
 * The live state a plan for `desired` is made against. `previous`: an
 * earlier read whose unchanged objects the new one reuses (ReadOptions).
 */
export async function readLive(
  kernel: Kernel,
  desired: DesiredState,
  previous?: LiveState,
): Promise<{ ipvs: LiveState; host?: LiveHost }> {
  // A plan never looks at the traffic counters: they are left undecoded.
  const ipvs =
    managesIpvs(desired) && kernel.ipvs
      ? await kernel.ipvs.readTable({ stats: false, ...(previous ? { previous } : {}) })
      : UNMANAGED_TABLE;
  const host = kernel.host ? await readLiveHost(kernel.host, desired) : undefined;
  return host ? { ipvs, host } : { ipvs };
}

/** Stands in for IPVS when the config does not manage it: a plan then has no IPVS operation to send. */
export const UNMANAGED_CLIENT: IpvsClient = {
  info: () => Promise.reject(new Error('IPVS is not managed by this config')),
  timeouts: async () => UNMANAGED_TABLE.timeouts,
  services: async () => [],
  realServers: async () => [],
  syncDaemons: async () => [],
  readTable: async () => UNMANAGED_TABLE,
  execute: async (ops) => {
    if (ops.length) throw new Error('IPVS is not managed by this config');
    return [];
  },
  close: () => {},
};

/** Opens IPVS and the host on first use, and keeps them open (the daemon). */
export interface KernelSource {
  ipvs(): Promise<IpvsClient>;
  host(): Promise<HostClient>;
  close(): void;
}

export function lazyKernel(open: { ipvs: () => Promise<IpvsClient>; host: () => Promise<HostClient> }): KernelSource {
  let ipvs: Promise<IpvsClient> | undefined;
  let host: Promise<HostClient> | undefined;
  const once = <T>(p: Promise<T>, reset: () => void): Promise<T> =>
    p.catch((e: unknown) => {
      reset();
      throw e;
    });
  return {
    // A failed open is retried next time (e.g. ip_vs loaded after lvsd started).
    ipvs: () =>
      (ipvs ??= once(open.ipvs(), () => {
        ipvs = undefined;
      })),
    host: () =>
      (host ??= once(open.host(), () => {
        host = undefined;
      })),
    close() {
      // Closing is best effort: a socket that failed to open or to close has nothing left to free.
      ipvs?.then((c) => c.close()).catch(() => undefined);
      host?.then((c) => c.close()).catch(() => undefined);
    },
  };
}

/** What `desired` needs, opened from `source`. */
export async function kernelFor(source: KernelSource, desired: DesiredState): Promise<Kernel> {
  const kernel: Kernel = {};
  if (managesIpvs(desired)) kernel.ipvs = await source.ipvs();
  if (desired.host) kernel.host = await source.host();
  return kernel;
}
