// Random check results, kernel errors and file events against the reconciler on the fake IPVS:
// nothing reaches the process as an unhandled rejection or uncaught exception, and once the
// faults stop, one reconcile leaves the table equal to the last valid config.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { lazyKernel } from '../../../src/apply/live.js';
import { loadConfigTexts, type LoadResult } from '../../../src/config/load.js';
import { Metrics } from '../../../src/daemon/metrics.js';
import { Reconciler, type Trigger } from '../../../src/daemon/reconciler.js';
import { LvsdError } from '../../../src/errors.js';
import type { IpvsClient } from '../../../src/ipvs/client.js';
import type { IpvsOp, OpResult } from '../../../src/model/ops.js';
import { createLogger } from '../../../src/log.js';
import { planFor } from '../../../src/plan/plan.js';
import { FakeIpvs } from '../fake-ipvs.js';

const REALSERVERS = ['192.0.2.10', '192.0.2.11', '192.0.2.12'];
const healthKeys = REALSERVERS.map((a) => `tcp/192.0.2.1:80 ${a}:80`);

/** A valid config: which real servers, their weight, and whether the second service exists. */
function valid(weight: number, count: number, second: boolean): LoadResult {
  const rs = REALSERVERS.slice(0, count)
    .map((a) => `{ address: ${a}, weight: ${weight} }`)
    .join(', ');
  const text = `version: 1
services:
  - { vip: 192.0.2.1, port: 80, scheduler: rr, check: { type: tcp, interval: 5s }, realservers: [${rs}] }
${second ? '  - { vip: 192.0.2.2, port: 53, protocol: udp, scheduler: wrr, realservers: [192.0.2.20] }\n' : ''}`;
  const r = loadConfigTexts([{ file: 'lvsd.yaml', text }]);
  if (!r.ok) throw new Error(r.errors.map(String).join('\n'));
  return r;
}
const INVALID = loadConfigTexts([{ file: 'lvsd.yaml', text: 'version: 1\nservices:\n  - vip: 192.0.2.300\n' }]);

/** A tiny seeded PRNG, so that a failing run replays from fast-check's seed. */
function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => (s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0) / 2 ** 32;
}

/** The fake kernel behind a switch: while `faults` is on, calls throw, reject or half-apply at random. */
class FlakyIpvs implements IpvsClient {
  faults = true;
  constructor(
    readonly inner: FakeIpvs,
    private readonly rand: () => number,
  ) {}
  private fault(what: string): Promise<never> | undefined {
    if (!this.faults) return undefined;
    const x = this.rand();
    if (x < 0.1) throw new Error(`${what}: thrown at once`);
    if (x < 0.2) return Promise.reject(new LvsdError('IPVS_IO', `${what}: socket failed`));
    return undefined;
  }
  info() {
    return this.fault('info') ?? this.inner.info();
  }
  timeouts() {
    return this.fault('timeouts') ?? this.inner.timeouts();
  }
  services() {
    return this.fault('services') ?? this.inner.services();
  }
  realServers(s: Parameters<IpvsClient['realServers']>[0]) {
    return this.fault('realServers') ?? this.inner.realServers(s);
  }
  syncDaemons() {
    return this.fault('syncDaemons') ?? this.inner.syncDaemons();
  }
  readTable() {
    return this.fault('readTable') ?? this.inner.readTable();
  }
  execute(ops: readonly IpvsOp[]): Promise<OpResult[]> {
    const f = this.fault('execute');
    if (f) return f;
    if (this.faults && this.rand() < 0.15) {
      // Half the batch reached the kernel, then the socket broke: the outcome is unknown to lvsd.
      return this.inner.execute(ops.slice(0, Math.floor(ops.length / 2))).then(() => {
        throw new LvsdError('IPVS_IO', 'connection reset');
      });
    }
    return this.inner.execute(ops);
  }
  close() {}
}

