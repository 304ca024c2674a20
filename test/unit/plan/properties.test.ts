import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { applyPlan } from '../../../src/apply/apply.js';
import { isIgnored, realServerKey, serviceKey } from '../../../src/model/keys.js';
import type {
  DesiredService,
  DesiredState,
  Family,
  IgnoreRule,
  LiveService,
  LiveState,
  Persistence,
  RealServer,
  SchedFlag,
  ServiceEntry,
  ServiceId,
  Timeouts,
  TunnelSettings,
} from '../../../src/model/types.js';
import { phaseIndex, type Plan } from '../../../src/plan/change.js';
import { diff } from '../../../src/plan/diff.js';
import { FakeIpvs } from '../fake-ipvs.js';

// Small pools, so that desired and live overlap, collide and differ by one field.
const VIPS: Record<Family, string[]> = {
  ipv4: ['192.0.2.1', '192.0.2.2', '198.51.100.1'],
  ipv6: ['2001:db8::1', '2001:db8::2'],
};
const RIPS: Record<Family, string[]> = {
  ipv4: ['203.0.113.1', '203.0.113.2', '203.0.113.3'],
  ipv6: ['2001:db8:1::1', '2001:db8:1::2'],
};
const NETMASKS: Record<Family, string[]> = { ipv4: ['255.255.255.255', '255.255.255.0'], ipv6: ['128', '64'] };
const FLAGS: Record<string, SchedFlag[]> = {
  sh: ['sh-fallback', 'sh-port'],
  mh: ['mh-fallback', 'mh-port'],
  rr: [],
  wlc: [],
};

const IGNORE_POOL: IgnoreRule[] = [
  { vip: { network: '192.0.2.2', length: 32, family: 'ipv4' } },
  { vip: { network: '198.51.100.0', length: 24, family: 'ipv4' } },
  { vip: { network: '2001:db8::2', length: 128, family: 'ipv6' } },
  { fwmark: 2 },
];

const familyArb = fc.constantFrom<Family>('ipv4', 'ipv6');

const idArb: fc.Arbitrary<ServiceId> = fc.oneof(
  familyArb.chain((family) =>
    fc.record({
      family: fc.constant(family),
      protocol: fc.constantFrom('tcp' as const, 'udp' as const),
      address: fc.constantFrom(...VIPS[family]),
      port: fc.constantFrom(80, 443),
    }),
  ),
  fc.record({ family: familyArb, fwmark: fc.integer({ min: 1, max: 3 }) }),
);

const tunnelArb: fc.Arbitrary<TunnelSettings> = fc
  .constantFrom('ipip' as const, 'gue' as const, 'gre' as const)
  .chain((type) =>
    fc.record({
      type: fc.constant(type),
      port: type === 'gue' ? fc.constantFrom(6080, 6081) : fc.constant(0),
      checksum: fc.constantFrom('none' as const, 'csum' as const),
    }),
  );

function realServerArb(family: Family): fc.Arbitrary<RealServer> {
  return fc
    .record({
      address: fc.constantFrom(...RIPS[family]),
      port: fc.constantFrom(80, 8080),
      forward: fc.constantFrom('dr' as const, 'nat' as const, 'tunnel' as const),
      tunnel: tunnelArb,
      weight: fc.integer({ min: 0, max: 3 }),
      upperThreshold: fc.constantFrom(0, 10, 20),
      lower: fc.constantFrom(0, 5, 10),
    })
    .map(({ tunnel, lower, ...r }) => ({
      family,
      ...r,
      // What the kernel accepts: lower <= upper unless upper is 0 (no limit).
      lowerThreshold: r.upperThreshold === 0 ? lower : Math.min(lower, r.upperThreshold),
      ...(r.forward === 'tunnel' ? { tunnel } : {}),
    }));
}

function serviceArbFor(id: ServiceId): fc.Arbitrary<ServiceEntry> {
  return fc
    .record({
      scheduler: fc.constantFrom('rr', 'wlc', 'sh', 'mh'),
      flagBits: fc.subarray([0, 1]),
      persistence: fc.option(
        fc.record({ timeout: fc.constantFrom(300, 600), netmask: fc.constantFrom(...NETMASKS[id.family]) }),
        { nil: undefined },
      ),
      onePacket: fc.boolean(),
      pe: fc.option(fc.constant('sip'), { nil: undefined }),
      realservers: fc.uniqueArray(realServerArb(id.family), { selector: realServerKey, maxLength: 4 }),
    })
    .map(({ flagBits, persistence, pe, onePacket, ...rest }): ServiceEntry => ({
      ...id,
      ...rest,
      flags: flagBits.map((i) => FLAGS[rest.scheduler]![i]).filter((f): f is SchedFlag => f !== undefined),
      onePacket: onePacket && id.protocol === 'udp',
      ...(persistence ? { persistence: persistence as Persistence } : {}),
      ...(persistence && pe ? { pe } : {}),
    }));
}

