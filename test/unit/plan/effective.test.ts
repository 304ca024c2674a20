import { describe, expect, test } from 'vitest';
import { loadConfigTexts } from '../../../src/config/load.js';
import type { DesiredState, LiveRealServer, LiveState } from '../../../src/model/types.js';
import { diff } from '../../../src/plan/diff.js';
import { healthKey } from '../../../src/model/keys.js';
import { effectiveDesired } from '../../../src/plan/effective.js';

const SVC = 'tcp/192.0.2.1:80';
function desired(extra = '', rss = '[192.0.2.10, 192.0.2.11]', top = ''): DesiredState {
  const r = loadConfigTexts([
    {
      file: 'f',
      text: `version: 1\n${top}services:\n  - { vip: 192.0.2.1, port: 80, scheduler: rr, realservers: ${rss}${extra} }\n`,
    },
  ]);
  if (!r.ok) throw new Error(r.errors.map(String).join('\n'));
  return r.state;
}
const rs = (address: string, conns = 0, weight = 1): LiveRealServer => ({
  family: 'ipv4',
  address,
  port: 80,
  forward: 'dr',
  weight,
  upperThreshold: 0,
  lowerThreshold: 0,
  activeConnections: conns,
  inactiveConnections: 0,
  persistentConnections: 0,
});
const live = (...rss: LiveRealServer[]): LiveState => ({
  timeouts: { tcp: 900, tcpFin: 120, udp: 300 },
  services: [
    {
      family: 'ipv4',
      protocol: 'tcp',
      address: '192.0.2.1',
      port: 80,
      scheduler: 'rr',
      flags: [],
      onePacket: false,
      realservers: rss,
    },
  ],
});
const weights = (s: DesiredState) => Object.fromEntries(s.services![0]!.realservers.map((r) => [r.address, r.weight]));
const base = { drains: new Map<string, number>(), defaultDrain: 0, now: 1000 };

describe('health', () => {
  const check = ', check: { type: tcp, interval: 1s }';
  test('a down real server is quiesced (weight 0) by default', () => {
    const h = new Map([[healthKey(SVC, '192.0.2.10:80'), false]]);
    expect(weights(effectiveDesired({ ...base, desired: desired(check), live: live(), health: h }).state)).toEqual({
      '192.0.2.10': 0,
      '192.0.2.11': 1,
    });
  });
  test('on_failure: remove leaves it out', () => {
    const h = new Map([[healthKey(SVC, '192.0.2.10:80'), false]]);
    expect(
      weights(
        effectiveDesired({
          ...base,
          desired: desired(', check: { type: tcp, on_failure: remove }'),
          live: live(),
          health: h,
        }).state,
      ),
    ).toEqual({ '192.0.2.11': 1 });
  });
  test('initial: down counts as down until checked', () => {
    expect(
      weights(
        effectiveDesired({
          ...base,
          desired: desired(', check: { type: tcp, initial: down }'),
          live: live(),
          health: new Map(),
        }).state,
      ),
    ).toEqual({ '192.0.2.10': 0, '192.0.2.11': 0 });
  });
  test('one-shot apply (no health map) counts every real server as up', () => {
    expect(
      weights(
        effectiveDesired({ ...base, desired: desired(', check: { type: tcp, initial: down }'), live: live() }).state,
      ),
    ).toEqual({ '192.0.2.10': 1, '192.0.2.11': 1 });
  });
  test('sorry server only while none is up, removed when one recovers', () => {
    const d = desired(`${check}, sorry_server: 192.0.2.250`);
    const allDown = new Map([
      [healthKey(SVC, '192.0.2.10:80'), false],
      [healthKey(SVC, '192.0.2.11:80'), false],
    ]);
    const r = effectiveDesired({ ...base, desired: d, live: live(), health: allDown });
    expect(weights(r.state)).toEqual({ '192.0.2.10': 0, '192.0.2.11': 0, '192.0.2.250': 1 });
    expect(r.sorry).toEqual(new Set([SVC]));
    const oneBack = new Map([
      [healthKey(SVC, '192.0.2.10:80'), true],
      [healthKey(SVC, '192.0.2.11:80'), false],
    ]);
    const back = effectiveDesired({
      ...base,
      desired: d,
      live: live(rs('192.0.2.10'), rs('192.0.2.11', 0, 0), rs('192.0.2.250', 5)),
      health: oneBack,
    });
    expect(weights(back.state)).toEqual({ '192.0.2.10': 1, '192.0.2.11': 0 });
    expect(
      diff(back.state, live(rs('192.0.2.10'), rs('192.0.2.11', 0, 0), rs('192.0.2.250', 5))).map(
        (c) => `${c.action} ${c.realserver}`,
      ),
    ).toEqual(['delete 192.0.2.250:80']);
  });
});

