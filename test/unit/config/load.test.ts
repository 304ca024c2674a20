import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configFiles, hashTexts, loadConfig, loadConfigTexts } from '../../../src/config/load.js';
import type { ParseCache } from '../../../src/config/load.js';
import { MAX_FILE_BYTES } from '../../../src/config/limits.js';
import { errorsOf, lines, stateOf, withServices } from './helpers.js';

const MAIN = lines(
  'version: 1',
  'timeouts: { tcp: 15m }',
  'services:',
  '  - { name: web, vip: 192.0.2.1, port: 80, realservers: [192.0.2.10] }',
);
const DNS = lines(
  'version: 1',
  'services:',
  '  - { name: dns, vip: 192.0.2.53, port: 53, protocol: udp }',
  'ignore: [{ fwmark: 9 }]',
);
const K8S = lines('version: 1', 'ignore:', '  - vip: 10.96.0.0/12');

describe('loadConfigTexts', () => {
  test('services and ignore rules of all files are added together, in file order', () => {
    const state = stateOf(MAIN, DNS, K8S);
    expect(state.services!.map((s) => s.name)).toEqual(['web', 'dns']);
    expect(state.ignore).toEqual([{ fwmark: 9 }, { vip: { network: '10.96.0.0', length: 12, family: 'ipv4' } }]);
    expect(state.timeouts).toEqual({ tcp: 900 });
  });

  test('reports the files, and a hash of names and contents', () => {
    const r = loadConfigTexts([
      { file: '/etc/lvsd/lvsd.yaml', text: MAIN },
      { file: '/etc/lvsd/conf.d/dns.yaml', text: DNS },
    ]);
    expect(r).toMatchObject({ ok: true, files: ['/etc/lvsd/lvsd.yaml', '/etc/lvsd/conf.d/dns.yaml'] });
    if (!r.ok) return;
    expect(r.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(r.hash).toBe(
      hashTexts([
        { file: '/etc/lvsd/lvsd.yaml', text: MAIN },
        { file: '/etc/lvsd/conf.d/dns.yaml', text: DNS },
      ]),
    );
    const other = (files: { file: string; text: string }[]) => hashTexts(files) !== r.hash;
    expect(
      other([
        { file: '/etc/lvsd/lvsd.yaml', text: MAIN + '\n' },
        { file: '/etc/lvsd/conf.d/dns.yaml', text: DNS },
      ]),
    ).toBe(true);
    expect(
      other([
        { file: '/etc/lvsd/lvsd.yaml', text: MAIN },
        { file: '/etc/lvsd/conf.d/dns2.yaml', text: DNS },
      ]),
    ).toBe(true);
    expect(
      other([
        { file: '/etc/lvsd/conf.d/dns.yaml', text: DNS },
        { file: '/etc/lvsd/lvsd.yaml', text: MAIN },
      ]),
    ).toBe(true);
    // No ambiguity between where one file ends and the next begins.
    expect(hashTexts([{ file: 'a', text: 'bc' }])).not.toBe(hashTexts([{ file: 'ab', text: 'c' }]));
  });

  test('every error names its file and the errors come in file order', () => {
    const r = loadConfigTexts([
      { file: 'lvsd.yaml', text: lines('version: 1', 'servces: []') },
      { file: 'conf.d/a.yaml', text: lines('version: 1', 'services: [{ vip: 192.0.2.1 }]') },
      { file: 'conf.d/b.yaml', text: 'version: 1\n\tservices: []\n' },
    ]);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map(String)).toEqual([
      expect.stringMatching(/^lvsd\.yaml:2:1: unknown key 'servces'/),
      'conf.d/a.yaml:2:14: a service with a vip needs a port',
      expect.stringMatching(/^conf\.d\/b\.yaml:2:1: /),
    ]);
    expect(r.files).toEqual(['lvsd.yaml', 'conf.d/a.yaml', 'conf.d/b.yaml']);
  });

  test('version is required in drop-ins too', () => {
    const [e] = errorsOf(MAIN, lines('services: []'));
    expect(e).toMatchObject({ code: 'CONFIG_MISSING', pos: { file: 'b.yaml', line: 1, column: 1 } });
  });
});

