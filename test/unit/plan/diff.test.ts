import { describe, expect, test } from 'vitest';
import type { Plan } from '../../../src/plan/change.js';
import { diff } from '../../../src/plan/diff.js';
import type {
  DesiredService,
  DesiredState,
  Family,
  IgnoreRule,
  LiveService,
  LiveState,
  RealServer,
  RealServerAttrs,
  ServiceAttrs,
  Timeouts,
} from '../../../src/model/types.js';

// Builders. Defaults are what a minimal config entry normalizes to.
type SvcOpts = Partial<ServiceAttrs> & { realservers?: RealServer[] };
const ATTRS: ServiceAttrs = { scheduler: 'wlc', flags: [], onePacket: false };

function vip(protocol: 'tcp' | 'udp' | 'sctp', address: string, port: number, o: SvcOpts = {}): DesiredService {
  const { realservers = [], ...attrs } = o;
  const family: Family = address.includes(':') ? 'ipv6' : 'ipv4';
  return { name: `${protocol}-${address}-${port}`, family, protocol, address, port, ...ATTRS, ...attrs, realservers };
}

function mark(fwmark: number, family: Family, o: SvcOpts = {}): DesiredService {
  const { realservers = [], ...attrs } = o;
  return { name: `fwmark-${fwmark}-${family}`, family, fwmark, ...ATTRS, ...attrs, realservers };
}

function rs(address: string, port: number, o: Partial<RealServerAttrs> = {}): RealServer {
  const family: Family = address.includes(':') ? 'ipv6' : 'ipv4';
  return { family, address, port, forward: 'dr', weight: 1, upperThreshold: 0, lowerThreshold: 0, ...o };
}

const STATS = {
  connections: 5n,
  packetsIn: 1n,
  packetsOut: 2n,
  bytesIn: 3n,
  bytesOut: 4n,
  cps: 1n,
  ppsIn: 1n,
  ppsOut: 1n,
  bpsIn: 1n,
  bpsOut: 1n,
};

const KERNEL_TIMEOUTS: Timeouts = { tcp: 900, tcpFin: 120, udp: 300 };

/** What the kernel would report for these services: counters and stats included. */
function live(services: DesiredService[], timeouts: Timeouts = KERNEL_TIMEOUTS): LiveState {
  return {
    timeouts,
    services: services.map(({ name: _name, realservers, ...s }): LiveService => ({
      ...s,
      stats: STATS,
      realservers: realservers.map((r) => ({
        ...r,
        activeConnections: 3,
        inactiveConnections: 7,
        persistentConnections: 1,
        stats: STATS,
      })),
    })),
  };
}

function want(services: DesiredService[] | undefined, extra: Partial<DesiredState> = {}): DesiredState {
  return { ignore: [], ...(services ? { services } : {}), ...extra };
}

const ops = (plan: Plan) => plan.map((c) => c.op.op);

const S = '192.0.2.10';
const R1 = '198.51.100.1';
const R2 = '198.51.100.2';

