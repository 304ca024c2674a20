// `lvsd plan` and `lvsd apply` against the real kernel: from an empty table
// and from drift made by hand with ipvsadm. ipvsadm is the referee.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { LVSD, flushIpvs, ipvsadm, ipvsListing, lvsd, requireKernel, sh, sortedLines, tmpDir } from '../helpers.js';

const lvsdCli = (...args: string[]) => lvsd(args);
const save = async () => sortedLines(await ipvsadm('-Sn'));
const listing = async (flag: string) => ipvsListing(await ipvsadm('-Ln', flag));

let dir: string;
function config(text: string): string {
  const file = join(dir, 'source'); // like Ansible's validate temp file: no extension
  writeFileSync(file, text);
  return file;
}

async function applyJson(file: string) {
  const r = await lvsdCli('apply', '-c', file, '--json');
  return {
    ...r,
    json: JSON.parse(r.stdout) as {
      ok: boolean;
      applied: number;
      changes: {
        action: string;
        kind: string;
        service?: string;
        realserver?: string;
        status: string;
        error?: { code: string };
      }[];
    },
  };
}

const CONFIG = `version: 1
timeouts: { tcp: 15m, tcp_fin: 2m, udp: 5m }
ignore:
  - vip: 10.96.0.0/12
  - fwmark: 100
services:
  - name: web
    vip: 192.0.2.200
    port: 80
    scheduler: rr
    realservers:
      - 192.0.2.193
      - address: 192.0.2.195
        weight: 3
        upper_threshold: 100
        lower_threshold: 50
  - name: sticky
    vip: 192.0.2.200
    port: 443
    scheduler: wlc
    persistence: { timeout: 10m, netmask: 255.255.255.0 }
    realservers:
      - address: 192.0.2.193
      - address: 192.0.2.196
        forward: tunnel
        tunnel: { type: gue, port: 6080, checksum: csum }
  - name: dns
    vip: 192.0.2.200
    port: 53
    protocol: udp
    scheduler: sh
    flags: [sh-port]
    one_packet: true
    realservers:
      - { address: 198.51.100.10, forward: nat }
  - name: v6
    vip: 2001:db8::200
    port: 80
    scheduler: mh
    flags: [mh-port]
    realservers: ["[2001:db8::10]:80", "[2001:db8::11]:80"]
  - name: mark
    fwmark: 7
    family: ipv6
    scheduler: wrr
    realservers:
      - { address: 2001:db8::20, weight: 2 }
`;

const EXPECTED = sortedLines(`
-A -t 192.0.2.200:80 -s rr
-a -t 192.0.2.200:80 -r 192.0.2.193:80 -g -w 1
-a -t 192.0.2.200:80 -r 192.0.2.195:80 -g -w 3
-A -t 192.0.2.200:443 -s wlc -p 600 -M 255.255.255.0
-a -t 192.0.2.200:443 -r 192.0.2.193:443 -g -w 1
-a -t 192.0.2.200:443 -r 192.0.2.196:443 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum
-A -u 192.0.2.200:53 -s sh -o -b sh-port
-a -u 192.0.2.200:53 -r 198.51.100.10:53 -m -w 1
-A -t [2001:db8::200]:80 -s mh -b mh-port
-a -t [2001:db8::200]:80 -r [2001:db8::10]:80 -g -w 1
-a -t [2001:db8::200]:80 -r [2001:db8::11]:80 -g -w 1
-A -f 7 -6 -s wrr
-a -f 7 -6 -r [2001:db8::20]:0 -g -w 2
`);

beforeAll(() => {
  requireKernel();
  dir = tmpDir();
});
beforeEach(async () => {
  await flushIpvs();
  await ipvsadm('--set', '900', '120', '300');
});

