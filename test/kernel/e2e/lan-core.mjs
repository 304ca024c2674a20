// The classic LVS LAN, built inside the User-Mode Linux test bed out of
// network namespaces: plain JavaScript so that both the e2e tests (through
// lan.ts) and the demo (scripts/demo-guest.mjs, run by plain node) use it.
//
//                        bridge lvbr0: 198.51.100.0/24, 2001:db8::/64
//     +-----------+-------------+-----------+-----------+-----------+
//     |           |             |           |           |           |
//   client     director        rs1         rs2        (rs3)      VIP .200 / ::200
//   .10 .11      .196          .193        .195        .197
//   ::10 ::11    ::196         ::193       ::195       ::197
//                 |eth1 203.0.113.1
//                 |      bridge lvbr1: 203.0.113.0/24 (only with NAT real servers)
//                 +----------+-----------+
//                          nat1 .11    nat2 .12     (default route via the director)
//
// Every host is a network namespace of the same name with one veth, eth0
// (the director also eth1 when there are NAT real servers), whose other end
// is on the bridge in the root namespace. MACs are derived from the address
// so they can be read: .196 is 02:00:00:00:01:96. Each real server runs
// servers.py (HTTP on 80, 8080, 8443 and UDP echo on 53, answering with its
// name); the client runs client-agent.mjs, which the tests drive.
//
// Nothing here configures LVS: no VIP, no ARP setting, no IPVS. That is the
// job of lvsd (or, in reference.test.ts, of ip and ipvsadm by hand).
//
// Everything must run as root inside the test bed: it is never given a real
// network device and uses documentation addresses only.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const HERE = import.meta.dirname;
export const REPO_ROOT = path.resolve(HERE, '..', '..', '..');
/** The compiled CLI (`npx tsc -p tsconfig.build.json`; `npm test` builds it). */
export const CLI = path.join(REPO_ROOT, 'dist', 'cli', 'main.js');
/** node's flags from the CLI's `#!` line, so lvsd runs here as it does for users. */
const CLI_NODE_FLAGS = fs
  .readFileSync(CLI, 'utf8')
  .split('\n', 1)[0]
  .split(/\s+/)
  .filter((a) => a.startsWith('--'));
const SERVERS = path.join(HERE, 'servers.py');
const AGENT = path.join(HERE, 'client-agent.mjs');

export const VIP = '198.51.100.200';
export const VIP6 = '2001:db8::200';
/** Second client address (on the client's eth0), for "another client" checks. */
export const CLIENT2 = '198.51.100.11';
export const CLIENT2_6 = '2001:db8::11';
export const TCP_PORTS = [80, 8080, 8443];
export const UDP_PORTS = [53];

/** Last octet (front segment) of each host that may exist. */
const FRONT = { client: 10, director: 196, rs1: 193, rs2: 195, rs3: 197 };
/** Last octet on the NAT segment 203.0.113.0/24. */
const BACK = { director: 1, nat1: 11, nat2: 12 };

/** @param {number} n  last octet, e.g. 196 -> "01:96" (the decimal digits, readable in `ip neigh`) */
const macTail = (n) =>
  String(n)
    .padStart(4, '0')
    .replace(/^(..)(..)$/, '$1:$2');

/**
 * @typedef {object} Host
 * @property {string} name     also the namespace's name
 * @property {string} ipv4     address on eth0 (front) or, for nat*, on eth0 of the NAT segment
 * @property {string | undefined} ipv6
 * @property {string} mac      MAC of eth0
 * @property {string | undefined} backIpv4  the director's eth1 address when there is a NAT segment
 * @property {'client' | 'director' | 'realserver' | 'nat'} role
 */

/**
 * @typedef {object} ExecResult
 * @property {string} stdout
 * @property {string} stderr
 * @property {number} code
 */

/**
 * Run a command (no shell); never rejects for an exit status.
 * @param {string} cmd @param {string[]} args
 * @param {{ input?: string, timeoutMs?: number, env?: NodeJS.ProcessEnv }} [opts]
 * @returns {Promise<ExecResult>}
 */
