// Health checks, the sorry server and graceful drain, with real traffic:
// `lvsd run` on the director checks the real servers over the LAN, takes a
// dead one out of rotation without a failed request, brings it back, puts a
// sorry server in while none is up, and drains a removed real server while
// its client still uses its connection.
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { requireKernel } from '../helpers.js';
import { spawnIn } from './lan-core.mjs';
import {
  drWeight,
  type Lan,
  type LvsdDaemon,
  TCP_PORTS,
  UDP_PORTS,
  VIP,
  applyRealservers,
  countServers,
  createLan,
  expectAllOk,
  sleep,
  url,
  waitRules,
} from './lan.js';

const ADDR: Record<string, string> = { rs1: '198.51.100.193', rs2: '198.51.100.195', rs3: '198.51.100.197' };
const SERVERS = join(import.meta.dirname, 'servers.py');
const INTERVAL = 1; // seconds
const RISE = 2;
const FALL = 2;

let lan: Lan;
let file: string;
let daemon: LvsdDaemon;

const config = (rss: string[], extra = '') => `version: 1
director:
  bind_vips: eth0
services:
  - name: web
    vip: ${VIP}
    port: 80
    scheduler: rr
    check: { type: http, interval: ${INTERVAL}s, timeout: 1s, rise: ${RISE}, fall: ${FALL}, http: { path: / } }
    sorry_server: ${ADDR['rs3']}
${extra}    realservers:
${rss.map((rs) => `      - ${ADDR[rs]}`).join('\n')}
`;

function save(text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

const weightOf = (rules: string, rs: string): number | undefined => drWeight(rules, VIP, ADDR[rs]!, 80);

/** Stops a real server's services (HTTP and UDP), as a crash would. */
async function stopServers(rs: string): Promise<void> {
  await lan.exec(rs, 'pkill', ['-f', `servers.py ${rs} `]);
}

async function startServers(rs: string): Promise<void> {
  const p = spawnIn(
    rs,
    'python3',
    [SERVERS, rs, '--tcp', TCP_PORTS.join(','), '--udp', UDP_PORTS.join(',')],
    `servers on ${rs}`,
  );
  lan.procs.push(p);
  await p.waitLine((l: string) => l === 'READY', 30_000);
}

async function requests(n: number) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await lan.client.request(url(VIP)));
  return out;
}

beforeAll(async () => {
  requireKernel();
  lan = await createLan({ realservers: ['rs1', 'rs2', 'rs3'] });
  const dir = lan.configDir();
  await applyRealservers(lan, dir, ['rs1', 'rs2', 'rs3'], [VIP]);
  file = join(dir, 'director.yaml');
  writeFileSync(file, config(['rs1', 'rs2']));
  daemon = await lan.lvsdRun('director', file, ['--resync-interval', '0']);
  await waitRules(lan, (r) => weightOf(r, 'rs1') === 1 && weightOf(r, 'rs2') === 1);
}, 120_000);

afterAll(async () => {
  await lan?.destroy();
});

