import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, test, vi } from 'vitest';
import { applyPlan } from '../../../src/apply/apply.js';
import { lazyKernel } from '../../../src/apply/live.js';
import { loadConfig, loadConfigTexts, type LoadResult } from '../../../src/config/load.js';
import { Metrics } from '../../../src/daemon/metrics.js';
import { Picture, type OpOutcome } from '../../../src/daemon/picture.js';
import { Reconciler } from '../../../src/daemon/reconciler.js';
import { LvsdError } from '../../../src/errors.js';
import type { IpvsOp } from '../../../src/model/ops.js';
import { createLogger } from '../../../src/log.js';
import type { DesiredService, LiveRealServer, LiveService, LiveState, Service } from '../../../src/model/types.js';
import { diff } from '../../../src/plan/diff.js';
import { FakeIpvs } from '../fake-ipvs.js';

const rs = (address: string, weight = 1): LiveRealServer => ({
  family: 'ipv4',
  address,
  port: 80,
  forward: 'dr',
  weight,
  upperThreshold: 0,
  lowerThreshold: 0,
  activeConnections: 0,
  inactiveConnections: 0,
  persistentConnections: 0,
});
const svc = (port: number, realservers: LiveRealServer[], extra: Partial<Service> = {}): LiveService =>
  ({
    family: 'ipv4',
    protocol: 'tcp',
    address: '192.0.2.1',
    port,
    scheduler: 'rr',
    flags: [],
    onePacket: false,
    realservers,
    ...extra,
  }) as LiveService;
const named = (s: LiveService): DesiredService => ({ ...s, name: `s${s.port}` });

/** A table without counters, sorted, for comparing a picture with a read. */
function canonical(live: LiveState): unknown {
  const strip = ({
    stats: _s,
    activeConnections: _a,
    inactiveConnections: _i,
    persistentConnections: _p,
    ...r
  }: Record<string, unknown>) => r;
  return {
    timeouts: live.timeouts,
    services: live.services
      .map(({ stats: _s, realservers, ...s }) => ({
        ...s,
        realservers: realservers
          .map((r) => strip(r as unknown as Record<string, unknown>))
          .sort((a, b) => String(a['address']).localeCompare(String(b['address']))),
      }))
      .sort((a, b) => (a.port ?? 0) - (b.port ?? 0)),
  };
}

const ok = (op: IpvsOp): OpOutcome => ({ op, status: 'ok' });
const failed = (op: IpvsOp, code: LvsdError['code']): OpOutcome => ({
  op,
  status: 'failed',
  error: new LvsdError(code, 'x'),
});

