/**
 * The daemon's view that the kernel does not hold — health of checked real
 * servers, what is draining — written to a small JSON file (default
 * /run/lvsd/status.json, systemd's RuntimeDirectory) so that `lvsd show`
 * can print it beside the live table. Written atomically (temp + rename).
 */
import { constants } from 'node:fs';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import type { AnnounceSummary } from '../plan/announce.js';

export const DEFAULT_STATUS_FILE = '/run/lvsd/status.json';

export interface DaemonStatus {
  pid: number;
  /** ISO time of this write. */
  updated: string;
  health: { service: string; realserver: string; up: boolean; since: string; lastError?: string }[];
  /** healthKey or serviceKey -> ISO time by which it is deleted at the latest. */
  draining: Record<string, string>;
  /** director.announce as the last reconcile left it. */
  announce?: AnnounceStatus;
  /** director.vrrp: whether this host holds each VIP now, and since when (ISO). */
  vips?: { vip: string; held: boolean; since: string }[];
  /** director.vrrp.track_file: what lvsd wrote there last. */
  track?: { path: string; value: number; state: string; reason?: string };
}

/** director.announce in the status file: each VIP announced or withdrawn (and why). */
export type AnnounceStatus = AnnounceSummary;

/** A new file only (O_EXCL), never through a symlink (O_NOFOLLOW). */
const CREATE_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/**
 * Writes `status` to `path` through a temp file beside it, then renames
 * (writeAtomic). Mode 0644: `lvsd show` runs as another user.
 */
export async function writeStatus(path: string, status: DaemonStatus): Promise<void> {
  await writeAtomic(path, JSON.stringify(status, null, 1) + '\n');
}

/**
 * Writes `text` to `path` through a temp file beside it, then renames: a
 * reader sees the old content or the new, never part of it. The temp file's
 * name is random and it is created new, never through a symlink: a link
 * planted in the directory (it may be world-writable, such as /tmp) can
 * neither be predicted nor followed. Mode 0644 whatever the umask.
 */
export async function writeAtomic(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(12).toString('hex')}.tmp`);
  const fh = await open(tmp, CREATE_NEW, 0o644);
  try {
    try {
      await fh.chmod(0o644);
      await fh.writeFile(text);
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
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
