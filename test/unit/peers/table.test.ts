import { describe, expect, test } from 'vitest';
import type { LiveService, LiveState } from '../../../src/model/types.js';
import {
  compareTables,
  type FlowTable,
  flowTable,
  formatDifference,
  parseFlowTable,
} from '../../../src/peers/table.js';

function rs(address: string, weight = 1) {
  return {
    family: 'ipv4' as const,
    address,
    port: 80,
    forward: 'dr' as const,
    weight,
    upperThreshold: 0,
    lowerThreshold: 0,
    activeConnections: 4,
    inactiveConnections: 2,
    persistentConnections: 0,
  };
}

function svc(port: number, scheduler: string, realservers: ReturnType<typeof rs>[]): LiveService {
  return {
    family: 'ipv4',
    protocol: 'tcp',
    address: '192.0.2.10',
    port,
    scheduler,
    flags: scheduler === 'mh' ? ['mh-port'] : [],
    onePacket: false,
    realservers,
  };
}

const SLOPPY = new Map([
  ['net/ipv4/vs/sloppy_tcp', '1'],
  ['net/ipv4/vs/sloppy_sctp', '0'],
]);
const table = (services: LiveService[], sysctls = SLOPPY): FlowTable =>
  flowTable({ services, timeouts: { tcp: 900, tcpFin: 120, udp: 300 } } satisfies LiveState, sysctls);

const A = '198.51.100.1';
const B = '198.51.100.2';
const C = '198.51.100.3';

describe('flowTable', () => {
  test('real servers in kernel order, services sorted, no counters, sysctls by name', () => {
    const t = table([svc(443, 'wlc', [rs(A)]), svc(80, 'mh', [rs(C), rs(A)])]);
    expect(t).toEqual({
      version: 1,
      sysctls: { sloppy_tcp: '1', sloppy_sctp: '0' },
      services: [
        {
          key: 'tcp/192.0.2.10:443',
          scheduler: 'wlc',
          flags: [],
          one_packet: false,
          realservers: [{ key: `${A}:80`, forward: 'dr', weight: 1, upper_threshold: 0, lower_threshold: 0 }],
        },
        {
          key: 'tcp/192.0.2.10:80',
          scheduler: 'mh',
          flags: ['mh-port'],
          one_packet: false,
          realservers: [
            { key: `${C}:80`, forward: 'dr', weight: 1, upper_threshold: 0, lower_threshold: 0 },
            { key: `${A}:80`, forward: 'dr', weight: 1, upper_threshold: 0, lower_threshold: 0 },
          ],
        },
      ],
    });
    expect(parseFlowTable(JSON.parse(JSON.stringify(t)), 'x')).toEqual(t);
  });
});

describe('compareTables', () => {
  const base = [svc(80, 'mh', [rs(A), rs(B), rs(C)])];
  test('the same table agrees', () => {
    expect(compareTables(table(base), table(base))).toEqual([]);
  });

  test('real-server order of an mh service is a difference; of an rr service it is not', () => {
    const d = compareTables(table(base), table([svc(80, 'mh', [rs(C), rs(A), rs(B)])]));
    expect(d).toEqual([
      {
        service: 'tcp/192.0.2.10:80',
        what: 'real-server order',
        here: `${A}:80, ${B}:80, ${C}:80`,
        there: `${C}:80, ${A}:80, ${B}:80`,
      },
    ]);
    expect(formatDifference(d[0]!)).toBe(
      `service tcp/192.0.2.10:80: real-server order: here ${A}:80, ${B}:80, ${C}:80; there ${C}:80, ${A}:80, ${B}:80`,
    );
    const rr = (order: string[]) =>
      table([
        svc(
          80,
          'rr',
          order.map((a) => rs(a)),
        ),
      ]);
    expect(compareTables(rr([A, B]), rr([B, A]))).toEqual([]);
  });

  test('services, real servers, weights, scheduler, flags and sloppy_tcp each show', () => {
    const here = table([svc(80, 'mh', [rs(A), rs(B, 2)]), svc(443, 'wlc', [])]);
    const there = table(
      [{ ...svc(80, 'mh', [rs(A), rs(C)]), flags: [] }, svc(8080, 'wlc', [])],
      new Map([['net/ipv4/vs/sloppy_tcp', '0']]),
    );
    expect(compareTables(here, there).map(formatDifference)).toEqual([
      'sloppy_tcp: here 1; there 0',
      'sloppy_sctp: here 0; there none',
      // Services by key as text: ':443' before ':80'.
      'service tcp/192.0.2.10:443: service only here: here present; there absent',
      'service tcp/192.0.2.10:80: flags: here mh-port; there none',
      `service tcp/192.0.2.10:80 real server ${B}:80: real server only here: here present; there absent`,
      `service tcp/192.0.2.10:80 real server ${C}:80: real server only there: here absent; there present`,
      'service tcp/192.0.2.10:8080: service only there: here absent; there present',
    ]);
    const weights = compareTables(table([svc(80, 'sh', [rs(A, 1)])]), table([svc(80, 'dh', [rs(A, 3)])]));
    expect(weights.map(formatDifference)).toEqual([
      'service tcp/192.0.2.10:80: scheduler: here sh; there dh',
      `service tcp/192.0.2.10:80 real server ${A}:80: weight: here 1; there 3`,
    ]);
  });
});

describe('parseFlowTable', () => {
  test.each<[string, unknown]>([
    ['not an object', 'hello'],
    ['another version', { version: 2, sysctls: { sloppy_tcp: '1', sloppy_sctp: null }, services: [] }],
    ['no sysctls', { version: 1, services: [] }],
    [
      'a weight as text',
      {
        version: 1,
        sysctls: { sloppy_tcp: '1', sloppy_sctp: null },
        services: [
          {
            key: 'k',
            scheduler: 'mh',
            flags: [],
            one_packet: false,
            realservers: [{ key: 'r', forward: 'dr', weight: '1', upper_threshold: 0, lower_threshold: 0 }],
          },
        ],
      },
    ],
  ])('%s: PEER_ANSWER naming where it came from', (_name, v) => {
    expect(() => parseFlowTable(v, 'http://192.0.2.2:9588/v1/table')).toThrow(
      expect.objectContaining({
        code: 'PEER_ANSWER',
        message: expect.stringContaining('http://192.0.2.2:9588/v1/table'),
      }),
    );
  });
});
