import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { LineCounter, parseDocument } from 'yaml';
import { documentPositions, locate, pointerToPath, sourcePos, textPositions } from '../../../src/config/positions.js';
import type { PathSegment, YamlSource } from '../../../src/config/positions.js';
import { readYaml } from '../../../src/config/read-yaml.js';
import { lines } from './helpers.js';
import { yamlDocument } from './yaml-gen.js';

/** Positions from yaml's document (texts js-yaml declines). */
function docSrc(text: string): YamlSource {
  const lineCounter = new LineCounter();
  return { file: 'f.yaml', positions: documentPositions(parseDocument(text, { lineCounter }), lineCounter) };
}

/** Positions from js-yaml's events (texts js-yaml reads). */
function textSrc(text: string): YamlSource {
  return { file: 'f.yaml', positions: textPositions(text) };
}

const TEXT = lines(
  'version: 1', //                          1
  'services:', //                           2
  '  - vip: 192.0.2.1', //                  3
  '    port: 80', //                        4
  '    realservers:', //                    5
  '      - 192.0.2.10', //                  6
  '      - { address: 192.0.2.11, weight: 2 }', // 7
  '    persistence:', //                    8
  '  - &shared', //                         9
  '    vip: 192.0.2.2', //                  10
  '    "a/b~c": 1', //                      11
  '  - *shared', //                         12
);

describe('pointerToPath', () => {
  test('splits and un-escapes ~1 and ~0', () => {
    expect(pointerToPath('')).toEqual([]);
    expect(pointerToPath('/services/0/port')).toEqual(['services', '0', 'port']);
    expect(pointerToPath('/a~1b~0c/~01')).toEqual(['a/b~c', '~1']);
  });
});

describe.each([
  ['a yaml document', docSrc],
  ['js-yaml events', textSrc],
])('locate in %s', (_name, src) => {
  const s = src(TEXT);

  test('a value', () => {
    expect(locate(s, ['services', 0, 'port'])).toEqual({ line: 4, column: 11 });
    expect(locate(s, ['services', '0', 'vip'])).toEqual({ line: 3, column: 10 });
  });

  test('a key', () => {
    expect(locate(s, ['services', 0, 'port'], 'key')).toEqual({ line: 4, column: 5 });
  });

  test('list items, block and flow', () => {
    expect(locate(s, ['services', 0, 'realservers', 0])).toEqual({ line: 6, column: 9 });
    expect(locate(s, ['services', 0, 'realservers', 1])).toEqual({ line: 7, column: 9 });
    expect(locate(s, ['services', 0, 'realservers', 1, 'weight'])).toEqual({ line: 7, column: 40 });
    expect(locate(s, ['services', 0, 'realservers', 1, 'weight'], 'key')).toEqual({ line: 7, column: 32 });
  });

  test('a key with an empty value points at the key', () => {
    expect(locate(s, ['services', 0, 'persistence'])).toEqual({ line: 8, column: 5 });
  });

  test('a missing path points at the nearest existing parent', () => {
    expect(locate(s, ['services', 0, 'scheduler'])).toEqual({ line: 3, column: 5 });
    expect(locate(s, ['services', 7, 'port'])).toEqual({ line: 3, column: 3 });
    expect(locate(s, ['nothing', 'here'])).toEqual({ line: 1, column: 1 });
  });

  test('keys with / and ~, from a JSON pointer', () => {
    expect(locate(s, [...pointerToPath('/services/1/a~1b~0c')], 'key')).toEqual({ line: 11, column: 5 });
  });

  test('through an alias: the anchored node', () => {
    expect(locate(s, ['services', 2, 'vip'])).toEqual({ line: 10, column: 10 });
  });

  test('an empty document', () => {
    expect(locate(src(''), ['services'])).toEqual({ line: 1, column: 1 });
  });

  test('sourcePos names the file', () => {
    expect(sourcePos(s, ['version'])).toEqual({ file: 'f.yaml', line: 1, column: 10 });
  });
});

/** Every path in `data` (keys and indexes), depth first, at most `max`. */
function pathsOf(data: unknown, max = 200): PathSegment[][] {
  const out: PathSegment[][] = [];
  const walk = (v: unknown, path: PathSegment[]) => {
    if (out.length >= max) return;
    out.push(path);
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i]));
    else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
  };
  walk(data, []);
  return out;
}

describe("js-yaml positions are yaml's", () => {
  test('on generated documents, for every path, key and value', () => {
    let compared = 0;
    fc.assert(
      fc.property(yamlDocument, (text) => {
        const read = readYaml(text);
        // An empty document is CONFIG_EMPTY at 1:1 and never asks for a place.
        if (read.kind !== 'data' || read.data === null || read.data === undefined) return true;
        const doc = docSrc(text);
        const idx = textSrc(text);
        for (const path of pathsOf(read.data)) {
          for (const at of ['key', 'value'] as const) {
            expect({ path, at, pos: locate(idx, path, at) }).toEqual({ path, at, pos: locate(doc, path, at) });
            compared++;
          }
        }
        return true;
      }),
      { numRuns: 800 },
    );
    expect(compared).toBeGreaterThan(1000);
  });
});
