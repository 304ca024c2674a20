import { describe, expect, test } from 'vitest';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { CONFIG_RULE_HANDLING, IncrementalLoader } from '../../../src/config/incremental.js';
import { CONFIG_RULES } from '../../../src/config/validate.js';
import {
  loadConfigTexts,
  readConfigFile,
  readConfigTexts,
  type ConfigText,
  type LoadResult,
} from '../../../src/config/load.js';

/** A real server as the model has it; `style` picks how it is written. */
interface Rs {
  last: number;
  weight: number;
  port?: number;
  short: boolean;
  /** An IPv6 real server (forward: tunnel) in an IPv4 service: mixed families, which director.sync refuses. */
  v6?: boolean;
}
interface Svc {
  vip: number;
  port: number;
  name?: string;
  scheduler?: string;
  flow: boolean;
  rs: Rs[];
  /** Written instead of a valid item: a broken or invalid one. */
  raw?: string;
}
interface FileModel {
  services: Svc[];
  ignore: string[];
  /** true: bind_vips and ip_forward; 'ha': director.sync and director.vrrp (two directors). */
  director: boolean | 'ha';
  scheduler?: string;
  comment: boolean;
}

function rsText(r: Rs, flow: boolean): string {
  const address = r.v6 ? `2001:db8::${r.last}` : `203.0.113.${r.last}`;
  if (r.short && !r.v6) return r.port === undefined ? address : `${address}:${r.port}`;
  const fields = [
    `address: ${address}`,
    `weight: ${r.weight}`,
    ...(r.port === undefined ? [] : [`port: ${r.port}`]),
    ...(r.v6 ? ['forward: tunnel'] : []),
  ];
  return flow ? `{ ${fields.join(', ')} }` : fields.join('\n        ');
}

function svcText(s: Svc): string {
  if (s.raw !== undefined) return s.raw;
  const head = [
    ...(s.name ? [`name: ${s.name}`] : []),
    `vip: 198.51.100.${s.vip}`,
    `port: ${s.port}`,
    ...(s.scheduler ? [`scheduler: ${s.scheduler}`] : []),
  ];
  if (s.flow)
    return `  - { ${[...head, `realservers: [${s.rs.map((r) => rsText(r, true)).join(', ')}]`].join(', ')} }\n`;
  const rs =
    s.rs.length === 0
      ? ['    realservers: []']
      : ['    realservers:', ...s.rs.map((r) => `      - ${rsText(r, false)}`)];
  return [`  - ${head[0]}`, ...head.slice(1).map((l) => `    ${l}`), ...rs].join('\n') + '\n';
}

function fileText(f: FileModel, main: boolean): string {
  const out = main ? ['version: 1'] : ['version: 1'];
  if (f.scheduler) out.push('defaults:', `  scheduler: ${f.scheduler}`);
  if (f.director === 'ha')
    out.push('director:', '  sync: { interface: eth1, id: 7 }', '  vrrp: { track_file: /run/lvsd/vrrp-track }');
  else if (f.director) out.push('director:', '  ip_forward: true', '  bind_vips: lo');
  out.push('services:');
  let text = out.join('\n') + '\n' + f.services.map(svcText).join('') + (f.comment ? '# the end\n' : '');
  if (f.ignore.length > 0) text += 'ignore:\n' + f.ignore.map((v) => `  - vip: ${v}\n`).join('');
  return text;
}

type Edit =
  | { kind: 'weight'; file: number; s: number; r: number; weight: number }
  | { kind: 'addService'; file: number; at: number; vip: number; port: number; flow: boolean; n: number }
  | { kind: 'removeService'; file: number; s: number }
  | { kind: 'addRs'; file: number; s: number; last: number; short: boolean; v6?: boolean }
  | { kind: 'removeRs'; file: number; s: number; r: number }
  | { kind: 'break'; file: number; s: number; how: number }
  | { kind: 'fix'; file: number }
  | { kind: 'duplicate'; file: number; s: number; of: number }
  | { kind: 'ignore'; file: number; vip: number }
  | { kind: 'head'; file: number; what: number }
  | { kind: 'rename'; file: number; s: number; name: string };

