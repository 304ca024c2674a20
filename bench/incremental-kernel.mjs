// The daemon's incremental reconcile in the test kernel: `lvsd run` (dist/cli/main.js, with the
// node flags of its #! line) on a 10,000-service x 10 table, per file style in a fresh network
// namespace. Times, from the daemon's own log records (wall clock, ms):
// - saved line: a real server's weight changed in the file (written, renamed over) to the
//   daemon's `change` record (logged once the kernel confirmed it); this includes the watcher's
//   150 ms debounce;
// - health flip: the `health` record of a real server going down (a TCP check of service 0's
//   real servers, which this script listens for on lo; it stops listening for one) to its
//   `change` record, and back up. (An exec check forks the daemon: in User-Mode Linux that
//   costs the daemon hundreds of ms each time, and would be what is measured.)
// Each row also gives the kernel operations sent and the reconcile record's load/plan modes and
// load_ms/plan_ms/apply_ms. Needs dist/ and User-Mode Linux (test/kernel/uml.mjs).
//
//   node bench/incremental-kernel.mjs [--services 10000] [--runs 5]
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SELF = fileURLToPath(import.meta.url);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const { values } = parseArgs({
  options: {
    services: { type: 'string', default: '10000' },
    runs: { type: 'string', default: '5' },
    style: { type: 'string' },
    inside: { type: 'boolean', default: false },
  },
});
const N = Number(values.services);
const RUNS = Number(values.runs);
const R = 10;

function configText(style, weights) {
  const out = ['version: 1', 'services:'];
  for (let i = 0; i < N; i++) {
    const vip = `198.51.100.${1 + (i % 250)}`;
    const port = 1000 + Math.floor(i / 250);
    const w = (j) => weights.get(`${i}/${j}`) ?? 1 + j;
    // Service 0 is checked: each real server is up while this script listens on its address.
    const check = i === 0 ? 'check: { type: tcp, interval: 1s, rise: 1, fall: 1, on_failure: quiesce }' : undefined;
    if (style === 'flow') {
      const rs = Array.from({ length: R }, (_, j) => `{ address: 203.0.113.${10 + j}, weight: ${w(j)} }`);
      const fields = [`name: s${i}`, `vip: ${vip}`, `port: ${port}`, 'scheduler: wrr', ...(check ? [check] : [])];
      out.push(`  - { ${fields.join(', ')}, realservers: [${rs.join(', ')}] }`);
      continue;
    }
    out.push(`  - name: s${i}`, `    vip: ${vip}`, `    port: ${port}`, '    scheduler: wrr');
    if (check) out.push(`    ${check}`);
    out.push('    realservers:');
    for (let j = 0; j < R; j++) out.push(`      - address: 203.0.113.${10 + j}`, `        weight: ${w(j)}`);
  }
  return out.join('\n') + '\n';
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** `lvsd run` on `file`; its JSON log records are collected in `logs`. */
async function startDaemon(file) {
  const cli = path.join(ROOT, 'dist/cli/main.js');
  const flags = fs
    .readFileSync(cli, 'utf8')
    .split('\n')[0]
    .split(/\s+/)
    .filter((a) => a.startsWith('--'));
  const args = [
    ...flags,
    cli,
    'run',
    '-c',
    file,
    '--resync-interval',
    '0',
    '--log-format',
    'json',
    '--log-level',
    'info',
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const logs = [];
  let buf = '';
  child.stdout.setEncoding('utf8').on('data', (d) => {
    buf += d;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        logs.push(JSON.parse(line));
      } catch {
        logs.push({ raw: line });
      }
    }
  });
  const t0 = performance.now();
  while (!logs.some((l) => l.event === 'reconcile' && l.trigger === 'start')) {
    if (child.exitCode !== null) throw new Error(`lvsd run exited ${child.exitCode}`);
    if (performance.now() - t0 > 900_000) throw new Error('lvsd run did not start within 900 s');
    await sleep(100);
  }
  return { child, logs, startS: Math.round(performance.now() - t0) / 1000 };
}

/** Waits for a record after index `from` that `pred` accepts. */
async function waitFor(logs, from, pred, what) {
  const t0 = performance.now();
  for (;;) {
    const hit = logs.slice(from).find(pred);
    if (hit) return hit;
    if (performance.now() - t0 > 120_000) throw new Error(`no ${what} within 120 s`);
    await sleep(20);
  }
}

/** The reconcile record that followed index `from`, and the change records it made. */
async function reconcileAfter(logs, from) {
  const rec = await waitFor(logs, from, (l) => l.event === 'reconcile' && l.result !== 'skipped', 'reconcile');
  const at = logs.indexOf(rec);
  const changes = logs.slice(from, at).filter((l) => l.event === 'change');
  const pick = (k) => rec[k];
  return {
    rec,
    changes,
    fields: Object.fromEntries(
      ['load', 'plan', 'load_ms', 'plan_ms', 'apply_ms', 'planned_services', 'load_reason', 'plan_reason']
        .map((k) => [k, pick(k)])
        .filter(([, v]) => v !== undefined),
    ),
  };
}

