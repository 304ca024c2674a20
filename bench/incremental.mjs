// The daemon's incremental reconcile at scale, outside the kernel: the reconciler of `lvsd run`
// (dist/daemon/reconciler.js) with its incremental loader reading a real file, against the fake
// IPVS of the unit tests (test/unit/fake-ipvs.ts, transpiled on the fly) holding the table.
// Times, per file style: one saved line (a real server's weight; the file written and renamed
// over, as editors do) to the operation reaching the fake kernel; one health verdict to its
// operation; and, for comparison, a change the incremental path cannot take (a comment above
// `services:`: full load, full plan). Needs `npx tsc -p tsconfig.build.json` first.
//
//   node bench/incremental.mjs [--services 10000] [--realservers 10] [--runs 5] [--json]
//
// perf's bench/run.mjs may import { measureIncremental } and print its rows.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => import(pathToFileURL(path.join(ROOT, 'dist', p)).href);

/** Service i: VIP 198.51.100.(1 + i % 250), port 1000 + floor(i / 250); real server j: 203.0.113.(10 + j). */
function configText(n, r, { style, checks, weightOf }) {
  const out = ['version: 1', 'services:'];
  for (let i = 0; i < n; i++) {
    const vip = `198.51.100.${1 + (i % 250)}`;
    const port = 1000 + Math.floor(i / 250);
    const check = checks ? 'check: { type: tcp, interval: 30m }' : undefined;
    if (style === 'flow') {
      const rs = Array.from({ length: r }, (_, j) => `{ address: 203.0.113.${10 + j}, weight: ${weightOf(i, j)} }`);
      const fields = [`name: s${i}`, `vip: ${vip}`, `port: ${port}`, 'scheduler: wrr', ...(check ? [check] : [])];
      out.push(`  - { ${fields.join(', ')}, realservers: [${rs.join(', ')}] }`);
      continue;
    }
    out.push(`  - name: s${i}`, `    vip: ${vip}`, `    port: ${port}`, '    scheduler: wrr');
    if (check) out.push(`    ${check}`);
    out.push('    realservers:');
    for (let j = 0; j < r; j++) out.push(`      - address: 203.0.113.${10 + j}`, `        weight: ${weightOf(i, j)}`);
  }
  return out.join('\n') + '\n';
}

/** test/unit/fake-ipvs.ts as a module of dist/ (its imports of src/ pointed there). */
async function fakeIpvs() {
  const ts = (await import('typescript')).default;
  const source = fs.readFileSync(path.join(ROOT, 'test/unit/fake-ipvs.ts'), 'utf8');
  const js = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  const file = path.join(ROOT, 'dist', '.fake-ipvs.bench.mjs');
  fs.writeFileSync(file, js.replaceAll("'../../src/", "'./"));
  return (await import(pathToFileURL(file).href)).FakeIpvs;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x) => Math.round(x * 10) / 10;