describe('from an empty table', () => {
  test('apply builds exactly the table, one operation per object, and a second plan is empty', async () => {
    const file = config(CONFIG);
    const plan = await lvsdCli('plan', '-c', file);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain('+ service tcp/192.0.2.200:80 scheduler=rr');
    expect(plan.stdout).toContain('Plan: 13 to add, 0 to change, 0 to delete.');
    expect(await save()).toEqual([]); // plan changes nothing

    const { code, json } = await applyJson(file);
    expect(code).toBe(0);
    expect(json.changes).toHaveLength(13); // 5 services + 8 real servers; timeouts already equal
    expect(json.changes.every((c) => c.status === 'ok')).toBe(true);
    expect(await save()).toEqual(EXPECTED);
    expect(await listing('--thresholds')).toContain('TCP 192.0.2.200:80 | 192.0.2.195:80 100 50 0 0');
    expect((await ipvsadm('-Ln', '--timeout')).trim()).toBe('Timeout (tcp tcpfin udp): 900 120 300');

    const again = await lvsdCli('plan', '-c', file);
    expect(again.stdout).toContain('No changes.');
    expect(again.code).toBe(0);
  });
});

describe('from drift made by hand', () => {
  test('corrects exactly what differs, in place where the kernel allows, and leaves ignored services alone', async () => {
    const file = config(CONFIG);
    expect((await lvsdCli('apply', '-c', file)).code).toBe(0);
    // Someone edits the table by hand.
    await ipvsadm('-E', '-t', '192.0.2.200:80', '-s', 'wlc'); // wrong scheduler
    await ipvsadm('-e', '-t', '192.0.2.200:80', '-r', '192.0.2.193:80', '-g', '-w', '5'); // wrong weight
    await ipvsadm('-e', '-t', '192.0.2.200:80', '-r', '192.0.2.195:80', '-g', '-w', '3', '-x', '10', '-y', '5'); // thresholds
    await ipvsadm('-a', '-t', '192.0.2.200:80', '-r', '192.0.2.199:80', '-g'); // extra real server
    await ipvsadm('-d', '-u', '192.0.2.200:53', '-r', '198.51.100.10:53'); // missing real server
    await ipvsadm('-E', '-t', '192.0.2.200:443', '-s', 'wlc', '-p', '60'); // changed persistence (netmask resets to /32)
    await ipvsadm('-A', '-t', '203.0.113.9:8080', '-s', 'rr'); // extra service
    await ipvsadm('-e', '-f', '7', '-6', '-r', '[2001:db8::20]:0', '-g', '-w', '9'); // IPv6 fwmark drift
    await ipvsadm('-D', '-t', '[2001:db8::200]:80'); // missing IPv6 service
    await ipvsadm('-A', '-t', '10.96.0.10:443', '-s', 'rr'); // another manager's service
    await ipvsadm('-a', '-t', '10.96.0.10:443', '-r', '10.244.1.5:443', '-m');
    await ipvsadm('-A', '-f', '100', '-s', 'rr');
    await ipvsadm('--set', '600', '120', '300');

    const plan = await lvsdCli('plan', '-c', file, '--json');
    expect(plan.code).toBe(2);
    const changes = (
      JSON.parse(plan.stdout) as {
        changes: {
          action: string;
          kind: string;
          service?: string;
          realserver?: string;
          fields: Record<string, { old?: unknown; new?: unknown }>;
        }[];
      }
    ).changes;
    const summary = changes.map((c) => `${c.action} ${c.kind} ${c.service ?? ''} ${c.realserver ?? ''}`.trim());
    expect(summary).toEqual([
      'edit timeouts',
      'edit service tcp/192.0.2.200:80',
      'edit service tcp/192.0.2.200:443',
      'add service tcp/[2001:db8::200]:80',
      'add realserver udp/192.0.2.200:53 198.51.100.10:53',
      // Reverse canonical order: the kernel, adding at the head, then lists ::10 first.
      'add realserver tcp/[2001:db8::200]:80 [2001:db8::11]:80',
      'add realserver tcp/[2001:db8::200]:80 [2001:db8::10]:80',
      'edit realserver tcp/192.0.2.200:80 192.0.2.193:80',
      'edit realserver tcp/192.0.2.200:80 192.0.2.195:80',
      'edit realserver fwmark/7/ipv6 [2001:db8::20]:0',
      'delete realserver tcp/192.0.2.200:80 192.0.2.199:80',
      'delete service tcp/203.0.113.9:8080',
    ]);
    expect(changes[1]!.fields).toEqual({ scheduler: { old: 'wlc', new: 'rr' } });
    expect(changes[7]!.fields).toEqual({ weight: { old: 5, new: 1 } });

    const ignoredBefore = sortedLines(await ipvsadm('-Sn')).filter(
      (l) => l.includes('10.96.0.10') || l.includes('-f 100'),
    );
    const { code, json } = await applyJson(file);
    expect(code).toBe(0);
    expect(json.changes).toHaveLength(12);
    const after = await save();
    expect(after.filter((l) => !l.includes('10.96.0.10') && !l.includes('-f 100'))).toEqual(EXPECTED);
    expect(after.filter((l) => l.includes('10.96.0.10') || l.includes('-f 100'))).toEqual(ignoredBefore);
    expect(await listing('--thresholds')).toContain('TCP 192.0.2.200:80 | 192.0.2.195:80 100 50 0 0');
    expect((await ipvsadm('-Ln', '--timeout')).trim()).toBe('Timeout (tcp tcpfin udp): 900 120 300');

    expect((await lvsdCli('plan', '-c', file)).code).toBe(0);
  });

  test('services: [] removes every service lvsd owns, never an ignored one; no services section touches nothing', async () => {
    await ipvsadm('-A', '-t', '192.0.2.1:80', '-s', 'rr');
    await ipvsadm('-A', '-t', '10.96.0.1:443', '-s', 'rr');
    const none = config('version: 1\ntimeouts: { tcp: 900 }\n');
    const untouched = await lvsdCli('plan', '-c', none);
    expect(untouched.code).toBe(0);
    const empty = config('version: 1\nignore: [{ vip: 10.96.0.0/12 }]\nservices: []\n');
    const { code, json } = await applyJson(empty);
    expect(code).toBe(0);
    expect(json.changes.map((c) => `${c.action} ${c.service}`)).toEqual(['delete tcp/192.0.2.1:80']);
    expect(await save()).toEqual(['-A -t 10.96.0.1:443 -s rr']);
  });
});

