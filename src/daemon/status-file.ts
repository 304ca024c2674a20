/**
 * The daemon's view that the kernel does not hold — health of checked real
 * servers, what is draining — written to a small JSON file (default
 * /run/lvsd/status.json, systemd's RuntimeDirectory) so that `lvsd show`
 * can print it beside the live table. Written atomically (temp + rename).
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export const DEFAULT_STATUS_FILE = '/run/lvsd/status.json';

export interface DaemonStatus {
  pid: number;
  /** ISO time of this write. */
  updated: string;
  health: { service: string; realserver: string; up: boolean; since: string; lastError?: string }[];
  /** healthKey or serviceKey -> ISO time by which it is deleted at the latest. */
  draining: Record<string, string>;
}

export async function writeStatus(path: string, status: DaemonStatus): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(status, null, 1) + '\n');
  await rename(tmp, path);
}

/** The status a running daemon wrote, or undefined when there is none (or its writer is gone). */
export async function readStatus(path: string): Promise<DaemonStatus | undefined> {
  let status: DaemonStatus;
  try {
    status = JSON.parse(await readFile(path, 'utf8')) as DaemonStatus;
  } catch {
    return undefined;
  }
  try {
    process.kill(status.pid, 0);
  } catch (e) {
    // EPERM: alive but someone else's (lvsd runs as its own user); ESRCH: gone, the file is stale.
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return undefined;
  }
  return status;
}
