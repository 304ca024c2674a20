// One repetition of the benchmark at one size, inside a fresh network
// namespace of the test kernel (bench/inside.mjs starts it with unshare -n):
// every IPVS table here starts empty, with no deleted real servers in the
// kernel's trash list (a flushed table leaves them there for a minute or two,
// and every add then scans them: that would time the trash, not the client).
// Every lvsd figure is taken for both file styles (flow and block, see
// table.mjs) against the same ipvsadm run.
//
//   node bench/rep.mjs N R REP WORKDIR [--rest]
//
// --rest: also the daemon's resyncs (CPU per no-change resync, RSS after
// them): two default 30 s resync intervals per style.
//
// Prints one JSON line (prefixed @@RESULT) with every figure of this repetition.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';
import { configText, ipvsadmText, realServerAt, serviceAt, STYLES } from './table.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'dist/cli/main.js');
/** node's flags from the CLI's `#!/usr/bin/env -S node ...` line: lvsd runs as the installed command does. */
const NODE_FLAGS = fs
  .readFileSync(CLI, 'utf8')
  .split('\n', 1)[0]
  .split(/\s+/)
  .filter((a) => a.startsWith('--'));
const LVSD = [process.execPath, ...NODE_FLAGS, CLI];
const [n, r, rep] = process.argv.slice(2, 5).map(Number);
const work = process.argv[5];
const rest = process.argv.includes('--rest');

const say = (line) => process.stderr.write(`[rep ${rep} ${n}x${r}] ${line}\n`);
const ms = (t0) => Math.round(performance.now() - t0);

/** Runs argv to completion; returns wall ms. Throws when it fails (exit codes in `ok` pass). */
function timed(argv, { stdin, ok = [0], env } = {}) {
  const input = stdin ? fs.openSync(stdin, 'r') : 'ignore';
  const t0 = performance.now();
  const p = spawnSync(argv[0], argv.slice(1), {
    stdio: [input, 'ignore', 'pipe'],
    env: { ...process.env, ...env },
    maxBuffer: 1 << 26,
  });
  const wall = ms(t0);
  if (stdin) fs.closeSync(input);
  if (!ok.includes(p.status))
    throw new Error(`${argv.join(' ')} exited ${p.status}: ${String(p.stderr).slice(0, 2000)}`);
  return wall;
}

/** In-process phases of apply/plan (bench/phases.mjs), as JSON. */
function phases(mode, file) {
  const p = spawnSync(process.execPath, [...NODE_FLAGS, path.join(ROOT, 'bench/phases.mjs'), mode, file], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  if (p.status !== 0) throw new Error(`phases ${mode} exited ${p.status}: ${p.stderr}`);
  return JSON.parse(p.stdout);
}

const sleep = (t) => new Promise((res) => setTimeout(res, t));

/** CPU ticks of the (one-CPU) test kernel: busy and total, from /proc/stat. */
function cpuTicks() {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - f[3] - f[4], total }; // idle and iowait are not busy
}

/**
 * Waits until the kernel is idle (under 10 % busy over half a second, at
 * most 3 minutes). A network namespace that dies with 110,000 IPVS objects
 * in it is torn down by the kernel in the background, for seconds to a
 * minute on this one CPU: whatever runs meanwhile would be timed with it.
 */
async function settle(label) {
  const t0 = performance.now();
  for (;;) {
    const a = cpuTicks();
    await sleep(500);
    const b = cpuTicks();
    if (b.busy - a.busy <= 0.1 * (b.total - a.total) || performance.now() - t0 > 180_000) break;
  }
  say(`settled after ${label} in ${ms(t0)} ms`);
}

/** The real server whose health flips: its address is put on a dummy device here, a listener answers its check. */
const target = Math.floor(n / 2);
const CHECKED = { service: Math.floor(n / 3), realserver: 3, port: 8080 };
const cfgFile = (style) => path.join(work, `lvsd-${n}-${style}.yaml`);
const saveFile = path.join(work, `ipvsadm-${n}.txt`);
for (const style of STYLES) {
  if (!fs.existsSync(cfgFile(style))) fs.writeFileSync(cfgFile(style), configText(n, r, undefined, style, CHECKED));
}
if (!fs.existsSync(saveFile)) fs.writeFileSync(saveFile, ipvsadmText(n, r));

const out = { size: `${n}x${r}`, services: n, realservers: n * r, objects: n * (r + 1), rep, styles: {} };
for (const style of STYLES) out.styles[style] = {};
const inOwnNamespace = (argv) => ['unshare', '-n', 'sh', '-c', `ip link set lo up && exec ${argv.join(' ')}`];

