// The daemon's incremental path held to the full one: random edits of the file and health
// verdicts, each reconciled by the reconciler with the incremental loader against the fake IPVS;
// the operations it sends are, every time, the plan the full path makes (a full load, planned
// over every service against the table as it is).
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { lazyKernel } from '../../../src/apply/live.js';
import { IncrementalLoader } from '../../../src/config/incremental.js';
import { loadConfigTexts, type ConfigText } from '../../../src/config/load.js';
import { Metrics } from '../../../src/daemon/metrics.js';
import { Reconciler } from '../../../src/daemon/reconciler.js';
import { createLogger } from '../../../src/log.js';
import { healthKey } from '../../../src/model/keys.js';
import { planFor } from '../../../src/plan/plan.js';
import { FakeIpvs } from '../fake-ipvs.js';

interface Svc {
  vip: number;
  checked: boolean;
  quiesce: boolean;
  sorry: boolean;
  rs: { last: number; weight: number }[];
}

function render(services: Svc[], broken: boolean): ConfigText[] {
  const lines = ['version: 1', 'services:'];
  for (const s of services) {
    lines.push(`  - vip: 198.51.100.${s.vip}`, '    port: 80');
    if (s.checked) lines.push(`    check: { type: tcp, interval: 5s${s.quiesce ? ', on_failure: quiesce' : ''} }`);
    if (s.sorry) lines.push('    sorry_server: 192.0.2.99');
    lines.push('    realservers:');
    for (const r of s.rs) lines.push(`      - address: 203.0.113.${r.last}`, `        weight: ${r.weight}`);
    if (s.rs.length === 0) lines[lines.length - 1] += ' []';
  }
  if (broken) lines.push('  - vip: 198.51.100.250', '    port: [80');
  return [{ file: '/etc/lvsd/lvsd.yaml', text: lines.join('\n') + '\n' }];
}

type Step =
  | { kind: 'weight'; s: number; r: number; weight: number }
  | { kind: 'add'; at: number; vip: number; checked: boolean; sorry: boolean }
  | { kind: 'remove'; s: number }
  | { kind: 'addRs'; s: number; last: number }
  | { kind: 'removeRs'; s: number; r: number }
  | { kind: 'break' }
  | { kind: 'fix' }
  | { kind: 'duplicate'; s: number; of: number }
  | { kind: 'check'; s: number; quiesce: boolean }
  | { kind: 'health'; s: number; r: number; up: boolean };

const n = fc.nat({ max: 12 });
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('weight' as const), s: n, r: n, weight: fc.integer({ min: 0, max: 9 }) }),
  fc.record({
    kind: fc.constant('add' as const),
    at: n,
    vip: fc.integer({ min: 1, max: 20 }),
    checked: fc.boolean(),
    sorry: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('remove' as const), s: n }),
  fc.record({ kind: fc.constant('addRs' as const), s: n, last: fc.integer({ min: 1, max: 30 }) }),
  fc.record({ kind: fc.constant('removeRs' as const), s: n, r: n }),
  fc.record({ kind: fc.constant('break' as const) }),
  fc.record({ kind: fc.constant('fix' as const) }),
  fc.record({ kind: fc.constant('duplicate' as const), s: n, of: n }),
  fc.record({ kind: fc.constant('check' as const), s: n, quiesce: fc.boolean() }),
  fc.record({ kind: fc.constant('health' as const), s: n, r: n, up: fc.boolean() }),
  fc.record({ kind: fc.constant('health' as const), s: n, r: n, up: fc.boolean() }),
);

/** Applies a file edit to the model; a health step returns the real server's health key. */
function edit(services: Svc[], st: Step, state: { broken: boolean }): string | undefined {
  const s = 's' in st && services.length > 0 ? services[st.s % services.length] : undefined;
  const rs = s && 'r' in st && s.rs.length > 0 ? s.rs[st.r % s.rs.length] : undefined;
  if (st.kind === 'weight' && rs) rs.weight = st.weight;
  if (st.kind === 'add') {
    const one = { vip: st.vip, checked: st.checked, quiesce: false, sorry: st.sorry, rs: [{ last: 10, weight: 1 }] };
    services.splice(st.at % (services.length + 1), 0, one);
  }
  if (st.kind === 'remove' && s) services.splice(services.indexOf(s), 1);
  if (st.kind === 'addRs' && s) s.rs.push({ last: st.last, weight: 3 });
  if (st.kind === 'removeRs' && s && rs) s.rs.splice(s.rs.indexOf(rs), 1);
  if (st.kind === 'break') state.broken = true;
  if (st.kind === 'fix') state.broken = false;
  if (st.kind === 'duplicate' && s) s.vip = services[st.of % services.length]!.vip;
  if (st.kind === 'check' && s) Object.assign(s, { checked: !s.checked, quiesce: st.quiesce });
  if (st.kind === 'health' && s && rs) return healthKey(`tcp/198.51.100.${s.vip}:80`, `203.0.113.${rs.last}:80`);
  return undefined;
}

