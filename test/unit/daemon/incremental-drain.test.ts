// Drains on the incremental path: a reconciler that plans only what changed (and what drains,
// with the connection counts of those services read again) against one that loads and plans
// everything, on two fake kernels with the same connections and the same clock: every step sends
// the same operations and leaves the same table.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { lazyKernel } from '../../../src/apply/live.js';
import { IncrementalLoader } from '../../../src/config/incremental.js';
import { loadConfigTexts, type ConfigText } from '../../../src/config/load.js';
import { Metrics } from '../../../src/daemon/metrics.js';
import { Reconciler, type ReconcilerDeps } from '../../../src/daemon/reconciler.js';
import { createLogger } from '../../../src/log.js';
import { FakeIpvs } from '../fake-ipvs.js';

interface Svc {
  vip: number;
  drain: boolean;
  rs: number[];
}

function render(services: Svc[], defaultDrain: boolean): ConfigText[] {
  const lines = ['version: 1', ...(defaultDrain ? ['defaults:', '  drain: 20s'] : []), 'services:'];
  for (const s of services) {
    lines.push(`  - vip: 198.51.100.${s.vip}`, '    port: 80', ...(s.drain ? ['    drain: 10s'] : []));
    lines.push(s.rs.length === 0 ? '    realservers: []' : '    realservers:');
    for (const r of s.rs) lines.push(`      - 203.0.113.${r}`);
  }
  return [{ file: '/etc/lvsd/lvsd.yaml', text: lines.join('\n') + '\n' }];
}

type Step =
  | { kind: 'removeRs'; s: number; r: number }
  | { kind: 'addRs'; s: number; r: number }
  | { kind: 'remove'; s: number }
  | { kind: 'add'; vip: number; drain: boolean }
  | { kind: 'toggleDrain'; s: number }
  | { kind: 'defaults' }
  | { kind: 'connections'; s: number; r: number; n: number }
  | { kind: 'time'; s: number }
  | { kind: 'poll' };

const i = fc.nat({ max: 9 });
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('removeRs' as const), s: i, r: i }),
  fc.record({ kind: fc.constant('removeRs' as const), s: i, r: i }),
  fc.record({ kind: fc.constant('addRs' as const), s: i, r: fc.integer({ min: 10, max: 14 }) }),
  fc.record({ kind: fc.constant('remove' as const), s: i }),
  fc.record({ kind: fc.constant('add' as const), vip: fc.integer({ min: 1, max: 8 }), drain: fc.boolean() }),
  fc.record({ kind: fc.constant('toggleDrain' as const), s: i }),
  fc.record({ kind: fc.constant('defaults' as const) }),
  fc.record({ kind: fc.constant('connections' as const), s: i, r: i, n: fc.constantFrom(0, 3, 3) }),
  fc.record({ kind: fc.constant('connections' as const), s: i, r: i, n: fc.constantFrom(0, 3, 3) }),
  fc.record({ kind: fc.constant('time' as const), s: fc.integer({ min: 1, max: 25 }) }),
  fc.record({ kind: fc.constant('poll' as const) }),
);

/** Applies a step to the model; returns the trigger it calls for. */
function apply(services: Svc[], st: Step, m: { defaultDrain: boolean; now: number }, fakes: FakeIpvs[]) {
  const s = 's' in st && services.length > 0 ? services[st.s % services.length] : undefined;
  switch (st.kind) {
    case 'removeRs':
      if (s && s.rs.length > 0) s.rs.splice(st.r % s.rs.length, 1);
      return 'file';
    case 'addRs':
      if (s && !s.rs.includes(st.r)) s.rs.push(st.r);
      return 'file';
    case 'remove':
      if (s) services.splice(services.indexOf(s), 1);
      return 'file';
    case 'add':
      if (!services.some((x) => x.vip === st.vip)) services.push({ vip: st.vip, drain: st.drain, rs: [10, 11] });
      return 'file';
    case 'toggleDrain':
      if (s) s.drain = !s.drain;
      return 'file';
    case 'defaults':
      m.defaultDrain = !m.defaultDrain;
      return 'file';
    case 'connections': {
      // Live real servers too: one that left the file may still have connections.
      const live = fakes[1]!.snapshot()[st.s % Math.max(1, services.length + 1)];
      const rs = live?.realservers[st.r % Math.max(1, live.realservers.length)];
      if (live && rs) for (const f of fakes) f.connections.set(`tcp/${live.address}:80 ${rs.address}:${rs.port}`, st.n);
      return 'drain';
    }
    case 'time':
      m.now += st.s * 1000;
      return 'drain';
    case 'poll':
      return 'drain';
  }
}

async function scenario(steps: Step[]): Promise<number> {
  const services: Svc[] = [1, 2, 3].map((vip) => ({ vip, drain: vip !== 3, rs: [10, 11, 12] }));
  const m = { defaultDrain: true, now: 1_000_000 };
  const fakes = [new FakeIpvs(), new FakeIpvs()];
  const loader = new IncrementalLoader();
  const records: Record<string, unknown>[] = [];
  const deps = (fake: FakeIpvs, load: ReconcilerDeps['load'], keep: boolean): ReconcilerDeps => ({
    load,
    kernel: lazyKernel({ ipvs: async () => fake, host: () => Promise.reject(new Error('no host')) }),
    log: createLogger({
      level: 'info',
      pretty: false,
      stream: { write: (l: string) => void (keep && records.push(JSON.parse(l) as Record<string, unknown>)) },
    }),
    metrics: new Metrics(),
    now: () => m.now,
  });
  const scoped = new Reconciler(
    deps(
      fakes[0]!,
      async (how) => loader.load(render(services, m.defaultDrain), how?.full ? 'start' : undefined),
      true,
    ),
  );
  const full = new Reconciler(deps(fakes[1]!, async () => loadConfigTexts(render(services, m.defaultDrain)), false));
  // Stopped: no drain poll or retry of their own, only the triggers of the steps.
  scoped.stop();
  full.stop();
  await scoped.trigger('start');
  await full.trigger('start');
  for (const st of steps) {
    const trigger = apply(services, st, m, fakes);
    const before = fakes.map((f) => f.sent.length);
    const a = await scoped.trigger(trigger);
    const b = await full.trigger(trigger);
    expect(a.result === 'skipped' ? 'ok' : a.result).toBe(b.result === 'skipped' ? 'ok' : b.result);
    expect(fakes[0]!.sent.slice(before[0])).toEqual(fakes[1]!.sent.slice(before[1]));
    expect(fakes[0]!.snapshot()).toEqual(fakes[1]!.snapshot());
  }
  return records.filter((x) => x['event'] === 'reconcile' && x['plan'] === 'scoped').length;
}

describe('incremental reconcile with drains', () => {
  test('plans of what changed and what drains send what plans of everything send', async () => {
    let scoped = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 30 }), async (steps) => {
        scoped += await scenario(steps);
      }),
      { numRuns: 100 },
    );
    expect(scoped).toBeGreaterThan(300);
  }, 120_000);
});
