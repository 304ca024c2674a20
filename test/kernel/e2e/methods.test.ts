// Every forwarding method and service kind carries traffic, all configured by
// lvsd: one director file with a service per method (as a real director
// often has), one file per DR/TUN real server. The NAT real servers need no
// lvsd at all: their default route through the director is the LAN's.
//
//   VIP:80       tcp   rr  rs1, rs2   tunnel (ipip)
//   VIP:8080     tcp   rr  nat1:80, nat2:80   nat (port mapped)
//   [VIP6]:80    tcp   rr  rs1, rs2   dr over IPv6
//   VIP:53       udp   rr  rs1, rs2   dr
//   fwmark 1     (tc marks VIP tcp/8443)  rr + persistence  rs1, rs2  dr
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { requireKernel } from '../helpers.js';
import {
  CLIENT2,
  type Lan,
  VIP,
  VIP6,
  connectionsSeen,
  countServers,
  createLan,
  expectAllOk,
  expectAlternating,
  lvsdOk,
  realserverConfig,
  run,
  serviceStats,
  url,
  writeConfig,
} from './lan.js';

let lan: Lan;
let directorApply: Record<string, unknown>[];

const DIRECTOR = `version: 1
director:
  bind_vips: eth0
  ip_forward: true            # LVS-NAT: replies are routed through the director
services:
  - name: web-tun
    vip: ${VIP}
    port: 80
    scheduler: rr
    realservers:
      - { address: 198.51.100.193, forward: tunnel }
      - { address: 198.51.100.195, forward: tunnel }
  - name: web-nat
    vip: ${VIP}
    port: 8080
    scheduler: rr
    realservers:
      - { address: 203.0.113.11, port: 80, forward: nat }
      - { address: 203.0.113.12, port: 80, forward: nat }
  - name: web6
    vip: ${VIP6}
    port: 80
    scheduler: rr
    realservers: [2001:db8::193, 2001:db8::195]
  - name: dns
    vip: ${VIP}
    port: 53
    protocol: udp
    scheduler: rr
    realservers: [198.51.100.193, 198.51.100.195]
  - name: sticky
    fwmark: 1
    family: ipv4
    scheduler: rr
    persistence: { timeout: 5m }
    realservers: [198.51.100.193, 198.51.100.195]
`;

// What marks packets for the fwmark service, on the director's eth0 ingress.
// The classic tool is iptables -t mangle ... -j MARK, or nft; but the test
// kernel (Debian's UML 6.1) has nf_tables for the bridge family only, and tc
// (iproute2) needs no extra package. The mark is set before netfilter and
// IPVS see the packet, exactly as a mangle PREROUTING rule would.
const MARK = [
  'tc qdisc add dev eth0 clsact',
  `tc filter add dev eth0 ingress protocol ip flower dst_ip ${VIP} ip_proto tcp dst_port 8443 action skbedit mark 1`,
].join(' && ');

beforeAll(async () => {
  requireKernel();
  lan = await createLan({ realservers: ['rs1', 'rs2'], nat: ['nat1', 'nat2'] });
  const dir = lan.configDir();
  // DR, TUN and the fwmark service share the real servers: the VIPs on lo, strict ARP, tunl0 up
  const rsFile = writeConfig(dir, 'realserver.yaml', realserverConfig([VIP, VIP6], { tunnel: true }));
  await Promise.all(['rs1', 'rs2'].map((rs) => lvsdOk(lan, rs, ['apply', '-c', rsFile])));
  const out = await lvsdOk(lan, 'director', ['apply', '--json', '-c', writeConfig(dir, 'director.yaml', DIRECTOR)]);
  directorApply = (JSON.parse(out) as { changes: Record<string, unknown>[] }).changes;
  await lan.run('director', 'sh', ['-c', MARK]);
}, 120_000);

afterAll(async () => {
  await lan?.destroy();
});

