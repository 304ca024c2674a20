import { describe, expect, test } from 'vitest';
import { importConfig } from '../../../src/config/import.js';
import { loadConfigTexts } from '../../../src/config/load.js';
import { printConfig } from '../../../src/config/print.js';
import { syncBlockOf } from '../../../src/config/sync.js';
import type { LiveState, SyncDaemon } from '../../../src/model/types.js';
import { planAll } from '../../../src/plan/plan.js';

const base = { interface: 'eth1', id: 7, group: '224.0.0.81', port: 8848, ttl: 1 };
const master: SyncDaemon = { role: 'master', ...base, maxlen: 1472 };
const backup: SyncDaemon = { role: 'backup', ...base, maxlen: 1472 };
const svc = {
  family: 'ipv4' as const,
  protocol: 'tcp' as const,
  address: '192.0.2.1',
  port: 80,
  scheduler: 'wlc',
  flags: [],
  onePacket: false,
  realservers: [],
};

/** Prints the running daemons as an import does, loads the text back, and plans against them. */
function roundTrip(daemons: SyncDaemon[]): { text: string; changes: number } {
  const text = importConfig({ services: [svc], timeouts: {}, sync: daemons }, { source: { kind: 'live' } });
  const loaded = loadConfigTexts([{ file: 'x.yaml', text }]);
  if (!loaded.ok) throw new Error(loaded.errors.map(String).join('\n'));
  const live: LiveState = {
    services: [{ ...svc, realservers: [] }],
    timeouts: { tcp: 0, tcpFin: 0, udp: 0 },
    syncDaemons: daemons,
  };
  return { text, changes: planAll(loaded.state, live).length };
}

describe('running sync daemons as director.sync (show, import)', () => {
  test('master and backup with the same settings: role both, defaults left out; no change when applied', () => {
    expect(syncBlockOf([master, backup])).toEqual({ block: { interface: 'eth1', id: 7, role: 'both' } });
    const r = roundTrip([master, backup]);
    expect(r.text).toContain('director:\n  sync:\n    interface: eth1\n    id: 7\n    role: both\n');
    expect(r.changes).toBe(0);
  });

  test('a backup whose maxlen follows a jumbo MTU is still role both', () => {
    expect(roundTrip([master, { ...backup, maxlen: 8972 }]).changes).toBe(0);
  });

  test('one daemon with every setting differing from the defaults', () => {
    const d: SyncDaemon = {
      role: 'backup',
      interface: 'sync0',
      id: 9,
      group: 'ff02::81',
      port: 9000,
      ttl: 2,
      maxlen: 1400,
    };
    expect(syncBlockOf([d])!.block).toEqual({
      interface: 'sync0',
      id: 9,
      role: 'backup',
      group: 'ff02::81',
      port: 9000,
      ttl: 2,
      maxlen: 1400,
    });
    expect(roundTrip([d]).changes).toBe(0);
  });

  test('master and backup that differ: the master only, and a note says the backup was left out', () => {
    const r = syncBlockOf([master, { ...backup, id: 9 }])!;
    expect(r.block['role']).toBe('master');
    expect(r.leftOut).toContain('backup sync daemon (eth1, id 9');
    expect(printConfig({ sync: [master, { ...backup, id: 9 }] })).toMatch(/^# NOTE: the backup sync daemon/m);
  });

  test('none running: no director section', () => {
    expect(printConfig({ services: [], sync: [] })).not.toContain('director');
  });
});
