// Shared by the fault-injection kernel tests (test/kernel/fault/): configs
// with an ignored service beside them, a watchable directory, /healthz, RSS.
import { readFileSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { LVSD, ipvsadm, sh } from '../helpers.js';
import { type Daemon, type LogRecord, sleep } from '../daemon/daemon-harness.js';
export { httpGet } from '../daemon/daemon-harness.js';
import { spawn, type ChildProcess } from 'node:child_process';

/**
 * A directory on the guest's tmpfs (/run): UML's hostfs, where the host's
 * /tmp lives, delivers no inotify events, and the daemon watches with inotify.
 */
export function watchableDir(prefix = 'lvsd-fault-'): string {
  return mkdtempSync(`/run/${prefix}`);
}

/** A service another manager made: outside every config here, covered by IGNORE_RULE. */
export const IGNORED = { vip: '192.0.2.250', port: 8080, rs: '192.0.2.251', weight: 7 };
export const IGNORE_RULE = `ignore:\n  - { vip: ${IGNORED.vip} }\n`;
/** The ignored service's lines in `ipvsadm -Sn`. */
export const IGNORED_SAVE = [
  `-A -t ${IGNORED.vip}:${IGNORED.port} -s rr`,
  `-a -t ${IGNORED.vip}:${IGNORED.port} -r ${IGNORED.rs}:${IGNORED.port} -g -w ${IGNORED.weight}`,
];

/** Creates the ignored service with ipvsadm (in `prefix`, e.g. `ip netns exec NS`). */
export async function makeIgnoredService(prefix: string[] = []): Promise<void> {
  const svc = `${IGNORED.vip}:${IGNORED.port}`;
  await run(prefix, ['ipvsadm', '-A', '-t', svc, '-s', 'rr']);
  const rs = `${IGNORED.rs}:${IGNORED.port}`;
  await run(prefix, ['ipvsadm', '-a', '-t', svc, '-r', rs, '-g', '-w', String(IGNORED.weight)]);
}

/** True when `save` (ipvsadm -Sn) holds the ignored service exactly as made. */
export function ignoredIntact(save: string): boolean {
  const lines = save.split('\n').filter((l) => l.includes(`${IGNORED.vip}:${IGNORED.port}`));
  return lines.sort().join('\n') === [...IGNORED_SAVE].sort().join('\n');
}

async function run(prefix: string[], argv: string[]): Promise<string> {
  const all = [...prefix, ...argv];
  const r = await sh(all[0]!, all.slice(1), { timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`${all.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

/**
 * `n` services on 198.51.100.(1+i):80 with three real servers each; real
 * server .10 of every service has weight `w` (how tests tell versions apart).
 */
export function smallConfig(w: number, n = 5, extra = ''): string {
  const out = ['version: 1', IGNORE_RULE.trimEnd(), 'services:'];
  for (let i = 0; i < n; i++) {
    out.push(
      `  - { vip: 198.51.100.${1 + i}, port: 80, scheduler: wrr, realservers: ` +
        `[{ address: 203.0.113.10, weight: ${w} }, 203.0.113.11, 203.0.113.12] }`,
    );
  }
  return `${out.join('\n')}\n${extra}`;
}

/** `ipvsadm -Sn` of smallConfig(w, n), sorted lines (without the ignored service). */
export function smallSave(w: number, n = 5): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const s = `198.51.100.${1 + i}:80`;
    out.push(
      `-A -t ${s} -s wrr`,
      `-a -t ${s} -r 203.0.113.10:80 -g -w ${w}`,
      `-a -t ${s} -r 203.0.113.11:80 -g -w 1`,
      `-a -t ${s} -r 203.0.113.12:80 -g -w 1`,
    );
  }
  return out.sort();
}

/** The live table minus the ignored service, sorted lines. */
export async function managedSave(): Promise<string[]> {
  return (await ipvsadm('-Sn'))
    .split('\n')
    .filter((l) => l && !l.includes(`${IGNORED.vip}:${IGNORED.port}`))
    .sort();
}

/** Polls until the managed table is smallSave(w, n) and the ignored service is intact. */
export async function waitSmall(w: number, n = 5, timeoutMs = 10_000): Promise<void> {
  const want = smallSave(w, n).join('\n');
  const t0 = Date.now();
  for (;;) {
    const save = await ipvsadm('-Sn');
    // Only smallConfig's services (198.51.100.1-99:80): a test may add others beside them.
    const managed = save
      .split('\n')
      .filter((l) => /^-[Aa] -t 198\.51\.100\.\d{1,2}:80 /.test(l))
      .sort();
    if (managed.join('\n') === want && ignoredIntact(save)) return;
    if (Date.now() - t0 > timeoutMs) throw new Error(`table is not config(w=${w}) within ${timeoutMs} ms:\n${save}`);
    await sleep(100);
  }
}

/** Writes `text` to a temporary name beside `file`, then renames it over (an editor's save). */
export function save(file: string, text: string): void {
  const tmp = `${file}.tmp${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

/** A field of /proc/PID/status in KiB (VmRSS: resident now; VmHWM: peak resident). */
export function memKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(m[1]);
}

/** Resolves with the exit code, or 'timeout' if the process is still there after `ms`. */
export async function stopWithin(
  d: Daemon,
  ms: number,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<number | null | 'timeout'> {
  d.child.kill(signal);
  return Promise.race([d.exitCode(), sleep(ms).then(() => 'timeout' as const)]);
}

/** True while the daemon process has not exited. */
export function alive(d: { child: ChildProcess }): boolean {
  return d.child.exitCode === null && d.child.signalCode === null;
}

/** The modprobe the test bed set up (a module root in the guest's /run; fresh machines have no /lib/modules). */
export const MODPROBE = '/run/lvsd-uml/bin/modprobe';

/** Every ip_vs module loaded now (ip_vs last: the others use it). */
export function loadedIpvsModules(): string[] {
  const mods = readFileSync('/proc/modules', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((m) => m.startsWith('ip_vs'));
  return mods.sort((a, b) => (a === 'ip_vs' ? 1 : b === 'ip_vs' ? -1 : a.localeCompare(b)));
}

export async function modprobe(...args: string[]): Promise<void> {
  const r = await sh(MODPROBE, args);
  if (r.code !== 0) throw new Error(`modprobe ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
}

/**
 * Unloads every ip_vs module. Polls: a network namespace deleted by an
 * earlier test (kill9.test.ts drops 110,000 objects that way) is cleaned up
 * by the kernel in the background and holds its schedulers until then.
 */
export async function unloadIpvs(timeoutMs = 60_000): Promise<void> {
  let why = '';
  for (const t0 = Date.now(); Date.now() - t0 < timeoutMs; await sleep(500)) {
    const loaded = loadedIpvsModules();
    if (loaded.length === 0) return;
    const r = await sh(MODPROBE, ['-r', ...loaded]);
    why = r.stderr.trim();
  }
  throw new Error(`ip_vs modules still loaded after ${timeoutMs} ms (${loadedIpvsModules().join(', ')}): ${why}`);
}

/** Path of the kernel's module loader knob. */
export const MODPROBE_KNOB = '/proc/sys/kernel/modprobe';

/** A `lvsd run` process and its JSON log records, for starts slower than Daemon.start's 30 s. */
export interface DaemonProcess {
  child: ChildProcess;
  logs: LogRecord[];
  exited: Promise<number | null>;
  waitLog(pred: (r: LogRecord) => boolean, timeoutMs: number): Promise<LogRecord>;
}

/** Spawns `lvsd run` (behind `prefix`, e.g. `ip netns exec NS`) with JSON logs at debug level. */
export function startDaemon(args: string[], prefix: string[] = []): DaemonProcess {
  const argv = [...prefix, ...LVSD, 'run', '--log-format', 'json', '--log-level', 'debug', ...args];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: LogRecord[] = [];
  let buf = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    const lines = buf.split('\n');
    buf = lines.pop()!;
    for (const l of lines) {
      let r: LogRecord;
      try {
        r = JSON.parse(l) as LogRecord;
      } catch {
        r = { level: 'raw', msg: l };
      }
      // 110,000 applied changes would fill this process's heap: keep only the others.
      if (r.event !== 'change' || r.level !== 'info') logs.push(r);
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => logs.push({ level: 'stderr', msg: d }));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const waitLog = async (pred: (r: LogRecord) => boolean, timeoutMs: number): Promise<LogRecord> => {
    for (const t0 = Date.now(); Date.now() - t0 < timeoutMs; await sleep(100)) {
      const found = logs.find(pred);
      if (found) return found;
      if (child.exitCode !== null) break;
    }
    throw new Error(
      `no matching log record within ${timeoutMs} ms (exit ${child.exitCode}); last logs:\n` +
        logs
          .slice(-20)
          .map((l) => JSON.stringify(l))
          .join('\n'),
    );
  };
  return { child, logs, exited, waitLog };
}

/** Runs `step`; when it throws, adds the daemon's log records (but applied changes) to the error. */
export async function explained<T>(d: { logs: LogRecord[] }, step: Promise<T>): Promise<T> {
  try {
    return await step;
  } catch (e) {
    const logs = d.logs.filter((r) => r.event !== 'change' || r.level !== 'info').map((r) => JSON.stringify(r));
    (e as Error).message += `\ndaemon logs (applied changes left out):\n${logs.join('\n')}`;
    throw e;
  }
}
