import { describe, expect, test } from 'vitest';
import { loadConfigTexts } from '../../../src/config/load.js';
import type { DesiredHost, LiveHost } from '../../../src/model/host.js';
import { diffHost } from '../../../src/plan/host-diff.js';
import { planAll } from '../../../src/plan/plan.js';

const links = [
  { name: 'lo', index: 1, up: true },
  { name: 'eth0', index: 2, up: true },
];
const live = (over: Partial<LiveHost> = {}): LiveHost => ({ links, addresses: [], sysctls: new Map(), ...over });
const desired = (over: Partial<DesiredHost> = {}): DesiredHost => ({
  addresses: [],
  sysctls: [],
  arpStrict: false,
  tunnel: false,
  ...over,
});
const vip = { interface: 'eth0', address: '198.51.100.200', prefix: 32, family: 'ipv4' as const };
const lines = (r: ReturnType<typeof diffHost>) =>
  r.map((c) => `${c.action} ${c.kind} ${c.target}${c.problem ? ' !' : ''}`);

describe('host diff', () => {
  test('no host section: nothing', () => {
    expect(lines(diffHost(undefined, live()))).toEqual([]);
  });

  test.each([
    ['missing address is added', desired({ addresses: [vip] }), live(), ['add address eth0 198.51.100.200/32']],
    [
      "present address (anyone's) is left alone",
      desired({ addresses: [vip] }),
      live({ addresses: [{ ...vip, owned: false }] }),
      [],
    ],
    [
      "lvsd's address no longer wanted is deleted",
      desired(),
      live({ addresses: [{ ...vip, owned: true }] }),
      ['delete address eth0 198.51.100.200/32'],
    ],
    ["someone else's address is never deleted", desired(), live({ addresses: [{ ...vip, owned: false }] }), []],
    [
      'address on a missing interface carries a problem',
      desired({ addresses: [{ ...vip, interface: 'eth9' }] }),
      live(),
      ['add address eth9 198.51.100.200/32 !'],
    ],
    [
      'sysctl that differs is set',
      desired({ sysctls: [{ key: 'net/ipv4/ip_forward', value: '1' }] }),
      live({ sysctls: new Map([['net/ipv4/ip_forward', '0']]) }),
      ['edit sysctl net.ipv4.ip_forward'],
    ],
    [
      'sysctl already right: nothing',
      desired({ sysctls: [{ key: 'net/ipv4/ip_forward', value: '1' }] }),
      live({ sysctls: new Map([['net/ipv4/ip_forward', '1']]) }),
      [],
    ],
    [
      'missing sysctl carries a problem',
      desired({ sysctls: [{ key: 'net/ipv4/nope', value: '1' }] }),
      live({ sysctls: new Map([['net/ipv4/nope', undefined]]) }),
      ['edit sysctl net.ipv4.nope !'],
    ],
    [
      'tunnel: tunl0 down is brought up',
      desired({ tunnel: true }),
      live({ links: [...links, { name: 'tunl0', index: 3, up: false }] }),
      ['edit link tunl0'],
    ],
    ['tunnel: no tunl0 carries a problem', desired({ tunnel: true }), live(), ['edit link tunl0 !']],
  ])('%s', (_name, want, have, expected) => {
    expect(lines(diffHost(want, have))).toEqual(expected);
  });

  test('arp strict expands over all and each link but lo', () => {
    const zero = new Map(
      ['all', 'eth0'].flatMap(
        (d) =>
          [
            [`net/ipv4/conf/${d}/arp_ignore`, '0'],
            [`net/ipv4/conf/${d}/arp_announce`, '0'],
          ] as [string, string][],
      ),
    );
    expect(lines(diffHost(desired({ arpStrict: true }), live({ sysctls: zero })))).toEqual([
      'edit sysctl net.ipv4.conf.all.arp_ignore',
      'edit sysctl net.ipv4.conf.all.arp_announce',
      'edit sysctl net.ipv4.conf.eth0.arp_ignore',
      'edit sysctl net.ipv4.conf.eth0.arp_announce',
    ]);
  });

  test('interface names with dots keep a slash key, shown with slashes', () => {
    const r = diffHost(
      desired({ arpStrict: true }),
      live({ links: [{ name: 'eth0.100', index: 5, up: true }], sysctls: new Map() }),
    );
    expect(r.map((c) => c.target)).toContain('net/ipv4/conf/eth0.100/arp_ignore');
  });
});

describe('whole plan order', () => {
  test('settings and new addresses first, IPVS in the middle, old addresses last', () => {
    const loaded = loadConfigTexts([
      {
        file: 'd',
        text: 'version: 1\ndirector: { bind_vips: eth0, ip_forward: true }\nservices:\n  - { vip: 198.51.100.201, port: 80, scheduler: rr, realservers: [198.51.100.193] }\n',
      },
    ]);
    if (!loaded.ok) throw new Error(loaded.errors.join('\n'));
    const plan = planAll(
      loaded.state,
      { services: [], timeouts: { tcp: 900, tcpFin: 120, udp: 300 } },
      live({ addresses: [{ ...vip, owned: true }], sysctls: new Map([['net/ipv4/ip_forward', '0']]) }),
    );
    expect(plan.map((c) => `${c.action} ${c.kind}`)).toEqual([
      'edit sysctl',
      'add address',
      'add service',
      'add realserver',
      'delete address',
    ]);
  });
});
