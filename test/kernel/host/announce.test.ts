// director.announce against the real kernel with one-shot `lvsd apply`:
// the dummy interface created, each VIP put on it after its services, only
// lvsd's own addresses withdrawn (drain, configured weights as the verdict,
// announce removed), sloppy_tcp set. `ip` and `sysctl` are the referees.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LVSD, requireKernel, sh, tmpDir } from '../helpers.js';

const NS = 'lvsd-announce-test';
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
    .map((l) => l.split(/\s+/).slice(2, 4).join(' '))
    .filter((a) => !a.startsWith('inet6 fe80'))
    .sort();

const A = '198.51.100.200';
const B = '198.51.100.201';
const V6 = '2001:db8::200';
let f: string;

const config = (announce: string | undefined, weightB = 1) => `version: 1
director:
${announce === undefined ? '  ip_forward: false' : `  announce: ${announce}`}
services:
  - { vip: ${A}, port: 80, scheduler: mh, flags: [mh-port], realservers: [198.51.100.193] }
  - { vip: ${B}, port: 80, scheduler: mh, flags: [mh-port], realservers: [{ address: 198.51.100.193, weight: ${weightB} }] }
  - { vip: "${V6}", port: 80, scheduler: mh, flags: [mh-port], realservers: ["[2001:db8::10]:80"] }
`;
const save = (text: string) => writeFileSync(f, text);
const applied = async () => {
  const r = await lvsd('apply', '-c', f, '--json');
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { changes: { kind: string; action: string; target?: string }[] }).changes.map(
    (c) => `${c.action} ${c.kind}${c.target ? ` ${c.target}` : ''}`,
  );
};

beforeAll(async () => {
  requireKernel();
  f = join(tmpDir(), 'director.yaml');
  await sh('ip', ['netns', 'del', NS]);
  await sh('ip', ['netns', 'add', NS]);
  await must('ip', 'link', 'set', 'lo', 'up');
});
afterAll(async () => {
  await sh('ip', ['netns', 'del', NS]);
});

describe('director.announce with lvsd apply', () => {
  test('creates the dummy interface, sets sloppy_tcp, announces each VIP after its services; a second plan is empty', async () => {
    save(config('{ interface: lvs0 }'));
    const changes = await applied();
    expect(changes[0]).toBe('add link lvs0');
    const firstAnnounce = changes.findIndex((c) => c.includes(' announce '));
    const lastIpvs = Math.max(...changes.map((c, i) => (/ (service|realserver)$/.test(c) ? i : -1)));
    expect(firstAnnounce).toBeGreaterThan(lastIpvs);
    expect(changes.slice(firstAnnounce)).toEqual([
      `add announce lvs0 ${A}/32`,
      `add announce lvs0 ${B}/32`,
      `add announce lvs0 ${V6}/128`,
    ]);
    expect(await must('ip', '-d', 'link', 'show', 'lvs0')).toMatch(/UP[\s\S]*dummy/);
    expect(await addrs('lvs0')).toEqual([`inet ${A}/32`, `inet ${B}/32`, `inet6 ${V6}/128`]);
    expect((await must('sysctl', '-n', 'net.ipv4.vs.sloppy_tcp')).trim()).toBe('1');
    const again = await lvsd('plan', '-c', f);
    expect(again.stdout).toContain('No changes.');
    expect(again.code).toBe(0);
  });

  test('configured weight 0 (no health checks in one-shot apply) withdraws that VIP alone', async () => {
    save(config('{ interface: lvs0 }', 0));
    const plan = await lvsd('plan', '-c', f);
    expect(plan.stdout).toMatch(
      new RegExp(`^- announce lvs0 ${B}/32 \\(withdrawn: no real server of its services is up\\)$`, 'm'),
    );
    await applied();
    expect(await addrs('lvs0')).toEqual([`inet ${A}/32`, `inet6 ${V6}/128`]);
  });

  test("drain withdraws every VIP lvsd put there, keeps the services and someone else's address", async () => {
    await must('ip', 'addr', 'add', '198.51.100.99/32', 'dev', 'lvs0');
    save(config('{ interface: lvs0, drain: true }'));
    const changes = await applied();
    // Withdrawn first, before anything else in the plan.
    expect(changes.slice(0, 2).sort()).toEqual([`delete announce lvs0 ${A}/32`, `delete announce lvs0 ${V6}/128`]);
    expect(changes.filter((c) => c.includes(' announce '))).toHaveLength(2);
    expect(await addrs('lvs0')).toEqual(['inet 198.51.100.99/32']);
    expect(await must('ipvsadm', '-Sn')).toContain(`-A -t ${A}:80 -s mh -b mh-port`);
  });

  test('announce removed: nothing of lvsd is left on the interface, which stays', async () => {
    save(config('{ interface: lvs0 }'));
    await applied();
    expect(await addrs('lvs0')).toHaveLength(4);
    save(config(undefined));
    await applied();
    expect(await addrs('lvs0')).toEqual(['inet 198.51.100.99/32']);
    expect(await must('ip', 'link', 'show', 'lvs0')).toContain('lvs0');
  });
});
