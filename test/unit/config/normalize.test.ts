import { describe, expect, test } from 'vitest';
import { normalize } from '../../../src/config/normalize.js';
import { lines, stateOf, withServices } from './helpers.js';

const one = (...serviceLines: string[]) => stateOf(withServices(...serviceLines)).services![0]!;

describe('services', () => {
  test('the contract example, fully normalized', () => {
    const state = stateOf(
      lines(
        'version: 1',
        'timeouts: { tcp: 15m, tcp_fin: 2m, udp: 5m }',
        'ignore: [{ vip: 10.96.0.0/12 }, { fwmark: 100 }]',
        'services:',
        '  - name: web',
        '    vip: 192.168.1.200',
        '    port: 80',
        '    protocol: tcp',
        '    scheduler: rr',
        '    persistence: { timeout: 5m, netmask: 255.255.255.0 }',
        '    one_packet: false',
        '    pe: sip',
        '    realservers:',
        '      - { address: 192.168.1.193, port: 80, weight: 3, forward: dr, upper_threshold: 0, lower_threshold: 0 }',
        '      - 192.168.1.195',
        '  - name: dns6',
        '    fwmark: 7',
        '    family: ipv6',
        '    scheduler: sh',
        '    realservers:',
        '      - { address: "2001:db8::10", forward: tunnel, tunnel: { type: gue, port: 6080, checksum: csum } }',
      ),
    );
    expect(state).toStrictEqual({
      timeouts: { tcp: 900, tcpFin: 120, udp: 300 },
      ignore: [{ vip: { network: '10.96.0.0', length: 12, family: 'ipv4' } }, { fwmark: 100 }],
      services: [
        {
          name: 'web',
          family: 'ipv4',
          protocol: 'tcp',
          address: '192.168.1.200',
          port: 80,
          scheduler: 'rr',
          flags: [],
          onePacket: false,
          persistence: { timeout: 300, netmask: '255.255.255.0' },
          pe: 'sip',
          realservers: [
            {
              family: 'ipv4',
              address: '192.168.1.193',
              port: 80,
              forward: 'dr',
              weight: 3,
              upperThreshold: 0,
              lowerThreshold: 0,
            },
            {
              family: 'ipv4',
              address: '192.168.1.195',
              port: 80,
              forward: 'dr',
              weight: 1,
              upperThreshold: 0,
              lowerThreshold: 0,
            },
          ],
        },
        {
          name: 'dns6',
          family: 'ipv6',
          fwmark: 7,
          scheduler: 'sh',
          flags: [],
          onePacket: false,
          realservers: [
            {
              family: 'ipv6',
              address: '2001:db8::10',
              port: 0,
              forward: 'tunnel',
              weight: 1,
              upperThreshold: 0,
              lowerThreshold: 0,
              tunnel: { type: 'gue', port: 6080, checksum: 'csum' },
            },
          ],
        },
      ],
    });
  });

  test('built-in defaults: tcp, wlc, no flags, no persistence, no real servers', () => {
    expect(one('  - { vip: 192.0.2.1, port: 80 }')).toStrictEqual({
      name: 'tcp/192.0.2.1:80',
      family: 'ipv4',
      protocol: 'tcp',
      address: '192.0.2.1',
      port: 80,
      scheduler: 'wlc',
      flags: [],
      onePacket: false,
      realservers: [],
    });
  });

  test('names default to the service key', () => {
    const s = stateOf(
      withServices(
        '  - { vip: "2001:DB8:0::1", port: 53, protocol: udp }',
        '  - { fwmark: 7, family: ipv4 }',
        '  - { vip: 192.0.2.1, port: 5060, protocol: sctp }',
      ),
    ).services!;
    expect(s.map((x) => x.name)).toEqual(['udp/[2001:db8::1]:53', 'fwmark/7/ipv4', 'sctp/192.0.2.1:5060']);
    expect(s[0]!.address).toBe('2001:db8::1');
  });

  test('flags come out sorted; one_packet is a boolean', () => {
    const s = one(
      '  - { vip: 192.0.2.1, port: 53, protocol: udp, scheduler: sh, flags: [sh-port, sh-fallback], one_packet: true }',
    );
    expect(s.flags).toEqual(['sh-fallback', 'sh-port']);
    expect(s.onePacket).toBe(true);
  });

  test('persistence defaults: 300 seconds, the whole address', () => {
    expect(one('  - { vip: 192.0.2.1, port: 80, persistence: {} }').persistence).toEqual({
      timeout: 300,
      netmask: '255.255.255.255',
    });
    expect(one('  - { vip: "2001:db8::1", port: 80, persistence: { timeout: 1h } }').persistence).toEqual({
      timeout: 3600,
      netmask: '128',
    });
    expect(one('  - { fwmark: 1, family: ipv6, persistence: { netmask: 64 } }').persistence).toEqual({
      timeout: 300,
      netmask: '64',
    });
    expect(one('  - { fwmark: 1, family: ipv6, persistence: { netmask: "48" } }').persistence!.netmask).toBe('48');
  });

  test('IPv4 netmasks: dotted or a prefix length, always dotted after', () => {
    expect(one('  - { vip: 192.0.2.1, port: 80, persistence: { netmask: 24 } }').persistence!.netmask).toBe(
      '255.255.255.0',
    );
    expect(one('  - { vip: 192.0.2.1, port: 80, persistence: { netmask: "16" } }').persistence!.netmask).toBe(
      '255.255.0.0',
    );
    expect(one('  - { vip: 192.0.2.1, port: 80, persistence: { netmask: 0 } }').persistence!.netmask).toBe('0.0.0.0');
    expect(
      one('  - { vip: 192.0.2.1, port: 80, persistence: { netmask: 255.255.255.128 } }').persistence!.netmask,
    ).toBe('255.255.255.128');
  });

  test('port 0 with persistence', () => {
    const s = one('  - { vip: 192.0.2.1, port: 0, persistence: {}, realservers: [192.0.2.10] }');
    expect(s.port).toBe(0);
    expect(s.realservers[0]!.port).toBe(0);
  });
});