describe('the parse cache (lvsd run): an unchanged file is not parsed again', () => {
  const files = (main: string, dns: string) => [
    { file: 'lvsd.yaml', text: main },
    { file: 'conf.d/dns.yaml', text: dns },
  ];
  const DNS2 = DNS.replace('192.0.2.53', '192.0.2.54');

  test('a changed drop-in is parsed again, the unchanged file is the same parse; the state is what an uncached load gives', () => {
    const cache: ParseCache = new Map();
    const first = loadConfigTexts(files(MAIN, DNS), cache);
    const mainParse = cache.get('lvsd.yaml')!.parsed;
    const dnsParse = cache.get('conf.d/dns.yaml')!.parsed;
    const second = loadConfigTexts(files(MAIN, DNS2), cache);
    expect(cache.get('lvsd.yaml')!.parsed).toBe(mainParse);
    expect(cache.get('conf.d/dns.yaml')!.parsed).not.toBe(dnsParse);
    expect(first).toEqual(loadConfigTexts(files(MAIN, DNS)));
    expect(second).toEqual(loadConfigTexts(files(MAIN, DNS2)));
    expect(second.ok && second.state.services!.map((s) => s.address)).toEqual(['192.0.2.1', '192.0.2.54']);
  });

  test('errors come back from a cached parse as they came the first time', () => {
    const cache: ParseCache = new Map();
    const bad = lines('version: 1', 'services:', '  - { vip: 192.0.2.53, port: 53, shceduler: rr }');
    const once = loadConfigTexts(files(MAIN, bad), cache);
    const again = loadConfigTexts(files(MAIN, bad), cache);
    expect(once.ok).toBe(false);
    expect(again).toEqual(once);
  });

  test('files that are gone leave the cache, and a lone file is never kept', () => {
    const cache: ParseCache = new Map();
    loadConfigTexts(files(MAIN, DNS), cache);
    expect([...cache.keys()].sort()).toEqual(['conf.d/dns.yaml', 'lvsd.yaml']);
    loadConfigTexts(
      [
        { file: 'lvsd.yaml', text: MAIN },
        { file: 'conf.d/k8s.yaml', text: K8S },
      ],
      cache,
    );
    expect([...cache.keys()].sort()).toEqual(['conf.d/k8s.yaml', 'lvsd.yaml']);
    loadConfigTexts([{ file: 'lvsd.yaml', text: MAIN }], cache);
    expect(cache.size).toBe(0);
  });
});

describe('a config that declares nothing is an error, never "delete everything"', () => {
  test.each([
    ['an empty file', ''],
    ['only comments', '# nothing yet\n'],
    ['only the version', 'version: 1\n'],
  ])('%s', (_, text) => {
    const [e, ...rest] = errorsOf(text);
    expect(rest).toEqual([]);
    expect(e).toMatchObject({ code: 'CONFIG_EMPTY', pos: { file: 'a.yaml', line: 1, column: 1 } });
  });

  test('every file only the version', () => {
    expect(errorsOf('version: 1\n', 'version: 1\n').map((e) => e.code)).toEqual(['CONFIG_EMPTY']);
  });

  test('an empty drop-in next to a full main file', () => {
    expect(errorsOf(MAIN, '')).toMatchObject([{ code: 'CONFIG_EMPTY', pos: { file: 'b.yaml' } }]);
  });

  test('a main file with only the version is fine when a drop-in declares something', () => {
    expect(stateOf('version: 1\n', DNS).services).toHaveLength(1);
  });

  test('no files at all', () => {
    expect(loadConfigTexts([])).toMatchObject({ ok: false, errors: [{ code: 'CONFIG_EMPTY' }], files: [] });
  });

  test('services: [] alone is a real declaration', () => {
    expect(stateOf(lines('version: 1', 'services: []'))).toEqual({ ignore: [], services: [] });
  });
});