// 1. Converge from an empty table. ipvsadm -R and the block-style apply each in a namespace of
//    their own (this one must stay empty for the flow-style apply); the order alternates.
const reference = async () => {
  out.restoreMs = timed(inOwnNamespace(['ipvsadm', '-R']), { stdin: saveFile });
  say(`ipvsadm -R: ${out.restoreMs} ms`);
  await settle('ipvsadm -R');
};
const ours = async () => {
  out.styles.block.applyMs = timed(inOwnNamespace([...LVSD, 'apply', '-c', cfgFile('block')]));
  say(`lvsd apply (block style): ${out.styles.block.applyMs} ms`);
  await settle('lvsd apply (block style)');
  out.styles.flow.applyMs = timed([...LVSD, 'apply', '-c', cfgFile('flow')]);
  say(`lvsd apply (flow style): ${out.styles.flow.applyMs} ms`);
};
if (rep % 2) {
  await reference();
  await ours();
} else {
  await ours();
  await reference();
}
// Where lvsd apply's time goes, on an empty table again (a namespace of its own).
for (const style of STYLES) {
  const p = spawnSync(
    'unshare',
    inOwnNamespace([
      process.execPath,
      ...NODE_FLAGS,
      path.join(ROOT, 'bench/phases.mjs'),
      'apply',
      cfgFile(style),
    ]).slice(1),
    { encoding: 'utf8' },
  );
  if (p.status !== 0) throw new Error(`phases apply: ${p.stderr}`);
  out.styles[style].applyPhases = JSON.parse(p.stdout);
  say(`apply phases (${style}): ${JSON.stringify(out.styles[style].applyPhases)}`);
  await settle('the phases');
}

// 2. Read the live table (110,000 objects here now) / a no-op reconcile.
const readRef = () => {
  out.saveMs = timed(['sh', '-c', 'exec ipvsadm -Sn > /dev/null']);
  say(`ipvsadm -Sn: ${out.saveMs} ms`);
};
const readOurs = () => {
  for (const style of STYLES) {
    out.styles[style].planMs = timed([...LVSD, 'plan', '-c', cfgFile(style)]);
    say(`lvsd plan (${style} style, no changes): ${out.styles[style].planMs} ms`);
  }
};
if (rep % 2) {
  readRef();
  readOurs();
} else {
  readOurs();
  readRef();
}
for (const style of STYLES) {
  out.styles[style].planPhases = phases('plan', cfgFile(style));
  say(`plan phases (${style}): ${JSON.stringify(out.styles[style].planPhases)}`);
}

// 3. lvsd run: one real server's weight changed in the file, one health check's verdict, resyncs.
const watchDir = fs.mkdtempSync('/run/lvsd-bench-'); // tmpfs: hostfs delivers no inotify events
const watched = path.join(watchDir, 'lvsd.yaml');
const checkedAddress = realServerAt(CHECKED.realserver).address;
spawnSync('sh', [
  '-c',
  `ip link add bench0 type dummy && ip addr add ${checkedAddress}/32 dev bench0 && ip link set bench0 up`,
]);
/** Starts `lvsd run`; resolves once it logged `started`. */
async function startDaemon(resync) {
  const child = spawn(
    LVSD[0],
    [
      ...LVSD.slice(1),
      'run',
      '-c',
      watched,
      '--resync-interval',
      resync,
      '--log-format',
      'json',
      '--log-level',
      'info',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const logs = [];
  let buf = '';
  child.stdout.setEncoding('utf8').on('data', (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        logs.push(JSON.parse(line));
      } catch {
        logs.push({ raw: line });
      }
    }
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d) => {
    stderr += d;
  });
  const t0 = performance.now();
  while (!logs.some((l) => l.event === 'started')) {
    if (child.exitCode !== null) throw new Error(`lvsd run exited ${child.exitCode}: ${stderr}`);
    if (performance.now() - t0 > 600_000) throw new Error('lvsd run did not start within 600 s');
    await sleep(50);
  }
  const started = ms(t0);
  return {
    child,
    logs,
    started,
    stderr: () => stderr,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((res) => child.once('exit', res));
    },
  };
}

/** CPU seconds (user + system) and peak RSS of a process, from /proc. */
function usage(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15)
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { cpuSeconds: ticks / 100, hwmMB: kb('VmHWM') / 1024, rssMB: kb('VmRSS') / 1024 };
}

/** Resolves when a listener answers the health check; closing it fails the next check. */
async function listener() {
  const srv = createServer((c) => c.destroy());
  await new Promise((res, rej) => srv.once('error', rej).listen(CHECKED.port, checkedAddress, res));
  return srv;
}

/** Polls the kernel until `pred` holds for a real server of service `i` (or 300 s pass); ms since `t0`. */
async function untilKernel(client, i, address, pred, t0) {
  const s = serviceAt(i);
  const svc = { family: 'ipv4', protocol: 'tcp', address: s.vip, port: s.port };
  for (;;) {
    const list = await client.realServers(svc);
    if (pred(list.find((x) => x.address === address))) return ms(t0);
    if (performance.now() - t0 > 300_000) return undefined;
    await sleep(50); // the poll shares the one CPU of the test kernel with the daemon: not too often
  }
}

/** Waits for a log record; undefined after `limit` ms. */
async function logged(d, from, pred, limit = 300_000) {
  const t0 = performance.now();
  for (;;) {
    const rec = d.logs.slice(from).find(pred);
    if (rec || performance.now() - t0 > limit || d.child.exitCode !== null) return rec;
    await sleep(20);
  }
}

