import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { realServerKey } from '../../../src/model/keys.js';
import type { DesiredService, DesiredState, Family, LiveState, RealServer } from '../../../src/model/types.js';
import type { Plan } from '../../../src/plan/change.js';
import { diff } from '../../../src/plan/diff.js';
import { formatOrderDrift } from '../../../src/plan/format.js';
import { canonicalOrder, canonicalSortKey, orderDrift, readdForOrder } from '../../../src/plan/order.js';

function rs(text: string, weight = 1): RealServer {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(text)!;
  const family: Family = m[1]!.includes(':') ? 'ipv6' : 'ipv4';
  return { family, address: m[1]!, port: Number(m[2]), forward: 'dr', weight, upperThreshold: 0, lowerThreshold: 0 };
}

const keys = (l: readonly RealServer[]) => l.map(realServerKey);

function svc(scheduler: string, realservers: RealServer[]): DesiredService {
  const flags = scheduler === 'mh' ? (['mh-port'] as const) : [];
  return {
    name: 'web',
    family: 'ipv4',
    protocol: 'tcp',
    address: '192.0.2.10',
    port: 80,
    scheduler,
    flags: [...flags],
    onePacket: false,
    realservers,
  };
}

const want = (s: DesiredService[]): DesiredState => ({ ignore: [], services: s });
function live(s: DesiredService[]): LiveState {
  return {
    timeouts: { tcp: 900, tcpFin: 120, udp: 300 },
    services: s.map(({ name: _n, realservers, ...rest }) => ({
      ...rest,
      realservers: realservers.map((r) => ({
        ...r,
        activeConnections: 0,
        inactiveConnections: 0,
        persistentConnections: 0,
      })),
    })),
  };
}

/** A kernel's list of one service's real servers: adds go to the head, as ip_vs_ctl.c does. */
function runOnHeadInsertingList(start: readonly RealServer[], plan: Plan): RealServer[] {
  let list = [...start];
  for (const c of plan) {
    const op = c.op;
    if (op.op === 'add-realserver') {
      expect(list.some((r) => realServerKey(r) === realServerKey(op.realserver))).toBe(false);
      list.unshift(op.realserver);
    } else if (op.op === 'delete-realserver') {
      const before = list.length;
      list = list.filter((r) => realServerKey(r) !== realServerKey(op.realserver));
      expect(list.length).toBe(before - 1);
    } else if (op.op === 'edit-realserver') {
      list = list.map((r) => (realServerKey(r) === realServerKey(op.realserver) ? op.realserver : r));
    }
  }
  return list;
}

describe('canonical order', () => {
  test('IPv4 before IPv6, then address bytes (not text), then port', () => {
    const l = ['[2001:db8::1]:80', '198.51.100.10:80', '198.51.100.9:443', '198.51.100.9:80', '192.0.2.200:8080'];
    expect(keys(canonicalOrder(l.map((t) => rs(t))))).toEqual([
      '192.0.2.200:8080',
      '198.51.100.9:80',
      '198.51.100.9:443',
      '198.51.100.10:80',
      '[2001:db8::1]:80',
    ]);
  });

  test('from empty, the kernel lists the real servers canonically, whatever the file order', () => {
    const file = ['198.51.100.3:80', '198.51.100.1:80', '198.51.100.2:80'].map((t) => rs(t));
    const plan = diff(want([svc('rr', file)]), live([]));
    expect(keys(runOnHeadInsertingList([], plan))).toEqual(['198.51.100.1:80', '198.51.100.2:80', '198.51.100.3:80']);
  });
});

describe('readdForOrder: the fewest live real servers to delete and add again', () => {
  const A = '198.51.100.1:80';
  const B = '198.51.100.2:80';
  const C = '198.51.100.3:80';
  const D = '198.51.100.4:80';
  test.each<[string, string[], string[], string[]]>([
    ['canonical already', [A, B, C], [A, B, C], []],
    ['the last one came back: it went to the head', [A, B, C], [C, A, B], [A, B]],
    ['the first one came back: nothing to do', [A, B, C], [A, B, C], []],
    ['one out of place in the middle', [A, B, C], [B, A, C], [A]],
    ['reversed', [A, B, C, D], [D, C, B, A], [A, B, C]],
    ['a new one that sorts first: the plain add puts it right', [A, B, C], [B, C], []],
    ['a new one that sorts last: every live one goes again', [A, B, C], [A, B], [A, B]],
    ['a new one in the middle', [A, B, C, D], [A, B, D], [A, B]],
    ['live ones that leave do not count', [A, C], [C, B, A], [A]],
    ['an empty kernel list', [A, B], [], []],
  ])('%s', (_name, wanted, had, readd) => {
    expect(
      keys(
        readdForOrder(
          wanted.map((t) => rs(t)),
          had.map((t) => rs(t)),
        ),
      ),
    ).toEqual(readd);
  });
});

