import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { loadConfigTexts } from '../../../src/config/load.js';
import { printConfig } from '../../../src/config/print.js';
import { parsePrefix } from '../../../src/config/values.js';
import { bytesToAddress, prefixToMask } from '../../../src/model/address.js';
import { serviceKey } from '../../../src/model/keys.js';
import { SCHEDULERS } from '../../../src/model/types.js';
import type {
  DesiredService,
  DesiredState,
  Family,
  RealServer,
  SchedFlag,
  ServiceEntry,
  TunnelSettings,
} from '../../../src/model/types.js';
import { lines, stateOf } from './helpers.js';

function reload(text: string): DesiredState {
  const r = loadConfigTexts([{ file: 'printed.yaml', text }]);
  if (!r.ok) throw new Error(`printed config does not load:\n${r.errors.map(String).join('\n')}\n---\n${text}`);
  return r.state;
}

const rs = (address: string, port: number, extra: Partial<RealServer> = {}): RealServer => ({
  family: address.includes(':') ? 'ipv6' : 'ipv4',
  address,
  port,
  forward: 'dr',
  weight: 1,
  upperThreshold: 0,
  lowerThreshold: 0,
  ...extra,
});

const LVS_DR: ServiceEntry = {
  family: 'ipv4',
  protocol: 'tcp',
  address: '192.168.1.200',
  port: 80,
  scheduler: 'rr',
  flags: [],
  onePacket: false,
  realservers: [rs('192.168.1.193', 80), rs('192.168.1.195', 80)],
};

