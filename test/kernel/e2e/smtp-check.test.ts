// The smtp check kind over the LAN: `lvsd run` on the director checks each
// real server's mail server as keepalived's SMTP_CHECK does (220 greeting,
// 250 to HELO). A server that accepts connections but refuses mail (554
// greeting), which a tcp check counts as up, is quiesced; fixed, it comes
// back; a server that never greets is quiesced too.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { requireKernel } from '../helpers.js';
import { spawnIn } from './lan-core.mjs';
import { drWeight, type Lan, type LvsdDaemon, VIP, createLan, sleep, waitRules } from './lan.js';

const ADDR: Record<string, string> = { rs1: '198.51.100.193', rs2: '198.51.100.195' };
const PORT = 2525;

let lan: Lan;
let daemon: LvsdDaemon;
const mailers = new Map<string, ReturnType<typeof spawnIn>>();

/** A tiny SMTP server on the real server: `greeting` on connect, 250 to HELO, 221 to QUIT. */
async function startMailer(rs: string, greeting: string | null): Promise<void> {
  await mailers.get(rs)?.stop();
  const js = `
    const net = require('net');
    net.createServer((s) => {
      s.on('error', () => {});
      ${greeting === null ? '' : `s.write(${JSON.stringify(`${greeting}\r\n`)});`}
      let buf = '';
      s.on('data', (d) => {
        buf += d;
        for (let nl; (nl = buf.indexOf('\\n')) >= 0; buf = buf.slice(nl + 1)) {
          const line = buf.slice(0, nl).trim();
          if (line.startsWith('HELO ')) s.write('250 ${rs}\\r\\n');
          else if (line === 'QUIT') s.end('221 bye\\r\\n');
        }
      });
    }).listen(${PORT}, () => console.log('READY'));`;
  const p = spawnIn(rs, process.execPath, ['-e', js], `mailer on ${rs}`);
  lan.procs.push(p);
  mailers.set(rs, p);
  await p.waitLine((l: string) => l === 'READY', 30_000);
}

const weightOf = (rules: string, rs: string): number | undefined => drWeight(rules, VIP, ADDR[rs]!, PORT);

beforeAll(async () => {
  requireKernel();
  lan = await createLan({ realservers: ['rs1', 'rs2'] });
  await startMailer('rs1', '220 rs1 ESMTP');
  await startMailer('rs2', '220 rs2 ESMTP');
  const file = join(lan.configDir(), 'director.yaml');
  writeFileSync(
    file,
    `version: 1
services:
  - vip: ${VIP}
    port: ${PORT}
    scheduler: rr
    check: { type: smtp, interval: 1s, timeout: 1s, rise: 1, fall: 1 }
    realservers: [${ADDR['rs1']}, ${ADDR['rs2']}]
`,
  );
  daemon = await lan.lvsdRun('director', file, ['--resync-interval', '0']);
  await waitRules(lan, (r) => weightOf(r, 'rs1') === 1 && weightOf(r, 'rs2') === 1);
}, 120_000);

afterAll(async () => {
  await lan?.destroy();
});

describe('smtp checks', () => {
  test('a 554 greeting quiesces the real server (a tcp check would not); a 220 brings it back', async () => {
    await startMailer('rs1', '554 rs1 no service');
    await waitRules(lan, (r) => weightOf(r, 'rs1') === 0 && weightOf(r, 'rs2') === 1, 15_000);
    // Not just the restart's closed port: with the 554 server up, it stays out.
    await sleep(3000);
    expect(weightOf(await lan.ipvsRules(), 'rs1')).toBe(0);
    const down = await daemon.waitLog((r) => r.event === 'health' && r.up === false);
    expect(down).toMatchObject({ realserver: `${ADDR['rs1']}:${PORT}` });
    await startMailer('rs1', '220 rs1 ESMTP');
    await waitRules(lan, (r) => weightOf(r, 'rs1') === 1, 15_000);
  });

  test('a server that accepts connections but never greets is quiesced', async () => {
    await startMailer('rs2', null);
    await waitRules(lan, (r) => weightOf(r, 'rs2') === 0 && weightOf(r, 'rs1') === 1, 15_000);
    await sleep(3000);
    expect(weightOf(await lan.ipvsRules(), 'rs2')).toBe(0);
    await startMailer('rs2', '220 rs2 ESMTP');
    await waitRules(lan, (r) => weightOf(r, 'rs2') === 1, 15_000);
  });
});