describe('service attributes are edited in place', () => {
  // [what, live attrs, desired attrs, fields that differ]
  test.each<[string, SvcOpts, SvcOpts, string[]]>([
    ['scheduler', { scheduler: 'wlc' }, { scheduler: 'rr' }, ['scheduler']],
    ['flags added', { scheduler: 'sh' }, { scheduler: 'sh', flags: ['sh-port'] }, ['flags']],
    [
      'flags changed',
      { scheduler: 'sh', flags: ['sh-fallback'] },
      { scheduler: 'sh', flags: ['sh-fallback', 'sh-port'] },
      ['flags'],
    ],
    ['flags swapped', { scheduler: 'sh', flags: ['sh-fallback'] }, { scheduler: 'sh', flags: ['sh-port'] }, ['flags']],
    ['flags removed', { scheduler: 'mh', flags: ['mh-port'] }, { scheduler: 'mh' }, ['flags']],
    [
      'persistence timeout',
      { persistence: { timeout: 300, netmask: '255.255.255.255' } },
      { persistence: { timeout: 600, netmask: '255.255.255.255' } },
      ['persistence.timeout'],
    ],
    [
      'persistence netmask',
      { persistence: { timeout: 300, netmask: '255.255.255.255' } },
      { persistence: { timeout: 300, netmask: '255.255.255.0' } },
      ['persistence.netmask'],
    ],
    [
      'persistence added',
      {},
      { persistence: { timeout: 300, netmask: '255.255.255.255' } },
      ['persistence.timeout', 'persistence.netmask'],
    ],
    [
      'persistence removed',
      { persistence: { timeout: 300, netmask: '255.255.255.255' } },
      {},
      ['persistence.timeout', 'persistence.netmask'],
    ],
    ['one_packet on', {}, { onePacket: true }, ['one_packet']],
    ['one_packet off', { onePacket: true }, {}, ['one_packet']],
    [
      'pe added',
      { persistence: { timeout: 300, netmask: '255.255.255.255' } },
      { persistence: { timeout: 300, netmask: '255.255.255.255' }, pe: 'sip' },
      ['pe'],
    ],
    ['pe removed', { pe: 'sip' }, {}, ['pe']],
  ])('%s: one edit-service carrying the full desired service', (_what, before, after, fields) => {
    const have = vip('udp', S, 53, { ...before, realservers: [rs(R1, 53)] });
    const wanted = vip('udp', S, 53, { ...after, realservers: [rs(R1, 53)] });
    const plan = diff(want([wanted]), live([have]));
    expect(plan).toHaveLength(1);
    const [c] = plan;
    expect(c).toMatchObject({ action: 'edit', kind: 'service', service: `udp/${S}:53` });
    expect(Object.keys(c!.fields).sort()).toEqual([...fields].sort());
    const { name: _n, realservers: _r, ...bare } = wanted;
    expect(c!.op).toEqual({ op: 'edit-service', service: bare });
  });

  test('fields carry old and new values', () => {
    const plan = diff(want([vip('tcp', S, 80, { scheduler: 'rr' })]), live([vip('tcp', S, 80)]));
    expect(plan[0]!.fields).toEqual({ scheduler: { old: 'wlc', new: 'rr' } });
  });

  test('several attributes at once are still one operation', () => {
    const plan = diff(
      want([
        vip('tcp', S, 80, {
          scheduler: 'sh',
          flags: ['sh-port'],
          persistence: { timeout: 60, netmask: '255.255.255.255' },
        }),
      ]),
      live([vip('tcp', S, 80)]),
    );
    expect(ops(plan)).toEqual(['edit-service']);
    expect(Object.keys(plan[0]!.fields)).toHaveLength(4);
  });
});