describe('printConfig', () => {
  test('the classic LVS-DR service: compact, forward and weight spelled out', () => {
    expect(printConfig({ services: [LVS_DR] })).toBe(
      lines(
        '# lvsd configuration; format reference: docs/config.md',
        '',
        'version: 1',
        '',
        'services:',
        '  - vip: 192.168.1.200',
        '    port: 80',
        '    scheduler: rr',
        '    realservers:',
        '      - { address: 192.168.1.193, forward: dr, weight: 1 }',
        '      - { address: 192.168.1.195, forward: dr, weight: 1 }',
      ),
    );
  });

  test('a header of our own and the yaml-language-server schema line', () => {
    const text = printConfig(
      { services: [] },
      { header: ['imported from ipvsadm -Sn', 'on lb1'], schema: '/usr/share/lvsd/lvsd.schema.json' },
    );
    expect(text).toBe(
      lines(
        '# imported from ipvsadm -Sn',
        '# on lb1',
        '# yaml-language-server: $schema=/usr/share/lvsd/lvsd.schema.json',
        '',
        'version: 1',
        '',
        'services: []',
      ),
    );
    expect(printConfig({ services: [] }, { header: [] })).toBe(lines('version: 1', '', 'services: []'));
  });

  test('no services key when services are not managed', () => {
    const text = printConfig({ timeouts: { tcp: 900, udp: 300 } });
    expect(text).not.toContain('services');
    expect(text).toContain('timeouts:\n  tcp: 15m\n  udp: 5m\n');
    expect(reload(text)).toEqual({ timeouts: { tcp: 900, udp: 300 }, ignore: [] });
  });

  test('live timeouts print as durations; a 0 (not configurable) is left out', () => {
    const text = printConfig({ services: [], timeouts: { tcp: 900, tcpFin: 0, udp: 300 } });
    expect(text).toContain(lines('timeouts:', '  tcp: 15m', '  udp: 5m'));
    expect(reload(text).timeouts).toEqual({ tcp: 900, udp: 300 });
  });

  test('everything that differs from a default is written', () => {
    const svc: DesiredService = {
      name: 'sip',
      family: 'ipv6',
      protocol: 'udp',
      address: '2001:db8::5',
      port: 5060,
      scheduler: 'sh',
      flags: ['sh-fallback', 'sh-port'],
      persistence: { timeout: 5400, netmask: '64' },
      onePacket: true,
      pe: 'sip',
      realservers: [
        rs('2001:db8::10', 5062, { forward: 'nat', weight: 0, upperThreshold: 100, lowerThreshold: 50 }),
        rs('192.0.2.10', 5060, {
          forward: 'tunnel',
          weight: 7,
          tunnel: { type: 'gue', port: 6080, checksum: 'remcsum' },
        }),
        rs('2001:db8::12', 5060, { forward: 'tunnel', tunnel: { type: 'ipip', port: 0, checksum: 'none' } }),
      ],
    };
    const text = printConfig({
      services: [svc],
      ignore: [{ fwmark: 3 }, { vip: { network: '10.96.0.0', length: 12, family: 'ipv4' } }],
    });
    expect(text).toContain(
      lines(
        'ignore:',
        '  - fwmark: 3',
        '  - vip: 10.96.0.0/12',
        '',
        'services:',
        '  - name: sip',
        '    vip: 2001:db8::5',
        '    port: 5060',
        '    protocol: udp',
        '    scheduler: sh',
        '    flags: [ sh-fallback, sh-port ]',
        '    persistence:',
        '      timeout: 1h30m',
        '      netmask: 64',
        '    one_packet: true',
        '    pe: sip',
        '    realservers:',
        '      - { address: 2001:db8::10, port: 5062, forward: nat, weight: 0, upper_threshold: 100, lower_threshold: 50 }',
        '      - { address: 192.0.2.10, forward: tunnel, weight: 7, tunnel: { type: gue, port: 6080, checksum: remcsum } }',
        '      - { address: 2001:db8::12, forward: tunnel, weight: 1 }',
      ),
    );
    expect(reload(text)).toStrictEqual({
      ignore: [{ fwmark: 3 }, { vip: { network: '10.96.0.0', length: 12, family: 'ipv4' } }],
      services: [svc],
    });
  });

  test('fwmark services: family, real server ports only when not 0', () => {
    const text = printConfig({
      services: [
        {
          family: 'ipv4',
          fwmark: 7,
          scheduler: 'wlc',
          flags: [],
          onePacket: false,
          persistence: { timeout: 300, netmask: '255.255.255.255' },
          realservers: [rs('192.0.2.10', 0), rs('192.0.2.11', 443)],
        },
      ],
    });
    expect(text).toContain(
      lines(
        '  - fwmark: 7',
        '    family: ipv4',
        '    scheduler: wlc',
        '    persistence:',
        '      timeout: 5m',
        '    realservers:',
        '      - { address: 192.0.2.10, forward: dr, weight: 1 }',
        '      - { address: 192.0.2.11, port: 443, forward: dr, weight: 1 }',
      ),
    );
  });

  test('names: left out when they are the default', () => {
    const text = printConfig({
      services: [
        { ...LVS_DR, name: 'tcp/192.168.1.200:80' },
        { ...LVS_DR, port: 443, name: 'web' },
      ],
    });
    expect(text).not.toContain('name: tcp/');
    expect(text).toContain('name: web');
  });

  test('a real server the kernel reports as local prints as dr', () => {
    const text = printConfig({
      services: [{ ...LVS_DR, realservers: [rs('192.168.1.193', 80, { forward: 'local' })] }],
    });
    expect(text).toContain('{ address: 192.168.1.193, forward: dr, weight: 1 }');
  });

  test('text that YAML would read as something else is quoted', () => {
    const text = printConfig({
      services: [
        { ...LVS_DR, name: 'true' },
        { ...LVS_DR, port: 81, name: '123', realservers: [] },
        { ...LVS_DR, port: 82, address: '2001:db8::', family: 'ipv6', realservers: [rs('2001:db8::', 82)] },
      ],
    });
    const state = reload(text);
    expect(state.services!.map((s) => s.name)).toEqual(['true', '123', 'tcp/[2001:db8::]:82']);
    expect(state.services![2]!.realservers[0]!.address).toBe('2001:db8::');
  });

  test('a loaded config prints and loads back to the same state', () => {
    const state = stateOf(
      lines(
        'version: 1',
        'timeouts: { tcp: 1h, tcp_fin: 90, udp: 5m }',
        'defaults: { scheduler: sh, forward: nat, weight: 3 }',
        'ignore: [{ vip: "2001:db8:ffff::/48" }]',
        'services:',
        '  - { name: a, vip: 192.0.2.1, port: 80, flags: [sh-port], realservers: [192.0.2.10, "192.0.2.11:8080"] }',
        '  - { fwmark: 1, family: ipv6, persistence: { netmask: 56 }, realservers: ["[2001:db8::10]:80"] }',
      ),
    );
    expect(reload(printConfig(state))).toStrictEqual(state);
  });
});

