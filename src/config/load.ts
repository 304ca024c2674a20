/**
 * Reading the config from disk, the only I/O in src/config. A FILE path is
 * that file alone; a DIRECTORY is DIR/lvsd.yaml (if present) then
 * DIR/conf.d/*.yaml in name order. The pure part, loadConfigTexts, takes the
 * texts and does everything else, so tests need no filesystem.
 */
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LvsdError, isLvsdError } from '../errors.js';
import type { DesiredState } from '../model/types.js';
import { MAX_FILE_BYTES } from './limits.js';
import { normalize } from './normalize.js';
import { parseConfigText, sortErrors } from './parse.js';
import type { ParseResult } from './parse.js';
import { checkConfig } from './validate.js';

export const DEFAULT_CONFIG_PATH = '/etc/lvsd';
export const MAIN_FILE = 'lvsd.yaml';
export const DROPIN_DIR = 'conf.d';

/** What a config path is: one file, or a directory with lvsd.yaml and/or conf.d/. */
export type ConfigKind = 'file' | 'directory';

export type LoadResult =
  | {
      ok: true;
      state: DesiredState;
      files: string[];
      hash: string;
      /** Allowed but likely wrong: logged once per content by the daemon, printed by the CLI. */
      warnings: LvsdError[];
      /**
       * Set by the daemon's incremental loader (incremental.ts): how this
       * result was made, and, when incrementally, the keys of the services
       * whose desired state may differ from the previous valid result's.
       */
      delta?: LoadDelta;
    }
  | { ok: false; errors: LvsdError[]; files: string[] };

/** How a daemon's load was made: from the changed items only, or in full (and why). */
export type LoadDelta =
  | {
      mode: 'incremental';
      /** The keys of the services that differ from `base`'s. */
      changed: ReadonlySet<string>;
      /** The state of the loader's previous valid result, which this one was made from. */
      base: DesiredState;
    }
  | { mode: 'full'; reason: string };

export interface ConfigText {
  file: string;
  text: string;
  /** The file's bytes, when read from disk: hashed as they are (cheaper than the text of a big file). */
  bytes?: Uint8Array;
}

/**
 * Parses, validates and normalizes a set of config texts given in order (the
 * main file first, then the drop-ins). Every error of every file is reported,
 * each naming its file; the state is only returned when there is none.
 * `hash` is a sha256 over the files' names and contents.
 */
export function loadConfigTexts(files: readonly ConfigText[], cache?: ParseCache): LoadResult {
  return loadParsed(files, cache).result;
}

/**
 * loadConfigTexts, with the parse results of a valid config (each file's
 * data), for the daemon's incremental loader (incremental.ts) to keep what
 * it needs of them.
 */
export function loadParsed(
  files: readonly ConfigText[],
  cache?: ParseCache,
): { result: LoadResult; parsed?: readonly ParseResult[] } {
  const names = files.map((f) => f.file);
  try {
    return loadTexts(files, names, cache);
  } catch (e) {
    // A loader answers with config errors only: whatever else went wrong is one too, never a stack.
    return { result: { ok: false, errors: [unexpected(names[0] ?? '(none)', e)], files: names } };
  }
}

/**
 * An exception no check foresaw, as a config error. A stack overflow is
 * data nested deeper than some walk over it can go.
 */
function unexpected(file: string, e: unknown): LvsdError {
  if (isLvsdError(e)) return e;
  if (e instanceof RangeError && /call stack/i.test(e.message)) {
    return new LvsdError('CONFIG_TOO_DEEP', 'the config nests too deep to read', { pos: { file }, cause: e });
  }
  const what = e instanceof Error ? `${e.name}: ${e.message.split('\n')[0]!.slice(0, 200)}` : 'an unknown error';
  const message = `internal error while reading the config (${what}); please report it`;
  return new LvsdError('CONFIG_INTERNAL', message, { pos: { file }, cause: e });
}

function loadTexts(
  files: readonly ConfigText[],
  names: string[],
  cache: ParseCache | undefined,
): { result: LoadResult; parsed?: readonly ParseResult[] } {
  if (files.length === 0) {
    const errors = [new LvsdError('CONFIG_EMPTY', 'no config file to read', { pos: { file: '(none)' } })];
    return { result: { ok: false, errors, files: names } };
  }
  const parsed = files.map((f) => parseCached(f, files.length > 1 ? cache : undefined));
  if (cache) for (const file of cache.keys()) if (files.length < 2 || !names.includes(file)) cache.delete(file);
  const checked = checkConfig(parsed);
  const errors = [...parsed.flatMap((p) => p.errors), ...checked.errors];
  if (errors.length > 0) return { result: { ok: false, errors: sortErrors(errors, names), files: names } };
  const warnings = sortErrors(checked.warnings, names);
  return { result: { ok: true, state: normalize(parsed), files: names, hash: hashTexts(files), warnings }, parsed };
}

