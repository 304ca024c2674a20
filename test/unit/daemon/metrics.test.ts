import { describe, expect, test } from 'vitest';
import { ipvsMetricsText } from '../../../src/daemon/metrics.js';
import { watchdogIntervalMs } from '../../../src/daemon/notify.js';
import { parseListen } from '../../../src/daemon/status-server.js';
import type { LiveState, Stats } from '../../../src/model/types.js';

const stats = (n: bigint): Stats => ({
  connections: n,
  packetsIn: n * 10n,
  packetsOut: 0n,
  bytesIn: n * 1000n,
  bytesOut: 0n,
  cps: 0n,
  ppsIn: 0n,
  ppsOut: 0n,
  bpsIn: 0n,
  bpsOut: 0n,
});

describe('IPVS metrics text', () => {
  const live: LiveState = {
    timeouts: { tcp: 900, tcpFin: 120, udp: 300 },
    services: [
      {
        family: 'ipv4',
        protocol: 'tcp',
        address: '192.0.2.1',
        port: 80,
        scheduler: 'rr',
        flags: [],
        onePacket: false,
        stats: stats(3n),
        realservers: [
          {
            family: 'ipv4',
            address: '192.0.2.10',
            port: 80,
            forward: 'dr',
            weight: 3,
            upperThreshold: 0,
            lowerThreshold: 0,
            activeConnections: 2,
            inactiveConnections: 1,
            persistentConnections: 0,
            stats: stats(3n),
          },
        ],
      },
      { family: 'ipv6', fwmark: 7, scheduler: 'sh', flags: [], onePacket: false, stats: stats(0n), realservers: [] },
    ],
  };
  const text = ipvsMetricsText(live);

  test('node_exporter label names under lvsd_', () => {
    expect(text).toContain(
      'lvsd_ipvs_backend_connections_active{local_address="192.0.2.1",local_port="80",proto="TCP",local_mark="",remote_address="192.0.2.10",remote_port="80"} 2',
    );
    expect(text).toContain(
      'lvsd_ipvs_backend_weight{local_address="192.0.2.1",local_port="80",proto="TCP",local_mark="",remote_address="192.0.2.10",remote_port="80"} 3',
    );
    expect(text).toContain(
      'lvsd_ipvs_service_incoming_bytes_total{local_address="192.0.2.1",local_port="80",proto="TCP",local_mark=""} 3000',
    );
    expect(text).toContain(
      'lvsd_ipvs_service_connections_total{local_address="",local_port="0",proto="",local_mark="7"} 0',
    );
  });

  test('every sample follows its TYPE line; counters end in _total', () => {
    let type = '';
    for (const line of text.split('\n').filter(Boolean)) {
      const t = /^# TYPE (\S+) (counter|gauge)$/.exec(line);
      if (t) {
        type = t[1]!;
        if (t[2] === 'counter') expect(type).toMatch(/_total$/);
        continue;
      }
      if (line.startsWith('#')) continue;
      expect(line.startsWith(type + '{')).toBe(true);
    }
  });
});

describe('small parsers', () => {
  test.each([
    ['127.0.0.1:9588', '127.0.0.1', 9588],
    ['[::1]:9588', '::1', 9588],
    ['localhost:80', 'localhost', 80],
  ])('--listen %s', (text, host, port) => {
    expect(parseListen(text)).toEqual({ host, port });
  });
  test.each(['9588', '127.0.0.1', '127.0.0.1:0', '127.0.0.1:70000', '::1:9588'])('--listen %s is refused', (text) => {
    expect(() => parseListen(text)).toThrow(expect.objectContaining({ code: 'CLI_USAGE' }));
  });
  test('watchdog: half of WATCHDOG_USEC, only for this pid', () => {
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '10000000' }, 5)).toBe(5000);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '10000000', WATCHDOG_PID: '6' }, 5)).toBeUndefined();
    expect(watchdogIntervalMs({}, 5)).toBeUndefined();
  });
});