const serviceArb: fc.Arbitrary<ServiceEntry> = idArb.chain(serviceArbFor);

const tableArb = fc.uniqueArray(serviceArb, { selector: serviceKey, maxLength: 7 });

const liveTimeoutsArb: fc.Arbitrary<Timeouts> = fc.record({
  tcp: fc.constantFrom(600, 900),
  tcpFin: fc.constantFrom(60, 120),
  udp: fc.constantFrom(30, 300),
});

const desiredArb: fc.Arbitrary<DesiredState> = fc
  .record({
    services: fc.oneof({ arbitrary: tableArb, weight: 6 }, { arbitrary: fc.constant(undefined), weight: 1 }),
    ignore: fc.subarray(IGNORE_POOL),
    timeouts: fc.option(
      fc.record(
        { tcp: fc.constantFrom(600, 900), tcpFin: fc.constantFrom(60, 120), udp: fc.constantFrom(30, 300) },
        { requiredKeys: [] },
      ),
      { nil: undefined },
    ),
  })
  .map(({ services, ignore, timeouts }) => ({
    ignore,
    ...(services ? { services: services.map((s, i): DesiredService => ({ ...s, name: `s${i}` })) } : {}),
    ...(timeouts ? { timeouts } : {}),
  }));

function toLive(services: readonly ServiceEntry[], timeouts: Timeouts): LiveState {
  return {
    timeouts,
    services: services.map((s): LiveService => {
      const { realservers, ...rest } = s;
      delete (rest as Partial<DesiredService>).name;
      return {
        ...rest,
        realservers: realservers.map((r) => ({
          ...r,
          activeConnections: 1,
          inactiveConnections: 2,
          persistentConnections: 0,
        })),
      };
    }),
  };
}

function idOf(s: ServiceEntry): ServiceId {
  return s.fwmark !== undefined
    ? { family: s.family, fwmark: s.fwmark }
    : { family: s.family, protocol: s.protocol, address: s.address, port: s.port };
}

/** Replaces one group of fields of `a` with those of `b` (groups keep dependent fields together). */
function swapGroup<T extends object>(a: T, b: T, group: readonly (keyof T)[] | undefined): T {
  if (!group) return a;
  const out = { ...a };
  for (const k of group) {
    if (b[k] === undefined) delete out[k];
    else out[k] = b[k];
  }
  return out;
}

const SERVICE_GROUPS: (keyof ServiceEntry)[][] = [['scheduler', 'flags'], ['persistence', 'pe'], ['onePacket']];
const RS_GROUPS: (keyof RealServer)[][] = [['forward', 'tunnel'], ['weight'], ['upperThreshold', 'lowerThreshold']];

/**
 * The live twin of a desired service, usually one small step away: the same,
 * one attribute group changed, real servers kept, changed, dropped or added,
 * or the service gone.
 */
function twinArb(s: ServiceEntry): fc.Arbitrary<ServiceEntry | undefined> {
  const n = s.realservers.length;
  return fc
    .record({
      other: serviceArbFor(idOf(s)),
      step: fc.integer({ min: -1, max: SERVICE_GROUPS.length + 1 }),
      rsOthers: fc.array(realServerArb(s.family), { minLength: n, maxLength: n }),
      rsSteps: fc.array(fc.integer({ min: -1, max: RS_GROUPS.length + 2 }), { minLength: n, maxLength: n }),
      moreServers: fc.boolean(),
    })
    .map(({ other, step, rsOthers, rsSteps, moreServers }) => {
      if (step === -1) return undefined;
      const realservers: RealServer[] = [];
      s.realservers.forEach((r, i) => {
        const st = rsSteps[i]!;
        if (st === -1) return;
        const alt = { ...rsOthers[i]!, address: r.address, port: r.port };
        realservers.push(swapGroup(r, alt, RS_GROUPS[st]));
      });
      if (moreServers) {
        const have = new Set(realservers.map(realServerKey));
        realservers.push(...other.realservers.filter((r) => !have.has(realServerKey(r))));
      }
      return { ...swapGroup(s, other, SERVICE_GROUPS[step]), realservers };
    });
}

/** A desired state and a live table near it, plus live services it does not mention. */
const pairArb: fc.Arbitrary<[DesiredState, LiveState]> = desiredArb.chain((desired) =>
  fc
    .record({
      twins: fc.tuple(...(desired.services ?? []).map(twinArb)),
      extra: tableArb,
      timeouts: liveTimeoutsArb,
    })
    .map(({ twins, extra, timeouts }) => {
      const services = twins.filter((t): t is ServiceEntry => t !== undefined);
      const keys = new Set((desired.services ?? []).map(serviceKey));
      services.push(...extra.filter((e) => !keys.has(serviceKey(e))));
      return [desired, toLive(services, timeouts)];
    }),
);