const BROKEN = [
  '  - vip: 198.51.100.200\n    port: [80\n', // YAML syntax
  '  - vip: 198.51.100.201\n    port: 80\n    realservers: [{ address: 203.0.113.1, weight: 70000 }]\n', // range
  '  - vip: 198.51.100.202\n    port: 80\n\tscheduler: rr\n', // a tab
  '  - vip: 198.51.100.203\n    port: 80\n    realservers: [203.0.113.1, 203.0.113.1]\n', // duplicate real server
  '  - vip: 127.0.0.1\n    port: 80\n', // unusable vip
  '  - vip: 198.51.100.204\n    port: 80\n    sheduler: rr\n', // unknown key
  '  - vip: 198.51.100.205\n  port: 80\n', // odd indentation
  '  - vip: 198.51.100.206\n    port: 80\n    realservers: [*x]\n', // an alias to nothing
];

const file = fc.integer({ min: 0, max: 1 });
const idx = fc.nat({ max: 20 });
const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('weight' as const), file, s: idx, r: idx, weight: fc.integer({ min: 0, max: 100 }) }),
  fc.record({
    kind: fc.constant('addService' as const),
    file,
    at: idx,
    vip: fc.integer({ min: 1, max: 30 }),
    port: fc.integer({ min: 1, max: 3 }),
    flow: fc.boolean(),
    n: fc.integer({ min: 0, max: 3 }),
  }),
  fc.record({ kind: fc.constant('removeService' as const), file, s: idx }),
  fc.record({
    kind: fc.constant('addRs' as const),
    file,
    s: idx,
    last: fc.integer({ min: 1, max: 40 }),
    short: fc.boolean(),
    v6: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('removeRs' as const), file, s: idx, r: idx }),
  fc.record({ kind: fc.constant('break' as const), file, s: idx, how: fc.nat({ max: BROKEN.length - 1 }) }),
  fc.record({ kind: fc.constant('fix' as const), file }),
  fc.record({ kind: fc.constant('duplicate' as const), file, s: idx, of: idx }),
  fc.record({ kind: fc.constant('ignore' as const), file, vip: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant('head' as const), file, what: fc.nat({ max: 3 }) }),
  fc.record({ kind: fc.constant('rename' as const), file, s: idx, name: fc.constantFrom('a', 'b', 'c') }),
);

function pick<T>(xs: T[], i: number): T | undefined {
  return xs.length === 0 ? undefined : xs[i % xs.length];
}

function apply(files: FileModel[], e: Edit): void {
  const f = files[e.file]!;
  const s = 's' in e ? pick(f.services, e.s) : undefined;
  switch (e.kind) {
    case 'weight': {
      const r = s && pick(s.rs, e.r);
      if (r) Object.assign(r, { weight: e.weight, short: false });
      return;
    }
    case 'addService': {
      const rs = Array.from({ length: e.n }, (_, j) => ({ last: 10 + j, weight: 1 + j, short: j % 2 === 1 }));
      f.services.splice(e.at % (f.services.length + 1), 0, { vip: e.vip, port: e.port, flow: e.flow, rs });
      return;
    }
    case 'removeService':
      if (s) f.services.splice(f.services.indexOf(s), 1);
      return;
    case 'addRs':
      if (s) s.rs.push({ last: e.last, weight: 5, short: e.short, ...(e.v6 ? { v6: true } : {}) });
      return;
    case 'removeRs':
      if (s && s.rs.length > 0) s.rs.splice(e.r % s.rs.length, 1);
      return;
    case 'break':
      if (s) s.raw = BROKEN[e.how];
      return;
    case 'fix':
      for (const x of f.services) delete x.raw;
      return;
    case 'duplicate': {
      const of = pick(
        files.flatMap((x) => x.services),
        e.of,
      );
      if (s && of) Object.assign(s, { vip: of.vip, port: of.port });
      return;
    }
    case 'ignore':
      f.ignore.push(`198.51.100.${e.vip}/32`);
      return;
    case 'head':
      if (e.what === 0) f.director = f.director === false ? true : f.director === true ? 'ha' : false;
      else if (e.what === 1) f.scheduler = f.scheduler ? undefined : 'rr';
      else if (e.what === 2) f.comment = !f.comment;
      else f.ignore = [];
      return;
    case 'rename':
      if (s) s.name = e.name;
      return;
  }
}

