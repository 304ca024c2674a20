import { describe, expect, test } from 'vitest';
import { loadConfigTexts } from '../../../src/config/load.js';
import { lines } from './helpers.js';

const load = (text: string) => loadConfigTexts([{ file: 'f.yaml', text }]);
const errors = (text: string) => {
  const r = load(text);
  return r.ok ? [] : r.errors.map((e) => ({ code: e.code, line: e.pos?.line, column: e.pos?.column, msg: e.message }));
};
const warnings = (text: string) => {
  const r = load(text);
  if (!r.ok) throw new Error(r.errors.map(String).join('\n'));
  return r.warnings.map((e) => ({ code: e.code, line: e.pos?.line, column: e.pos?.column, msg: e.message }));
};

const MH = '  - { vip: 198.51.100.200, port: 80, scheduler: mh, flags: [mh-port], realservers: [192.0.2.11] }';

describe('director.announce', () => {
  test('normalizes with defaults and sets sloppy_tcp (sloppy_sctp only with an SCTP service)', () => {
    const r = load(lines('version: 1', 'director:', '  announce: {}', 'services:', MH));
    if (!r.ok) throw new Error(r.errors.map(String).join('\n'));
    expect(r.state.host?.announce).toEqual({ interface: 'lvs0', when: 'healthy', drain: false });
    expect(r.state.host?.sysctls).toEqual([{ key: 'net/ipv4/vs/sloppy_tcp', value: '1' }]);
    expect(r.state.host?.addresses).toEqual([]); // the announced VIPs are the plan's to decide
    expect(r.warnings).toEqual([]);

    const sctp = load(
      lines(
        'version: 1',
        'director:',
        '  announce: { interface: bgp0, when: always, drain: true }',
        'services:',
        MH,
        '  - { vip: 198.51.100.201, port: 5000, protocol: sctp, scheduler: mh, flags: [mh-port], realservers: [192.0.2.11] }',
      ),
    );
    if (!sctp.ok) throw new Error(sctp.errors.map(String).join('\n'));
    expect(sctp.state.host?.announce).toEqual({ interface: 'bgp0', when: 'always', drain: true });
    expect(sctp.state.host?.sysctls).toEqual([
      { key: 'net/ipv4/vs/sloppy_tcp', value: '1' },
      { key: 'net/ipv4/vs/sloppy_sctp', value: '1' },
    ]);
  });

  test('unknown keys and values are schema errors', () => {
    expect(
      errors(lines('version: 1', 'director:', '  announce: { when: sometimes }', 'services: []'))[0],
    ).toMatchObject({ code: 'CONFIG_SCHEMA', line: 3 });
    expect(errors(lines('version: 1', 'director:', '  announce: { iface: lvs0 }', 'services: []'))[0]).toMatchObject({
      line: 3,
    });
  });

  test('announce without services is an error at the key', () => {
    expect(errors(lines('version: 1', 'director:', '  announce: { interface: lvs0 }'))).toEqual([
      expect.objectContaining({ code: 'CONFIG_HOST', line: 3, column: 3 }),
    ]);
  });

  test('bind_vips on the announce interface is a conflict; on another interface it is allowed', () => {
    expect(
      errors(lines('version: 1', 'director:', '  announce: { interface: lvs0 }', '  bind_vips: lvs0', 'services:', MH)),
    ).toEqual([expect.objectContaining({ code: 'CONFIG_CONFLICT', line: 4, column: 14 })]);
    expect(
      errors(lines('version: 1', 'director:', '  announce: {}', '  bind_vips: lvs0', 'services:', MH)),
    ).toHaveLength(1);
    expect(errors(lines('version: 1', 'director:', '  announce: {}', '  bind_vips: lo', 'services:', MH))).toEqual([]);
  });

  test('sloppy_tcp or sloppy_sctp set to 0 under announce is an error at the value, in any spelling', () => {
    const text = lines(
      'version: 1',
      'director:',
      '  announce: {}',
      '  sysctl:',
      '    net.ipv4.vs.sloppy_tcp: 0',
      '    net/ipv4/vs/sloppy_sctp: false',
      'services:',
      MH,
    );
    expect(errors(text)).toEqual([
      expect.objectContaining({ code: 'CONFIG_CONFLICT', line: 5, column: 29 }),
      expect.objectContaining({ code: 'CONFIG_CONFLICT', line: 6, column: 30 }),
    ]);
    // Without announce the same keys are the user's business.
    expect(errors(text.replace('  announce: {}\n', ''))).toEqual([]);
    // At 1 they agree with what announce sets.
    expect(errors(text.replace(': 0', ': 1').replace(': false', ': true'))).toEqual([]);
  });

  test('mh without mh-port under announce is an error at the scheduler', () => {
    const text = lines(
      'version: 1',
      'director: { announce: {} }',
      'services:',
      '  - { vip: 198.51.100.200, port: 80, scheduler: mh, realservers: [192.0.2.11] }',
    );
    expect(errors(text)).toEqual([
      expect.objectContaining({
        code: 'CONFIG_SCHEDULER_FLAG',
        line: 4,
        column: 49,
        msg: expect.stringMatching(/mh-port/),
      }),
    ]);
    expect(errors(text.replace('director: { announce: {} }\n', ''))).toEqual([]);
  });

  test('another scheduler under announce is a warning naming what breaks, not an error', () => {
    const text = lines(
      'version: 1',
      'director: { announce: {} }',
      'services:',
      MH,
      '  - { vip: 198.51.100.200, port: 81, scheduler: rr, realservers: [192.0.2.11] }',
      '  - { vip: 198.51.100.200, port: 82, realservers: [192.0.2.11] }',
    );
    expect(warnings(text)).toEqual([
      expect.objectContaining({
        code: 'CONFIG_ECMP',
        line: 5,
        column: 49,
        msg: expect.stringMatching(/^scheduler rr /),
      }),
      expect.objectContaining({
        code: 'CONFIG_ECMP',
        line: 6,
        column: 5,
        msg: expect.stringMatching(/wlc \(the default\)/),
      }),
    ]);
    expect(warnings(text)[0]!.msg).toMatch(/connections break/);
    expect(warnings(text.replace('director: { announce: {} }\n', ''))).toEqual([]);
  });

  test('with director.sync the other schedulers are no warning: sync carries the connections between directors', () => {
    const text = lines(
      'version: 1',
      'director: { announce: {}, sync: { interface: eth1, id: 7 } }',
      'services:',
      '  - { vip: 198.51.100.200, port: 81, scheduler: rr, realservers: [192.0.2.11] }',
    );
    expect(errors(text)).toEqual([]);
    expect(warnings(text)).toEqual([]);
    expect(warnings(text.replace(', sync: { interface: eth1, id: 7 }', ''))).toHaveLength(1);
  });
});
