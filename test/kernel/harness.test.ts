// Proves the User-Mode Linux test bed: IPVS is there, every scheduler the
// tool offers loads, lo is up, namespaces have their own table.
import fs from 'node:fs';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { flushIpvs, ipvsadm, ipvsRules, requireKernel, sh, tmpDir, withModuleAutoloadDisabled } from './helpers.js';

const SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh'];

beforeAll(() => {
  requireKernel();
});

beforeEach(async () => {
  await flushIpvs();
});

describe('kernel test bed', () => {
  it('runs a UML kernel with IPVS loaded', () => {
    expect(fs.readFileSync('/proc/cpuinfo', 'utf8')).toMatch(/User Mode Linux/);
    expect(fs.existsSync('/proc/net/ip_vs')).toBe(true);
    expect(fs.existsSync('/proc/sys/net/ipv4/vs')).toBe(true);
  });

  it('ipvsadm -Ln lists an empty table', async () => {
    const out = await ipvsadm('-Ln');
    expect(out).toMatch(/^IP Virtual Server version \d+\.\d+\.\d+/);
    expect(await ipvsRules()).toBe('');
  });

  it('a service added with ipvsadm shows up in ipvsadm -Sn', async () => {
    await ipvsadm('-A', '-t', '192.0.2.1:80', '-s', 'rr');
    expect(await ipvsRules()).toBe('-A -t 192.0.2.1:80 -s rr');
  });

  it('lo is up, so real servers can be added (IPVS rejects them with EINVAL otherwise)', async () => {
    const link = await sh('ip', ['-o', 'link', 'show', 'lo']);
    expect(link.code).toBe(0);
    expect(link.stdout).toMatch(/<[^>]*\bUP\b[^>]*>/);
    await ipvsadm('-A', '-t', '192.0.2.1:80', '-s', 'wrr');
    await ipvsadm('-a', '-t', '192.0.2.1:80', '-r', '198.51.100.10:8080', '-m', '-w', '3');
    expect(await ipvsRules()).toBe(
      ['-A -t 192.0.2.1:80 -s wrr', '-a -t 192.0.2.1:80 -r 198.51.100.10:8080 -m -w 3'].join('\n'),
    );
  });

  it('starts each test from an empty table', async () => {
    expect(await ipvsRules()).toBe('');
  });

  it.each(SCHEDULERS)('scheduler %s is available', async (sched) => {
    await ipvsadm('-A', '-t', '192.0.2.1:80', '-s', sched);
    expect(await ipvsRules()).toBe(`-A -t 192.0.2.1:80 -s ${sched}`);
  });

  it('scheduler twos does not exist on this kernel', async () => {
    const r = await sh('ipvsadm', ['-A', '-t', '192.0.2.1:80', '-s', 'twos']);
    expect(r.code).not.toBe(0);
    expect(await ipvsRules()).toBe('');
  });

  it('the SIP persistence engine is available', async () => {
    await ipvsadm('-A', '-u', '192.0.2.1:5060', '-s', 'rr', '-p', '60', '--pe', 'sip');
    expect(await ipvsRules()).toMatch(/^-A -u 192\.0\.2\.1:5060 -s rr -p 60 .*--pe sip/);
  });

  it('IPv6 services work', async () => {
    await ipvsadm('-A', '-t', '[2001:db8::1]:443', '-s', 'mh');
    expect(await ipvsRules()).toBe('-A -t [2001:db8::1]:443 -s mh');
  });

  it('a network namespace has its own, empty IPVS table', async () => {
    await ipvsadm('-A', '-t', '192.0.2.1:80', '-s', 'rr');
    const ns = `lvsd-harness-${process.pid}`;
    const add = await sh('ip', ['netns', 'add', ns]);
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    try {
      const inside = await sh('ip', ['netns', 'exec', ns, 'ipvsadm', '-Sn']);
      expect(inside.code).toBe(0);
      expect(inside.stdout.trim()).toBe('');
      expect((await sh('ip', ['netns', 'exec', ns, 'ipvsadm', '-A', '-t', '203.0.113.7:53', '-s', 'sh'])).code).toBe(0);
      expect((await sh('ip', ['netns', 'exec', ns, 'ipvsadm', '-Sn'])).stdout.trim()).toBe(
        '-A -t 203.0.113.7:53 -s sh',
      );
      // the initial namespace is untouched
      expect(await ipvsRules()).toBe('-A -t 192.0.2.1:80 -s rr');
    } finally {
      await sh('ip', ['netns', 'del', ns]);
    }
    // netns state lives in the guest's private /run, never on the host
    expect(fs.readdirSync('/run/netns')).not.toContain(ns);
  });

  it('veth pairs and bridges can be created (for end-to-end tests)', async () => {
    const veth = await sh('ip', ['link', 'add', 'lvsdt0', 'type', 'veth', 'peer', 'name', 'lvsdt1']);
    expect(veth.stderr).toBe('');
    const br = await sh('ip', ['link', 'add', 'lvsdbr0', 'type', 'bridge']);
    expect(br.stderr).toBe('');
    await sh('ip', ['link', 'del', 'lvsdt0']);
    await sh('ip', ['link', 'del', 'lvsdbr0']);
  });

  it('the kernel loads modules on demand, and withModuleAutoloadDisabled stops it', async () => {
    const knob = fs.readFileSync('/proc/sys/kernel/modprobe', 'utf8');
    if (!fs.existsSync('/sys/module/nlmon')) {
      await withModuleAutoloadDisabled(async () => {
        const r = await sh('ip', ['link', 'add', 'lvsdnl0', 'type', 'nlmon']);
        expect(r.code).not.toBe(0);
      });
      expect(fs.readFileSync('/proc/sys/kernel/modprobe', 'utf8')).toBe(knob);
    }
    const r = await sh('ip', ['link', 'add', 'lvsdnl0', 'type', 'nlmon']);
    expect(r.stderr).toBe('');
    expect(fs.existsSync('/sys/module/nlmon')).toBe(true);
    await sh('ip', ['link', 'del', 'lvsdnl0']);
  });

  it('the host /tmp is shared (results get back to the host through it)', () => {
    const dir = tmpDir();
    fs.writeFileSync(`${dir}/probe`, 'ok');
    expect(fs.readFileSync(`${dir}/probe`, 'utf8')).toBe('ok');
  });
});
