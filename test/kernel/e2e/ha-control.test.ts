// The control of ha.test.ts: the same pair and the same failover, without
// director.sync. The standby has no entries for the live connections, so
// IPVS hands their packets to its own stack, which resets them: this run
// must lose them, or the survival in ha.test.ts would prove nothing.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { requireKernel } from '../helpers.js';
import { sleep, waitFor } from './lan-core.mjs';
import { Connections, createPair, loopFigures, type Pair, VIP } from './ha-pair.js';

const N = 12;
const URL = `http://${VIP}/`;
let pair: Pair;
let conns: Connections;

beforeAll(async () => {
  requireKernel();
  pair = await createPair({ sync: false });
  conns = await Connections.open(pair.client, N);
  await sleep(3000);
}, 180_000);

afterAll(async () => {
  conns?.stop();
  await pair?.destroy();
});

describe('two directors without sync (the control)', () => {
  test('the active director dies: the standby answers, and every established connection is lost', async () => {
    const loop = await pair.client.loop(URL, { intervalMs: 50, timeoutMs: 1000 });
    await sleep(1000);
    const t0 = Date.now();
    await pair.crash('d1');
    await waitFor(async () => ((await pair.client.get(URL, { count: 1, timeoutMs: 500 }))[0]?.ok ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 50,
      what: `${VIP} to answer`,
    });
    const answerMs = Date.now() - t0;
    await pair.waitActive('d2', 20_000, false);
    await sleep(3000);
    await conns.settle();
    const figures = loopFigures(await loop.stop());
    const lost = conns.lost();
    console.log(
      `[ha control] d1 killed, no sync: ${JSON.stringify({ answerMs, ...figures, connections: N, survived: N - lost.length, lost })}`,
    );
    expect(answerMs).toBeLessThanOrEqual(5000);
    expect(lost).toHaveLength(N);
  }, 120_000);
});
