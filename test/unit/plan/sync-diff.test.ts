import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { applyPlan } from '../../../src/apply/apply.js';
import type { DesiredService, DesiredState, LiveState, RealServer, SyncDaemon } from '../../../src/model/types.js';
import { formatPlan } from '../../../src/plan/format.js';
import { planAll } from '../../../src/plan/plan.js';
import { diffSync, RESTART_NOTE } from '../../../src/plan/sync-diff.js';
import { FakeIpvs } from '../fake-ipvs.js';

const base = { interface: 'eth1', id: 7, group: '224.0.0.81', port: 8848, ttl: 1 };
const master: SyncDaemon = { role: 'master', ...base, maxlen: 1472 };
/** A backup as the file asks for it: maxlen left to the kernel. */
const backup: SyncDaemon = { role: 'backup', ...base };
/** A backup as the kernel reports it, maxlen from a 9000-byte MTU. */
const backupLive: SyncDaemon = { ...backup, maxlen: 8972 };

const live = (syncDaemons: SyncDaemon[], services: LiveState['services'] = []): LiveState => ({
  services,
  timeouts: { tcp: 900, tcpFin: 120, udp: 300 },
  syncDaemons,
});
/** `services` null: the file has no services key. */
const want = (sync?: SyncDaemon[], services: DesiredService[] | null = []): DesiredState => ({
  ignore: [],
  ...(services ? { services } : {}),
  ...(sync ? { sync } : {}),
});

describe('sync daemons: plan', () => {
  test('role both on a host with none: two starts, in phase sync', () => {
    const plan = diffSync(want([master, backup]), live([]));
    expect(plan.map((c) => [c.action, c.target, c.phase, c.op.op])).toEqual([
      ['add', 'master eth1 id 7', 'sync', 'start-sync'],
      ['add', 'backup eth1 id 7', 'sync', 'start-sync'],
    ]);
    expect(formatPlan(plan)[0]).toBe(
      '+ sync daemon master eth1 id 7 interface=eth1 id=7 group=224.0.0.81 port=8848 ttl=1 maxlen=1472',
    );
  });

  test('the same daemons running: no change, whatever maxlen the kernel chose for a backup', () => {
    expect(diffSync(want([master, backup]), live([master, backupLive]))).toEqual([]);
  });

  test('a changed id is a stop then a start of each daemon, side by side, saying a gap follows', () => {
    const plan = diffSync(
      want([
        { ...master, id: 8 },
        { ...backup, id: 8 },
      ]),
      live([master, backupLive]),
    );
    expect(plan.map((c) => [c.action, c.target, c.phase])).toEqual([
      ['delete', 'master eth1 id 7', 'sync'],
      ['add', 'master eth1 id 8', 'sync'],
      ['delete', 'backup eth1 id 7', 'sync'],
      ['add', 'backup eth1 id 8', 'sync'],
    ]);
    expect(plan.every((c) => c.note === RESTART_NOTE)).toBe(true);
    expect(formatPlan(plan)[1]).toBe(`+ sync daemon master eth1 id 8 id 7 => 8 (${RESTART_NOTE})`);
  });

  test('a maxlen given for a backup is compared', () => {
    const plan = diffSync(want([{ ...backup, maxlen: 1400 }]), live([backupLive]));
    expect(plan.map((c) => c.fields)).toEqual([expect.anything(), { maxlen: { old: 8972, new: 1400 } }]);
  });

  test('role master where both run: the backup stops, early (phase sync-stops)', () => {
    const plan = diffSync(want([master]), live([master, backupLive]));
    expect(plan).toMatchObject([
      { action: 'delete', target: 'backup eth1 id 7', phase: 'sync-stops', note: 'director.sync asks for no backup' },
    ]);
  });

  test('a file with services but no director.sync stops running daemons; one without services leaves them', () => {
    const plan = diffSync(want(undefined, []), live([master, backupLive]));
    expect(plan.map((c) => [c.action, c.target, c.note])).toEqual([
      ['delete', 'master eth1 id 7', 'the file has no director.sync'],
      ['delete', 'backup eth1 id 7', 'the file has no director.sync'],
    ]);
    expect(diffSync(want(undefined, null), live([master]))).toEqual([]);
  });

  test('order in a whole plan: stops before the real server changes, starts after the service deletes', () => {
    const rs = (address: string, family: 'ipv4' | 'ipv6' = 'ipv4'): RealServer => ({
      family,
      address,
      port: 80,
      forward: 'tunnel',
      weight: 1,
      upperThreshold: 0,
      lowerThreshold: 0,
      tunnel: { type: 'ipip', port: 0, checksum: 'none' },
    });
    const svc: DesiredService = {
      name: 'web',
      family: 'ipv4',
      protocol: 'tcp',
      address: '192.0.2.1',
      port: 80,
      scheduler: 'wlc',
      flags: [],
      onePacket: false,
      realservers: [rs('198.51.100.1')],
    };
    const plan = planAll(want([master, backup], [svc]), live([]));
    expect(plan.map((c) => c.kind)).toEqual(['service', 'realserver', 'sync', 'sync']);
    const drop = planAll(want(undefined, [{ ...svc, realservers: [rs('2001:db8::1', 'ipv6')] }]), live([master]));
    expect(drop.map((c) => c.kind)).toEqual(['sync', 'service', 'realserver']);
  });
});

