import { describe, expect, test } from 'vitest';
import { loadConfigTexts } from '../../../src/config/load.js';
import type { Announce, DesiredHost, LiveHost } from '../../../src/model/host.js';
import type { DesiredService, Family, LiveService } from '../../../src/model/types.js';
import { announceDecisions, diffAnnounce, drainState } from '../../../src/plan/announce.js';
import { diffHost } from '../../../src/plan/host-diff.js';
import { planFor } from '../../../src/plan/plan.js';
import { applyPlan } from '../../../src/apply/apply.js';
import { LvsdError } from '../../../src/errors.js';
import type { IpvsClient } from '../../../src/ipvs/client.js';
import type { HostClient } from '../../../src/host/client.js';

const A = '198.51.100.200';
const B = '198.51.100.201';
const V6 = '2001:db8::200';

function svc(address: string, port: number, weights: number[], sorry?: number): DesiredService {
  const family: Family = address.includes(':') ? 'ipv6' : 'ipv4';
  const rs = (w: number, i: number) => ({
    family,
    address: `192.0.2.${11 + i}`,
    port,
    forward: 'dr' as const,
    weight: w,
    upperThreshold: 0,
    lowerThreshold: 0,
  });
  const s: DesiredService = {
    name: `${address}:${port}`,
    family,
    protocol: 'tcp',
    address,
    port,
    scheduler: 'mh',
    flags: ['mh-port'],
    onePacket: false,
    realservers: weights.map(rs),
  } as DesiredService;
  if (sorry !== undefined) {
    s.sorryServer = rs(1, sorry);
    s.realservers.push(rs(1, sorry));
  }
  return s;
}

const ann = (over: Partial<Announce> = {}): Announce => ({ interface: 'lvs0', when: 'healthy', drain: false, ...over });
const decided = (a: Announce, services: DesiredService[]) =>
  announceDecisions(a, services).map((d) => `${d.address.address}/${d.address.prefix} ${d.announce ? 'on' : d.reason}`);

describe('when/drain policy', () => {
  test.each([
    ['healthy: a VIP with a real server of weight > 0 is on', ann(), [svc(A, 80, [0, 1])], [`${A}/32 on`]],
    ['healthy: every real server at weight 0 withdraws', ann(), [svc(A, 80, [0, 0])], [`${A}/32 no real server up`]],
    ['healthy: no real server at all withdraws', ann(), [svc(A, 80, [])], [`${A}/32 no real server up`]],
    [
      'healthy: one service of the VIP up is enough; each VIP on its own',
      ann(),
      [svc(A, 80, [0]), svc(A, 443, [1]), svc(B, 80, [0]), svc(V6, 80, [2])],
      [`${A}/32 on`, `${B}/32 no real server up`, `${V6}/128 on`],
    ],
    [
      'healthy: a sorry server in (none up) does not count',
      ann(),
      [svc(A, 80, [0, 0], 2)],
      [`${A}/32 no real server up`],
    ],
    ['always: on with no real server up', ann({ when: 'always' }), [svc(A, 80, [0])], [`${A}/32 on`]],
    [
      'drain: every VIP withdrawn at once, whatever its health',
      ann({ drain: true, when: 'always' }),
      [svc(A, 80, [1]), svc(B, 80, [1])],
      [`${A}/32 drain`, `${B}/32 drain`],
    ],
  ])('%s', (_name, a, services, want) => {
    expect(decided(a, services)).toEqual(want);
  });

  test('fwmark services have no VIP to announce', () => {
    const fw = { ...svc(A, 80, [1]), address: undefined, port: undefined, protocol: undefined, fwmark: 7 };
    expect(announceDecisions(ann(), [fw as unknown as DesiredService])).toEqual([]);
  });
});

const links = [
  { name: 'lo', index: 1, up: true },
  { name: 'eth0', index: 2, up: true },
  { name: 'lvs0', index: 3, up: true },
];
const live = (over: Partial<LiveHost> = {}): LiveHost => ({ links, addresses: [], sysctls: new Map(), ...over });
const on = (address: string, owned = true, iface = 'lvs0') => ({
  interface: iface,
  address,
  prefix: address.includes(':') ? 128 : 32,
  family: address.includes(':') ? ('ipv6' as const) : ('ipv4' as const),
  owned,
});
const lines = (r: ReturnType<typeof diffAnnounce>) =>
  r.map((c) => `${c.phase}: ${c.action} ${c.kind} ${c.target}${c.note ? ` (${c.note})` : ''}`);

