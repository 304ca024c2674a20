// Live changes under traffic: `lvsd run` on the director watches its file,
// the test edits it while the client keeps sending requests through the VIP,
// and checks that the traffic moves as the file says, with no failed request
// among those sent during each change. The real servers are set up by
// `lvsd apply` from their own files.
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { requireKernel } from '../helpers.js';
import {
  type Lan,
  type LvsdDaemon,
  VIP,
  applyRealservers,
  countServers,
  createLan,
  duringChange,
  expectAllOk,
  sleep,
  url,
  waitRules,
} from './lan.js';

let lan: Lan;
let file: string;
let daemon: LvsdDaemon;

const ADDR: Record<string, string> = { rs1: '198.51.100.193', rs2: '198.51.100.195', rs3: '198.51.100.197' };

/** The director's file: wrr over the given real servers and weights. */
const directorConfig = (weights: Record<string, number>) => `version: 1
director:
  bind_vips: eth0
services:
  - name: web
    vip: ${VIP}
    port: 80
    scheduler: wrr
    realservers:
${Object.entries(weights)
  .map(([rs, w]) => `      - { address: ${ADDR[rs]}, weight: ${w} }`)
  .join('\n')}
`;

/** The table the daemon must reach for `weights`: exactly these real servers with these weights. */
const tableFor = (weights: Record<string, number>) => (rules: string) => {
  const lines = rules
    .split('\n')
    .filter((l) => l.startsWith(`-a -t ${VIP}:80 `))
    .sort();
  const want = Object.entries(weights)
    .map(([rs, w]) => `-a -t ${VIP}:80 -r ${ADDR[rs]}:80 -g -w ${w}`)
    .sort();
  return JSON.stringify(lines) === JSON.stringify(want);
};

/** Saves the director's file the way editors do (write a temp file, rename it over) and waits for the table. */
async function save(weights: Record<string, number>): Promise<void> {
  const tmp = join(file, '..', '.director.yaml.swp');
  writeFileSync(tmp, directorConfig(weights));
  renameSync(tmp, file);
  await waitRules(lan, tableFor(weights));
}

beforeAll(async () => {
  requireKernel();
  lan = await createLan({ realservers: ['rs1', 'rs2', 'rs3'] });
  const dir = lan.configDir();
  await applyRealservers(lan, dir, ['rs1', 'rs2', 'rs3'], [VIP]);
  file = join(dir, 'director.yaml');
  writeFileSync(file, directorConfig({ rs1: 1, rs2: 1 }));
  daemon = await lan.lvsdRun('director', file);
  await waitRules(lan, tableFor({ rs1: 1, rs2: 1 }));
}, 120_000);

afterAll(async () => {
  await lan?.destroy();
});

describe('lvsd run on the director: file edits move live traffic, no request fails', () => {
  test('the daemon bound the VIP and built the table from its file', async () => {
    expect(await lan.addresses('director', 'eth0')).toContain(`${VIP}/32`);
    const replies = await lan.client.get(url(VIP), { count: 20 });
    expectAllOk(replies);
    expect(countServers(replies)).toEqual({ rs1: 10, rs2: 10 });
  });

  test('a weight change (1:1 -> 3:1) shifts the split', async () => {
    const during = await duringChange(lan, url(VIP), () => save({ rs1: 3, rs2: 1 }));
    expectAllOk(during, 'requests sent during the change');
    expect(during.length).toBeGreaterThan(10);
    const after = countServers(await lan.client.get(url(VIP), { count: 40 }));
    expect(after.rs1).toBeGreaterThanOrEqual(27);
    expect(after.rs1).toBeLessThanOrEqual(33);
    expect(after.rs2).toBe(40 - after.rs1!);
    expect(daemon.logs.some((r) => r.event === 'reconcile' && r.trigger === 'file')).toBe(true);
  });

  test('weight 0 takes no new connections, while an open connection to that server keeps working', async () => {
    // a keep-alive connection that landed on rs1
    const open = [];
    let onRs1;
    for (let i = 0; i < 8 && !onRs1; i++) {
      const c = await lan.client.keepAlive(VIP, 80);
      open.push(c);
      if ((await c.get()).server === 'rs1') onRs1 = c;
    }
    expect(onRs1, 'no keep-alive connection landed on rs1').toBeDefined();
    for (const c of open) if (c !== onRs1) await c.close();

    const during = await duringChange(lan, url(VIP), () => save({ rs1: 0, rs2: 1 }));
    expectAllOk(during, 'requests sent during the change');

    const after = await lan.client.get(url(VIP), { count: 20 });
    expectAllOk(after);
    expect(countServers(after)).toEqual({ rs2: 20 });
    // the connection opened before the change still reaches rs1
    const kept = await onRs1!.get();
    expect(kept).toMatchObject({ ok: true, server: 'rs1' });
    await sleep(200);
    expect(await onRs1!.get()).toMatchObject({ ok: true, server: 'rs1' });
    await onRs1!.close();
  });

  test('removing a real server from the file stops traffic to it', async () => {
    await save({ rs1: 1, rs2: 1 });
    const during = await duringChange(lan, url(VIP), () => save({ rs1: 1 }));
    expectAllOk(during, 'requests sent during the change');
    const after = await lan.client.get(url(VIP), { count: 20 });
    expectAllOk(after);
    expect(countServers(after)).toEqual({ rs1: 20 });
  });

  test('adding a real server to the file brings it in', async () => {
    const during = await duringChange(lan, url(VIP), () => save({ rs1: 1, rs3: 1 }));
    expectAllOk(during, 'requests sent during the change');
    const after = await lan.client.get(url(VIP), { count: 20 });
    expectAllOk(after);
    expect(countServers(after)).toEqual({ rs1: 10, rs3: 10 });
    // the daemon never lost the VIP through all of this, and logged no error
    expect(await lan.addresses('director', 'eth0')).toContain(`${VIP}/32`);
    expect(daemon.logs.filter((r) => r.level === 'error' || r.level === 'fatal')).toEqual([]);
  });
});