/** The reconcile's own account: duration, its phases, and the kernel operations it logged. */
function reconcileOf(d, from, trigger) {
  const recs = d.logs.slice(from);
  const rec = recs.find((l) => l.event === 'reconcile' && l.trigger === trigger);
  if (!rec) return undefined;
  const { duration_ms, load_ms, read_ms, plan_ms, apply_ms, mode, reason } = rec;
  const ops = recs.filter((l) => l.event === 'change' && l.trigger === trigger).length;
  return {
    durationMs: duration_ms,
    loadMs: load_ms,
    readMs: read_ms,
    planMs: plan_ms,
    applyMs: apply_ms,
    ops,
    mode,
    reason,
  };
}

async function savedLine(d, client, style, o) {
  const newWeight = 100 + rep;
  const before = d.logs.length;
  fs.writeFileSync(
    path.join(watchDir, '.lvsd.yaml.tmp'),
    configText(n, r, (i, k) => (i === target && k === 3 ? newWeight : realServerAt(k).weight), style, CHECKED),
  );
  fs.renameSync(path.join(watchDir, '.lvsd.yaml.tmp'), watched);
  const t0 = performance.now();
  o.savedLineMs = await untilKernel(client, target, realServerAt(3).address, (x) => x?.weight === newWeight, t0);
  if (o.savedLineMs === undefined)
    throw new Error(`the new weight did not reach the kernel: ${d.stderr().slice(-1500)}`);
  await logged(d, before, (l) => l.event === 'reconcile' && l.trigger === 'file');
  o.savedLine = reconcileOf(d, before, 'file');
  say(
    `${style}: saved line in the kernel ${o.savedLineMs} ms after the rename; reconcile ${JSON.stringify(o.savedLine)}`,
  );
}

async function healthFlip(d, client, style, o, srv) {
  const before = d.logs.length;
  const t0 = performance.now();
  await new Promise((res) => srv.close(res));
  const flipped = await logged(d, before, (l) => l.event === 'health');
  const tVerdict = performance.now();
  const seen = await untilKernel(client, CHECKED.service, checkedAddress, (x) => x?.weight === 0, t0);
  if (!flipped || seen === undefined)
    throw new Error(`the health flip did not reach the kernel: ${d.stderr().slice(-1500)}`);
  await logged(d, before, (l) => l.event === 'reconcile' && l.trigger === 'health');
  o.healthFlip = reconcileOf(d, before, 'health');
  o.healthFlipSeenMs = Math.round(seen - (tVerdict - t0));
  say(
    `${style}: health flip: reconcile ${JSON.stringify(o.healthFlip)}; in the kernel ${o.healthFlipSeenMs} ms after the verdict was logged (50 ms poll)`,
  );
}

/** CPU of two no-change resyncs (each with the 30 s at rest before it) and the RSS after them. */
async function resyncs(d, o) {
  const cpu = [];
  let last = usage(d.child.pid);
  const records = [];
  for (let k = 0; k < 2; k++) {
    const from = d.logs.length;
    const rec = await logged(d, from, (l) => l.event === 'reconcile' && l.trigger === 'resync', 120_000);
    if (!rec) throw new Error(`no resync within 120 s: ${d.stderr().slice(-1500)}`);
    const now = usage(d.child.pid);
    cpu.push(+(now.cpuSeconds - last.cpuSeconds).toFixed(2));
    records.push({ ...reconcileOf(d, from, 'resync'), changes: rec.changes });
    last = now;
  }
  o.resync = { cpuSeconds: cpu, records, rssMB: Math.round(last.rssMB), hwmMB: Math.round(last.hwmMB) };
  say(`resyncs: ${JSON.stringify(o.resync)}`);
}

{
  const { openIpvs } = await import(path.join(ROOT, 'dist/ipvs/netlink-client.js'));
  const client = await openIpvs();
  for (const style of STYLES) {
    const o = out.styles[style];
    fs.copyFileSync(cfgFile(style), watched);
    const srv = await listener();
    const d = await startDaemon(rest ? '30s' : '0');
    o.runStartMs = d.started;
    say(`${style}: lvsd run started (full read, config load, no-op plan) in ${d.started} ms`);
    try {
      await savedLine(d, client, style, o);
      await healthFlip(d, client, style, o, srv);
      // At rest: V8 gives memory back some seconds after the work stops (its memory reducer).
      await sleep(12_000);
      const u = usage(d.child.pid);
      o.atRest = { rssMB: Math.round(u.rssMB), hwmMB: Math.round(u.hwmMB) };
      say(`${style}: at rest after the start, the saved line and the flip: ${JSON.stringify(o.atRest)}`);
      if (rest) await resyncs(d, o);
    } catch (e) {
      o.daemonError = e.message.slice(0, 2000);
      say(`${style}: ${o.daemonError}`);
    } finally {
      srv.close();
      await d.stop();
    }
  }
  client.close();
}
fs.rmSync(watchDir, { recursive: true, force: true });
process.stdout.write(`@@RESULT ${JSON.stringify(out)}\n`);