// ---- property: generated valid states survive print → load → normalize ----

const hex16 = fc.integer({ min: 0, max: 0xffff });
const group = fc.oneof(fc.constant(0), fc.constant(0), fc.constant(1), hex16);
function address(family: Family): fc.Arbitrary<string> {
  if (family === 'ipv4') {
    return fc
      .tuple(fc.constantFrom([192, 0, 2], [198, 51, 100], [203, 0, 113]), fc.integer({ min: 0, max: 255 }))
      .map(([net, host]) => [...net, host].join('.'));
  }
  return fc.array(group, { minLength: 6, maxLength: 6 }).map((gs) => {
    const bytes = new Uint8Array(16);
    [0x2001, 0x0db8, ...gs].forEach((g, i) => {
      bytes[i * 2] = g >> 8;
      bytes[i * 2 + 1] = g & 0xff;
    });
    return bytesToAddress(bytes);
  });
}

const port = fc.integer({ min: 1, max: 65535 });
const weight = fc.oneof(fc.integer({ min: 0, max: 10 }), fc.integer({ min: 0, max: 2147483647 }));

const tunnel: fc.Arbitrary<TunnelSettings> = fc.oneof(
  fc.constant<TunnelSettings>({ type: 'ipip', port: 0, checksum: 'none' }),
  fc.record({
    type: fc.constant('gue' as const),
    port,
    checksum: fc.constantFrom('none' as const, 'csum' as const, 'remcsum' as const),
  }),
  fc.record({
    type: fc.constant('gre' as const),
    port: fc.constant(0),
    checksum: fc.constantFrom('none' as const, 'csum' as const),
  }),
);

function realServers(family: Family, servicePort: number | undefined): fc.Arbitrary<RealServer[]> {
  const one = fc.constantFrom('dr' as const, 'nat' as const, 'tunnel' as const).chain((forward) =>
    fc
      .record({
        family: forward === 'tunnel' ? fc.constantFrom<Family>('ipv4', 'ipv6') : fc.constant(family),
        forward: fc.constant(forward),
        weight,
        thresholds: fc
          .integer({ min: 0, max: 2147483647 })
          .chain((upper) => fc.tuple(fc.constant(upper), fc.integer({ min: 0, max: upper }))),
        useThresholds: fc.boolean(),
        port:
          servicePort !== undefined && forward !== 'nat'
            ? fc.constant(servicePort)
            : fc.integer({ min: 0, max: 65535 }),
        tunnel,
      })
      .chain((r) =>
        address(r.family).map((a): RealServer => {
          const out: RealServer = {
            family: r.family,
            address: a,
            port: r.port,
            forward: r.forward,
            weight: r.weight,
            upperThreshold: r.useThresholds ? r.thresholds[0] : 0,
            lowerThreshold: r.useThresholds ? r.thresholds[1] : 0,
          };
          if (r.forward === 'tunnel') out.tunnel = r.tunnel;
          return out;
        }),
      ),
  );
  return fc.uniqueArray(one, { maxLength: 4, selector: (r) => `${r.address}|${r.port}` });
}

