/**
 * What a CLI command is, and the helpers commands share: loading the config
 * with its errors printed, and opening the kernel.
 */
import type { ParseArgsConfig } from 'node:util';
import { DEFAULT_CONFIG_PATH, loadConfig } from '../config/load.js';
import { formatWithPos } from '../errors.js';
import { type Kernel, readLive } from '../apply/live.js';
import type { IpvsClient } from '../ipvs/client.js';
import type { DesiredState } from '../model/types.js';
import type { Plan } from '../plan/change.js';
import type { OrderDrift } from '../plan/order.js';
import { managesIpvs, planFor } from '../plan/plan.js';

export type OptionValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface Command {
  options: NonNullable<ParseArgsConfig['options']>;
  /** True when the command takes arguments besides its options (e.g. `lvsd peers URL...`). */
  positionals?: boolean;
  /** Returns the exit code. Throws LvsdError for a one-line failure. */
  run(values: OptionValues, positionals?: string[]): Promise<number>;
}

export const CONFIG_OPTION = { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } } as const;

export function stringOpt(values: OptionValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

/**
 * Loads and validates the config (-c, else DEFAULT_CONFIG_PATH). On errors
 * prints every one of them (`FILE:LINE:COLUMN: message`) to stderr and
 * returns undefined.
 */
export async function loadOrReport(
  values: OptionValues,
): Promise<{ state: DesiredState; files: string[] } | undefined> {
  const result = await loadConfig(stringOpt(values, 'config') ?? DEFAULT_CONFIG_PATH);
  if (!result.ok) {
    for (const e of result.errors) process.stderr.write(`${e.toString()}\n`);
    process.stderr.write(
      `lvsd: ${result.errors.length} error${result.errors.length === 1 ? '' : 's'}; nothing was changed\n`,
    );
    return undefined;
  }
  for (const w of result.warnings) process.stderr.write(`${formatWithPos(`warning: ${w.message}`, w.pos)}\n`);
  return { state: result.state, files: result.files };
}

/** Opens the kernel's IPVS, runs `fn`, and closes it again. */
export async function withIpvs<T>(fn: (client: IpvsClient) => Promise<T>): Promise<T> {
  const { openIpvs } = await import('../ipvs/netlink-client.js');
  const client = await openIpvs();
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

/**
 * Opens what the config needs (IPVS when it manages services or timeouts, the
 * host when it has a director or realserver section), runs `fn`, closes them.
 */
export async function withKernel<T>(desired: DesiredState, fn: (kernel: Kernel) => Promise<T>): Promise<T> {
  const kernel: Kernel = {};
  try {
    if (managesIpvs(desired)) {
      const { openIpvs } = await import('../ipvs/netlink-client.js');
      kernel.ipvs = await openIpvs();
    }
    if (desired.host) {
      const { openHost } = await import('../host/netlink-host.js');
      kernel.host = openHost();
    }
    return await fn(kernel);
  } finally {
    kernel.ipvs?.close();
    kernel.host?.close();
  }
}

/** The plan that makes the kernel (what `desired` manages of it, read now) match `desired`. */
export async function planLive(kernel: Kernel, desired: DesiredState): Promise<Plan> {
  return (await planLiveWithDrift(kernel, desired, false)).plan;
}

/** planLive, re-adding out-of-order real servers when `reorder`, with the order drift it found. */
export async function planLiveWithDrift(
  kernel: Kernel,
  desired: DesiredState,
  reorder: boolean,
): Promise<{ plan: Plan; orderDrift: OrderDrift[] }> {
  const live = await readLive(kernel, desired);
  const out = planFor({
    desired,
    live: live.ipvs,
    ...(live.host ? { host: live.host } : {}),
    now: Date.now(),
    reorder,
    drift: true,
  });
  return { plan: out.plan, orderDrift: out.orderDrift ?? [] };
}
