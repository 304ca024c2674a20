import { describe, expect, test } from 'vitest';
import { TRACK_VALUE, trackVerdict, type TrackInput } from '../../../src/daemon/track-policy.js';
import { stateOf, lines } from '../config/helpers.js';

const services = stateOf(
  lines(
    'version: 1',
    'services:',
    '  - vip: 198.51.100.200',
    '    port: 80',
    '    check: { type: tcp, initial: down }',
    '    realservers: [203.0.113.11, 203.0.113.12]',
    '  - { vip: 198.51.100.201, port: 80, realservers: [203.0.113.13] }',
    '  - { vip: 198.51.100.202, port: 80, realservers: [] }',
  ),
).services!;

const A = 'tcp/198.51.100.200:80 203.0.113.11:80';
const B = 'tcp/198.51.100.200:80 203.0.113.12:80';
const ok = { result: 'ok' } as const;

describe('trackVerdict', () => {
  test.each<[string, Partial<TrackInput>, keyof typeof TRACK_VALUE, RegExp | undefined]>([
    [
      'one real server up per service',
      {
        health: new Map([
          [A, false],
          [B, true],
        ]),
      },
      'ok',
      undefined,
    ],
    [
      'every checked real server down',
      {
        health: new Map([
          [A, false],
          [B, false],
        ]),
      },
      'cannot_serve',
      /no real server up in tcp\/198.51.100.200:80$/,
    ],
    ['checked, no verdict yet, initial down', { health: new Map() }, 'cannot_serve', /198.51.100.200:80/],
    [
      'the last reconcile failed',
      { health: new Map([[A, true]]), lastReconcile: { result: 'failed', reason: '1 operation(s) failed: x' } },
      'cannot_serve',
      /last reconcile failed: 1 operation/,
    ],
    [
      'the last reconcile erred',
      { health: new Map([[A, true]]), lastReconcile: { result: 'error', reason: 'EIO' } },
      'cannot_serve',
      /ended with an error: EIO/,
    ],
    [
      'warming: the sync backup learns first',
      { health: new Map([[A, true]]), warming: true },
      'warming',
      /sync backup/,
    ],
    [
      'no real server outranks warming',
      {
        health: new Map([
          [A, false],
          [B, false],
        ]),
        warming: true,
      },
      'cannot_serve',
      /no real server/,
    ],
    [
      'lvsd stopped, even when degraded',
      {
        health: new Map([
          [A, false],
          [B, false],
        ]),
        stopped: true,
      },
      'stopped',
      /stopped/,
    ],
  ])('%s', (_name, input, state, reason) => {
    const v = trackVerdict({ services, health: new Map(), lastReconcile: ok, stopped: false, ...input });
    expect(v.state).toBe(state);
    expect(v.value).toBe(TRACK_VALUE[state]);
    if (reason) expect(v.reason).toMatch(reason);
    else expect(v.reason).toBeUndefined();
  });

  test('values: with weight 1, cannot_serve takes the priority to the floor without FAULT, stopped sits between', () => {
    expect(TRACK_VALUE.ok).toBe(0);
    expect(TRACK_VALUE.cannot_serve).toBeGreaterThan(-254);
    expect(TRACK_VALUE.cannot_serve).toBeLessThan(TRACK_VALUE.stopped);
    expect(TRACK_VALUE.stopped).toBeLessThan(0);
  });

  test('a service without real servers and an unchecked one never make the director unfit', () => {
    const v = trackVerdict({ services: services.slice(1), health: new Map(), lastReconcile: ok, stopped: false });
    expect(v.state).toBe('ok');
  });

  test('names at most three services', () => {
    const many = stateOf(
      lines(
        'version: 1',
        'services:',
        ...[1, 2, 3, 4, 5].map(
          (i) =>
            `  - { vip: 198.51.100.${i}, port: 80, check: { type: tcp, initial: down }, realservers: [203.0.113.11] }`,
        ),
      ),
    ).services!;
    const v = trackVerdict({ services: many, health: new Map(), lastReconcile: ok, stopped: false });
    expect(v.reason).toMatch(/198.51.100.3:80 and 2 more$/);
  });
});
