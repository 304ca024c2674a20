// `lvsd run` with a table of 1,000 services x 10 real servers: one changed
// line in the file is one kernel operation (planned against the daemon's
// picture of the table, without reading it), and a change made behind its
// back that the kernel contradicts sends it back to a full read that repairs.
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, expect, test } from 'vitest';
import { flushIpvs, ipvsadm, requireKernel } from '../helpers.js';
import { Daemon, waitTable } from './daemon-harness.js';

const N = 1000;
const vip = (i: number) => `198.51.100.${1 + (i % 250)}`;
const port = (i: number) => 1000 + Math.floor(i / 250);

/** The config; `weight(i, j)` is real server j's weight in service i. */
function config(weight: (i: number, j: number) => number = (_i, j) => j + 1): string {
  const lines = ['version: 1', 'services:'];
  for (let i = 0; i < N; i++) {
    const rs = Array.from({ length: 10 }, (_, j) => `{ address: 203.0.113.${10 + j}, weight: ${weight(i, j)} }`);
    lines.push(
      `  - { name: s${i}, vip: ${vip(i)}, port: ${port(i)}, scheduler: wrr, realservers: [${rs.join(', ')}] }`,
    );
  }
  return lines.join('\n') + '\n';
}

let dir: string;
let file: string;
let daemon: Daemon | undefined;

/** Replaces the file as editors do: a temporary file renamed over it. */
function save(text: string): void {
  writeFileSync(join(dir, '.lvsd.yaml.tmp'), text);
  renameSync(join(dir, '.lvsd.yaml.tmp'), file);
}

beforeAll(() => requireKernel());
beforeEach(async () => {
  await flushIpvs();
  // The guest's tmpfs: UML's hostfs delivers no inotify events.
  dir = mkdtempSync('/run/lvsd-picture-test-');
  file = join(dir, 'lvsd.yaml');
  writeFileSync(file, config());
});
afterEach(async () => {
  if (daemon && daemon.child.exitCode === null) await daemon.stop('SIGKILL');
  daemon = undefined;
  await flushIpvs();
});

const S = 500; // the service whose real server changes
const line = (w: number) => `-a -t ${vip(S)}:${port(S)} -r 203.0.113.13:${port(S)} -g -w ${w}\n`;

test('one changed weight in a 1,000-service file: exactly one kernel operation', async () => {
  daemon = await Daemon.start(['-c', file, '--resync-interval', '0']);
  expect(await daemon.waitLog((r) => r.event === 'reconcile', 120_000)).toMatchObject({
    trigger: 'start',
    result: 'ok',
    changes: N * 11,
  });
  const from = daemon.logs.length;
  save(config((i, j) => (i === S && j === 3 ? 40 : j + 1)));
  const rec = await daemon.waitLog((r) => r.event === 'reconcile' && r.trigger === 'file', 60_000, from);
  expect(rec).toMatchObject({ result: 'ok', changes: 1 });
  const changes = daemon.logs.slice(from).filter((r) => r.event === 'change');
  expect(changes).toEqual([
    expect.objectContaining({
      action: 'edit',
      kind: 'realserver',
      service: `tcp/${vip(S)}:${port(S)}`,
      realserver: `203.0.113.13:${port(S)}`,
      fields: { weight: { old: 4, new: 40 } },
    }),
  ]);
  const table = await ipvsadm('-Sn');
  expect(table).toContain(line(40));
  expect(table.split('\n').filter((l) => l.startsWith('-a ')).length).toBe(N * 10);
  expect(daemon.logs.some((r) => r.event === 'picture_stale')).toBe(false);
}, 240_000);

test('a real server deleted behind its back, then changed in the file: NOT_FOUND, picture stale, a full read repairs it', async () => {
  daemon = await Daemon.start(['-c', file, '--resync-interval', '0']);
  await daemon.waitLog((r) => r.event === 'reconcile', 120_000);
  await ipvsadm('-d', '-t', `${vip(S)}:${port(S)}`, '-r', `203.0.113.13:${port(S)}`);
  const from = daemon.logs.length;
  save(config((i, j) => (i === S && j === 3 ? 41 : j + 1)));
  const stale = await daemon.waitLog((r) => r.event === 'picture_stale', 60_000, from);
  expect(stale).toMatchObject({ level: 'warn', trigger: 'file', reason: expect.stringMatching(/IPVS_NOT_FOUND/) });
  const repaired = await daemon.waitLog((r) => r.event === 'reconcile' && r.trigger === 'resync', 120_000, from);
  expect(repaired).toMatchObject({ result: 'ok', changes: 1 });
  expect(daemon.logs.slice(from).filter((r) => r.event === 'change' && r.trigger === 'resync')).toEqual([
    expect.objectContaining({ action: 'add', kind: 'realserver', realserver: `203.0.113.13:${port(S)}` }),
  ]);
  await waitTable((t) => t.includes(line(41)), 10_000);
}, 240_000);
