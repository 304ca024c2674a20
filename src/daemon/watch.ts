/**
 * Watches the config's directories (never the files' inodes, which editors
 * and Ansible replace) and calls back, debounced, after any change in them.
 * What changed is not interpreted here: the reconciler re-reads the config
 * and skips when its content is what was already applied. So a callback too
 * many costs a read; one too few is the bug.
 *
 * - `add` is a change; `unlink` waits longer (a replace done as
 *   delete-then-create is then seen whole) and never acts by itself: the
 *   reader keeps the last good table when the file is gone.
 * - Directories come and go too. The parent (or nearest existing ancestor)
 *   of each watched directory is watched as well; when a directory on the
 *   way appears or disappears, or a config path changes kind (file <->
 *   directory), the whole watch is set up anew, since chokidar's state for
 *   a path that changed is not to be trusted, and that counts as a change.
 * - chokidar compares directory listings, so a name that is gone and back
 *   between two listings (a directory removed, a file written in its place)
 *   yields no event. The raw inotify events of the watched directories are
 *   heard too: any of them on a config name counts as a change.
 */
import { realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { DROPIN_DIR, MAIN_FILE, type ConfigKind } from '../config/load.js';
import { after } from '../timers.js';

export interface ConfigWatcherOptions {
  /** The -c path: a file, or a directory with lvsd.yaml and conf.d/. */
  path: string;
  /** What the -c path is; read from the disk at start when not given. It is kept, whatever the path becomes. */
  kind?: ConfigKind;
  /** Quiet time after the last event before calling back (ms). */
  debounceMs: number;
  /**
   * Quiet time after a file disappeared (ms). Longer, so that a replace done
   * as delete-then-create is seen whole rather than as a removal.
   */
  unlinkGraceMs: number;
  onChange: (events: string[]) => void;
  onError: (err: Error) => void;
}

export class ConfigWatcher {
  private watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** When the pending callback is due (Date.now() time). */
  private due = 0;
  private events: string[] = [];
  private readonly path: string;
  private isDir = false;
  /** Where a config file that is a symlink points, so edits made there are seen too. */
  private target: string | undefined;
  /** The directories whose entries make the config. */
  private dirs: string[] = [];
  /** The set-up anew in progress, if any; `again` when another was asked for meanwhile. */
  private rewatching: Promise<void> | undefined;
  private again = false;
  private rewatchWait = 0;
  private closed = false;

  constructor(private readonly opts: ConfigWatcherOptions) {
    // Absolute, so that an ancestor of a relative path can be watched too.
    this.path = resolve(opts.path);
  }

  /** Starts watching; resolves when chokidar is ready. */
  async start(): Promise<void> {
    this.isDir = this.opts.kind ? this.opts.kind === 'directory' : await isDirectory(this.path);
    await this.resolveTarget();
    await this.watchAll();
  }

  private async resolveTarget(): Promise<void> {
    if (!this.isDir) this.target = await realpath(this.path).catch(() => undefined);
  }

  /** Replaces the watchers by new ones over the config's directories and their nearest existing ancestors. */
  private async watchAll(): Promise<void> {
    const p = this.path;
    // A file: its directory. A directory: itself and its conf.d (which may appear later).
    const dirs = this.isDir ? [p, join(p, DROPIN_DIR)] : [dirname(p)];
    if (this.target && !dirs.includes(dirname(this.target))) dirs.push(dirname(this.target));
    const present: string[] = [];
    const ancestors = new Set<string>();
    for (const d of dirs) {
      if (await isDirectory(d)) present.push(d);
      ancestors.add(await nearestDirectory(dirname(d)));
    }
    if (this.closed) return;
    this.dirs = dirs;
    const old = this.watchers;
    const fresh = [
      // depth 1 for a directory: conf.d's entries.
      this.watcher(present, this.isDir ? 1 : 0, (path) => this.onTheWay(path) || this.relevant(path)),
      this.watcher([...ancestors], 0, (path) => this.onTheWay(path)),
    ].filter((w) => w !== undefined);
    // The new ones count from now on: what happens while they get ready is not lost.
    this.watchers = fresh.map((w) => w.watcher);
    await Promise.all(old.map((w) => w.close()));
    await Promise.all(fresh.map((w) => w.ready));
  }

  /** A chokidar watcher over `paths` that sees only what `allow` accepts; none for no paths. */
  private watcher(paths: string[], depth: number, allow: (path: string) => boolean) {
    if (paths.length === 0) return undefined;
    const w = watch(paths, {
      ignoreInitial: true,
      depth,
      ignored: (path: string) => !allow(path),
      // Report a symlink swap as a change of the link, not of its target.
      followSymlinks: false,
      atomic: true,
    });
    const ready = new Promise<void>((resolve) => w.once('ready', () => resolve()));
    const current = () => this.watchers.includes(w);
    w.on('all', (event, path) => current() && this.note(event, path));
    w.on('raw', (event, name: string | null, details) => {
      const watched = (details as { watchedPath?: unknown } | undefined)?.watchedPath;
      if (current() && typeof watched === 'string') this.noteRaw(event, name, watched);
    });
    w.on('error', (err) => current() && this.opts.onError(err as Error));
    return { watcher: w, ready };
  }

  /** A config directory or one of its ancestors: its coming or going means watching anew. */
  private onTheWay(path: string): boolean {
    const prefix = path.endsWith(sep) ? path : path + sep;
    return this.dirs.some((d) => d === path || d.startsWith(prefix));
  }

  /** Only the config's own files count; an editor's swap files and backups do not. */
  private relevant(path: string): boolean {
    const p = this.path;
    if (!this.isDir) return path === p || path === this.target;
    const dropins = join(p, DROPIN_DIR);
    return path === join(p, MAIN_FILE) || path === dropins || (dirname(path) === dropins && path.endsWith('.yaml'));
  }

  /** An event as chokidar reports it. */
  private note(event: string, path: string): void {
    const structural = this.onTheWay(path);
    if (!structural && !this.relevant(path)) return;
    this.events.push(`${event} ${path}`);
    const wait = event === 'unlink' || event === 'unlinkDir' ? this.opts.unlinkGraceMs : this.opts.debounceMs;
    if (structural || event === 'addDir' || event === 'unlinkDir') this.rewatch(wait);
    else this.arm(wait, false);
  }

  /** An inotify event of a watched directory (or file): `name` is the entry it is about. */
  private noteRaw(event: string, name: string | null, watched: string): void {
    // A watched file, or a directory's own removal, names itself.
    const paths = name ? [join(watched, name)] : [watched];
    if (name === basename(watched)) paths.push(watched);
    for (const path of paths) {
      if (this.onTheWay(path)) {
        this.events.push(`raw ${event} ${path}`);
        this.rewatch(this.opts.debounceMs);
      } else if (this.relevant(path)) {
        this.events.push(`raw ${event} ${path}`);
        // Never cuts short the grace an unlink asked for: the raw event may be that unlink.
        this.arm(this.opts.debounceMs, true);
      }
    }
  }

  /** Watches anew (once more if asked again meanwhile), then calls back after `wait`. */
  private rewatch(wait: number): void {
    this.rewatchWait = wait;
    if (this.rewatching) {
      this.again = true;
      return;
    }
    const run = async () => {
      do {
        this.again = false;
        await this.resolveTarget();
        await this.watchAll();
      } while (this.again && !this.closed);
      // What changed while no watcher was ready is read now: watching anew counts as a change.
      this.arm(this.rewatchWait, false);
    };
    this.rewatching = run()
      .catch((e: unknown) => this.opts.onError(toError(e)))
      .finally(() => {
        this.rewatching = undefined;
      });
  }

  /** Calls back `wait` ms from now (or later, if `keepLonger` and a later call is already due). */
  private arm(wait: number, keepLonger: boolean): void {
    if (this.closed) return;
    const due = Date.now() + wait;
    if (this.timer) {
      if (keepLonger && this.due > due) return;
      clearTimeout(this.timer);
    }
    this.due = due;
    this.timer = after(
      wait,
      () => this.fire(),
      (e) => this.opts.onError(toError(e)),
    );
  }

  private async fire(): Promise<void> {
    this.timer = undefined;
    const events = this.events;
    this.events = [];
    await this.resolveTarget();
    // A symlink now pointing into another directory: watch that one.
    if (this.target && !this.dirs.includes(dirname(this.target))) this.rewatch(this.opts.debounceMs);
    this.opts.onChange(events);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.rewatching;
    if (this.timer) clearTimeout(this.timer);
    await Promise.all(this.watchers.map((w) => w.close()));
    this.watchers = [];
  }
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** `dir` if it is a directory, else its nearest ancestor that is one. */
async function nearestDirectory(dir: string): Promise<string> {
  let d = dir;
  while (!(await isDirectory(d)) && dirname(d) !== d) d = dirname(d);
  return d;
}

function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
