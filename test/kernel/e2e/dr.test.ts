// LVS-DR end to end, every part of it done by lvsd from YAML files: on the
// director (VIP on eth0, the IPVS table) and on each real server (VIP on lo,
// ARP restrictions). The test only builds the LAN (lan.ts) and sends traffic.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { requireKernel } from '../helpers.js';
import {
  type Lan,
  VIP,
  applyRealservers,
  connectionsSeen,
  countServers,
  createLan,
  expectAllOk,
  expectAlternating,
  lvsdOk,
  serviceStats,
  url,
  writeConfig,
} from './lan.js';

let lan: Lan;
let dir: string;
let rsApply: Record<string, unknown>[];

const directorConfig = (scheduler: string, w1: number, w2: number) => `version: 1
director:
  bind_vips: eth0
services:
  - name: web
    vip: ${VIP}
    port: 80
    scheduler: ${scheduler}
    realservers:
      - { address: 198.51.100.193, weight: ${w1} }
      - { address: 198.51.100.195, weight: ${w2} }
`;

async function applyDirector(text: string): Promise<void> {
  await lvsdOk(lan, 'director', ['apply', '-c', writeConfig(dir, 'director.yaml', text)]);
}

beforeAll(async () => {
  requireKernel();
  lan = await createLan({ realservers: ['rs1', 'rs2'] });
  dir = lan.configDir();
  // rs1 by hand with --json, to look at what lvsd did; rs2 through the helper
  const rs1 = writeConfig(dir, 'rs1.yaml', `version: 1\nrealserver:\n  vips: [${VIP}]\n`);
  const [out] = await Promise.all([
    lvsdOk(lan, 'rs1', ['apply', '--json', '-c', rs1]),
    applyRealservers(lan, dir, ['rs2'], [VIP]),
    applyDirector(directorConfig('rr', 1, 1)),
  ]);
  rsApply = (JSON.parse(out) as { changes: Record<string, unknown>[] }).changes;
}, 120_000);

afterAll(async () => {
  await lan?.destroy();
});

describe('LVS-DR configured by lvsd on the director and the real servers', () => {
  test('real servers: lvsd put the VIP on lo and set arp_ignore=1, arp_announce=2 (all and eth0)', async () => {
    expect(rsApply).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ action: 'add', kind: 'address', target: `lo ${VIP}/32`, status: 'ok' }),
        expect.objectContaining({
          action: 'edit',
          kind: 'sysctl',
          target: 'net.ipv4.conf.all.arp_ignore',
          status: 'ok',
        }),
        expect.objectContaining({
          action: 'edit',
          kind: 'sysctl',
          target: 'net.ipv4.conf.eth0.arp_announce',
          status: 'ok',
        }),
      ]),
    );
    for (const rs of ['rs1', 'rs2']) {
      expect(await lan.addresses(rs, 'lo')).toContain(`${VIP}/32`);
      expect(await lan.addresses(rs, 'eth0')).not.toContain(`${VIP}/32`);
      for (const dev of ['all', 'eth0']) {
        expect(await lan.sysctl(rs, `net.ipv4.conf.${dev}.arp_ignore`)).toBe('1');
        expect(await lan.sysctl(rs, `net.ipv4.conf.${dev}.arp_announce`)).toBe('2');
      }
      // a real server's file has no services: lvsd leaves its IPVS table alone
      expect((await lan.ipvsRules(rs)).trim()).toBe('');
    }
    // and a second look finds nothing to do (exit 0; each lvsd run costs ~3 s under UML, so only one)
    await lvsdOk(lan, 'rs1', ['plan', '-c', `${dir}/rs1.yaml`]);
  });

  test('director: lvsd bound the VIP to eth0 as /32 and built the table', async () => {
    expect(await lan.addresses('director', 'eth0')).toContain(`${VIP}/32`);
    const rules = (await lan.ipvsRules()).trim().split('\n').sort();
    expect(rules).toEqual([
      `-A -t ${VIP}:80 -s rr`,
      `-a -t ${VIP}:80 -r 198.51.100.193:80 -g -w 1`,
      `-a -t ${VIP}:80 -r 198.51.100.195:80 -g -w 1`,
    ]);
    const show = await lvsdOk(lan, 'director', ['show', '--format', 'ipvsadm']);
    expect(show).toMatch(new RegExp(`TCP  ${VIP.replaceAll('.', '\\.')}:80 rr`));
    expect(show).toContain(`eth0 ${VIP}/32`);
    await lvsdOk(lan, 'director', ['plan', '-c', `${dir}/director.yaml`]); // exit 0: in sync
  });

  test('rr alternates the real servers; replies bypass the director; the client ARPs the VIP to the director', async () => {
    const replies = await lan.client.get(url(VIP), { count: 10 });
    expectAlternating(replies);
    expect(countServers(replies)).toEqual({ rs1: 5, rs2: 5 });
    expect(new Set(replies.map((r) => r.client)), 'DR rewrites no address').toEqual(new Set([lan.host('client').ipv4]));
    expect(await connectionsSeen(lan, replies), 'every connection was scheduled by the director').toBe(10);
    const svc = await serviceStats(lan, `${VIP}:80`, (s) => s.conns >= 10);
    expect(svc.inpkts).toBeGreaterThan(0);
    expect(svc.outpkts, 'the director forwarded replies').toBe(0);
    expect(await lan.neighbour('client', VIP)).toBe(lan.host('director').mac);
  });

  test('weights 3:1 (wrr) split 40 requests about 3:1', async () => {
    await applyDirector(directorConfig('wrr', 3, 1));
    expect(await lan.ipvsRules()).toContain(`-a -t ${VIP}:80 -r 198.51.100.193:80 -g -w 3\n`);
    const replies = await lan.client.get(url(VIP), { count: 40 });
    expectAllOk(replies);
    const counts = countServers(replies);
    expect(counts.rs1).toBeGreaterThanOrEqual(27);
    expect(counts.rs1).toBeLessThanOrEqual(33);
    expect(counts.rs1! + counts.rs2!).toBe(40);
    const svc = await serviceStats(lan, `${VIP}:80`, (s) => s.conns >= 50);
    expect(svc.outpkts).toBe(0);
  });
});
