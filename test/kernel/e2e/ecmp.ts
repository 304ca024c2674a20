// The ECMP scale-out network of the kernel tests (issue 16): a client, a
// router running BIRD with `merge paths on` and fib_multipath_hash_policy=1,
// directors each running BIRD (deploy/bird/bird.conf) and `lvsd run` with
// director.announce from the same file, and three real servers (LVS-DR).
//
//   client 203.0.113.10 --brA-- 203.0.113.1 router 192.0.2.254 --brB-- directors 192.0.2.1..3
//                                                                    \- real servers 192.0.2.11..13
//
// VIP1 has an `mh`+`mh-port` service (:80) and an `rr` service (:81, the
// control) on the three real servers; VIP2 one `mh` service on .13 with a
// TCP health check. Documentation addresses only; the UML kernel has no
// network device.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { LVSD } from '../helpers.js';
import { LvsdDaemon, exec, run, sleep, spawnIn, waitFor } from './lan-core.mjs';

export const VIP1 = '198.51.100.200';
export const VIP2 = '198.51.100.201';
export const RS: Record<string, string> = { s1: '192.0.2.11', s2: '192.0.2.12', s3: '192.0.2.13' };
const ROUTER = '192.0.2.254';
const CLIENT = '203.0.113.10';
const BIRD_CONF = join(import.meta.dirname, '..', '..', '..', 'deploy', 'bird', 'bird.conf');
const SERVERS = join(import.meta.dirname, 'servers.py');
const CLIENT_PY = join(import.meta.dirname, 'ecmp-client.py');

/** The address of director `dN`. */
export const directorAddress = (name: string): string => `192.0.2.${name.slice(1)}`;

type Proc = ReturnType<typeof spawnIn>;

/** The directors' lvsd file (all directors the same; drain on one). */
export function directorConfig(opts: { drain?: boolean } = {}): string {
  return `version: 1
director:
  announce: { interface: lvs0, when: healthy, drain: ${opts.drain === true} }
services:
  - name: mh
    vip: ${VIP1}
    port: 80
    scheduler: mh
    flags: [mh-port]
    realservers: [${RS['s1']}, ${RS['s2']}, ${RS['s3']}]
  - name: rr
    vip: ${VIP1}
    port: 81
    scheduler: rr
    realservers: [${RS['s1']}, ${RS['s2']}, ${RS['s3']}]
  - name: two
    vip: ${VIP2}
    port: 80
    scheduler: mh
    flags: [mh-port]
    check: { type: tcp, interval: 1s, timeout: 1s, rise: 1, fall: 1 }
    realservers: [${RS['s3']}]
`;
}

/** One client run's figures (ecmp-client.py). */
export interface HeldPort {
  n: number;
  broken: number;
  why: string[];
  same_rs: number;
  moved_rs: number;
  max_stall_s: number;
}
export interface ClientResult {
  ports: Record<string, HeldPort>;
  loop: { requests: number; failed: number; longest_stall_s: number; servers: Record<string, number> };
}

export class Ecmp {
  readonly procs: Proc[] = [];
  readonly daemons = new Map<string, LvsdDaemon>();
  readonly dir = mkdtempSync('/run/lvsd-ecmp-');
  private readonly namespaces: string[] = [];

  /** `ip ...args` on the host side of the test kernel. */
  private ip(...args: string[]): Promise<string> {
    return run('ip', args);
  }

  /** Runs a command in a namespace; throws unless it exits 0. */
  in(ns: string, cmd: string, ...args: string[]): Promise<string> {
    return run('ip', ['netns', 'exec', ns, cmd, ...args]);
  }

  private async ns(name: string): Promise<void> {
    await this.ip('netns', 'add', name);
    this.namespaces.push(name);
    await this.ip('-n', name, 'link', 'set', 'lo', 'up');
  }