describe('Picture', () => {
  test('a read without counters is taken as it is, and never changed by what the picture records later', () => {
    const deepFreeze = <T>(o: T): T => {
      if (o && typeof o === 'object') for (const v of Object.values(o)) deepFreeze(v);
      return Object.freeze(o);
    };
    const read: LiveState = deepFreeze({
      services: [svc(80, [rs('192.0.2.10'), rs('192.0.2.11', 3)]), svc(443, [rs('192.0.2.12')])],
      timeouts: { tcp: 900, tcpFin: 120, udp: 300 },
    });
    const copy = structuredClone(read);
    const p = new Picture();
    p.replace(read);
    expect(p.state()!.services[0]).toBe(read.services[0]);
    const s80 = svc(80, []);
    const stale = p.record([
      ok({ op: 'edit-realserver', service: s80, realserver: rs('192.0.2.11', 7) }),
      ok({ op: 'add-realserver', service: s80, realserver: rs('192.0.2.13') }),
      ok({ op: 'delete-realserver', service: svc(443, []), realserver: rs('192.0.2.12') }),
      ok({ op: 'edit-service', service: svc(443, [], { scheduler: 'wrr' }) }),
    ]);
    expect(stale).toBeUndefined();
    expect(read).toEqual(copy);
    const want = structuredClone(copy);
    want.services[0]!.realservers = [rs('192.0.2.10'), rs('192.0.2.11', 7), rs('192.0.2.13')];
    want.services[1] = svc(443, [], { scheduler: 'wrr' });
    expect(canonical(p.state()!)).toEqual(canonical(want));
  });

  test('a new picture is stale; a full read makes it the table, without counters', async () => {
    const p = new Picture();
    expect(p.stale).toBe('never read');
    expect(p.state()).toBeUndefined();
    const fake = new FakeIpvs({
      table: { services: [svc(80, [rs('192.0.2.10'), rs('192.0.2.11', 3)]), svc(443, [])] },
    });
    const live = await fake.readTable();
    live.services[0]!.realservers[0]!.stats = {
      connections: 5n,
      packetsIn: 0n,
      packetsOut: 0n,
      bytesIn: 0n,
      bytesOut: 0n,
      cps: 0n,
      ppsIn: 0n,
      ppsOut: 0n,
      bpsIn: 0n,
      bpsOut: 0n,
    };
    p.replace(live);
    expect(p.stale).toBeUndefined();
    expect(p.size).toEqual({ services: 2, realservers: 2 });
    const state = p.state()!;
    expect(canonical(state)).toEqual(canonical(await fake.readTable()));
    expect(state.services[0]!.realservers[0]).not.toHaveProperty('stats');
  });

  test('every kind of confirmed operation is applied', async () => {
    const p = new Picture();
    p.replace({
      services: [svc(80, [rs('192.0.2.10'), rs('192.0.2.11')])],
      timeouts: { tcp: 900, tcpFin: 120, udp: 300 },
    });
    const s80 = svc(80, []);
    const s443 = svc(443, []);
    expect(
      p.record([
        ok({ op: 'set-timeouts', timeouts: { tcp: 600, udp: 0 } }),
        ok({ op: 'add-service', service: s443 }),
        ok({
          op: 'edit-service',
          service: { ...s80, scheduler: 'wrr', persistence: { timeout: 60, netmask: '255.255.255.255' } },
        }),
        ok({ op: 'add-realserver', service: s443, realserver: rs('192.0.2.20') }),
        ok({ op: 'edit-realserver', service: s80, realserver: rs('192.0.2.10', 7) }),
        ok({ op: 'delete-realserver', service: s80, realserver: rs('192.0.2.11') }),
      ]),
    ).toBeUndefined();
    const state = p.state()!;
    expect(state.timeouts).toEqual({ tcp: 600, tcpFin: 120, udp: 300 });
    expect(canonical(state)).toEqual(
      canonical({
        timeouts: state.timeouts,
        services: [
          svc(80, [rs('192.0.2.10', 7)], {
            scheduler: 'wrr',
            persistence: { timeout: 60, netmask: '255.255.255.255' },
          }),
          svc(443, [rs('192.0.2.20')]),
        ],
      }),
    );
    p.record([ok({ op: 'delete-service', service: s80 })]);
    expect(p.state()!.services.map((s) => s.port)).toEqual([443]);
  });

  test('an edit-service keeps the real servers', () => {
    const p = new Picture();
    p.replace({ services: [svc(80, [rs('192.0.2.10')])], timeouts: { tcp: 900, tcpFin: 120, udp: 300 } });
    p.record([ok({ op: 'edit-service', service: { ...svc(80, []), scheduler: 'lc' } })]);
    expect(p.state()!.services[0]).toMatchObject({ scheduler: 'lc', realservers: [{ address: '192.0.2.10' }] });
  });

  test('IPVS_EXISTS and IPVS_NOT_FOUND contradict it: stale, with the reason', () => {
    for (const code of ['IPVS_EXISTS', 'IPVS_NOT_FOUND'] as const) {
      const p = new Picture();
      p.replace({ services: [svc(80, [])], timeouts: { tcp: 900, tcpFin: 120, udp: 300 } });
      expect(
        p.record([failed({ op: 'add-realserver', service: svc(80, []), realserver: rs('192.0.2.10') }, code)]),
      ).toMatch(code);
      expect(p.state()).toBeUndefined();
    }
  });

  test('refusals that leave the table as it was and unsent operations keep it accurate; unknown outcomes do not', () => {
    const op: IpvsOp = { op: 'add-service', service: svc(81, []) };
    for (const code of ['IPVS_INVALID', 'IPVS_PERMISSION'] as const) {
      const p = new Picture();
      p.replace({ services: [], timeouts: { tcp: 900, tcpFin: 120, udp: 300 } });
      expect(
        p.record([failed(op, code), { op, status: 'skipped', error: new LvsdError('APPLY_SKIPPED', 'x') }]),
      ).toBeUndefined();
      expect(p.state()!.services).toEqual([]);
    }
    for (const code of ['IPVS_IO', 'IPVS_PROTOCOL'] as const) {
      const p = new Picture();
      p.replace({ services: [], timeouts: { tcp: 900, tcpFin: 120, udp: 300 } });
      expect(p.record([failed(op, code)])).toMatch(/unknown/);
    }
  });

  test('an add the kernel took for a service the picture had, or a real server of a service it lacks, makes it stale', () => {
    const p = new Picture();
    p.replace({ services: [svc(80, [])], timeouts: { tcp: 900, tcpFin: 120, udp: 300 } });
    expect(p.record([ok({ op: 'add-service', service: svc(80, []) })])).toBeDefined();
    const q = new Picture();
    q.replace({ services: [], timeouts: { tcp: 900, tcpFin: 120, udp: 300 } });
    expect(
      q.record([ok({ op: 'delete-realserver', service: svc(80, []), realserver: rs('192.0.2.10') })]),
    ).toBeDefined();
  });

  test('property: after any plan applied to the fake kernel, the picture equals a fresh read', async () => {
    const addr = fc.constantFrom('192.0.2.10', '192.0.2.11', '192.0.2.12');
    const table = fc.uniqueArray(
      fc.record({
        port: fc.constantFrom(80, 81, 82, 83),
        scheduler: fc.constantFrom('rr', 'wrr', 'twos'),
        rs: fc.uniqueArray(fc.record({ a: addr, w: fc.integer({ min: 0, max: 3 }) }), {
          selector: (r) => r.a,
          maxLength: 3,
        }),
      }),
      { selector: (s) => s.port, maxLength: 4 },
    );
    const entries = (t: { port: number; scheduler: string; rs: { a: string; w: number }[] }[]) =>
      t.map((s) =>
        svc(
          s.port,
          s.rs.map((r) => rs(r.a, r.w)),
          { scheduler: s.scheduler },
        ),
      );
    await fc.assert(
      fc.asyncProperty(table, fc.array(table, { minLength: 1, maxLength: 4 }), async (start, steps) => {
        // 'twos' makes some service adds and edits fail as the kernel would (IPVS_INVALID).
        const fake = new FakeIpvs({
          unknownSchedulers: ['twos'],
          table: { services: entries(start).filter((s) => s.scheduler !== 'twos') },
        });
        const p = new Picture();
        p.replace(await fake.readTable());
        for (const step of steps) {
          const desired = { ignore: [], services: entries(step).map(named) };
          const result = await applyPlan(diff(desired, p.state()!), fake);
          expect(
            p.record(
              result.results.map((r) => ({
                op: r.change.op as IpvsOp,
                status: r.status,
                ...(r.status === 'ok' ? {} : { error: r.error }),
              })),
            ),
          ).toBeUndefined();
          expect(canonical(p.state()!)).toEqual(canonical(await fake.readTable()));
        }
      }),
      { numRuns: 200 },
    );
  });
});

