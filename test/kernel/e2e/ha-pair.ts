// Two LVS-DR directors behind one VIP, for the HA kernel tests (ha.test.ts,
// ha-control.test.ts): a bridge, a client, directors d1 and d2 (each with
// Debian's keepalived for VRRP and `lvsd run` with the same services file,
// director.sync and director.vrrp.track_file) and three python real servers.
// Everything lives in network namespaces of the test kernel; the namespace
// names are this file's own, so the HA tests never meet the e2e LAN's.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LVSD } from '../helpers.js';
import { Client, LvsdDaemon, exec, run, sleep, spawnIn, waitFor } from './lan-core.mjs';

export const VIP = '198.51.100.200';
export const CLIENT = '198.51.100.10';
export const DIRECTORS = { d1: '198.51.100.1', d2: '198.51.100.2' } as const;
export const REALSERVERS = { hars1: '198.51.100.11', hars2: '198.51.100.12', hars3: '198.51.100.13' } as const;
export type Director = keyof typeof DIRECTORS;
/** VRRP priorities: d1 is the preferred master. Their gap (50) is below the track file's -100 and -253. */
export const PRIORITY: Record<Director, number> = { d1: 150, d2: 100 };
const NS: Record<Director, string> = { d1: 'had1', d2: 'had2' };
const BRIDGE = 'habr0';
const HERE = import.meta.dirname;
const SERVERS = join(HERE, 'servers.py');
const AGENT = join(HERE, 'client-agent.mjs');

type Proc = ReturnType<typeof spawnIn>;

/** The lvsd file both directors run: the same services, sync and the track file. */
export function directorConfig(d: Director, opts: { sync: boolean }): string {
  return [
    'version: 1',
    'director:',
    '  sysctl:',
    // Long-lived connections: each entry synced again after every 2 s with traffic (not every 50th
    // packet), lost sync messages sent again, so that a director that comes back learns them.
    '    net.ipv4.vs.sync_threshold: "3 0"',
    '    net.ipv4.vs.sync_refresh_period: 2',
    '    net.ipv4.vs.sync_retries: 3',
    ...(opts.sync ? ['  sync: { interface: eth0, id: 7 }'] : []),
    `  vrrp: { track_file: ${trackFile(d)} }`,
    'services:',
    `  - vip: ${VIP}`,
    '    port: 80',
    '    scheduler: rr',
    '    check: { type: tcp, interval: 1s, timeout: 1s, rise: 1, fall: 2 }',
    '    realservers:',
    ...Object.values(REALSERVERS).map((a) => `      - ${a}`),
    '',
  ].join('\n');
}

/** keepalived for VRRP only: the VIP and lvsd's track file; no virtual_server, no lvs_sync_daemon. */
export function keepalivedConfig(d: Director): string {
  return `global_defs {
  router_id ${d}
}
track_file lvsd {
  file "${trackFile(d)}"
  weight 1
  # After a reboot /run is empty: until lvsd wrote its first verdict this director cannot serve.
  init_file -253
}
vrrp_instance lvs {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority ${PRIORITY[d]}
  advert_int 1
  virtual_ipaddress {
    ${VIP}/32 dev eth0
  }
  track_file {
    lvsd weight 1
  }
}
`;
}

const dirOf = (d: Director) => `/run/ha-${d}`;
export const trackFile = (d: Director) => `${dirOf(d)}/vrrp-track`;

/** One director: its namespace, lvsd and keepalived. */
interface DirectorProcs {
  lvsd?: LvsdDaemon;
  lvsdProc?: Proc;
  keepalived?: Proc;
  starts: number;
}

export class Pair {
  readonly client: Client;
  private readonly procs: Proc[] = [];
  private readonly directors: Record<Director, DirectorProcs> = { d1: { starts: 0 }, d2: { starts: 0 } };

  constructor(
    readonly opts: { sync: boolean },
    agent: Proc,
  ) {
    this.client = new Client(agent);
    this.procs.push(agent);
  }

  ns(d: Director): string {
    return NS[d];
  }

  lvsd(d: Director): LvsdDaemon {
    const l = this.directors[d].lvsd;
    if (!l) throw new Error(`lvsd is not running on ${d}`);
    return l;
  }

  /** `lvsd ...args` in director `d`'s namespace; its stdout (throws unless it exits 0). */
  lvsdCli(d: Director, args: string[]): Promise<string> {
    return run('ip', ['netns', 'exec', NS[d], LVSD[0]!, ...LVSD.slice(1), ...args]);
  }