describe('loadConfig (filesystem)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lvsd-config-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function tree(name: string, files: Record<string, string>): Promise<string> {
    const root = join(dir, name);
    for (const [path, text] of Object.entries(files)) {
      await mkdir(join(root, path, '..'), { recursive: true });
      await writeFile(join(root, path), text);
    }
    await mkdir(root, { recursive: true });
    return root;
  }

  test('a directory: lvsd.yaml, then conf.d/*.yaml in name order', async () => {
    const root = await tree('full', {
      'lvsd.yaml': MAIN,
      'conf.d/20-k8s.yaml': K8S,
      'conf.d/10-dns.yaml': DNS,
      'conf.d/README': 'not yaml',
      'conf.d/old.yaml.bak': 'version: 2',
      'conf.d/.10-dns.yaml.swp': 'junk',
      'conf.d/x.yml': 'version: 2',
    });
    await mkdir(join(root, 'conf.d', 'sub.yaml'));
    const r = await loadConfig(root);
    expect(r).toMatchObject({
      ok: true,
      files: [join(root, 'lvsd.yaml'), join(root, 'conf.d/10-dns.yaml'), join(root, 'conf.d/20-k8s.yaml')],
    });
    if (r.ok) expect(r.state.services!.map((s) => s.name)).toEqual(['web', 'dns']);
  });

  test('symlinked drop-ins are read', async () => {
    const root = await tree('links', { 'lvsd.yaml': MAIN, 'available/dns.yaml': DNS });
    await mkdir(join(root, 'conf.d'));
    await symlink(join(root, 'available/dns.yaml'), join(root, 'conf.d/dns.yaml'));
    expect(await configFiles(root)).toEqual([join(root, 'lvsd.yaml'), join(root, 'conf.d/dns.yaml')]);
  });

  test('a directory with drop-ins only', async () => {
    const root = await tree('dropins', { 'conf.d/dns.yaml': DNS });
    expect(await loadConfig(root)).toMatchObject({ ok: true, files: [join(root, 'conf.d/dns.yaml')] });
  });

  test('a file path reads that file alone, whatever its name', async () => {
    const root = await tree('single', { source: MAIN, 'conf.d/dns.yaml': DNS });
    const r = await loadConfig(join(root, 'source'));
    expect(r).toMatchObject({ ok: true, files: [join(root, 'source')] });
    if (r.ok) expect(r.state.services).toHaveLength(1);
  });

  test('the hash is the one loadConfigTexts computes', async () => {
    const root = await tree('hash', { 'lvsd.yaml': MAIN });
    const r = await loadConfig(root);
    expect(r.ok && r.hash).toBe(hashTexts([{ file: join(root, 'lvsd.yaml'), text: MAIN }]));
  });

  test('an empty directory declares nothing', async () => {
    const root = await tree('empty', {});
    const r = await loadConfig(root);
    expect(r).toMatchObject({ ok: false, errors: [{ code: 'CONFIG_EMPTY', pos: { file: root } }] });
  });

  test('a missing path is CONFIG_READ', async () => {
    const r = await loadConfig(join(dir, 'nope'));
    expect(r).toMatchObject({
      ok: false,
      errors: [{ code: 'CONFIG_READ', pos: { file: join(dir, 'nope') } }],
      files: [],
    });
    if (!r.ok) expect(r.errors[0]!.message).toContain('no such file or directory');
  });

  test('errors in files on disk name those files', async () => {
    const root = await tree('broken', {
      'lvsd.yaml': MAIN,
      'conf.d/dup.yaml': withServices('  - { vip: 192.0.2.1, port: 80 }'),
    });
    const r = await loadConfig(root);
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.errors.map(String)).toEqual([
        `${join(root, 'conf.d/dup.yaml')}:3:12: service tcp/192.0.2.1:80 is already defined at ${join(root, 'lvsd.yaml')}:4:23`,
      ]);
  });

  test('with a kind (lvsd run), a file path that became a directory is an error, not a config directory', async () => {
    // A valid config inside it must not be read: the operator pointed at a file.
    const root = await tree('was-a-file', { 'lvsd.yaml': MAIN });
    const r = await loadConfig(root, undefined, 'file');
    expect(r).toMatchObject({ ok: false, errors: [{ code: 'CONFIG_NOT_REGULAR', pos: { file: root } }] });
    if (!r.ok) expect(r.errors[0]!.message).toContain('is a directory, not a regular file');
    expect(await loadConfig(root)).toMatchObject({ ok: true });
  });

  test('with a kind (lvsd run), a directory path that became a file is an error', async () => {
    const file = join(await tree('was-a-dir', { 'lvsd.yaml': MAIN }), 'lvsd.yaml');
    const r = await loadConfig(file, undefined, 'directory');
    expect(r).toMatchObject({ ok: false, errors: [{ code: 'CONFIG_READ', pos: { file } }] });
    if (!r.ok) expect(r.errors[0]!.message).toContain('no longer a directory');
    expect(await loadConfig(file, undefined, 'file')).toMatchObject({ ok: true });
  });
});

