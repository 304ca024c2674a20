// read-yaml.ts against the yaml package: whenever the js-yaml data path
// answers, its answer is exactly yaml's (and yaml finds no error or warning in
// the text); everything else it declines, so that yaml answers. Checked on
// every YAML file in the repository, on a table of edge cases, on generated
// documents in many styles, and on random corruptions of them.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { readYaml } from '../../../src/config/read-yaml.js';
import { corrupted, yamlDocument } from './yaml-gen.js';

const OPTIONS = { uniqueKeys: true, strict: true, merge: true } as const;

/** yaml's data for `text`, or 'error' when yaml reports any error or warning. */
function reference(text: string): unknown {
  const doc = parseDocument(text, OPTIONS);
  if (doc.errors.length > 0 || doc.warnings.length > 0) return 'error';
  try {
    return doc.toJS({ maxAliasCount: 1000 });
  } catch {
    return 'error';
  }
}

/** The data path's answer, undefined when it declines. */
function fast(text: string): unknown {
  const r = readYaml(text);
  return r.kind === 'data' ? r.data : undefined;
}

/** The property: the data path declines, or agrees with yaml on a text yaml accepts. */
function agrees(text: string): boolean {
  const r = readYaml(text);
  if (r.kind !== 'data') return true;
  const ref = reference(text);
  if (ref === 'error' || !isDeepStrictEqual(r.data, ref)) {
    throw new Error(
      `js-yaml differs from yaml for:\n${text}\njs-yaml: ${JSON.stringify(r.data)}\nyaml: ${JSON.stringify(ref)}`,
    );
  }
  return true;
}