describe('real server attributes are edited in place', () => {
  const gue = { type: 'gue', port: 6080, checksum: 'none' } as const;
  test.each<[string, Partial<RealServerAttrs>, Partial<RealServerAttrs>, string[]]>([
    ['weight', { weight: 1 }, { weight: 3 }, ['weight']],
    ['weight to 0 (drain)', { weight: 5 }, { weight: 0 }, ['weight']],
    ['forward', { forward: 'dr' }, { forward: 'nat' }, ['forward']],
    ['upper threshold', {}, { upperThreshold: 100 }, ['upper_threshold']],
    ['lower threshold', { upperThreshold: 100 }, { upperThreshold: 100, lowerThreshold: 50 }, ['lower_threshold']],
    [
      'tunnel type',
      { forward: 'tunnel', tunnel: { type: 'ipip', port: 0, checksum: 'none' } },
      { forward: 'tunnel', tunnel: { type: 'gre', port: 0, checksum: 'none' } },
      ['tunnel.type'],
    ],
    [
      'tunnel port',
      { forward: 'tunnel', tunnel: gue },
      { forward: 'tunnel', tunnel: { ...gue, port: 6081 } },
      ['tunnel.port'],
    ],
    [
      'tunnel checksum',
      { forward: 'tunnel', tunnel: gue },
      { forward: 'tunnel', tunnel: { ...gue, checksum: 'remcsum' } },
      ['tunnel.checksum'],
    ],
    [
      'dr to tunnel',
      { forward: 'dr' },
      { forward: 'tunnel', tunnel: gue },
      ['forward', 'tunnel.type', 'tunnel.port', 'tunnel.checksum'],
    ],
  ])('%s: one edit-realserver carrying the full desired real server', (_what, before, after, fields) => {
    const plan = diff(
      want([vip('tcp', S, 80, { realservers: [rs(R1, 80, after), rs(R2, 80)] })]),
      live([vip('tcp', S, 80, { realservers: [rs(R1, 80, before), rs(R2, 80)] })]),
    );
    expect(plan).toHaveLength(1);
    const [c] = plan;
    expect(c).toMatchObject({ action: 'edit', kind: 'realserver', service: `tcp/${S}:80`, realserver: `${R1}:80` });
    expect(Object.keys(c!.fields).sort()).toEqual([...fields].sort());
    expect(c!.op).toMatchObject({ op: 'edit-realserver', realserver: rs(R1, 80, after) });
  });
});

describe('a change of identity is a delete and an add', () => {
  test.each<[string, DesiredService, DesiredService, string, string]>([
    ['protocol', vip('tcp', S, 80), vip('udp', S, 80), `tcp/${S}:80`, `udp/${S}:80`],
    ['address', vip('tcp', S, 80), vip('tcp', '192.0.2.11', 80), `tcp/${S}:80`, 'tcp/192.0.2.11:80'],
    ['port', vip('tcp', S, 80), vip('tcp', S, 8080), `tcp/${S}:80`, `tcp/${S}:8080`],
    ['family', vip('tcp', S, 80), vip('tcp', '2001:db8::10', 80), `tcp/${S}:80`, 'tcp/[2001:db8::10]:80'],
    ['fwmark', mark(1, 'ipv4'), mark(2, 'ipv4'), 'fwmark/1/ipv4', 'fwmark/2/ipv4'],
    ['fwmark family', mark(1, 'ipv4'), mark(1, 'ipv6'), 'fwmark/1/ipv4', 'fwmark/1/ipv6'],
    ['vip to fwmark', vip('tcp', S, 80), mark(1, 'ipv4'), `tcp/${S}:80`, 'fwmark/1/ipv4'],
  ])('service %s', (_what, before, after, oldKey, newKey) => {
    const plan = diff(want([after]), live([before]));
    expect(plan.map((c) => [c.op.op, c.service])).toEqual([
      ['add-service', newKey],
      ['delete-service', oldKey],
    ]);
  });

  test('a replaced service gets its pool before the old one goes', () => {
    const plan = diff(
      want([vip('tcp', S, 443, { realservers: [rs(R1, 443)] })]),
      live([vip('tcp', S, 80, { realservers: [rs(R1, 80), rs(R2, 80)] })]),
    );
    expect(ops(plan)).toEqual(['add-service', 'add-realserver', 'delete-service']);
  });

  test.each<[string, RealServer, RealServer]>([
    ['address', rs(R1, 80), rs(R2, 80)],
    ['port', rs(R1, 80), rs(R1, 8080)],
  ])('real server %s', (_what, before, after) => {
    const plan = diff(
      want([vip('tcp', S, 80, { realservers: [after] })]),
      live([vip('tcp', S, 80, { realservers: [before] })]),
    );
    expect(ops(plan)).toEqual(['add-realserver', 'delete-realserver']);
    expect(plan[0]!.realserver).toBe(`${after.address}:${after.port}`);
    expect(plan[1]!.realserver).toBe(`${before.address}:${before.port}`);
  });
});

