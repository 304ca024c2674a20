import { describe, expect, test } from 'vitest';
import { guardHandlers, installProcessGuard } from '../../../src/daemon/guard.js';
import { Metrics } from '../../../src/daemon/metrics.js';
import { createLogger } from '../../../src/log.js';

function setup() {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({
    level: 'debug',
    pretty: false,
    stream: { write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) },
  });
  return { lines, log, metrics: new Metrics() };
}

describe('process guard', () => {
  test('a rejection is logged at error and counted; an exception also queues a full read of the table', async () => {
    const { lines, log, metrics } = setup();
    let resyncs = 0;
    const h = guardHandlers({
      log,
      metrics,
      onException: () => {
        resyncs++;
      },
    });
    h.onRejection(new Error('nobody awaited me'));
    h.onRejection('a bare string');
    h.onException(new TypeError('listener threw'));
    expect(lines.map((l) => [l['level'], l['event']])).toEqual([
      ['error', 'unhandled_rejection'],
      ['error', 'unhandled_rejection'],
      ['error', 'uncaught_exception'],
    ]);
    expect(lines[0]!['msg']).toMatch(/nobody awaited me/);
    expect(lines[0]!['stack']).toMatch(/guard\.test/);
    expect(resyncs).toBe(1);
    const text = await metrics.text();
    expect(text).toMatch(/lvsd_unhandled_errors_total\{kind="rejection"\} 2/);
    expect(text).toMatch(/lvsd_unhandled_errors_total\{kind="exception"\} 1/);
  });

  test('installed on the process, and removed again', () => {
    const { log, metrics } = setup();
    const before = [process.listenerCount('unhandledRejection'), process.listenerCount('uncaughtException')];
    const remove = installProcessGuard({ log, metrics });
    expect([process.listenerCount('unhandledRejection'), process.listenerCount('uncaughtException')]).toEqual(
      before.map((n) => n + 1),
    );
    remove();
    expect([process.listenerCount('unhandledRejection'), process.listenerCount('uncaughtException')]).toEqual(before);
  });
});
