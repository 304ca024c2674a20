import { describe, expect, test } from 'vitest';
import { loadConfigTexts } from '../../../src/config/load.js';

const load = (text: string) => loadConfigTexts([{ file: 'f', text }]);
const state = (text: string) => {
  const r = load(text);
  if (!r.ok) throw new Error(r.errors.map(String).join('\n'));
  return r.state;
};
const errors = (text: string) => {
  const r = load(text);
  return r.ok
    ? []
    : r.errors.map((e) => ({ code: e.code, line: e.pos?.line, column: e.pos?.column, message: e.message }));
};

describe('director section', () => {
  test('binds every service VIP (not fwmark) on the interface, sets forwarding for both families', () => {
    const s = state(`version: 1
director: { bind_vips: eth0, ip_forward: true, sysctl: { net.ipv4.vs.conntrack: 1, net/ipv4/vs/expire_nodest_conn: true } }
services:
  - { vip: 198.51.100.200, port: 80, realservers: [198.51.100.193] }
  - { vip: 198.51.100.200, port: 443, realservers: [198.51.100.193] }
  - { vip: 2001:DB8::200, port: 80, realservers: ["[2001:db8::10]:80"] }
  - { fwmark: 7, family: ipv4, realservers: [198.51.100.193] }
`);
    expect(s.host).toEqual({
      addresses: [
        { interface: 'eth0', address: '198.51.100.200', prefix: 32, family: 'ipv4' },
        { interface: 'eth0', address: '2001:db8::200', prefix: 128, family: 'ipv6' },
      ],
      sysctls: [
        { key: 'net/ipv4/ip_forward', value: '1' },
        { key: 'net/ipv6/conf/all/forwarding', value: '1' },
        { key: 'net/ipv4/vs/conntrack', value: '1' },
        { key: 'net/ipv4/vs/expire_nodest_conn', value: '1' },
      ],
      arpStrict: false,
      tunnel: false,
    });
  });

  test('bind_vips without services is an error at the key', () => {
    expect(errors('version: 1\ndirector:\n  bind_vips: eth0\n')).toEqual([
      expect.objectContaining({ code: 'CONFIG_HOST', line: 3, column: 3 }),
    ]);
  });

  test('a bad interface name says what is allowed', () => {
    expect(errors('version: 1\ndirector:\n  bind_vips: "eth 0"\nservices: []\n')[0]).toMatchObject({
      code: 'CONFIG_SCHEMA',
      line: 3,
    });
  });
});

describe('realserver section', () => {
  test('VIPs on lo, ARP strict by default, tunnel turns rp_filter off', () => {
    const s = state('version: 1\nrealserver:\n  vips: [198.51.100.200, "2001:db8::200"]\n  tunnel: true\n');
    expect(s.services).toBeUndefined(); // a real server's file does not manage IPVS
    expect(s.host).toEqual({
      addresses: [
        { interface: 'lo', address: '198.51.100.200', prefix: 32, family: 'ipv4' },
        { interface: 'lo', address: '2001:db8::200', prefix: 128, family: 'ipv6' },
      ],
      sysctls: [
        { key: 'net/ipv4/conf/all/rp_filter', value: '0' },
        { key: 'net/ipv4/conf/tunl0/rp_filter', value: '0' },
      ],
      arpStrict: true,
      tunnel: true,
    });
  });

  test('arp: off leaves ARP alone', () => {
    expect(state('version: 1\nrealserver: { vips: [198.51.100.200], arp: off }\n').host?.arpStrict).toBe(false);
  });

  test.each([
    ['not an address', 'version: 1\nrealserver:\n  vips: [198.51.100.300]\n', 'CONFIG_ADDRESS', 3, 10],
    ['listed twice', 'version: 1\nrealserver:\n  vips: [198.51.100.200, 198.51.100.200]\n', 'CONFIG_HOST', 3, 26],
    [
      'not a VIP of the services in the same file',
      'version: 1\nrealserver:\n  vips: [198.51.100.201]\nservices:\n  - { vip: 198.51.100.200, port: 80, realservers: [198.51.100.193] }\n',
      'CONFIG_HOST',
      3,
      10,
    ],
    ['vips required', 'version: 1\nrealserver:\n  arp: strict\n', 'CONFIG_MISSING', 3, 3],
  ])('%s', (_n, text, code, line, column) => {
    expect(errors(text)[0]).toMatchObject({ code, line, column });
  });

  test('a file with only a realserver section is not "empty"', () => {
    expect(errors('version: 1\nrealserver: { vips: [198.51.100.200] }\n')).toEqual([]);
  });
});
