// director.sync against the real kernel, in a network namespace of its own
// with a dummy interface carrying a documentation address: lvsd starts,
// restarts and stops the kernel's connection sync daemons, ipvsadm (an
// independent client) sees them with the file's settings, daemons ipvsadm
// started read back through lvsd show/import, and the kernel's refusals name
// the daemon and the kernel's reason.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { Daemon, sleep } from '../daemon/daemon-harness.js';
import { LVSD, requireKernel, sh, type ShResult, tmpDir } from '../helpers.js';

const NS = 'lvsdsync';
let dir: string;

async function inNs(cmd: string, ...args: string[]): Promise<ShResult> {
  return sh('ip', ['netns', 'exec', NS, cmd, ...args], { timeoutMs: 60_000 });
}
async function must(cmd: string, ...args: string[]): Promise<string> {
  const r = await inNs(cmd, ...args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}
/** `lvsd ...args` in the namespace; never rejects for the exit status. */
function lvsdNs(...args: string[]): Promise<ShResult> {
  return inNs(LVSD[0]!, ...LVSD.slice(1), ...args);
}

interface Listed {
  role: string;
  interface: string;
  id: number;
  maxlen: number;
  group: string;
  port: number;
  ttl: number;
}
/** The daemons `ipvsadm -L --daemon` prints: `master sync daemon (mcast=sync0, syncid=7, maxlen=1472, ...)`. */
async function ipvsadmDaemons(): Promise<Listed[]> {
  const out: Listed[] = [];
  for (const line of (await must('ipvsadm', '-L', '--daemon')).split('\n')) {
    const m = /^(master|backup) sync daemon \((.*)\)$/.exec(line.trim());
    if (!m) continue;
    const kv = Object.fromEntries(m[2]!.split(', ').map((p) => p.split('=') as [string, string]));
    out.push({
      role: m[1]!,
      interface: kv['mcast']!,
      id: Number(kv['syncid']),
      maxlen: Number(kv['maxlen']),
      group: kv['group']!,
      port: Number(kv['port']),
      ttl: Number(kv['ttl']),
    });
  }
  return out;
}

const SERVICES = `services:
  - vip: 198.51.100.200
    port: 80
    realservers: [198.51.100.193, 198.51.100.195]
`;
function config(name: string, sync: string | undefined, extra = SERVICES): string {
  const file = join(dir, name);
  writeFileSync(file, `version: 1\n${sync !== undefined ? `director:\n  sync: ${sync}\n` : ''}${extra}`);
  return file;
}

async function stopAll(): Promise<void> {
  for (const role of ['master', 'backup']) await inNs('ipvsadm', '--stop-daemon', role);
  await must('ipvsadm', '-C');
}

beforeAll(async () => {
  requireKernel();
  dir = tmpDir();
  await sh('ip', ['netns', 'del', NS]);
  await sh('ip', ['netns', 'add', NS]);
  await must('ip', 'link', 'set', 'lo', 'up');
  await must('ip', 'link', 'add', 'sync0', 'type', 'dummy');
  await must('ip', 'addr', 'add', '192.0.2.50/24', 'dev', 'sync0');
  // Jumbo frames: a backup's default maxlen follows the MTU (8972), a master's stays 1472.
  await must('ip', 'link', 'set', 'sync0', 'mtu', '9000', 'up');
  // An interface that is down: the kernel cannot send sync messages on it.
  await must('ip', 'link', 'add', 'down0', 'type', 'dummy');
});
afterAll(async () => {
  await sh('ip', ['netns', 'del', NS]);
});
beforeEach(stopAll);

describe('lvsd apply and the kernel sync daemons', () => {
  test('apply starts master and backup with the file’s settings (ipvsadm -L --daemon); the same file again: no change', async () => {
    const file = config('both.yaml', '{ interface: sync0, id: 7, group: 239.1.2.3, port: 9000, ttl: 2 }');
    const plan = await lvsdNs('plan', '-c', file);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain(
      '+ sync daemon master sync0 id 7 interface=sync0 id=7 group=239.1.2.3 port=9000 ttl=2 maxlen=1472',
    );
    expect(plan.stdout).toContain(
      '+ sync daemon backup sync0 id 7 interface=sync0 id=7 group=239.1.2.3 port=9000 ttl=2',
    );
    const a = await lvsdNs('apply', '-c', file);
    expect(a.stderr).toBe('');
    expect(a.code).toBe(0);
    const common = { interface: 'sync0', id: 7, group: '239.1.2.3', port: 9000, ttl: 2 };
    expect(await ipvsadmDaemons()).toEqual([
      { role: 'master', ...common, maxlen: 1472 },
      { role: 'backup', ...common, maxlen: 8972 },
    ]);
    // A restart of lvsd with the same file: nothing to send.
    const again = await lvsdNs('plan', '-c', file);
    expect(again.stdout).toContain('No changes.');
    expect(again.code).toBe(0);
  });

  test('a changed id is a stop and a start of each daemon, the plan says a gap follows', async () => {
    await must(LVSD[0]!, ...LVSD.slice(1), 'apply', '-c', config('id7.yaml', '{ interface: sync0, id: 7 }'));
    const file = config('id8.yaml', '{ interface: sync0, id: 8 }');
    const plan = await lvsdNs('plan', '-c', file);
    expect(plan.stdout.split('\n').filter((l) => l.includes('sync daemon'))).toEqual([
      expect.stringMatching(
        /^- sync daemon master sync0 id 7 \(restart: .*sync messages sent between the stop and the start are lost\)$/,
      ),
      expect.stringMatching(/^\+ sync daemon master sync0 id 8 id 7 => 8 \(restart: /),
      expect.stringMatching(/^- sync daemon backup sync0 id 7 \(restart: /),
      expect.stringMatching(/^\+ sync daemon backup sync0 id 8 id 7 => 8 \(restart: /),
    ]);
    expect((await lvsdNs('apply', '-c', file)).code).toBe(0);
    expect((await ipvsadmDaemons()).map((d) => [d.role, d.id])).toEqual([
      ['master', 8],
      ['backup', 8],
    ]);
  });

  test('dropping director.sync from a file with services stops both; a file without services leaves them', async () => {
    await must(LVSD[0]!, ...LVSD.slice(1), 'apply', '-c', config('on.yaml', '{ interface: sync0, id: 7 }'));
    const timeoutsOnly = config('timeouts.yaml', undefined, 'timeouts: { tcp: 900 }\n');
    expect((await lvsdNs('apply', '-c', timeoutsOnly)).code).toBe(0);
    expect(await ipvsadmDaemons()).toHaveLength(2);
    const off = config('off.yaml', undefined);
    const plan = await lvsdNs('plan', '-c', off);
    expect(plan.stdout).toContain('- sync daemon master sync0 id 7 (the file has no director.sync)');
    expect(plan.stdout).toContain('- sync daemon backup sync0 id 7 (the file has no director.sync)');
    expect((await lvsdNs('apply', '-c', off)).code).toBe(0);
    expect(await ipvsadmDaemons()).toEqual([]);
  });
});

describe('daemons ipvsadm started, read by lvsd', () => {
  test('show and import print them as director.sync; applying the import changes nothing', async () => {
    await must('ipvsadm', '--start-daemon', 'master', '--mcast-interface', 'sync0', '--syncid', '9');
    await must('ipvsadm', '--start-daemon', 'backup', '--mcast-interface', 'sync0', '--syncid', '9');
    await must('ipvsadm', '-A', '-t', '198.51.100.200:80', '-s', 'wlc');
    await must('ipvsadm', '-a', '-t', '198.51.100.200:80', '-r', '198.51.100.193', '-g', '-w', '1');
    const show = await lvsdNs('show');
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('director:\n  sync:\n    interface: sync0\n    id: 9\n    role: both\n');
    const json = JSON.parse((await lvsdNs('show', '--format', 'json')).stdout) as { syncDaemons: unknown[] };
    expect(json.syncDaemons).toEqual([
      {
        key: 'master sync0 id 9',
        role: 'master',
        interface: 'sync0',
        id: 9,
        group: '224.0.0.81',
        port: 8848,
        ttl: 1,
        maxlen: 1472,
      },
      {
        key: 'backup sync0 id 9',
        role: 'backup',
        interface: 'sync0',
        id: 9,
        group: '224.0.0.81',
        port: 8848,
        ttl: 1,
        maxlen: 8972,
      },
    ]);
    const ipvsadmText = (await lvsdNs('show', '--format', 'ipvsadm')).stdout;
    const listed = (await must('ipvsadm', '-L', '--daemon')).trim().split('\n');
    for (const l of listed) expect(ipvsadmText).toContain(`# ${l.trim()}`);
    const imported = await lvsdNs('import');
    expect(imported.code).toBe(0);
    const file = join(dir, 'imported.yaml');
    writeFileSync(file, imported.stdout);
    const plan = await lvsdNs('plan', '-c', file);
    expect(plan.stdout).toContain('No changes.');
    expect(plan.code).toBe(0);
  });

  test('a lone master with an IPv6 group', async () => {
    await must('ip', 'addr', 'add', '2001:db8::50/64', 'dev', 'sync0', 'nodad');
    await must(
      'ipvsadm',
      '--start-daemon',
      'master',
      '--mcast-interface',
      'sync0',
      '--syncid',
      '200',
      '--mcast-group',
      'ff02::1:81',
    );
    await must('ipvsadm', '-A', '-t', '198.51.100.200:80', '-s', 'wlc');
    const show = await lvsdNs('show');
    expect(show.stdout).toContain(
      '  sync:\n    interface: sync0\n    id: 200\n    role: master\n    group: ff02::1:81\n',
    );
    const file = join(dir, 'v6.yaml');
    writeFileSync(file, (await lvsdNs('import')).stdout);
    expect((await lvsdNs('plan', '-c', file)).code).toBe(0);
  });
});

describe('refusals', () => {
  test('validation refuses sync with a mixed-family service, naming it; nothing is sent', async () => {
    const file = config(
      'mixed.yaml',
      '{ interface: sync0, id: 7 }',
      'defaults: { forward: tunnel }\nservices:\n  - { vip: 198.51.100.200, port: 80, realservers: [198.51.100.193, "2001:db8::10"] }\n',
    );
    const r = await lvsdNs('apply', '-c', file);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/mixed\.yaml:\d+:\d+: .*tcp\/198\.51\.100\.200:80/);
    expect(await ipvsadmDaemons()).toEqual([]);
    expect(await must('ipvsadm', '-Sn')).toBe('');
  });

  test('the kernel’s own refusal of a mixed-family table (an ignored service) names the daemon and the reason', async () => {
    await must('ipvsadm', '-A', '-t', '203.0.113.1:80', '-s', 'wlc');
    await must('ipvsadm', '-a', '-t', '203.0.113.1:80', '-r', '2001:db8::10', '-i', '-w', '1');
    const file = config(
      'ignored.yaml',
      '{ interface: sync0, id: 7, role: master }',
      `ignore: [{ vip: 203.0.113.1/32 }]\n${SERVICES}`,
    );
    const r = await lvsdNs('apply', '-c', file);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      'start sync daemon master sync0 id 7: invalid request (a service has real servers of another address family',
    );
    expect(r.stderr).toContain('(EINVAL)');
  });

  test('a missing interface: the kernel’s reason, naming the daemon; the services are applied all the same', async () => {
    const r = await lvsdNs('apply', '-c', config('nodev.yaml', '{ interface: nosuch0, id: 7, role: backup }'));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      'start sync daemon backup nosuch0 id 7: no interface nosuch0 in this network namespace (ENODEV)',
    );
    expect(await must('ipvsadm', '-Sn')).toContain('-A -t 198.51.100.200:80');
  });

  test('a master on an interface that is down: the kernel’s reason (ENETUNREACH), naming the daemon', async () => {
    const r = await lvsdNs('apply', '-c', config('down.yaml', '{ interface: down0, id: 7, role: master }'));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      'start sync daemon master down0 id 7: interface down0 is down, or has no route to group 224.0.0.81 (ENETUNREACH)',
    );
    expect(await ipvsadmDaemons()).toEqual([]);
  });
});