describe('drain', () => {
  const drain = ', drain: 30s';
  test('a real server that left the file with connections stays at weight 0', () => {
    const r = effectiveDesired({
      ...base,
      desired: desired(drain, '[192.0.2.11]'),
      live: live(rs('192.0.2.10', 3), rs('192.0.2.11')),
    });
    expect(weights(r.state)).toEqual({ '192.0.2.11': 1, '192.0.2.10': 0 });
    expect(r.draining.get(healthKey(SVC, '192.0.2.10:80'))).toBe(1000 + 30_000);
    expect(r.drains.get(healthKey(SVC, '192.0.2.10:80'))).toBe(1000);
  });
  test('without connections it goes at once', () => {
    const r = effectiveDesired({
      ...base,
      desired: desired(drain, '[192.0.2.11]'),
      live: live(rs('192.0.2.10', 0), rs('192.0.2.11')),
    });
    expect(weights(r.state)).toEqual({ '192.0.2.11': 1 });
  });
  test('after the drain time it goes even with connections', () => {
    const drains = new Map([[healthKey(SVC, '192.0.2.10:80'), 1000]]);
    const r = effectiveDesired({
      ...base,
      drains,
      now: 31_000,
      desired: desired(drain, '[192.0.2.11]'),
      live: live(rs('192.0.2.10', 3), rs('192.0.2.11')),
    });
    expect(weights(r.state)).toEqual({ '192.0.2.11': 1 });
    expect(r.drains.size).toBe(0);
  });
  test('drain: 0 (the default) deletes at once', () => {
    expect(
      weights(
        effectiveDesired({
          ...base,
          desired: desired('', '[192.0.2.11]'),
          live: live(rs('192.0.2.10', 3), rs('192.0.2.11')),
        }).state,
      ),
    ).toEqual({ '192.0.2.11': 1 });
  });
  test('put back while draining: it returns at its weight', () => {
    const drains = new Map([[healthKey(SVC, '192.0.2.10:80'), 1000]]);
    const r = effectiveDesired({
      ...base,
      drains,
      desired: desired(drain),
      live: live(rs('192.0.2.10', 3, 0), rs('192.0.2.11')),
    });
    expect(weights(r.state)).toEqual({ '192.0.2.10': 1, '192.0.2.11': 1 });
    expect(r.drains.size).toBe(0);
  });
  test('a service that left the file drains as a whole with defaults.drain', () => {
    const d = desired('', '[192.0.2.11]', 'defaults: { drain: 1m }\n');
    const gone: DesiredState = { ...d, services: [] };
    const r = effectiveDesired({
      ...base,
      defaultDrain: 60,
      desired: gone,
      live: live(rs('192.0.2.10', 2), rs('192.0.2.11', 0)),
    });
    expect(weights(r.state)).toEqual({ '192.0.2.10': 0, '192.0.2.11': 0 });
    expect(r.draining.get(SVC)).toBe(61_000);
    const emptied = effectiveDesired({
      ...base,
      defaultDrain: 60,
      desired: gone,
      live: live(rs('192.0.2.10', 0), rs('192.0.2.11', 0)),
    });
    expect(emptied.state.services).toEqual([]);
  });
});
