// The e2e LAN for kernel tests: a bridge, one network namespace per host
// (client, director, real servers), HTTP and UDP servers on the real servers,
// a client to drive. The LAN itself lives in lan-core.mjs (plain JavaScript,
// so the demo, run by plain node, uses the same code); this module adds what
// only the tests need. See docs/e2e.md for the topology.
//
// One LAN per test file (beforeAll/afterAll): building one takes ~4 s under
// User-Mode Linux. Nothing here configures LVS; the tests do, with lvsd (or
// with ip and ipvsadm in reference.test.ts).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import {
  CLI,
  CLIENT2,
  CLIENT2_6,
  Client,
  Lan,
  LvsdDaemon,
  TCP_PORTS,
  UDP_PORTS,
  VIP,
  VIP6,
  countServers,
  createLan,
  exec,
  parseIpvsStats,
  run,
  sleep,
  waitFor,
} from './lan-core.mjs';
import type { Reply } from './lan-core.mjs';

export {
  CLI,
  CLIENT2,
  CLIENT2_6,
  Client,
  Lan,
  LvsdDaemon,
  TCP_PORTS,
  UDP_PORTS,
  VIP,
  VIP6,
  countServers,
  createLan,
  exec,
  parseIpvsStats,
  run,
  sleep,
  waitFor,
};
export type { Reply };

/** `lvsd <args>` in `ns`; throws with lvsd's output unless it exits 0 (or one of `okCodes`). */
export async function lvsdOk(lan: Lan, ns: string, args: string[], okCodes = [0]): Promise<string> {
  const r = await lan.lvsd(ns, args);
  if (!okCodes.includes(r.code)) {
    throw new Error(`lvsd ${args.join(' ')} in ${ns} exited with ${r.code}:\n${r.stderr}${r.stdout}`);
  }
  return r.stdout;
}

