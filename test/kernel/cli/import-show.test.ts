// `lvsd import` and `lvsd show` against a table made by ipvsadm, the way a
// director set up by a shell script migrates: what import prints validates,
// keeps everything the table had, and applied, makes no changes.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { flushIpvs, ipvsadm, lvsd, requireKernel, sh, tmpDir } from '../helpers.js';

// A script-built director: every kind of attribute.
const SCRIPT = `
-A -t 192.0.2.1:80 -s rr
-a -t 192.0.2.1:80 -r 192.0.2.10:80 -g -w 3
-a -t 192.0.2.1:80 -r 192.0.2.11:8080 -m -w 2
-a -t 192.0.2.1:80 -r 198.51.100.7:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum
-a -t 192.0.2.1:80 -r 198.51.100.8:80 -i -w 1 --tun-type gre --tun-csum
-a -t 192.0.2.1:80 -r 198.51.100.9:80 -i -w 1 --tun-type ipip
-A -t 192.0.2.2:443 -s sh -p 600 -M 255.255.255.0 -b sh-fallback,sh-port
-a -t 192.0.2.2:443 -r 192.0.2.20:443 -g -w 0
-A -u 192.0.2.3:53 -s wlc -p 60 --pe sip -o
-a -u 192.0.2.3:53 -r 192.0.2.30:53 -g -w 1
-A --sctp-service 203.0.113.5:3868 -s lc
-a --sctp-service 203.0.113.5:3868 -r 203.0.113.50:3868 -m -w 1
-A -t [2001:db8::1]:80 -s mh -p 300 -M 64 -b mh-port
-a -t [2001:db8::1]:80 -r [2001:db8::10]:80 -g -w 1
-a -t [2001:db8::1]:80 -r [2001:db8::11]:8080 -m -w 1
-A -f 100 -s wrr
-a -f 100 -r 192.0.2.40:0 -g -w 5
-A -f 7 -6 -s sh -b sh-port
-a -f 7 -6 -r [2001:db8::20]:0 -i -w 1 --tun-type gue --tun-port 5555 --tun-nocsum
`;

let dir: string;
beforeAll(() => {
  requireKernel();
  dir = tmpDir();
});
beforeEach(async () => {
  await flushIpvs();
  await ipvsadm('--set', '900', '120', '300');
  await sh('ipvsadm', ['-R'], { input: SCRIPT });
  // Thresholds are not in -Sn/-R: set them as an operator would.
  await ipvsadm('-e', '-t', '192.0.2.1:80', '-r', '192.0.2.11:8080', '-m', '-w', '2', '-x', '100', '-y', '50');
});

async function validatesAndPlansEmpty(yaml: string, name: string): Promise<void> {
  const file = join(dir, name);
  writeFileSync(file, yaml);
  const v = await lvsd(['validate', '-c', file]);
  expect(v.stderr).toBe('');
  expect(v.code).toBe(0);
  const p = await lvsd(['plan', '-c', file]);
  expect(p.stdout).toContain('No changes.');
  expect(p.code).toBe(0);
}

describe('lvsd import', () => {
  test('from the live table: validates, keeps thresholds and tunnels, applied makes no changes', async () => {
    const before = await ipvsadm('-Sn');
    const r = await lvsd(['import']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/upper_threshold: 100/);
    expect(r.stdout).toMatch(/type: gue/);
    await validatesAndPlansEmpty(r.stdout, 'imported-live');
    const a = await lvsd(['apply', '-c', join(dir, 'imported-live')]);
    expect(a.code).toBe(0);
    expect(await ipvsadm('-Sn')).toBe(before);
  });

  test('from the text of ipvsadm -Sn on stdin', async () => {
    await ipvsadm('-e', '-t', '192.0.2.1:80', '-r', '192.0.2.11:8080', '-m', '-w', '2', '-x', '0', '-y', '0'); // -Sn cannot carry them
    const save = await ipvsadm('-Sn');
    const r = await lvsd(['import', '--from-ipvsadm', '-'], save);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    await validatesAndPlansEmpty(r.stdout, 'imported-text');
  });
});

describe('lvsd import refuses to print a config that deletes every service', () => {
  test('an empty live table exits 1 (IMPORT_EMPTY), unless --allow-empty', async () => {
    await flushIpvs();
    const r = await lvsd(['import']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('the live IPVS table has no services');
    const allowed = await lvsd(['import', '--allow-empty']);
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toContain('services: []');
  });

  test('an empty ipvsadm -Sn pipe exits 1', async () => {
    const r = await lvsd(['import', '--from-ipvsadm', '-'], '');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('standard input holds no ipvsadm table');
  });
});

describe('lvsd show', () => {
  test('--format yaml is a valid config equal to the table', async () => {
    const r = await lvsd(['show']);
    expect(r.code).toBe(0);
    await validatesAndPlansEmpty(r.stdout, 'shown');
  });

  test('--format json carries keys, counters and connection counts', async () => {
    const r = await lvsd(['show', '--format', 'json']);
    const json = JSON.parse(r.stdout) as {
      timeouts: unknown;
      services: {
        key: string;
        stats: Record<string, number>;
        realservers: { key: string; activeConnections: number; stats: Record<string, number> }[];
      }[];
    };
    expect(json.timeouts).toEqual({ tcp: 900, tcpFin: 120, udp: 300 });
    expect(json.services.map((s) => s.key).sort()).toEqual([
      'fwmark/100/ipv4',
      'fwmark/7/ipv6',
      'sctp/203.0.113.5:3868',
      'tcp/192.0.2.1:80',
      'tcp/192.0.2.2:443',
      'tcp/[2001:db8::1]:80',
      'udp/192.0.2.3:53',
    ]);
    const web = json.services.find((s) => s.key === 'tcp/192.0.2.1:80')!;
    expect(web.stats).toMatchObject({ connections: 0, bytesIn: 0 });
    expect(web.realservers.find((r) => r.key === '192.0.2.11:8080')).toMatchObject({
      upperThreshold: 100,
      lowerThreshold: 50,
      activeConnections: 0,
    });
  });

  test('--format ipvsadm reads like ipvsadm -Ln, thresholds and tunnels included', async () => {
    const r = await lvsd(['show', '--format', 'ipvsadm']);
    expect(r.stdout).toMatch(/^IP Virtual Server version 1\.2\.1 \(size=\d+\)/);
    expect(r.stdout).toMatch(/TCP {2}192\.0\.2\.2:443 sh \(sh-fallback,sh-port\) persistent 600 mask 255\.255\.255\.0/);
    expect(r.stdout).toMatch(/-> 192\.0\.2\.11:8080 +Masq +2 +0 +0 +100 +50/);
    expect(r.stdout).toMatch(/-> 198\.51\.100\.7:80 +Tunnel +1 .* gue:6080:csum/);
    expect(r.stdout).toMatch(/FWM {2}7 IPv6 sh \(sh-port\)/);
  });

  test('an unknown format is one clear line, exit 1', async () => {
    const r = await lvsd(['show', '--format', 'xml']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe("lvsd: show: unknown format 'xml' (allowed: yaml, json, ipvsadm)");
  });
});
