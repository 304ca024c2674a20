// Fault injection (issue 13): `kill -9` of `lvsd apply` and of `lvsd run` in
// the middle of a 10,000 x 10 apply (110,000 kernel objects, bench/table.mjs's
// table). A restart converges to the file with no error, and an ipvsadm-made
// service under an `ignore` rule is untouched throughout.
//
// Each test runs in a network namespace of its own (a fresh IPVS table),
// deleted afterwards: a 110,000-object table flushed in the shared namespace
// would leave its real servers in the kernel's trash list, slowing every
// later test in this kernel (see test/kernel/ipvs/scale.test.ts).
//
// "In the middle" is checked, not assumed: the process is killed as soon as
// the first service has all its real servers, and the test asserts that the
// last service was then still incomplete.
//
// On main (087f467), in the test kernel: both pass (the kernel processes a
// netlink batch whole, so a kill leaves no half object, and a restart reads
// the table and adds what is missing); so they do with the daemon and yaml
// branches merged (f3abbaa, 06fe43c). Run time alone: 55-100 s on main, 65-80 s with them.
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, test } from 'vitest';
import { configText, ipvsadmText } from '../../../bench/table.mjs';
import { LVSD, requireKernel, sh, sortedLines } from '../helpers.js';
import {
  alive,
  type DaemonProcess,
  IGNORE_RULE,
  IGNORED_SAVE,
  ignoredIntact,
  makeIgnoredService,
  startDaemon,
  watchableDir,
} from './fault-helpers.js';

const N = 10_000;
const R = 10;
/** Service 0 and the last service (bench/table.mjs's numbering). */
const FIRST = '198.51.100.1:1000';
const LAST = `198.51.100.${1 + ((N - 1) % 250)}:${1000 + Math.floor((N - 1) / 250)}`;

let ns = '';
let dir = '';
let daemon: DaemonProcess | undefined;
const inNs = () => ['ip', 'netns', 'exec', ns];

beforeAll(() => requireKernel());
afterEach(async () => {
  if (daemon && alive(daemon)) daemon.child.kill('SIGKILL');
  daemon = undefined;
  if (ns) await sh('ip', ['netns', 'del', ns]);
  ns = '';
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A fresh namespace with lo up and the ignored service; the config file (10,000 x 10 + the ignore rule). */
async function setUp(name: string): Promise<string> {
  ns = name;
  await must('ip', 'netns', 'add', ns);
  await must(...inNs(), 'ip', 'link', 'set', 'lo', 'up');
  await makeIgnoredService(inNs());
  dir = watchableDir('lvsd-kill9-');
  const file = join(dir, 'lvsd.yaml');
  writeFileSync(file, (configText(N, R) as string).replace('version: 1\n', `version: 1\n${IGNORE_RULE}`));
  return file;
}

async function must(...argv: string[]): Promise<string> {
  const r = await sh(argv[0]!, argv.slice(1), { timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`${argv.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** Real servers of one service in the namespace; -1 when the service does not exist. */
async function realServers(service: string): Promise<number> {
  const r = await sh('ip', ['netns', 'exec', ns, 'ipvsadm', '-Ln', '-t', service]);
  if (r.code !== 0) return -1;
  return r.stdout.split('\n').filter((l) => l.startsWith('  -> ') && !l.includes('RemoteAddress')).length;
}

/**
 * Kills `child` with SIGKILL as soon as service 0 has all its real servers
 * (a shell loop in the namespace polls, so the kill comes early in the kernel
 * writes); resolves with the child's exit signal.
 */
async function killMidway(child: ChildProcess): Promise<NodeJS.Signals | null> {
  const poll = `until [ "$(ipvsadm -Ln -t ${FIRST} 2>/dev/null | grep -c -- '->  *203')" -ge ${R} ]; do :; done`;
  const waiter = spawn('ip', ['netns', 'exec', ns, 'sh', '-c', poll], { stdio: 'ignore' });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_c, sig) => resolve(sig)));
  const ready = new Promise<void>((resolve) => waiter.on('exit', () => resolve()));
  const first = await Promise.race([ready.then(() => 'ready' as const), exited.then(() => 'exited' as const)]);
  waiter.kill('SIGKILL');
  if (first === 'exited') throw new Error('the process ended before it was killed: nothing was interrupted');
  child.kill('SIGKILL');
  return exited;
}

/** The namespace's table equals the file plus the ignored service (one `ipvsadm -Sn` of 110,000 lines). */
async function expectConverged(): Promise<void> {
  const save = await must(...inNs(), 'ipvsadm', '-Sn');
  expect(ignoredIntact(save)).toBe(true);
  const got = sortedLines(save);
  const want = sortedLines(`${ipvsadmText(N, R) as string}${IGNORED_SAVE.join('\n')}\n`);
  expect(got.length).toBe(want.length);
  const missing = want.filter((l, i) => got[i] !== l).slice(0, 5);
  expect(missing, 'first lines that differ').toEqual([]);
}

test('kill -9 of `lvsd apply` mid-apply; the next apply converges with no error', async () => {
  const file = await setUp('lvsd-kill9-apply');
  const child = spawn('ip', [...inNs().slice(1), ...LVSD, 'apply', '-c', file], { stdio: 'ignore' });
  expect(await killMidway(child)).toBe('SIGKILL');
  const last = await realServers(LAST);
  expect(last, 'the last service was still incomplete when killed').toBeLessThan(R);
  const argv = [...inNs().slice(1), ...LVSD, 'apply', '-c', file];
  const again = await sh('ip', argv, { timeoutMs: 240_000 });
  expect(again.stderr).toBe('');
  expect(again.code).toBe(0);
  await expectConverged();
}, 300_000);

test('kill -9 of `lvsd run` mid-apply; a restarted daemon converges with no error', async () => {
  const file = await setUp('lvsd-kill9-run');
  const argv = [...inNs().slice(1), ...LVSD, 'run', '-c', file, '--resync-interval', '0'];
  const child = spawn('ip', argv, { stdio: 'ignore' });
  expect(await killMidway(child)).toBe('SIGKILL');
  expect(await realServers(LAST), 'the last service was still incomplete when killed').toBeLessThan(R);
  daemon = startDaemon(['-c', file, '--resync-interval', '0'], inNs());
  const first = await daemon.waitLog((r) => r.event === 'reconcile', 240_000);
  await daemon.waitLog((r) => r.event === 'started', 10_000);
  expect(alive(daemon)).toBe(true);
  expect(first).toMatchObject({ trigger: 'start', result: 'ok', failures: 0 });
  expect(daemon.logs.filter((r) => r.level === 'error' || r.level === 'fatal')).toEqual([]);
  await expectConverged();
  daemon.child.kill('SIGTERM');
  expect(await daemon.exited).toBe(0);
}, 300_000);
