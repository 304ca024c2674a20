/**
 * The check rules (rules/check.ts) that had no unit test: blocks for their
 * type only, a timeout within the interval, an exec check's command, a port
 * for fwmark services. A problem of the service's own check is one error,
 * not one per real server.
 */
import { describe, expect, test } from 'vitest';
import { errorsOf, oneError, posOf, withServices } from './helpers.js';

const svc = (check: string, ...realservers: string[]) =>
  withServices('  - vip: 192.0.2.1', '    port: 80', `    check: ${check}`, '    realservers:', ...realservers);

describe('check blocks', () => {
  test('an http block on a tcp check', () => {
    const text = svc('{ type: tcp, http: { path: / } }', '      - 192.0.2.10');
    expect(oneError(text)).toMatchObject({ code: 'CONFIG_CHECK', pos: posOf(text, 'http') });
  });

  test('a real server override that changes the type keeps its own blocks checked', () => {
    const text = svc('{ type: http }', '      - { address: 192.0.2.10, check: { type: tcp, udp: { send: x } } }');
    const e = oneError(text);
    expect(e).toMatchObject({ code: 'CONFIG_CHECK', pos: posOf(text, 'udp') });
    expect(e.message).toMatch(/^real server check: 'udp' settings are for udp checks; this check is tcp/);
  });

  test('a timeout longer than the interval, the service interval counting for an override', () => {
    const text = svc('{ type: tcp, interval: 3s }', '      - { address: 192.0.2.10, check: { timeout: 4s } }');
    expect(oneError(text)).toMatchObject({ code: 'CONFIG_CHECK', pos: posOf(text, '4s') });
    expect(errorsOf(svc('{ type: tcp, interval: 3s, timeout: 3s }', '      - 192.0.2.10'))).toEqual([]);
  });
});

describe('merged checks', () => {
  test("an exec check without a command is one error at the service's check, however many real servers", () => {
    const text = svc('{ type: exec }', '      - 192.0.2.10', '      - 192.0.2.11', '      - 192.0.2.12');
    expect(oneError(text)).toMatchObject({ code: 'CONFIG_CHECK', pos: posOf(text, 'exec') });
  });

  test('a fwmark service check needs a port: once for the service, at each override without one', () => {
    const text = withServices(
      '  - fwmark: 7',
      '    family: ipv4',
      '    check: { type: tcp }',
      '    realservers:',
      '      - 192.0.2.10',
      '      - 192.0.2.11',
      '      - { address: 192.0.2.12, check: { rise: 1 } }',
      '      - { address: 192.0.2.13, check: { port: 80 } }',
    );
    expect(errorsOf(text)).toMatchObject([
      { code: 'CONFIG_CHECK', pos: posOf(text, 'check') },
      { code: 'CONFIG_CHECK', pos: posOf(text, 'check', 2) },
    ]);
  });
});