describe('announce diff', () => {
  test.each([
    [
      'interface missing: created (host phase), VIP announced after the services',
      [svc(A, 80, [1])],
      live({ links: links.slice(0, 2) }),
      ['host: add link lvs0', `announce: add announce lvs0 ${A}/32`],
    ],
    [
      'interface down: brought up',
      [svc(A, 80, [1])],
      live({ links: [...links.slice(0, 2), { name: 'lvs0', index: 3, up: false }], addresses: [on(A)] }),
      ['host: edit link lvs0'],
    ],
    ['announced already: nothing', [svc(A, 80, [1])], live({ addresses: [on(A)] }), []],
    [
      'health withdraws one VIP alone, first of all',
      [svc(A, 80, [0]), svc(B, 80, [1])],
      live({ addresses: [on(A), on(B)] }),
      [`withdraw: delete announce lvs0 ${A}/32 (withdrawn: no real server of its services is up)`],
    ],
    [
      "someone else's address on the interface is left alone",
      [svc(A, 80, [0])],
      live({ addresses: [on(A, false), on('192.0.2.99', false)] }),
      [],
    ],
    [
      "lvsd's address whose services are gone is withdrawn",
      [svc(B, 80, [1])],
      live({ addresses: [on(A), on(B)] }),
      [`withdraw: delete announce lvs0 ${A}/32 (withdrawn: no service has this VIP)`],
    ],
    [
      'the same VIP on another interface does not count as announced',
      [svc(A, 80, [1])],
      live({ addresses: [on(A, true, 'eth0')] }),
      [`announce: add announce lvs0 ${A}/32`],
    ],
  ])('%s', (_name, services, host, want) => {
    const a = ann();
    expect(lines(diffAnnounce(a, announceDecisions(a, services), host))).toEqual(want);
  });

  test('announce waits for its services: the change names them', () => {
    const a = ann();
    const [c] = diffAnnounce(a, announceDecisions(a, [svc(A, 80, [1]), svc(A, 443, [1])]), live());
    expect(c?.needs).toEqual([`tcp/${A}:80`, `tcp/${A}:443`]);
  });

  test('diffHost leaves lvsd addresses on the announce interface to the announce diff', () => {
    const host: DesiredHost = { addresses: [], sysctls: [], arpStrict: false, tunnel: false, announce: ann() };
    const changes = diffHost(host, live({ addresses: [on(A), on(B, true, 'eth0')] }), [svc(A, 80, [1])]);
    expect(changes.map((c) => `${c.phase} ${c.action} ${c.kind} ${c.target}`)).toEqual([
      `address-deletes delete address eth0 ${B}/32`,
    ]);
  });
});

describe('plan order and health through planFor', () => {
  const config = (extra = '') =>
    loadConfigTexts([
      {
        file: 'f.yaml',
        text: `version: 1
director: { announce: { interface: lvs0${extra} } }
services:
  - vip: ${A}
    port: 80
    scheduler: mh
    flags: [mh-port]
    check: { type: tcp }
    realservers: [192.0.2.11, 192.0.2.12]
`,
      },
    ]);
  const state = (extra = '') => {
    const r = config(extra);
    if (!r.ok) throw new Error(r.errors.map(String).join('\n'));
    return r.state;
  };
  const EMPTY = { services: [], timeouts: { tcp: 0, tcpFin: 0, udp: 0 } };

  test('from nothing: sloppy_tcp and the interface first, then service, real servers, then the announce', () => {
    const { plan } = planFor({ desired: state(), live: EMPTY, host: live({ links: links.slice(0, 2) }), now: 0 });
    expect(plan.map((c) => `${c.phase} ${c.kind}`)).toEqual([
      'host link',
      'host sysctl',
      'services service',
      'realservers realserver',
      'realservers realserver',
      'announce announce',
    ]);
  });

  test('one-shot (no verdicts): configured weights decide; with verdicts all down, the VIP is withdrawn', () => {
    const host = live({ addresses: [on(A)], sysctls: new Map([['net/ipv4/vs/sloppy_tcp', '1']]) });
    const desired = state();
    const oneShot = planFor({ desired, live: EMPTY, host, now: 0 });
    expect(oneShot.announce?.map((d) => d.announce)).toEqual([true]);
    const down = new Map([
      [`tcp/${A}:80 192.0.2.11:80`, false],
      [`tcp/${A}:80 192.0.2.12:80`, false],
    ]);
    const checked = planFor({ desired, live: EMPTY, host, health: down, now: 0 });
    expect(checked.announce?.map((d) => d.reason)).toEqual(['no real server up']);
    expect(checked.plan[0]).toMatchObject({ phase: 'withdraw', kind: 'announce', action: 'delete' });
  });

  test('drain: true withdraws and keeps the services', () => {
    const host = live({ addresses: [on(A)], sysctls: new Map([['net/ipv4/vs/sloppy_tcp', '1']]) });
    const { plan } = planFor({ desired: state(', drain: true'), live: EMPTY, host, now: 0 });
    expect(plan.map((c) => `${c.phase} ${c.action} ${c.kind}`)).toEqual([
      'withdraw delete announce',
      'services add service',
      'realservers add realserver',
      'realservers add realserver',
    ]);
  });

  test('apply skips an announce whose service could not be added', async () => {
    const host = live({ sysctls: new Map([['net/ipv4/vs/sloppy_tcp', '0']]) });
    const { plan } = planFor({ desired: state(), live: EMPTY, host, now: 0 });
    const ipvs = {
      execute: (ops: { op: string }[]) =>
        Promise.resolve(
          ops.map((o) =>
            o.op === 'add-service'
              ? { ok: false as const, error: new LvsdError('IPVS_INVALID', 'no') }
              : { ok: true as const },
          ),
        ),
    } as unknown as IpvsClient;
    const sent: string[] = [];
    const hostClient = {
      execute: (ops: { op: string }[]) => {
        sent.push(...ops.map((o) => o.op));
        return Promise.resolve(ops.map(() => ({ ok: true as const })));
      },
    } as unknown as HostClient;
    const r = await applyPlan(plan, ipvs, hostClient);
    const announce = r.results.find((x) => x.change.kind === 'announce');
    expect(announce).toMatchObject({ status: 'skipped', error: { code: 'APPLY_SKIPPED' } });
    expect(sent).toEqual(['set-sysctl']);
  });
});

describe('drain state from the kernel rate estimate', () => {
  const live1 = (address: string, cps: bigint): LiveService =>
    ({ ...svc(address, 80, []), stats: { cps } }) as unknown as LiveService;
  test.each([
    ['new connections still arrive', [live1(A, 3n), live1(B, 0n)], { state: 'draining', cps: 3 }],
    ['none for a while (rate decayed to 0)', [live1(A, 0n)], { state: 'drained', cps: 0 }],
    ['other VIPs do not count', [live1('198.51.100.9', 5n)], { state: 'drained', cps: 0 }],
  ])('%s', (_n, services, want) => {
    expect(drainState([A, B], services)).toEqual(want);
  });
});