/** One style: start, then `runs` saved lines, health flips and full-path changes. Resolves with the figures. */
async function measureStyle(opts, style, FakeIpvs) {
  const { IncrementalLoader } = await dist('config/incremental.js');
  const { readConfigTexts } = await dist('config/load.js');
  const { Reconciler } = await dist('daemon/reconciler.js');
  const { Metrics } = await dist('daemon/metrics.js');
  const { HealthMonitor } = await dist('health/monitor.js');
  const { lazyKernel } = await dist('apply/live.js');
  const { createLogger } = await dist('log.js');
  const { services: n, realservers: r, runs } = opts;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lvsd-incr-'));
  const file = path.join(dir, 'lvsd.yaml');
  const weights = new Map();
  const text = (comment = '') =>
    (comment ? `# ${comment}\n` : '') +
    configText(n, r, { style, checks: true, weightOf: (i, j) => weights.get(`${i}/${j}`) ?? 1 + j });
  const save = (t) => {
    fs.writeFileSync(`${file}.tmp`, t);
    fs.renameSync(`${file}.tmp`, file);
  };
  save(text());
  const fake = new FakeIpvs();
  const records = [];
  const log = createLogger({
    level: 'info',
    pretty: false,
    stream: { write: (l) => void records.push(JSON.parse(l)) },
  });
  // The daemon's monitor, so that its per-reconcile work (snapshot, update) is timed too; its checks never end.
  const monitor = new HealthMonitor({ onChange: () => {}, check: () => new Promise(() => {}) });
  const down = new Map();
  const loader = new IncrementalLoader(new Map());
  const rec = new Reconciler({
    load: async (how) => {
      const read = await readConfigTexts(file, 'file');
      return read.ok ? loader.load(read.texts, how?.full ? 'start' : undefined) : read.failed;
    },
    kernel: lazyKernel({ ipvs: async () => fake, host: () => Promise.reject(new Error('no host')) }),
    log,
    metrics: new Metrics(),
    // As the daemon does (daemon.ts), with the verdicts this bench makes up laid over the monitor's.
    health: () => {
      const view = monitor.view();
      return { get: (k) => (down.has(k) ? down.get(k) : view.get(k)) };
    },
    onConfig: (desired, changed) => monitor.update(desired, changed),
  });
  const timed = async (trigger) => {
    const before = fake.sent.length;
    const t0 = performance.now();
    const s = await rec.trigger(trigger);
    const ms = performance.now() - t0;
    const last = records.filter((x) => x.event === 'reconcile').at(-1);
    return { ms, ops: fake.sent.length - before, result: s.result, record: last };
  };
  const out = { style, services: n, realservers: r, fileMB: round(fs.statSync(file).size / 1e6) };
  let t0 = performance.now();
  const start = await timed('start');
  out.startS = round((performance.now() - t0) / 1000);
  if (start.result !== 'ok') throw new Error(`start: ${start.result}`);
  const saved = [];
  const flips = [];
  const fulls = [];
  for (let k = 0; k < runs; k++) {
    const i = Math.floor(((k + 0.5) / runs) * n);
    weights.set(`${i}/3`, 50 + k);
    save(text());
    // From the rename (the daemon's watcher's own delay is not in it: perf's kernel bench times that).
    saved.push(await timed('file'));
    const svc = `tcp/198.51.100.${1 + (i % 250)}:${1000 + Math.floor(i / 250)}`;
    down.set(`${svc} 203.0.113.12:${1000 + Math.floor(i / 250)}`, false);
    rec.healthChanged(svc);
    flips.push(await timed('health'));
  }
  for (let k = 0; k < Math.min(runs, 2); k++) {
    save(text(`full ${k}`));
    fulls.push(await timed('file'));
  }
  monitor.stop();
  rec.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  const row = (xs) => ({
    ms: round(median(xs.map((x) => x.ms))),
    minMs: round(Math.min(...xs.map((x) => x.ms))),
    maxMs: round(Math.max(...xs.map((x) => x.ms))),
    ops: [...new Set(xs.map((x) => x.ops))],
    load: [...new Set(xs.map((x) => x.record?.load))],
    plan: [...new Set(xs.map((x) => x.record?.plan))],
    loadMs: median(xs.map((x) => x.record?.load_ms ?? 0)),
    planMs: median(xs.map((x) => x.record?.plan_ms ?? 0)),
    applyMs: median(xs.map((x) => x.record?.apply_ms ?? 0)),
  });
  return { ...out, savedLine: row(saved), healthFlip: row(flips), fullPath: row(fulls) };
}

/** The figures for both file styles. */
export async function measureIncremental(opts = {}) {
  const o = { services: 10_000, realservers: 10, runs: 5, ...opts };
  const FakeIpvs = await fakeIpvs();
  const out = [];
  for (const style of ['flow', 'block']) out.push(await measureStyle(o, style, FakeIpvs));
  return out;
}

function print(rows) {
  console.log(
    'style  services  file MB  start s | saved line: ms (min-max) ops load/plan  load/plan/apply ms | health flip: ms ops plan | full path: ms load/plan ms',
  );
  for (const x of rows) {
    const s = x.savedLine;
    const h = x.healthFlip;
    const f = x.fullPath;
    console.log(
      [
        x.style.padEnd(6),
        String(x.services).padStart(8),
        String(x.fileMB).padStart(8),
        String(x.startS).padStart(8),
        '|',
        `${s.ms} (${s.minMs}-${s.maxMs}) ${s.ops.join(',')} ${s.load.join(',')}/${s.plan.join(',')} ${s.loadMs}/${s.planMs}/${s.applyMs}`,
        '|',
        `${h.ms} (${h.minMs}-${h.maxMs}) ${h.ops.join(',')} ${h.plan.join(',')}`,
        '|',
        `${f.ms} ${f.loadMs}/${f.planMs}`,
      ].join(' '),
    );
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      services: { type: 'string', default: '10000' },
      realservers: { type: 'string', default: '10' },
      runs: { type: 'string', default: '5' },
      json: { type: 'boolean', default: false },
    },
  });
  const rows = await measureIncremental({
    services: Number(values.services),
    realservers: Number(values.realservers),
    runs: Number(values.runs),
  });
  if (values.json) console.log(JSON.stringify(rows, null, 2));
  else print(rows);
}
