// `lvsd run` in the test kernel: every way a config file gets replaced
// converges, invalid saves change nothing, drift is corrected, signals work,
// and the status endpoint tells the truth.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { flushIpvs, ipvsadm, requireKernel } from '../helpers.js';
import { Daemon, httpGet, sleep, waitTable } from './daemon-harness.js';

const config = (weight: number, extra = '') => `version: 1
services:
  - name: web
    vip: 192.0.2.200
    port: 80
    scheduler: rr
    realservers:
      - { address: 192.0.2.193, weight: ${weight} }
      - 192.0.2.195
${extra}`;
const hasWeight = (w: number) => (save: string) => save.includes(`-a -t 192.0.2.200:80 -r 192.0.2.193:80 -g -w ${w}\n`);

let dir: string;
let file: string;

/**
 * A directory on the guest's tmpfs (/run): UML's hostfs, where the host's
 * /tmp lives, delivers no inotify events, and the daemon watches with inotify.
 */
function watchableDir(): string {
  return mkdtempSync('/run/lvsd-daemon-test-');
}
let daemon: Daemon | undefined;

beforeAll(() => requireKernel());
beforeEach(async () => {
  await flushIpvs();
  dir = watchableDir();
  file = join(dir, 'lvsd.yaml');
  writeFileSync(file, config(1));
});
afterEach(async () => {
  if (daemon && daemon.child.exitCode === null) await daemon.stop('SIGKILL');
  daemon = undefined;
});

async function startOnFile(args: string[] = ['--resync-interval', '0']) {
  daemon = await Daemon.start(['-c', file, ...args]);
  await waitTable(hasWeight(1));
  return daemon;
}

describe('every way a file gets replaced converges', () => {
  test('in-place write (same inode)', async () => {
    await startOnFile();
    writeFileSync(file, config(2));
    await waitTable(hasWeight(2));
  });

  test('temp file then rename (vim, nano, VS Code, Ansible template/copy)', async () => {
    await startOnFile();
    writeFileSync(join(dir, '.lvsd.yaml.tmp123'), config(3));
    renameSync(join(dir, '.lvsd.yaml.tmp123'), file);
    await waitTable(hasWeight(3));
  });

  test('mv from another directory', async () => {
    await startOnFile();
    const other = watchableDir();
    writeFileSync(join(other, 'new.yaml'), config(4));
    execFileSync('mv', [join(other, 'new.yaml'), file]);
    await waitTable(hasWeight(4));
  });

  test('delete, then re-create', async () => {
    await startOnFile();
    unlinkSync(file);
    await sleep(300);
    writeFileSync(file, config(5));
    await waitTable(hasWeight(5));
  });

  test('symlink swap', async () => {
    writeFileSync(join(dir, 'v1.yaml'), config(1));
    unlinkSync(file);
    symlinkSync('v1.yaml', file);
    await startOnFile();
    writeFileSync(join(dir, 'v2.yaml'), config(6));
    symlinkSync('v2.yaml', join(dir, 'link.tmp'));
    renameSync(join(dir, 'link.tmp'), file);
    await waitTable(hasWeight(6));
  });

  test('a drop-in added to conf.d of a config directory', async () => {
    mkdirSync(join(dir, 'conf.d'));
    daemon = await Daemon.start(['-c', dir, '--resync-interval', '0']);
    await waitTable(hasWeight(1));
    writeFileSync(
      join(dir, 'conf.d', '10-dns.yaml'),
      'version: 1\nservices:\n  - { vip: 192.0.2.200, port: 53, protocol: udp, scheduler: rr, realservers: [192.0.2.193] }\n',
    );
    await waitTable((s) => s.includes('-A -u 192.0.2.200:53 -s rr'));
  });

  test("50 saves within a second end in the last file's table", async () => {
    await startOnFile();
    for (let w = 10; w < 60; w++) {
      writeFileSync(join(dir, 'tmp'), config(w));
      renameSync(join(dir, 'tmp'), file);
      await sleep(15);
    }
    await waitTable(hasWeight(59));
    await sleep(1000); // nothing later undoes it
    expect(await ipvsadm('-Sn')).toContain('-r 192.0.2.193:80 -g -w 59\n');
    // Bursts were coalesced: far fewer reconciles than saves.
    expect(daemon!.logs.filter((r) => r.event === 'reconcile' && r.trigger === 'file').length).toBeLessThan(25);
  });
});