export function exec(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
      { encoding: 'utf8', maxBuffer: 64 << 20, timeout: opts.timeoutMs ?? 60_000, env: opts.env ?? process.env },
      (err, stdout, stderr) => {
        if (err && typeof err.code === 'string') return reject(new Error(`cannot run ${cmd}: ${err.message}`));
        resolve({ stdout, stderr, code: err ? (typeof err.code === 'number' ? err.code : 1) : 0 });
      },
    );
    child.stdin?.on('error', () => {}); // a command that exits without reading its input
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

/**
 * Like exec but throws, with the command line and its stderr, unless it exits 0.
 * @param {string} cmd @param {string[]} args @param {{ input?: string, timeoutMs?: number }} [opts]
 */
export async function run(cmd, args, opts) {
  const r = await exec(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.code}: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

/** @param {number} ms */
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Poll `fn` until it returns a truthy value; returns that value.
 * @template T
 * @param {() => Promise<T> | T} fn
 * @param {{ timeoutMs?: number, intervalMs?: number, what?: string | (() => string | Promise<string>) }} [opts]
 * @returns {Promise<NonNullable<T>>}
 */
export async function waitFor(fn, { timeoutMs = 15_000, intervalMs = 100, what = 'condition' } = {}) {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return /** @type {NonNullable<T>} */ (v);
    if (Date.now() - t0 > timeoutMs) {
      const desc = typeof what === 'function' ? await what() : what;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${desc}`);
    }
    await sleep(intervalMs);
  }
}

/**
 * A long-lived process whose stdout is read line by line.
 */
class Proc {
  /** @param {string} label @param {import('node:child_process').ChildProcessWithoutNullStreams} child */
  constructor(label, child) {
    this.label = label;
    this.child = child;
    /** @type {string[]} */
    this.lines = [];
    this.stderr = '';
    /** @type {((line: string) => void)[]} */
    this.listeners = [];
    let buf = '';
    child.stdout.setEncoding('utf8').on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        this.lines.push(line);
        for (const l of this.listeners) l(line);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d) => {
      this.stderr += d;
    });
    /** @type {Promise<number | null>} */
    this.exited = new Promise((resolve) => child.on('exit', (code, sig) => resolve(code ?? (sig ? 128 : null))));
    this.exitCode = /** @type {number | null | undefined} */ (undefined);
    this.exited.then((c) => {
      this.exitCode = c;
    });
  }

  /** Resolves with the first line (already seen or future) matching `pred`. */
  waitLine(/** @type {(l: string) => boolean} */ pred, timeoutMs = 15_000) {
    const seen = this.lines.find(pred);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(
            `${this.label}: no matching output within ${timeoutMs} ms; stdout:\n${this.lines.join('\n')}\nstderr:\n${this.stderr}`,
          ),
        );
      }, timeoutMs);
      const onLine = (/** @type {string} */ l) => {
        if (pred(l)) {
          done();
          resolve(l);
        }
      };
      const onExit = () => {
        done();
        reject(
          new Error(`${this.label} exited (${this.exitCode}) before the expected output; stderr:\n${this.stderr}`),
        );
      };
      const done = () => {
        clearTimeout(timer);
        this.listeners = this.listeners.filter((x) => x !== onLine);
      };
      this.listeners.push(onLine);
      this.exited.then(onExit);
    });
  }

  /** SIGTERM (or `signal`), then wait for the exit; SIGKILL after 5 s. */
  async stop(/** @type {NodeJS.Signals} */ signal = 'SIGTERM') {
    if (this.exitCode !== undefined) return this.exitCode;
    this.child.kill(signal);
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    const code = await this.exited;
    clearTimeout(t);
    return code;
  }
}

/**
 * Start `cmd args` inside network namespace `ns` (`ip netns exec` execs it,
 * so the child's pid is the command's own).
 * @param {string} ns @param {string} cmd @param {string[]} args @param {string} [label]
 */
export function spawnIn(ns, cmd, args, label = `${ns}: ${path.basename(cmd)}`) {
  const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'], cwd: REPO_ROOT });
  return new Proc(label, child);
}

/**
 * @typedef {object} Reply
 * @property {boolean} ok
 * @property {string} [server]   who answered
 * @property {string} [client]   the client address the server saw (HTTP)
 * @property {number} [port]     the port the server was reached on (HTTP)
 * @property {string} [from]     the source address of a UDP reply
 * @property {number} [status]
 * @property {string} [error]
 * @property {number} at         ms since the agent started
 * @property {number} ms         duration
 * @property {number} [localPort]
 */

/** The client agent (client-agent.mjs) running in the client namespace. */
export class Client {
  /** @param {Proc} proc */
  constructor(proc) {
    this.proc = proc;
    this.nextId = 1;
    /** @type {Map<number, { resolve: (v: any) => void, reject: (e: Error) => void }>} */
    this.pending = new Map();
    proc.listeners.push((line) => {
      let msg;
      try {
        msg = JSON.parse(line);
      } catch {
        return;
      }
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.result);
      else p.reject(new Error(`client agent: ${msg.error}`));
    });
    proc.exited.then(() => {
      for (const p of this.pending.values()) p.reject(new Error(`client agent exited; stderr:\n${proc.stderr}`));
      this.pending.clear();
    });
  }

  /** @param {string} op @param {Record<string, unknown>} args @returns {Promise<any>} */
  call(op, args) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.proc.child.stdin.write(JSON.stringify({ id, op, ...args }) + '\n');
    });
  }

  /**
   * `count` GETs of `url`, each on a new connection, one after the other.
   * @param {string} url @param {{ count?: number, timeoutMs?: number, localAddress?: string }} [opts]
   * @returns {Promise<Reply[]>}
   */
  get(url, opts = {}) {
    return this.call('get', { url, ...opts });
  }

  /**
   * One GET; throws unless it was answered 200.
   * @param {string} url @param {{ timeoutMs?: number, localAddress?: string }} [opts]
   * @returns {Promise<Reply>}
   */
  async request(url, opts = {}) {
    const [r] = await this.get(url, { ...opts, count: 1 });
    if (!r?.ok) throw new Error(`GET ${url} failed: ${r?.error ?? `status ${r?.status}`}`);
    return r;
  }

  /**
   * A request loop that runs until stopped and records every reply: start it,
   * change something, stop it, look at what it saw.
   * @param {string} url @param {{ intervalMs?: number, timeoutMs?: number, localAddress?: string }} [opts]
   * @returns {Promise<{ stop: () => Promise<Reply[]> }>}
   */
  async loop(url, opts = {}) {
    const id = await this.call('loopStart', { url, ...opts });
    return { stop: () => this.call('loopStop', { loop: id }) };
  }

  /**
   * A TCP connection kept open; `get()` sends a request on it.
   * @param {string} host @param {number} [port] @param {{ localAddress?: string }} [opts]
   * @returns {Promise<{ get: (timeoutMs?: number) => Promise<Reply>, close: () => Promise<void> }>}
   */
  async keepAlive(host, port = 80, opts = {}) {
    const conn = await this.call('kaOpen', { host, port, ...opts });
    return {
      get: (timeoutMs = 5000) => this.call('kaGet', { conn, timeoutMs }),
      close: async () => {
        await this.call('kaClose', { conn });
      },
    };
  }

  /**
   * `count` UDP datagrams to host:port, each from a new socket.
   * @param {string} host @param {number} port @param {{ count?: number, timeoutMs?: number, localAddress?: string }} [opts]
   * @returns {Promise<Reply[]>}
   */
  udp(host, port, opts = {}) {
    return this.call('udp', { host, port, ...opts });
  }
}

/**
 * @typedef {object} IpvsCounters
 * @property {number} conns @property {number} inpkts @property {number} outpkts
 * @property {number} inbytes @property {number} outbytes
 */
/**
 * @typedef {IpvsCounters & { proto: string, service: string, realservers: (IpvsCounters & { address: string })[] }} IpvsServiceStats
 */

/**
 * Parse `ipvsadm -Ln --stats --exact`.
 * @param {string} text
 * @returns {IpvsServiceStats[]}
 */
export function parseIpvsStats(text) {
  /** @type {IpvsServiceStats[]} */
  const out = [];
  for (const line of text.split('\n')) {
    const svc = /^(TCP|UDP|SCTP|FWM)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/.exec(line);
    if (svc) {
      out.push({
        proto: svc[1],
        service: svc[2],
        conns: +svc[3],
        inpkts: +svc[4],
        outpkts: +svc[5],
        inbytes: +svc[6],
        outbytes: +svc[7],
        realservers: [],
      });
      continue;
    }
    const rs = /^\s+->\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/.exec(line);
    if (rs && out.length > 0) {
      out[out.length - 1].realservers.push({
        address: rs[1],
        conns: +rs[2],
        inpkts: +rs[3],
        outpkts: +rs[4],
        inbytes: +rs[5],
        outbytes: +rs[6],
      });
    }
  }
  return out;
}

/**
 * `lvsd run` in a namespace, with JSON logs.
 */
export class LvsdDaemon {
  /** @param {Proc} proc */
  constructor(proc) {
    this.proc = proc;
  }

  /** @returns {Record<string, any>[]} every JSON log record so far */
  get logs() {
    /** @type {Record<string, any>[]} */
    const out = [];
    for (const l of this.proc.lines) {
      try {
        out.push(JSON.parse(l));
      } catch {
        out.push({ level: 'raw', msg: l });
      }
    }
    return out;
  }

  /**
   * Resolves with the first log record matching `pred`, among the records from index `from` on.
   * @param {(r: Record<string, any>) => boolean} pred @param {number} [timeoutMs] @param {number} [from]
   */
  async waitLog(pred, timeoutMs = 15_000, from = 0) {
    return waitFor(() => this.logs.slice(from).find(pred), {
      timeoutMs,
      intervalMs: 50,
      what: () =>
        `a matching lvsd log record; lvsd logged:\n${this.proc.lines.join('\n')}\nstderr: ${this.proc.stderr}`,
    });
  }

  /** @param {NodeJS.Signals} [signal] */
  stop(signal) {
    return this.proc.stop(signal);
  }
}

/** Every name the LAN may create, so a crashed earlier run can be cleaned up. */
const ALL_NAMESPACES = ['client', 'director', 'rs1', 'rs2', 'rs3', 'nat1', 'nat2'];
const BRIDGES = ['lvbr0', 'lvbr1'];

/**
 * @typedef {object} LanOptions
 * @property {string[]} [realservers]  real servers on the front segment (DR/TUN), default ['rs1', 'rs2']
 * @property {string[]} [nat]          real servers on the NAT segment behind the director, default []
 * @property {(line: string) => void} [log]  progress lines (the demo prints them)
 */

export class Lan {
  /** @param {Map<string, Host>} hosts */
  constructor(hosts) {
    this.hosts = hosts;
    /** @type {Proc[]} */
    this.procs = [];
    /** @type {Client} */
    this.client = /** @type {any} */ (undefined);
    /** @type {string[]} */
    this.dirs = [];
  }

  /** @param {string} name @returns {Host} */
  host(name) {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`the LAN has no host ${name} (it has ${[...this.hosts.keys()].join(', ')})`);
    return h;
  }

  /** Real servers of the LAN (front and NAT segment). */
  get realservers() {
    return [...this.hosts.values()].filter((h) => h.role === 'realserver' || h.role === 'nat');
  }

  /**
   * Run a command in a host's namespace; never rejects for an exit status.
   * @param {string} ns @param {string} cmd @param {string[]} [args] @param {{ input?: string, timeoutMs?: number }} [opts]
   */
  exec(ns, cmd, args = [], opts) {
    return exec('ip', ['netns', 'exec', ns, cmd, ...args], opts);
  }

  /**
   * Run a command in a host's namespace; throws unless it exits 0; returns stdout.
   * @param {string} ns @param {string} cmd @param {string[]} [args] @param {{ input?: string, timeoutMs?: number }} [opts]
   */
  run(ns, cmd, args = [], opts) {
    return run('ip', ['netns', 'exec', ns, cmd, ...args], opts);
  }

  /**
   * The lvsd CLI (dist/cli/main.js) in a host's namespace.
   * @param {string} ns @param {string[]} args
   */
  lvsd(ns, args) {
    return this.exec(ns, process.execPath, [...CLI_NODE_FLAGS, CLI, ...args]);
  }

  /**
   * Start `lvsd run -c config` in a host's namespace (JSON logs, debug level);
   * resolves once it logged its first reconcile. Stopped by destroy().
   * @param {string} ns @param {string} config @param {string[]} [args]
   */
  async lvsdRun(ns, config, args = []) {
    const proc = spawnIn(
      ns,
      process.execPath,
      [...CLI_NODE_FLAGS, CLI, 'run', '-c', config, '--log-format', 'json', '--log-level', 'debug', ...args],
      `lvsd run in ${ns}`,
    );
    this.procs.push(proc);
    const d = new LvsdDaemon(proc);
    await Promise.race([
      d.waitLog((r) => r.event === 'reconcile', 30_000),
      proc.exited.then((c) => {
        throw new Error(`lvsd run in ${ns} exited with ${c}:\n${proc.lines.join('\n')}\n${proc.stderr}`);
      }),
    ]);
    return d;
  }

  /**
   * A directory on the guest's tmpfs (/run) for config files: UML's hostfs
   * (where the checkout and /tmp live) delivers no inotify events, and
   * `lvsd run` watches its config with inotify. Removed by destroy().
   */
  configDir(prefix = 'lvsd-e2e-') {
    const dir = fs.mkdtempSync(path.join('/run', prefix));
    this.dirs.push(dir);
    return dir;
  }

  /** `ipvsadm -Sn` in the director (or `ns`). */
  ipvsRules(ns = 'director') {
    return this.run(ns, 'ipvsadm', ['-Sn']);
  }

  /**
   * Parsed `ipvsadm -Ln --stats --exact` in the director (or `ns`). Linux 6.1
   * folds its per-CPU counters into these totals from a timer every 2 s:
   * they lag; see waitStats in lan.ts. The connection table does not lag.
   */
  async ipvsStats(ns = 'director') {
    return parseIpvsStats(await this.run(ns, 'ipvsadm', ['-Ln', '--stats', '--exact']));
  }

  /**
   * The director's (or `ns`'s) IPVS connection table, `ipvsadm -Lnc`.
   * @returns {Promise<{ proto: string, state: string, source: string, virtual: string, destination: string }[]>}
   */
  async ipvsConnections(ns = 'director') {
    const out = await this.run(ns, 'ipvsadm', ['-Lnc']);
    return out.split('\n').flatMap((l) => {
      const m = /^(TCP|UDP|SCTP|IP)\s+\S+\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)/.exec(l);
      return m ? [{ proto: m[1], state: m[2], source: m[3], virtual: m[4], destination: m[5] }] : [];
    });
  }

  /**
   * The MAC `ns` has for `address` on eth0, or undefined (no entry, or an incomplete/failed one).
   * @param {string} ns @param {string} address
   */
  async neighbour(ns, address) {
    const out = await run('ip', ['-n', ns, '-j', 'neigh', 'show', 'to', address, 'dev', 'eth0']);
    /** @type {{ dst: string, lladdr?: string, state?: string[] }[]} */
    const entries = JSON.parse(out || '[]');
    return entries.find((e) => e.lladdr)?.lladdr;
  }

  /** Forget every neighbour entry in `ns` (eth0). @param {string} ns */
  async flushNeighbours(ns) {
    await run('ip', ['-n', ns, 'neigh', 'flush', 'dev', 'eth0']);
    await run('ip', ['-n', ns, '-6', 'neigh', 'flush', 'dev', 'eth0']);
  }

  /**
   * A sysctl of a namespace, e.g. ('rs1', 'net.ipv4.conf.all.arp_ignore').
   * @param {string} ns @param {string} key
   */
  async sysctl(ns, key) {
    return (await this.run(ns, 'cat', [`/proc/sys/${key.replaceAll('.', '/')}`])).trim();
  }

  /**
   * Addresses of a namespace's interface, as "addr/prefix".
   * @param {string} ns @param {string} dev
   */
  async addresses(ns, dev) {
    const r = await exec('ip', ['-n', ns, '-j', 'addr', 'show', 'dev', dev]);
    if (r.code !== 0) return [];
    /** @type {{ addr_info: { local: string, prefixlen: number }[] }[]} */
    const links = JSON.parse(r.stdout || '[]');
    return links.flatMap((l) => l.addr_info.map((a) => `${a.local}/${a.prefixlen}`));
  }

  /**
   * Packet counters of a namespace's interface.
   * @param {string} ns @param {string} dev
   * @returns {Promise<{ up: boolean, rxPackets: number, txPackets: number }>}
   */
  async link(ns, dev) {
    const [l] = JSON.parse(await run('ip', ['-n', ns, '-s', '-j', 'link', 'show', 'dev', dev]));
    return { up: l.flags.includes('UP'), rxPackets: l.stats64.rx.packets, txPackets: l.stats64.tx.packets };
  }

  /** Stop every process the LAN started (servers, client, lvsd), delete namespaces and bridges, remove config dirs. */
  async destroy() {
    await Promise.all(this.procs.map((p) => p.stop('SIGTERM')));
    this.procs = [];
    await removeLan();
    for (const d of this.dirs) fs.rmSync(d, { recursive: true, force: true });
    this.dirs = [];
  }
}

/** Delete whatever a LAN (this one or a crashed earlier one) left. */
async function removeLan() {
  const links = (await exec('ip', ['-o', 'link', 'show'])).stdout;
  const namespaces = (await exec('ip', ['netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0]);
  const exists = (/** @type {string} */ dev) => new RegExp(`^\\d+: ${dev}[@:]`, 'm').test(links);
  const script = [
    // deleting a root-side veth end deletes its peer at once; namespace deletion is asynchronous
    ...ALL_NAMESPACES.flatMap((n) => [`lv-${n}`, `lvb-${n}`])
      .filter(exists)
      .map((d) => `ip link del ${d}`),
    ...ALL_NAMESPACES.filter((n) => namespaces.includes(n)).map((n) => `ip netns del ${n}`),
    ...BRIDGES.filter(exists).map((b) => `ip link del ${b}`),
  ];
  if (script.length > 0) await exec('sh', ['-c', script.join('\n')]);
}

/**
 * Build the LAN and start its servers and client. Call `destroy()` when done.
 * @param {LanOptions} [options]
 * @returns {Promise<Lan>}
 */
export async function createLan(options = {}) {
  const { realservers = ['rs1', 'rs2'], nat = [], log = () => {} } = options;
  for (const n of realservers)
    if (!(n in FRONT)) throw new Error(`unknown real server ${n}; the LAN knows rs1, rs2, rs3`);
  for (const n of nat) if (!(n in BACK)) throw new Error(`unknown NAT real server ${n}; the LAN knows nat1, nat2`);
  await removeLan();

  /** @type {Map<string, Host>} */
  const hosts = new Map();
  const lines = ['set -e', 'ip link add lvbr0 type bridge', 'ip link set lvbr0 up'];
  // Per namespace: no duplicate address detection (addresses are usable at
  // once, also the VIPs lvsd adds later), no router solicitations.
  const nsSetup = (/** @type {string} */ ns) => [
    `ip netns add ${ns}`,
    `ip netns exec ${ns} sh -c 'for k in all default; do echo 0 > /proc/sys/net/ipv6/conf/$k/accept_dad; echo 0 > /proc/sys/net/ipv6/conf/$k/router_solicitations; done'`,
    `ip -n ${ns} link set lo up`,
  ];
  /** @param {string} ns @param {string} dev @param {string} bridge @param {string} rootEnd @param {string} mac */
  const veth = (ns, dev, bridge, rootEnd, mac) => [
    `ip link add ${rootEnd} type veth peer name ${dev} netns ${ns} address ${mac}`,
    `ip link set ${rootEnd} master ${bridge} up`,
    `ip -n ${ns} link set ${dev} up`,
  ];

  const front = ['client', 'director', ...realservers];
  for (const name of front) {
    const n = FRONT[/** @type {keyof typeof FRONT} */ (name)];
    const mac = `02:00:00:00:${macTail(n)}`;
    const role = name === 'client' ? 'client' : name === 'director' ? 'director' : 'realserver';
    hosts.set(name, { name, ipv4: `198.51.100.${n}`, ipv6: `2001:db8::${n}`, mac, backIpv4: undefined, role });
    lines.push(...nsSetup(name), ...veth(name, 'eth0', 'lvbr0', `lv-${name}`, mac));
    lines.push(
      `ip -n ${name} addr add 198.51.100.${n}/24 dev eth0`,
      `ip -n ${name} addr add 2001:db8::${n}/64 dev eth0 nodad`,
    );
  }
  // the second client address is used only when asked for (IPv4: a secondary
  // address; IPv6: deprecated, so source address selection never picks it)
  lines.push(
    `ip -n client addr add ${CLIENT2}/24 dev eth0`,
    `ip -n client addr add ${CLIENT2_6}/64 dev eth0 nodad preferred_lft 0`,
  );

  if (nat.length > 0) {
    lines.push('ip link add lvbr1 type bridge', 'ip link set lvbr1 up');
    lines.push(...veth('director', 'eth1', 'lvbr1', 'lvb-director', `02:00:00:01:${macTail(BACK.director)}`));
    lines.push(`ip -n director addr add 203.0.113.${BACK.director}/24 dev eth1`);
    /** @type {Host} */ (hosts.get('director')).backIpv4 = `203.0.113.${BACK.director}`;
    for (const name of nat) {
      const n = BACK[/** @type {keyof typeof BACK} */ (name)];
      const mac = `02:00:00:01:${macTail(n)}`;
      hosts.set(name, { name, ipv4: `203.0.113.${n}`, ipv6: undefined, mac, backIpv4: undefined, role: 'nat' });
      lines.push(...nsSetup(name), ...veth(name, 'eth0', 'lvbr1', `lvb-${name}`, mac));
      // LVS-NAT: replies must go back through the director, which un-NATs them.
      lines.push(
        `ip -n ${name} addr add 203.0.113.${n}/24 dev eth0`,
        `ip -n ${name} route add default via 203.0.113.${BACK.director}`,
      );
    }
  }
  // the root namespace's bridge ports carry no IPv6 of their own
  lines.push('for d in /proc/sys/net/ipv6/conf/lv*; do echo 1 > $d/disable_ipv6; done');

  log(`building the LAN: ${[...hosts.keys()].join(', ')}`);
  const r = await exec('sh', ['-c', lines.join('\n')]);
  if (r.code !== 0) {
    await removeLan();
    throw new Error(`building the LAN failed (${r.code}): ${r.stderr.trim()}`);
  }
  log('namespaces, bridges and veths ready; starting servers and the client');

  const lan = new Lan(hosts);
  try {
    const servers = lan.realservers.map((h) => {
      const p = spawnIn(
        h.name,
        'python3',
        [SERVERS, h.name, '--tcp', TCP_PORTS.join(','), '--udp', UDP_PORTS.join(',')],
        `servers on ${h.name}`,
      );
      lan.procs.push(p);
      return p;
    });
    const agent = spawnIn('client', process.execPath, [AGENT], 'client agent');
    lan.procs.push(agent);
    lan.client = new Client(agent);
    await Promise.all([
      ...servers.map((p) => p.waitLine((l) => l === 'READY', 30_000)),
      agent.waitLine((l) => l.includes('"ready"'), 30_000),
    ]);
    log('LAN up: servers and client running');
    return lan;
  } catch (e) {
    await lan.destroy();
    throw e;
  }
}

/**
 * How many replies each server gave, e.g. { rs1: 30, rs2: 10 }; failed replies count under "FAILED".
 * @param {Reply[]} replies
 * @returns {Record<string, number>}
 */
export function countServers(replies) {
  /** @type {Record<string, number>} */
  const out = {};
  for (const r of replies) {
    const k = r.ok ? (r.server ?? '?') : 'FAILED';
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}
