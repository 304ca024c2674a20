// fast-yaml.ts against the yaml package: whenever the fast reader answers, its
// answer is exactly yaml's (and yaml finds no error or warning in the text);
// it declines everything outside its subset. Checked on every YAML file in
// the repository, on a table of edge cases, on generated documents in many
// styles, and on random corruptions of them.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { fastParseYaml } from '../../../src/config/fast-yaml.js';

const OPTIONS = { uniqueKeys: true, strict: true, merge: true } as const;

/** yaml's data for `text`, or 'error' when yaml reports any error or warning. */
function reference(text: string): unknown {
  const doc = parseDocument(text, OPTIONS);
  if (doc.errors.length > 0 || doc.warnings.length > 0) return 'error';
  return doc.toJS({ maxAliasCount: 1000 });
}

/** The property: the fast reader declines, or agrees with yaml on a text yaml accepts. */
function agrees(text: string): boolean {
  const fast = fastParseYaml(text);
  if (fast === undefined) return true;
  const ref = reference(text);
  if (ref === 'error' || !isDeepStrictEqual(fast, ref)) {
    throw new Error(`fast-yaml differs from yaml for:\n${text}\nfast: ${JSON.stringify(fast)}\nyaml: ${JSON.stringify(ref)}`);
  }
  return true;
}

