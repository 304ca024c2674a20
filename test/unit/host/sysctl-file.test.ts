/** The host adapter never reads or writes a file outside /proc/sys/net, whatever key it is handed. */
import { describe, expect, test } from 'vitest';
import { sysctlFile } from '../../../src/host/netlink-host.js';

describe('sysctlFile', () => {
  test.each([
    ['net/ipv4/ip_forward', '/proc/sys/net/ipv4/ip_forward'],
    ['net/ipv4/conf/eth0.100/rp_filter', '/proc/sys/net/ipv4/conf/eth0.100/rp_filter'],
  ])('%s is %s', (key, file) => {
    expect(sysctlFile('/proc/sys', key)).toBe(file);
  });

  test.each([
    ['net/../../../tmp/x'],
    ['../../etc/shadow'],
    ['kernel/core_pattern'],
    ['net'],
    ['/etc/passwd'],
    ['net/../kernel/x'],
  ])('%s is refused with HOST_SYSCTL_PATH', (key) => {
    expect(() => sysctlFile('/proc/sys', key)).toThrow(expect.objectContaining({ code: 'HOST_SYSCTL_PATH' }));
  });
});