describe('real servers', () => {
  test('shorthands: address, address:port, [v6]:port, bare v6, [v6]', () => {
    const v4 = one('  - vip: 192.0.2.1', '    port: 80', '    realservers: [192.0.2.10, "192.0.2.11:80"]').realservers;
    expect(v4.map((r) => [r.address, r.port, r.family])).toEqual([
      ['192.0.2.10', 80, 'ipv4'],
      ['192.0.2.11', 80, 'ipv4'],
    ]);
    const v6 = one(
      '  - vip: 2001:db8::1',
      '    port: 443',
      '    realservers: ["[2001:DB8::10]:443", "2001:db8:0::11", "[2001:db8::12]"]',
    ).realservers;
    expect(v6.map((r) => [r.address, r.port, r.family])).toEqual([
      ['2001:db8::10', 443, 'ipv6'],
      ['2001:db8::11', 443, 'ipv6'],
      ['2001:db8::12', 443, 'ipv6'],
    ]);
  });

  test('a shorthand takes every default', () => {
    expect(one('  - { vip: 192.0.2.1, port: 80, realservers: [192.0.2.10] }').realservers[0]).toStrictEqual({
      family: 'ipv4',
      address: '192.0.2.10',
      port: 80,
      forward: 'dr',
      weight: 1,
      upperThreshold: 0,
      lowerThreshold: 0,
    });
  });

  test('the port defaults to the service port, 0 for fwmark services', () => {
    expect(
      one(
        '  - { fwmark: 3, family: ipv4, realservers: [192.0.2.10, "192.0.2.11:8080", { address: 192.0.2.12, port: 443 }] }',
      ).realservers.map((r) => r.port),
    ).toEqual([0, 8080, 443]);
    expect(
      one(
        '  - { vip: 192.0.2.1, port: 80, realservers: [{ address: 192.0.2.10, forward: nat, port: 8080 }, { address: 192.0.2.11, forward: nat }] }',
      ).realservers.map((r) => r.port),
    ).toEqual([8080, 80]);
  });

  test('the defaults section (of another file) fills in scheduler, forward and weight', () => {
    const state = stateOf(
      lines('version: 1', 'defaults: { scheduler: sed, forward: nat, weight: 5 }'),
      withServices(
        '  - { vip: 192.0.2.1, port: 80, realservers: [192.0.2.10, { address: 192.0.2.11, weight: 0, forward: dr }] }',
      ),
    );
    const s = state.services![0]!;
    expect(s.scheduler).toBe('sed');
    expect(s.realservers.map((r) => [r.forward, r.weight])).toEqual([
      ['nat', 5],
      ['dr', 0],
    ]);
  });

  test('tunnel settings are there exactly when forward is tunnel, with defaults', () => {
    const rs = one(
      '  - vip: 192.0.2.1',
      '    port: 80',
      '    realservers:',
      '      - { address: 192.0.2.10, forward: tunnel }',
      '      - { address: 192.0.2.11, forward: tunnel, tunnel: { type: gre } }',
      '      - { address: "2001:db8::12", forward: tunnel, tunnel: { type: gue, port: 6080 } }',
      '      - { address: 192.0.2.13, forward: nat }',
    ).realservers;
    expect(rs.map((r) => r.tunnel)).toEqual([
      { type: 'ipip', port: 0, checksum: 'none' },
      { type: 'gre', port: 0, checksum: 'none' },
      { type: 'gue', port: 6080, checksum: 'none' },
      undefined,
    ]);
    expect('tunnel' in rs[3]!).toBe(false);
    expect(rs[2]!.family).toBe('ipv6');
  });

  test('thresholds', () => {
    expect(
      one(
        '  - { vip: 192.0.2.1, port: 80, realservers: [{ address: 192.0.2.10, upper_threshold: 100, lower_threshold: 50 }] }',
      ).realservers[0],
    ).toMatchObject({ upperThreshold: 100, lowerThreshold: 50 });
  });
});

