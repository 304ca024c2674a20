/**
 * The smtp and dns check kinds in the config: they load with keepalived's
 * defaults (dns: name ".", type SOA), a dns block only goes with a dns check,
 * and a name or record type a DNS query cannot carry is refused.
 */
import { expect, test } from 'vitest';
import { errorsOf, oneError, posOf, stateOf, withServices } from './helpers.js';

const svc = (check: string) =>
  withServices(
    '  - vip: 192.0.2.1',
    '    port: 53',
    '    protocol: udp',
    `    check: ${check}`,
    '    realservers:',
    '      - 192.0.2.10',
  );

test('smtp and dns load; dns takes name "." and type SOA by default', () => {
  expect(stateOf(svc('{ type: smtp }')).services![0]!.realservers[0]!.check).toMatchObject({ type: 'smtp', port: 53 });
  expect(stateOf(svc('{ type: dns }')).services![0]!.realservers[0]!.check).toMatchObject({
    type: 'dns',
    dns: { name: '.', type: 'SOA' },
  });
  expect(
    stateOf(svc('{ type: dns, dns: { name: www.example.com, type: AAAA } }')).services![0]!.realservers[0]!.check!.dns,
  ).toEqual({
    name: 'www.example.com',
    type: 'AAAA',
  });
});

test('a dns block on a tcp check is CONFIG_CHECK', () => {
  const text = svc('{ type: tcp, dns: { name: a } }');
  expect(oneError(text)).toMatchObject({ code: 'CONFIG_CHECK', pos: posOf(text, 'dns') });
});

test.each([['"a b"'], ['a..b'], ['-a.example'], [`${'a'.repeat(64)}.example`]])('dns.name %s is refused', (name) => {
  expect(errorsOf(svc(`{ type: dns, dns: { name: ${name} } }`)).map((e) => e.code)).toEqual(['CONFIG_SCHEMA']);
});

test('a record type keepalived does not ask for is refused', () => {
  expect(errorsOf(svc('{ type: dns, dns: { type: PTR } }')).map((e) => e.code)).toEqual(['CONFIG_SCHEMA']);
});
