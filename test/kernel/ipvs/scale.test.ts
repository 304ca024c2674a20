// 10,000 services written by the client and read back: nothing lost, nothing
// duplicated, every attribute as written, whichever way the real servers are
// read (the socket pool or one socket), and ipvsadm counts the same table.
//
// It runs in a network namespace of its own (a child process under
// `unshare -n`): a 110,000-object table flushed from the shared namespace
// would leave its real servers in the kernel's trash list for a minute or
// two, and every later add in the other tests would scan them.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, test } from 'vitest';
import { requireKernel, tmpDir } from '../helpers.js';

const DIST = join(import.meta.dirname, '../../../dist');

// The child: builds the table, reads it back twice, compares, prints a JSON summary.
const CHILD = `
import { execFileSync } from 'node:child_process';
const { openIpvs } = await import(${JSON.stringify(join(DIST, 'ipvs/netlink-client.js'))});
const { serviceKey, realServerKey } = await import(${JSON.stringify(join(DIST, 'model/keys.js'))});
execFileSync('ip', ['link', 'set', 'lo', 'up']);

const N = 10000;
const services = [];
for (let i = 0; i < N; i++) {
  const v6 = i % 10 === 7;
  const svc = i % 97 === 5
    ? { family: v6 ? 'ipv6' : 'ipv4', fwmark: 1 + i, scheduler: 'wlc', flags: [], onePacket: false }
    : v6
      ? { family: 'ipv6', protocol: 'tcp', address: '2001:db8::' + (i + 1).toString(16), port: 80, scheduler: 'rr', flags: [], onePacket: false }
      : { family: 'ipv4', protocol: i % 3 === 1 ? 'udp' : 'tcp', address: '198.51.100.' + (1 + (i % 250)), port: 1000 + Math.floor(i / 250), scheduler: 'wrr', flags: [], onePacket: false };
  // Some services have no real server; one has 1,000 (its dump takes many replies).
  const count = i % 1000 === 0 ? 0 : i === 1 ? 1000 : 10;
  const realservers = Array.from({ length: count }, (_, j) => ({
    family: svc.family,
    address: svc.family === 'ipv6' ? '2001:db8:1::' + (j + 1).toString(16) : '203.0.113.' + (1 + (j % 250)),
    port: 2000 + Math.floor(j / 250), forward: 'nat', weight: (i + j) % 50, upperThreshold: 0, lowerThreshold: 0,
  }));
  services.push({ ...svc, realservers });
}
const ops = services.flatMap(({ realservers, ...service }) => [{ op: 'add-service', service }, ...realservers.map((realserver) => ({ op: 'add-realserver', service, realserver }))]);
const expected = new Map(services.map((s) => [serviceKey(s), new Map(s.realservers.map((r) => [realServerKey(r), r.weight]))]));

function compare(live) {
  const problems = [];
  const seen = new Set();
  let realservers = 0;
  for (const s of live.services) {
    const key = serviceKey(s);
    if (seen.has(key)) problems.push('duplicated service ' + key);
    seen.add(key);
    const want = expected.get(key);
    if (!want) { problems.push('unexpected service ' + key); continue; }
    const got = new Set();
    for (const r of s.realservers) {
      realservers++;
      const rk = realServerKey(r);
      if (got.has(rk)) problems.push('duplicated real server ' + key + ' ' + rk);
      got.add(rk);
      if (want.get(rk) !== r.weight || r.forward !== 'nat') problems.push('wrong real server ' + key + ' ' + rk);
    }
    for (const rk of want.keys()) if (!got.has(rk)) problems.push('lost real server ' + key + ' ' + rk);
  }
  for (const key of expected.keys()) if (!seen.has(key)) problems.push('lost service ' + key);
  return { services: live.services.length, realservers, problems: problems.slice(0, 20), problemCount: problems.length };
}

const writer = await openIpvs();
const results = await writer.execute(ops);
const failures = results.filter((r) => !r.ok).length;
writer.close();
const pooled = await openIpvs();
const viaPool = compare(await pooled.readTable());
pooled.close();
const single = await openIpvs({ dumpSockets: 1 });
const viaOneSocket = compare(await single.readTable());
single.close();
const save = execFileSync('ipvsadm', ['-Sn'], { encoding: 'utf8', maxBuffer: 1 << 28 }).split('\\n');
const ipvsadm = { services: save.filter((l) => l.startsWith('-A ')).length, realservers: save.filter((l) => l.startsWith('-a ')).length };
console.log(JSON.stringify({ ops: ops.length, failures, viaPool, viaOneSocket, ipvsadm }));
`;

beforeAll(() => requireKernel());

test('10,000 services (1,000 real servers in one, none in some) read back exactly as written', () => {
  const file = join(tmpDir(), 'scale-child.mjs');
  writeFileSync(file, CHILD);
  const r = spawnSync('unshare', ['-n', process.execPath, file], {
    encoding: 'utf8',
    timeout: 280_000,
    maxBuffer: 1 << 24,
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const out = JSON.parse(r.stdout) as Record<string, unknown>;
  const total = 9_989 * 10 + 1000; // 10 services without real servers, service 1 with 1,000, the others with 10
  expect(out).toEqual({
    ops: 10_000 + total,
    failures: 0,
    viaPool: { services: 10_000, realservers: total, problems: [], problemCount: 0 },
    viaOneSocket: { services: 10_000, realservers: total, problems: [], problemCount: 0 },
    ipvsadm: { services: 10_000, realservers: total },
  });
}, 300_000);
