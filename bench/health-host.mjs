#!/usr/bin/env node
// The health-check engine alone on this machine's own kernel (no IPVS needed):
// 1,000 real servers checked by TCP every second against local listeners.
// Prints JSON on the last line.
import { createServer } from 'node:net';
import { HealthMonitor } from '../dist/health/monitor.js';

const SECONDS = Number(process.env.LVSD_BENCH_SECONDS ?? 60);
const servers = [];
for (let i = 0; i < 1000; i++) {
  const srv = createServer((s) => s.destroy());
  await new Promise((r) => srv.listen(20000 + i, '127.0.0.1', r));
  servers.push(srv);
}
const check = { type: 'tcp', interval: 1, timeout: 1, rise: 2, fall: 3, port: 0, initial: 'up', onFailure: 'quiesce' };
const services = Array.from({ length: 100 }, (_, i) => ({
  family: 'ipv4',
  protocol: 'tcp',
  address: `203.0.113.${i + 1}`,
  port: 80,
  scheduler: 'rr',
  flags: [],
  onePacket: false,
  name: `s${i}`,
  // One listener per real server, all on loopback.
  realservers: Array.from({ length: 10 }, (_, j) => ({
    family: 'ipv4',
    address: '127.0.0.1',
    port: 20000 + i * 10 + j,
    forward: 'nat',
    weight: 1,
    upperThreshold: 0,
    lowerThreshold: 0,
    check: { ...check, port: 20000 + i * 10 + j },
  })),
}));
let results = 0;
let flips = 0;
const m = new HealthMonitor({ onChange: () => flips++, onResult: () => results++ });
m.update({ services, ignore: [] });
await new Promise((r) => setTimeout(r, 3000));
const c0 = process.cpuUsage();
const r0 = results;
const t0 = Date.now();
await new Promise((r) => setTimeout(r, SECONDS * 1000));
const c1 = process.cpuUsage(c0);
const elapsed = (Date.now() - t0) / 1000;
m.stop();
servers.forEach((s) => s.close());
const cpu = (c1.user + c1.system) / 1e6;
console.log(
  JSON.stringify({
    realservers: 1000,
    window_s: Math.round(elapsed),
    checks_per_s: Math.round((results - r0) / elapsed),
    cpu_seconds: +cpu.toFixed(2),
    cpu_percent: +((cpu / elapsed) * 100).toFixed(1),
    rss_mb: +(process.memoryUsage().rss / 1048576).toFixed(1),
    flips,
  }),
);
