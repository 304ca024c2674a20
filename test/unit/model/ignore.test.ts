/**
 * Ignore rules compiled once (model/keys.ts ignoreMatcher): the same answers
 * as testing each rule in turn, at any scale. The 2,000 x 20,000 case took
 * 61 s through `validate` (and 49 s more in a plan) before; there is no timed
 * assertion here (figures: bench notes in the commit), only the case run.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { inPrefix } from '../../../src/model/address.js';
import { ignoreMatcher, isIgnored } from '../../../src/model/keys.js';
import type { IgnoreRule, ServiceId } from '../../../src/model/types.js';
import { parsePrefix } from '../../../src/config/values.js';
import { errorsOf, lines } from '../config/helpers.js';

/** The first matching rule, rule by rule: the definition the matcher must agree with. */
function firstMatch(s: ServiceId, rules: readonly IgnoreRule[]): number {
  return rules.findIndex((r) =>
    'fwmark' in r
      ? s.fwmark === r.fwmark
      : s.fwmark === undefined && s.family === r.vip.family && inPrefix(s.address, r.vip.network, r.vip.length),
  );
}

const v4 = fc.tuple(fc.constantFrom(10, 192), fc.nat(3), fc.nat(255), fc.nat(255)).map((b) => b.join('.'));
const v6 = fc
  .tuple(fc.constantFrom('2001:db8', 'fd00'), fc.nat(3), fc.nat(0xffff))
  .map(([a, b, c]) => `${a}:${b}::${c.toString(16)}`);
const rule: fc.Arbitrary<IgnoreRule> = fc.oneof(
  fc.tuple(v4, fc.integer({ min: 0, max: 32 })).map(([a, l]) => ({ vip: parsePrefix(`${a}/${l}`)! })),
  fc.tuple(v6, fc.integer({ min: 0, max: 128 })).map(([a, l]) => ({ vip: parsePrefix(`${a}/${l}`)! })),
  fc.integer({ min: 1, max: 8 }).map((fwmark) => ({ fwmark })),
);
const service: fc.Arbitrary<ServiceId> = fc.oneof(
  v4.map((address) => ({ family: 'ipv4' as const, protocol: 'tcp' as const, address, port: 80 })),
  v6.map((address) => ({ family: 'ipv6' as const, protocol: 'udp' as const, address, port: 53 })),
  fc
    .tuple(fc.constantFrom('ipv4' as const, 'ipv6' as const), fc.integer({ min: 1, max: 8 }))
    .map(([family, fwmark]) => ({ family, fwmark })),
);

describe('ignoreMatcher', () => {
  test('finds the first matching rule, as testing each rule in turn does', () => {
    fc.assert(
      fc.property(fc.array(rule, { maxLength: 12 }), fc.array(service, { maxLength: 12 }), (rules, services) => {
        const match = ignoreMatcher(rules);
        for (const s of services) {
          expect(match(s)).toBe(firstMatch(s, rules));
          expect(isIgnored(s, rules)).toBe(firstMatch(s, rules) >= 0);
        }
      }),
      { numRuns: 300 },
    );
  });

  test('isIgnored sees rules added to a list after a first question', () => {
    const rules: IgnoreRule[] = [{ fwmark: 1 }];
    const s: ServiceId = { family: 'ipv4', protocol: 'tcp', address: '10.1.2.3', port: 80 };
    expect(isIgnored(s, rules)).toBe(false);
    rules.push({ vip: parsePrefix('10.0.0.0/8')! });
    expect(isIgnored(s, rules)).toBe(true);
  });
});

describe('2,000 ignore prefixes and 20,000 services', () => {
  const prefixes = Array.from({ length: 2000 }, (_, i) => `10.${i % 250}.${Math.floor(i / 250)}.0/${16 + (i % 9)}`);
  const list = prefixes.map((p) => ({ vip: parsePrefix(p)! }));

  test('validate checks every service against every rule, and names the first rule that hides one', () => {
    const services = Array.from(
      { length: 20000 },
      (_, i) => `  - { vip: 172.${16 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}, port: 80 }`,
    );
    const text = lines(
      'version: 1',
      'ignore:',
      ...prefixes.map((p) => `  - vip: ${p}`),
      'services:',
      ...services,
      '  - { vip: 10.7.3.9, port: 80 }',
    );
    const errors = errorsOf(text);
    expect(errors).toMatchObject([{ code: 'CONFIG_CONFLICT', pos: { line: 2 + 2000 + 1 + 20000 + 1 } }]);
    const first = firstMatch({ family: 'ipv4', protocol: 'tcp', address: '10.7.3.9', port: 80 }, list);
    expect(first).toBeGreaterThan(0);
    expect(errors[0]!.message).toContain(`the ignore rule at a.yaml:${3 + first}:`);
  });

  test('a plan asks isIgnored about each service', () => {
    let ignored = 0;
    for (let i = 0; i < 20000; i++) {
      // Even: 10.N.0.5 lies in rule N (10.N.0.0/16..24); odd: 172.16/12, in no rule.
      const address = i % 2 === 0 ? `10.${i % 250}.0.5` : `172.16.${(i >> 8) & 255}.${i & 255}`;
      if (isIgnored({ family: 'ipv4', protocol: 'tcp', address, port: 80 }, list)) ignored++;
    }
    expect(ignored).toBe(10000);
  });
});