  /** Starts lvsd run (and waits for its first reconcile), then keepalived. */
  async startDirector(d: Director): Promise<void> {
    const dir = dirOf(d);
    mkdirSync(dir, { recursive: true });
    const config = join(dir, 'lvsd.yaml');
    writeFileSync(config, directorConfig(d, this.opts));
    const p = this.directors[d];
    p.starts++;
    const lvsdProc = spawnIn(
      NS[d],
      LVSD[0]!,
      [...LVSD.slice(1), 'run', '-c', config, '--log-format', 'json', '--log-level', 'debug'].concat([
        '--status-file',
        join(dir, 'status.json'),
        '--listen',
        '127.0.0.1:9100',
      ]),
      `lvsd run in ${d}`,
    );
    this.procs.push(lvsdProc);
    p.lvsdProc = lvsdProc;
    p.lvsd = new LvsdDaemon(lvsdProc);
    await p.lvsd.waitLog((r) => r['event'] === 'reconcile', 60_000);
    const conf = join(dir, 'keepalived.conf');
    writeFileSync(conf, keepalivedConfig(d));
    const n = p.starts;
    const keepalived = spawnIn(
      NS[d],
      'keepalived',
      ['-n', '-l', '-D', '-P', '-f', conf, '-p', join(dir, `keepalived${n}.pid`), '-r', join(dir, `vrrp${n}.pid`)],
      `keepalived in ${d}`,
    );
    this.procs.push(keepalived);
    p.keepalived = keepalived;
  }

  /**
   * The director dies: its link goes down first (nothing it does afterwards
   * reaches the LAN), then keepalived (its VRRP child too) and lvsd are
   * SIGKILLed. Then the namespace is deleted, as a reboot would lose the
   * kernel's IPVS table and connection entries, and built again, empty.
   */
  async crash(d: Director): Promise<void> {
    await run('ip', ['link', 'set', `ha-${d}`, 'down']);
    const p = this.directors[d];
    const vrrpPid = Number(readFileSync(join(dirOf(d), `vrrp${p.starts}.pid`), 'utf8').trim());
    const pids = [vrrpPid, p.keepalived!.child.pid!, p.lvsdProc!.child.pid!];
    // Stopped first, all of them: keepalived's parent would start a new VRRP child, and the child
    // would shut down cleanly (dropping the VIP) when its parent dies.
    for (const pid of pids) process.kill(pid, 'SIGSTOP');
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    await Promise.all([p.keepalived?.exited, p.lvsdProc?.exited]);
    p.lvsd = undefined;
  }

  /** Stops lvsd run with SIGTERM; its exit code. */
  async stopLvsd(d: Director): Promise<number | null> {
    const code = await this.directors[d].lvsdProc!.stop('SIGTERM');
    this.directors[d].lvsd = undefined;
    return code;
  }

  /** After a crash: the director's namespace as a freshly booted host has it. */
  async rebuild(d: Director): Promise<void> {
    rmSync(trackFile(d), { force: true });
    await exec('ip', ['netns', 'del', NS[d]]);
    await exec('ip', ['link', 'del', `ha-${d}`]);
    await sleep(200);
    await run('sh', ['-c', hostLines(NS[d], `ha-${d}`, DIRECTORS[d]).join('\n')]);
  }

  /** Whether `d` holds the VIP now (ip addr in its namespace). */
  async holds(d: Director): Promise<boolean> {
    const r = await exec('ip', ['-n', NS[d], '-o', 'addr', 'show', 'dev', 'eth0']);
    return r.stdout.includes(` ${VIP}/32 `);
  }

  /**
   * Waits until `d` holds the VIP and, unless the other is dead (`alone:
   * false`), the other does not; returns how long it took (ms).
   */
  async waitActive(d: Director, timeoutMs = 20_000, alone = true): Promise<number> {
    const t0 = Date.now();
    const other: Director = d === 'd1' ? 'd2' : 'd1';
    const done = async () => (await this.holds(d)) && !(alone && (await this.holds(other)));
    await waitFor(async () => ((await done()) ? true : undefined), {
      timeoutMs,
      intervalMs: 100,
      what: () => `${d} to hold ${VIP}${alone ? ' alone' : ''}`,
    });
    return Date.now() - t0;
  }

  async destroy(): Promise<void> {
    await Promise.all(this.procs.map((p) => p.stop('SIGKILL')));
    await removePair();
    for (const d of Object.keys(DIRECTORS)) rmSync(dirOf(d as Director), { recursive: true, force: true });
  }
}

/** A namespace on the bridge with its address, lo up. */
function hostLines(ns: string, rootEnd: string, address: string): string[] {
  return [
    `ip netns add ${ns}`,
    `ip -n ${ns} link set lo up`,
    `ip link add ${rootEnd} type veth peer name eth0 netns ${ns}`,
    `ip link set ${rootEnd} master ${BRIDGE} up`,
    `ip -n ${ns} addr add ${address}/24 dev eth0`,
    `ip -n ${ns} link set eth0 up`,
  ];
}

const ALL_NS = ['hacl', ...Object.values(NS), ...Object.keys(REALSERVERS)];

async function removePair(): Promise<void> {
  const have = (await exec('ip', ['netns', 'list'])).stdout;
  const lines = ALL_NS.filter((n) => have.includes(n)).map((n) => `ip netns del ${n}`);
  lines.push(`ip link del ${BRIDGE} 2>/dev/null || true`);
  await exec('sh', ['-c', lines.join('\n')]);
}

