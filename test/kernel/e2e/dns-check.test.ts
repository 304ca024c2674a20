// The dns check kind over the LAN: `lvsd run` on the director queries each
// real server's DNS server as keepalived's DNS_CHECK does. A server answering
// REFUSED, or not answering, is quiesced and stays so while it does; one
// answering without error (no records needed) comes back.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { requireKernel } from '../helpers.js';
import { spawnIn } from './lan-core.mjs';
import { drWeight, type Lan, type LvsdDaemon, VIP, createLan, sleep, waitRules } from './lan.js';

const ADDR: Record<string, string> = { rs1: '198.51.100.193', rs2: '198.51.100.195' };
// Not 53: the LAN's own servers answer UDP there.
const PORT = 5300;

let lan: Lan;
let daemon: LvsdDaemon;
const responders = new Map<string, ReturnType<typeof spawnIn>>();

/** A DNS responder on the real server: each query answered with `rcode` (null: never answered). */
async function startResponder(rs: string, rcode: number | null): Promise<void> {
  await responders.get(rs)?.stop();
  const js = `
    const s = require('dgram').createSocket('udp4');
    s.on('message', (q, from) => {
      if (${rcode === null}) return;
      const a = Buffer.from(q);
      a[2] = 0x81;
      a[3] = 0x80 | ${rcode ?? 0};
      s.send(a, from.port, from.address);
    });
    s.bind(${PORT}, () => console.log('READY'));`;
  const p = spawnIn(rs, process.execPath, ['-e', js], `dns responder on ${rs}`);
  lan.procs.push(p);
  responders.set(rs, p);
  await p.waitLine((l: string) => l === 'READY', 30_000);
}

const weightOf = (rules: string, rs: string): number | undefined => drWeight(rules, VIP, ADDR[rs]!, PORT, 'udp');

beforeAll(async () => {
  requireKernel();
  lan = await createLan({ realservers: ['rs1', 'rs2'] });
  await startResponder('rs1', 0);
  await startResponder('rs2', 0);
  const file = join(lan.configDir(), 'director.yaml');
  writeFileSync(
    file,
    `version: 1
services:
  - vip: ${VIP}
    port: ${PORT}
    protocol: udp
    scheduler: rr
    check: { type: dns, interval: 1s, timeout: 1s, rise: 1, fall: 1, dns: { name: www.example.com, type: A } }
    realservers: [${ADDR['rs1']}, ${ADDR['rs2']}]
`,
  );
  daemon = await lan.lvsdRun('director', file, ['--resync-interval', '0']);
  await waitRules(lan, (r) => weightOf(r, 'rs1') === 1 && weightOf(r, 'rs2') === 1);
}, 120_000);

afterAll(async () => {
  await lan?.destroy();
});

describe('dns checks', () => {
  test('REFUSED quiesces the real server and keeps it out; NOERROR brings it back', async () => {
    await startResponder('rs1', 5);
    await waitRules(lan, (r) => weightOf(r, 'rs1') === 0 && weightOf(r, 'rs2') === 1, 15_000);
    await sleep(3000);
    expect(weightOf(await lan.ipvsRules(), 'rs1')).toBe(0);
    const down = await daemon.waitLog((r) => r.event === 'health' && r.up === false);
    expect(down).toMatchObject({ realserver: `${ADDR['rs1']}:${PORT}` });
    await startResponder('rs1', 0);
    await waitRules(lan, (r) => weightOf(r, 'rs1') === 1, 15_000);
  });

  test('a server that never answers is quiesced', async () => {
    await startResponder('rs2', null);
    await waitRules(lan, (r) => weightOf(r, 'rs2') === 0 && weightOf(r, 'rs1') === 1, 15_000);
    await sleep(3000);
    expect(weightOf(await lan.ipvsRules(), 'rs2')).toBe(0);
    await startResponder('rs2', 0);
    await waitRules(lan, (r) => weightOf(r, 'rs2') === 1, 15_000);
  });
});