describe('health checks', () => {
  test('a stopped real server takes no new requests within fall x interval (+1); every request succeeds; it returns after rise x interval', async () => {
    const stoppedAt = Date.now();
    await stopServers('rs1');
    await waitRules(lan, (r) => weightOf(r, 'rs1') === 0, 15_000);
    const tookMs = Date.now() - stoppedAt;
    // fall x interval + one interval, with room for the test kernel's slowness.
    expect(tookMs).toBeLessThan((FALL * INTERVAL + INTERVAL) * 1000 + 4000);
    const down = await daemon.waitLog((r) => r.event === 'health' && r.up === false);
    expect(down).toMatchObject({ level: 'warn', realserver: `${ADDR['rs1']}:80` });
    // `lvsd show` prints what the daemon knows beyond the kernel: rs1 is down, and why.
    const shown = JSON.parse((await lan.lvsd('director', ['show', '--format', 'json'])).stdout) as {
      daemon?: { health: { realserver: string; up: boolean; lastError?: string }[] };
    };
    expect(shown.daemon?.health).toContainEqual(
      expect.objectContaining({ realserver: `${ADDR['rs1']}:80`, up: false, lastError: expect.any(String) }),
    );
    expect((await lan.lvsd('director', ['show', '--format', 'ipvsadm'])).stdout).toMatch(
      new RegExp(`-> ${ADDR['rs1']!.replace(/\./g, '\\.')}:80: DOWN since`),
    );
    const during = await requests(12);
    expectAllOk(during);
    expect(countServers(during)).toEqual({ rs2: 12 });

    const startedAt = Date.now();
    await startServers('rs1');
    await waitRules(lan, (r) => weightOf(r, 'rs1') === 1, 15_000);
    expect(Date.now() - startedAt).toBeLessThan((RISE * INTERVAL + INTERVAL) * 1000 + 4000);
    const after = await requests(10);
    expectAllOk(after);
    expect(countServers(after)).toEqual({ rs1: 5, rs2: 5 });
  });

  test('all real servers down: the sorry server answers; one recovers: it is removed', async () => {
    await stopServers('rs1');
    await stopServers('rs2');
    await waitRules(
      lan,
      (r) => weightOf(r, 'rs3') === 1 && weightOf(r, 'rs1') === 0 && weightOf(r, 'rs2') === 0,
      15_000,
    );
    const sorry = await requests(6);
    expectAllOk(sorry);
    expect(countServers(sorry)).toEqual({ rs3: 6 });
    await startServers('rs2');
    await waitRules(lan, (r) => weightOf(r, 'rs3') === undefined && weightOf(r, 'rs2') === 1, 15_000);
    const back = await requests(6);
    expectAllOk(back);
    expect(countServers(back)).toEqual({ rs2: 6 });
    await startServers('rs1');
    await waitRules(lan, (r) => weightOf(r, 'rs1') === 1, 15_000);
  });
});

describe('graceful drain', () => {
  test('a removed real server keeps its open connection working at weight 0, and goes when the drain ends', async () => {
    save(config(['rs1', 'rs2'], '    drain: 12s\n'));
    await sleep(500);
    const conn = await lan.client.keepAlive(VIP, 80);
    const first = await conn.get();
    expect(first.ok).toBe(true);
    const held = first.server!;
    const other = held === 'rs1' ? 'rs2' : 'rs1';
    const removedAt = Date.now();
    save(config([other], '    drain: 12s\n'));
    await waitRules(lan, (r) => weightOf(r, held) === 0, 10_000);
    const note = await daemon.waitLog(
      (r) => r.event === 'change' && r.realserver === `${ADDR[held]}:80` && typeof r.note === 'string',
    );
    expect(note.note).toMatch(/draining/);
    // The open connection still reaches its real server; new requests go to the other.
    const again = await conn.get();
    expect(again).toMatchObject({ ok: true, server: held });
    const fresh = await requests(4);
    expectAllOk(fresh);
    expect(countServers(fresh)).toEqual({ [other]: 4 });
    await conn.close();
    // Closed connections linger in IPVS (FIN_WAIT/TIME_WAIT) as inactive: the drain's end deletes it.
    await waitRules(lan, (r) => weightOf(r, held) === undefined, 20_000);
    expect(Date.now() - removedAt).toBeLessThan(12_000 + 5_000);
    save(config(['rs1', 'rs2'], '    drain: 12s\n'));
    await waitRules(lan, (r) => weightOf(r, 'rs1') === 1 && weightOf(r, 'rs2') === 1);
  });

  test('a removed real server without connections is deleted at once', async () => {
    // 198.51.100.199 has no host behind it: it never had a connection (and its check keeps it at weight 0).
    ADDR['spare'] = '198.51.100.199';
    save(config(['rs1', 'rs2', 'spare'], '    drain: 30s\n'));
    await waitRules(lan, (r) => weightOf(r, 'spare') !== undefined, 10_000);
    save(config(['rs1', 'rs2'], '    drain: 30s\n'));
    const t0 = Date.now();
    await waitRules(lan, (r) => weightOf(r, 'spare') === undefined, 10_000);
    expect(Date.now() - t0).toBeLessThan(5_000);
  });
});