describe('readYaml (the js-yaml data path)', () => {
  it('reads every YAML file of the repository exactly as yaml does, without declining', () => {
    const files = execFileSync('git', ['ls-files', '*.yaml', '*.yml'], { encoding: 'utf8' })
      .split('\n')
      .filter((f) => f && !f.startsWith('deploy/ansible'));
    expect(files.length).toBeGreaterThan(8);
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      expect(readYaml(text).kind, f).toBe('data');
      expect(fast(text), f).toEqual(reference(text));
    }
  });

  it.each([
    [
      'block mapping and sequence',
      'version: 1\nservices:\n  - vip: 192.0.2.1\n    port: 80\n    realservers:\n      - 198.51.100.1\n      - { address: 198.51.100.2, weight: 3 }\n',
    ],
    ["a sequence at its key's column", 'version: 1\nservices:\n- vip: 192.0.2.1\n  port: 80\nignore:\n- fwmark: 3\n'],
    [
      'comments everywhere',
      '# head\nversion: 1 # one\n\n  # indented comment\nservices: # list\n  - vip: 192.0.2.1   # the VIP\n    port: 80\n',
    ],
    ['a document start marker', '---\nversion: 1\n'],
    ['quoted scalars and keys', `version: 1\n"a b": 'it''s'\nc: "x # not a comment"\nd: 'q: r'\ne: ""\n`],
    [
      'core schema scalars',
      'a: ~\nb: null\nc: Null\nd: true\ne: FALSE\nf: 012\ng: -3\nh: +4\ni: 0o17\nj: 0x1F\nk: 1.50\nl: .5\nm: 1e3\nn: -.inf\no: .NaN\np: yes\nq: 1.2.3\nr: 0x\ns: 1_000\nt:\nu: True\nv: TRUE\n',
    ],
    [
      'YAML 1.1 and js-yaml-only forms stay text',
      'a: on\nb: off\nc: y\nd: 0b11\ne: -0x1F\nf: -0o17\ng: 2020-01-01\nh: 12:30:00\ni: -.5\nj: +.5\n',
    ],
    ['huge numbers', `a: ${'9'.repeat(400)}\nb: 1e400\nc: -1e400\n`],
    [
      'plain scalars with indicators inside',
      'a: http://x/y?z=1#frag\nb: a,b\nc: x-y\nd: -x\ne: 2001:db8::1\nf: "[2001:db8::1]:80"\ng: a#b\n',
    ],
    ['flow collections', 'a: []\nb: {}\nc: [1, two, "3", [4, {x: y}]]\nd: { k: v, n: 1, }\ne: [a b, c]\n'],
    ['nested compact items', 'a:\n  - - 1\n    - 2\n  - - 3\n  -\n    b: 1\n'],
    ['CRLF line ends', 'version: 1\r\nservices:\r\n  - vip: 192.0.2.1\r\n    port: 80 # c\r\n'],
    ['tabs and backslashes after content', 'a:\t1\nb: 1\t# c \\ d\nc: "x\\ty\\u00e9\\x41"\n'],
    [
      'anchors, aliases and merge keys',
      'a: &x { p: 1, q: 2 }\nb: *x\nc:\n  <<: *x\n  q: 3\nd:\n  <<: [*x, { r: 4 }]\n',
    ],
    ['tags of the core schema', 'a: !!str 1\nb: !!int "2"\nc: !!float 3.5\nd: !!null ""\n'],
    ['block scalars', 'a: |\n  one\n  two\nb: >-\n  folded\n  text\n'],
    ['multi-line scalars and flow collections', 'a: one\n  two\nb: [1,\n  2]\nc: "x\n  y"\n'],
    ['numeric and boolean keys', '80: x\ntrue: y\n0x10: z\n'],
    ['explicit keys with values', '? a\n: 1\nb:\n  - ? c\n    : 2\n? |\n  d\n: 3\n'],
    ['question marks in comments and values', '# why? because\na: what? # really ?\nb: "? x"\n'],
    ['anchor- and directive-like text in comments', '# R&D: the team\na: 1 # see &x: y, !t k: v\n#%YAML 1.1\n'],
  ])('agrees with yaml on %s', (_name, text) => {
    expect(fast(text)).toBeDefined();
    expect(agrees(text)).toBe(true);
  });

  it.each([
    ['a null key', '~: 1\n'],
    ['an empty key', '"": 1\n? \n: 2\n'],
    ['a collection key', '[port]: 80\n'],
    ['a mapping key', '{a: 1}: 80\n'],
    ['an alias of a collection as a key', 'a: &x [1]\n*x : 2\n'],
    ['an explicit key without a value', '? a\n'],
    ['explicit keys without values in a flow mapping', '{ ? a, ? b }\n'],
    ['an explicit key in a flow sequence', '[? a : 1]\n'],
    ['a flow pair with a null key in a sequence', 'a: [~: 1]\n'],
    ['a directive', '%YAML 1.1\n---\na: yes\n'],
    ['a carriage return alone', 'a: 1 \rb: 2\n'],
    ['an anchor whose name ends in a colon', '{ &a: true }\n'],
    ['an empty sequence item (no event to place it by)', 'a:\n  - 1\n  -\n'],
    ['a sequence of one empty item', 'a:\n  -\n    - \n'],
    ['a duplicate key', 'a: 1\na: 2\n'],
    ['keys that are one once read', '1: a\n"1": b\n'],
    ['a duplicate flow key', 'a: {x: 1, x: 2}\n'],
    ['a tab as indentation', 'a:\n\tb: 1\n'],
    ['a second document', 'a: 1\n---\nb: 2\n'],
    ['bad indentation', 'a:\n    b: 1\n  c: 2\n'],
    ['a second colon', 'a: b: c\n'],
    ['an item in a mapping', 'a: 1\n- b\n'],
    ['an unknown tag', 'a: !weird 1\n'],
    ['a tag of YAML 1.1', 'a: !!timestamp 2020-01-01\n'],
    ['an unclosed quote', 'a: "x\n'],
    ['an alias to nothing', 'a: *y\n'],
  ])('declines %s', (_name, text) => {
    expect(fast(text)).toBeUndefined();
  });

  it('declines nesting deeper than MAX_DEPTH with an error that says so', () => {
    const r = readYaml(`a: ${'['.repeat(5000)}`);
    expect(r).toMatchObject({ kind: 'decline', error: { tooDeep: true } });
  });

  it('agrees with yaml on generated documents', () => {
    fc.assert(
      fc.property(yamlDocument, (text) => agrees(text)),
      { numRuns: 3000 },
    );
  });

  it('reads most generated documents itself (yaml is the exception, not the rule)', () => {
    let taken = 0;
    fc.assert(
      fc.property(yamlDocument, (text) => {
        if (fast(text) !== undefined) taken++;
        return true;
      }),
      { numRuns: 500 },
    );
    expect(taken).toBeGreaterThan(150);
  });

  it('agrees with yaml on random corruptions of a config', () => {
    const base = readFileSync('config/lvsd.yaml', 'utf8');
    fc.assert(
      fc.property(corrupted(base), (text) => agrees(text)),
      { numRuns: 3000 },
    );
  });
});