const service: fc.Arbitrary<DesiredService> = fc
  .record({
    family: fc.constantFrom<Family>('ipv4', 'ipv6'),
    fwmark: fc.option(fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.constant(4294967295)), { nil: undefined }),
    protocol: fc.constantFrom('tcp' as const, 'udp' as const, 'sctp' as const),
    scheduler: fc.constantFrom(...SCHEDULERS),
    flagBits: fc.integer({ min: 0, max: 3 }),
    persistent: fc.boolean(),
    timeout: fc.oneof(fc.constant(300), fc.integer({ min: 1, max: 31 * 86400 })),
    prefix: fc.option(fc.integer({ min: 0, max: 128 }), { nil: undefined }),
    onePacket: fc.boolean(),
    pe: fc.boolean(),
    port: fc.oneof(port, fc.constant(0)),
    customName: fc.option(fc.stringMatching(/^[a-z][a-z0-9._-]{0,12}$/), { nil: undefined }),
  })
  .chain((s) => fc.tuple(fc.constant(s), address(s.family)))
  .map(([s, vip]) => {
    const persistent = s.persistent || (s.fwmark === undefined && s.port === 0);
    const id =
      s.fwmark !== undefined
        ? { family: s.family, fwmark: s.fwmark }
        : { family: s.family, protocol: s.protocol, address: vip, port: s.port };
    const flags: SchedFlag[] =
      s.scheduler === 'sh' || s.scheduler === 'mh'
        ? (['fallback', 'port'] as const)
            .filter((_, i) => s.flagBits & (1 << i))
            .map((f) => `${s.scheduler}-${f}` as SchedFlag)
        : [];
    const svc: DesiredService = {
      name: s.customName ?? serviceKey(id),
      ...id,
      scheduler: s.scheduler,
      flags,
      onePacket: s.onePacket && (s.fwmark !== undefined || s.protocol === 'udp'),
      realservers: [],
    };
    if (persistent) {
      const netmask =
        s.prefix === undefined
          ? s.family === 'ipv4'
            ? '255.255.255.255'
            : '128'
          : s.family === 'ipv4'
            ? prefixToMask(s.prefix % 33)
            : String(Math.max(1, s.prefix));
      svc.persistence = { timeout: s.timeout, netmask };
      if (s.pe) svc.pe = 'sip';
    }
    return svc;
  })
  .chain((svc) =>
    realServers(svc.family, svc.fwmark === undefined ? svc.port : undefined).map((realservers) => ({
      ...svc,
      realservers,
    })),
  );

const ignoreRule = fc.oneof(
  fc.integer({ min: 100001, max: 200000 }).map((fwmark) => ({ fwmark })),
  fc
    .tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 8, max: 32 }))
    .map(([b, len]) => ({ vip: parsePrefix(`10.${b}.0.0/${len}`)! })),
  fc.integer({ min: 8, max: 128 }).map((len) => ({ vip: parsePrefix(`fd00::/${len}`)! })),
);

const desiredState: fc.Arbitrary<DesiredState> = fc
  .record({
    services: fc.option(fc.uniqueArray(service, { maxLength: 5, selector: (s) => serviceKey(s) }), { nil: undefined }),
    timeouts: fc.option(
      fc
        .record(
          {
            tcp: fc.integer({ min: 1, max: 2147483 }),
            tcpFin: fc.integer({ min: 1, max: 2147483 }),
            udp: fc.integer({ min: 1, max: 2147483 }),
          },
          { requiredKeys: [] },
        )
        .filter((t) => Object.keys(t).length > 0),
      { nil: undefined },
    ),
    ignore: fc.array(ignoreRule, { maxLength: 3 }),
  })
  .map((s) => {
    const out: DesiredState = { ignore: s.ignore };
    if (s.timeouts) out.timeouts = s.timeouts;
    if (s.services) out.services = s.services;
    return out;
  })
  .filter((s) => {
    if (s.services === undefined && s.timeouts === undefined && s.ignore.length === 0) return false; // declares nothing
    const names = (s.services ?? []).map((x) => x.name);
    const keys = new Set((s.services ?? []).map((x) => serviceKey(x)));
    // Unique names, and no custom name that is another service's default name.
    return (
      new Set(names).size === names.length &&
      (s.services ?? []).every((x) => x.name === serviceKey(x) || !keys.has(x.name))
    );
  });

test('property: print → load → normalize gives back the same state', () => {
  fc.assert(
    fc.property(desiredState, (state) => {
      // structuredClone: fc.record builds null-prototype objects, toStrictEqual compares prototypes.
      expect(reload(printConfig(state))).toStrictEqual(structuredClone(state));
    }),
    { numRuns: 300 },
  );
});

test('property: printing is deterministic and printing a reloaded state changes nothing', () => {
  fc.assert(
    fc.property(desiredState, (state) => {
      const text = printConfig(state);
      expect(printConfig(reload(text))).toBe(text);
    }),
    { numRuns: 100 },
  );
});