describe('lvsd run', () => {
  test('converges the daemons, reports them in /metrics, starts one stopped behind its back again; a restart sends nothing', async () => {
    const file = config('run.yaml', '{ interface: sync0, id: 7 }');
    const d = await Daemon.start(['-c', file, '--listen', '127.0.0.1:9598', '--resync-interval', '1s'], {}, [
      'ip',
      'netns',
      'exec',
      NS,
    ]);
    try {
      await waitDaemons((l) => l.length === 2);
      // The endpoint listens inside the namespace: fetch it from there.
      const fetchMetrics = `fetch('http://127.0.0.1:9598/metrics').then((r) => r.text()).then((t) => process.stdout.write(t))`;
      const metrics = async () => must(process.execPath, '-e', fetchMetrics);
      expect(await metrics()).toContain('lvsd_sync_daemon_up{role="backup",interface="sync0",id="7"} 1');
      await must('ipvsadm', '--stop-daemon', 'backup');
      const t0 = Date.now();
      await waitDaemons((l) => l.some((x) => x.role === 'backup'));
      console.log(`backup sync daemon stopped behind lvsd's back: running again after ${Date.now() - t0} ms`);
      expect(await metrics()).toContain('lvsd_sync_daemon_up{role="backup",interface="sync0",id="7"} 1');
    } finally {
      expect(await d.stop()).toBe(0);
    }
    // lvsd stopped: the daemons keep running. A new lvsd run with the same file sends nothing.
    expect(await ipvsadmDaemons()).toHaveLength(2);
    const again = await Daemon.start(['-c', file], {}, ['ip', 'netns', 'exec', NS]);
    try {
      const rec = await again.waitLog((r) => r.event === 'reconcile', 30_000);
      expect(rec).toMatchObject({ result: 'ok', changes: 0 });
      expect(again.logs.filter((r) => r.event === 'change')).toEqual([]);
    } finally {
      expect(await again.stop()).toBe(0);
    }
  });
});

async function waitDaemons(pred: (l: Listed[]) => boolean, timeoutMs = 15_000): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    const l = await ipvsadmDaemons();
    if (pred(l)) return;
    if (Date.now() - t0 > timeoutMs) throw new Error(`sync daemons did not converge: ${JSON.stringify(l)}`);
    await sleep(100);
  }
}