/**
 * Parse results by file name, kept from one load to the next (lvsd run), so
 * that a change of one drop-in parses that file only. Results depend on
 * nothing but a file's name and content, and nothing changes them after.
 * Only configs of two or more files use it: a lone file changed is parsed
 * anyway, and keeping its parse would only hold memory.
 */
export type ParseCache = Map<string, { digest: string; parsed: ParseResult }>;

function parseCached(f: ConfigText, cache: ParseCache | undefined): ParseResult {
  if (!cache) return parseConfigText(f.text, f.file);
  const digest = createHash('sha256')
    .update(f.bytes ?? f.text)
    .digest('hex');
  const hit = cache.get(f.file);
  if (hit?.digest === digest) return hit.parsed;
  const parsed = parseConfigText(f.text, f.file);
  cache.set(f.file, { digest, parsed });
  return parsed;
}

/**
 * Reads the config at `path` (a file, or a directory with lvsd.yaml and/or
 * conf.d/*.yaml); `cache`: see ParseCache. With `kind`, the path must still
 * be what it was (lvsd run): a directory where the file was is an error, not
 * a config directory, and a file where the directory was is one too.
 */
export async function loadConfig(
  path: string = DEFAULT_CONFIG_PATH,
  cache?: ParseCache,
  kind?: ConfigKind,
): Promise<LoadResult> {
  const read = await readConfigTexts(path, kind);
  return read.ok ? loadConfigTexts(read.texts, cache) : read.failed;
}

/**
 * The texts of the config at `path` (see loadConfig), in reading order, or
 * the errors that kept them from being read. `reuse`: a buffer no one reads
 * any more to read a file into (see readConfigFile); the texts are then only
 * good until it is handed out again.
 */
export async function readConfigTexts(
  path: string,
  kind?: ConfigKind,
  reuse?: (file: string) => Buffer | undefined,
): Promise<{ ok: true; texts: ConfigText[] } | { ok: false; failed: LoadResult & { ok: false } }> {
  let names: string[];
  try {
    names = await configFiles(path, kind);
  } catch (e) {
    return { ok: false, failed: { ok: false, errors: [readError(path, e)], files: [] } };
  }
  if (names.length === 0) {
    const message = `${path} has neither ${MAIN_FILE} nor ${DROPIN_DIR}/*.yaml: the config declares nothing`;
    const errors = [new LvsdError('CONFIG_EMPTY', message, { pos: { file: path } })];
    return { ok: false, failed: { ok: false, errors, files: [] } };
  }
  const texts: ConfigText[] = [];
  const errors: LvsdError[] = [];
  for (const file of names) {
    try {
      const bytes = await readConfigFile(file, reuse?.(file));
      texts.push(fileText(file, bytes));
    } catch (e) {
      errors.push(readError(file, e));
    }
  }
  if (errors.length > 0) return { ok: false, failed: { ok: false, errors, files: names } };
  return { ok: true, texts };
}

/**
 * The bytes of one config file, which must be a regular file (a symbolic
 * link to one is fine) of at most MAX_FILE_BYTES. Read into `reuse` when it
 * is big enough (the daemon's incremental loader hands back the bytes of an
 * older version: a new buffer of a big file each time costs page faults, and
 * its external memory makes V8 collect the heap, both slow in the test kernel). Opened without blocking,
 * so a FIFO never hangs the reader (nor, in `lvsd run`, SIGTERM); never reads
 * more than the bound plus one byte, so /dev/zero or a growing file cannot
 * take the memory.
 */
