// The config watcher on the host's filesystem (inotify): what `lvsd run` must
// keep noticing when directories are deleted and re-created, a file turns
// into a directory and back, or a file is renamed into place. Each callback
// reads the config as the reconciler would; a test waits until one of them
// saw the content it wrote last (a callback that came too early does not count).
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { ConfigWatcher } from '../../../src/daemon/watch.js';

let root: string;
let watcher: ConfigWatcher | undefined;
/** What each callback read, in order. */
let seen: string[];
let errors: Error[];

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'lvsd-watch-'));
  seen = [];
  errors = [];
});
afterEach(async () => {
  await watcher?.close();
  watcher = undefined;
  rmSync(root, { recursive: true, force: true });
});

/** The content of `files` right now, as one string ('-' for one that cannot be read as a file). */
function read(files: string[]): string {
  return files
    .map((f) => {
      try {
        return readFileSync(f, 'utf8');
      } catch {
        return '-';
      }
    })
    .join('|');
}

/** Starts a watcher on `path` whose callbacks record what `files` hold at that moment. */
async function watchConfig(path: string, files: string[], kind?: 'file' | 'directory'): Promise<void> {
  watcher = new ConfigWatcher({
    path,
    ...(kind ? { kind } : {}),
    debounceMs: 40,
    unlinkGraceMs: 150,
    onChange: () => seen.push(read(files)),
    onError: (e) => errors.push(e),
  });
  await watcher.start();
}

/** Waits until a callback saw `want` (what the files hold now); fails after 4 s. */
async function noticed(want: string): Promise<void> {
  const t0 = Date.now();
  while (!seen.includes(want)) {
    if (Date.now() - t0 > 4000)
      expect.fail(`no callback saw ${JSON.stringify(want)}; callbacks saw ${JSON.stringify(seen)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  expect(errors).toEqual([]);
}

describe('the config directory deleted and re-created', () => {
  test('-c FILE: the re-created file, and later saves, are noticed', async () => {
    const etc = join(root, 'etc');
    const file = join(etc, 'lvsd.yaml');
    mkdirSync(etc);
    writeFileSync(file, 'one');
    await watchConfig(file, [file], 'file');
    rmSync(etc, { recursive: true });
    await noticed('-');
    mkdirSync(etc);
    writeFileSync(file, 'two');
    await noticed('two');
    writeFileSync(file, 'three');
    await noticed('three');
  });

  test('-c DIR: the re-created lvsd.yaml and conf.d, and later saves, are noticed', async () => {
    const etc = join(root, 'etc');
    const main = join(etc, 'lvsd.yaml');
    const dropin = join(etc, 'conf.d', 'a.yaml');
    mkdirSync(join(etc, 'conf.d'), { recursive: true });
    writeFileSync(main, 'one');
    await watchConfig(etc, [main, dropin], 'directory');
    rmSync(etc, { recursive: true });
    await noticed('-|-');
    mkdirSync(etc);
    writeFileSync(main, 'two');
    await noticed('two|-');
    mkdirSync(join(etc, 'conf.d'));
    writeFileSync(dropin, 'a');
    await noticed('two|a');
    writeFileSync(dropin, 'b');
    await noticed('two|b');
  });

  test('-c DIR: conf.d deleted and re-created, its new drop-ins and their saves are noticed', async () => {
    const main = join(root, 'lvsd.yaml');
    const dropin = join(root, 'conf.d', 'a.yaml');
    mkdirSync(join(root, 'conf.d'));
    writeFileSync(main, 'main');
    writeFileSync(dropin, 'one');
    await watchConfig(root, [main, dropin], 'directory');
    rmSync(join(root, 'conf.d'), { recursive: true });
    await noticed('main|-');
    mkdirSync(join(root, 'conf.d'));
    writeFileSync(dropin, 'two');
    await noticed('main|two');
    writeFileSync(dropin, 'three');
    await noticed('main|three');
  });

  test('the directory and its parent deleted, then re-created: noticed', async () => {
    const etc = join(root, 'a', 'b');
    const file = join(etc, 'lvsd.yaml');
    mkdirSync(etc, { recursive: true });
    writeFileSync(file, 'one');
    await watchConfig(file, [file], 'file');
    rmSync(join(root, 'a'), { recursive: true });
    await noticed('-');
    mkdirSync(etc, { recursive: true });
    writeFileSync(file, 'two');
    await noticed('two');
    writeFileSync(file, 'three');
    await noticed('three');
  });
});

describe('the config file changing kind', () => {
  test('file -> directory -> file, at once: the file put back, and later saves, are noticed', async () => {
    const file = join(root, 'lvsd.yaml');
    writeFileSync(file, 'one');
    await watchConfig(file, [file], 'file');
    for (const round of ['two', 'three']) {
      rmSync(file);
      mkdirSync(file);
      await noticed('-');
      // Gone and back between two directory listings: only the raw events tell.
      rmSync(file, { recursive: true });
      writeFileSync(file, round);
      await noticed(round);
      seen = [];
    }
    writeFileSync(file, 'four');
    await noticed('four');
  });

  test('a drop-in turned into a directory and back is noticed', async () => {
    const dropin = join(root, 'conf.d', 'a.yaml');
    mkdirSync(join(root, 'conf.d'));
    writeFileSync(dropin, 'one');
    await watchConfig(root, [dropin], 'directory');
    rmSync(dropin);
    mkdirSync(dropin);
    await noticed('-');
    rmSync(dropin, { recursive: true });
    writeFileSync(dropin, 'two');
    await noticed('two');
    writeFileSync(dropin, 'three');
    await noticed('three');
  });
});

describe('ordinary saves', () => {
  test('a file renamed into place (editors, Ansible) is noticed, each time', async () => {
    const file = join(root, 'lvsd.yaml');
    writeFileSync(file, 'one');
    await watchConfig(file, [file]);
    for (const text of ['two', 'three']) {
      writeFileSync(join(root, '.lvsd.yaml.tmp'), text);
      renameSync(join(root, '.lvsd.yaml.tmp'), file);
      await noticed(text);
    }
  });

  test('other files in the directory do not call back', async () => {
    const file = join(root, 'lvsd.yaml');
    writeFileSync(file, 'one');
    await watchConfig(file, [file]);
    writeFileSync(join(root, 'lvsd.yaml.swp'), 'x');
    mkdirSync(join(root, 'other'));
    await new Promise((r) => setTimeout(r, 400));
    expect(seen).toEqual([]);
  });
});
