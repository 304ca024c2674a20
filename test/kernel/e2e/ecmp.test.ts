// Issue 16, ECMP scale-out with real BIRD and real traffic (1/2): two
// directors behind a BIRD router with ECMP, each announcing the VIPs with
// lvsd's director.announce; one director's link is cut under load. The
// `mh`+`mh-port` service keeps every connection on its real server; the `rr`
// service beside it is the control and loses some. Figures are printed.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { requireKernel } from '../helpers.js';
import { Ecmp, VIP1, VIP2, directorAddress, report, sleep } from './ecmp.js';

let net: Ecmp;

beforeAll(async () => {
  requireKernel();
  const started = await Ecmp.twoDirectors();
  net = started.net;
  console.log(
    `[ecmp] both directors announced; the router had both next hops ${started.seconds.toFixed(1)}s after the second started`,
  );
}, 180_000);

afterAll(async () => {
  await net?.destroy();
});

describe('two directors behind ECMP', () => {
  test('a) one next hop per director; new connections reach both; lvsd plan has nothing left to do', async () => {
    expect(await net.nexthops(VIP1)).toEqual([directorAddress('d1'), directorAddress('d2')]);
    let seen: Record<string, number> = {};
    const r = await net.client(2, async () => {
      await sleep(4000);
      seen = { d1: await net.ipvsEntries('d1', VIP1, 80), d2: await net.ipvsEntries('d2', VIP1, 80) };
    });
    report('a) two directors', r, `IPVS entries of :80 on d1 ${seen['d1']}, on d2 ${seen['d2']}`);
    expect(seen['d1']).toBeGreaterThan(0);
    expect(seen['d2']).toBeGreaterThan(0);
    expect(r.ports['80']!.broken).toBe(0);
    expect(r.ports['81']!.broken).toBe(0);
    expect(r.loop.failed).toBe(0);
    // The file is in the kernel: announced VIPs, sloppy_tcp, services; plan exits 0 (no changes).
    for (const d of ['d1', 'd2']) {
      const plan = await net.lvsd(d, ['plan', '-c', net.configFile(d)]);
      expect(plan.stdout + plan.stderr).toMatch(/No changes/);
      expect(plan.code).toBe(0);
      expect(plan.stderr).toMatch(/warning: scheduler rr under director\.announce/);
      expect(await net.in(d, 'sysctl', '-n', 'net.ipv4.vs.sloppy_tcp')).toBe('1\n');
    }
    const shown = await net.lvsd('d1', ['show', '--status-file', net.statusFile('d1')]);
    expect(shown.stdout).toMatch(
      new RegExp(`announce on lvs0 \\(when healthy\\): ${VIP1} announced, ${VIP2} announced`),
    );
  }, 120_000);

  test("b) one director's link cut: every mh connection continues on its real server within the hold time; rr loses some", async () => {
    let withdrawn = 0;
    let onD1 = 0;
    const r = await net.client(8, async () => {
      await sleep(3000);
      onD1 = await net.ipvsEntries('d1', VIP1, 80);
      await net.in('d1', 'ip', 'link', 'set', 'eth0', 'down');
      withdrawn = await net.waitNexthops(VIP1, ['d2'], 20_000);
    });
    report("b) d1's link cut", r, `router withdrew d1 after ${withdrawn.toFixed(1)}s; d1 held ${onD1} :80 entries`);
    const mh = r.ports['80']!;
    expect(onD1).toBeGreaterThan(0); // flows did move
    // The router notices within the hold time (3 s), give or take a keepalive and a scan.
    expect(withdrawn).toBeLessThan(3 + 3);
    expect(mh.broken).toBe(0);
    expect(mh.same_rs).toBe(mh.n);
    // Within the hold time plus TCP's retransmission back-off: the connection goes on, not restarts.
    expect(mh.max_stall_s).toBeLessThan(15);
    // The control: rr on the surviving director picks its own real server for half the moved flows.
    expect(r.ports['81']!.broken).toBeGreaterThan(0);
  }, 120_000);
});
