#!/usr/bin/env node
// Runs inside the test kernel (see bench/health.mjs): 1,000 real servers
// (100 NAT services x 10) each checked by TCP every second against local
// listeners, `lvsd run` for a while, and the daemon's CPU and memory read
// from /proc. Prints JSON on the last line.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

const SECONDS = Number(process.env.LVSD_BENCH_SECONDS ?? 60);
const SERVICES = 100;
const PER = 10;
const CLI = join(import.meta.dirname, '..', 'dist', 'cli', 'main.js');
const sh = (cmd, ...args) => execFileSync(cmd, args, { encoding: 'utf8' });

// Ten local addresses, one listener per service port: 1,000 distinct real servers.
sh('ip', 'link', 'add', 'bench0', 'type', 'dummy');
sh('ip', 'link', 'set', 'bench0', 'up');
for (let j = 1; j <= PER; j++) sh('ip', 'addr', 'add', `198.51.100.${j}/32`, 'dev', 'bench0');
const servers = [];
for (let i = 0; i < SERVICES; i++) {
  const srv = createServer((s) => s.destroy());
  await new Promise((r) => srv.listen(10000 + i, '0.0.0.0', r));
  servers.push(srv);
}

const dir = mkdtempSync('/run/lvsd-bench-health-');
const file = join(dir, 'lvsd.yaml');
const services = Array.from(
  { length: SERVICES },
  (_, i) => `  - vip: 203.0.113.${i + 1}
    port: 80
    scheduler: wrr
    check: { type: tcp, interval: 1s, timeout: 1s }
    realservers:
${Array.from({ length: PER }, (_, j) => `      - { address: 198.51.100.${j + 1}, port: ${10000 + i}, forward: nat }`).join('\n')}`,
).join('\n');
writeFileSync(file, `version: 1\nservices:\n${services}\n`);

sh('ipvsadm', '-C');
const child = spawn(
  process.execPath,
  [
    CLI,
    'run',
    '-c',
    file,
    '--resync-interval',
    '30s',
    '--log-format',
    'json',
    '--log-level',
    'info',
    '--listen',
    '127.0.0.1:9599',
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
let flips = 0;
let buf = '';
child.stdout.setEncoding('utf8').on('data', (d) => {
  buf += d;
  for (let nl; (nl = buf.indexOf('\n')) >= 0; buf = buf.slice(nl + 1)) {
    if (buf.slice(0, nl).includes('"event":"health"')) flips++;
  }
});
const ticks = Number(sh('getconf', 'CLK_TCK').trim());
const cpu = () => {
  const f = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / ticks; // utime + stime
};
const hwmKb = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]);
const rssKb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]);

// Wait for the table, then measure a steady window.
for (let t = 0; t < 120; t++) {
  await new Promise((r) => setTimeout(r, 500));
  const n = sh('ipvsadm', '-Sn')
    .split('\n')
    .filter((l) => l.startsWith('-a ')).length;
  if (n === SERVICES * PER) break;
}
await new Promise((r) => setTimeout(r, 3000)); // first checks done
const cpu0 = cpu();
const t0 = Date.now();
await new Promise((r) => setTimeout(r, SECONDS * 1000));
const cpu1 = cpu();
const elapsed = (Date.now() - t0) / 1000;
const metrics = await (await fetch('http://127.0.0.1:9599/metrics')).text();
const up = metrics.split('\n').filter((l) => l.startsWith('lvsd_backend_up{') && l.endsWith(' 1')).length;
const result = {
  realservers: SERVICES * PER,
  interval_s: 1,
  window_s: Math.round(elapsed),
  cpu_seconds: +(cpu1 - cpu0).toFixed(2),
  cpu_percent: +(((cpu1 - cpu0) / elapsed) * 100).toFixed(1),
  rss_mb: +(rssKb() / 1024).toFixed(1),
  peak_rss_mb: +(hwmKb() / 1024).toFixed(1),
  backends_up: up,
  health_flips: flips,
};
child.kill('SIGTERM');
await new Promise((r) => child.on('exit', r));
servers.forEach((s) => s.close());
console.log(JSON.stringify(result));
