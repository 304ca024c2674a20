import { describe, expect, test } from 'vitest';
import { applyPlan } from '../../../src/apply/apply.js';
import { LvsdError } from '../../../src/errors.js';
import type { IpvsOp, OpResult } from '../../../src/model/ops.js';
import type { DesiredService, DesiredState, RealServer, RealServerAttrs } from '../../../src/model/types.js';
import { diff } from '../../../src/plan/diff.js';
import { FakeIpvs } from '../fake-ipvs.js';

function rs(address: string, port: number, o: Partial<RealServerAttrs> = {}): RealServer {
  return { family: 'ipv4', address, port, forward: 'dr', weight: 1, upperThreshold: 0, lowerThreshold: 0, ...o };
}

function svc(port: number, realservers: RealServer[], scheduler = 'wlc'): DesiredService {
  return {
    name: `web${port}`,
    family: 'ipv4',
    protocol: 'tcp',
    address: '192.0.2.1',
    port,
    scheduler,
    flags: [],
    onePacket: false,
    realservers,
  };
}

const R1 = '198.51.100.1';
const R2 = '198.51.100.2';

/** Live: :80 with R1, R2 and :53 to be deleted. Desired: timeouts, :80 edited + reweighted, :443 new. */
function scenario(over: { s443Scheduler?: string; r1?: Partial<RealServerAttrs>; s80Scheduler?: string } = {}) {
  const fake = new FakeIpvs({
    unknownSchedulers: ['twos'],
    table: { services: [svc(80, [rs(R1, 80), rs(R2, 80)]), svc(53, [rs(R1, 53)])] },
  });
  const desired: DesiredState = {
    ignore: [],
    timeouts: { tcp: 600 },
    services: [
      svc(
        80,
        [rs(R1, 80, { weight: 2, ...over.r1 }), rs(R2, 80, { weight: 3 }), rs('198.51.100.3', 80)],
        over.s80Scheduler ?? 'rr',
      ),
      svc(443, [rs(R1, 443), rs(R2, 443)], over.s443Scheduler ?? 'wlc'),
    ],
  };
  return { fake, desired };
}

const describeOp = (op: IpvsOp) =>
  'realserver' in op
    ? `${op.op} ${op.service.port} ${op.realserver.address}`
    : 'service' in op
      ? `${op.op} ${op.service.port}`
      : op.op;

