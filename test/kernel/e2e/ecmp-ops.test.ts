// Issue 16, ECMP scale-out with real BIRD and real traffic (2/2): operating
// the directors under load. A director drains (`drain: true` in its file:
// lvsd run withdraws every VIP) and comes back, a third director joins, and
// one director loses its way to one VIP's real server: it withdraws that VIP
// alone. No `mh` connection breaks. Figures are printed.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { requireKernel } from '../helpers.js';
import { waitFor } from './lan-core.mjs';
import { Ecmp, type ClientResult, RS, VIP1, VIP2, directorAddress, directorConfig, report, sleep } from './ecmp.js';

let net: Ecmp;

beforeAll(async () => {
  requireKernel();
  const started = await Ecmp.twoDirectors();
  net = started.net;
}, 180_000);

afterAll(async () => {
  await net?.destroy();
});

/** Every `mh` connection survived on its real server, and no new connection failed. */
function expectNothingBroke(r: ClientResult): void {
  const mh = r.ports['80']!;
  expect(mh.broken, `broken mh connections: ${mh.why.join(', ')}`).toBe(0);
  expect(mh.same_rs).toBe(mh.n);
  expect(r.loop.failed).toBe(0);
}

/** `lvsd show` of a director once its output matches `re`. */
async function showUntil(name: string, re: RegExp, timeoutMs = 15_000): Promise<string> {
  let last = '';
  return waitFor(
    async () => {
      last = (await net.lvsd(name, ['show', '--status-file', net.statusFile(name)])).stdout;
      return re.test(last) ? last : undefined;
    },
    { timeoutMs, intervalMs: 500, what: () => `lvsd show in ${name} to match ${re}; it printed:\n${last}` },
  );
}

describe('directors behind ECMP, operated under load', () => {
  test('c) drain: true on one director: the router withdraws it, no connection breaks, show says draining then drained', async () => {
    let withdrawn = 0;
    let during = '';
    let onD1 = 0;
    const r = await net.client(6, async () => {
      await sleep(3000);
      onD1 = await net.ipvsEntries('d1', VIP1, 80);
      const saved = Date.now();
      net.saveConfig('d1', directorConfig({ drain: true }));
      await net.waitNexthops(VIP1, ['d2'], 15_000);
      withdrawn = (Date.now() - saved) / 1000;
      await net.waitNexthops(VIP2, ['d2'], 15_000);
      during = await showUntil('d1', /withdrawn \(drain\)/);
    });
    report(
      'c) d1 drained',
      r,
      `router withdrew d1 ${withdrawn.toFixed(1)}s after its file was saved; d1 held ${onD1} :80 entries`,
    );
    expectNothingBroke(r);
    expect(onD1).toBeGreaterThan(0); // flows did move
    expect(during).toMatch(new RegExp(`${VIP1} withdrawn \\(drain\\), ${VIP2} withdrawn \\(drain\\)`));
    expect(during).toMatch(/# {3}draining: \d+ new connection\(s\)\/s still arrive/);
    // The services stay for whatever still arrives.
    expect(await net.in('d1', 'ipvsadm', '-Sn')).toContain(`-A -t ${VIP1}:80 -s mh -b mh-port`);
    const t0 = Date.now();
    await showUntil('d1', /# {3}drained: no new connections arrive/, 90_000);
    console.log(
      `[ecmp] c) lvsd show in d1 said "drained" ${((Date.now() - t0) / 1000).toFixed(1)}s after the client stopped`,
    );
  }, 180_000);

  test('c) the drained director comes back (drain: false): announced again, no connection breaks', async () => {
    let back = 0;
    const r = await net.client(6, async () => {
      await sleep(3000);
      const saved = Date.now();
      net.saveConfig('d1', directorConfig());
      await net.waitNexthops(VIP1, ['d1', 'd2'], 15_000);
      back = (Date.now() - saved) / 1000;
    });
    report('c) d1 back', r, `router had d1 again ${back.toFixed(1)}s after its file was saved`);
    expectNothingBroke(r);
  }, 120_000);

  test('d) a third director joins under load: no connection breaks', async () => {
    let joined = 0;
    let onD3 = 0;
    const r = await net.client(6, async () => {
      await sleep(3000);
      const t0 = Date.now();
      await net.addDirector('d3');
      await net.waitNexthops(VIP1, ['d1', 'd2', 'd3'], 30_000);
      joined = (Date.now() - t0) / 1000;
      await sleep(3000);
      onD3 = await net.ipvsEntries('d3', VIP1, 80);
    });
    report(
      'd) d3 joined',
      r,
      `router had three next hops ${joined.toFixed(1)}s after d3 started; d3 took ${onD3} :80 flows`,
    );
    expectNothingBroke(r);
    // Established flows (and new ones) moved to the new director while the client held them.
    expect(onD3).toBeGreaterThan(0);
    expect(await net.nexthops(VIP2)).toEqual(['d1', 'd2', 'd3'].map(directorAddress));
  }, 180_000);

  test("e) one VIP's real server unreachable from one director only: that director withdraws that VIP alone", async () => {
    const t0 = Date.now();
    await net.in('d2', 'ip', 'route', 'add', 'blackhole', `${RS['s3']}/32`);
    await net.waitNexthops(VIP2, ['d1', 'd3'], 20_000);
    const secs = (Date.now() - t0) / 1000;
    console.log(`[ecmp] e) d2 lost ${RS['s3']}: the router dropped d2 for ${VIP2} after ${secs.toFixed(1)}s`);
    expect(await net.nexthops(VIP1)).toEqual(['d1', 'd2', 'd3'].map(directorAddress));
    const shown = await showUntil('d2', new RegExp(`${VIP2} withdrawn \\(no real server up\\)`));
    expect(shown).toMatch(new RegExp(`${VIP1} announced`));
    // And back when it is reachable again.
    await net.in('d2', 'ip', 'route', 'del', 'blackhole', `${RS['s3']}/32`);
    await net.waitNexthops(VIP2, ['d1', 'd2', 'd3'], 20_000);
  }, 120_000);
});