describe('sync daemons: apply against the kernel rules (fake)', () => {
  test('apply starts both, a second plan is empty, dropping sync stops them', async () => {
    const fake = new FakeIpvs();
    const r1 = await applyPlan(planAll(want([master, backup]), await fake.readTable()), fake);
    expect(r1.ok).toBe(true);
    expect(await fake.syncDaemons()).toEqual([master, { ...backup, maxlen: 1472 }]);
    expect(planAll(want([master, backup]), await fake.readTable())).toEqual([]);
    const r2 = await applyPlan(planAll(want(undefined, []), await fake.readTable()), fake);
    expect(r2.ok).toBe(true);
    expect(await fake.syncDaemons()).toEqual([]);
  });

  test('a restart leaves the new daemon running', async () => {
    const fake = new FakeIpvs({ syncDaemons: [master] });
    const r = await applyPlan(planAll(want([{ ...master, ttl: 2 }]), await fake.readTable()), fake);
    expect(r.ok).toBe(true);
    expect(fake.sent.map((o) => o.op)).toEqual(['stop-sync', 'start-sync']);
    expect(await fake.syncDaemons()).toEqual([{ ...master, ttl: 2 }]);
  });
});

describe('sync daemons: property', () => {
  /** A daemon as normalization writes it: no maxlen key rather than an undefined one. */
  const daemon = (role: 'master' | 'backup'): fc.Arbitrary<SyncDaemon> =>
    fc
      .record({
        interface: fc.constantFrom('eth1', 'sync0'),
        id: fc.integer({ min: 0, max: 255 }),
        group: fc.constantFrom('224.0.0.81', '239.1.2.3', 'ff02::81'),
        port: fc.constantFrom(8848, 9000),
        ttl: fc.integer({ min: 1, max: 3 }),
        maxlen: fc.option(fc.integer({ min: 1024, max: 1472 }), { nil: undefined }),
      })
      .map(({ maxlen, ...rest }) => (maxlen === undefined ? { role, ...rest } : { role, ...rest, maxlen }));
  const daemons = fc
    .tuple(fc.option(daemon('master'), { nil: undefined }), fc.option(daemon('backup'), { nil: undefined }))
    .map((pair) => pair.filter((d): d is SyncDaemon => d !== undefined));

  test('from any running daemons, one apply reaches the file’s and a second plan is empty', async () => {
    await fc.assert(
      fc.asyncProperty(daemons, daemons, fc.boolean(), async (running, wanted, hasSync) => {
        const fake = new FakeIpvs({ syncDaemons: running.map((d) => ({ ...d, maxlen: d.maxlen ?? 1472 })) });
        const desired = want(hasSync ? wanted : undefined);
        const r = await applyPlan(planAll(desired, await fake.readTable()), fake);
        expect(r.ok).toBe(true);
        expect(planAll(desired, await fake.readTable())).toEqual([]);
        const roles = (await fake.syncDaemons()).map((d) => d.role);
        expect(roles).toEqual((hasSync ? wanted : []).map((d) => d.role));
      }),
      { numRuns: 300 },
    );
  });
});
