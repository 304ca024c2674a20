// The classic LVS-DR recipe done by hand with ip and ipvsadm, no lvsd: it
// proves the LAN (lan.ts) carries LVS-DR traffic the way a real network does,
// and reproduces the classic DR pitfall: real servers that answer ARP for the
// VIP (or announce it) steal the VIP from the director, and clients bypass
// the load balancer. The lvsd-driven tests (dr, changes, methods) rely on
// this LAN behaving exactly like this.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { requireKernel } from '../helpers.js';
import {
  type Lan,
  VIP,
  connectionsSeen,
  countServers,
  createLan,
  expectAllOk,
  expectAlternating,
  serviceStats,
  url,
} from './lan.js';

let lan: Lan;

const arp = (ignore: number, announce: number) =>
  ['all', 'eth0'].flatMap((dev) => [
    `net.ipv4.conf.${dev}.arp_ignore=${ignore}`,
    `net.ipv4.conf.${dev}.arp_announce=${announce}`,
  ]);

beforeAll(async () => {
  requireKernel();
  lan = await createLan({ realservers: ['rs1', 'rs2'] });
  // director: the VIP on eth0, an rr service with both real servers by direct routing
  await lan.run('director', 'ip', ['addr', 'add', `${VIP}/32`, 'dev', 'eth0']);
  await lan.run('director', 'ipvsadm', ['-A', '-t', `${VIP}:80`, '-s', 'rr']);
  for (const rs of ['rs1', 'rs2']) {
    await lan.run('director', 'ipvsadm', ['-a', '-t', `${VIP}:80`, '-r', `${lan.host(rs).ipv4}:80`, '-g']);
    // real server: the VIP on lo, and neither answer ARP for it nor announce it
    await lan.run(rs, 'ip', ['addr', 'add', `${VIP}/32`, 'dev', 'lo']);
    await lan.run(rs, 'sysctl', ['-qw', ...arp(1, 2)]);
  }
}, 90_000);

afterAll(async () => {
  await lan?.destroy();
});

describe('LVS-DR by hand (ip + ipvsadm)', () => {
  test('rr alternates the real servers, replies bypass the director, the client ARPs the VIP to the director', async () => {
    const replies = await lan.client.get(url(VIP), { count: 10 });
    expectAlternating(replies);
    expect(countServers(replies)).toEqual({ rs1: 5, rs2: 5 });
    // direct routing rewrites no address: the real servers see the client itself
    expect(new Set(replies.map((r) => r.client))).toEqual(new Set([lan.host('client').ipv4]));

    expect(await connectionsSeen(lan, replies), 'every connection went through the director').toBe(10);
    const svc = await serviceStats(lan, `${VIP}:80`, (s) => s.conns >= 10);
    expect(svc.conns).toBe(10);
    expect(svc.inpkts).toBeGreaterThan(0);
    expect(svc.outpkts, 'replies went through the director').toBe(0);
    expect(await lan.neighbour('client', VIP)).toBe(lan.host('director').mac);
  });

  test('the classic DR pitfall: without arp_ignore/arp_announce on the real servers, the client bypasses the director', async () => {
    for (const rs of ['rs1', 'rs2']) {
      await lan.run(rs, 'sysctl', ['-qw', ...arp(0, 0)]);
      // make the real servers look the client up again: the ARP request a
      // real server then sends says "VIP is at <my MAC>" (arp_announce=0
      // takes the packet's source address, the VIP), and the client believes it
      await lan.flushNeighbours(rs);
    }
    const first = await lan.client.get(url(VIP), { count: 4 });
    expectAllOk(first);

    const mac = await lan.neighbour('client', VIP);
    const thief = ['rs1', 'rs2'].find((rs) => lan.host(rs).mac === mac);
    expect(thief, `the client's neighbour entry for the VIP is ${mac}, not a real server's MAC`).toBeDefined();
    // the director lost the VIP during the first requests
    expect(await connectionsSeen(lan, first)).toBeLessThan(4);

    const bypassed = await lan.client.get(url(VIP), { count: 10 });
    expectAllOk(bypassed);
    expect(countServers(bypassed), 'every request goes straight to the real server that took the VIP').toEqual({
      [thief!]: 10,
    });
    expect(await connectionsSeen(lan, bypassed), 'the director saw none of these connections').toBe(0);
  });

  test('the fix: with arp_ignore=1 and arp_announce=2 back, the client finds the director again', async () => {
    for (const rs of ['rs1', 'rs2']) await lan.run(rs, 'sysctl', ['-qw', ...arp(1, 2)]);
    await lan.flushNeighbours('client');
    const replies = await lan.client.get(url(VIP), { count: 6 });
    expectAlternating(replies);
    expect(await lan.neighbour('client', VIP)).toBe(lan.host('director').mac);
    expect(await connectionsSeen(lan, replies)).toBe(6);
  });
});
