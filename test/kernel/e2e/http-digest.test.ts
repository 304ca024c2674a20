// The http check with a body digest over the LAN (keepalived's `digest`):
// `lvsd run` quiesces a real server whose page changes while its status stays
// 200 (a plain http check would keep it), and takes it back when the page
// hashes to the digest again.
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { requireKernel } from '../helpers.js';
import { spawnIn } from './lan-core.mjs';
import { drWeight, type Lan, VIP, createLan, sleep, waitRules } from './lan.js';

const ADDR: Record<string, string> = { rs1: '198.51.100.193', rs2: '198.51.100.195' };
const PORT = 8088;
const PAGE = 'healthy page\n';

let lan: Lan;
const pages = new Map<string, ReturnType<typeof spawnIn>>();

/** A web server on the real server answering 200 with `body`. */
async function startPage(rs: string, body: string): Promise<void> {
  await pages.get(rs)?.stop();
  const js = `require('http').createServer((q, r) => r.end(${JSON.stringify(body)})).listen(${PORT}, () => console.log('READY'))`;
  const p = spawnIn(rs, process.execPath, ['-e', js], `page on ${rs}`);
  lan.procs.push(p);
  pages.set(rs, p);
  await p.waitLine((l: string) => l === 'READY', 30_000);
}

const weightOf = (rules: string, rs: string): number | undefined => drWeight(rules, VIP, ADDR[rs]!, PORT);

beforeAll(async () => {
  requireKernel();
  lan = await createLan({ realservers: ['rs1', 'rs2'] });
  await startPage('rs1', PAGE);
  await startPage('rs2', PAGE);
  const digest = createHash('md5').update(PAGE).digest('hex');
  const file = join(lan.configDir(), 'director.yaml');
  writeFileSync(
    file,
    `version: 1
services:
  - vip: ${VIP}
    port: ${PORT}
    scheduler: rr
    check: { type: http, interval: 1s, timeout: 1s, rise: 1, fall: 1, http: { path: /, expect: ["200-299"], digest: ${digest} } }
    realservers: [${ADDR['rs1']}, ${ADDR['rs2']}]
`,
  );
  await lan.lvsdRun('director', file, ['--resync-interval', '0']);
  await waitRules(lan, (r) => weightOf(r, 'rs1') === 1 && weightOf(r, 'rs2') === 1);
}, 120_000);

afterAll(async () => {
  await lan?.destroy();
});

describe('http digest checks', () => {
  test('a changed page (still 200) is quiesced and stays out; the right page brings it back', async () => {
    await startPage('rs1', 'site under maintenance\n');
    await waitRules(lan, (r) => weightOf(r, 'rs1') === 0 && weightOf(r, 'rs2') === 1, 15_000);
    await sleep(3000);
    expect(weightOf(await lan.ipvsRules(), 'rs1')).toBe(0);
    await startPage('rs1', PAGE);
    await waitRules(lan, (r) => weightOf(r, 'rs1') === 1, 15_000);
  });
});
