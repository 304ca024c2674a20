import { describe, expect, test } from 'vitest';
import { initialHealth, observe, type HealthState } from '../../../src/health/state.js';
import type { CheckSpec } from '../../../src/model/types.js';

const spec = {
  type: 'tcp',
  interval: 1,
  timeout: 1,
  rise: 2,
  fall: 3,
  port: 80,
  initial: 'up',
  onFailure: 'quiesce',
} as CheckSpec;
const run = (s: HealthState, results: boolean[]) =>
  results.reduce<{ s: HealthState; flips: number[] }>(
    (acc, ok, i) => {
      const r = observe(acc.s, ok, spec, i);
      return { s: r.state, flips: r.changed ? [...acc.flips, i] : acc.flips };
    },
    { s, flips: [] },
  );

describe('rise and fall', () => {
  test('starts up by default, down with initial: down', () => {
    expect(initialHealth(spec, 0).up).toBe(true);
    expect(initialHealth({ ...spec, initial: 'down' }, 0).up).toBe(false);
  });
  test('fall consecutive failures take it down, rise successes bring it back', () => {
    const r = run(initialHealth(spec, 0), [false, false, false, true, true]);
    expect(r.flips).toEqual([2, 4]);
    expect(r.s.up).toBe(true);
  });
  test('a success between failures resets the count', () => {
    const r = run(initialHealth(spec, 0), [false, false, true, false, false]);
    expect(r.flips).toEqual([]);
    expect(r.s.up).toBe(true);
  });
  test('the last error is kept while down', () => {
    let s = initialHealth(spec, 0);
    for (let i = 0; i < 3; i++) s = observe(s, false, spec, i, 'connect ECONNREFUSED').state;
    expect(s).toMatchObject({ up: false, lastError: 'connect ECONNREFUSED', since: 2 });
  });
});
