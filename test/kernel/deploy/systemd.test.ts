// The Debian package and its unit under systemd as PID 1 (systemd-container.ts):
// scripts/build-deb.sh builds the .deb, `dpkg -i` installs it in systemd's
// overlay root, and lvsd.service runs as shipped, as the director of the e2e
// LAN with HTTP health checks to two real servers. It proves what the static
// checks of test/unit/deploy cannot: the IP firewall lets health checks reach
// the real servers, READY=1, reload, restart and stop behave as the unit
// says, the journal holds lvsd's JSON lines, a real server's sysctls can be
// written, and the exposure score of the running unit.
//
// Figures (printed, never asserted): the running unit's `systemd-analyze
// security` score, and the time from `systemctl start` to READY with 1,000
// services.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { requireKernel } from '../helpers.js';
import { spawnIn } from '../e2e/lan-core.mjs';
import { type Lan, TCP_PORTS, UDP_PORTS, VIP, createLan, sleep, waitFor, waitRules } from '../e2e/lan.js';
import { IN_CI, SystemdContainer, buildDeb, missingTools } from './systemd-container.js';

const REPO = path.resolve(import.meta.dirname, '..', '..', '..');
const SERVERS = path.join(REPO, 'test', 'kernel', 'e2e', 'servers.py');
const ADDR: Record<string, string> = { rs1: '198.51.100.193', rs2: '198.51.100.195' };
const CONFIG = '/etc/lvsd/lvsd.yaml';
const missing = missingTools(['systemd-analyze', 'python3', 'promtool']);

const director = (rss: string[], extra = '') => `version: 1
services:
  - name: web
    vip: ${VIP}
    port: 80
    scheduler: rr
    realservers: [${rss.map((r) => ADDR[r]).join(', ')}]
    check: { type: http, interval: 1s, timeout: 1s, rise: 1, fall: 2 }
${extra}`;

let lan: Lan;
let sd: SystemdContainer;

