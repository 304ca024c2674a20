import { afterEach, describe, expect, test, vi } from 'vitest';
import { loadConfigTexts } from '../../../src/config/load.js';
import type { CheckResult } from '../../../src/health/checkers.js';
import { HealthMonitor, type HealthChange } from '../../../src/health/monitor.js';

const desired = (checkExtra = '') => {
  const r = loadConfigTexts([
    {
      file: 'f',
      text: `version: 1\nservices:\n  - { vip: 192.0.2.1, port: 80, check: { type: tcp, interval: 1s, rise: 2, fall: 2${checkExtra} }, realservers: [192.0.2.10, 192.0.2.11] }\n`,
    },
  ]);
  if (!r.ok) throw new Error(String(r.errors));
  return r.state;
};

afterEach(() => {
  vi.useRealTimers();
});

describe('health monitor', () => {
  test("runs each real server's check on its interval and reports flips", async () => {
    vi.useFakeTimers();
    const down = new Set(['192.0.2.10']);
    const changes: HealthChange[] = [];
    const m = new HealthMonitor({
      onChange: (c) => changes.push(c),
      check: async (_spec, t): Promise<CheckResult> =>
        down.has(t.address) ? { ok: false, error: 'refused' } : { ok: true },
    });
    m.update(desired());
    expect(m.snapshot()).toEqual(
      new Map([
        ['tcp/192.0.2.1:80 192.0.2.10:80', true],
        ['tcp/192.0.2.1:80 192.0.2.11:80', true],
      ]),
    );
    await vi.advanceTimersByTimeAsync(2100);
    expect(changes).toEqual([
      {
        key: 'tcp/192.0.2.1:80 192.0.2.10:80',
        service: 'tcp/192.0.2.1:80',
        realserver: '192.0.2.10:80',
        up: false,
        error: 'refused',
      },
    ]);
    down.clear();
    await vi.advanceTimersByTimeAsync(2100);
    expect(changes.at(-1)).toMatchObject({ realserver: '192.0.2.10:80', up: true });
    m.stop();
  });

  test('a changed check keeps the state; a removed real server is forgotten; a slow check is not started twice', async () => {
    vi.useFakeTimers();
    let running = 0;
    let maxRunning = 0;
    const m = new HealthMonitor({
      onChange: () => {},
      check: () =>
        new Promise((resolve) => {
          running++;
          maxRunning = Math.max(maxRunning, running);
          setTimeout(() => {
            running--;
            resolve({ ok: true });
          }, 3500);
        }),
    });
    m.update(desired());
    await vi.advanceTimersByTimeAsync(5000);
    expect(maxRunning).toBe(2); // one per real server, never two for the same one
    m.update(desired(', port: 8080'));
    expect(m.snapshot().size).toBe(2);
    const one = desired();
    one.services![0]!.realservers.pop();
    m.update(one);
    expect([...m.snapshot().keys()]).toEqual(['tcp/192.0.2.1:80 192.0.2.10:80']);
    m.stop();
  });

  test('a check that throws at once or rejects counts as failed; a throwing onChange does not stop the monitor', async () => {
    vi.useFakeTimers();
    const rejections: unknown[] = [];
    const onRejection = (e: unknown) => rejections.push(e);
    process.on('unhandledRejection', onRejection);
    const changes: HealthChange[] = [];
    const errors: unknown[] = [];
    let calls = 0;
    const m = new HealthMonitor({
      onChange: (c) => {
        changes.push(c);
        throw new Error('listener broke');
      },
      onError: (e) => errors.push(e),
      check: (_spec, t) => {
        calls++;
        if (t.address === '192.0.2.10') throw new TypeError('Request path contains unescaped characters');
        return Promise.reject(new Error('socket exploded'));
      },
    });
    try {
      m.update(desired());
      await vi.advanceTimersByTimeAsync(2100);
      expect(calls).toBeGreaterThanOrEqual(4);
      expect(changes.map((c) => [c.realserver, c.up, c.error])).toEqual([
        ['192.0.2.10:80', false, 'check failed to run: Request path contains unescaped characters'],
        ['192.0.2.11:80', false, 'check failed to run: socket exploded'],
      ]);
      expect(errors).toHaveLength(2);
      vi.useRealTimers();
      await new Promise((res) => setTimeout(res, 20));
      expect(rejections).toEqual([]);
    } finally {
      m.stop();
      process.off('unhandledRejection', onRejection);
    }
  });

  test("an interval beyond Node's timer range (25 days) does not become 1 ms", async () => {
    vi.useFakeTimers();
    let calls = 0;
    const m = new HealthMonitor({
      onChange: () => {},
      check: async () => {
        calls++;
        return { ok: true };
      },
    });
    const d = desired();
    // Built past the config's own bounds: the monitor must not trust them.
    for (const r of d.services![0]!.realservers) r.check!.interval = 25 * 86400;
    m.update(d);
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls).toBe(2); // the first check of each, and nothing more
    m.stop();
  });

  test('update with `changed` looks at those services only; view() reads the live states', async () => {
    vi.useFakeTimers();
    const two = (port: number) => {
      const r = loadConfigTexts([
        {
          file: 'f',
          text:
            'version: 1\nservices:\n' +
            `  - { vip: 192.0.2.1, port: 80, check: { type: tcp, interval: 1s, rise: 1, fall: 1 }, realservers: [192.0.2.10] }\n` +
            `  - { vip: 192.0.2.2, port: 80, check: { type: tcp, interval: 1s, port: ${port} }, realservers: [192.0.2.20] }\n`,
        },
      ]);
      if (!r.ok) throw new Error(String(r.errors));
      return r.state;
    };
    const down = new Set<string>();
    const m = new HealthMonitor({
      onChange: () => {},
      check: async (_spec, t): Promise<CheckResult> => (down.has(t.address) ? { ok: false, error: 'x' } : { ok: true }),
    });
    m.update(two(81));
    const view = m.view();
    expect(view.get('tcp/192.0.2.1:80 192.0.2.10:80')).toBe(true);
    down.add('192.0.2.10');
    await vi.advanceTimersByTimeAsync(2100);
    expect(view.get('tcp/192.0.2.1:80 192.0.2.10:80')).toBe(false);
    // Service 2 lost its real server, but only service 1 is said to have changed: service 2 is not looked at.
    const without = two(82);
    without.services![1]!.realservers = [];
    m.update(without, new Set(['tcp/192.0.2.1:80']));
    expect(m.snapshot().has('tcp/192.0.2.2:80 192.0.2.20:80')).toBe(true);
    m.update(without, new Set(['tcp/192.0.2.2:80']));
    expect(m.snapshot().has('tcp/192.0.2.2:80 192.0.2.20:80')).toBe(false);
    expect(m.states(new Set(['tcp/192.0.2.1:80'])).map((s) => s.key)).toEqual(['tcp/192.0.2.1:80 192.0.2.10:80']);
    m.stop();
  });
});
