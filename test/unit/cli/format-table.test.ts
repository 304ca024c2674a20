import { describe, expect, test } from 'vitest';
import { formatDaemonStatus } from '../../../src/cli/format-table.js';

const base = { pid: 812, updated: '2026-11-30T03:20:01.114Z', health: [], draining: {} };

describe('formatDaemonStatus', () => {
  test('prints per VIP whether this director holds it, and the track file', () => {
    const text = formatDaemonStatus({
      ...base,
      vips: [
        { vip: '198.51.100.200', held: true, since: '2026-11-30T03:19:57.020Z' },
        { vip: '198.51.100.201', held: false, since: '2026-11-30T03:19:57.020Z' },
      ],
      track: {
        path: '/run/lvsd/vrrp-track',
        value: -253,
        state: 'cannot_serve',
        reason: 'no real server up in tcp/198.51.100.200:80',
      },
    });
    expect(text.split('\n')).toEqual([
      '# lvsd run (pid 812), as of 2026-11-30T03:20:01.114Z:',
      '#   no health checks, nothing draining',
      '#   vip 198.51.100.200: held (this director is active) since 2026-11-30T03:19:57.020Z',
      '#   vip 198.51.100.201: not held since 2026-11-30T03:19:57.020Z',
      '#   vrrp track file /run/lvsd/vrrp-track: -253 cannot_serve (no real server up in tcp/198.51.100.200:80)',
      '',
    ]);
  });

  test('without director.vrrp, nothing about VIPs', () => {
    expect(formatDaemonStatus(base)).not.toMatch(/vip|track/);
  });
});
