#!/usr/bin/env node
// `npm run bench:health`: the daemon's CPU and memory with 1,000 real servers
// checked every second, measured inside the UML test kernel. Figures, not a test.
import { execFileSync } from 'node:child_process';
import { runInUml } from '../test/kernel/uml.mjs';

const r = await runInUml({
  command: [process.execPath, 'bench/health-inside.mjs'],
  timeoutMs: 600_000,
  env: { LVSD_BENCH_SECONDS: process.env.LVSD_BENCH_SECONDS ?? '60' },
});
const last = r.output.trim().split('\n').pop() ?? '';
if (r.exitCode !== 0) {
  process.stderr.write(r.output);
  process.exit(1);
}
const f = JSON.parse(last);
console.log(
  `lvsd run with ${f.realservers} real servers, TCP checks every ${f.interval_s}s, in the UML test kernel (Linux ${r.kernelRelease}):`,
);
console.log(`  CPU: ${f.cpu_seconds}s over ${f.window_s}s (${f.cpu_percent}% of one core)`);
console.log(`  RSS: ${f.rss_mb} MB now, ${f.peak_rss_mb} MB peak`);
console.log(`  backends up: ${f.backends_up}/${f.realservers}; up/down flips during the run: ${f.health_flips}`);
console.log('  (every syscall is dearer under User-Mode Linux than on a real kernel: read these as upper bounds)');

// The check engine alone on this machine's own kernel, for a figure without UML's syscall cost.
const host = JSON.parse(
  execFileSync(process.execPath, ['bench/health-host.mjs'], { encoding: 'utf8', env: { ...process.env } })
    .trim()
    .split('\n')
    .pop(),
);
console.log(
  `check engine alone on this machine's kernel: ${host.checks_per_s} checks/s, CPU ${host.cpu_seconds}s over ${host.window_s}s (${host.cpu_percent}% of one core), RSS ${host.rss_mb} MB, flips ${host.flips}`,
);