async function scenario(steps: Step[]): Promise<{ scoped: number; full: number }> {
  const services: Svc[] = [1, 2, 3, 4].map((vip) => ({
    vip,
    checked: vip % 2 === 0,
    quiesce: vip === 4,
    sorry: vip === 2,
    rs: [
      { last: 10, weight: 1 },
      { last: 11, weight: 2 },
    ],
  }));
  const state = { broken: false };
  const fake = new FakeIpvs();
  const loader = new IncrementalLoader();
  const health = new Map<string, boolean>();
  const records: Record<string, unknown>[] = [];
  const r = new Reconciler({
    load: async (how) => loader.load(render(services, state.broken), how?.full ? 'start' : undefined),
    kernel: lazyKernel({ ipvs: async () => fake, host: () => Promise.reject(new Error('no host')) }),
    log: createLogger({
      level: 'info',
      pretty: false,
      stream: { write: (l: string) => void records.push(JSON.parse(l)) },
    }),
    metrics: new Metrics(),
    health: () => new Map(health),
  });
  expect(await r.trigger('start')).toMatchObject({ result: 'ok' });
  for (const st of steps) {
    const key = edit(services, st, state);
    if (st.kind === 'health' && key === undefined) continue;
    if (key !== undefined) {
      health.set(key, st.kind === 'health' && st.up);
      r.healthChanged(key.split(' ')[0]!);
    }
    const full = loadConfigTexts(render(services, state.broken));
    const live = await fake.readTable();
    const expected = full.ok
      ? planFor({ desired: full.state, live, health: new Map(health), drains: new Map(), now: Date.now() }).plan
      : [];
    const before = fake.sent.length;
    const summary = await r.trigger(key !== undefined ? 'health' : 'file');
    expect(summary.result).toBe(full.ok ? (summary.result === 'skipped' ? 'skipped' : 'ok') : 'invalid_config');
    expect(fake.sent.slice(before)).toEqual(expected.map((c) => c.op));
  }
  r.stop();
  const done = records.filter((x) => x['event'] === 'reconcile');
  return {
    scoped: done.filter((x) => x['plan'] === 'scoped').length,
    full: done.filter((x) => x['plan'] === 'full').length,
  };
}

describe('incremental reconcile', () => {
  test('random edits and health verdicts: the operations sent are the full plan, every time', async () => {
    let scoped = 0;
    let full = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 30 }), async (steps) => {
        const c = await scenario(steps);
        scoped += c.scoped;
        full += c.full;
      }),
      { numRuns: 100 },
    );
    // Not vacuous: most reconciles planned only what changed.
    expect(scoped).toBeGreaterThan(full);
  }, 120_000);

  test('one weight changed: the log says incremental and scoped, one service planned, one operation', async () => {
    const c = await scenario([{ kind: 'weight', s: 1, r: 0, weight: 7 }]);
    expect(c).toEqual({ scoped: 1, full: 1 });
  });

  test('onConfig: once per new config, with the services an incremental load changed; not again for a health verdict', async () => {
    const services: Svc[] = [1, 2].map((vip) => ({
      vip,
      checked: true,
      quiesce: false,
      sorry: false,
      rs: [{ last: 10, weight: 1 }],
    }));
    const loader = new IncrementalLoader();
    const calls: (string[] | undefined)[] = [];
    const r = new Reconciler({
      load: async (how) => loader.load(render(services, false), how?.full ? 'start' : undefined),
      kernel: lazyKernel({ ipvs: async () => new FakeIpvs(), host: () => Promise.reject(new Error('no host')) }),
      log: createLogger({ level: 'fatal', pretty: false, stream: { write: () => {} } }),
      metrics: new Metrics(),
      health: () => new Map(),
      onConfig: (_d, changed) => calls.push(changed && [...changed]),
    });
    await r.trigger('start');
    services[1]!.rs[0]!.weight = 5;
    await r.trigger('file');
    r.healthChanged('tcp/198.51.100.1:80');
    await r.trigger('health');
    await r.trigger('file');
    r.stop();
    expect(calls).toEqual([undefined, ['tcp/198.51.100.2:80']]);
  });
});
