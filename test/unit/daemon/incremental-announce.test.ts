// The daemon under director.announce: a health verdict or a saved line for one VIP withdraws that
// VIP alone. Whether a VIP is announced follows all of its services, so such a config is planned
// over every service (today it also loads in full: the incremental loader does not take
// director.announce; the reconciler refuses a scoped plan for it as well, should that change).
import { describe, expect, test } from 'vitest';
import { lazyKernel } from '../../../src/apply/live.js';
import { IncrementalLoader } from '../../../src/config/incremental.js';
import { Metrics } from '../../../src/daemon/metrics.js';
import { Reconciler } from '../../../src/daemon/reconciler.js';
import type { HostClient } from '../../../src/host/client.js';
import { createLogger } from '../../../src/log.js';
import type { HostAddress, HostLink, LiveHost } from '../../../src/model/host.js';
import { healthKey } from '../../../src/model/keys.js';
import type { HostOp } from '../../../src/model/ops.js';
import type { HealthView } from '../../../src/plan/effective.js';
import { FakeIpvs } from '../fake-ipvs.js';

/** A host that keeps links, addresses and sysctls as the ops leave them. */
class FakeHost implements HostClient {
  readonly links_: HostLink[] = [{ name: 'lo', index: 1, up: true }];
  readonly addrs = new Map<string, HostAddress>();
  readonly sysctl = new Map<string, string>();
  links = async (): Promise<HostLink[]> => [...this.links_];
  addresses = async (): Promise<LiveHost['addresses']> => [...this.addrs.values()].map((a) => ({ ...a, owned: true }));
  sysctls = async (keys: readonly string[]) => new Map(keys.map((k) => [k, this.sysctl.get(k) ?? '0']));
  execute = async (ops: readonly HostOp[]) =>
    ops.map((o) => {
      if (o.op === 'add-dummy') this.links_.push({ name: o.name, index: this.links_.length + 1, up: true });
      if (o.op === 'add-address') this.addrs.set(`${o.address.interface} ${o.address.address}`, o.address);
      if (o.op === 'delete-address') this.addrs.delete(`${o.address.interface} ${o.address.address}`);
      if (o.op === 'set-sysctl') this.sysctl.set(o.key, o.value);
      return { ok: true as const };
    });
  close = (): void => undefined;
  announced = (): string[] => [...this.addrs.values()].map((a) => a.address).sort();
}

const FILE = '/etc/lvsd/lvsd.yaml';
const text = (weight: number) =>
  [
    'version: 1',
    'director: { announce: { interface: lvs0 } }',
    'services:',
    '  - vip: 198.51.100.1',
    '    port: 80',
    '    scheduler: mh',
    '    flags: [mh-port]',
    '    check: { type: tcp, interval: 5s }',
    '    realservers: [203.0.113.1]',
    '  - vip: 198.51.100.2',
    '    port: 80',
    '    scheduler: mh',
    '    flags: [mh-port]',
    '    check: { type: tcp, interval: 5s }',
    '    realservers:',
    '      - address: 203.0.113.2',
    `        weight: ${weight}`,
    '',
  ].join('\n');

describe('incremental reconcile under director.announce', () => {
  test('a health verdict or a saved line for one VIP withdraws that VIP alone', async () => {
    const host = new FakeHost();
    const health = new Map<string, boolean>();
    const rs1 = healthKey('tcp/198.51.100.1:80', '203.0.113.1:80');
    health.set(rs1, true).set(healthKey('tcp/198.51.100.2:80', '203.0.113.2:80'), true);
    let weight = 1;
    const loader = new IncrementalLoader(new Map());
    const r = new Reconciler({
      load: async () => loader.load([{ file: FILE, text: text(weight) }]),
      kernel: lazyKernel({ ipvs: async () => new FakeIpvs(), host: async () => host }),
      log: createLogger({ level: 'fatal', pretty: false }),
      metrics: new Metrics(),
      health: (): HealthView => health,
    });
    expect(await r.trigger('start')).toMatchObject({ result: 'ok' });
    expect(host.announced()).toEqual(['198.51.100.1', '198.51.100.2']);

    health.set(rs1, false);
    r.healthChanged('tcp/198.51.100.1:80');
    expect(await r.trigger('health')).toMatchObject({ result: 'ok' });
    expect(host.announced()).toEqual(['198.51.100.2']);

    weight = 0;
    expect(await r.trigger('file')).toMatchObject({ result: 'ok' });
    expect(host.announced()).toEqual([]);
    weight = 3;
    health.set(rs1, true);
    r.healthChanged('tcp/198.51.100.1:80');
    expect(await r.trigger('file')).toMatchObject({ result: 'ok' });
    expect(host.announced()).toEqual(['198.51.100.1', '198.51.100.2']);
  });
});
