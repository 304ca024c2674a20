import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { decodeDaemonReply, encodeDaemon, type IpvsDaemon, ipvsMessage } from '../../../src/ipvs/codec.js';
import * as IPVS from '../../../src/ipvs/constants.js';
import { describeOp, kernelError } from '../../../src/ipvs/kernel-errors.js';
import { fromKernelDaemon, toKernelDaemon } from '../../../src/ipvs/map.js';
import type { SyncDaemon } from '../../../src/model/types.js';
import * as NL from '../../../src/netlink/constants.js';
import { ERRNO } from '../../../src/netlink/errno.js';

// Captured in the UML test kernel (Linux 6.1) from ipvsadm 1.31 (requests, read with strace) and from
// the kernel's GET_DAEMON replies: regenerate with
// `node test/kernel/harness.mjs -- node test/kernel/capture-sync-fixtures.mjs`.
const fixtures = JSON.parse(readFileSync(new URL('../../fixtures/sync-daemon.json', import.meta.url), 'utf8')) as {
  requests: Record<string, string[]>;
  replies: Record<string, string[]>;
  ipvsadmDaemon: Record<string, string>;
};
const K = { ...NL, ...IPVS };

/** ipvsadm's one IPVS message of a command (it also sends GET_INFO first), without the nlmsghdr. */
function ipvsadmRequest(name: string): string {
  const found = fixtures.requests[name]!.filter((h) => parseInt(h.slice(0, 2), 16) !== K.IPVS_CMD_GET_INFO);
  expect(found).toHaveLength(1);
  return found[0]!;
}
/** Our request for `d` as it goes on the wire, without the nlmsghdr (seq and pid differ per socket). */
function ours(cmd: number, d: IpvsDaemon, full: boolean): string {
  return ipvsMessage({ type: 28, flags: K.NLM_F_REQUEST, seq: 1, pid: 0 }, cmd, [encodeDaemon(d, full)])
    .subarray(NL.NLMSG_HDRLEN)
    .toString('hex');
}
const decode = (hex: string) => {
  const b = Buffer.from(hex, 'hex');
  return decodeDaemonReply(b, 0, b.length);
};

describe('sync daemon codec: requests are byte for byte ipvsadm’s', () => {
  test('NEW_DAEMON with only what the kernel requires (ipvsadm --start-daemon master --syncid 7)', () => {
    expect(ours(K.IPVS_CMD_NEW_DAEMON, { state: K.IP_VS_STATE_MASTER, mcastIfn: 'sync0', syncId: 7 }, true)).toBe(
      ipvsadmRequest('startMasterDefaults'),
    );
  });

  test('NEW_DAEMON with every parameter: maxlen, port (host order), ttl, IPv4 group (network order)', () => {
    const d: IpvsDaemon = {
      state: K.IP_VS_STATE_BACKUP,
      mcastIfn: 'sync0',
      syncId: 9,
      maxlen: 1400,
      port: 9000,
      ttl: 2,
      groupAf: K.AF_INET,
      group: '239.1.2.3',
    };
    expect(ours(K.IPVS_CMD_NEW_DAEMON, d, true)).toBe(ipvsadmRequest('startBackupFull'));
  });

  test('NEW_DAEMON with an IPv6 group', () => {
    const d: IpvsDaemon = {
      state: K.IP_VS_STATE_MASTER,
      mcastIfn: 'sync0',
      syncId: 200,
      groupAf: K.AF_INET6,
      group: 'ff02::1:81',
    };
    expect(ours(K.IPVS_CMD_NEW_DAEMON, d, true)).toBe(ipvsadmRequest('startMasterIpv6'));
  });

  test('DEL_DAEMON carries the state the kernel reads, as ipvsadm’s first attribute does', () => {
    for (const [name, state] of [
      ['stopMaster', K.IP_VS_STATE_MASTER],
      ['stopBackup', K.IP_VS_STATE_BACKUP],
    ] as const) {
      const mine = ours(K.IPVS_CMD_DEL_DAEMON, { state, mcastIfn: 'sync0', syncId: 7 }, false);
      const theirs = ipvsadmRequest(name);
      // genl header, then the nested DAEMON attribute: its length differs (ipvsadm adds an empty
      // interface and sync id 0, which the kernel ignores on DEL), its STATE attribute does not.
      expect(mine.slice(0, 8)).toBe(theirs.slice(0, 8));
      expect(mine.slice(12)).toBe(theirs.slice(12, 32));
      expect(mine).toBe(`0a010000` + `0c000380` + `08000100` + `0${state}000000`);
    }
  });
});

