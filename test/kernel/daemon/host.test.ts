// `lvsd run` keeps the host side too: a real server's VIPs follow its file,
// and a director's VIP goes when its service does.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, expect, test } from 'vitest';
import { requireKernel, sh } from '../helpers.js';
import { Daemon, sleep } from './daemon-harness.js';

const NS = 'lvsd-daemon-host';
const must = async (cmd: string, ...args: string[]) => {
  const r = await sh('ip', ['netns', 'exec', NS, cmd, ...args]);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
async function waitAddrs(dev: string, pred: (lines: string) => boolean, timeoutMs = 10_000): Promise<string> {
  const t0 = Date.now();
  for (;;) {
    const out = await must('ip', '-o', 'addr', 'show', 'dev', dev);
    if (pred(out)) return out;
    if (Date.now() - t0 > timeoutMs) throw new Error(`addresses on ${dev} did not converge:\n${out}`);
    await sleep(100);
  }
}

let dir: string;
let daemon: Daemon | undefined;
beforeAll(() => requireKernel());
beforeEach(async () => {
  await sh('ip', ['netns', 'del', NS]);
  await sh('ip', ['netns', 'add', NS]);
  await must('ip', 'link', 'set', 'lo', 'up');
  await must('ip', 'link', 'add', 'eth0', 'type', 'dummy');
  await must('ip', 'link', 'set', 'eth0', 'up');
  dir = mkdtempSync('/run/lvsd-daemon-host-'); // tmpfs: inotify works there, not on hostfs
});
afterEach(async () => {
  if (daemon && daemon.child.exitCode === null) await daemon.stop('SIGKILL');
  daemon = undefined;
  await sh('ip', ['netns', 'del', NS]);
});

test("a real server's VIPs follow its file", async () => {
  const file = join(dir, 'lvsd.yaml');
  writeFileSync(file, 'version: 1\nrealserver:\n  vips: [198.51.100.200]\n');
  daemon = await Daemon.start(['-c', file, '--resync-interval', '0'], {}, ['ip', 'netns', 'exec', NS]);
  await waitAddrs('lo', (o) => o.includes('198.51.100.200/32'));
  expect((await must('sysctl', '-n', 'net.ipv4.conf.all.arp_ignore')).trim()).toBe('1');
  writeFileSync(file, 'version: 1\nrealserver:\n  vips: [198.51.100.201]\n');
  await waitAddrs('lo', (o) => o.includes('198.51.100.201/32') && !o.includes('198.51.100.200/32'));
  expect(await daemon.stop('SIGTERM')).toBe(0);
  // Stopping leaves the host as it is, like the table.
  expect(await must('ip', '-o', 'addr', 'show', 'dev', 'lo')).toContain('198.51.100.201/32');
});

test("a director's VIP goes with its service, and comes back with it", async () => {
  const file = join(dir, 'lvsd.yaml');
  const cfg = (ports: number[]) => `version: 1
director: { bind_vips: eth0 }
services:
${ports.map((p) => `  - { vip: 198.51.100.${p}, port: 80, scheduler: rr, realservers: [198.51.100.193] }`).join('\n')}
`;
  writeFileSync(file, cfg([200, 201]));
  daemon = await Daemon.start(['-c', file, '--resync-interval', '0'], {}, ['ip', 'netns', 'exec', NS]);
  await waitAddrs('eth0', (o) => o.includes('198.51.100.200/32') && o.includes('198.51.100.201/32'));
  writeFileSync(file, cfg([201]));
  await waitAddrs('eth0', (o) => !o.includes('198.51.100.200/32') && o.includes('198.51.100.201/32'));
  expect(await must('ipvsadm', '-Sn')).not.toContain('198.51.100.200');
});