/** Builds the LAN, starts the real servers and the client agent, then lvsd and keepalived on both directors. */
export async function createPair(opts: { sync: boolean }): Promise<Pair> {
  await removePair();
  const lines = ['set -e', `ip link add ${BRIDGE} type bridge`, `ip link set ${BRIDGE} up`];
  lines.push(...hostLines('hacl', 'ha-cl', CLIENT));
  for (const d of Object.keys(DIRECTORS) as Director[]) lines.push(...hostLines(NS[d], `ha-${d}`, DIRECTORS[d]));
  for (const [rs, address] of Object.entries(REALSERVERS)) {
    lines.push(...hostLines(rs, `ha-${rs.slice(2)}`, address));
    // LVS-DR real server: the VIP on lo, never answering ARP for it.
    lines.push(`ip -n ${rs} addr add ${VIP}/32 dev lo`);
    for (const k of ['all', 'eth0'])
      lines.push(
        `ip netns exec ${rs} sh -c 'echo 1 > /proc/sys/net/ipv4/conf/${k}/arp_ignore; echo 2 > /proc/sys/net/ipv4/conf/${k}/arp_announce'`,
      );
  }
  await run('sh', ['-c', lines.join('\n')]);
  const agent = spawnIn('hacl', process.execPath, [AGENT], 'client agent');
  const pair = new Pair(opts, agent);
  try {
    const servers = Object.keys(REALSERVERS).map((rs) => {
      const p = spawnIn(rs, 'python3', [SERVERS, rs, '--tcp', '80'], `servers on ${rs}`);
      (pair as unknown as { procs: Proc[] }).procs.push(p);
      return p;
    });
    await Promise.all([
      ...servers.map((p) => p.waitLine((l) => l === 'READY', 30_000)),
      agent.waitLine((l) => l.includes('"ready"'), 30_000),
    ]);
    await pair.startDirector('d1');
    await pair.startDirector('d2');
    await pair.waitActive('d1');
    return pair;
  } catch (e) {
    await pair.destroy();
    throw e;
  }
}

/** One keep-alive connection the client holds, and what became of it. */
interface Held {
  get: (timeoutMs?: number) => Promise<{ ok: boolean; server?: string; error?: string }>;
  localPort?: number;
  server?: string;
  lost?: string;
  busy: boolean;
}

/**
 * N keep-alive HTTP connections to the VIP, each sending a request every
 * 250 ms (one at a time; a reply may take as long as a failover). A
 * connection is lost when a request on it fails or another real server
 * answers it.
 */
export class Connections {
  private timer: NodeJS.Timeout | undefined;
  private constructor(private readonly conns: Held[]) {}

  static async open(client: Client, n: number): Promise<Connections> {
    const conns: Held[] = [];
    for (let i = 0; i < n; i++) {
      const c = await client.keepAlive(VIP, 80);
      const first = (await c.get(5000)) as { ok: boolean; server?: string; localPort?: number };
      if (!first.ok) throw new Error(`keep-alive connection ${i}: the first request failed`);
      conns.push({ get: c.get, server: first.server!, localPort: first.localPort!, busy: false });
    }
    const held = new Connections(conns);
    held.timer = setInterval(() => held.tick(), 250);
    return held;
  }

  private tick(): void {
    for (const c of this.conns) {
      if (c.busy || c.lost) continue;
      c.busy = true;
      c.get(30_000).then(
        (r) => {
          c.busy = false;
          if (!r.ok) c.lost = r.error ?? 'failed';
          else if (r.server !== c.server) c.lost = `moved from ${c.server} to ${r.server}`;
        },
        (e: Error) => {
          c.busy = false;
          c.lost = e.message;
        },
      );
    }
  }

  get size(): number {
    return this.conns.length;
  }

  /** Why each lost connection was lost. */
  lost(): string[] {
    return this.conns.flatMap((c) => (c.lost ? [`:${c.localPort} ${c.lost}`] : []));
  }

  /** Waits until no request is in flight, so that a failure under way is counted. */
  async settle(timeoutMs = 30_000): Promise<void> {
    await waitFor(() => (this.conns.every((c) => !c.busy) ? true : undefined), {
      timeoutMs,
      what: 'requests in flight',
    });
  }

  /** The real servers the connections are on, e.g. { hars1: 4, ... }. */
  spread(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const c of this.conns) out[c.server!] = (out[c.server!] ?? 0) + 1;
    return out;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** A request loop's reply (client-agent.mjs). */
interface LoopReply {
  ok: boolean;
  at: number;
  ms: number;
}

/** Failed requests and the longest time without a successful reply (ms) of a request loop. */
export function loopFigures(replies: LoopReply[]): { requests: number; failed: number; longestStallMs: number } {
  let longest = 0;
  let lastOk: number | undefined;
  for (const r of replies) {
    if (!r.ok) continue;
    const end = r.at + r.ms;
    if (lastOk !== undefined) longest = Math.max(longest, end - lastOk);
    lastOk = end;
  }
  return { requests: replies.length, failed: replies.filter((r) => !r.ok).length, longestStallMs: longest };
}
