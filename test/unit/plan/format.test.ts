import { describe, expect, test } from 'vitest';
import type { Change } from '../../../src/plan/change.js';
import { diff } from '../../../src/plan/diff.js';
import { formatChange, formatPlan, planSummary, planToJson } from '../../../src/plan/format.js';
import type { DesiredService, LiveState, RealServer, RealServerAttrs } from '../../../src/model/types.js';

function rs(address: string, port: number, o: Partial<RealServerAttrs> = {}): RealServer {
  return { family: 'ipv4', address, port, forward: 'dr', weight: 1, upperThreshold: 0, lowerThreshold: 0, ...o };
}

function svc(protocol: 'tcp' | 'udp', port: number, realservers: RealServer[], scheduler = 'rr'): DesiredService {
  return {
    name: `${protocol}${port}`,
    family: 'ipv4',
    protocol,
    address: '192.0.2.200',
    port,
    scheduler,
    flags: [],
    onePacket: false,
    realservers,
  };
}

const liveOf = (services: DesiredService[], tcp = 900): LiveState => ({
  timeouts: { tcp, tcpFin: 120, udp: 300 },
  services: services.map(({ name: _n, realservers, ...s }) => ({
    ...s,
    realservers: realservers.map((r) => ({
      ...r,
      activeConnections: 0,
      inactiveConnections: 0,
      persistentConnections: 0,
    })),
  })),
});

// The example from the design notes: add a service with one server, reweight one, drop udp/53, lower tcp timeout.
const plan = diff(
  {
    ignore: [],
    timeouts: { tcp: 600 },
    services: [svc('tcp', 80, [rs('198.51.100.193', 80)]), svc('tcp', 443, [rs('198.51.100.195', 443, { weight: 3 })])],
  },
  liveOf([svc('tcp', 443, [rs('198.51.100.195', 443)]), svc('udp', 53, [rs('198.51.100.193', 53)])]),
);

describe('text', () => {
  test('one line per change, then the summary', () => {
    expect(formatPlan(plan)).toEqual([
      '~ timeouts tcp 900 => 600',
      '+ service tcp/192.0.2.200:80 scheduler=rr',
      '+ realserver tcp/192.0.2.200:80 -> 198.51.100.193:80 forward=dr weight=1',
      '~ realserver tcp/192.0.2.200:443 -> 198.51.100.195:443 weight 1 => 3',
      '- service udp/192.0.2.200:53',
      'Plan: 2 to add, 2 to change, 1 to delete.',
    ]);
  });

  test('no changes', () => {
    expect(formatPlan([])).toEqual(['No changes. The live table matches the config.']);
    expect(planSummary([])).toBe('No changes. The live table matches the config.');
  });

  test.each<[string, Change['fields'], Change['action'], Change['kind'], string]>([
    [
      'add shows non-default values',
      {
        scheduler: { new: 'sh' },
        flags: { new: ['sh-fallback', 'sh-port'] },
        'persistence.timeout': { new: 300 },
        'persistence.netmask': { new: '255.255.255.255' },
        one_packet: { new: false },
      },
      'add',
      'service',
      '+ service tcp/192.0.2.1:80 scheduler=sh flags=sh-fallback,sh-port persistence.timeout=300 persistence.netmask=255.255.255.255',
    ],
    [
      'add keeps weight 0',
      { forward: { new: 'nat' }, weight: { new: 0 }, upper_threshold: { new: 0 } },
      'add',
      'realserver',
      '+ realserver tcp/192.0.2.1:80 -> 198.51.100.1:8080 forward=nat weight=0',
    ],
    [
      'several edits',
      { weight: { old: 1, new: 2 }, forward: { old: 'dr', new: 'nat' } },
      'edit',
      'realserver',
      '~ realserver tcp/192.0.2.1:80 -> 198.51.100.1:8080 weight 1 => 2, forward dr => nat',
    ],
    [
      'field appearing and going',
      { 'persistence.timeout': { new: 60 }, pe: { old: 'sip' }, flags: { old: [], new: ['sh-port'] } },
      'edit',
      'service',
      '~ service tcp/192.0.2.1:80 persistence.timeout none => 60, pe sip => none, flags none => sh-port',
    ],
    [
      'delete shows no values',
      { weight: { old: 5 } },
      'delete',
      'realserver',
      '- realserver tcp/192.0.2.1:80 -> 198.51.100.1:8080',
    ],
  ])('%s', (_what, fields, action, kind, line) => {
    const c = {
      action,
      kind,
      fields,
      service: 'tcp/192.0.2.1:80',
      ...(kind === 'realserver' ? { realserver: '198.51.100.1:8080' } : {}),
      op: { op: 'flush' },
    } as Change;
    expect(formatChange(c)).toBe(line);
  });

  test('IPv6 and fwmark keys read as they are', () => {
    const c: Change = {
      action: 'delete',
      kind: 'realserver',
      phase: 'realservers',
      service: 'fwmark/7/ipv6',
      realserver: '[2001:db8::1]:0',
      fields: {},
      op: {
        op: 'delete-realserver',
        service: { family: 'ipv6', fwmark: 7 },
        realserver: { family: 'ipv6', address: '2001:db8::1', port: 0 },
      },
    };
    expect(formatChange(c)).toBe('- realserver fwmark/7/ipv6 -> [2001:db8::1]:0');
  });
});

describe('JSON', () => {
  test('one object per kernel operation, without op internals', () => {
    const json = planToJson(plan);
    expect(json.changes).toHaveLength(plan.length);
    expect(json).toEqual({
      changes: [
        { action: 'edit', kind: 'timeouts', fields: { tcp: { old: 900, new: 600 } } },
        {
          action: 'add',
          kind: 'service',
          service: 'tcp/192.0.2.200:80',
          fields: { scheduler: { new: 'rr' }, flags: { new: [] }, one_packet: { new: false } },
        },
        {
          action: 'add',
          kind: 'realserver',
          service: 'tcp/192.0.2.200:80',
          realserver: '198.51.100.193:80',
          fields: {
            forward: { new: 'dr' },
            weight: { new: 1 },
            upper_threshold: { new: 0 },
            lower_threshold: { new: 0 },
          },
        },
        {
          action: 'edit',
          kind: 'realserver',
          service: 'tcp/192.0.2.200:443',
          realserver: '198.51.100.195:443',
          fields: { weight: { old: 1, new: 3 } },
        },
        {
          action: 'delete',
          kind: 'service',
          service: 'udp/192.0.2.200:53',
          fields: { scheduler: { old: 'rr' }, flags: { old: [] }, one_packet: { old: false } },
        },
      ],
    });
  });

  test('keys read in order: action, kind, service, realserver, fields', () => {
    expect(Object.keys(planToJson(plan).changes[2]!)).toEqual(['action', 'kind', 'service', 'realserver', 'fields']);
  });

  test('round-trips through JSON.stringify, bigints become text', () => {
    const c: Change = {
      action: 'edit',
      kind: 'timeouts',
      phase: 'services',
      fields: { odd: { old: 1n, new: [2n] } },
      op: { op: 'set-timeouts', timeouts: {} },
    };
    const json = planToJson([...plan, c]);
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
    expect(json.changes.at(-1)!.fields['odd']).toEqual({ old: '1', new: ['2'] });
  });

  test('an empty plan', () => {
    expect(planToJson([])).toEqual({ changes: [] });
  });
});