const rules = () => lan.ipvsRules('director');
const weightOf = (r: string, rs: string): number | undefined => {
  const m = new RegExp(
    `-a -t ${VIP.replace(/\./g, '\\.')}:80 -r ${ADDR[rs]!.replace(/\./g, '\\.')}:80 -g -w (\\d+)`,
  ).exec(r);
  return m ? Number(m[1]) : undefined;
};
/** Writes the config through the overlay (lvsd's watcher sees it, as an admin's save). */
const writeConfig = (text: string) => fs.writeFileSync(sd.file(CONFIG), text);
/** lvsd's own log lines (JSON) since `since` (a journalctl --since value). */
async function journal(since?: string): Promise<Record<string, unknown>[]> {
  const args = ['--no-pager', '-o', 'cat', '_SYSTEMD_UNIT=lvsd.service', ...(since ? ['--since', since] : [])];
  const text = await sd.run('journalctl', args);
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
const now = async () => (await sd.run('date', ['+%Y-%m-%d %H:%M:%S.%N'])).trim().slice(0, 23);

async function startServers(rs: string): Promise<void> {
  const p = spawnIn(
    rs,
    'python3',
    [SERVERS, rs, '--tcp', TCP_PORTS.join(','), '--udp', UDP_PORTS.join(',')],
    `servers on ${rs}`,
  );
  lan.procs.push(p);
  await p.waitLine((l: string) => l === 'READY', 30_000);
}
async function stopServers(rs: string): Promise<void> {
  const procs = lan.procs.filter((p) => p.label === `servers on ${rs}`);
  await Promise.all(procs.map((p) => p.stop('SIGKILL')));
  lan.procs = lan.procs.filter((p) => !procs.includes(p));
}

if (missing.length > 0 && !IN_CI) {
  test.skip(`SKIPPED: the systemd kernel test needs ${missing.join(', ')} (apt-get install dpkg-dev binutils systemd prometheus)`, () => {});
} else {
  describe('the .deb and lvsd.service under systemd as PID 1', () => {
    beforeAll(async () => {
      requireKernel();
      if (missing.length > 0) throw new Error(`missing (required with CI set): ${missing.join(', ')}`);
      const deb = buildDeb();
      lan = await createLan({ realservers: ['rs1', 'rs2'] });
      sd = await SystemdContainer.boot('deploy', 'director');
      fs.copyFileSync(deb, sd.file('/root/lvsd.deb'));
      // A container image's policy-rc.d (exit 101: never start services from
      // maintainer scripts) would hide what the postinst does on a real host.
      fs.rmSync(sd.file('/usr/sbin/policy-rc.d'), { force: true });
      await sd.ensureNodejsPackage();
    }, 300_000);

    afterAll(async () => {
      await sd?.destroy();
      await lan?.destroy();
    }, 60_000);

    test('dpkg -i: lvsd is enabled, not started, and the default conffile leaves a live table alone', async () => {
      await lan.run('director', 'ipvsadm', ['-A', '-t', '192.0.2.50:443', '-s', 'wrr']);
      const before = await rules();
      await sd.run('dpkg', ['-i', '/root/lvsd.deb'], { timeoutMs: 120_000 });
      expect((await sd.exec('systemctl', ['is-enabled', 'lvsd'])).stdout.trim()).toBe('enabled');
      expect((await sd.exec('systemctl', ['is-active', 'lvsd'])).stdout.trim()).toBe('inactive');
      const plan = await sd.exec('lvsd', ['plan', '-c', '/etc/lvsd']);
      expect(plan.code, plan.stderr + plan.stdout).toBe(0);
      await sd.systemctl('start', 'lvsd');
      expect((await sd.exec('systemctl', ['is-active', 'lvsd'])).stdout.trim()).toBe('active');
      expect(await rules()).toBe(before);
      await sd.systemctl('stop', 'lvsd');
      await lan.run('director', 'ipvsadm', ['-D', '-t', '192.0.2.50:443']);
    }, 180_000);

    test('systemctl start returns once lvsd sent READY=1, with the table equal to the file', async () => {
      writeConfig(director(['rs1', 'rs2']));
      await sd.systemctl('start', 'lvsd');
      // Type=notify: "active" only after READY=1, which lvsd sends after its first apply
      const table = await rules();
      expect(weightOf(table, 'rs1')).toBe(1);
      expect(weightOf(table, 'rs2')).toBe(1);
      const show = await sd.systemctl('show', 'lvsd', '-p', 'ActiveState', '-p', 'Type', '-p', 'StatusText');
      expect(show).toMatch(/ActiveState=active/);
      expect(show).toMatch(/Type=notify/);
      expect(show).toMatch(/StatusText=\S/);
      const plan = await sd.exec('lvsd', ['plan', '-c', '/etc/lvsd']);
      expect(plan.code, plan.stderr + plan.stdout).toBe(0);
    }, 120_000);

    test("the health checks reach the real servers through the unit's IP firewall", async () => {
      // fall: 2 at 1 s: checks the firewall dropped would have quiesced them by now
      await sleep(5000);
      const table = await rules();
      expect(weightOf(table, 'rs1')).toBe(1);
      expect(weightOf(table, 'rs2')).toBe(1);
      // /run inside is systemd's own tmpfs: read it from inside
      const status = JSON.parse(await sd.run('cat', ['/run/lvsd/status.json'])) as { health: { up: boolean }[] };
      expect(status.health).toHaveLength(2);
      expect(status.health.every((h) => h.up)).toBe(true);
    }, 60_000);

    test('a killed real server is quiesced, and comes back', async () => {
      await stopServers('rs1');
      await waitRules(lan, (r) => weightOf(r, 'rs1') === 0 && weightOf(r, 'rs2') === 1, 20_000);
      await startServers('rs1');
      await waitRules(lan, (r) => weightOf(r, 'rs1') === 1, 20_000);
    }, 90_000);

    test('an edited file is applied; systemctl reload re-reads it', async () => {
      writeConfig(director(['rs1', 'rs2']).replace('scheduler: rr', 'scheduler: wrr'));
      await waitRules(lan, (r) => r.includes(`-A -t ${VIP}:80 -s wrr`), 20_000);
      const since = await now();
      await sd.systemctl('reload', 'lvsd');
      await waitFor(
        async () => (await journal(since)).some((l) => l['event'] === 'reconcile' && l['trigger'] === 'signal'),
        {
          timeoutMs: 20_000,
          what: 'a reconcile after SIGHUP',
        },
      );
      expect((await journal(since)).some((l) => l['event'] === 'signal' && l['signal'] === 'SIGHUP')).toBe(true);
    }, 90_000);

    test('systemctl restart sends no kernel change; systemctl stop leaves the table', async () => {
      const before = await rules();
      const since = await now();
      await sd.systemctl('restart', 'lvsd');
      const lines = await journal(since);
      expect(lines.filter((l) => l['event'] === 'change')).toEqual([]);
      expect(lines.some((l) => l['event'] === 'reconcile' && l['trigger'] === 'start' && l['changes'] === 0)).toBe(
        true,
      );
      expect(await rules()).toBe(before);
      await sd.systemctl('stop', 'lvsd');
      expect((await sd.exec('systemctl', ['is-active', 'lvsd'])).stdout.trim()).toBe('inactive');
      expect(await rules()).toBe(before);
    }, 120_000);

    test('dpkg -i of the package again (an upgrade) restarts a running lvsd, with no kernel change', async () => {
      await sd.systemctl('start', 'lvsd');
      const before = await rules();
      const pid = (await sd.systemctl('show', 'lvsd', '-p', 'MainPID', '--value')).trim();
      const since = await now();
      await sd.run('dpkg', ['-i', '/root/lvsd.deb'], { timeoutMs: 120_000 });
      const after = (await sd.systemctl('show', 'lvsd', '-p', 'MainPID', '--value')).trim();
      expect(after).not.toBe(pid);
      expect((await sd.exec('systemctl', ['is-active', 'lvsd'])).stdout.trim()).toBe('active');
      expect((await journal(since)).filter((l) => l['event'] === 'change')).toEqual([]);
      expect(await rules()).toBe(before);
      // a stopped lvsd stays stopped across an upgrade
      await sd.systemctl('stop', 'lvsd');
      await sd.run('dpkg', ['-i', '/root/lvsd.deb'], { timeoutMs: 120_000 });
      expect((await sd.exec('systemctl', ['is-active', 'lvsd'])).stdout.trim()).toBe('inactive');
    }, 180_000);

    test("the journal holds lvsd's JSON log lines", async () => {
      const lines = await journal();
      expect(lines.length).toBeGreaterThan(5);
      for (const l of lines)
        expect(['trace', 'debug', 'info', 'warn', 'error', 'fatal'], JSON.stringify(l)).toContain(l['level']);
      const events = new Set(lines.map((l) => l['event']));
      for (const e of ['started', 'reconcile', 'change', 'health', 'signal', 'stopped']) expect(events).toContain(e);
    }, 60_000);

    test('with the old allow list (localhost only) every real server is quiesced: the firewall is live', async () => {
      const dropin = sd.file('/etc/systemd/system/lvsd.service.d/old-allow-list.conf');
      fs.mkdirSync(path.dirname(dropin), { recursive: true });
      fs.writeFileSync(dropin, '[Service]\nIPAddressAllow=\nIPAddressAllow=localhost\n');
      try {
        await sd.systemctl('daemon-reload');
        await sd.systemctl('start', 'lvsd');
        await waitRules(lan, (r) => weightOf(r, 'rs1') === 0 && weightOf(r, 'rs2') === 0, 20_000);
      } finally {
        await sd.systemctl('stop', 'lvsd');
        fs.rmSync(path.dirname(dropin), { recursive: true, force: true });
        await sd.systemctl('daemon-reload');
      }
      await sd.systemctl('start', 'lvsd');
      await waitRules(lan, (r) => weightOf(r, 'rs1') === 1 && weightOf(r, 'rs2') === 1, 20_000);
    }, 120_000);

    test('promtool check metrics passes on a real /metrics scrape of the running unit', async () => {
      const dropin = sd.file('/etc/systemd/system/lvsd.service.d/listen.conf');
      fs.mkdirSync(path.dirname(dropin), { recursive: true });
      fs.writeFileSync(
        dropin,
        '[Service]\nExecStart=\nExecStart=/usr/bin/lvsd run -c /etc/lvsd --listen 127.0.0.1:9588\n',
      );
      await sd.systemctl('daemon-reload');
      await sd.systemctl('restart', 'lvsd');
      const fetchMetrics =
        "fetch('http://127.0.0.1:9588/metrics').then((r) => r.text()).then((t) => process.stdout.write(t))";
      const scrape = await lan.run('director', process.execPath, ['-e', fetchMetrics]);
      expect(scrape).toMatch(/^lvsd_backend_up\{[^}]*198\.51\.100\.193[^}]*\} 1$/m);
      const check = await lan.exec('director', 'promtool', ['check', 'metrics'], { input: scrape });
      expect(check.code, check.stdout + check.stderr).toBe(0);
      fs.rmSync(dropin);
      await sd.systemctl('daemon-reload');
      await sd.systemctl('restart', 'lvsd');
    }, 90_000);

    test('systemd-analyze security of the running unit: 2.0 or better (printed)', async () => {
      const r = await sd.exec('systemd-analyze', ['security', '--no-pager', 'lvsd.service']);
      const m = /Overall exposure level for lvsd\.service: (\d+\.\d+) (\S+)/.exec(r.stdout + r.stderr);
      expect(m, r.stdout + r.stderr).not.toBeNull();
      process.stdout.write(
        `[figure] systemd-analyze security lvsd.service (running, systemd 252): ${m![1]} ${m![2]}\n`,
      );
      expect(Number(m![1])).toBeLessThanOrEqual(2.0);
      await sd.systemctl('stop', 'lvsd');
    }, 60_000);

    test("a real server host's config (VIP on lo, ARP sysctls) applies under the same unit", async () => {
      writeConfig(`version: 1\nrealserver:\n  vips: [${VIP}]\n`);
      await lan.run('director', 'sh', [
        '-c',
        'echo 0 > /proc/sys/net/ipv4/conf/all/arp_ignore; echo 0 > /proc/sys/net/ipv4/conf/all/arp_announce',
      ]);
      // the unit as it was (/proc/sys hidden and read-only) cannot set them
      const dropin = sd.file('/etc/systemd/system/lvsd.service.d/old-proc.conf');
      fs.mkdirSync(path.dirname(dropin), { recursive: true });
      fs.writeFileSync(dropin, '[Service]\nReadWritePaths=\nProcSubset=pid\nRestart=no\n');
      try {
        await sd.systemctl('daemon-reload');
        await sd.exec('systemctl', ['start', 'lvsd'], { timeoutMs: 120_000 });
        await sleep(3000);
        expect(await lan.sysctl('director', 'net.ipv4.conf.all.arp_ignore')).toBe('0');
      } finally {
        await sd.exec('systemctl', ['stop', 'lvsd']);
        await sd.exec('systemctl', ['reset-failed', 'lvsd']);
        fs.rmSync(dropin);
        await sd.systemctl('daemon-reload');
      }
      await sd.systemctl('start', 'lvsd');
      expect(await lan.sysctl('director', 'net.ipv4.conf.all.arp_ignore')).toBe('1');
      expect(await lan.sysctl('director', 'net.ipv4.conf.all.arp_announce')).toBe('2');
      expect(await lan.addresses('director', 'lo')).toContain(`${VIP}/32`);
      await sd.systemctl('stop', 'lvsd');
    }, 90_000);

    test('1,000 services: time from systemctl start to READY (printed)', async () => {
      await lan.run('director', 'ipvsadm', ['-C']);
      const services = Array.from(
        { length: 1000 },
        (_, i) =>
          `  - { vip: 192.0.2.${1 + (i % 250)}, port: ${1000 + Math.floor(i / 250)}, realservers: [${ADDR['rs1']}, ${ADDR['rs2']}] }`,
      );
      writeConfig(`version: 1\nservices:\n${services.join('\n')}\n`);
      const started = Date.now();
      await sd.systemctl('start', 'lvsd');
      const ms = Date.now() - started;
      process.stdout.write(
        `[figure] systemctl start lvsd to READY=1 with 1,000 services (2,000 real servers): ${ms} ms\n`,
      );
      const count = (await rules()).split('\n').filter((l) => l.startsWith('-A ')).length;
      expect(count).toBe(1000);
      await sd.systemctl('stop', 'lvsd');
      await lan.run('director', 'ipvsadm', ['-C']);
    }, 180_000);
  });
}