describe('invalid files and drift', () => {
  test('an invalid save changes nothing and /healthz says why; the next valid save applies', async () => {
    await startOnFile(['--resync-interval', '0', '--listen', '127.0.0.1:9588']);
    expect((await httpGet('http://127.0.0.1:9588/healthz')).status).toBe(200);
    const before = await ipvsadm('-Sn');
    writeFileSync(file, config(7).replace('scheduler: rr', 'schedular: rr'));
    const err = await daemon!.waitLog((r) => r.event === 'config_error');
    expect(err).toMatchObject({ level: 'error', code: 'CONFIG_UNKNOWN_KEY', line: 6, column: 5 });
    expect(err.msg).toMatch(/lvsd\.yaml:6:5: unknown key 'schedular'/);
    const health = await httpGet('http://127.0.0.1:9588/healthz');
    expect(health.status).toBe(503);
    expect(health.body).toMatch(/config invalid/);
    expect(await ipvsadm('-Sn')).toBe(before);
    writeFileSync(file, config(8));
    await waitTable(hasWeight(8));
    await sleep(200);
    expect((await httpGet('http://127.0.0.1:9588/healthz')).status).toBe(200);
  });

  test('a file that disappears keeps the table; it applies again when it is back', async () => {
    await startOnFile();
    const before = await ipvsadm('-Sn');
    unlinkSync(file);
    await daemon!.waitLog((r) => r.event === 'config_error' && r.code === 'CONFIG_READ', 5000);
    expect(await ipvsadm('-Sn')).toBe(before);
    writeFileSync(file, config(9));
    await waitTable(hasWeight(9));
  });

  test('a hand-made ipvsadm change is corrected within the resync interval, logged at warn', async () => {
    await startOnFile(['--resync-interval', '1s']);
    await ipvsadm('-e', '-t', '192.0.2.200:80', '-r', '192.0.2.193:80', '-g', '-w', '42');
    await ipvsadm('-a', '-t', '192.0.2.200:80', '-r', '192.0.2.199:80', '-g');
    await waitTable((s) => hasWeight(1)(s) && !s.includes('192.0.2.199'), 5000);
    const drift = daemon!.logs.filter((r) => r.msg === 'drift corrected');
    expect(drift.map((r) => `${r.action} ${r.kind} ${r.realserver}`).sort()).toEqual([
      'delete realserver 192.0.2.199:80',
      'edit realserver 192.0.2.193:80',
    ]);
    expect(drift.every((r) => r.level === 'warn')).toBe(true);
    expect(drift.find((r) => r.action === 'edit')!.fields).toEqual({ weight: { old: 42, new: 1 } });
  });
});

describe('signals and restarts', () => {
  test('SIGHUP reloads now (and re-reads the live table)', async () => {
    await startOnFile();
    await ipvsadm('-e', '-t', '192.0.2.200:80', '-r', '192.0.2.193:80', '-g', '-w', '42');
    await sleep(300);
    expect(hasWeight(42)(await ipvsadm('-Sn'))).toBe(true); // resync is off: nothing corrects it yet
    daemon!.child.kill('SIGHUP');
    await waitTable(hasWeight(1));
    expect(daemon!.logs.some((r) => r.event === 'reconcile' && r.trigger === 'signal')).toBe(true);
  });

  test('SIGTERM exits 0 and leaves the table; a restart with the same file sends no change', async () => {
    await startOnFile();
    const before = await ipvsadm('-Sn');
    expect(await daemon!.stop('SIGTERM')).toBe(0);
    expect(await ipvsadm('-Sn')).toBe(before);
    daemon = await Daemon.start(['-c', file, '--resync-interval', '0']);
    const first = await daemon.waitLog((r) => r.event === 'reconcile');
    expect(first).toMatchObject({ trigger: 'start', result: 'ok', changes: 0 });
    expect(daemon.logs.filter((r) => r.event === 'change')).toEqual([]);
    expect(await daemon.stop('SIGINT')).toBe(0);
    expect(await ipvsadm('-Sn')).toBe(before);
  });

  test('an invalid file at start: exit 1 with the errors, table untouched', async () => {
    await ipvsadm('-A', '-t', '192.0.2.1:80', '-s', 'rr');
    writeFileSync(file, 'version: 1\nservices:\n  - vip: 192.0.2.300\n    port: 80\n');
    daemon = await Daemon.start(['-c', file]);
    expect(await daemon.exitCode()).toBe(1);
    expect(daemon.logs.some((r) => r.event === 'config_error' && String(r.msg).includes('lvsd.yaml:3:'))).toBe(true);
    expect(await ipvsadm('-Sn')).toBe('-A -t 192.0.2.1:80 -s rr\n');
  });
});