// An independent model of "the table": canonical JSON per service, real servers sorted.
function attrs(s: ServiceEntry) {
  return {
    scheduler: s.scheduler,
    flags: s.flags,
    persistence: s.persistence ?? null,
    onePacket: s.onePacket,
    pe: s.pe ?? null,
  };
}
function rsAttrs(r: RealServer) {
  return {
    forward: r.forward,
    weight: r.weight,
    upper: r.upperThreshold,
    lower: r.lowerThreshold,
    tunnel: r.tunnel ?? null,
  };
}
function canon(services: readonly ServiceEntry[]): string[] {
  return services
    .map((s) => {
      const rs = s.realservers.map((r) => `${realServerKey(r)} ${JSON.stringify(rsAttrs(r))}`).sort();
      return `${serviceKey(s)} ${JSON.stringify(attrs(s))} [${rs.join('; ')}]`;
    })
    .sort();
}

/** How many kernel operations it takes, counted the slow, obvious way. */
function trueDifference(desired: DesiredState, live: LiveState): number {
  let n = 0;
  const t = desired.timeouts ?? {};
  if ((['tcp', 'tcpFin', 'udp'] as const).some((k) => t[k] !== undefined && t[k] !== live.timeouts[k])) n++;
  if (!desired.services) return n;
  const want = desired.services.filter((s) => !isIgnored(s, desired.ignore));
  const have = live.services.filter((s) => !isIgnored(s, desired.ignore));
  const same = <T>(a: T, b: T) => JSON.stringify(a) === JSON.stringify(b);
  for (const d of want) {
    const l = have.find((x) => serviceKey(x) === serviceKey(d));
    if (!l) {
      n += 1 + d.realservers.length;
      continue;
    }
    if (!same(attrs(d), attrs(l))) n++;
    for (const r of d.realservers) {
      const lr = l.realservers.find((x) => realServerKey(x) === realServerKey(r));
      if (!lr || !same(rsAttrs(r), rsAttrs(lr))) n++;
    }
    n += l.realservers.filter((x) => !d.realservers.some((r) => realServerKey(r) === realServerKey(x))).length;
  }
  n += have.filter((l) => !want.some((d) => serviceKey(d) === serviceKey(l))).length;
  return n;
}

const opService = (c: Plan[number]): ServiceId | undefined => ('service' in c.op ? c.op.service : undefined);

describe('plan properties', () => {
  test('applying the plan makes the table the desired one; ignored services stay as they were', async () => {
    await fc.assert(
      fc.asyncProperty(pairArb, async ([desired, live]) => {
        const fake = new FakeIpvs({ table: live });
        const plan = diff(desired, live);
        const result = await applyPlan(plan, fake);
        // Every op fits the kernel's state at the time it is sent: no EXISTS, no NOT_FOUND.
        expect(result.results.filter((r) => r.status !== 'ok')).toEqual([]);

        const after = await fake.readTable();
        const ignoredLive = live.services.filter((s) => isIgnored(s, desired.ignore));
        const expected = desired.services
          ? [...ignoredLive, ...desired.services.filter((s) => !isIgnored(s, desired.ignore))]
          : live.services;
        expect(canon(after.services)).toEqual(canon(expected));
        for (const k of ['tcp', 'tcpFin', 'udp'] as const) {
          expect(after.timeouts[k]).toBe(desired.timeouts?.[k] ?? live.timeouts[k]);
        }
        // A plan right after an apply is empty.
        expect(diff(desired, after)).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  test('plan(x, x) is empty', () => {
    fc.assert(
      fc.property(desiredArb, liveTimeoutsArb, (desired, timeouts) => {
        const live = toLive(desired.services ?? [], { ...timeouts, ...desired.timeouts });
        expect(diff(desired, live)).toEqual([]);
      }),
    );
  });

  test('the plan is in phase order, each change in the phase its kind and action call for', () => {
    const expected = { service: { add: 'services', edit: 'services', delete: 'service-deletes' } } as const;
    fc.assert(
      fc.property(pairArb, ([desired, live]) => {
        const plan = diff(desired, live);
        const order = plan.map((c) => phaseIndex(c.phase));
        expect(order).toEqual([...order].sort((a, b) => a - b));
        for (const c of plan) {
          if (c.kind === 'service') expect(c.phase).toBe(expected.service[c.action]);
          else expect(c.phase).toBe(c.kind === 'realserver' ? 'realservers' : 'services');
        }
      }),
    );
  });

  test('no change touches an ignored service', () => {
    fc.assert(
      fc.property(pairArb, ([desired, live]) => {
        for (const c of diff(desired, live)) {
          const id = opService(c);
          if (id) expect(isIgnored(id, desired.ignore)).toBe(false);
        }
      }),
    );
  });

  test('one operation per true difference', () => {
    fc.assert(
      fc.property(pairArb, ([desired, live]) => {
        expect(diff(desired, live)).toHaveLength(trueDifference(desired, live));
      }),
      { numRuns: 300 },
    );
  });
});