  private async port(ns: string, bridge: string, address: string): Promise<void> {
    await this.ip('link', 'add', `${ns}-e0`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
    await this.ip('link', 'set', `${ns}-e0`, 'master', bridge, 'up');
    await this.ip('-n', ns, 'addr', 'add', address, 'dev', 'eth0');
    await this.ip('-n', ns, 'link', 'set', 'eth0', 'up');
  }

  /** The client, the router (BIRD), the real servers; no director yet. */
  static async create(): Promise<Ecmp> {
    const e = new Ecmp();
    for (const br of ['ecbrA', 'ecbrB']) {
      await e.ip('link', 'add', br, 'type', 'bridge');
      await e.ip('link', 'set', br, 'up');
    }
    await e.ns('c');
    await e.port('c', 'ecbrA', `${CLIENT}/24`);
    await e.ip('-n', 'c', 'route', 'add', 'default', 'via', '203.0.113.1');
    await e.ns('r');
    await e.port('r', 'ecbrA', '203.0.113.1/24');
    await e.ip('link', 'add', 'r-e1', 'type', 'veth', 'peer', 'name', 'eth1', 'netns', 'r');
    await e.ip('link', 'set', 'r-e1', 'master', 'ecbrB', 'up');
    await e.ip('-n', 'r', 'addr', 'add', `${ROUTER}/24`, 'dev', 'eth1');
    await e.ip('-n', 'r', 'link', 'set', 'eth1', 'up');
    await e.in('r', 'sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv4.fib_multipath_hash_policy=1');
    await Promise.all(Object.keys(RS).map((s) => e.realServer(s)));
    e.startRouterBird();
    return e;
  }

  /** The network with directors d1 and d2 announcing both VIPs; `seconds`: until the router had both paths. */
  static async twoDirectors(): Promise<{ net: Ecmp; seconds: number }> {
    const net = await Ecmp.create();
    await net.addDirector('d1');
    await net.addDirector('d2');
    const t0 = Date.now();
    await net.waitNexthops(VIP1, ['d1', 'd2'], 60_000);
    await net.waitNexthops(VIP2, ['d1', 'd2'], 30_000);
    return { net, seconds: (Date.now() - t0) / 1000 };
  }

  private async realServer(name: string): Promise<void> {
    await this.ns(name);
    await this.port(name, 'ecbrB', `${RS[name]}/24`);
    await this.ip('-n', name, 'route', 'add', 'default', 'via', ROUTER);
    for (const vip of [VIP1, VIP2]) await this.ip('-n', name, 'addr', 'add', `${vip}/32`, 'dev', 'lo');
    for (const k of ['all', 'eth0'])
      await this.in(name, 'sysctl', '-qw', `net.ipv4.conf.${k}.arp_ignore=1`, `net.ipv4.conf.${k}.arp_announce=2`);
    const p = spawnIn(name, 'python3', [SERVERS, name, '--tcp', '80,81'], `servers on ${name}`);
    this.procs.push(p);
    await p.waitLine((l: string) => l === 'READY', 30_000);
  }

  private bird(ns: string, conf: string): void {
    const file = join(this.dir, `${ns}.conf`);
    writeFileSync(file, conf);
    const args = ['-f', '-c', file, '-s', join(this.dir, `${ns}.ctl`), '-P', join(this.dir, `${ns}.pid`)];
    this.procs.push(spawnIn(ns, 'bird', args, `bird in ${ns}`));
  }

  private startRouterBird(): void {
    const peers = ['d1', 'd2', 'd3']
      .map((d) => `protocol bgp ${d} from dir { neighbor ${directorAddress(d)} as 65001; }`)
      .join('\n');
    this.bird(
      'r',
      `router id ${ROUTER};
protocol device { scan time 1; }
protocol kernel { ipv4 { import none; export all; }; merge paths on; }
template bgp dir { local ${ROUTER} as 65000; hold time 3; keepalive time 1; connect retry time 1;
  ipv4 { import all; export none; }; }
${peers}
`,
    );
  }

  /** The director's lvsd file. */
  configFile(name: string): string {
    return join(this.dir, `${name}.yaml`);
  }

  /** Saves a director's file as editors do (write a temp file, rename): lvsd run picks it up. */
  saveConfig(name: string, text: string): void {
    const file = this.configFile(name);
    writeFileSync(`${file}.tmp`, text);
    renameSync(`${file}.tmp`, file);
  }

  /** A director: its namespace, `lvsd run` with announce, BIRD from deploy/bird/bird.conf. */
  async addDirector(name: string): Promise<LvsdDaemon> {
    await this.ns(name);
    await this.port(name, 'ecbrB', `${directorAddress(name)}/24`);
    writeFileSync(this.configFile(name), directorConfig());
    const proc = spawnIn(
      name,
      LVSD[0]!,
      [
        ...LVSD.slice(1),
        'run',
        '-c',
        this.configFile(name),
        '--log-format',
        'json',
        '--status-file',
        this.statusFile(name),
        '--resync-interval',
        '0',
      ],
      `lvsd run in ${name}`,
    );
    this.procs.push(proc);
    const daemon = new LvsdDaemon(proc);
    this.daemons.set(name, daemon);
    await daemon.waitLog((r) => r.event === 'reconcile', 30_000);
    const conf = readFileSync(BIRD_CONF, 'utf8').replace(
      'define LOCAL_ADDRESS = 192.0.2.1;',
      `define LOCAL_ADDRESS = ${directorAddress(name)};`,
    );
    this.bird(name, conf);
    return daemon;
  }

  /** The daemon's status file of a director (`lvsd show --status-file`). */
  statusFile(name: string): string {
    return join(this.dir, `${name}.status.json`);
  }

  /** `lvsd ...args` in a director's namespace; never rejects for the exit status. */
  lvsd(name: string, args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
    return exec('ip', ['netns', 'exec', name, ...LVSD, ...args]);
  }

  /** The next hops of the router's route to `vip` (empty when it has none). */
  async nexthops(vip: string): Promise<string[]> {
    const text = await this.in('r', 'ip', 'route', 'show', `${vip}/32`);
    return [...text.matchAll(/via (\S+)/g)].map((m) => m[1]!).sort();
  }

  /** Waits until the router's route to `vip` goes via exactly `directors`; returns the seconds it took. */
  async waitNexthops(vip: string, directors: string[], timeoutMs = 30_000): Promise<number> {
    const want = directors.map(directorAddress).sort().join(' ');
    const t0 = Date.now();
    let last: string[] = [];
    await waitFor(
      async () => {
        last = await this.nexthops(vip);
        return last.join(' ') === want;
      },
      { timeoutMs, intervalMs: 100, what: () => `the route to ${vip} via [${want}]; it is via [${last.join(' ')}]` },
    );
    return (Date.now() - t0) / 1000;
  }

  /** Connection entries of `vip:port` in a director's IPVS table. */
  async ipvsEntries(name: string, vip: string, port: number): Promise<number> {
    const text = await this.in(name, 'ipvsadm', '-Lnc');
    return text.split('\n').filter((l) => l.includes(`${vip}:${port} `)).length;
  }

  /**
   * Runs the client (N connections per port held, a request loop beside):
   * calls `during` once every connection has had its first answer, then lets
   * it run `settle` seconds more, and returns its figures. The measurement
   * spans the whole of `during`, however long it takes.
   */
  async client(settle: number, during: () => Promise<void>, conns = 24): Promise<ClientResult> {
    const p = spawnIn('c', 'python3', [CLIENT_PY, VIP1, '--conns', String(conns)]);
    this.procs.push(p);
    await p.waitLine((l: string) => l === 'READY', 60_000);
    try {
      await during();
    } finally {
      p.child.stdin.write(`STOP ${settle}\n`);
    }
    const line = await p.waitLine((l: string) => l.startsWith('{'), (settle + 30) * 1000);
    return JSON.parse(line) as ClientResult;
  }

  async destroy(): Promise<void> {
    await Promise.all(this.procs.map((p) => p.stop()));
    // The host ends of the veths first: deleting a namespace frees its veth pairs in the background,
    // and the next test file in this kernel may create the same names at once (RTNETLINK: File exists).
    for (const link of [...this.namespaces.map((ns) => `${ns}-e0`), 'r-e1']) await exec('ip', ['link', 'del', link]);
    for (const ns of this.namespaces) await exec('ip', ['netns', 'del', ns]);
    for (const br of ['ecbrA', 'ecbrB']) await exec('ip', ['link', 'del', br]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** One line of figures for the suite output (the closing note quotes them). */
export function report(step: string, r: ClientResult, extra = ''): void {
  const port = (p: string) => {
    const x = r.ports[p]!;
    return `:${p} ${x.n - x.broken}/${x.n} survived (${x.same_rs} on the same real server), longest stall ${x.max_stall_s}s`;
  };
  console.log(
    `[ecmp] ${step}: mh ${port('80')}; rr ${port('81')}; request loop ${r.loop.failed}/${r.loop.requests} failed, longest stall ${r.loop.longest_stall_s}s${extra ? `; ${extra}` : ''}`,
  );
}

export { sleep };
