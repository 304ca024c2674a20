// Fault injection (issue 13): what the filesystem can do to a running
// `lvsd run` — the config replaced by a FIFO, a 200 MB file or a directory,
// its directory deleted and re-created, the status file's /run full or
// read-only. Nothing of it may end the daemon, hang it, or touch the table
// (or the ignored service); a valid file afterwards applies.
//
// On main (087f467), in the test kernel:
// - FIFO: FAILS. The read blocks on the FIFO's open: no error within 10 s,
//   and SIGTERM then does not end the daemon within 5 s (needs: the loader
//   refusing non-regular files; SIGTERM not waiting for a hung reconcile).
// - 200 MB file: FAILS. It is read, parsed (4.8 s) and applied, no error
//   (needs: the loader's size cap).
// - /dev/zero: FAILS. The daemon reads until its heap gives out and dies
//   (under the 1.5 GiB address-space limit the test sets) (needs: the loader
//   refusing non-regular files).
// - a directory in place of the file: passes mostly (EISDIR is a CONFIG_READ
//   error, or CONFIG_EMPTY when the watcher reports the directory first and it
//   is read as a config directory); failed in 2 of 6 runs, on main and with the
//   fixes: the watcher never reports the file put back (needs: src/daemon/watch.ts).
// - config directory deleted and re-created, -c FILE and -c DIR: FAIL, also
//   with the fixes below: the watcher keeps watching the deleted directory and
//   never reports the new one (needs: src/daemon/watch.ts to watch again; a
//   resync, 30 s by default, would re-read it, but file events stay lost).
// - status file on a full /run: FAILS on the leftover temporary file a failed
//   write leaves behind (needs: status-file write hardening); the daemon goes on.
// - status file on a read-only /run: passes (a warning, the daemon goes on).
// With the daemon branch (f3abbaa) and the yaml branch (06fe43c) merged: all
// pass but the two deleted-directory tests.
// With the watch branch (src/daemon/watch.ts watching ancestors, setting up
// anew and hearing raw inotify events; lvsd run keeping the -c path's kind):
// all pass, 3 runs of 3; a directory in place of the file is now always
// CONFIG_NOT_REGULAR (a file path stays a file path).
// Run time alone in the test kernel: 143 s on main (failing tests wait out
// their deadlines), 67 s with the fixes.
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { flushIpvs, ipvsadm, requireKernel } from '../helpers.js';
import { Daemon, sleep } from '../daemon/daemon-harness.js';
import {
  alive,
  explained,
  ignoredIntact,
  makeIgnoredService,
  memKb,
  save,
  smallConfig,
  stopWithin,
  waitSmall,
  watchableDir,
} from './fault-helpers.js';

let dir: string;
let file: string;
let daemon: Daemon | undefined;
const mounts: string[] = [];

beforeAll(() => requireKernel());
beforeEach(async () => {
  await flushIpvs();
  await makeIgnoredService();
  dir = watchableDir();
  file = join(dir, 'lvsd.yaml');
  save(file, smallConfig(1));
});
afterEach(async () => {
  if (daemon && alive(daemon)) await daemon.stop('SIGKILL');
  daemon = undefined;
  for (const m of mounts.splice(0)) execFileSync('umount', ['-l', m]);
  rmSync(dir, { recursive: true, force: true });
});