describe('sections', () => {
  test('timeouts: only the keys given; an empty section manages none', () => {
    expect(stateOf(lines('version: 1', 'timeouts: { tcp_fin: 90s }')).timeouts).toStrictEqual({ tcpFin: 90 });
    expect(stateOf(lines('version: 1', 'timeouts: { udp: 300 }')).timeouts).toStrictEqual({ udp: 300 });
    expect('timeouts' in stateOf(lines('version: 1', 'timeouts: {}', 'services: []'))).toBe(false);
  });

  test('ignore rules: prefixes, single addresses, host bits cleared, fwmarks', () => {
    expect(
      stateOf(
        lines(
          'version: 1',
          'ignore:',
          '  - vip: 10.96.1.2/12',
          '  - vip: 192.0.2.7',
          '  - vip: 2001:DB8::/32',
          '  - fwmark: 9',
        ),
      ).ignore,
    ).toStrictEqual([
      { vip: { network: '10.96.0.0', length: 12, family: 'ipv4' } },
      { vip: { network: '192.0.2.7', length: 32, family: 'ipv4' } },
      { vip: { network: '2001:db8::', length: 32, family: 'ipv6' } },
      { fwmark: 9 },
    ]);
  });

  test('services keep file order, then order within the file', () => {
    const state = stateOf(
      withServices('  - { name: b, vip: 192.0.2.2, port: 80 }', '  - { name: a, vip: 192.0.2.1, port: 80 }'),
      withServices('  - { name: c, vip: 192.0.2.3, port: 80 }'),
    );
    expect(state.services!.map((s) => s.name)).toEqual(['b', 'a', 'c']);
  });
});

describe('ownership of the services table', () => {
  test('no services key anywhere: undefined (lvsd leaves the table alone)', () => {
    const state = stateOf(lines('version: 1', 'timeouts: { tcp: 1h }'));
    expect(state.services).toBeUndefined();
    expect('services' in state).toBe(false);
  });

  test('services: [] means no services', () => {
    expect(stateOf(lines('version: 1', 'services: []')).services).toEqual([]);
  });

  test('services in one drop-in only: the table is managed', () => {
    expect(stateOf(lines('version: 1', 'timeouts: { tcp: 1h }'), lines('version: 1', 'services: []')).services).toEqual(
      [],
    );
  });
});

test('normalize is pure: the same input gives equal, unshared output', () => {
  const data = { version: 1, services: [{ vip: '192.0.2.1', port: 80, flags: [], realservers: ['192.0.2.10'] }] };
  const a = normalize([{ data }]);
  const b = normalize([{ data }]);
  expect(a).toStrictEqual(b);
  a.services![0]!.flags.push('sh-port');
  expect(b.services![0]!.flags).toEqual([]);
  expect(data.services[0]!.flags).toEqual([]);
});

test('anchors, aliases and merge keys share settings', () => {
  const state = stateOf(
    lines(
      'version: 1',
      'services:',
      '  - &web',
      '    vip: 192.0.2.1',
      '    port: 80',
      '    scheduler: rr',
      '    realservers: &pool [192.0.2.10, 192.0.2.11]',
      '  - <<: *web',
      '    port: 443',
      '    persistence: {}',
      '  - { vip: 192.0.2.2, port: 80, realservers: *pool }',
    ),
  );
  expect(state.services!.map((s) => [s.name, s.scheduler, s.realservers.length, s.persistence?.timeout])).toEqual([
    ['tcp/192.0.2.1:80', 'rr', 2, undefined],
    ['tcp/192.0.2.1:443', 'rr', 2, 300],
    ['tcp/192.0.2.2:80', 'wlc', 2, undefined],
  ]);
  expect(state.services![1]!.realservers[0]!.port).toBe(443);
});
