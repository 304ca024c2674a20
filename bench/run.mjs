#!/usr/bin/env node
// `npm run bench`: lvsd against ipvsadm on the same IPVS table, side by side
// in the same User-Mode Linux kernel run (Linux 6.1 with IPVS; see
// test/kernel/uml.mjs), at 1,000 and 10,000 services x 10 real servers,
// every lvsd figure for both file styles (flow and block, bench/table.mjs).
//
//   npm run bench [-- --sizes 1000,10000 --runs 3 --out bench/results/latest.json]
//   npm run bench -- --quick      1,000 services, one run (a few minutes): while developing
//
// When bench/incremental.mjs exists (the daemon's incremental paths), it runs
// after the kernel run with `--quick` passed on, and its output and last JSON
// line are added to the report (`incremental`).
//
// Needs dist/ (npm run build) and User-Mode Linux (test/kernel/uml.mjs says
// how to install it). Before booting the kernel it checks, on this machine,
// that the diff stays linear (1k, 10k, 100k services). Prints a table and
// writes the figures as JSON. Takes about 20 minutes at the default sizes
// (ipvsadm -R of 110,000 objects alone takes a minute or two per run).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT, runInUml, UmlError } from '../test/kernel/uml.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000,10000' },
    runs: { type: 'string', default: '3' },
    out: { type: 'string' },
    quick: { type: 'boolean', default: false },
  },
});
if (values.quick) {
  values.sizes = '1000';
  values.runs = '1';
}
values.out ??= values.quick ? 'bench/results/quick.json' : 'bench/results/latest.json';
const outFile = path.resolve(ROOT, values.out);

if (!fs.existsSync(path.join(ROOT, 'dist/cli/main.js'))) {
  process.stderr.write('bench: dist/ is missing: run `npm run build` first\n');
  process.exit(2);
}

// 1. The diff is linear: time it at 1k, 10k and 100k services x 10 real servers, here.
const { diff } = await import(path.join(ROOT, 'dist/plan/diff.js'));
function tables(n) {
  const rs = (j, w) => ({
    family: 'ipv4',
    address: `203.0.113.${10 + j}`,
    port: 1000 + (n % 7),
    forward: 'dr',
    weight: w,
    upperThreshold: 0,
    lowerThreshold: 0,
  });
  const svc = (i) => ({
    family: 'ipv4',
    protocol: 'tcp',
    address: `198.51.${(i >> 8) & 255}.${i & 255}`,
    port: 1000 + (i >> 16),
    scheduler: 'wrr',
    flags: [],
    onePacket: false,
  });
  const desired = {
    ignore: [],
    services: Array.from({ length: n }, (_, i) => ({
      ...svc(i),
      name: `s${i}`,
      realservers: Array.from({ length: 10 }, (_, j) => rs(j, j + 1)),
    })),
  };
  // The live table differs in one weight in a hundred services.
  const live = {
    timeouts: { tcp: 900, tcpFin: 120, udp: 300 },
    services: Array.from({ length: n }, (_, i) => ({
      ...svc(i),
      realservers: Array.from({ length: 10 }, (_, j) => ({
        ...rs(j, i % 100 === 0 && j === 0 ? 9 : j + 1),
        activeConnections: 0,
        inactiveConnections: 0,
        persistentConnections: 0,
      })),
    })),
  };
  return { desired, live };
}
const linearity = [];
for (const n of values.quick ? [1000, 10_000] : [1000, 10_000, 100_000]) {
  const { desired, live } = tables(n);
  const times = [];
  let ops = 0;
  for (let k = 0; k < 3; k++) {
    const t0 = performance.now();
    ops = diff(desired, live).length;
    times.push(performance.now() - t0);
  }
  const best = Math.min(...times);
  linearity.push({
    services: n,
    objects: n * 11,
    ops,
    diffMs: Math.round(best),
    nsPerObject: Math.round((best * 1e6) / (n * 11)),
  });
  process.stdout.write(
    `diff at ${n} services (${n * 11} objects, ${ops} changes): ${best.toFixed(0)} ms, ${Math.round((best * 1e6) / (n * 11))} ns per object\n`,
  );
}

/** bench/incremental.mjs when it exists: its output as it goes, its last JSON line into the report. */
function incremental() {
  const script = path.join(ROOT, 'bench/incremental.mjs');
  if (!fs.existsSync(script)) return undefined;
  process.stdout.write('\nbench/incremental.mjs:\n');
  const p = spawnSync(process.execPath, [script, ...(values.quick ? ['--quick'] : [])], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 26,
  });
  process.stdout.write(p.stdout ?? '');
  const last = (p.stdout ?? '')
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  let figures;
  try {
    figures = last ? JSON.parse(last) : undefined;
  } catch {
    figures = undefined;
  }
  return { exitCode: p.status, ...(figures ? { figures } : {}) };
}

// 2. Everything else in the kernel.
const tmpOut = path.join(os.tmpdir(), `lvsd-bench-${process.pid}.json`);
process.stdout.write(`\nbooting User-Mode Linux: sizes ${values.sizes}, ${values.runs} runs each\n`);
let r;
let failed;
try {
  r = await runInUml({
    command: [process.execPath, path.join(ROOT, 'bench/inside.mjs'), tmpOut, values.sizes, values.runs],
    cwd: REPO_ROOT,
    timeoutMs: 3 * 3600_000,
    // V8 sizes its heap after the machine's memory (a quarter of it): with 3 GiB the daemon's
    // heap limit is about 768 MB, less than it needs to parse a 10,000-service file again.
    memory: process.env.LVSD_BENCH_MEM ?? '6G',
    stream: true,
  });
  if (r.exitCode !== 0) failed = `the run in the kernel exited ${r.exitCode}`;
} catch (e) {
  failed = e instanceof UmlError ? e.message : String(e);
}
if (!fs.existsSync(tmpOut)) {
  process.stderr.write(`bench: ${failed ?? 'no results'}\n`);
  process.exit(1);
}
// Whatever finished is kept, marked partial when the run did not complete.
const report = JSON.parse(fs.readFileSync(tmpOut, 'utf8'));
fs.rmSync(tmpOut, { force: true });
if (failed) report.partial = failed;
report.host = {
  cpus: os.cpus().length,
  cpuModel: os.cpus()[0]?.model,
  memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  loadAverageAtEnd: os.loadavg().map((x) => +x.toFixed(2)),
};
if (r) report.totalSeconds = Math.round(r.totalMs / 1000);
report.diffLinearity = linearity;
report.incremental = incremental();
fs.mkdirSync(path.dirname(outFile), { recursive: true });
fs.writeFileSync(outFile, JSON.stringify(report, null, 2) + '\n');
process.stdout.write(
  `\nwritten: ${path.relative(ROOT, outFile)}${r ? ` (${report.totalSeconds} s in User-Mode Linux)` : ''}${failed ? `; INCOMPLETE: ${failed.split('\n')[0]}` : ''}\n`,
);
process.exit(failed ? 1 : 0);
