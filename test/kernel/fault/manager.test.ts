// Fault injection (issue 13): another manager — ipvsadm in a loop — editing
// the services lvsd manages while lvsd applies file changes to them. The
// daemon must not crash, must correct the drift at the next resync, and must
// never touch the ignored service.
//
// On main (087f467), in the test kernel: passes (the kernel's EEXIST/ENOENT
// answers mark the picture stale and the next reconcile reads the table), and
// with the daemon and yaml branches merged (f3abbaa, 06fe43c). Run time alone: 10-13 s.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, expect, test } from 'vitest';
import { flushIpvs, ipvsadm, requireKernel } from '../helpers.js';
import { Daemon, sleep } from '../daemon/daemon-harness.js';
import {
  alive,
  ignoredIntact,
  makeIgnoredService,
  save,
  smallConfig,
  stopWithin,
  waitSmall,
  watchableDir,
} from './fault-helpers.js';

const N = 50;
let file: string;
let daemon: Daemon | undefined;

beforeAll(() => requireKernel());
beforeEach(async () => {
  await flushIpvs();
  await makeIgnoredService();
  file = join(watchableDir(), 'lvsd.yaml');
  save(file, smallConfig(1, N));
});
afterEach(async () => {
  if (daemon && alive(daemon)) await daemon.stop('SIGKILL');
  daemon = undefined;
});

/**
 * The other manager: for `seconds`, edits, deletes and re-adds real servers
 * and services lvsd manages (every error ignored, as a careless script would).
 */
function otherManager(seconds: number) {
  const script = `
end=$(( $(date +%s) + ${seconds} )); i=0
while [ $(date +%s) -lt $end ]; do
  i=$((i + 1)); s=198.51.100.$(( i % ${N} + 1 )):80
  ipvsadm -e -t $s -r 203.0.113.10:80 -g -w $(( i % 90 + 100 ))
  ipvsadm -a -t $s -r 203.0.113.99:80 -g -w 5
  ipvsadm -d -t $s -r 203.0.113.11:80
  ipvsadm -D -t 198.51.100.$(( (i + 7) % ${N} + 1 )):80
  ipvsadm -A -t 198.51.100.$(( (i + 7) % ${N} + 1 )):80 -s sh
  ipvsadm -A -t 198.51.100.77:80 -s rr
done 2>/dev/null
echo $i`;
  const child = spawn('sh', ['-c', script], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  return new Promise<number>((resolve) => child.on('exit', () => resolve(Number(out.trim()))));
}

test('ipvsadm in a loop while lvsd applies: no crash, drift corrected at a resync, ignored untouched', async () => {
  daemon = await Daemon.start(['-c', file, '--resync-interval', '2s']);
  await waitSmall(1, N);
  const rounds = otherManager(8);
  // lvsd applies a change to every service meanwhile, several times.
  for (let w = 2; w <= 9; w++) {
    save(file, smallConfig(w, N));
    await sleep(700);
    expect(alive(daemon), 'lvsd run is still running').toBe(true);
  }
  const loops = await rounds;
  expect(loops, 'the other manager ran').toBeGreaterThan(10);
  // The last resync after the loop ended puts everything back.
  await waitSmall(9, N, 10_000);
  const save_ = await ipvsadm('-Sn');
  expect(save_).not.toContain('198.51.100.77:80');
  expect(save_).not.toContain('203.0.113.99');
  expect(ignoredIntact(save_)).toBe(true);
  expect(daemon.logs.some((r) => r.msg === 'drift corrected')).toBe(true);
  expect(daemon.logs.filter((r) => r.level === 'fatal' || r.level === 'raw')).toEqual([]);
  expect(daemon.stderr).toBe('');
  expect(await stopWithin(daemon, 5000)).toBe(0);
}, 60_000);
