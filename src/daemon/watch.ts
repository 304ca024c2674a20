/**
 * Watches the config's directories (never the files' inodes, which editors
 * and Ansible replace) and calls back, debounced, after any change in them.
 * What changed is not interpreted here: the reconciler re-reads the config
 * and skips when its content is what was already applied.
 */
import { realpath, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { DROPIN_DIR, MAIN_FILE } from '../config/load.js';
import { after } from '../timers.js';

export interface ConfigWatcherOptions {
  /** The -c path: a file, or a directory with lvsd.yaml and conf.d/. */
  path: string;
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
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private events: string[] = [];
  private isDir = false;
  /** Where a config file that is a symlink points, so edits made there are seen too. */
  private target: string | undefined;

  constructor(private readonly opts: ConfigWatcherOptions) {}

  /** Starts watching; resolves when chokidar is ready. */
  async start(): Promise<void> {
    const isDir = await stat(this.opts.path).then((s) => s.isDirectory(), () => false);
    this.isDir = isDir;
    await this.resolveTarget();
    // A file: watch its directory. A directory: itself and its conf.d (which may appear later).
    const dirs = isDir ? [this.opts.path, join(this.opts.path, DROPIN_DIR)] : [dirname(this.opts.path)];
    if (this.target && dirname(this.target) !== dirs[0]) dirs.push(dirname(this.target));
    this.watcher = watch(dirs, {
      ignoreInitial: true,
      depth: isDir ? 1 : 0,
      // Report a symlink swap as a change of the link, not of its target.
      followSymlinks: false,
      atomic: true,
    });
    this.watcher.on('all', (event, path) => this.note(event, path));
    this.watcher.on('error', (err) => this.opts.onError(err as Error));
    await new Promise<void>((resolve) => this.watcher!.once('ready', () => resolve()));
  }

  private async resolveTarget(): Promise<void> {
    if (!this.isDir) this.target = await realpath(this.opts.path).catch(() => undefined);
  }

  /** Only the config's own files count; an editor's swap files and backups do not. */
  private relevant(path: string): boolean {
    const p = this.opts.path;
    if (!this.isDir) return path === p || path === this.target;
    const dropins = join(p, DROPIN_DIR);
    return path === join(p, MAIN_FILE) || path === dropins || (dirname(path) === dropins && path.endsWith('.yaml'));
  }

  private note(event: string, path: string): void {
    if (!this.relevant(path)) return;
    this.events.push(`${event} ${path}`);
    const wait = event === 'unlink' ? this.opts.unlinkGraceMs : this.opts.debounceMs;
    if (this.timer) clearTimeout(this.timer);
    const onError = (e: unknown) => this.opts.onError(e instanceof Error ? e : new Error(String(e)));
    this.timer = after(wait, () => {
      this.timer = undefined;
      const events = this.events;
      this.events = [];
      return this.resolveTarget().then(() => this.opts.onChange(events));
    }, onError);
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    await this.watcher?.close();
  }
}