const cfg = (weights: number[]) =>
  loadConfigTexts([
    {
      file: 'lvsd.yaml',
      text: `version: 1
services:
  - { vip: 192.0.2.1, port: 80, scheduler: rr, realservers: [${weights.map((w, i) => `{ address: 192.0.2.${10 + i}, weight: ${w} }`).join(', ')}] }
`,
    },
  ]);

function setup(load: () => Promise<LoadResult>) {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      cb();
    },
  });
  const client = new FakeIpvs();
  const reads = vi.spyOn(client, 'readTable');
  const kernel = lazyKernel({
    ipvs: async () => client,
    host: async () => {
      throw new Error('no host in these tests');
    },
  });
  const r = new Reconciler({
    load,
    kernel,
    log: createLogger({ level: 'debug', pretty: false, stream: { write: (l) => stream.write(l) } }),
    metrics: new Metrics(),
  });
  return { r, client, lines, reads };
}

describe('the reconciler with its picture', () => {
  test('a file change is planned against the picture: no read, one operation for one changed weight', async () => {
    let weights = [1, 1, 1];
    const { r, client, reads, lines } = setup(async () => cfg(weights));
    await r.trigger('start');
    expect(reads).toHaveBeenCalledTimes(1);
    const before = client.opsExecuted;
    weights = [1, 5, 1];
    expect(await r.trigger('file')).toMatchObject({ result: 'ok', changes: 1 });
    expect(reads).toHaveBeenCalledTimes(1);
    expect(client.sent.slice(before)).toEqual([
      expect.objectContaining({
        op: 'edit-realserver',
        realserver: expect.objectContaining({ address: '192.0.2.11', weight: 5 }),
      }),
    ]);
    expect(lines.filter((l) => l['event'] === 'change' && l['trigger'] === 'file')).toHaveLength(1);
  });

  test('start, SIGHUP and resync read the whole table', async () => {
    const { r, reads } = setup(async () => cfg([1]));
    await r.trigger('start');
    await r.trigger('signal');
    await r.trigger('resync');
    expect(reads).toHaveBeenCalledTimes(3);
  });

  test('a change made behind its back that the kernel contradicts: stale, a resync reads at once and repairs', async () => {
    let weights = [1, 1];
    const { r, client, reads, lines } = setup(async () => cfg(weights));
    await r.trigger('start');
    // Someone deletes a real server with ipvsadm; then the file changes that real server's weight.
    await client.execute([
      {
        op: 'delete-realserver',
        service: { family: 'ipv4', protocol: 'tcp', address: '192.0.2.1', port: 80 },
        realserver: rs('192.0.2.11'),
      },
    ]);
    weights = [1, 4];
    const s = await r.trigger('file');
    expect(s).toMatchObject({ result: 'failed', failures: 1 });
    expect(lines.find((l) => l['event'] === 'picture_stale')).toMatchObject({
      level: 'warn',
      reason: expect.stringMatching(/IPVS_NOT_FOUND/),
    });
    await r.idle();
    expect(reads).toHaveBeenCalledTimes(2);
    expect(r.last).toMatchObject({ trigger: 'resync', result: 'ok', changes: 1 });
    expect(client.snapshot()[0]!.realservers.map((x) => [x.address, x.weight])).toEqual([
      ['192.0.2.10', 1],
      ['192.0.2.11', 4],
    ]);
  });

  test('a drain in the config makes every reconcile read (drains need live connection counts)', async () => {
    let text =
      'version: 1\nservices:\n  - { vip: 192.0.2.1, port: 80, scheduler: rr, drain: 30s, realservers: [192.0.2.10] }\n';
    const { r, reads } = setup(async () => loadConfigTexts([{ file: 'lvsd.yaml', text }]));
    await r.trigger('start');
    text = text.replace('192.0.2.10]', '192.0.2.10, 192.0.2.11]');
    expect(await r.trigger('file')).toMatchObject({ result: 'ok', changes: 1 });
    expect(reads).toHaveBeenCalledTimes(2);
  });
});

describe('the reconciler at rest', () => {
  test('a resync parses the config again only when its files changed on disk', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvsd-picture-'));
    const file = join(dir, 'lvsd.yaml');
    const text = (w: number) =>
      `version: 1\nservices:\n  - { vip: 192.0.2.1, port: 80, scheduler: rr, realservers: [{ address: 192.0.2.10, weight: ${w} }] }\n`;
    writeFileSync(file, text(1));
    let loads = 0;
    const { r, client } = setup(async () => {
      loads++;
      return loadConfig(file);
    });
    await r.trigger('start');
    await r.trigger('resync');
    await r.trigger('resync');
    expect(loads).toBe(1);
    // Replaced the way editors do (a new inode), with no file event: the next resync sees it.
    writeFileSync(join(dir, 'tmp'), text(2));
    renameSync(join(dir, 'tmp'), file);
    expect(await r.trigger('resync')).toMatchObject({ result: 'ok', changes: 1 });
    expect(loads).toBe(2);
    expect(client.snapshot()[0]!.realservers[0]!.weight).toBe(2);
    // SIGHUP always parses again.
    await r.trigger('signal');
    expect(loads).toBe(3);
  });
});