describe('every forwarding method, configured by lvsd, carries traffic', () => {
  test('the director: lvsd applied every service, bound the VIPs, turned forwarding on', async () => {
    expect(directorApply.filter((c) => c['status'] !== 'ok')).toEqual([]);
    expect(await lan.addresses('director', 'eth0')).toEqual(expect.arrayContaining([`${VIP}/32`, `${VIP6}/128`]));
    expect(await lan.sysctl('director', 'net.ipv4.ip_forward')).toBe('1');
    expect(await lan.sysctl('director', 'net.ipv6.conf.all.forwarding')).toBe('1'); // there is an IPv6 service
  });

  test('LVS-NAT: real servers behind the director, ports mapped, replies through the director', async () => {
    const replies = await lan.client.get(url(VIP, 8080), { count: 10 });
    expectAlternating(replies);
    expect(countServers(replies)).toEqual({ nat1: 5, nat2: 5 });
    for (const r of replies) {
      expect(r.client, 'NAT rewrites the destination only: the server sees the client').toBe(lan.host('client').ipv4);
      expect(r.port, "the director mapped port 8080 to the real servers' port 80").toBe(80);
    }
    const svc = await serviceStats(lan, `${VIP}:8080`, (s) => s.conns >= 10);
    expect(svc.outpkts, 'NAT replies pass the director').toBeGreaterThan(0);
  });

  test('LVS-TUN: ipip to the real servers, which answer the client directly', async () => {
    const rx = await Promise.all(['rs1', 'rs2'].map((rs) => lan.link(rs, 'tunl0')));
    const replies = await lan.client.get(url(VIP), { count: 10 });
    expectAlternating(replies);
    expect(countServers(replies)).toEqual({ rs1: 5, rs2: 5 });
    expect(new Set(replies.map((r) => r.client))).toEqual(new Set([lan.host('client').ipv4]));
    for (const [i, rs] of ['rs1', 'rs2'].entries()) {
      const now = await lan.link(rs, 'tunl0');
      expect(now.up, `lvsd brought ${rs}'s tunl0 up`).toBe(true);
      expect(now.rxPackets - rx[i]!.rxPackets, `${rs} received the connections through tunl0`).toBeGreaterThanOrEqual(
        15,
      );
      expect(await lan.sysctl(rs, 'net.ipv4.conf.tunl0.rp_filter')).toBe('0');
    }
    const svc = await serviceStats(lan, `${VIP}:80`, (s) => s.conns >= 10);
    expect(svc.outpkts, 'TUN replies bypass the director').toBe(0);
  });

  test('LVS-DR over IPv6: rr alternates, replies bypass the director, the client finds the VIP at the director', async () => {
    const replies = await lan.client.get(url(VIP6), { count: 10 });
    expectAlternating(replies);
    expect(countServers(replies)).toEqual({ rs1: 5, rs2: 5 });
    expect(new Set(replies.map((r) => r.client))).toEqual(new Set([lan.host('client').ipv6]));
    expect(await lan.addresses('rs1', 'lo')).toContain(`${VIP6}/128`);
    const svc = await serviceStats(lan, `[${VIP6}]:80`, (s) => s.conns >= 10);
    expect(svc.outpkts).toBe(0);
    expect(await lan.neighbour('client', VIP6)).toBe(lan.host('director').mac);
  });

  test('UDP over DR: datagrams alternate, each answered from the VIP', async () => {
    const replies = await lan.client.udp(VIP, 53, { count: 10 });
    expectAlternating(replies);
    expect(countServers(replies)).toEqual({ rs1: 5, rs2: 5 });
    expect(new Set(replies.map((r) => r.from))).toEqual(new Set([VIP]));
    const svc = await serviceStats(lan, `${VIP}:53`, (s) => s.conns >= 10);
    expect(svc.outpkts).toBe(0);
  });

  test('fwmark service with persistence: each client stays on one real server', async () => {
    const a = await lan.client.get(url(VIP, 8443), { count: 8 });
    const b = await lan.client.get(url(VIP, 8443), { count: 8, localAddress: CLIENT2 });
    expectAllOk([...a, ...b]);
    const serverA = a[0]!.server!;
    const serverB = b[0]!.server!;
    expect(countServers(a), 'client .10 stays on one real server').toEqual({ [serverA]: 8 });
    expect(countServers(b), 'client .11 stays on one real server').toEqual({ [serverB]: 8 });
    expect(serverB, 'rr gave the second client the other real server').not.toBe(serverA);
    // scheduled by the fwmark service, not by some vip service
    expect(await connectionsSeen(lan, [...a, ...b], 'director', `${VIP}:8443`)).toBe(16);
    const fwm = await serviceStats(lan, '1', (s) => s.conns >= 2);
    expect(fwm.proto).toBe('FWM');
    expect(fwm.outpkts).toBe(0);
    expect(await run('ip', ['netns', 'exec', 'director', 'ipvsadm', '-Ln', '-f', '1'])).toMatch(/persistent 300/);
  });
});
