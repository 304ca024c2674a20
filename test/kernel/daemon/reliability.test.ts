// `lvsd run` as a real process in the test kernel: what only a process shows — signals while a
// reload hangs on a FIFO, a --listen that cannot be bound, exec checks that leave children behind,
// a resync interval beyond Node's timers.
import { execFileSync } from 'node:child_process';
import { get } from 'node:http';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { flushIpvs, ipvsadm, requireKernel } from '../helpers.js';
import { Daemon, sleep, waitTable } from './daemon-harness.js';

const config = (extra = '') => `version: 1
services:
  - name: web
    vip: 192.0.2.200
    port: 80
    scheduler: rr
    realservers:
      - { address: 192.0.2.193${extra} }
`;

let dir: string;
let file: string;
let daemon: Daemon | undefined;

beforeAll(() => requireKernel());
beforeEach(async () => {
  await flushIpvs();
  // The guest's tmpfs: UML's hostfs delivers no inotify events.
  dir = mkdtempSync('/run/lvsd-reliability-test-');
  file = join(dir, 'lvsd.yaml');
  writeFileSync(file, config());
});
afterEach(async () => {
  if (daemon && daemon.child.exitCode === null) await daemon.stop('SIGKILL');
  daemon = undefined;
});

/** Processes whose command line is exactly `argv`. */
function pidsOf(argv: string[]): number[] {
  const want = argv.join('\0') + '\0';
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/cmdline`, 'latin1') === want;
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('lvsd run as a process', () => {
  test('SIGTERM ends the daemon while a reload is stuck on a FIFO put where the config was; the table stays', async () => {
    daemon = await Daemon.start(['-c', file, '--resync-interval', '0']);
    const before = await waitTable((s) => s.includes('192.0.2.193'));
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    renameSync(fifo, file);
    daemon.child.kill('SIGHUP');
    await daemon.waitLog((r) => r.event === 'signal' && r.signal === 'SIGHUP');
    await sleep(500);
    const t0 = Date.now();
    const code = await daemon.stop('SIGTERM');
    // 0; or, when the read was left behind, death by the re-raised SIGTERM (a clean stop for systemd).
    expect(code === 0 || (code === null && daemon.child.signalCode === 'SIGTERM')).toBe(true);
    // Within the stop budget (10 s) and the exit that follows it (1 s), with room for UML.
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(await ipvsadm('-Sn')).toBe(before);
    const timedOut = daemon.logs.find((r) => r.event === 'stop_timeout');
    const reload = daemon.logs.find((r) => r.event === 'reconcile' && r.trigger === 'signal');
    // A loader that blocks on the FIFO is left behind; one that refuses FIFOs ends the reload, table kept.
    expect(timedOut ?? reload).toMatchObject(
      timedOut ? { step: 'reconcile in flight' } : { result: expect.stringMatching(/^(invalid_config|error)$/) },
    );
  }, 30_000);

  test('a --listen address that cannot be bound: exit 1 before the first apply, table untouched', async () => {
    await ipvsadm('-A', '-t', '192.0.2.1:80', '-s', 'rr');
    // The test kernel has no interface with 198.51.100.1.
    daemon = await Daemon.start(['-c', file, '--listen', '198.51.100.1:9588']);
    expect(await daemon.exitCode()).toBe(1);
    expect(daemon.logs.find((r) => r.event === 'start_failed')).toMatchObject({
      level: 'fatal',
      msg: expect.stringMatching(/cannot listen on 198\.51\.100\.1:9588/),
    });
    expect(daemon.logs.some((r) => r.event === 'reconcile')).toBe(false);
    expect(await ipvsadm('-Sn')).toBe('-A -t 192.0.2.1:80 -s rr\n');
  });

  test("--resync-interval beyond Node's timers is a usage error", async () => {
    daemon = await Daemon.start(['-c', file, '--resync-interval', '25d']);
    expect(await daemon.exitCode()).toBe(1);
    expect(daemon.stderr).toMatch(/--resync-interval 25d: at most 2147483 s/);
    expect(await ipvsadm('-Sn')).toBe('');
  });

  test('an exec check killed at its timeout leaves no `sleep` behind, check after check', async () => {
    const sleepArgv = ['sleep', '8.7391'];
    writeFileSync(
      file,
      config(
        `, check: { type: exec, exec: { command: [sh, -c, "${sleepArgv.join(' ')}; true"] }, interval: 1s, timeout: 1s, fall: 1 }`,
      ),
    );
    daemon = await Daemon.start(['-c', file, '--resync-interval', '0']);
    await daemon.waitLog((r) => r.event === 'health' && r.up === false, 10_000);
    await sleep(4000); // four more checks, each killed at 1 s
    // At most the one check running now; before, every interval left one more orphan.
    expect(pidsOf(sleepArgv).length).toBeLessThanOrEqual(1);
    expect(await daemon.stop('SIGTERM')).toBe(0);
    await sleep(200);
    expect(pidsOf(sleepArgv)).toEqual([]);
  }, 30_000);

  test('20 scrapes of /metrics at once: all answer with the IPVS counters, over one more client', async () => {
    daemon = await Daemon.start(['-c', file, '--resync-interval', '0', '--listen', '127.0.0.1:9590']);
    await waitTable((s) => s.includes('192.0.2.193'));
    const fds = `/proc/${daemon.child.pid}/fd`;
    const sockets = () =>
      readdirSync(fds).filter((fd) => {
        try {
          return readlinkSync(join(fds, fd)).startsWith('socket:');
        } catch {
          return false;
        }
      }).length;
    const before = sockets();
    const scrape = () =>
      new Promise<string>((resolve, reject) => {
        get({ host: '127.0.0.1', port: 9590, path: '/metrics', agent: false }, (res) => {
          let body = '';
          res
            .setEncoding('utf8')
            .on('data', (d: string) => {
              body += d;
            })
            .on('end', () => resolve(body));
        }).on('error', reject);
      });
    const bodies = await Promise.all(Array.from({ length: 20 }, scrape));
    expect(bodies.filter((b) => b.includes('lvsd_ipvs_backend_weight{')).length).toBe(20);
    await sleep(200);
    // One client: its socket and the dump socket it opens for real servers.
    expect(sockets() - before).toBeLessThanOrEqual(2);
    expect(await daemon.stop('SIGTERM')).toBe(0);
  }, 30_000);

  test('an HTTP check path Node refuses never ends the daemon', async () => {
    writeFileSync(file, config(', check: { type: http, http: { path: "/a b" }, interval: 1s, timeout: 1s, fall: 1 }'));
    daemon = await Daemon.start(['-c', file, '--resync-interval', '0']);
    // Either the config refuses the path at start (exit 1, nothing applied) or the check fails and the daemon runs on.
    const refused = daemon.child.exitCode === 1 && daemon.logs.some((r) => r.event === 'config_error');
    if (!refused) {
      await daemon.waitLog((r) => r.event === 'health' && r.up === false, 10_000);
      await sleep(2500);
      expect(daemon.child.exitCode).toBeNull();
      await waitTable((s) => s.includes('-r 192.0.2.193:80 -g -w 0'));
      expect(await daemon.stop('SIGTERM')).toBe(0);
    } else {
      expect(await ipvsadm('-Sn')).toBe('');
    }
  }, 30_000);
});