describe('fastParseYaml', () => {
  it('reads every YAML file of the repository exactly as yaml does, without falling back', () => {
    const files = execFileSync('git', ['ls-files', '*.yaml', '*.yml'], { encoding: 'utf8' }).split('\n').filter((f) => f && !f.startsWith('deploy/ansible'));
    expect(files.length).toBeGreaterThan(8);
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      const fast = fastParseYaml(text);
      expect(fast, f).toBeDefined();
      expect(fast, f).toEqual(reference(text));
    }
  });

  it.each([
    ['block mapping and sequence', 'version: 1\nservices:\n  - vip: 192.0.2.1\n    port: 80\n    realservers:\n      - 198.51.100.1\n      - { address: 198.51.100.2, weight: 3 }\n'],
    ['a sequence at its key\'s column', 'version: 1\nservices:\n- vip: 192.0.2.1\n  port: 80\nignore:\n- fwmark: 3\n'],
    ['comments everywhere', '# head\nversion: 1 # one\n\n  # indented comment\nservices: # list\n  - vip: 192.0.2.1   # the VIP\n    port: 80\n'],
    ['a document start marker', '---\nversion: 1\n'],
    ['quoted scalars and keys', `version: 1\n"a b": 'it''s'\nc: "x # not a comment"\nd: 'q: r'\ne: ""\n`],
    ['core schema scalars', 'a: ~\nb: null\nc: Null\nd: true\ne: FALSE\nf: 012\ng: -3\nh: +4\ni: 0o17\nj: 0x1F\nk: 1.50\nl: .5\nm: 1e3\nn: -.inf\no: .NaN\np: yes\nq: 1.2.3\nr: 0x\ns: 1_000\nt:\nu: True\nv: TRUE\n'],
    ['plain scalars with indicators inside', 'a: http://x/y?z=1#frag\nb: a,b\nc: x-y\nd: -x\ne: 2001:db8::1\nf: "[2001:db8::1]:80"\ng: a#b\n'],
    ['flow collections', 'a: []\nb: {}\nc: [1, two, "3", [4, {x: y}]]\nd: { k: v, n: 1, }\ne: [a b, c]\n'],
    ['nested compact items', 'a:\n  - - 1\n    - 2\n  - - 3\n  -\n    b: 1\n  -\n'],
  ])('agrees with yaml on %s', (_name, text) => {
    expect(fastParseYaml(text)).toBeDefined();
    expect(agrees(text)).toBe(true);
  });

  it.each([
    ['an anchor and alias', 'a: &x 1\nb: *x\n'],
    ['a tag', 'a: !!str 1\n'],
    ['a block scalar', 'a: |\n  text\n'],
    ['a folded scalar', 'a: >\n  text\n'],
    ['a multi-line plain scalar', 'a: one\n  two\n'],
    ['a multi-line flow sequence', 'a: [1,\n  2]\n'],
    ['an escape', 'a: "x\\ty"\n'],
    ['a merge key', 'a: {x: 1}\nb:\n  <<: {x: 2}\n'],
    ['a duplicate key', 'a: 1\na: 2\n'],
    ['a duplicate flow key', 'a: {x: 1, x: 2}\n'],
    ['a tab', 'a:\t1\n'],
    ['CRLF', 'a: 1\r\n'],
    ['a second document', 'a: 1\n---\nb: 2\n'],
    ['a directive', '%YAML 1.2\n---\na: 1\n'],
    ['a key with a space', 'a b: 1\n'],
    ['a numeric key', '80: x\n'],
    ['a boolean key', 'true: x\n'],
    ['a __proto__ key', '__proto__: x\n'],
    ['an explicit key', '? a\n: 1\n'],
    ['bad indentation', 'a:\n    b: 1\n  c: 2\n'],
    ['a value and a nested block', 'a: 1\n  b: 2\n'],
    ['a second colon', 'a: b: c\n'],
    ['an item in a mapping', 'a: 1\n- b\n'],
    ['an empty flow value', 'a: {x: , y: 1}\n'],
    ['a top-level sequence', '- a\n- b\n'],
    ['a top-level scalar', 'hello\n'],
    ['nothing', '# only a comment\n'],
    ['an unclosed quote', 'a: "x\n'],
    ['text after a quote', 'a: "x"y\n'],
    ['a flow pair in a sequence', 'a: [x: 1]\n'],
  ])('declines %s', (_name, text) => {
    expect(fastParseYaml(text)).toBeUndefined();
  });

  // Generated documents: data trees rendered in block, flow and mixed styles.
  const scalarText = fc.constantFrom(
    'a', 'wrr', '192.0.2.1', '2001:db8::1', '[2001:db8::1]:80', 'yes', 'no', 'on', 'null', '~', 'Null', 'NULL', 'true', 'True', 'TRUE', 'false', 'False', 'FALSE', '0', '-1', '+2', '007',
    '1.0', '1.', '.5', '1e3', '-1E-3', '0o17', '0x1f', '0xZZ', '.inf', '-.Inf', '.nan', '1_000', '12s', '1h30m', 'a b', 'a: b', 'a:b', 'a #b', 'a#b', '#a',
    "it's", '"q"', "'q'", '- a', '-a', '?a', '? a', ':a', ': a', ',', 'a,b', '[a]', '{a}', 'a]', 'x}', '&a', '*a', '!t', '|', '>', '%', '@a', '`a`', '',
    ' a', 'a ', '---', '...', 'é', 'http://x/y', 'a:', 'a: ', 'a - b', 'x_y.z/w-1', '__proto__', '<<',
  );
  const scalar = fc.oneof(scalarText, fc.integer({ min: -1000, max: 1000 }), fc.constantFrom(true, false, null, 1.5, -0.25));
  const key = fc.oneof(fc.constantFrom('vip', 'port', 'realservers', 'a', 'b_c', 'net/ipv4/ip_forward', 'x.y', 'k-1'), scalarText);
  const tree = fc.letrec((tie) => ({
    node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('seq'), tie('map')),
    seq: fc.array(tie('node'), { maxLength: 4 }),
    map: fc.dictionary(key, tie('node'), { maxKeys: 4 }),
  })).map;

  /** How a scalar may be written: plain (even when that changes its meaning), single- or double-quoted. */
  const scalarStyle = fc.constantFrom('plain', 'single', 'double');
  const renderScalar = (v: unknown, style: string): string => {
    const s = String(v);
    if (style === 'single') return `'${s.replaceAll("'", "''")}'`;
    if (style === 'double') return `"${s}"`;
    return s;
  };

  /** Renders data as YAML; `flowDepth` is the depth from which collections are written in flow style. */
  function render(v: unknown, indent: number, flowDepth: number, depth: number, styles: string[], comments: boolean): string {
    const pad = ' '.repeat(indent);
    const style = () => styles[depth % styles.length]!;
    const flow = (x: unknown): string => {
      if (Array.isArray(x)) return `[${x.map(flow).join(', ')}]`;
      if (x !== null && typeof x === 'object') return `{ ${Object.entries(x).map(([k, y]) => `${renderScalar(k, style())}: ${flow(y)}`).join(', ')} }`;
      return renderScalar(x, style());
    };
    const comment = comments ? ' # c' : '';
    if (depth >= flowDepth || !(v !== null && typeof v === 'object') || (Array.isArray(v) ? v.length === 0 : Object.keys(v).length === 0)) {
      return flow(v);
    }
    if (Array.isArray(v)) {
      return v.map((item) => {
        const body = render(item, indent + 2, flowDepth, depth + 1, styles, comments);
        return `${pad}-${body.startsWith('\n') ? '' : ' '}${body.startsWith('\n') ? body : body.trimStart()}${comment}`;
      }).join('\n').replace(/^/, '\n');
    }
    return Object.entries(v as Record<string, unknown>).map(([k, item]) => {
      const body = render(item, indent + 2, flowDepth, depth + 1, styles, comments);
      return `${pad}${renderScalar(k, style())}:${body.startsWith('\n') ? body : ` ${body}${comment}`}`;
    }).join('\n').replace(/^/, '\n');
  }

  const document = fc.record({
    data: tree,
    flowDepth: fc.integer({ min: 0, max: 4 }),
    styles: fc.array(scalarStyle, { minLength: 1, maxLength: 3 }),
    comments: fc.boolean(),
    marker: fc.boolean(),
  }).map(({ data, flowDepth, styles, comments, marker }) => `${marker ? '---\n' : ''}${render(data, 0, flowDepth, 0, styles, comments).replace(/^\n/, '')}\n`);

  it('agrees with yaml on generated documents', () => {
    fc.assert(fc.property(document, (text) => agrees(text)), { numRuns: 3000 });
  });

  it('reads the plain generated documents at all (the subset is not empty in practice)', () => {
    let taken = 0;
    fc.assert(fc.property(document, (text) => {
      if (fastParseYaml(text) !== undefined) taken++;
      return true;
    }), { numRuns: 500 });
    expect(taken).toBeGreaterThan(100);
  });

  it('agrees with yaml on random corruptions of a config', () => {
    const base = readFileSync('config/lvsd.yaml', 'utf8');
    const edit = fc.record({
      at: fc.nat({ max: base.length }),
      cut: fc.nat({ max: 4 }),
      insert: fc.constantFrom('', ' ', '  ', '\n', '- ', ': ', '#', '"', "'", '[', ']', '{', '}', ',', '-', 'x', '0', '\n  ', '---', '&', '?'),
    });
    fc.assert(fc.property(fc.array(edit, { minLength: 1, maxLength: 3 }), (edits) => {
      let text = base;
      for (const e of edits) {
        const at = Math.min(e.at, text.length);
        text = text.slice(0, at) + e.insert + text.slice(at + e.cut);
      }
      return agrees(text);
    }), { numRuns: 3000 });
  });
});
