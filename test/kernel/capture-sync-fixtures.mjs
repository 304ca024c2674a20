#!/usr/bin/env node
// Captures the sync daemon's netlink bytes for the codec's golden-byte tests:
// the NEW_DAEMON / DEL_DAEMON requests ipvsadm (an independent client) sends,
// read with strace, and the kernel's GET_DAEMON dump replies for the daemons
// ipvsadm started. Run inside the test kernel:
//   node test/kernel/harness.mjs -- node test/kernel/capture-sync-fixtures.mjs
// Writes test/fixtures/sync-daemon.json.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as IPVS from '../../dist/ipvs/constants.js';
import { ipvsMessage } from '../../dist/ipvs/codec.js';
import * as NL from '../../dist/netlink/constants.js';
import { parseMessages } from '../../dist/netlink/wire.js';
import { openIpvsGenl } from './ipvs-genl.mjs';

const K = { ...NL, ...IPVS };
const run = (cmd, ...a) => execFileSync(cmd, a, { encoding: 'utf8' });
const dir = mkdtempSync(join(tmpdir(), 'sync-capture-'));

// An interface that can carry sync messages: a dummy with a documentation address of each family.
run('ip', 'link', 'add', 'sync0', 'type', 'dummy');
run('ip', 'addr', 'add', '192.0.2.50/24', 'dev', 'sync0');
run('ip', 'addr', 'add', '2001:db8::50/64', 'dev', 'sync0', 'nodad');
run('ip', 'link', 'set', 'sync0', 'up');

/** The generic netlink messages (after their 16-byte nlmsghdr) of type `family` that `ipvsadm args` sends. */
function ipvsadmRequests(family, ...args) {
  const log = join(dir, 'strace.log');
  execFileSync('strace', ['-f', '-o', log, '-e', 'trace=sendmsg', '-e', 'write=all', 'ipvsadm', ...args]);
  const out = [];
  let chunk = [];
  const flush = () => {
    if (chunk.length) out.push(Buffer.from(chunk));
    chunk = [];
  };
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    const m = /^\s*(?:\d+\s+)?\| ([0-9a-f]{5}) {2}((?:[0-9a-f]{2} ){1,8}(?: (?:[0-9a-f]{2} ){0,8})?)/.exec(line);
    if (!m) {
      flush();
      continue;
    }
    if (m[1] === '00000') flush();
    for (const h of m[2].trim().split(/\s+/)) chunk.push(parseInt(h, 16));
  }
  flush();
  return out
    .flatMap((b) => parseMessages(b))
    .filter((msg) => msg.type === family)
    .map((msg) => msg.payload.toString('hex'));
}

const { sock, family, request, hdr } = await openIpvsGenl();
const dump = async () =>
  (await request(ipvsMessage(hdr(K.NLM_F_DUMP), K.IPVS_CMD_GET_DAEMON, []))).map((m) => m.payload.toString('hex'));

const out = { kernel: run('uname', '-r').trim(), requests: {}, replies: {}, ipvsadmDaemon: {} };
// Defaults: only what ipvsadm needs (state, interface, sync id).
out.requests.startMasterDefaults = ipvsadmRequests(
  family,
  '--start-daemon',
  'master',
  '--mcast-interface',
  'sync0',
  '--syncid',
  '7',
);
// Every parameter given.
out.requests.startBackupFull = ipvsadmRequests(
  family,
  ...['--start-daemon', 'backup', '--mcast-interface', 'sync0', '--syncid', '9', '--sync-maxlen', '1400'],
  ...['--mcast-group', '239.1.2.3', '--mcast-port', '9000', '--mcast-ttl', '2'],
);
out.replies.masterDefaultsBackupFull = await dump();
out.ipvsadmDaemon.masterDefaultsBackupFull = run('ipvsadm', '-L', '--daemon');
out.requests.stopMaster = ipvsadmRequests(family, '--stop-daemon', 'master');
out.requests.stopBackup = ipvsadmRequests(family, '--stop-daemon', 'backup');
out.requests.startMasterIpv6 = ipvsadmRequests(
  family,
  ...['--start-daemon', 'master', '--mcast-interface', 'sync0', '--syncid', '200', '--mcast-group', 'ff02::1:81'],
);
out.replies.masterIpv6 = await dump();
out.ipvsadmDaemon.masterIpv6 = run('ipvsadm', '-L', '--daemon');
run('ipvsadm', '--stop-daemon', 'master');
out.replies.none = await dump();
sock.close();
writeFileSync(new URL('../fixtures/sync-daemon.json', import.meta.url), JSON.stringify(out, null, 1) + '\n');
console.log(JSON.stringify(out, null, 1));