describe('failures', () => {
  test('one operation the kernel rejects is reported; the rest is applied', async () => {
    const file = config(`version: 1
services:
  - { vip: 192.0.2.10, port: 80, scheduler: twos, realservers: [192.0.2.20] }
  - { vip: 192.0.2.11, port: 80, scheduler: rr, realservers: [192.0.2.21] }
`);
    const r = await lvsdCli('apply', '-c', file);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /FAILED: \+ service tcp\/192\.0\.2\.10:80.*\n.*IPVS_INVALID: .*scheduler 'twos' is not available/,
    );
    expect(r.stderr).toMatch(/SKIPPED: \+ realserver tcp\/192\.0\.2\.10:80 -> 192\.0\.2\.20:80/);
    expect(await save()).toEqual(['-A -t 192.0.2.11:80 -s rr', '-a -t 192.0.2.11:80 -r 192.0.2.21:80 -g -w 1']);
  });

  test('an invalid config changes nothing', async () => {
    await ipvsadm('-A', '-t', '192.0.2.1:80', '-s', 'rr');
    const r = await lvsdCli(
      'apply',
      '-c',
      config('version: 1\nservices:\n  - vip: 192.0.2.1\n    port: 80\n    schedular: rr\n'),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/source:5:5: unknown key 'schedular' \(did you mean 'scheduler'\?\)/);
    expect(await save()).toEqual(['-A -t 192.0.2.1:80 -s rr']);
  });

  test('without CAP_NET_ADMIN: one clear line, exit 1', async () => {
    // Somewhere the unprivileged user can read (the guest's /run is a tmpfs).
    const file = '/run/lvsd-ktest-unprivileged.yaml';
    writeFileSync(file, CONFIG, { mode: 0o644 });
    const r = await sh('setpriv', [
      '--reuid=65534',
      '--regid=65534',
      '--clear-groups',
      '--inh-caps=-all',
      ...LVSD,
      'plan',
      '-c',
      file,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
    expect(r.stderr).toMatch(/permission denied: lvsd needs root or CAP_NET_ADMIN/);
  });
});
