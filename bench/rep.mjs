// One repetition of the benchmark at one size, inside a fresh network
// namespace of the test kernel (bench/inside.mjs starts it with unshare -n):
// every IPVS table here starts empty, with no deleted real servers in the
// kernel's trash list (a flushed table leaves them there for a minute or two,
// and every add then scans them: that would time the trash, not the client).
//
//   node bench/rep.mjs N R REP WORKDIR [--rest]
//
// Prints one JSON line (prefixed @@RESULT) with every figure of this repetition.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { configText, ipvsadmText, serviceAt } from './table.mjs';

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
const REST_SECONDS = Number(process.env.LVSD_BENCH_REST_SECONDS ?? 60);

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

const cfgFile = path.join(work, `lvsd-${n}.yaml`);
const saveFile = path.join(work, `ipvsadm-${n}.txt`);
if (!fs.existsSync(cfgFile)) fs.writeFileSync(cfgFile, configText(n, r));
if (!fs.existsSync(saveFile)) fs.writeFileSync(saveFile, ipvsadmText(n, r));

const out = { size: `${n}x${r}`, services: n, realservers: n * r, objects: n * (r + 1), rep };

// 1. Converge from an empty table. ipvsadm -R in a namespace of its own (this one must stay
//    empty for lvsd); the order alternates between repetitions.
const reference = () => {
  // The namespace dies with ipvsadm; give the kernel a moment to free its table.
  out.restoreMs = timed(['unshare', '-n', 'sh', '-c', 'ip link set lo up && exec ipvsadm -R'], { stdin: saveFile });
  say(`ipvsadm -R: ${out.restoreMs} ms`);
};
const ours = () => {
  out.applyMs = timed([...LVSD, 'apply', '-c', cfgFile]);
  say(`lvsd apply: ${out.applyMs} ms`);
};
if (rep % 2) {
  reference();
  await settle('ipvsadm -R');
  ours();
} else {
  ours();
  await settle('lvsd apply');
  reference();
  await settle('ipvsadm -R');
}
// Where lvsd apply's time goes, on an empty table again (a namespace of its own).
{
  const p = spawnSync(
    'unshare',
    [
      '-n',
      'sh',
      '-c',
      `ip link set lo up && exec ${[process.execPath, ...NODE_FLAGS, path.join(ROOT, 'bench/phases.mjs')].join(' ')} apply ${cfgFile}`,
    ],
    { encoding: 'utf8' },
  );
  if (p.status !== 0) throw new Error(`phases apply: ${p.stderr}`);
  out.applyPhases = JSON.parse(p.stdout);
  say(`apply phases: ${JSON.stringify(out.applyPhases)}`);
  await settle('the phases');
}

// 2. Read the live table (110,000 objects here now) / a no-op reconcile.
const readRef = () => {
  out.saveMs = timed(['sh', '-c', 'exec ipvsadm -Sn > /dev/null']);
  say(`ipvsadm -Sn: ${out.saveMs} ms`);
};
const readOurs = () => {
  out.planMs = timed([...LVSD, 'plan', '-c', cfgFile]);
  say(`lvsd plan (no changes): ${out.planMs} ms`);
};
if (rep % 2) {
  readRef();
  readOurs();
} else {
  readOurs();
  readRef();
}
out.planPhases = phases('plan', cfgFile);
say(`plan phases: ${JSON.stringify(out.planPhases)}`);

// 3. lvsd run: one real server's weight changed in the file.
const watchDir = fs.mkdtempSync('/run/lvsd-bench-'); // tmpfs: hostfs delivers no inotify events
const watched = path.join(watchDir, 'lvsd.yaml');
fs.copyFileSync(cfgFile, watched);

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