describe('resources: a loader reads regular files of bounded size and bounded data, and answers with config errors only', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lvsd-bounds-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('-c /dev/zero is refused at once, without reading it', async () => {
    const r = await loadConfig('/dev/zero');
    expect(r).toMatchObject({ ok: false, errors: [{ code: 'CONFIG_NOT_REGULAR', pos: { file: '/dev/zero' } }] });
  });

  test('-c on a FIFO is refused without waiting for a writer', async () => {
    const fifo = join(dir, 'fifo.yaml');
    execFileSync('mkfifo', [fifo]);
    const r = await loadConfig(fifo);
    expect(r).toMatchObject({ ok: false, errors: [{ code: 'CONFIG_NOT_REGULAR' }] });
    if (!r.ok) expect(r.errors[0]!.message).toContain('a FIFO');
  });

  test('a FIFO among the drop-ins is an error, not skipped', async () => {
    const root = join(dir, 'fifo-dropin');
    await mkdir(join(root, 'conf.d'), { recursive: true });
    await writeFile(join(root, 'lvsd.yaml'), MAIN);
    execFileSync('mkfifo', [join(root, 'conf.d', 'dns.yaml')]);
    expect(await loadConfig(root)).toMatchObject({ ok: false, errors: [{ code: 'CONFIG_NOT_REGULAR' }] });
  });

  test(`a file over ${MAX_FILE_BYTES / 1024 / 1024} MiB is CONFIG_TOO_LARGE; one at the bound is read`, async () => {
    const big = join(dir, 'big.yaml');
    await writeFile(big, '');
    await truncate(big, MAX_FILE_BYTES + 1); // sparse: costs no disk
    expect(await loadConfig(big)).toMatchObject({ ok: false, errors: [{ code: 'CONFIG_TOO_LARGE' }] });
    const padded = join(dir, 'padded.yaml');
    await writeFile(padded, MAIN + '#'.repeat(MAX_FILE_BYTES - Buffer.byteLength(MAIN)));
    expect(await loadConfig(padded)).toMatchObject({ ok: true });
  }, 30_000);

  test('a symlinked config file is read; a dangling drop-in is CONFIG_DANGLING, never skipped', async () => {
    const root = join(dir, 'dangling');
    await mkdir(join(root, 'conf.d'), { recursive: true });
    await writeFile(join(root, 'real.yaml'), MAIN);
    await symlink(join(root, 'real.yaml'), join(root, 'lvsd.yaml'));
    expect(await loadConfig(root)).toMatchObject({ ok: true });
    await symlink(join(root, 'gone.yaml'), join(root, 'conf.d', 'dns.yaml'));
    const r = await loadConfig(root);
    expect(r).toMatchObject({
      ok: false,
      errors: [{ code: 'CONFIG_DANGLING', pos: { file: join(root, 'conf.d', 'dns.yaml') } }],
    });
  });

  test('5,000 nested [ are CONFIG_TOO_DEEP, not a stack overflow', () => {
    for (const text of [
      `version: 1\nservices: ${'['.repeat(5000)}`,
      `version: 1\nservices: ${'['.repeat(5000)}${']'.repeat(5000)}\n`,
      `version: 1\nx: ${'{a: '.repeat(3000)}1${'}'.repeat(3000)}\n`,
      `version: 1\n${'[\t'.repeat(5000)}\n`,
    ]) {
      const [e, ...rest] = errorsOf(text);
      expect(rest).toEqual([]);
      expect(e).toMatchObject({ code: 'CONFIG_TOO_DEEP' });
    }
  });

  test('999 aliases of a 10,000-server pool are CONFIG_TOO_MANY, read in well under a second', () => {
    const pool = Array.from({ length: 10_000 }, (_, i) => `203.0.113.${i % 250}:${1000 + Math.floor(i / 250)}`).join(
      ', ',
    );
    const services = ['  - { vip: 192.0.2.1, port: 1, realservers: &pool [' + pool + '] }'];
    for (let i = 2; i <= 1000; i++) services.push(`  - { vip: 192.0.2.1, port: ${i}, realservers: *pool }`);
    const started = performance.now();
    const [e, ...rest] = errorsOf(withServices(...services));
    expect(rest).toEqual([]);
    expect(e).toMatchObject({ code: 'CONFIG_TOO_MANY', pos: { line: 2, column: 1 } });
    expect(e!.message).toContain('10,000,000 real servers');
    expect(performance.now() - started).toBeLessThan(5000); // before: 49 s and 970 MB
  });

  test('aliases of aliases ("billion laughs") are CONFIG_TOO_MANY', () => {
    const levels = ['version: 1', 'x0: &x0 [a, a, a, a, a, a, a, a, a, a]'];
    for (let i = 1; i <= 9; i++)
      levels.push(`x${i}: &x${i} [${Array.from({ length: 10 }, () => `*x${i - 1}`).join(', ')}]`);
    const [e] = errorsOf(lines(...levels));
    expect(e).toMatchObject({ code: 'CONFIG_TOO_MANY' });
  });
});

