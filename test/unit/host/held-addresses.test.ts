import { describe, expect, test } from 'vitest';
import { HeldAddresses } from '../../../src/host/held-addresses.js';

describe('HeldAddresses', () => {
  test('follows notifications; an address on two links is held until the last goes', () => {
    const h = new HeldAddresses();
    h.replace([{ index: 2, address: '192.0.2.1' }]);
    expect(h.holds('198.51.100.200')).toBe(false);
    expect(h.apply({ kind: 'new', index: 2, address: '198.51.100.200' })).toBe(true);
    expect(h.apply({ kind: 'new', index: 2, address: '198.51.100.200' })).toBe(false);
    expect(h.apply({ kind: 'new', index: 3, address: '198.51.100.200' })).toBe(false);
    expect(h.apply({ kind: 'del', index: 2, address: '198.51.100.200' })).toBe(false);
    expect(h.holds('198.51.100.200')).toBe(true);
    expect(h.apply({ kind: 'del', index: 3, address: '198.51.100.200' })).toBe(true);
    expect(h.holds('198.51.100.200')).toBe(false);
    expect(h.apply({ kind: 'del', index: 3, address: '198.51.100.200' })).toBe(false);
  });

  test('IPv6 in any textual form', () => {
    const h = new HeldAddresses();
    h.replace([{ index: 2, address: '2001:db8::200' }]);
    expect(h.holds('2001:DB8:0:0::200')).toBe(true);
  });

  test('a deletion that races a dump is not undone by the dump', () => {
    const h = new HeldAddresses();
    h.replace([]);
    h.beginDump();
    // The dump was taken while the VIP was there; its deletion was notified before the dump's reply was read.
    expect(h.apply({ kind: 'del', index: 2, address: '198.51.100.200' })).toBe(false);
    h.replace([{ index: 2, address: '198.51.100.200' }]);
    expect(h.holds('198.51.100.200')).toBe(false);
  });

  test('a dump replaces what was held', () => {
    const h = new HeldAddresses();
    h.replace([{ index: 2, address: '198.51.100.200' }]);
    h.beginDump();
    h.replace([{ index: 2, address: '198.51.100.201' }]);
    expect(h.holds('198.51.100.200')).toBe(false);
    expect(h.holds('198.51.100.201')).toBe(true);
  });
});