async function atRest(d, label) {
  const a = usage(d.child.pid);
  await sleep(REST_SECONDS * 1000);
  const b = usage(d.child.pid);
  const res = {
    seconds: REST_SECONDS,
    cpuSeconds: +(b.cpuSeconds - a.cpuSeconds).toFixed(2),
    peakRssMB: Math.round(b.hwmMB),
    rssMB: Math.round(b.rssMB),
  };
  say(`at rest (${label}): ${JSON.stringify(res)}`);
  return res;
}

{
  const { openIpvs } = await import(path.join(ROOT, 'dist/ipvs/netlink-client.js'));
  const client = await openIpvs();
  const d = await startDaemon('0');
  out.runStartMs = d.started;
  say(`lvsd run started (full read, config load, no-op plan) in ${d.started} ms`);
  const target = Math.floor(n / 2);
  const j = 3;
  const newWeight = 100 + rep;
  const s = serviceAt(target);
  const before = d.logs.length;
  fs.writeFileSync(
    path.join(watchDir, '.lvsd.yaml.tmp'),
    configText(n, r, (i, k) => (i === target && k === j ? newWeight : k + 1)),
  );
  fs.renameSync(path.join(watchDir, '.lvsd.yaml.tmp'), watched);
  const t0 = performance.now();
  const svc = { family: 'ipv4', protocol: 'tcp', address: s.vip, port: s.port };
  let note = performance.now();
  for (;;) {
    const list = await client.realServers(svc);
    if (list.find((x) => x.address === `203.0.113.${10 + j}`)?.weight === newWeight) {
      out.changeLatencyMs = ms(t0);
      break;
    }
    if (performance.now() - t0 > 300_000) {
      const dead =
        d.child.exitCode !== null || d.child.signalCode !== null
          ? `; the daemon had exited (${d.child.exitCode ?? d.child.signalCode}): ${d.stderr().slice(-1500)}`
          : '';
      out.changeError = `the new weight did not reach the kernel within 300 s${dead}`;
      say(
        `${out.changeError}; the daemon's logs since the rename: ${JSON.stringify(d.logs.slice(before)).slice(0, 3000)}`,
      );
      break;
    }
    if (performance.now() - note > 30_000) {
      note = performance.now();
      say(
        `waiting for the weight: ${ms(t0)} ms since the rename, daemon logs since: ${JSON.stringify(d.logs.slice(before).map((l) => l.event ?? l.raw)).slice(0, 500)}`,
      );
    }
    await sleep(50); // the poll shares the one CPU of the test kernel with the daemon: not too often
  }
  if (out.changeError === undefined) {
    while (!d.logs.slice(before).some((l) => l.event === 'reconcile' && l.trigger === 'file')) await sleep(20);
    const recs = d.logs.slice(before);
    out.changeOps = recs.filter((l) => l.event === 'change').length;
    const rec = recs.find((l) => l.event === 'reconcile');
    out.changeReconcileMs = rec.duration_ms;
    out.changeReconcilePhases = {
      loadMs: rec.load_ms,
      readMs: rec.read_ms,
      planMs: rec.plan_ms,
      applyMs: rec.apply_ms,
    };
    say(
      `one weight changed: in the kernel ${out.changeLatencyMs} ms after the rename; ${out.changeOps} kernel operation(s); reconcile ${out.changeReconcileMs} ms ${JSON.stringify(out.changeReconcilePhases)}`,
    );
  }
  client.close();

  // 4. At rest with the big table: no resync, then the default 30 s resync.
  if (rest) {
    out.restNoResync = await atRest(d, '--resync-interval 0');
    await d.stop();
    const d30 = await startDaemon('30s');
    out.restResync30 = await atRest(d30, '--resync-interval 30s');
    out.restResync30.reconciles = d30.logs.filter((l) => l.event === 'reconcile' && l.trigger === 'resync').length;
    await d30.stop();
  } else {
    await d.stop();
  }
}
fs.rmSync(watchDir, { recursive: true, force: true });
process.stdout.write(`@@RESULT ${JSON.stringify(out)}\n`);