function texts(files: FileModel[]): ConfigText[] {
  return files.map((f, i) => ({
    file: i === 0 ? '/etc/lvsd/lvsd.yaml' : '/etc/lvsd/conf.d/b.yaml',
    text: fileText(f, i === 0),
  }));
}

/** What the full and the incremental load must agree on. */
function comparable(r: LoadResult): unknown {
  if (r.ok) return { ok: true, state: r.state, hash: r.hash, files: r.files };
  return { ok: false, errors: r.errors.map((e) => ({ code: e.code, pos: e.pos, message: e.message })) };
}

function startFiles(n: number): FileModel[] {
  const one = (base: number): FileModel => ({
    services: Array.from({ length: 4 }, (_, i) => ({
      vip: base + i,
      port: 80,
      flow: i % 2 === 0,
      rs: [
        { last: 10, weight: 1, short: false },
        { last: 11, weight: 2, short: i % 2 === 1 },
      ],
    })),
    ignore: [],
    director: false,
    comment: false,
  });
  return n === 1 ? [one(1)] : [one(1), one(100)];
}

describe('IncrementalLoader', () => {
  test('a random edit sequence loads as the full loader loads it: same state, hash and errors', () => {
    let incremental = 0;
    let full = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 }),
        fc.constantFrom<FileModel['director']>(false, true, 'ha'),
        fc.array(edit, { minLength: 1, maxLength: 25 }),
        (n, director, edits) => {
          const files = startFiles(n);
          files[0]!.director = director;
          const loader = new IncrementalLoader(new Map());
          for (const e of [undefined, ...edits]) {
            if (e) apply(files, { ...e, file: e.file % n } as Edit);
            const t = texts(files);
            const got = loader.load(t);
            expect(comparable(got)).toEqual(comparable(loadConfigTexts(t)));
            if (got.ok && got.delta?.mode === 'incremental') incremental++;
            else if (got.ok) full++;
          }
        },
      ),
      { numRuns: 200 },
    );
    // Not vacuous: most valid loads after a service edit are incremental.
    expect(incremental).toBeGreaterThan(100);
    expect(full).toBeGreaterThan(10);
  }, 120_000);

  test('one weight changed: incremental, and only that service is changed', () => {
    const files = startFiles(1);
    const loader = new IncrementalLoader();
    expect(loader.load(texts(files))).toMatchObject({ ok: true, delta: { mode: 'full', reason: 'first load' } });
    files[0]!.services[1]!.rs[0]!.weight = 9;
    const r = loader.load(texts(files));
    expect(r).toMatchObject({ ok: true, delta: { mode: 'incremental' } });
    if (!r.ok || r.delta?.mode !== 'incremental') return;
    expect([...r.delta.changed]).toEqual(['tcp/198.51.100.2:80']);
    expect(r.state.services![1]!.realservers[0]!.weight).toBe(9);
  });

  test('two directors (director.sync and director.vrrp): a weight loads incrementally; a mixed family falls back', () => {
    const files = startFiles(1);
    files[0]!.director = 'ha';
    const loader = new IncrementalLoader();
    expect(loader.load(texts(files))).toMatchObject({ ok: true, delta: { mode: 'full' } });
    files[0]!.services[1]!.rs[0]!.weight = 9;
    expect(loader.load(texts(files))).toMatchObject({ ok: true, delta: { mode: 'incremental' } });
    files[0]!.services[1]!.rs.push({ last: 7, weight: 1, short: false, v6: true });
    const r = loader.load(texts(files));
    expect(comparable(r)).toEqual(comparable(loadConfigTexts(texts(files))));
    expect(r).toMatchObject({ ok: false, errors: [{ code: 'CONFIG_SYNC' }] });
  });

  test.each([
    [
      'a head key',
      (f: FileModel) => (f.director = true),
      '/etc/lvsd/lvsd.yaml: a line outside the services list changed',
    ],
    ['a broken item', (f: FileModel) => (f.services[0]!.raw = BROKEN[0]), undefined],
    ['a duplicate service', (f: FileModel) => (f.services[0]!.vip = 2), undefined],
  ])('%s loads in full', (_what, change, reason) => {
    const files = startFiles(1);
    const loader = new IncrementalLoader();
    loader.load(texts(files));
    change(files[0]!);
    const r = loader.load(texts(files));
    expect(r.ok ? r.delta?.mode : 'errors').toBe(reason ? 'full' : 'errors');
    if (r.ok && reason) expect(r.delta).toEqual({ mode: 'full', reason });
  });

  test('every rule over the whole config says how an incremental load keeps it', () => {
    const missing = CONFIG_RULES.filter((r) => !CONFIG_RULE_HANDLING.has(r)).map((r) => r.name);
    expect(missing).toEqual([]);
  });

  test('files read into the spare buffers it hands back load as the full loader loads them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvsd-incr-'));
    const file = join(dir, 'lvsd.yaml');
    const model = startFiles(1);
    for (let k = 0; k < 200; k++)
      model[0]!.services.push({
        vip: 10 + (k % 200),
        port: 1000 + k,
        flow: k % 3 === 0,
        rs: [{ last: 10, weight: 1, short: false }],
      });
    const loader = new IncrementalLoader();
    let reused = 0;
    try {
      for (let k = 0; k < 12; k++) {
        if (k > 0)
          apply(
            model,
            [
              { kind: 'weight', file: 0, s: k * 17, r: 0, weight: k } as const,
              { kind: 'removeService', file: 0, s: k * 13 } as const,
              { kind: 'addRs', file: 0, s: k * 7, last: 30 + k, short: false } as const,
              { kind: 'break', file: 0, s: k * 5, how: 0 } as const,
              { kind: 'fix', file: 0 } as const,
            ][k % 5]!,
          );
        writeFileSync(`${file}.tmp`, fileText(model[0]!, true));
        renameSync(`${file}.tmp`, file);
        const read = await readConfigTexts(file, 'file', (f) => {
          const spare = loader.spare(f);
          if (spare) reused++;
          return spare;
        });
        if (!read.ok) throw new Error('unreadable');
        expect(comparable(loader.load(read.texts))).toEqual(
          comparable(loadConfigTexts([{ file, text: fileText(model[0]!, true) }])),
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(reused).toBeGreaterThan(5);
  });

  test('readConfigFile reads into a buffer it is given when it is its own and big enough, never into a pooled one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvsd-incr-'));
    try {
      const file = join(dir, 'a.yaml');
      writeFileSync(file, 'x'.repeat(20_000));
      const own = Buffer.alloc(30_000, 1);
      const got = await readConfigFile(file, own);
      expect(got.buffer).toBe(own.buffer);
      expect(got.toString()).toBe('x'.repeat(20_000));
      // A slice at the start of an ArrayBuffer the size of Node's pool may be shared: never read into it.
      const pooled = Buffer.from(new ArrayBuffer(Buffer.poolSize), 0, 4);
      pooled.write('tiny');
      writeFileSync(file, 'y'.repeat(100));
      const small = await readConfigFile(file, pooled);
      expect(small.toString()).toBe('y'.repeat(100));
      expect(pooled.toString()).toBe('tiny');
      expect((await readConfigFile(file, Buffer.alloc(50))).toString()).toBe('y'.repeat(100));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