async function start(args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Daemon> {
  daemon = await Daemon.start(['-c', file, '--resync-interval', '0', ...args], env);
  expect(alive(daemon)).toBe(true);
  await waitSmall(1);
  return daemon;
}

/** The next config_error logged after log index `from`. */
const configErrorAfter = (d: Daemon, from: number, timeoutMs: number) =>
  d.waitLog((r) => r.event === 'config_error', timeoutMs, from);

describe('the config file replaced by something that is not a regular file', () => {
  test('a FIFO: an error, no hang, table kept; a valid file then applies; SIGTERM stops within 5 s', async () => {
    const d = await start();
    const before = await ipvsadm('-Sn');
    const from = d.logs.length;
    unlinkSync(file);
    execFileSync('mkfifo', [file]);
    const err = await configErrorAfter(d, from, 10_000).catch(() => undefined);
    if (!err) {
      // Hung on the FIFO: does SIGTERM still end it? The answer goes into the failure.
      const code = await stopWithin(d, 5000);
      const then = code === 'timeout' ? 'did not end it within 5 s' : `ended it with exit code ${code}`;
      expect.fail(`no error within 10 s for a FIFO (the read hangs); SIGTERM then ${then}`);
    }
    expect(err.code).toMatch(/^CONFIG_/);
    expect(await ipvsadm('-Sn')).toBe(before);
    unlinkSync(file);
    save(file, smallConfig(2));
    await waitSmall(2);
    expect(await stopWithin(d, 5000)).toBe(0);
  });

  test('a 200 MB file: rejected with an error, peak RSS bounded, table kept', async () => {
    // A heap limit keeps a daemon that reads it all from taking the test kernel down with it.
    const d = await start([], { NODE_OPTIONS: '--max-old-space-size=768' });
    await sleep(1000);
    const rss0 = memKb(d.child.pid!, 'VmRSS');
    const before = await ipvsadm('-Sn');
    const from = d.logs.length;
    writeBig(join(dir, 'big.tmp'), smallConfig(3), 200 * 1024 * 1024);
    execFileSync('mv', [join(dir, 'big.tmp'), file]);
    const err = await configErrorAfter(d, from, 30_000);
    expect(err.code).toMatch(/^CONFIG_/);
    expect(alive(d)).toBe(true);
    const grown = memKb(d.child.pid!, 'VmHWM') - rss0;
    expect(grown, `peak RSS grew by ${grown} KiB`).toBeLessThan(64 * 1024);
    expect(await ipvsadm('-Sn')).toBe(before);
    save(file, smallConfig(4));
    await waitSmall(4);
  }, 120_000);

  test('a symlink to /dev/zero: an error, no hang, peak RSS bounded, table kept', async () => {
    // An address-space limit keeps a daemon that reads it endlessly from taking the test kernel down.
    const limit = ['prlimit', `--as=${1536 * 1024 * 1024}`, '--'];
    daemon = await Daemon.start(['-c', file, '--resync-interval', '0'], {}, limit);
    const d = daemon;
    expect(alive(d)).toBe(true);
    await waitSmall(1);
    await sleep(1000);
    const rss0 = memKb(d.child.pid!, 'VmRSS');
    const before = await ipvsadm('-Sn');
    const from = d.logs.length;
    execFileSync('ln', ['-sfn', '/dev/zero', file]);
    const err = await configErrorAfter(d, from, 30_000);
    expect(err.code).toMatch(/^CONFIG_/);
    expect(alive(d)).toBe(true);
    const grown = memKb(d.child.pid!, 'VmHWM') - rss0;
    expect(grown, `peak RSS grew by ${grown} KiB`).toBeLessThan(64 * 1024);
    expect(await ipvsadm('-Sn')).toBe(before);
    unlinkSync(file);
    save(file, smallConfig(8));
    await waitSmall(8);
    expect(await stopWithin(d, 5000)).toBe(0);
  }, 90_000);

  test('a directory: an error, table kept; the file back then applies', async () => {
    const d = await start();
    const before = await ipvsadm('-Sn');
    const from = d.logs.length;
    unlinkSync(file);
    mkdirSync(file);
    // A valid config in it is not read: the -c path was a file, and stays one.
    save(join(file, 'lvsd.yaml'), smallConfig(9));
    const err = await configErrorAfter(d, from, 10_000);
    expect(err.code).toBe('CONFIG_NOT_REGULAR');
    await sleep(500);
    expect(alive(d)).toBe(true);
    expect(await ipvsadm('-Sn')).toBe(before);
    rmSync(file, { recursive: true });
    save(file, smallConfig(5));
    await explained(d, waitSmall(5));
  });
});

describe('the config directory deleted and re-created', () => {
  test.each([
    ['-c FILE in it', false],
    ['-c DIR (lvsd.yaml + conf.d/)', true],
  ])('%s: an error, table kept; re-created with a valid file, it applies', async (_name, asDir) => {
    const conf = join(dir, 'etc');
    mkdirSync(conf);
    const main = join(conf, 'lvsd.yaml');
    save(main, smallConfig(1));
    daemon = await Daemon.start(['-c', asDir ? conf : main, '--resync-interval', '0']);
    await waitSmall(1);
    const before = await ipvsadm('-Sn');
    const from = daemon.logs.length;
    rmSync(conf, { recursive: true });
    await configErrorAfter(daemon, from, 10_000);
    expect(await ipvsadm('-Sn')).toBe(before);
    mkdirSync(conf);
    save(main, smallConfig(6));
    await explained(daemon, waitSmall(6));
    expect(alive(daemon)).toBe(true);
  });
});

describe('the status file cannot be written', () => {
  /** A 16 KiB tmpfs (or a read-only one) for the status file. */
  function smallRun(options: string): string {
    const where = join(dir, 'status');
    mkdirSync(where);
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', where]);
    mounts.push(where);
    return where;
  }
  /** A service whose one real server is up while `flag` exists (an exec check every second). */
  const checked = (flag: string) => `  - vip: 198.51.100.100
    port: 80
    check: { type: exec, interval: 1s, timeout: 1s, rise: 1, fall: 1, exec: { command: [test, -e, ${flag}] } }
    realservers: [203.0.113.20]
`;

  test('/run full: the daemon goes on, the old status file stays whole, no temporary file is left', async () => {
    const where = smallRun('size=16k');
    const flag = join(dir, 'up');
    const status = join(where, 'status.json');
    execFileSync('touch', [flag]);
    save(file, smallConfig(1, 5, checked(flag)));
    const d = await start(['--status-file', status]);
    await d.waitLog((r) => r.event === 'health' && r.up === true, 10_000).catch(() => undefined);
    for (let t0 = Date.now(); !existsSync(status) && Date.now() - t0 < 5000;) await sleep(100);
    const written = JSON.parse(readFileSync(status, 'utf8')) as { pid: number };
    expect(written.pid).toBe(d.child.pid);
    // Fill the filesystem, then make health change so that the daemon writes.
    execFileSync('sh', ['-c', `dd if=/dev/zero of=${join(where, 'filler')} bs=1k 2>/dev/null; true`]);
    unlinkSync(flag);
    await d.waitLog((r) => r.event === 'status_file_error', 15_000);
    save(file, smallConfig(2, 5, checked(flag)));
    await waitSmall(2);
    expect(alive(d)).toBe(true);
    expect(JSON.parse(readFileSync(status, 'utf8'))).toMatchObject({ pid: d.child.pid });
    expect(readdirSync(where).sort()).toEqual(['filler', 'status.json']);
    // Space again: the next write succeeds.
    unlinkSync(join(where, 'filler'));
    execFileSync('touch', [flag]);
    const since = d.logs.findIndex((r) => r.event === 'status_file_error');
    await d.waitLog((r) => r.event === 'health' && r.up === true, 15_000, since);
    await sleep(500);
    const last = JSON.parse(readFileSync(status, 'utf8')) as { health: { up: boolean }[] };
    expect(last.health.map((h) => h.up)).toEqual([true]);
    expect(ignoredIntact(await ipvsadm('-Sn'))).toBe(true);
  }, 90_000);

  test('/run read-only: a warning, and the daemon goes on reconciling', async () => {
    const where = smallRun('ro,size=16k');
    const d = await start(['--status-file', join(where, 'status.json')]);
    const warn = await d.waitLog((r) => r.event === 'status_file_error', 10_000);
    expect(warn.level).toBe('warn');
    save(file, smallConfig(7));
    await waitSmall(7);
    expect(alive(d)).toBe(true);
    expect(await stopWithin(d, 5000)).toBe(0);
  });
});

/** A valid config followed by comment lines up to `size` bytes, written 1 MiB at a time. */
function writeBig(path: string, head: string, size: number): void {
  const line = `# ${'x'.repeat(1021)}\n`;
  const chunk = Buffer.from(line.repeat(1024));
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, head);
    for (let n = head.length; n < size; n += chunk.length) writeSync(fd, chunk);
  } finally {
    closeSync(fd);
  }
}
