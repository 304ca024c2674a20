import { describe, expect, test } from 'vitest';
import { Metrics } from '../../../src/daemon/metrics.js';
import { Picture } from '../../../src/daemon/picture.js';
import { LvsdError } from '../../../src/errors.js';
import type { LiveState, SyncDaemon } from '../../../src/model/types.js';
import { planAll } from '../../../src/plan/plan.js';

const base = { interface: 'eth1', id: 7, group: '224.0.0.81', port: 8848, ttl: 1 };
const master: SyncDaemon = { role: 'master', ...base, maxlen: 1472 };
const backup: SyncDaemon = { role: 'backup', ...base };
const table = (syncDaemons: SyncDaemon[]): LiveState => ({
  services: [],
  timeouts: { tcp: 900, tcpFin: 120, udp: 300 },
  syncDaemons,
});

describe('the daemon’s picture keeps the sync daemons', () => {
  test('from a read, and after starts and stops the kernel confirmed: the next plan is empty', () => {
    const p = new Picture();
    p.replace(table([master]));
    expect(p.state()?.syncDaemons).toEqual([master]);
    p.record([
      { op: { op: 'stop-sync', daemon: master }, status: 'ok' },
      { op: { op: 'start-sync', daemon: { ...master, id: 8 } }, status: 'ok' },
      { op: { op: 'start-sync', daemon: backup }, status: 'ok' },
    ]);
    expect(p.stale).toBeUndefined();
    const desired = { ignore: [], services: [], sync: [{ ...master, id: 8 }, backup] };
    expect(planAll(desired, p.state()!)).toEqual([]);
  });

  test('a start the kernel refused as existing (someone started one) makes the picture stale', () => {
    const p = new Picture();
    p.replace(table([]));
    p.record([
      { op: { op: 'start-sync', daemon: master }, status: 'failed', error: new LvsdError('IPVS_EXISTS', 'x') },
    ]);
    expect(p.stale).toMatch(/contradicted/);
  });

  test('a stop of a daemon the picture lacks, taken by the kernel, makes it stale', () => {
    const p = new Picture();
    p.replace(table([]));
    p.record([{ op: { op: 'stop-sync', daemon: master }, status: 'ok' }]);
    expect(p.stale).toMatch(/sync daemon/);
  });
});

describe('lvsd_sync_daemon_up', () => {
  test('1 for an expected daemon running with its settings, 0 when missing or running otherwise; none unread', async () => {
    const m = new Metrics();
    m.expectSync([master, backup]);
    const text = await m.text(
      table([
        { ...master, ttl: 2 },
        { ...backup, maxlen: 8972 },
      ]),
    );
    expect(text).toContain('lvsd_sync_daemon_up{role="master",interface="eth1",id="7"} 0');
    expect(text).toContain('lvsd_sync_daemon_up{role="backup",interface="eth1",id="7"} 1');
    const none = await m.text(table([]));
    expect(none).toContain('lvsd_sync_daemon_up{role="backup",interface="eth1",id="7"} 0');
    expect(await m.text()).not.toMatch(/lvsd_sync_daemon_up\{/);
  });

  test('no director.sync: no series', async () => {
    const m = new Metrics();
    expect(await m.text(table([master]))).not.toMatch(/lvsd_sync_daemon_up\{/);
  });
});
