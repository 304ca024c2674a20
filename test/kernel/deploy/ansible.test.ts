// The Ansible role deploy/ansible/roles/lvsd run for real (`ansible-playbook
// -c local`, Debian's ansible-core) on a host whose PID 1 is systemd
// (systemd-container.ts): it installs the .deb, templates the config with
// `validate: lvsd validate -c %s`, enables and starts lvsd; a second run
// changes nothing; an invalid template is refused and the running table is
// untouched; a changed template is applied by the daemon, with no handler.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { requireKernel } from '../helpers.js';
import { exec, run, waitFor } from '../e2e/lan.js';
import { IN_CI, type Result, SystemdContainer, buildDeb, missingTools } from './systemd-container.js';

const REPO = path.resolve(import.meta.dirname, '..', '..', '..');
const ROLES = path.join(REPO, 'deploy', 'ansible', 'roles');
const NETNS = 'lvsd-ansible';
const missing = missingTools(['ansible-playbook']);

const PLAYBOOK = `- name: lvsd on this host
  hosts: localhost
  connection: local
  gather_facts: false
  roles:
    - role: lvsd
`;

const service = (name: string, vip: string, scheduler = 'rr') => ({
  name,
  vip,
  port: 80,
  scheduler,
  realservers: ['198.51.100.193', '198.51.100.195'],
});

let sd: SystemdContainer;

/** ansible-playbook inside, with these role variables; returns its result. */
function playbook(vars: Record<string, unknown>): Promise<Result> {
  fs.writeFileSync(sd.file('/root/play/vars.json'), JSON.stringify({ lvsd_deb: '/root/lvsd.deb', ...vars }));
  return sd.exec('ansible-playbook', ['-i', 'localhost,', '-e', '@/root/play/vars.json', '/root/play/site.yml'], {
    timeoutMs: 300_000,
    env: {
      PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
      HOME: '/root',
      LC_ALL: 'C.UTF-8',
      ANSIBLE_ROLES_PATH: '/root/play/roles',
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_FORCE_COLOR: '0',
      ANSIBLE_LOCALHOST_WARNING: 'false',
      ANSIBLE_INVENTORY_UNPARSED_WARNING: 'false',
    },
  });
}
const recap = (r: Result) => {
  const m = /localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/.exec(r.stdout);
  if (!m) throw new Error(`no PLAY RECAP in:\n${r.stdout}\n${r.stderr}`);
  return { ok: Number(m[1]), changed: Number(m[2]), failed: Number(m[4]) };
};
const rules = () => run('ip', ['netns', 'exec', NETNS, 'ipvsadm', '-Sn']);

if (missing.length > 0 && !IN_CI) {
  test.skip(`SKIPPED: the Ansible kernel test needs ${missing.join(', ')} (apt-get install dpkg-dev binutils ansible-core)`, () => {});
} else {
  describe('the Ansible role, run for real under systemd as PID 1', () => {
    beforeAll(async () => {
      requireKernel();
      if (missing.length > 0) throw new Error(`missing (required with CI set): ${missing.join(', ')}`);
      const deb = buildDeb();
      await exec('ip', ['netns', 'del', NETNS]);
      await run('ip', ['netns', 'add', NETNS]);
      await run('ip', ['-n', NETNS, 'link', 'set', 'lo', 'up']);
      sd = await SystemdContainer.boot('ansible', NETNS);
      fs.copyFileSync(deb, sd.file('/root/lvsd.deb'));
      // a container image's policy-rc.d (exit 101) would hide what the maintainer scripts do
      fs.rmSync(sd.file('/usr/sbin/policy-rc.d'), { force: true });
      await sd.ensureNodejsPackage();
      fs.mkdirSync(sd.file('/root/play'), { recursive: true });
      fs.writeFileSync(sd.file('/root/play/site.yml'), PLAYBOOK);
      // A copy inside the container: systemd gives it its own /tmp, where a CI checkout may live.
      fs.cpSync(ROLES, sd.file('/root/play/roles'), { recursive: true });
    }, 300_000);

    afterAll(async () => {
      await sd?.destroy();
      await exec('ip', ['netns', 'del', NETNS]);
    }, 60_000);

    test('the first run installs the .deb, writes the config, enables and starts lvsd', async () => {
      const r = await playbook({ lvsd_services: [service('web', '192.0.2.80')] });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(recap(r).changed).toBeGreaterThan(0);
      expect((await sd.exec('systemctl', ['is-enabled', 'lvsd'])).stdout.trim()).toBe('enabled');
      expect((await sd.exec('systemctl', ['is-active', 'lvsd'])).stdout.trim()).toBe('active');
      expect(await rules()).toContain('-A -t 192.0.2.80:80 -s rr');
      const plan = await sd.exec('lvsd', ['plan', '-c', '/etc/lvsd']);
      expect(plan.code, plan.stderr + plan.stdout).toBe(0);
    }, 300_000);

    test('a second run reports no change', async () => {
      const r = await playbook({ lvsd_services: [service('web', '192.0.2.80')] });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(recap(r), r.stdout).toMatchObject({ changed: 0, failed: 0 });
    }, 300_000);

    test('an invalid template is refused by validate; the file and the running table are untouched', async () => {
      const file = fs.readFileSync(sd.file('/etc/lvsd/lvsd.yaml'), 'utf8');
      const table = await rules();
      const r = await playbook({ lvsd_services: [service('web', '192.0.2.80', 'no-such-scheduler')] });
      expect(r.code).not.toBe(0);
      expect(r.stdout + r.stderr).toMatch(/failed to validate/);
      expect(fs.readFileSync(sd.file('/etc/lvsd/lvsd.yaml'), 'utf8')).toBe(file);
      expect(await rules()).toBe(table);
      expect((await sd.exec('systemctl', ['is-active', 'lvsd'])).stdout.trim()).toBe('active');
    }, 300_000);

    test('a changed template is applied by the running lvsd, with no handler', async () => {
      const pid = (await sd.systemctl('show', 'lvsd', '-p', 'MainPID', '--value')).trim();
      const r = await playbook({ lvsd_services: [service('web', '192.0.2.80'), service('api', '192.0.2.81', 'wrr')] });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).not.toMatch(/RUNNING HANDLER/);
      await waitFor(async () => (await rules()).includes('-A -t 192.0.2.81:80 -s wrr'), {
        timeoutMs: 20_000,
        what: 'the new service',
      });
      expect((await sd.systemctl('show', 'lvsd', '-p', 'MainPID', '--value')).trim()).toBe(pid);
    }, 300_000);
  });
}