async function style(name) {
  const dir = fs.mkdtempSync(`/run/lvsd-incr-${name}-`); // tmpfs: hostfs delivers no inotify events
  const file = path.join(dir, 'lvsd.yaml');
  const weights = new Map();
  const save = () => {
    fs.writeFileSync(`${file}.tmp`, configText(name, weights));
    fs.renameSync(`${file}.tmp`, file);
  };
  save();
  // Service 0's real servers listen on lo (port 1000: dr keeps the service's port).
  const listeners = new Map();
  const listen = (j) =>
    new Promise((res, rej) => {
      const server = net.createServer((c) => c.destroy()).once('error', rej);
      server.listen(1000, `203.0.113.${10 + j}`, () => res(server));
    });
  for (let j = 0; j < R; j++) {
    spawnSync('ip', ['addr', 'add', `203.0.113.${10 + j}/32`, 'dev', 'lo']);
    listeners.set(j, await listen(j));
  }
  const d = await startDaemon(file);
  const saved = [];
  const flips = [];
  for (let k = 0; k < RUNS; k++) {
    const i = Math.floor(((k + 0.5) / RUNS) * N);
    weights.set(`${i}/3`, 50 + k);
    const from = d.logs.length;
    save();
    const renamed = Date.now();
    const r = await reconcileAfter(d.logs, from);
    const last = r.changes.at(-1);
    saved.push({ ms: last ? Date.parse(last.time) - renamed : NaN, ops: r.changes.length, ...r.fields });
    for (const down of [true, false]) {
      const j = k % R;
      const at = d.logs.length;
      if (down) await new Promise((res) => listeners.get(j).close(res));
      else listeners.set(j, await listen(j));
      const h = await waitFor(d.logs, at, (l) => l.event === 'health', 'health verdict');
      const hr = await reconcileAfter(d.logs, d.logs.indexOf(h));
      const c = hr.changes.at(-1);
      flips.push({
        ms: c ? Date.parse(c.time) - Date.parse(h.time) : NaN,
        ops: hr.changes.length,
        up: !down,
        ...hr.fields,
      });
    }
  }
  for (const l of listeners.values()) l.close();
  d.child.kill('SIGTERM');
  await new Promise((r) => d.child.once('exit', r));
  const kernel = spawnSync(
    'ipvsadm',
    [
      '-Ln',
      '-t',
      `198.51.100.${1 + (Math.floor((0.5 / RUNS) * N) % 250)}:${1000 + Math.floor(Math.floor((0.5 / RUNS) * N) / 250)}`,
    ],
    { encoding: 'utf8' },
  ).stdout;
  const ok =
    kernel.includes(`203.0.113.13:${1000 + Math.floor(Math.floor((0.5 / RUNS) * N) / 250)}`) && / 50 /.test(kernel);
  const out = {
    style: name,
    services: N,
    startS: d.startS,
    savedLine: saved,
    healthFlip: flips,
    kernelShowsWeight: ok,
  };
  console.log(`@@RESULT ${JSON.stringify(out)}`);
}

function summary(rows) {
  for (const x of rows) {
    const s = x.savedLine.map((r) => r.ms);
    const h = x.healthFlip.map((r) => r.ms);
    console.log(
      `${x.style}, ${x.services} x ${R}: start ${x.startS} s; saved line -> kernel median ${median(s)} ms (${Math.min(...s)}-${Math.max(...s)}), ` +
        `ops ${[...new Set(x.savedLine.map((r) => r.ops))].join(',')}, ${[...new Set(x.savedLine.map((r) => `${r.load}/${r.plan}`))].join(',')}, ` +
        `load/plan/apply ms ${median(x.savedLine.map((r) => r.load_ms))}/${median(x.savedLine.map((r) => r.plan_ms))}/${median(x.savedLine.map((r) => r.apply_ms))}; ` +
        `health flip -> kernel median ${median(h)} ms (${Math.min(...h)}-${Math.max(...h)}), ops ${[...new Set(x.healthFlip.map((r) => r.ops))].join(',')}, ` +
        `plan ${[...new Set(x.healthFlip.map((r) => r.plan))].join(',')}; the kernel shows the first new weight: ${x.kernelShowsWeight}`,
    );
  }
}

if (values.style) {
  await style(values.style);
} else if (values.inside) {
  const rows = [];
  for (const name of ['flow', 'block']) {
    const args = [SELF, '--style', name, '--services', String(N), '--runs', String(RUNS)].join(' ');
    const p = spawnSync('unshare', ['-n', 'sh', '-c', `ip link set lo up && exec ${process.execPath} ${args}`], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 64 * 1024 * 1024,
    });
    const line = p.stdout.split('\n').find((l) => l.startsWith('@@RESULT '));
    if (!line) throw new Error(`${name} exited ${p.status}: ${p.stdout.slice(-2000)}`);
    rows.push(JSON.parse(line.slice('@@RESULT '.length)));
    console.log(JSON.stringify(rows.at(-1)));
  }
  summary(rows);
} else {
  const { REPO_ROOT, runInUml } = await import('../test/kernel/uml.mjs');
  const r = await runInUml({
    command: [process.execPath, SELF, '--inside', '--services', String(N), '--runs', String(RUNS)],
    cwd: REPO_ROOT,
    timeoutMs: 3600_000,
    memory: process.env.LVSD_BENCH_MEM ?? '6G',
    stream: true,
  });
  process.exit(r.exitCode);
}
