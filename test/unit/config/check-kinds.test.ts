/**
 * The smtp and dns check kinds in the config: they load with keepalived's
 * defaults (dns: name ".", type SOA), a dns block only goes with a dns check,
 * and a name or record type a DNS query cannot carry is refused. HTTP status
 * ranges in http.expect ("200-299").
 */
import { expect, test } from 'vitest';
import { statusCodes } from '../../../src/config/health.js';
import { expectList } from '../../../src/config/migration.js';
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

const http = (expect: string) =>
  withServices(
    '  - vip: 192.0.2.1',
    '    port: 80',
    `    check: { type: http, http: { expect: ${expect} } }`,
    '    realservers:',
    '      - 192.0.2.10',
  );

test('http.expect takes ranges: "200-204" and 301 are six codes', () => {
  expect(stateOf(http('["200-204", 301]')).services![0]!.realservers[0]!.check!.http!.expect).toEqual([
    200, 201, 202, 203, 204, 301,
  ]);
});

test.each([
  ['["299-200"]', 'CONFIG_CHECK'],
  ['["200-"]', 'CONFIG_SCHEMA'],
  ['["600-700"]', 'CONFIG_SCHEMA'],
  ['[99]', 'CONFIG_RANGE'],
])('http.expect %s is %s', (expectText, code) => {
  const text = http(expectText);
  expect(oneError(text)).toMatchObject({ code });
});

test('statusCodes and expectList are inverse on sorted codes', () => {
  expect(statusCodes(['200-202', 301, 204])).toEqual([200, 201, 202, 204, 301]);
  expect(expectList([200, 201, 202, 204, 205, 301])).toEqual(['200-202', 204, 205, 301]);
  expect(statusCodes(expectList([200, 201, 202, 204, 205, 301]))).toEqual([200, 201, 202, 204, 205, 301]);
});
