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
import { STYLES } from './table.mjs';

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

const ratio = (ref, ours) => (ref && ours ? +(ref.median / ours.median).toFixed(2) : null);
/** One file style's figures over the repetitions, with its ratios to ipvsadm. */
function styleFigures(reps, s) {
  const f = {
    applyMs: stat(reps, (x) => x.applyMs),
    applyPhases: {
      loadMs: stat(reps, (x) => x.applyPhases?.loadMs),
      readMs: stat(reps, (x) => x.applyPhases?.readMs),
      diffMs: stat(reps, (x) => x.applyPhases?.diffMs),
      writeMs: stat(reps, (x) => x.applyPhases?.writeMs),
      ops: reps[0].applyPhases?.ops,
    },
    planMs: stat(reps, (x) => x.planMs),
    planPhases: {
      loadMs: stat(reps, (x) => x.planPhases?.loadMs),
      readMs: stat(reps, (x) => x.planPhases?.readMs),
      diffMs: stat(reps, (x) => x.planPhases?.diffMs),
      ops: reps[0].planPhases?.ops,
    },
    runStartMs: stat(reps, (x) => x.runStartMs),
    savedLineMs: stat(reps, (x) => x.savedLineMs),
    savedLineReconcileMs: stat(reps, (x) => x.savedLine?.durationMs),
    savedLineOps: reps.map((x) => x.savedLine?.ops ?? x.daemonError),
    savedLine: reps.map((x) => x.savedLine),
    healthFlipMs: stat(reps, (x) => x.healthFlip?.durationMs),
    healthFlipOps: reps.map((x) => x.healthFlip?.ops ?? x.daemonError),
    healthFlip: reps.map((x) => x.healthFlip),
    atRest: {
      rssMB: stat(reps, (x) => x.atRest?.rssMB),
      hwmMB: stat(reps, (x) => x.atRest?.hwmMB),
    },
    resync: reps.find((x) => x.resync)?.resync,
    errors: reps.map((x) => x.daemonError).filter(Boolean),
  };
  f.ratios = {
    converge: ratio(s.ipvsadmRestoreMs, f.applyMs),
    convergeKernelWrite: ratio(s.ipvsadmRestoreMs, f.applyPhases.writeMs),
    read: ratio(s.ipvsadmSaveMs, f.planMs),
    readKernel: ratio(s.ipvsadmSaveMs, f.planPhases.readMs),
  };
  return f;
}

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
    repetitions: reps.length,
    ipvsadmRestoreMs: stat(reps, (x) => x.restoreMs),
    ipvsadmSaveMs: stat(reps, (x) => x.saveMs),
    styles: {},
  };
  for (const style of STYLES)
    s.styles[style] = styleFigures(
      reps.map((x) => x.styles[style]),
      s,
    );
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
const mb = (st) => (st ? `${st.median} MB (${st.min}-${st.max})` : '-');
const x = (r) => (r === null ? '-' : `${r.toFixed(1)}x`);
const lines = [];
for (const s of results) {
  lines.push(
    '',
    `## ${s.size}: ${s.services} services, ${s.realservers} real servers (${s.objects} kernel objects); median (min-max) of ${s.repetitions} runs`,
    '',
    `ipvsadm -R: ${f(s.ipvsadmRestoreMs)}; ipvsadm -Sn: ${f(s.ipvsadmSaveMs)}`,
    '',
  );
  lines.push(`| work | target | ${STYLES.map((st) => `lvsd, ${st} style`).join(' | ')} |`);
  lines.push(`|---|---|${STYLES.map(() => '---|').join('')}`);
  const row = (work, target, cell) =>
    lines.push(`| ${work} | ${target} | ${STYLES.map((st) => cell(s.styles[st])).join(' | ')} |`);
  row('apply from empty vs ipvsadm -R', '>= 15x', (t) => `${f(t.applyMs)}: **${x(t.ratios.converge)}**`);
  row(
    `... its kernel writes (${s.styles.flow.applyPhases.ops} ops)`,
    '>= 50x',
    (t) => `${f(t.applyPhases.writeMs)}: **${x(t.ratios.convergeKernelWrite)}**`,
  );
  row('... config load / diff', '', (t) => `${f(t.applyPhases.loadMs)} / ${f(t.applyPhases.diffMs)}`);
  row('plan on the equal table vs ipvsadm -Sn', '>= 1x', (t) => `${f(t.planMs)}: **${x(t.ratios.read)}**`);
  row(
    '... config load / table read / diff',
    '',
    (t) =>
      `${f(t.planPhases.loadMs)} / ${f(t.planPhases.readMs)} (${x(t.ratios.readKernel)}) / ${f(t.planPhases.diffMs)}`,
  );
  row(
    'saved line -> kernel (rename to weight seen)',
    '<= 0.3 s, 1 op',
    (t) => `${f(t.savedLineMs)}, ops ${t.savedLineOps.join(', ')}`,
  );
  row(
    '... its reconcile (logged)',
    '',
    (t) => `${f(t.savedLineReconcileMs)}${t.savedLine[0]?.mode ? ` (${t.savedLine[0].mode})` : ''}`,
  );
  row(
    'health flip -> kernel (the reconcile, logged)',
    '<= 0.1 s',
    (t) => `${f(t.healthFlipMs)}, ops ${t.healthFlipOps.join(', ')}`,
  );
  row('lvsd run start on the table', '', (t) => f(t.runStartMs));
  row(
    'RSS at rest, 12 s after the start, saved line and flip (VmRSS / VmHWM)',
    '<= 150 MB',
    (t) => `${mb(t.atRest.rssMB)} / ${mb(t.atRest.hwmMB)}`,
  );
  if (STYLES.some((st) => s.styles[st].resync)) {
    row('no-change resync, CPU s (30 s at rest + 1 resync; 2 resyncs)', '<= 2 s', (t) =>
      t.resync ? t.resync.cpuSeconds.join(', ') : '-',
    );
    row('... the resyncs logged (ms)', '', (t) =>
      t.resync ? t.resync.records.map((r) => `${r.durationMs} (read ${r.readMs}, plan ${r.planMs})`).join(', ') : '-',
    );
    row('RSS after the resyncs (VmRSS / VmHWM)', '<= 150 MB', (t) =>
      t.resync ? `${t.resync.rssMB} MB / ${t.resync.hwmMB} MB` : '-',
    );
  }
  for (const st of STYLES)
    for (const e of s.styles[st].errors) lines.push('', `daemon error (${st}): ${e.split('\n')[0]}`);
}
for (const x of failures) lines.push('', `FAILED: ${x.size} repetition ${x.rep}: ${x.error.split('\n')[0]}`);
process.stdout.write(
  lines.join('\n') +
    `\n\n${report.kernel}, node ${report.node}, ${report.ipvsadm}; ${report.guestSeconds} s in the kernel\n`,
);