describe('adds and deletes', () => {
  test('a new service: one add, then one add per real server, with their values', () => {
    const plan = diff(
      want([vip('tcp', S, 80, { scheduler: 'rr', realservers: [rs(R1, 80), rs(R2, 80, { weight: 2 })] })]),
      live([]),
    );
    expect(ops(plan)).toEqual(['add-service', 'add-realserver', 'add-realserver']);
    expect(plan[0]!.fields['scheduler']).toEqual({ new: 'rr' });
    // Reverse canonical order (order.ts): R2 first, so that the kernel lists R1 at the head.
    expect(plan[1]!.fields['weight']).toEqual({ new: 2 });
    expect(plan.map((c) => c.realserver)).toEqual([undefined, `${R2}:80`, `${R1}:80`]);
  });

  test('deleting a service is one operation: its real servers go with it', () => {
    const plan = diff(want([]), live([vip('tcp', S, 80, { realservers: [rs(R1, 80), rs(R2, 80)] })]));
    expect(plan).toHaveLength(1);
    expect(plan[0]).toMatchObject({
      action: 'delete',
      kind: 'service',
      service: `tcp/${S}:80`,
      fields: { scheduler: { old: 'wlc' } },
    });
    expect(plan[0]!.op).toEqual({
      op: 'delete-service',
      service: { family: 'ipv4', protocol: 'tcp', address: S, port: 80 },
    });
  });

  test('a removed real server: one delete with its old values', () => {
    const plan = diff(
      want([vip('tcp', S, 80, { realservers: [rs(R1, 80)] })]),
      live([vip('tcp', S, 80, { realservers: [rs(R1, 80), rs(R2, 80, { weight: 4 })] })]),
    );
    expect(plan).toHaveLength(1);
    expect(plan[0]).toMatchObject({
      action: 'delete',
      kind: 'realserver',
      realserver: `${R2}:80`,
      fields: { weight: { old: 4 } },
    });
    expect(plan[0]!.op).toEqual({
      op: 'delete-realserver',
      service: expect.objectContaining({ protocol: 'tcp', address: S, port: 80 }),
      realserver: { family: 'ipv4', address: R2, port: 80 },
    });
  });
});

describe('what the kernel adds is not a difference', () => {
  test('stats, connection counts and unchanged services give an empty plan', () => {
    const table = [
      vip('tcp', S, 80, { realservers: [rs(R1, 80), rs(R2, 80)] }),
      vip('udp', '2001:db8::53', 53, {
        onePacket: true,
        persistence: { timeout: 60, netmask: '64' },
        realservers: [rs('2001:db8::1', 53)],
      }),
      mark(7, 'ipv6', {
        scheduler: 'mh',
        flags: ['mh-fallback'],
        realservers: [
          rs('2001:db8::2', 0, { forward: 'tunnel', tunnel: { type: 'gue', port: 6080, checksum: 'csum' } }),
        ],
      }),
    ];
    expect(diff(want(table), live(table))).toEqual([]);
  });

  test('real server order does not matter', () => {
    expect(
      diff(
        want([vip('tcp', S, 80, { realservers: [rs(R1, 80), rs(R2, 80)] })]),
        live([vip('tcp', S, 80, { realservers: [rs(R2, 80), rs(R1, 80)] })]),
      ),
    ).toEqual([]);
  });
});