describe('errors name the problem, never the content of a file that is not a config', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lvsd-content-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const HASH = '$6$abcdefgh$' + 'Kq3vX9z'.repeat(12);
  /** No run of file content longer than 40 characters, and (where there is one) no part of the password hash. */
  const echoes = (message: string, text: string, hash: boolean) =>
    (hash && message.includes('Kq3vX9z')) ||
    text.split(/\s+/).some((w) => w.length > 40 && message.includes(w.slice(0, 41)));

  test.each([
    [
      'a shadow file',
      `root:${HASH}:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\nuser:!${HASH}:19000:0:99999:7:::\n`,
      true,
    ],
    ['a shadow file with a key: shape', `root: ${HASH}:19000:0:99999:7:::\n${HASH}: x\n`, true],
    ['one line of a hash', `${HASH}\n`, true],
    ['binary bytes', String.fromCharCode(...Array.from({ length: 600 }, (_, i) => (i * 7919) % 256)), false],
    ['a tag and an alias 100 characters long', `a: !${'t'.repeat(100)} 1\nb: *${'a'.repeat(100)}\n`, false],
  ])('%s', async (_name, text, hash) => {
    const file = join(dir, 'f');
    await writeFile(file, text, 'latin1');
    const r = await loadConfig(file);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    for (const e of r.errors) {
      expect(e.code).toMatch(/^CONFIG_/);
      expect(echoes(e.message, text, hash), e.message).toBe(false);
      expect(e.message.length).toBeLessThan(400);
    }
  });

  test('a file that is not a mapping says so without its content', () => {
    const [e] = errorsOf(`${HASH}\n`);
    expect(e).toMatchObject({ code: 'CONFIG_SCHEMA', pos: { line: 1, column: 1 } });
    expect(e!.message).toBe(
      'the file is not a YAML mapping of settings but text: an lvsd config starts with `version: 1`',
    );
  });

  test('an unknown key shows at most 40 characters of it', () => {
    const [e] = errorsOf(lines('version: 1', `${'k'.repeat(100)}: 1`));
    expect(e).toMatchObject({ code: 'CONFIG_UNKNOWN_KEY' });
    expect(e!.message).toMatch(new RegExp(`^unknown key '${'k'.repeat(39)}…';`));
  });
});