describe('metrics', () => {
  test('/metrics parses as Prometheus text with daemon and IPVS metrics', async () => {
    await startOnFile(['--resync-interval', '0', '--listen', '127.0.0.1:9589']);
    const { status, body } = await httpGet('http://127.0.0.1:9589/metrics');
    expect(status).toBe(200);
    const samples = parsePrometheus(body);
    expect(samples.get('lvsd_config_valid')).toEqual([{ labels: {}, value: 1 }]);
    expect(samples.get('lvsd_reconciles_total')).toContainEqual({
      labels: { trigger: 'start', result: 'ok' },
      value: 1,
    });
    expect(samples.get('lvsd_changes_applied_total')).toContainEqual({
      labels: { kind: 'realserver', action: 'add' },
      value: 2,
    });
    expect(samples.get('lvsd_ipvs_backend_weight')).toContainEqual({
      labels: {
        local_address: '192.0.2.200',
        local_port: '80',
        proto: 'TCP',
        local_mark: '',
        remote_address: '192.0.2.193',
        remote_port: '80',
      },
      value: 1,
    });
    expect(samples.get('lvsd_ipvs_service_connections_total')).toHaveLength(1);
    expect((await httpGet('http://127.0.0.1:9589/nope')).status).toBe(404);
  });
});

describe('systemd notify protocol', () => {
  test('a fake NOTIFY_SOCKET receives READY=1, STATUS=, RELOADING=1, STOPPING=1 in order', async () => {
    const sock = join(dir, 'notify.sock');
    // Node has no unix datagram sockets: a tiny python receiver plays systemd.
    // It closes the barrier fds systemd-notify passes, as systemd does.
    const receiver = spawn(
      'python3',
      [
        '-u',
        '-c',
        `
import socket, array, os, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("BOUND", flush=True)
while True:
    msg, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(16 * 4))
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds = array.array("i"); fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
            for fd in fds: os.close(fd)
    print(msg.decode().replace("\\n", "|"), flush=True)
`,
        sock,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let received = '';
    receiver.stdout.setEncoding('utf8').on('data', (d: string) => {
      received += d;
    });
    try {
      while (!received.includes('BOUND')) await sleep(20);
      daemon = await Daemon.start(['-c', file, '--resync-interval', '0'], { NOTIFY_SOCKET: sock });
      await waitTable(hasWeight(1));
      daemon.child.kill('SIGHUP');
      await daemon.waitLog((r) => r.event === 'reconcile' && r.trigger === 'signal');
      await sleep(500);
      expect(await daemon.stop('SIGTERM')).toBe(0);
      const messages = received.split('\n').filter((l) => l && l !== 'BOUND' && !l.startsWith('BARRIER=1'));
      const firstIndex = (pred: (m: string) => boolean) => messages.findIndex(pred);
      const ready = firstIndex((m) => m.split('|').includes('READY=1'));
      const status = firstIndex((m) => m.split('|').some((p) => p.startsWith('STATUS=')));
      const reloading = firstIndex((m) => m.split('|').includes('RELOADING=1'));
      const readyAgain = messages.findIndex((m, i) => i > reloading && m.split('|').includes('READY=1'));
      const stopping = firstIndex((m) => m.split('|').includes('STOPPING=1'));
      expect(ready).toBeGreaterThanOrEqual(0);
      expect(status).toBeGreaterThanOrEqual(0);
      expect(reloading).toBeGreaterThan(ready);
      expect(readyAgain).toBeGreaterThan(reloading);
      expect(stopping).toBeGreaterThan(readyAgain);
      expect(messages.join('\n')).toMatch(/STATUS=.*in sync/);
    } finally {
      receiver.kill();
    }
  });
});

/** A minimal Prometheus text-format parser: every sample line must parse, every sample must follow a TYPE. */
function parsePrometheus(text: string): Map<string, { labels: Record<string, string>; value: number }[]> {
  const out = new Map<string, { labels: Record<string, string>; value: number }[]>();
  const typed = new Set<string>();
  for (const line of text.split('\n')) {
    if (!line) continue;
    const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      typed.add(type[1]!);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample: ${line}`);
    const name = m[1]!;
    const base = name.replace(/_(bucket|sum|count)$/, '');
    if (!typed.has(name) && !typed.has(base)) throw new Error(`sample without TYPE: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    const list = out.get(name) ?? [];
    list.push({ labels, value: Number(m[3]) });
    out.set(name, list);
  }
  return out;
}
