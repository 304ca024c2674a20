import { describe, expect, test } from 'vitest';
import { errorsOf, lines, oneError, stateOf } from './helpers.js';

const SERVICES = ['services:', '  - { vip: 198.51.100.200, port: 80, realservers: [203.0.113.11] }'];

describe('director.vrrp', () => {
  test('track_file reaches the desired host; no address is bound', () => {
    const s = stateOf(lines('version: 1', 'director:', '  vrrp: { track_file: /run/lvsd/vrrp-track }', ...SERVICES));
    expect(s.host).toMatchObject({ addresses: [], vrrp: { trackFile: '/run/lvsd/vrrp-track' } });
  });

  test('vrrp without track_file declares that keepalived owns the VIPs', () => {
    const s = stateOf(lines('version: 1', 'director:', '  vrrp: {}', ...SERVICES));
    expect(s.host?.vrrp).toEqual({});
    expect(s.host?.addresses).toEqual([]);
  });

  test('with bind_vips it is an error at bind_vips', () => {
    const e = oneError(lines('version: 1', 'director:', '  bind_vips: eth0', '  vrrp: {}', ...SERVICES));
    expect(e).toMatchObject({ code: 'CONFIG_HOST', pos: { line: 3, column: 3 } });
    expect(e.message).toMatch(/keepalived binds the VIPs/);
  });

  test.each([['run/lvsd/track'], ['/run/lvsd/'], [7], ['']])('track_file %j is refused by the schema', (path) => {
    const errors = errorsOf(lines('version: 1', 'director:', `  vrrp: { track_file: ${JSON.stringify(path)} }`));
    expect(errors.map((e) => e.code)).toContain('CONFIG_SCHEMA');
  });

  test('an unknown key under vrrp is refused', () => {
    const errors = errorsOf(lines('version: 1', 'director:', '  vrrp: { priority: 150 }', ...SERVICES));
    expect(errors.map((e) => e.code)).toContain('CONFIG_UNKNOWN_KEY');
  });
});
