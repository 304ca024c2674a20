import { describe, expect, test } from 'vitest';
import { canonicalAddress, familyOf, inPrefix, maskToPrefix, prefixToMask } from '../../../src/model/address.js';
import { isIgnored, schedFlagNames, serviceKey } from '../../../src/model/keys.js';

describe('canonical addresses (RFC 5952)', () => {
  test.each([
    ['192.0.2.1', '192.0.2.1'],
    ['2001:DB8::1', '2001:db8::1'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['::', '::'],
    ['::1', '::1'],
    ['::ffff:192.0.2.1', '::ffff:c000:201'],
    ['2001:db8::', '2001:db8::'],
  ])('%s -> %s', (input, out) => expect(canonicalAddress(input)).toBe(out));

  test('not addresses', () => {
    expect(familyOf('192.0.2')).toBeUndefined();
    expect(familyOf('fe80::1%eth0')).toBeUndefined();
    expect(() => canonicalAddress('example.com')).toThrow();
  });
});

describe('prefixes and masks', () => {
  test.each([
    [0, '0.0.0.0'],
    [8, '255.0.0.0'],
    [24, '255.255.255.0'],
    [32, '255.255.255.255'],
  ])('/%i <-> %s', (len, mask) => {
    expect(prefixToMask(len)).toBe(mask);
    expect(maskToPrefix(mask)).toBe(len);
  });
  test('non-contiguous mask has no prefix', () => expect(maskToPrefix('255.0.255.0')).toBeUndefined());
  test('inPrefix', () => {
    expect(inPrefix('10.96.1.2', '10.96.0.0', 12)).toBe(true);
    expect(inPrefix('10.112.0.1', '10.96.0.0', 12)).toBe(false);
    expect(inPrefix('2001:db8::5', '2001:db8::', 32)).toBe(true);
    expect(inPrefix('2001:db8::5', '10.0.0.0', 8)).toBe(false);
  });
});

describe('keys and ignore rules', () => {
  test('service keys', () => {
    expect(serviceKey({ family: 'ipv4', protocol: 'tcp', address: '192.0.2.1', port: 80 })).toBe('tcp/192.0.2.1:80');
    expect(serviceKey({ family: 'ipv6', protocol: 'udp', address: '2001:db8::1', port: 53 })).toBe(
      'udp/[2001:db8::1]:53',
    );
    expect(serviceKey({ family: 'ipv6', fwmark: 7 })).toBe('fwmark/7/ipv6');
  });
  test('scheduler flags are named after the scheduler', () => {
    expect(schedFlagNames(3, 'sh')).toEqual(['sh-fallback', 'sh-port']);
    expect(schedFlagNames(2, 'mh')).toEqual(['mh-port']);
  });
  test('ignore by prefix and by fwmark', () => {
    const rules = [{ vip: { network: '10.96.0.0', length: 12, family: 'ipv4' as const } }, { fwmark: 100 }];
    expect(isIgnored({ family: 'ipv4', protocol: 'tcp', address: '10.100.0.1', port: 80 }, rules)).toBe(true);
    expect(isIgnored({ family: 'ipv4', protocol: 'tcp', address: '192.0.2.1', port: 80 }, rules)).toBe(false);
    expect(isIgnored({ family: 'ipv4', fwmark: 100 }, rules)).toBe(true);
    expect(isIgnored({ family: 'ipv6', fwmark: 101 }, rules)).toBe(false);
  });
});
