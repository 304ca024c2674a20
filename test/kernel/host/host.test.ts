// The host side against the real kernel, in throwaway network namespaces:
// VIPs bound and removed through rtnetlink (only lvsd's own), sysctls set,
// tunl0 brought up, and clear errors for what a host lacks. `ip` and
// `sysctl` are the referees.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { LVSD, requireKernel, sh, tmpDir } from '../helpers.js';

const NS = 'lvsd-host-test';
const inNs = (cmd: string, ...args: string[]) => sh('ip', ['netns', 'exec', NS, cmd, ...args], { timeoutMs: 60_000 });
const lvsd = (...args: string[]) => inNs(LVSD[0]!, ...LVSD.slice(1), ...args);
const must = async (cmd: string, ...args: string[]) => {
  const r = await inNs(cmd, ...args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const addrs = async (dev: string) =>
  (await must('ip', '-o', 'addr', 'show', 'dev', dev))
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(/\s+/).slice(2, 4).join(' '));
const sysctl = async (key: string) => (await must('sysctl', '-n', key)).trim();

let dir: string;
const file = (name: string, text: string) => {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
};

beforeAll(() => {
  requireKernel();
  dir = tmpDir();
});
beforeEach(async () => {
  await sh('ip', ['netns', 'del', NS]);
  await sh('ip', ['netns', 'add', NS]);
  await must('ip', 'link', 'set', 'lo', 'up');
  await must('ip', 'link', 'add', 'eth0', 'type', 'dummy');
  await must('ip', 'link', 'set', 'eth0', 'up');
});
afterEach(async () => {
  await sh('ip', ['netns', 'del', NS]);
});

const DIRECTOR = (vips: string[]) => `version: 1
director:
  bind_vips: eth0
  ip_forward: true
  sysctl:
    net.ipv4.vs.expire_nodest_conn: 1
services:
${vips.map((v) => `  - { vip: ${v}, port: 80, scheduler: rr, realservers: ["${v.includes(':') ? '[2001:db8::10]' : '198.51.100.193'}:80"] }`).join('\n')}
`;

describe('director', () => {
  test('binds each VIP as a host route, sets forwarding (both families) and IPVS knobs; a second plan is empty', async () => {
    const f = file('director.yaml', DIRECTOR(['198.51.100.200', '2001:db8::200']));
    const r = await lvsd('apply', '-c', f, '--json');
    expect(r.code, r.stderr).toBe(0);
    const kinds = (
      JSON.parse(r.stdout) as { changes: { kind: string; action: string; target?: string }[] }
    ).changes.map((c) => `${c.action} ${c.kind} ${c.target ?? ''}`.trim());
    expect(kinds).toEqual(
      expect.arrayContaining([
        'add address eth0 198.51.100.200/32',
        'add address eth0 2001:db8::200/128',
        'edit sysctl net.ipv4.ip_forward',
        'edit sysctl net.ipv6.conf.all.forwarding',
        'edit sysctl net.ipv4.vs.expire_nodest_conn',
      ]),
    );
    expect(await addrs('eth0')).toEqual(expect.arrayContaining(['inet 198.51.100.200/32', 'inet6 2001:db8::200/128']));
    expect(await sysctl('net.ipv4.ip_forward')).toBe('1');
    expect(await sysctl('net.ipv6.conf.all.forwarding')).toBe('1');
    expect(await sysctl('net.ipv4.vs.expire_nodest_conn')).toBe('1');
    expect(await must('ipvsadm', '-Sn')).toContain('-A -t 198.51.100.200:80 -s rr');
    const again = await lvsd('plan', '-c', f);
    expect(again.stdout).toContain('No changes.');
    expect(again.code).toBe(0);
    const shown = JSON.parse((await lvsd('show', '--format', 'json')).stdout) as { addresses: { key: string }[] };
    expect(shown.addresses.map((a) => a.key).sort()).toEqual(['eth0 198.51.100.200/32', 'eth0 2001:db8::200/128']);
  });

  test('a VIP whose service goes is removed; an address someone else added never is', async () => {
    await must('ip', 'addr', 'add', '198.51.100.250/32', 'dev', 'eth0'); // not lvsd's
    expect((await lvsd('apply', '-c', file('d1.yaml', DIRECTOR(['198.51.100.200', '198.51.100.201'])))).code).toBe(0);
    const r = await lvsd('apply', '-c', file('d2.yaml', DIRECTOR(['198.51.100.201'])));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('- address eth0 198.51.100.200/32');
    const now = await addrs('eth0');
    expect(now).toContain('inet 198.51.100.201/32');
    expect(now).toContain('inet 198.51.100.250/32');
    expect(now).not.toContain('inet 198.51.100.200/32');
    // Restarting lvsd changes nothing: it recognises its own address from the kernel alone.
    expect((await lvsd('plan', '-c', file('d2.yaml', DIRECTOR(['198.51.100.201'])))).code).toBe(0);
  });

  test('a missing interface is a clear error; the IPVS part still applies', async () => {
    const f = file('bad-if.yaml', DIRECTOR(['198.51.100.200']).replace('bind_vips: eth0', 'bind_vips: eth9'));
    const r = await lvsd('apply', '-c', f);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/HOST_UNSUPPORTED: interface eth9 does not exist \(this host has: lo, .*eth0\)/);
    expect(await must('ipvsadm', '-Sn')).toContain('-A -t 198.51.100.200:80 -s rr');
  });

  test('a setting the kernel lacks is a clear error', async () => {
    const r = await lvsd(
      'apply',
      '-c',
      file('bad-sysctl.yaml', 'version: 1\ndirector:\n  sysctl: { net.ipv4.no_such_knob: 1 }\n'),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/HOST_UNSUPPORTED: this kernel has no setting net\.ipv4\.no_such_knob/);
  });
});

describe('real server', () => {
  test('VIPs on lo, ARP restricted on all and each interface, no IPVS needed; a second plan is empty', async () => {
    const f = file('rs.yaml', 'version: 1\nrealserver:\n  vips: [198.51.100.200, 2001:db8::200]\n');
    const r = await lvsd('apply', '-c', f);
    expect(r.code, r.stderr).toBe(0);
    expect(await addrs('lo')).toEqual(expect.arrayContaining(['inet 198.51.100.200/32', 'inet6 2001:db8::200/128']));
    for (const dev of ['all', 'eth0']) {
      expect(await sysctl(`net.ipv4.conf.${dev}.arp_ignore`)).toBe('1');
      expect(await sysctl(`net.ipv4.conf.${dev}.arp_announce`)).toBe('2');
    }
    expect((await lvsd('plan', '-c', f)).code).toBe(0);
  });

  test('tunnel: tunl0 up, rp_filter off on it and on all', async () => {
    await must('sysctl', '-w', 'net.ipv4.conf.all.rp_filter=1');
    const r = await lvsd(
      'apply',
      '-c',
      file('rs-tun.yaml', 'version: 1\nrealserver:\n  vips: [198.51.100.200]\n  tunnel: true\n'),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(await must('ip', '-o', 'link', 'show', 'tunl0')).toMatch(/[<,]UP[,>]/);
    expect(await sysctl('net.ipv4.conf.tunl0.rp_filter')).toBe('0');
    expect(await sysctl('net.ipv4.conf.all.rp_filter')).toBe('0');
  });
});