type Step =
  | { kind: 'config'; to: 'valid' | 'invalid' | 'throws' | 'rejects'; weight: number; count: number; second: boolean }
  | { kind: 'trigger'; trigger: Trigger; wait: boolean }
  | { kind: 'health'; index: number; up: boolean }
  | { kind: 'sleep'; ms: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant('config' as const),
    to: fc.constantFrom('valid' as const, 'valid' as const, 'invalid' as const, 'throws' as const, 'rejects' as const),
    weight: fc.integer({ min: 0, max: 5 }),
    count: fc.integer({ min: 0, max: 3 }),
    second: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('trigger' as const),
    trigger: fc.constantFrom<Trigger>('file', 'signal', 'resync', 'health', 'drain', 'retry'),
    wait: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('health' as const), index: fc.integer({ min: 0, max: 2 }), up: fc.boolean() }),
  fc.record({ kind: fc.constant('sleep' as const), ms: fc.integer({ min: 0, max: 3 }) }),
);

const escaped: unknown[] = [];
const onEscape = (e: unknown) => escaped.push(e);
beforeAll(() => {
  process.on('unhandledRejection', onEscape);
  process.on('uncaughtException', onEscape);
});
afterAll(() => {
  process.off('unhandledRejection', onEscape);
  process.off('uncaughtException', onEscape);
});

async function runScenario(seed: number, steps: Step[]): Promise<void> {
  const rand = prng(seed);
  const kernel = new FlakyIpvs(new FakeIpvs(), rand);
  let lastValid = valid(1, 2, false);
  let load: () => Promise<LoadResult> = async () => lastValid;
  const health = new Map(healthKeys.map((k) => [k, true]));
  let faults = true;
  const r = new Reconciler({
    load: () => load(),
    kernel: lazyKernel({
      ipvs: () => (faults && rand() < 0.1 ? Promise.reject(new Error('ip_vs not loaded')) : Promise.resolve(kernel)),
      host: () => Promise.reject(new Error('no host')),
    }),
    log: createLogger({ level: 'fatal', pretty: false, stream: { write: () => {} } }),
    metrics: new Metrics(),
    health: () => {
      if (faults && rand() < 0.05) throw new Error('health snapshot failed');
      return new Map(health);
    },
    onSummary: () => {
      if (faults && rand() < 0.05) throw new Error('sd_notify broke');
    },
    retry: { firstMs: 1, maxMs: 4 },
  });
  const pending: Promise<unknown>[] = [];
  for (const s of steps) {
    if (s.kind === 'config') {
      if (s.to === 'valid') lastValid = valid(s.weight, s.count, s.second);
      const v = lastValid;
      load =
        s.to === 'valid'
          ? async () => v
          : s.to === 'invalid'
            ? async () => INVALID
            : s.to === 'throws'
              ? () => {
                  throw new Error('EIO');
                }
              : () => Promise.reject(new Error('ELOOP'));
    } else if (s.kind === 'trigger') {
      const p = r.trigger(s.trigger);
      if (s.wait) await p;
      else pending.push(p);
    } else if (s.kind === 'health') {
      health.set(healthKeys[s.index]!, s.up);
    } else {
      await new Promise((res) => setTimeout(res, s.ms));
    }
  }
  await Promise.all(pending);
  // The faults stop; the config is the last valid one again; one SIGHUP reads the table and converges.
  faults = false;
  kernel.faults = false;
  const final = lastValid;
  load = async () => final;
  await r.idle();
  expect(await r.trigger('signal')).toMatchObject({ result: 'ok' });
  r.stop();
  await r.idle();
  if (!final.ok) throw new Error('unreachable');
  const left = planFor({
    desired: final.state,
    live: await kernel.inner.readTable(),
    health: new Map(health),
    drains: new Map(),
    now: Date.now(),
  });
  expect(left.plan).toEqual([]);
}

describe('reconciler under random faults', () => {
  test('no unhandled rejection or uncaught exception; converged on the last valid config once the faults stop', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.array(step, { minLength: 1, maxLength: 40 }),
        async (seed, steps) => {
          await runScenario(seed, steps);
          await new Promise((res) => setTimeout(res, 0)); // let any stray rejection surface
          expect(escaped).toEqual([]);
        },
      ),
      { numRuns: 150 },
    );
  }, 120_000);
});
