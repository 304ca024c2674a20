import { Writable } from 'node:stream';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { lazyKernel } from '../../../src/apply/live.js';
import { loadConfigTexts, type LoadResult } from '../../../src/config/load.js';
import { Metrics } from '../../../src/daemon/metrics.js';
import { Reconciler, type ReconcilerDeps, type ReconcileSummary } from '../../../src/daemon/reconciler.js';
import { LvsdError } from '../../../src/errors.js';
import { createLogger } from '../../../src/log.js';
import { FakeIpvs } from '../fake-ipvs.js';

const cfg = (weight: number) =>
  loadConfigTexts([
    {
      file: 'lvsd.yaml',
      text: `version: 1
services:
  - { vip: 192.0.2.1, port: 80, scheduler: rr, realservers: [{ address: 192.0.2.10, weight: ${weight} }] }
`,
    },
  ]);

function setup(load: () => Promise<LoadResult>, unknownSchedulers: string[] = [], extra: Partial<ReconcilerDeps> = {}) {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      cb();
    },
  });
  const client = new FakeIpvs({ unknownSchedulers });
  const metrics = new Metrics();
  const kernel = lazyKernel({
    ipvs: async () => client,
    host: async () => {
      throw new Error('no host in these tests');
    },
  });
  const r = new Reconciler({
    load,
    kernel,
    log: createLogger({ level: 'debug', pretty: false, stream: { write: (l) => stream.write(l) } }),
    metrics,
    ...extra,
  });
  return { r, client, lines, metrics };
}

describe('reconciler', () => {
  test('applies, then skips a file trigger whose content is unchanged', async () => {
    const { r, client } = setup(async () => cfg(1));
    expect(await r.trigger('start')).toMatchObject({ result: 'ok', changes: 2 });
    expect(await r.trigger('file')).toMatchObject({ result: 'skipped' });
    // A resync always reads the table: drift is found even when the file is unchanged.
    expect(await r.trigger('resync')).toMatchObject({ result: 'ok', changes: 0 });
    expect(client.opsExecuted).toBe(2);
  });

  test('never two at once: triggers during a reconcile queue exactly one more', async () => {
    let loads = 0;
    let weight = 1;
    let release!: () => void;
    const gate = new Promise<void>((res) => {
      release = res;
    });
    const { r } = setup(async () => {
      loads++;
      const text = cfg(weight); // read the file now; the kernel work is what is slow
      if (loads === 1) await gate;
      return text;
    });
    const first = r.trigger('start');
    weight = 2;
    const queued = [r.trigger('file'), r.trigger('file'), r.trigger('signal'), r.trigger('resync')];
    release();
    await first;
    const summaries = await Promise.all(queued);
    expect(loads).toBe(2);
    expect(new Set(summaries)).toHaveProperty('size', 1); // all answered by the same queued reconcile
    expect(summaries[0]).toMatchObject({ result: 'ok', changes: 1 });
  });

  test('an invalid config keeps the table, logs each error with its position, and counts', async () => {
    let good = true;
    const { r, client, lines, metrics } = setup(async () =>
      good
        ? cfg(1)
        : loadConfigTexts([
            {
              file: '/etc/lvsd/lvsd.yaml',
              text: 'version: 1\nservices:\n  - vip: 192.0.2.1\n    port: 80\n    schedular: rr\n',
            },
          ]),
    );
    await r.trigger('start');
    good = false;
    const s = await r.trigger('file');
    expect(s).toMatchObject({ result: 'invalid_config', reason: expect.stringMatching(/lvsd\.yaml:5:5/) });
    expect(client.opsExecuted).toBe(2);
    expect(lines.find((l) => l['event'] === 'config_error')).toMatchObject({
      level: 'error',
      code: 'CONFIG_UNKNOWN_KEY',
      file: '/etc/lvsd/lvsd.yaml',
      line: 5,
      column: 5,
    });
    expect(await metrics.text()).toMatch(/lvsd_config_valid 0/);
  });

  test('config warnings are logged at warn with their position, once per content', async () => {
    let weight = 1;
    const warned = async (): Promise<LoadResult> => {
      const loaded = cfg(weight);
      if (!loaded.ok) throw new Error('bad test config');
      const w = new LvsdError('CONFIG_ECMP', 'scheduler rr under director.announce', {
        pos: { file: 'lvsd.yaml', line: 3, column: 5 },
      });
      return { ...loaded, warnings: [w] };
    };
    const { r, lines } = setup(warned);
    await r.trigger('start');
    await r.trigger('resync');
    const logged = () => lines.filter((l) => l['event'] === 'config_warning');
    expect(logged()).toEqual([
      expect.objectContaining({ level: 'warn', code: 'CONFIG_ECMP', file: 'lvsd.yaml', line: 3, column: 5 }),
    ]);
    weight = 2; // another content: its warnings are logged again
    await r.trigger('file');
    expect(logged()).toHaveLength(2);
  });

  test('drift found by a resync is logged at warn and counted', async () => {
    const { r, client, lines, metrics } = setup(async () => cfg(1));
    await r.trigger('start');
    await client.execute([
      {
        op: 'edit-realserver',
        service: { family: 'ipv4', protocol: 'tcp', address: '192.0.2.1', port: 80 },
        realserver: {
          family: 'ipv4',
          address: '192.0.2.10',
          port: 80,
          forward: 'dr',
          weight: 9,
          upperThreshold: 0,
          lowerThreshold: 0,
        },
      },
    ]);
    expect(await r.trigger('resync')).toMatchObject({ result: 'ok', changes: 1 });
    expect(lines.find((l) => l['msg'] === 'drift corrected')).toMatchObject({
      level: 'warn',
      action: 'edit',
      kind: 'realserver',
      fields: { weight: { old: 9, new: 1 } },
    });
    expect(await metrics.text()).toMatch(/lvsd_drift_corrections_total\{kind="realserver",action="edit"\} 1/);
  });

  test('operations the kernel refuses make the reconcile failed, with the reason', async () => {
    const twos = loadConfigTexts([
      {
        file: 'x',
        text: 'version: 1\nservices:\n  - { vip: 192.0.2.1, port: 80, scheduler: twos, realservers: [192.0.2.10] }\n  - { vip: 192.0.2.2, port: 80, scheduler: rr, realservers: [192.0.2.10] }\n',
      },
    ]);
    const { r, lines } = setup(async () => twos, ['twos']);
    const s = await r.trigger('start');
    expect(s).toMatchObject({ result: 'failed', changes: 2, failures: 2, reason: expect.stringMatching(/twos/) });
    expect(lines.filter((l) => l['event'] === 'change' && l['level'] === 'error').map((l) => l['status'])).toEqual([
      'failed',
      'skipped',
    ]);
    // Not skipped next time although the file is unchanged: the last reconcile did not succeed.
    expect(await r.trigger('file')).toMatchObject({ result: 'failed' });
  });
});