export async function readConfigFile(file: string, reuse?: Buffer): Promise<Buffer> {
  const handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    const st = await handle.stat();
    if (!st.isFile()) {
      const kind = st.isFIFO()
        ? 'a FIFO'
        : st.isCharacterDevice() || st.isBlockDevice()
          ? 'a device'
          : st.isSocket()
            ? 'a socket'
            : st.isDirectory()
              ? 'a directory'
              : 'not a file';
      const message = `${file} is ${kind}, not a regular file: lvsd reads config from files only`;
      throw new LvsdError('CONFIG_NOT_REGULAR', message, { pos: { file } });
    }
    if (st.size > MAX_FILE_BYTES) throw tooLarge(file);
    const need = Math.min(st.size, MAX_FILE_BYTES) + 1;
    // A buffer of its own (not a slice of Node's pool) that fits: no new allocation, no page faults.
    const own = reuse && reuse.byteOffset === 0 && reuse.buffer.byteLength > Buffer.poolSize;
    const fits = own && reuse.buffer.byteLength >= need;
    const buffer = fits ? Buffer.from(reuse.buffer, 0, need) : Buffer.allocUnsafe(need);
    let length = 0;
    for (;;) {
      if (length === buffer.length) throw tooLarge(file); // grew past the bound while being read
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return buffer.subarray(0, length);
  } finally {
    await handle.close();
  }
}

/**
 * A file's bytes and its text, decoded when first asked for: the daemon's
 * incremental loader compares bytes and decodes only the lines that changed.
 */
function fileText(file: string, bytes: Buffer): ConfigText {
  let text: string | undefined;
  return {
    file,
    bytes,
    // One decode of the whole file: readFile's own 'utf8' decodes chunk by chunk, slowly.
    get text() {
      return (text ??= bytes.toString('utf8'));
    },
  };
}

function tooLarge(file: string): LvsdError {
  const mib = MAX_FILE_BYTES / 1024 / 1024;
  const message = `${file} is larger than ${mib} MiB: lvsd reads config files up to ${mib} MiB`;
  return new LvsdError('CONFIG_TOO_LARGE', message, { pos: { file } });
}

/**
 * The files a config path stands for, in reading order. Throws when `path`
 * cannot be read, or is not of `kind` when given. A 'file' path is returned
 * as it is: its reader refuses whatever is not a regular file.
 */
export async function configFiles(path: string, kind?: ConfigKind): Promise<string[]> {
  if (kind === 'file') return [path];
  const st = await stat(path);
  if (!st.isDirectory()) {
    if (kind !== 'directory') return [path];
    const message = `${path} is no longer a directory: lvsd was started with it as a config directory`;
    throw new LvsdError('CONFIG_READ', message, { pos: { file: path } });
  }
  const out: string[] = [];
  const main = join(path, MAIN_FILE);
  if (await isConfigEntry(main)) out.push(main);
  let entries: string[];
  try {
    entries = await readdir(join(path, DROPIN_DIR));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return out;
    throw e;
  }
  // Plain code-unit order (like LC_ALL=C ls); dot files are editors' and tools' temporaries.
  const dropins = entries
    .filter((n) => n.endsWith('.yaml') && !n.startsWith('.'))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const name of dropins) {
    const file = join(path, DROPIN_DIR, name);
    if (await isConfigEntry(file)) out.push(file);
  }
  return out;
}

/** sha256 (hex) over each file's name and content (its bytes, or its text as UTF-8), NUL-separated. */
export function hashTexts(files: readonly ConfigText[]): string {
  const h = createHash('sha256');
  for (const f of files)
    h.update(f.file)
      .update('\0')
      .update(f.bytes ?? f.text)
      .update('\0');
  return h.digest('hex');
}

/**
 * Is this directory entry a config file to read? A directory is not (skipped);
 * a missing entry is not (it went away while listing). A symbolic link to
 * nothing is an error: skipping it would make the daemon delete that
 * drop-in's services. Anything else is read, and the reader refuses what is
 * not a regular file.
 */
async function isConfigEntry(path: string): Promise<boolean> {
  try {
    return !(await stat(path)).isDirectory();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  let link = false;
  try {
    link = (await lstat(path)).isSymbolicLink();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (!link) return false;
  const message = `${path} is a symbolic link to nothing: fix or remove it (lvsd will not guess what it declared)`;
  throw new LvsdError('CONFIG_DANGLING', message, { pos: { file: path } });
}

/** What is at `path` now; undefined when nothing is (or it cannot be told). */
export async function configKind(path: string): Promise<ConfigKind | undefined> {
  return stat(path).then(
    (s) => (s.isDirectory() ? 'directory' : 'file'),
    () => undefined,
  );
}

function readError(file: string, e: unknown): LvsdError {
  if (isLvsdError(e)) return e;
  const reason =
    (e as NodeJS.ErrnoException).code === 'ENOENT'
      ? 'no such file or directory'
      : e instanceof Error
        ? e.message
        : String(e);
  return new LvsdError('CONFIG_READ', `cannot read ${file}: ${reason}`, { pos: { file }, cause: e });
}
