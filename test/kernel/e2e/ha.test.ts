// Two directors with keepalived's VRRP and the kernel's connection sync run
// by lvsd (director.sync, both daemons on both), and lvsd's track file
// (director.vrrp): the active director dies, comes back, and loses its real
// servers, while a client holds keep-alive connections and a request loop
// runs. The same run without sync is ha-control.test.ts.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { requireKernel } from '../helpers.js';
import { run, sleep, waitFor } from './lan-core.mjs';
import {
  CLIENT,
  Connections,
  createPair,
  type Director,
  loopFigures,
  type Pair,
  REALSERVERS,
  trackFile,
  VIP,
} from './ha-pair.js';

const N = 12;
const URL = `http://${VIP}/`;
let pair: Pair;
let conns: Connections;

/** A fresh connection's GET to the VIP, until one is answered; ms since `t0`. */
async function answeredAfter(t0: number): Promise<number> {
  await waitFor(async () => ((await pair.client.get(URL, { count: 1, timeoutMs: 250 }))[0]?.ok ? true : undefined), {
    timeoutMs: 30_000,
    intervalMs: 20,
    what: `${VIP} to answer`,
  });
  return Date.now() - t0;
}

/** Runs `step` with the request loop going, then prints and returns the loop's figures and the survivors. */
async function during(name: string, step: () => Promise<Record<string, unknown>>) {
  const loop = await pair.client.loop(URL, { intervalMs: 50, timeoutMs: 1000 });
  let extra: Record<string, unknown>;
  try {
    await sleep(1000);
    extra = await step();
    await sleep(3000);
  } finally {
    await conns.settle();
  }
  const figures = loopFigures(await loop.stop());
  const lost = conns.lost();
  console.log(
    `[ha] ${name}: ${JSON.stringify({ ...extra, ...figures, connections: conns.size, survived: conns.size - lost.length, lost })}`,
  );
  return { ...figures, lost };
}

/** The VIP as lvsd show and /metrics of director `d` report it. */
async function reportedHeld(d: Director): Promise<{ show: boolean | undefined; metric: string | undefined }> {
  const r = await pair.lvsdCli(d, ['show', '-f', 'json', '--status-file', `/run/ha-${d}/status.json`]);
  const shown = (JSON.parse(r) as { daemon?: { vips?: { vip: string; held: boolean }[] } }).daemon?.vips;
  // node, not curl: a fresh CI machine has no curl.
  const scrape = "fetch('http://127.0.0.1:9100/metrics').then((r) => r.text()).then((t) => process.stdout.write(t))";
  const metrics = await run('ip', ['netns', 'exec', pair.ns(d), process.execPath, '-e', scrape]);
  return {
    show: shown?.find((v) => v.vip === VIP)?.held,
    metric: /^lvsd_vip_held\{vip="198\.51\.100\.200"\} (\d)$/m.exec(metrics)?.[1],
  };
}

beforeAll(async () => {
  requireKernel();
  pair = await createPair({ sync: true });
  conns = await Connections.open(pair.client, N);
  // Every connection at least 2 s old (and synced) before the first failover.
  await sleep(3000);
}, 180_000);

afterAll(async () => {
  conns?.stop();
  await pair?.destroy();
});

describe('two directors: keepalived VRRP, lvsd sync and track file', () => {
  test('the active director dies: the standby answers within 5 s, every connection continues on its real server', async () => {
    expect(Object.keys(conns.spread()).sort()).toEqual(Object.keys(REALSERVERS).sort());
    const r = await during('a) d1 killed', async () => {
      const t0 = Date.now();
      await pair.crash('d1');
      const answerMs = await answeredAfter(t0);
      const vipMs = await pair.waitActive('d2', 20_000, false);
      return { answerMs, vipOnD2Ms: vipMs + answerMs };
    });
    expect(r.lost).toEqual([]);
    expect(await reportedHeld('d2')).toEqual({ show: true, metric: '1' });
  }, 120_000);

  test('it comes back and preempts: every connection survives again (symmetric sync)', async () => {
    await pair.rebuild('d1');
    const r = await during('b) d1 back, preempts', async () => {
      const t0 = Date.now();
      await pair.startDirector('d1');
      const startedMs = Date.now() - t0;
      await pair.waitActive('d1', 60_000);
      const backMs = Date.now() - t0;
      const entries = (await run('ip', ['netns', 'exec', pair.ns('d1'), 'ipvsadm', '-Lnc'])).split('\n');
      const synced = entries.filter((l) => /^TCP .* ESTABLISHED /.test(l) && l.includes(CLIENT)).length;
      return {
        lvsdReadyKeepalivedStartedMs: startedMs,
        preemptedAfterStartMs: backMs,
        establishedOnD1AtPreempt: synced,
      };
    });
    expect(r.lost).toEqual([]);
    expect(await reportedHeld('d2')).toEqual({ show: false, metric: '0' });
  }, 120_000);

  test('the active director loses its real servers: the track file moves the VIP within 5 s of the verdict', async () => {
    const d1 = pair.lvsd('d1');
    const d2 = pair.lvsd('d2');
    const from1 = d1.logs.length;
    const from2 = d2.logs.length;
    const r = await during('c) d1 cut off from the real servers', async () => {
      // Only d1 loses them: its health checks fail, so does its forwarding.
      const routes = Object.values(REALSERVERS).map((a) => `ip route add unreachable ${a}/32`);
      await run('ip', ['netns', 'exec', pair.ns('d1'), 'sh', '-c', routes.join('\n')]);
      const verdict = await d1.waitLog(
        (l) => l['event'] === 'vrrp_track' && l['state'] === 'cannot_serve',
        30_000,
        from1,
      );
      const moved = await d2.waitLog((l) => l['event'] === 'vip_held' && l['held'] === true, 30_000, from2);
      const moveMs = Date.parse(String(moved['time'])) - Date.parse(String(verdict['time']));
      expect(moveMs).toBeLessThanOrEqual(5000);
      await pair.waitActive('d2');
      return { verdictToVipOnD2Ms: moveMs, trackValue: verdict['value'] };
    });
    expect(r.failed).toBeLessThan(r.requests);
    // The loop recovers: the VIP answers again from d2.
    const replies = await pair.client.get(URL, { count: 5, timeoutMs: 2000 });
    expect(replies.filter((x) => !x.ok)).toEqual([]);
  }, 120_000);

  test('lvsd stops cleanly: its last word in the track file is -100', async () => {
    expect(readFileSync(trackFile('d1'), 'utf8')).toBe('-253\n');
    expect(await pair.stopLvsd('d1')).toBe(0);
    expect(readFileSync(trackFile('d1'), 'utf8')).toBe('-100\n');
    // The peer (priority 100) stays ahead of the stopped director (150 - 100).
    await sleep(3000);
    expect(await pair.holds('d2')).toBe(true);
  }, 60_000);
});