describe('ignore', () => {
  const v4net: IgnoreRule = { vip: { network: '203.0.113.0', length: 24, family: 'ipv4' } };
  const v6net: IgnoreRule = { vip: { network: '2001:db8:ff::', length: 48, family: 'ipv6' } };
  const fw9: IgnoreRule = { fwmark: 9 };
  const ignoredLive = [
    vip('tcp', '203.0.113.5', 80, { realservers: [rs(R1, 80)] }),
    vip('udp', '2001:db8:ff::1', 53),
    mark(9, 'ipv4'),
    mark(9, 'ipv6'),
  ];

  test('ignored live services are never touched, even with services: []', () => {
    expect(diff(want([], { ignore: [v4net, v6net, fw9] }), live(ignoredLive))).toEqual([]);
  });

  test('only the unignored are deleted', () => {
    const plan = diff(want([], { ignore: [v4net, fw9] }), live(ignoredLive));
    expect(plan.map((c) => c.service)).toEqual(['udp/[2001:db8:ff::1]:53']);
  });

  test('an ignored live service with different attributes is not edited, nor its real servers', () => {
    const plan = diff(
      want([vip('tcp', '203.0.113.5', 80, { scheduler: 'rr', realservers: [rs(R2, 80)] })], { ignore: [v4net] }),
      live(ignoredLive.slice(0, 1)),
    );
    expect(plan).toEqual([]);
  });

  test('a desired service an ignore rule matches is skipped (ignore wins)', () => {
    expect(diff(want([mark(9, 'ipv4'), vip('tcp', '203.0.113.7', 80)], { ignore: [v4net, fw9] }), live([]))).toEqual(
      [],
    );
  });

  test('a vip rule does not match fwmark services, a fwmark rule does not match vip services', () => {
    const plan = diff(
      want([], { ignore: [{ vip: { network: '0.0.0.0', length: 0, family: 'ipv4' } }, { fwmark: 80 }] }),
      live([mark(1, 'ipv4'), vip('tcp', '2001:db8::1', 80)]),
    );
    expect(plan.map((c) => c.service)).toEqual(['fwmark/1/ipv4', 'tcp/[2001:db8::1]:80']);
  });
});

describe('services absent vs []', () => {
  const table = [vip('tcp', S, 80, { realservers: [rs(R1, 80)] }), mark(3, 'ipv4')];

  test('absent: the file does not manage services, nothing is touched', () => {
    expect(diff(want(undefined), live(table))).toEqual([]);
  });

  test('absent with timeouts: only the timeouts', () => {
    expect(ops(diff(want(undefined, { timeouts: { udp: 30 } }), live(table)))).toEqual(['set-timeouts']);
  });

  test('[]: every live service is deleted, one op each', () => {
    const plan = diff(want([]), live(table));
    expect(plan.map((c) => [c.op.op, c.service])).toEqual([
      ['delete-service', `tcp/${S}:80`],
      ['delete-service', 'fwmark/3/ipv4'],
    ]);
  });
});

describe('order for live traffic', () => {
  test('timeouts; service adds and edits; rs adds, edits, deletes; service deletes', () => {
    const desired = want(
      [
        vip('tcp', S, 80, { scheduler: 'rr', realservers: [rs(R1, 80, { weight: 5 }), rs('198.51.100.3', 80)] }),
        vip('tcp', S, 443, { realservers: [rs(R1, 443)] }),
      ],
      { timeouts: { tcp: 600 } },
    );
    const current = live([
      vip('udp', S, 53, { realservers: [rs(R1, 53)] }),
      vip('tcp', S, 80, { realservers: [rs(R1, 80), rs(R2, 80)] }),
    ]);
    const plan = diff(desired, current);
    expect(plan.map((c) => `${c.op.op} ${c.service ?? ''} ${c.realserver ?? ''}`.trim())).toEqual([
      'set-timeouts',
      `edit-service tcp/${S}:80`,
      `add-service tcp/${S}:443`,
      `add-realserver tcp/${S}:80 198.51.100.3:80`,
      `add-realserver tcp/${S}:443 ${R1}:443`,
      `edit-realserver tcp/${S}:80 ${R1}:80`,
      `delete-realserver tcp/${S}:80 ${R2}:80`,
      `delete-service udp/${S}:53`,
    ]);
  });

  test('replacing every server of a pool adds the new ones before deleting the old', () => {
    const plan = diff(
      want([vip('tcp', S, 80, { realservers: [rs('198.51.100.3', 80), rs('198.51.100.4', 80)] })]),
      live([vip('tcp', S, 80, { realservers: [rs(R1, 80), rs(R2, 80)] })]),
    );
    expect(ops(plan)).toEqual(['add-realserver', 'add-realserver', 'delete-realserver', 'delete-realserver']);
  });
});