describe('a reconcile never rejects, and a failed one is retried with backoff', () => {
  afterEach(() => {
    vi.useRealTimers();
  });
  // No stat of files that do not exist: under fake timers, only the fake kernel and the loader may take turns.
  const fingerprint = async () => undefined;

  test('a loader that throws keeps the table, is logged with its reason, counted, and retried until it loads', async () => {
    vi.useFakeTimers();
    let broken = false;
    const { r, client, lines, metrics } = setup(
      async () => {
        if (broken) throw new Error('EIO: i/o error, read');
        return cfg(1);
      },
      [],
      { fingerprint },
    );
    await r.trigger('start');
    broken = true;
    const s = await r.trigger('file');
    expect(s).toMatchObject({
      result: 'error',
      retryInMs: 1000,
      reason: expect.stringMatching(/could not be loaded: EIO.*kept as it is/),
    });
    expect(r.last).toBe(s);
    expect(client.opsExecuted).toBe(2);
    expect(lines.find((l) => l['event'] === 'reconcile' && l['result'] === 'error')).toMatchObject({
      level: 'error',
      retry_in_ms: 1000,
    });
    expect(await metrics.text()).toMatch(/lvsd_reconcile_failures_total\{trigger="file",result="error"\} 1/);
    // Backoff: 1 s, 2 s, 4 s ...
    await vi.advanceTimersByTimeAsync(1000);
    expect(r.last).toMatchObject({ trigger: 'retry', result: 'error', retryInMs: 2000 });
    await vi.advanceTimersByTimeAsync(2000);
    expect(r.last).toMatchObject({ trigger: 'retry', result: 'error', retryInMs: 4000 });
    broken = false;
    await vi.advanceTimersByTimeAsync(4000);
    expect(r.last).toMatchObject({ trigger: 'retry', result: 'ok' });
    expect(r.last!.retryInMs).toBeUndefined();
    r.stop();
  });

  test('the backoff stops at its maximum and starts over after a success', async () => {
    vi.useFakeTimers();
    let fail = true;
    const client = new FakeIpvs();
    const read = client.readTable.bind(client);
    client.readTable = () => (fail ? Promise.reject(new Error('netlink socket closed')) : read());
    const { r } = setup(async () => cfg(1), [], {
      retry: { firstMs: 100, maxMs: 400 },
      fingerprint,
      kernel: lazyKernel({
        ipvs: async () => client,
        host: async () => {
          throw new Error('no host');
        },
      }),
    });
    const delays: (number | undefined)[] = [(await r.trigger('start')).retryInMs];
    for (let i = 0; i < 4; i++) {
      await vi.advanceTimersByTimeAsync(delays.at(-1)!);
      delays.push(r.last!.retryInMs);
    }
    expect(delays).toEqual([100, 200, 400, 400, 400]);
    fail = false;
    await vi.advanceTimersByTimeAsync(400);
    expect(r.last).toMatchObject({ result: 'ok' });
    fail = true;
    await r.trigger('signal');
    expect(r.last!.retryInMs).toBe(100);
    r.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(r.last!.trigger).toBe('signal'); // stopped: no more retries
  });

  test('an invalid config is not retried: only a change of the files mends it', async () => {
    vi.useFakeTimers();
    const { r, client } = setup(async () => loadConfigTexts([{ file: 'x', text: 'version: 1\nservices: 5\n' }]));
    expect(await r.trigger('start')).toMatchObject({ result: 'invalid_config' });
    expect(r.last!.retryInMs).toBeUndefined();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(r.last!.trigger).toBe('start');
    expect(client.opsExecuted).toBe(0);
  });

  test('callbacks that throw end the reconcile as an error, never as a rejection', async () => {
    const summaries: ReconcileSummary[] = [];
    const { r } = setup(async () => cfg(1), [], {
      onConfig: () => {
        throw new Error('health monitor broke');
      },
      onSummary: (s) => {
        summaries.push(s);
        throw new Error('notify broke');
      },
      retry: { firstMs: 60_000, maxMs: 60_000 },
    });
    const s = await r.trigger('start');
    expect(s).toMatchObject({ result: 'error', reason: 'health monitor broke' });
    expect(summaries).toEqual([s]);
    r.stop();
  });
});