describe('applyPlan', () => {
  test('sends three batches: services, real servers, service deletes; then the table matches', async () => {
    const { fake, desired } = scenario();
    const plan = diff(desired, await fake.readTable());
    const result = await applyPlan(plan, fake);
    expect(result).toMatchObject({ ok: true, applied: plan.length, failed: 0, skipped: 0 });
    expect(fake.executeCalls).toBe(3);
    expect(fake.sent.map(describeOp)).toEqual([
      'set-timeouts',
      'edit-service 80',
      'add-service 443',
      `add-realserver 80 198.51.100.3`,
      // A service's new real servers go in reverse canonical order (plan/order.ts): the kernel lists R1 first.
      `add-realserver 443 ${R2}`,
      `add-realserver 443 ${R1}`,
      `edit-realserver 80 ${R1}`,
      `edit-realserver 80 ${R2}`,
      'delete-service 53',
    ]);
    expect(diff(desired, await fake.readTable())).toEqual([]);
  });

  test('a failed service add skips its real servers; everything else proceeds', async () => {
    const { fake, desired } = scenario({ s443Scheduler: 'twos' });
    const plan = diff(desired, await fake.readTable());
    const result = await applyPlan(plan, fake);

    expect(result).toMatchObject({ ok: false, failed: 1, skipped: 2, applied: plan.length - 3 });
    expect(result.results.map((r) => r.change)).toEqual(plan);
    const byOp = result.results.map(
      (r) => `${describeOp(r.change.op as IpvsOp)}: ${r.status}${'error' in r ? ' ' + r.error.code : ''}`,
    );
    expect(byOp).toEqual([
      'set-timeouts: ok',
      'edit-service 80: ok',
      'add-service 443: failed IPVS_INVALID',
      `add-realserver 80 198.51.100.3: ok`,
      `add-realserver 443 ${R2}: skipped APPLY_SKIPPED`,
      `add-realserver 443 ${R1}: skipped APPLY_SKIPPED`,
      `edit-realserver 80 ${R1}: ok`,
      `edit-realserver 80 ${R2}: ok`,
      'delete-service 53: ok',
    ]);
    const skipped = result.results[4]!;
    expect(skipped.status).toBe('skipped');
    if (skipped.status !== 'skipped') return;
    expect(skipped.error.message).toContain('tcp/192.0.2.1:443');
    expect(skipped.error.message).toContain('IPVS_INVALID');
    expect(skipped.error.details).toMatchObject({
      service: 'tcp/192.0.2.1:443',
      realserver: `${R2}:443`, // the first sent (reverse canonical order)
      causeCode: 'IPVS_INVALID',
    });
    // The skipped ops never reached the kernel.
    expect(fake.sent.filter((op) => op.op === 'add-realserver' && op.service.port === 443)).toEqual([]);
  });

  test('a failed real server edit does not stop the others', async () => {
    const { fake, desired } = scenario({ r1: { upperThreshold: 10, lowerThreshold: 20 } });
    const plan = diff(desired, await fake.readTable());
    const result = await applyPlan(plan, fake);
    const failed = result.results.filter((r) => r.status !== 'ok');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      status: 'failed',
      change: { action: 'edit', realserver: `${R1}:80` },
      error: { code: 'IPVS_INVALID' },
    });
    expect(result).toMatchObject({ ok: false, failed: 1, skipped: 0, applied: plan.length - 1 });
    expect(fake.opsExecuted).toBe(plan.length);
  });

  test('a failed service edit does not skip its real servers: the service is still there', async () => {
    const { fake, desired } = scenario({ s80Scheduler: 'twos' });
    const result = await applyPlan(diff(desired, await fake.readTable()), fake);
    expect(result.results.filter((r) => r.status !== 'ok').map((r) => r.change.op.op)).toEqual(['edit-service']);
  });

  test('an empty plan sends nothing', async () => {
    const fake = new FakeIpvs();
    expect(await applyPlan([], fake)).toEqual({ ok: true, results: [], applied: 0, failed: 0, skipped: 0 });
    expect(fake.executeCalls).toBe(0);
  });

  test('a phase with nothing to send is not sent', async () => {
    const fake = new FakeIpvs({ table: { services: [svc(80, [rs(R1, 80)])] } });
    await applyPlan(
      diff({ ignore: [], services: [svc(80, [rs(R1, 80, { weight: 5 })])] }, await fake.readTable()),
      fake,
    );
    expect(fake.executeCalls).toBe(1);
  });

  test('a batch that cannot be sent fails its changes and skips the later phases', async () => {
    class Broken extends FakeIpvs {
      override async execute(ops: readonly IpvsOp[]): Promise<OpResult[]> {
        if (ops.some((op) => op.op === 'add-realserver')) throw new Error('socket closed');
        return super.execute(ops);
      }
    }
    const { desired } = scenario();
    const fake = new Broken({ table: { services: [svc(53, [])] } });
    const result = await applyPlan(diff(desired, await fake.readTable()), fake);
    const statuses = result.results.map(
      (r) => `${r.change.op.op} ${r.status}${'error' in r ? ' ' + r.error.code : ''}`,
    );
    expect(statuses).toEqual([
      'set-timeouts ok',
      'add-service ok',
      'add-service ok',
      ...Array(5).fill('add-realserver failed IPVS_IO'),
      'delete-service skipped APPLY_SKIPPED',
    ]);
    expect((await fake.readTable()).services.map((s) => s.port)).toEqual([53, 80, 443]);
  });

  test('an LvsdError thrown by execute is reported as is', async () => {
    const fake = new FakeIpvs();
    const boom = new LvsdError('IPVS_PERMISSION', 'needs CAP_NET_ADMIN');
    fake.execute = async () => {
      throw boom;
    };
    const result = await applyPlan(diff({ ignore: [], services: [svc(80, [])] }, await fake.readTable()), fake);
    expect(result.results[0]).toMatchObject({ status: 'failed', error: boom });
  });

  test('a missing result from the client is a protocol error, not a success', async () => {
    const fake = new FakeIpvs();
    fake.execute = async () => [];
    const result = await applyPlan(diff({ ignore: [], services: [svc(80, [])] }, await fake.readTable()), fake);
    expect(result.results[0]).toMatchObject({ status: 'failed', error: { code: 'IPVS_PROTOCOL' } });
  });
});