describe('timeouts', () => {
  test.each<[string, Partial<Timeouts> | undefined, Partial<Timeouts> | undefined, Record<string, unknown>]>([
    ['one key differs', { tcp: 600 }, { tcp: 600 }, { tcp: { old: 900, new: 600 } }],
    ['only differing keys are sent', { tcp: 900, udp: 200 }, { udp: 200 }, { udp: { old: 300, new: 200 } }],
    [
      'all three',
      { tcp: 1, tcpFin: 2, udp: 3 },
      { tcp: 1, tcpFin: 2, udp: 3 },
      { tcp: { old: 900, new: 1 }, tcp_fin: { old: 120, new: 2 }, udp: { old: 300, new: 3 } },
    ],
    ['equal', { tcp: 900, tcpFin: 120 }, undefined, {}],
    ['empty', {}, undefined, {}],
    ['absent', undefined, undefined, {}],
    ['0 means "keep" to the kernel, so it is not managed', { tcp: 0, udp: 0 }, undefined, {}],
  ])('%s', (_what, desired, sent, fields) => {
    const plan = diff(want(undefined, desired ? { timeouts: desired } : {}), live([]));
    if (!sent) {
      expect(plan).toEqual([]);
      return;
    }
    expect(plan).toEqual([
      { action: 'edit', kind: 'timeouts', phase: 'services', fields, op: { op: 'set-timeouts', timeouts: sent } },
    ]);
  });
});

describe('IPv6 and fwmark services', () => {
  test('keys in the plan', () => {
    const plan = diff(
      want([
        vip('tcp', '2001:db8::10', 80, { realservers: [rs('2001:db8::20', 8080)] }),
        mark(7, 'ipv6', { realservers: [rs('2001:db8::21', 0)] }),
      ]),
      live([]),
    );
    expect(plan.map((c) => [c.service, c.realserver])).toEqual([
      ['tcp/[2001:db8::10]:80', undefined],
      ['fwmark/7/ipv6', undefined],
      ['tcp/[2001:db8::10]:80', '[2001:db8::20]:8080'],
      ['fwmark/7/ipv6', '[2001:db8::21]:0'],
    ]);
  });

  test('an IPv6 fwmark real server edit', () => {
    const plan = diff(
      want([mark(7, 'ipv6', { realservers: [rs('2001:db8::21', 0, { weight: 9 })] })]),
      live([mark(7, 'ipv6', { realservers: [rs('2001:db8::21', 0)] })]),
    );
    expect(plan).toMatchObject([
      {
        action: 'edit',
        service: 'fwmark/7/ipv6',
        realserver: '[2001:db8::21]:0',
        fields: { weight: { old: 1, new: 9 } },
      },
    ]);
  });
});

describe('size', () => {
  // A check that the diff stays linear on a big table; speed is measured elsewhere, not asserted here.
  test('10,000 services x 10 real servers', () => {
    const services: DesiredService[] = [];
    for (let i = 0; i < 10_000; i++) {
      const realservers = Array.from({ length: 10 }, (_, j) => rs(`198.51.100.${j + 1}`, 8080));
      services.push(vip('tcp', `192.0.2.${(i % 250) + 1}`, 1000 + Math.floor(i / 250), { realservers }));
    }
    const current = live(services);
    expect(diff(want(services), current)).toEqual([]);
    const changed = services.map((s, i) =>
      i % 100 === 0 ? { ...s, realservers: s.realservers.map((r, j) => (j === 0 ? { ...r, weight: 7 } : r)) } : s,
    );
    expect(diff(want(changed), current)).toHaveLength(100);
  });
});