/** Writes a config file and returns its path. */
export function writeConfig(dir: string, name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

/**
 * A real server's lvsd file: its VIPs on lo, strict ARP (the default), and
 * the ipip tunnel device when `tunnel`.
 */
export function realserverConfig(vips: string[], opts: { tunnel?: boolean; arp?: 'strict' | 'off' } = {}): string {
  return [
    'version: 1',
    'realserver:',
    `  vips: [${vips.join(', ')}]`,
    ...(opts.arp ? [`  arp: ${opts.arp}`] : []),
    ...(opts.tunnel ? ['  tunnel: true'] : []),
    '',
  ].join('\n');
}

/**
 * Writes `realserverConfig(...)` for each named real server into `dir` and
 * runs `lvsd apply` in its namespace.
 */
export async function applyRealservers(
  lan: Lan,
  dir: string,
  names: string[],
  vips: string[],
  opts: { tunnel?: boolean } = {},
): Promise<void> {
  await Promise.all(
    names.map(async (name) => {
      const file = writeConfig(dir, `${name}.yaml`, realserverConfig(vips, opts));
      await lvsdOk(lan, name, ['apply', '-c', file]);
    }),
  );
}

/** http://VIP:port/ (brackets for IPv6). */
export function url(address: string, port = 80): string {
  return `http://${address.includes(':') ? `[${address}]` : address}:${port}/`;
}

/** Every reply was answered; on failure the message lists the failures with their times. */
export function expectAllOk(replies: Reply[], what = 'requests'): void {
  const failed = replies.filter((r) => !r.ok);
  expect(failed, `${failed.length} of ${replies.length} ${what} failed: ${JSON.stringify(failed)}`).toEqual([]);
}

/** Consecutive replies came from different servers (round robin over two servers). */
export function expectAlternating(replies: Reply[]): void {
  expectAllOk(replies);
  const servers = replies.map((r) => r.server);
  for (let i = 1; i < servers.length; i++) {
    expect(servers[i], `reply ${i} came from the same server as reply ${i - 1}: ${servers.join(' ')}`).not.toBe(
      servers[i - 1],
    );
  }
}

/**
 * Runs a request loop against `target` while `change` runs, keeps it going
 * `settleMs` longer, and returns every reply it saw.
 */
export async function duringChange(
  lan: Lan,
  target: string,
  change: () => Promise<void>,
  settleMs = 500,
): Promise<Reply[]> {
  const loop = await lan.client.loop(target, { intervalMs: 10, timeoutMs: 8000 });
  let replies: Reply[];
  try {
    await sleep(300);
    await change();
    await sleep(settleMs);
  } finally {
    // always collect the loop, also when the change failed
    replies = await loop.stop();
  }
  return replies;
}

type ServiceStats = Awaited<ReturnType<Lan['ipvsStats']>>[number];

/**
 * The IPVS counters of `service` ("198.51.100.200:80", "[2001:db8::200]:80",
 * "1" for fwmark 1) on the director, once `until` holds. The kernel (6.1)
 * updates these totals from a timer every 2 s, so a test that just sent
 * traffic waits for them to show it, e.g. until: (s) => s.conns >= 10.
 */
export async function serviceStats(
  lan: Lan,
  service: string,
  until: (s: ServiceStats) => boolean = () => true,
  ns = 'director',
): Promise<ServiceStats> {
  let table = '';
  return waitFor(
    async () => {
      const stats = await lan.ipvsStats(ns);
      table = stats.map((x) => JSON.stringify(x)).join('\n') || 'nothing';
      const s = stats.find((x) => x.service === service);
      return s && until(s) ? s : undefined;
    },
    { timeoutMs: 8000, intervalMs: 250, what: () => `IPVS stats of ${service} in ${ns} to match; they are:\n${table}` },
  );
}

/** The client ports of `replies` that appear as sources in the director's IPVS connection table. */
export async function connectionsSeen(lan: Lan, replies: Reply[], ns = 'director', virtual?: string): Promise<number> {
  const ports = new Set(replies.map((r) => r.localPort));
  const conns = await lan.ipvsConnections(ns);
  // With `virtual`, only entries of that VIP:PORT: an entry an earlier test left (TIME_WAIT) may
  // share a source port with one of these connections.
  return conns.filter(
    (c) =>
      (virtual === undefined || c.virtual === virtual) &&
      ports.has(Number(c.source.slice(c.source.lastIndexOf(':') + 1))),
  ).length;
}

/** Polls the director's `ipvsadm -Sn` until `pred` holds (for `lvsd run` to apply a saved file). */
export async function waitRules(
  lan: Lan,
  pred: (rules: string) => boolean,
  timeoutMs = 15_000,
  ns = 'director',
): Promise<string> {
  let last = '';
  return waitFor(
    async () => {
      last = await lan.ipvsRules(ns);
      return pred(last) ? last : undefined;
    },
    { timeoutMs, what: () => `the IPVS table in ${ns} to change; it is:\n${last}` },
  );
}

/** The weight of DR real server `rs` of `vip:port` in `ipvsadm -Sn` text, or undefined when it is not there. */
export function drWeight(
  rules: string,
  vip: string,
  rs: string,
  port = 80,
  proto: 'tcp' | 'udp' = 'tcp',
): number | undefined {
  const esc = (t: string) => t.replace(/\./g, '\\.');
  const flag = proto === 'udp' ? '-u' : '-t';
  const m = new RegExp(`-a ${flag} ${esc(vip)}:${port} -r ${esc(rs)}:${port} -g -w (\\d+)`).exec(rules);
  return m ? Number(m[1]) : undefined;
}

/** The rr/wrr real server line of `ipvsadm -Sn` for a DR real server with this weight. */
export function drLine(vip: string, rs: string, weight: number, port = 80): string {
  return `-a -t ${vip}:${port} -r ${rs}:${port} -g -w ${weight}`;
}
