import { lstatSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { type DaemonStatus, readStatus, writeStatus } from '../../../src/daemon/status-file.js';

const status: DaemonStatus = { pid: process.pid, updated: '2026-11-30T00:00:00.000Z', health: [], draining: {} };

describe('status file', () => {
  test('a symlink planted at a name an attacker can predict is never followed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvsd-status-'));
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'precious\n');
    const path = join(dir, 'status.json');
    // The names the writer used to take (pid-based), and the file itself.
    for (const pid of [process.pid, process.pid + 1]) symlinkSync(victim, `${path}.${pid}.tmp`);
    symlinkSync(victim, join(dir, '.status.json.tmp'));
    await writeStatus(path, status);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(await readStatus(path)).toEqual(status);
    // The final rename replaced nothing but a name in the directory.
    symlinkSync(victim, join(dir, 'link.json'));
    await writeStatus(join(dir, 'link.json'), status);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(lstatSync(join(dir, 'link.json')).isFile()).toBe(true);
  });

  test('mode 0644 whatever the umask; no temp file is left behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvsd-status-'));
    const path = join(dir, 'status.json');
    const old = process.umask(0o077);
    try {
      await writeStatus(path, status);
      await writeStatus(path, { ...status, updated: '2026-11-30T00:00:01.000Z' });
    } finally {
      process.umask(old);
    }
    expect(statSync(path).mode & 0o777).toBe(0o644);
    expect(readdirSync(dir)).toEqual(['status.json']);
  });
});
