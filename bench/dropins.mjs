// lvsd run with the 10,000-service table split into 20 conf.d/ drop-ins of
// 500 services: one weight changed in one drop-in, four times; prints how
// long until the daemon logged its reconcile, and the reconcile's split.
// Runs inside the test kernel (it needs IPVS and inotify on tmpfs):
//
//   npm run build
//   LVSD_UML_MEM=6G node test/kernel/harness.mjs -- unshare -n sh -c 'ip link set lo up; node bench/dropins.mjs'
//
// N=1000 for a smaller table. The figures are in docs/performance.md.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serviceAt, realServerAt } from './table.mjs';
const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist/cli/main.js');
const n = Number(process.env.N ?? 10000),
  parts = 20,
  per = n / parts;
const dir = fs.mkdtempSync('/run/dsplit-');
fs.mkdirSync(`${dir}/conf.d`);
fs.writeFileSync(`${dir}/lvsd.yaml`, 'version: 1\n');
const part = (p, weightOf = (_i, j) => j + 1) => {
  const out = ['version: 1', 'services:'];
  for (let i = p * per; i < (p + 1) * per; i++) {
    const s = serviceAt(i);
    const rs = Array.from(
      { length: 10 },
      (_, j) => `{ address: ${realServerAt(j).address}, weight: ${weightOf(i, j)} }`,
    );
    out.push(`  - { name: s${i}, vip: ${s.vip}, port: ${s.port}, scheduler: wrr, realservers: [${rs.join(', ')}] }`);
  }
  return out.join('\n') + '\n';
};
for (let p = 0; p < parts; p++) fs.writeFileSync(`${dir}/conf.d/${String(p).padStart(2, '0')}.yaml`, part(p));
const a = performance.now();
spawnSync(process.execPath, ['--single-threaded-gc', CLI, 'apply', '-c', dir], { stdio: 'ignore' });
console.log('apply', Math.round(performance.now() - a));
const child = spawn(
  process.execPath,
  ['--single-threaded-gc', CLI, 'run', '-c', dir, '--resync-interval', '0', '--log-format', 'json'],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const logs = [];
let buf = '';
child.stdout.on('data', (d) => {
  buf += d;
  let i;
  while ((i = buf.indexOf('\n')) >= 0) {
    const l = buf.slice(0, i);
    buf = buf.slice(i + 1);
    try {
      logs.push(JSON.parse(l));
    } catch {
      // a line that is not JSON (node's own warnings): not a log record
    }
  }
});
const sleep = (t) => new Promise((r) => setTimeout(r, t));
while (!logs.some((l) => l.event === 'started')) await sleep(50);
console.log(
  'start',
  JSON.stringify(logs.find((l) => l.event === 'reconcile'))
    .replace(/.*"duration_ms"/, '')
    .replace(/,"changes".*/, ''),
);
for (let k = 0; k < 4; k++) {
  const before = logs.length;
  const p = 7;
  fs.writeFileSync(
    `${dir}/conf.d/.tmp`,
    part(p, (i, j) => (i === p * per + 10 + k && j === 3 ? 77 + k : j + 1)),
  );
  const t1 = performance.now();
  fs.renameSync(`${dir}/conf.d/.tmp`, `${dir}/conf.d/07.yaml`);
  const tw = performance.now();
  while (!logs.slice(before).some((l) => l.event === 'reconcile')) {
    await sleep(20);
    if (performance.now() - tw > 20000) {
      console.log('no reconcile; logs:', JSON.stringify(logs.slice(before)).slice(0, 2000));
      process.exit(1);
    }
  }
  const rec = logs.slice(before).find((l) => l.event === 'reconcile');
  console.log(
    'change',
    k,
    Math.round(performance.now() - t1),
    'ms',
    JSON.stringify(rec)
      .replace(/.*"duration_ms"/, '')
      .replace(/,"failures".*/, ''),
  );
  await sleep(1000);
}
const st = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8');
console.log('rss', /VmRSS:\s+(\d+)/.exec(st)[1], 'hwm', /VmHWM:\s+(\d+)/.exec(st)[1]);
child.kill('SIGTERM');
await new Promise((r) => child.on('exit', r));
