/** Address classes IPVS can never serve, and the one ADDRESS[:PORT] reader. */
import { describe, expect, test } from 'vitest';
import { parseAddressPort, unusableClass } from '../../../src/model/address.js';

describe('unusableClass', () => {
  test.each([
    ['0.0.0.0', 'unspecified'],
    ['0.255.1.1', 'unspecified'],
    ['::', 'unspecified'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['::1', 'loopback'],
    ['224.0.0.1', 'multicast'],
    ['239.1.2.3', 'multicast'],
    ['ff02::1', 'multicast'],
    ['ff0e::1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['::ffff:192.0.2.1', 'ipv4-mapped'],
    ['fe80::1', 'link-local'],
    ['febf::1', 'link-local'],
  ])('%s is %s', (address, cls) => {
    expect(unusableClass(address)).toBe(cls);
  });

  test.each([
    ['192.0.2.1'],
    ['10.0.0.1'],
    ['169.254.1.1'],
    ['223.255.255.255'],
    ['240.0.0.1'],
    ['2001:db8::1'],
    ['fec0::1'],
    ['::2'],
    ['64:ff9b::192.0.2.1'],
  ])('%s is usable', (address) => {
    expect(unusableClass(address)).toBeUndefined();
  });
});

describe('parseAddressPort', () => {
  test.each([
    ['192.0.2.10', { address: '192.0.2.10', family: 'ipv4' }],
    ['192.0.2.10:8080', { address: '192.0.2.10', family: 'ipv4', port: 8080 }],
    ['2001:DB8:0::10', { address: '2001:db8::10', family: 'ipv6' }],
    ['[2001:db8::10]', { address: '2001:db8::10', family: 'ipv6' }],
    ['[2001:db8::10]:0', { address: '2001:db8::10', family: 'ipv6', port: 0 }],
  ])('%s', (text, want) => {
    expect(parseAddressPort(text)).toEqual({ ok: true, ...want });
  });

  test.each([['192.0.2.10:65536'], ['192.0.2.10:http'], ['[192.0.2.10]:80'], ['host:80'], ['2001:db8::10:80:x'], ['']])(
    '%s is refused with a reason',
    (text) => {
      expect(parseAddressPort(text)).toMatchObject({ ok: false, reason: expect.any(String) });
    },
  );
});