describe('diff with reorder', () => {
  const file = ['198.51.100.1:80', '198.51.100.2:80', '198.51.100.3:80'].map((t, i) => rs(t, i + 1));
  const drifted = [file[2]!, file[0]!, file[1]!];

  test('an mh service out of order: delete and add again, highest first, weights kept, noted', () => {
    const plan = diff(want([svc('mh', file)]), live([svc('mh', drifted)]), { reorder: true });
    expect(plan.map((c) => `${c.op.op} ${c.realserver}`)).toEqual([
      'delete-realserver 198.51.100.2:80',
      'add-realserver 198.51.100.2:80',
      'delete-realserver 198.51.100.1:80',
      'add-realserver 198.51.100.1:80',
    ]);
    expect(plan.every((c) => c.note === 're-added for the canonical real-server order')).toBe(true);
    expect(runOnHeadInsertingList(drifted, plan)).toEqual(file);
  });

  test('without reorder the same tables need no change; rr and wlc are never reordered', () => {
    expect(diff(want([svc('mh', file)]), live([svc('mh', drifted)]))).toEqual([]);
    expect(diff(want([svc('rr', file)]), live([svc('rr', drifted)]), { reorder: true })).toEqual([]);
  });

  test('a pending weight change of a re-added real server rides on its add', () => {
    const changed = file.map((r, i) => (i === 0 ? { ...r, weight: 9 } : r));
    const plan = diff(want([svc('sh', changed)]), live([svc('sh', drifted)]), { reorder: true });
    expect(plan.filter((c) => c.action === 'edit')).toEqual([]);
    expect(runOnHeadInsertingList(drifted, plan)).toEqual(changed);
  });
});

describe('orderDrift', () => {
  const file = ['198.51.100.1:80', '198.51.100.2:80', '198.51.100.3:80'].map((t) => rs(t));
  test('names the service, the kernel order, the canonical order and what to re-add; only order-sensitive', () => {
    const drifted = [file[2]!, file[0]!, file[1]!];
    const d = orderDrift(want([svc('mh', file)]), live([svc('mh', drifted)]));
    expect(d).toEqual([
      {
        service: 'tcp/192.0.2.10:80',
        scheduler: 'mh',
        live: keys(drifted),
        canonical: keys(file),
        readd: ['198.51.100.1:80', '198.51.100.2:80'],
      },
    ]);
    expect(formatOrderDrift(d[0]!).join('\n')).toContain('lvsd apply --reorder deletes and adds again 2 real servers');
    expect(orderDrift(want([svc('wlc', file)]), live([svc('wlc', drifted)]))).toEqual([]);
    expect(orderDrift(want([svc('mh', file)]), live([svc('mh', file)]))).toEqual([]);
  });
});

const POOL = [
  '198.51.100.1:80',
  '198.51.100.2:80',
  '198.51.100.10:80',
  '198.51.100.2:8080',
  '203.0.113.7:80',
  '192.0.2.99:80',
].map((t) => rs(t));

/** A brute-force answer: the size of the smallest re-add set that ends canonical. */
function smallestReadd(wanted: RealServer[], had: RealServer[]): number {
  const wantedKeys = new Set(keys(wanted));
  const candidates = had.filter((r) => wantedKeys.has(realServerKey(r)));
  const target = keys(canonicalOrder(wanted));
  let best = Infinity;
  for (let mask = 0; mask < 1 << candidates.length; mask++) {
    const again = new Set(keys(candidates.filter((_, i) => (mask >> i) & 1)));
    const kept = keys(had).filter((k) => wantedKeys.has(k) && !again.has(k));
    const added = target.filter((k) => !kept.includes(k));
    if ([...added, ...kept].join() === target.join()) best = Math.min(best, again.size);
  }
  return best;
}

describe('properties', () => {
  test("canonicalOrder's fast IPv4 key sorts exactly like the byte-wise key", () => {
    const v4 = fc.ipV4().map((address) => ({ family: 'ipv4' as const, address }));
    const v6 = fc.constantFrom('2001:db8::1', '2001:db8::a:1', '2001:db8:0:1::', '::1').map((address) => ({
      family: 'ipv6' as const,
      address,
    }));
    const server = fc.tuple(fc.oneof(v4, v6), fc.integer({ min: 0, max: 65535 })).map(([a, port]) => ({ ...a, port }));
    fc.assert(
      fc.property(fc.array(server, { maxLength: 30 }), (servers) => {
        const bytewise = [...servers].sort((a, b) => {
          const [x, y] = [canonicalSortKey(a), canonicalSortKey(b)];
          return x < y ? -1 : x > y ? 1 : 0;
        });
        expect(canonicalOrder(servers).map(canonicalSortKey)).toEqual(bytewise.map(canonicalSortKey));
      }),
      { numRuns: 300 },
    );
  });

  const listArb = fc.shuffledSubarray(POOL).chain((l) => fc.shuffledSubarray(l, { minLength: l.length }));
  test('after the reorder plan, a head-inserting kernel lists the wanted real servers canonically, with the fewest re-adds', () => {
    fc.assert(
      fc.property(listArb, listArb, fc.constantFrom('mh', 'sh', 'dh'), (wanted, had, scheduler) => {
        const plan = diff(want([svc(scheduler, wanted)]), live([svc(scheduler, had)]), { reorder: true });
        expect(keys(runOnHeadInsertingList(had, plan))).toEqual(keys(canonicalOrder(wanted)));
        const readds = plan.filter((c) => c.action === 'delete' && c.note !== undefined).length;
        expect(readds).toBe(smallestReadd(wanted, had));
        expect(readds).toBe(readdForOrder(wanted, had).length);
        // Drift is reported exactly when a plain plan would not end canonical.
        const plain = runOnHeadInsertingList(had, diff(want([svc(scheduler, wanted)]), live([svc(scheduler, had)])));
        const canonical = keys(plain).join() === keys(canonicalOrder(wanted)).join();
        expect(orderDrift(want([svc(scheduler, wanted)]), live([svc(scheduler, had)])).length === 0).toBe(canonical);
      }),
      { numRuns: 400 },
    );
  });
});
