import { afterEach, describe, expect, test, vi } from 'vitest';
import { after, clampDelay, every, TIMER_MAX_MS } from '../../../src/timers.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('timers', () => {
  test.each([
    [0, 1],
    [-5, 1],
    [NaN, 1],
    [1.7, 1],
    [1000, 1000],
    [25 * 86400 * 1000, TIMER_MAX_MS],
    [Infinity, TIMER_MAX_MS],
  ])('clampDelay(%s) = %s', (ms, want) => {
    expect(clampDelay(ms)).toBe(want);
  });

  test('a 25-day interval does not fire within a minute', async () => {
    vi.useFakeTimers();
    let n = 0;
    const t = every(
      25 * 86400 * 1000,
      () => {
        n++;
      },
      () => {},
    );
    await vi.advanceTimersByTimeAsync(60_000);
    clearInterval(t);
    expect(n).toBe(0);
  });

  test('a callback that throws or rejects goes to onError', async () => {
    vi.useFakeTimers();
    const errors: string[] = [];
    after(
      10,
      () => {
        throw new Error('sync');
      },
      (e) => errors.push((e as Error).message),
    );
    after(
      10,
      () => Promise.reject(new Error('async')),
      (e) => errors.push((e as Error).message),
    );
    await vi.advanceTimersByTimeAsync(20);
    expect(errors.sort()).toEqual(['async', 'sync']);
  });
});