describe('FakeIpvs keeps the kernel rules', () => {
  const id = { family: 'ipv4' as const, protocol: 'tcp' as const, address: '192.0.2.1', port: 80 };
  const service = { ...id, scheduler: 'wlc', flags: [], onePacket: false };
  const base: DesiredService = { ...service, name: 'web', realservers: [rs(R1, 80)] };

  test.each<[string, IpvsOp, string | undefined]>([
    ['add of an existing service', { op: 'add-service', service }, 'IPVS_EXISTS'],
    ['edit of a missing service', { op: 'edit-service', service: { ...service, port: 81 } }, 'IPVS_NOT_FOUND'],
    ['delete of a missing service', { op: 'delete-service', service: { ...id, port: 81 } }, 'IPVS_NOT_FOUND'],
    [
      'unknown scheduler on add',
      { op: 'add-service', service: { ...service, port: 81, scheduler: 'twos' } },
      'IPVS_INVALID',
    ],
    ['unknown scheduler on edit', { op: 'edit-service', service: { ...service, scheduler: 'twos' } }, 'IPVS_INVALID'],
    ['add of an existing real server', { op: 'add-realserver', service: id, realserver: rs(R1, 80) }, 'IPVS_EXISTS'],
    [
      'add to a missing service',
      { op: 'add-realserver', service: { ...id, port: 81 }, realserver: rs(R1, 80) },
      'IPVS_NOT_FOUND',
    ],
    ['edit of a missing real server', { op: 'edit-realserver', service: id, realserver: rs(R2, 80) }, 'IPVS_NOT_FOUND'],
    [
      'delete of a missing real server',
      { op: 'delete-realserver', service: id, realserver: rs(R2, 80) },
      'IPVS_NOT_FOUND',
    ],
    [
      'lower above upper',
      { op: 'edit-realserver', service: id, realserver: rs(R1, 80, { upperThreshold: 5, lowerThreshold: 6 }) },
      'IPVS_INVALID',
    ],
    [
      'lower with no upper',
      { op: 'edit-realserver', service: id, realserver: rs(R1, 80, { lowerThreshold: 6 }) },
      undefined,
    ],
    ['a known scheduler on edit', { op: 'edit-service', service: { ...service, scheduler: 'sh' } }, undefined],
  ])('%s', async (_what, op, code) => {
    const fake = new FakeIpvs({ unknownSchedulers: ['twos'], table: { services: [base] } });
    const [r] = await fake.execute([op]);
    if (code === undefined) expect(r).toEqual({ ok: true });
    else expect(r).toMatchObject({ ok: false, error: { code } });
  });

  test('deleting a service takes its real servers; adding it again starts empty', async () => {
    const fake = new FakeIpvs({ table: { services: [base] } });
    const results = await fake.execute([
      { op: 'delete-service', service: id },
      { op: 'add-service', service },
    ]);
    expect(results).toEqual([{ ok: true }, { ok: true }]);
    expect(await fake.realServers(id)).toEqual([]);
    expect(fake.opsExecuted).toBe(2);
  });

  test('timeouts absent or 0 are kept', async () => {
    const fake = new FakeIpvs();
    await fake.execute([{ op: 'set-timeouts', timeouts: { tcp: 60, udp: 0 } }]);
    expect(await fake.timeouts()).toEqual({ tcp: 60, tcpFin: 120, udp: 300 });
  });
});
