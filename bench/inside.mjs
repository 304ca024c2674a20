// The benchmark's driver inside the test kernel (bench/run.mjs boots it):
// for each size, RUNS repetitions of bench/rep.mjs, each in a fresh network
// namespace; then medians, spreads and ratios, printed and written as JSON.
//
//   node bench/inside.mjs OUT.json SIZES RUNS      e.g. results.json 1000,10000 3
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [outFile, sizesArg = '1000,10000', runsArg = '3'] = process.argv.slice(2);
const sizes = sizesArg.split(',').map(Number);
const runs = Number(runsArg);
const R = 10;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'lvsd-bench-'));

function rep(n, i, rest) {
  return new Promise((resolve, reject) => {
    const args = [path.join(ROOT, 'bench/rep.mjs'), n, R, i, work, ...(rest ? ['--rest'] : [])].join(' ');
    const child = spawn('unshare', ['-n', 'sh', '-c', `ip link set lo up && exec ${process.execPath} ${args}`], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d) => {
      stdout += d;
    });
    child.on('exit', (code) => {
      const line = stdout.split('\n').find((l) => l.startsWith('@@RESULT '));
      if (code !== 0 || !line) reject(new Error(`rep ${n} #${i} exited ${code}: ${stdout}`));
      else resolve(JSON.parse(line.slice('@@RESULT '.length)));
    });
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
/** median, min, max of a figure over the repetitions. */
const stat = (reps, get) => {
  const xs = reps.map(get).filter((x) => typeof x === 'number' && Number.isFinite(x));
  return xs.length ? { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), runs: xs } : undefined;
};

const t0 = Date.now();
const results = [];
const failures = [];
for (const n of sizes) {
  const reps = [];
  for (let i = 1; i <= runs; i++) {
    // A failed repetition is reported and left out of the figures; the others still count.
    try {
      reps.push(await rep(n, i, i === 1));
    } catch (e) {
      process.stderr.write(`[rep ${i} ${n}x${R}] FAILED: ${e.message.slice(0, 2000)}\n`);
      failures.push({ size: `${n}x${R}`, rep: i, error: e.message.slice(0, 2000) });
    }
  }
  if (reps.length === 0) continue;
  const s = {
    size: reps[0].size,
    services: n,
    realservers: n * R,
    objects: reps[0].objects,
    converge: { ipvsadmRestoreMs: stat(reps, (x) => x.restoreMs), lvsdApplyMs: stat(reps, (x) => x.applyMs) },
    applyPhases: {
      loadMs: stat(reps, (x) => x.applyPhases.loadMs),
      readMs: stat(reps, (x) => x.applyPhases.readMs),
      diffMs: stat(reps, (x) => x.applyPhases.diffMs),
      writeMs: stat(reps, (x) => x.applyPhases.writeMs),
      ops: reps[0].applyPhases.ops,
    },
    repetitions: reps.length,
    read: { ipvsadmSaveMs: stat(reps, (x) => x.saveMs), lvsdPlanMs: stat(reps, (x) => x.planMs) },
    planPhases: {
      loadMs: stat(reps, (x) => x.planPhases.loadMs),
      readMs: stat(reps, (x) => x.planPhases.readMs),
      diffMs: stat(reps, (x) => x.planPhases.diffMs),
      ops: reps[0].planPhases.ops,
    },
    change: {
      latencyMs: stat(reps, (x) => x.changeLatencyMs),
      reconcileMs: stat(reps, (x) => x.changeReconcileMs),
      reconcileLoadMs: stat(reps, (x) => x.changeReconcilePhases?.loadMs),
      reconcilePlanMs: stat(reps, (x) => x.changeReconcilePhases?.planMs),
      reconcileApplyMs: stat(reps, (x) => x.changeReconcilePhases?.applyMs),
      kernelOps: reps.map((x) => x.changeOps ?? x.changeError),
      runStartMs: stat(reps, (x) => x.runStartMs),
    },
    rest: {
      noResync: reps.find((x) => x.restNoResync)?.restNoResync,
      resync30s: reps.find((x) => x.restResync30)?.restResync30,
    },
  };
  const ratio = (ref, ours) => (ref && ours ? +(ref.median / ours.median).toFixed(2) : null);
  s.ratios = {
    converge: ratio(s.converge.ipvsadmRestoreMs, s.converge.lvsdApplyMs),
    convergeKernelWrite: ratio(s.converge.ipvsadmRestoreMs, s.applyPhases.writeMs),
    read: ratio(s.read.ipvsadmSaveMs, s.read.lvsdPlanMs),
    readKernel: ratio(s.read.ipvsadmSaveMs, s.planPhases.readMs),
  };
  results.push(s);
  // What is done so far, in case a later size does not finish.
  fs.writeFileSync(outFile, JSON.stringify({ partial: true, sizes: results, failures }, null, 2) + '\n');
}

const release = fs.readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
const ipvsadmVersion = await new Promise((res) => {
  const c = spawn('ipvsadm', ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let o = '';
  c.stdout.on('data', (d) => {
    o += d;
  });
  c.on('exit', () => res(o.trim()));
});
const report = {
  date: new Date().toISOString(),
  kernel: `Linux ${release} (User-Mode Linux)`,
  node: process.version,
  ipvsadm: ipvsadmVersion,
  runs,
  guestSeconds: Math.round((Date.now() - t0) / 1000),
  sizes: results,
  failures,
};
fs.writeFileSync(outFile, JSON.stringify(report, null, 2) + '\n');
fs.rmSync(work, { recursive: true, force: true });

// The table.
const f = (st) =>
  st ? `${(st.median / 1000).toFixed(2)} s (${(st.min / 1000).toFixed(2)}-${(st.max / 1000).toFixed(2)})` : '-';
const x = (r) => (r === null ? '-' : `${r.toFixed(1)}x`);
const lines = [];
for (const s of results) {
  lines.push(
    '',
    `## ${s.size}: ${s.services} services, ${s.realservers} real servers (${s.objects} kernel objects); median (min-max) of ${runs} runs`,
    '',
  );
  lines.push('| work | reference | lvsd | ratio |', '|---|---|---|---|');
  lines.push(
    `| converge from an empty table | ipvsadm -R: ${f(s.converge.ipvsadmRestoreMs)} | lvsd apply: ${f(s.converge.lvsdApplyMs)} | ${x(s.ratios.converge)} |`,
  );
  lines.push(
    `| ... of which the kernel writes (${s.applyPhases.ops} ops) | | ${f(s.applyPhases.writeMs)} | ${x(s.ratios.convergeKernelWrite)} |`,
  );
  lines.push(
    `| ... config load / read / diff | | ${f(s.applyPhases.loadMs)} / ${f(s.applyPhases.readMs)} / ${f(s.applyPhases.diffMs)} | |`,
  );
  lines.push(
    `| read the table / no-op reconcile | ipvsadm -Sn: ${f(s.read.ipvsadmSaveMs)} | lvsd plan: ${f(s.read.lvsdPlanMs)} | ${x(s.ratios.read)} |`,
  );
  lines.push(`| ... of which the table read | | ${f(s.planPhases.readMs)} | ${x(s.ratios.readKernel)} |`);
  lines.push(`| ... config load / diff | | ${f(s.planPhases.loadMs)} / ${f(s.planPhases.diffMs)} | |`);
  lines.push(
    `| one weight changed in the file | 1 ipvsadm -e | lvsd run: in the kernel ${f(s.change.latencyMs)} after the rename, kernel ops per run ${s.change.kernelOps.join(', ')} | |`,
  );
  lines.push(`| ... of which the reconcile (config load + plan + 1 write) | | ${f(s.change.reconcileMs)} | |`);
  lines.push(
    `| ... ... config load / plan / kernel write | | ${f(s.change.reconcileLoadMs)} / ${f(s.change.reconcilePlanMs)} / ${f(s.change.reconcileApplyMs)} | |`,
  );
  if (s.rest.noResync)
    lines.push(
      `| daemon at rest ${s.rest.noResync.seconds} s, --resync-interval 0 | - | CPU ${s.rest.noResync.cpuSeconds} s, peak RSS ${s.rest.noResync.peakRssMB} MB | |`,
    );
  if (s.rest.resync30s)
    lines.push(
      `| daemon at rest ${s.rest.resync30s.seconds} s, --resync-interval 30s | - | CPU ${s.rest.resync30s.cpuSeconds} s (${s.rest.resync30s.reconciles} resyncs), peak RSS ${s.rest.resync30s.peakRssMB} MB | |`,
    );
}
for (const x of failures) lines.push('', `FAILED: ${x.size} repetition ${x.rep}: ${x.error.split('\n')[0]}`);
process.stdout.write(
  lines.join('\n') +
    `\n\n${report.kernel}, node ${report.node}, ${report.ipvsadm}; ${report.guestSeconds} s in the kernel\n`,
);
