import { describe, expect, test } from 'vitest';
import { formatAnnounce } from '../../../src/cli/format-table.js';
import type { AnnounceStatus } from '../../../src/daemon/status-file.js';
import type { LiveService, LiveState } from '../../../src/model/types.js';

const A = '198.51.100.200';
const B = '198.51.100.201';
const service = (address: string, cps: bigint): LiveService =>
  ({ family: 'ipv4', protocol: 'tcp', address, port: 80, realservers: [], stats: { cps } }) as unknown as LiveService;
const live = (...services: LiveService[]): LiveState => ({ services, timeouts: { tcp: 0, tcpFin: 0, udp: 0 } });
const status = (drain: boolean): AnnounceStatus => ({
  interface: 'lvs0',
  when: 'healthy',
  drain,
  vips: [
    { address: A, announced: !drain, ...(drain ? { reason: 'drain' } : {}) },
    { address: B, announced: false, reason: drain ? 'drain' : 'no real server up' },
  ],
});

describe('lvsd show: director.announce', () => {
  test('each VIP announced or withdrawn with why; no drain line without drain', () => {
    expect(formatAnnounce(status(false), live(service(A, 4n)))).toBe(
      `#   announce on lvs0 (when healthy): ${A} announced, ${B} withdrawn (no real server up)\n`,
    );
  });

  test('drain: "draining" while the VIPs still get new connections, "drained" once the rate is 0', () => {
    expect(formatAnnounce(status(true), live(service(A, 4n), service(B, 1n)))).toBe(
      `#   announce on lvs0 (when healthy): ${A} withdrawn (drain), ${B} withdrawn (drain)\n` +
        '#   draining: 5 new connection(s)/s still arrive\n',
    );
    expect(formatAnnounce(status(true), live(service(A, 0n), service('198.51.100.9', 7n)))).toMatch(
      /# {3}drained: no new connections arrive\n$/,
    );
  });
});
