import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { Metrics } from '../../../src/daemon/metrics.js';
import { SYNC_WARMUP_MS } from '../../../src/daemon/track-policy.js';
import { VrrpFollower } from '../../../src/daemon/vrrp.js';
import { HeldAddresses } from '../../../src/host/held-addresses.js';
import { createLogger } from '../../../src/log.js';
import { lines, stateOf } from '../config/helpers.js';

const RS = 'tcp/198.51.100.200:80 203.0.113.11:80';

async function setup(opts: { sync?: boolean } = {}) {
  let clock = 1_000_000;
  const dir = await mkdtemp(join(tmpdir(), 'lvsd-vrrp-'));
  const path = join(dir, 'track');
  const records: Record<string, unknown>[] = [];
  const log = createLogger({
    level: 'debug',
    pretty: false,
    stream: { write: (l: string) => records.push(JSON.parse(l) as Record<string, unknown>) },
  });
  const metrics = new Metrics();
  const health = new Map<string, boolean>([[RS, true]]);
  const held = new HeldAddresses();
  held.replace([]);
  let notify: ((h: HeldAddresses) => void) | undefined;
  let publishes = 0;
  const follower = new VrrpFollower({
    log,
    metrics,
    health: () => health,
    watch: (onChange) => {
      notify = onChange;
      return Promise.resolve({ held, close: () => undefined });
    },
    publish: () => publishes++,
    now: () => clock,
  });
  const desired = stateOf(
    lines(
      'version: 1',
      'director:',
      `  vrrp: { track_file: ${path} }`,
      ...(opts.sync ? ['  sync: { interface: eth0, id: 7 }'] : []),
      'services:',
      '  - { vip: 198.51.100.200, port: 80, check: { type: tcp }, realservers: [203.0.113.11] }',
    ),
  );
  const settle = () => new Promise((r) => setTimeout(r, 20));
  const file = () => readFile(path, 'utf8');
  const events = (e: string) => records.filter((r) => r['event'] === e);
  const advance = (ms: number) => (clock += ms);
  return {
    advance,
    follower,
    desired,
    health,
    held,
    notify: () => notify!(held),
    settle,
    file,
    path,
    events,
    metrics,
    publishes: () => publishes,
  };
}

describe('VrrpFollower', () => {
  test('writes nothing before the first reconcile, then 0; -253 when the real servers go; back to 0', async () => {
    const t = await setup();
    t.follower.configure(t.desired);
    t.follower.healthChanged();
    await t.settle();
    await expect(t.file()).rejects.toThrow();
    t.follower.reconciled({ trigger: 'start', result: 'ok', durationMs: 1, changes: 1, failures: 0 });
    await t.settle();
    expect(await t.file()).toBe('0\n');
    t.health.set(RS, false);
    t.follower.healthChanged();
    t.follower.healthChanged();
    await t.settle();
    expect(await t.file()).toBe('-253\n');
    t.health.set(RS, true);
    t.follower.healthChanged();
    await t.settle();
    expect(await t.file()).toBe('0\n');
    // Each transition logged once.
    expect(t.events('vrrp_track').map((r) => r['state'])).toEqual(['ok', 'cannot_serve', 'ok']);
  });

  test('a failed reconcile makes it -253; a skipped one or an invalid config changes nothing', async () => {
    const t = await setup();
    t.follower.configure(t.desired);
    t.follower.reconciled({ trigger: 'start', result: 'failed', durationMs: 1, changes: 0, failures: 1, reason: 'x' });
    await t.settle();
    expect(await t.file()).toBe('-253\n');
    t.follower.reconciled({ trigger: 'file', result: 'invalid_config', durationMs: 1, changes: 0, failures: 0 });
    t.follower.reconciled({ trigger: 'file', result: 'skipped', durationMs: 1, changes: 0, failures: 0 });
    await t.settle();
    expect(await t.file()).toBe('-253\n');
    t.follower.reconciled({ trigger: 'retry', result: 'ok', durationMs: 1, changes: 1, failures: 0 });
    await t.settle();
    expect(await t.file()).toBe('0\n');
  });

  test('puts right a file someone else changed, at the next evaluation; stop writes -100', async () => {
    const t = await setup();
    t.follower.configure(t.desired);
    t.follower.reconciled({ trigger: 'start', result: 'ok', durationMs: 1, changes: 1, failures: 0 });
    await t.settle();
    await writeFile(t.path, '-253\n');
    t.follower.reconciled({ trigger: 'resync', result: 'ok', durationMs: 1, changes: 0, failures: 0 });
    await t.settle();
    expect(await t.file()).toBe('0\n');
    expect(t.events('vrrp_track')).toHaveLength(1);
    await t.follower.stop();
    expect(await t.file()).toBe('-100\n');
    expect(t.follower.status().track).toMatchObject({ value: -100, state: 'stopped' });
  });

  test('follows the held VIPs: log, status and lvsd_vip_held', async () => {
    const t = await setup();
    t.follower.configure(t.desired);
    await t.settle();
    expect(t.follower.status().vips).toMatchObject([{ vip: '198.51.100.200', held: false }]);
    t.held.apply({ kind: 'new', index: 2, address: '198.51.100.200' });
    t.notify();
    expect(t.follower.status().vips).toMatchObject([{ vip: '198.51.100.200', held: true }]);
    expect(await t.metrics.text()).toMatch(/lvsd_vip_held\{vip="198.51.100.200"\} 1/);
    expect(t.events('vip_held').map((r) => r['held'])).toEqual([false, true]);
    t.follower.configure(stateOf(lines('version: 1', 'director: { ip_forward: true }', 'services: []')));
    expect(t.follower.status()).toEqual({});
  });

  test('with a sync backup, the first seconds after start say -100 (warming), then 0', async () => {
    const t = await setup({ sync: true });
    t.follower.configure(t.desired);
    t.follower.reconciled({ trigger: 'start', result: 'ok', durationMs: 1, changes: 1, failures: 0 });
    await t.settle();
    expect(await t.file()).toBe('-100\n');
    t.advance(SYNC_WARMUP_MS - 1);
    t.follower.healthChanged();
    await t.settle();
    expect(await t.file()).toBe('-100\n');
    t.advance(1);
    t.follower.healthChanged();
    await t.settle();
    expect(await t.file()).toBe('0\n');
    expect(t.events('vrrp_track').map((r) => r['state'])).toEqual(['warming', 'ok']);
    await t.follower.stop();
  });
});
