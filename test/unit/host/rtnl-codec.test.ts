import { describe, expect, test } from 'vitest';
import { decodeAddress, encodeAddress } from '../../../src/host/rtnl-codec.js';

const bytes = (s: string) => s.replace(/#.*$/gm, '').replace(/\s+/g, '');

describe('rtnetlink address codec', () => {
  test("RTM_NEWADDR body for an IPv4 VIP with label and lvsd's IFA_PROTO mark (golden bytes)", () => {
    expect(
      encodeAddress({
        family: 'ipv4',
        prefix: 32,
        index: 2,
        address: '198.51.100.200',
        label: 'eth0:lvsd',
        proto: 0x4c,
      }).toString('hex'),
    ).toBe(
      bytes(`
      02 20 00 00 02000000        # ifaddrmsg: AF_INET, /32, no flags, scope universe, ifindex 2
      0800 0200 c63364c8          # IFA_LOCAL
      0800 0100 c63364c8          # IFA_ADDRESS
      0e00 0300 657468303a6c76736400 0000   # IFA_LABEL "eth0:lvsd\\0"
      0500 0b00 4c 000000         # IFA_PROTO = 0x4c
    `),
    );
  });

  test('IPv6 with nodad; decode reads back what was encoded', () => {
    const enc = encodeAddress({ family: 'ipv6', prefix: 128, index: 1, address: '2001:db8::200', proto: 0x4c }, true);
    expect(enc[2]).toBe(0x02); // IFA_F_NODAD
    expect(decodeAddress(enc)).toEqual({
      family: 'ipv6',
      prefix: 128,
      index: 1,
      address: '2001:db8::200',
      proto: 0x4c,
    });
  });

  test('other families are skipped', () => {
    expect(decodeAddress(Buffer.from('11200000010000000800010001020304', 'hex'))).toBeUndefined();
  });
});