describe('sync daemon codec: the kernel’s GET_DAEMON replies', () => {
  test('a master started with defaults reads back with the kernel’s defaults, as ipvsadm -L --daemon shows', () => {
    const [m, b] = fixtures.replies['masterDefaultsBackupFull']!;
    expect(fixtures.ipvsadmDaemon['masterDefaultsBackupFull']).toContain(
      'master sync daemon (mcast=sync0, syncid=7, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)',
    );
    expect(fromKernelDaemon(decode(m!))).toEqual({
      role: 'master',
      interface: 'sync0',
      id: 7,
      group: '224.0.0.81',
      port: 8848,
      ttl: 1,
      maxlen: 1472,
    });
    expect(fromKernelDaemon(decode(b!))).toEqual({
      role: 'backup',
      interface: 'sync0',
      id: 9,
      group: '239.1.2.3',
      port: 9000,
      ttl: 2,
      maxlen: 1400,
    });
  });

  test('an IPv6 group: GROUP6, and the IPv6 headers taken off the default maxlen', () => {
    expect(fromKernelDaemon(decode(fixtures.replies['masterIpv6']![0]!))).toEqual({
      role: 'master',
      interface: 'sync0',
      id: 200,
      group: 'ff02::1:81',
      port: 8848,
      ttl: 1,
      maxlen: 1452,
    });
  });

  test('what the kernel reports, sent back, is what ipvsadm sent (round trip through the model)', () => {
    const b = fromKernelDaemon(decode(fixtures.replies['masterDefaultsBackupFull']![1]!));
    expect(ours(K.IPVS_CMD_NEW_DAEMON, toKernelDaemon(b), true)).toBe(ipvsadmRequest('startBackupFull'));
  });

  test('a reply without the required attributes is an error, not a daemon with holes', () => {
    const m = Buffer.from(fixtures.replies['masterDefaultsBackupFull']![0]!, 'hex');
    // Cut the message after the sync id: maxlen, port, ttl and group are gone.
    const cut = Buffer.from(m.subarray(0, 4 + 4 + 8 + 12 + 8));
    cut.writeUInt16LE(cut.length - 4, 4);
    expect(() => decodeDaemonReply(cut, 0, cut.length)).toThrow(/IPVS_DAEMON_ATTR_/);
  });
});

describe('sync daemon errors name the daemon and the kernel’s reason', () => {
  const d: SyncDaemon = { role: 'master', interface: 'eth9', id: 7, group: '224.0.0.81', port: 8848, ttl: 1 };
  test.each([
    [
      ERRNO.ENODEV,
      'IPVS_INVALID',
      'start sync daemon master eth9 id 7: no interface eth9 in this network namespace (ENODEV)',
    ],
    [ERRNO.EEXIST, 'IPVS_EXISTS', 'start sync daemon master eth9 id 7: a master sync daemon already runs'],
    [ERRNO.EINVAL, 'IPVS_INVALID', 'real servers of another address family'],
    [ERRNO.ENETUNREACH, 'IPVS_INVALID', 'interface eth9 is down, or has no route to group 224.0.0.81 (ENETUNREACH)'],
  ])('errno %i', (errno, code, text) => {
    const e = kernelError(errno, { op: 'start-sync', daemon: d });
    expect(e.code).toBe(code);
    expect(e.details).toMatchObject({ errno, op: 'start-sync', daemon: 'master eth9 id 7' });
    expect(e.message).toContain(text);
  });
  test('ESRCH on a stop', () => {
    const e = kernelError(ERRNO.ESRCH, { op: 'stop-sync', daemon: { ...d, role: 'backup' } });
    expect([e.code, e.message]).toEqual([
      'IPVS_NOT_FOUND',
      'stop sync daemon backup eth9 id 7: no backup sync daemon runs (ESRCH)',
    ]);
    expect(describeOp({ op: 'stop-sync', daemon: d })).toBe('stop sync daemon master eth9 id 7');
  });
});
