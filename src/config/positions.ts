/**
 * From a place in the parsed data (a JSON pointer, or a path of keys and
 * indexes) to a line and column in the YAML text. Pure.
 */
import type { Document, LineCounter, Node, Pair } from 'yaml';
import type { SourcePos } from '../errors.js';
import { indexYaml } from './read-yaml.js';
import type { IndexNode } from './read-yaml.js';
import { yaml } from './yaml-module.js';

export type PathSegment = string | number;

/** One parsed YAML text: its file name and where its nodes are. */
export interface YamlSource {
  file: string;
  positions: Positions;
}

/** Where the nodes of one text are. */
export interface Positions {
  /** See `locate`. */
  locate(path: readonly PathSegment[], at?: 'key' | 'value'): LinePos;
  /** Offset in the text to a position. */
  at(offset: number): LinePos;
}

/** Lines and columns count from 1. */
export interface LinePos {
  line: number;
  column: number;
}

/** `/services/0/realservers/1` to ['services', '0', 'realservers', '1']; `~1` is `/`, `~0` is `~`. */
export function pointerToPath(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
}

/**
 * Where the value at `path` is, or with `at: 'key'` where its key is (for
 * list items: the item). When the path does not exist, the nearest existing
 * parent. Values that are empty (`port:` with nothing after) point at their key.
 */
export function locate(src: YamlSource, path: readonly PathSegment[], at: 'key' | 'value' = 'value'): LinePos {
  return src.positions.locate(path, at);
}

/** `locate`, as an error position in the source's file. */
export function sourcePos(src: YamlSource, path: readonly PathSegment[], at: 'key' | 'value' = 'value'): SourcePos {
  return { file: src.file, ...src.positions.locate(path, at) };
}

/** Positions in a `yaml` document (the texts js-yaml declines). */
export function documentPositions(doc: Document.Parsed, lineCounter: LineCounter): Positions {
  const offset = (n: number): LinePos => {
    const p = lineCounter.linePos(n);
    return { line: p.line, column: p.col };
  };
  return {
    at: offset,
    locate(path, at = 'value') {
      let node: unknown = doc.contents;
      let pair: Pair | undefined;
      for (const seg of path) {
        const next = child(doc, node, seg);
        if (!next) return nodePos(offset, node, pair, 'value');
        node = next.node;
        pair = next.pair;
      }
      return nodePos(offset, node, pair, at);
    },
  };
}

function child(doc: Document.Parsed, parent: unknown, seg: PathSegment): { node: unknown; pair?: Pair } | undefined {
  const { isAlias, isMap, isPair, isScalar, isSeq } = yaml();
  const coll = isAlias(parent) ? parent.resolve(doc) : parent;
  if (isMap(coll)) {
    for (const item of coll.items) {
      if (!isPair(item)) continue;
      const k = isScalar(item.key) ? item.key.value : item.key;
      if (String(k) === String(seg)) return { node: item.value, pair: item };
    }
    return undefined;
  }
  if (isSeq(coll)) {
    const i = typeof seg === 'number' ? seg : /^\d+$/.test(seg) ? Number(seg) : NaN;
    if (!(i >= 0 && i < coll.items.length)) return undefined;
    return { node: coll.items[i] };
  }
  return undefined;
}

function nodePos(offset: (n: number) => LinePos, node: unknown, pair: Pair | undefined, at: 'key' | 'value'): LinePos {
  const { isNode, isScalar } = yaml();
  const keyNode = pair && isNode(pair.key) ? (pair.key as Node) : undefined;
  const empty = !isNode(node) || (isScalar(node) && node.value === null && !node.source);
  if (keyNode?.range && (at === 'key' || empty)) return offset(keyNode.range[0]);
  if (isNode(node) && node.range) return offset(node.range[0]);
  return { line: 1, column: 1 };
}

/**
 * Positions in a text js-yaml reads without error, found the way `yaml`
 * places its nodes (a node starts at its content, after any anchor or tag).
 * The index is built on first use: most loads need no position at all.
 */
export function textPositions(text: string): Positions {
  let index: ReturnType<typeof indexYaml> | undefined;
  let lineStarts: number[] | undefined;
  const offset = (n: number): LinePos => {
    lineStarts ??= starts(text);
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= n) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: n - lineStarts[lo]! + 1 };
  };
  const place = (node: IndexNode, key: IndexNode | undefined, at: 'key' | 'value'): LinePos => {
    const empty = node.kind === null && node.result === null;
    if (key && (at === 'key' || empty)) return offset(contentStart(text, key.open));
    // An empty document (nothing but comments, or a `---`).
    if (empty) return { line: 1, column: 1 };
    return offset(contentStart(text, node.open));
  };
  return {
    at: offset,
    locate(path, at = 'value') {
      index ??= indexYaml(text);
      let node = index.root;
      if (!node) return { line: 1, column: 1 };
      let key: IndexNode | undefined;
      for (const seg of path) {
        const next = indexChild(index.byValue, node, seg);
        if (!next) return place(node, key, 'value');
        ({ node, key } = next);
      }
      return place(node, key, at);
    },
  };
}

function indexChild(
  byValue: Map<unknown, IndexNode>,
  parent: IndexNode,
  seg: PathSegment,
): { node: IndexNode; key?: IndexNode } | undefined {
  // An alias is the very object its anchor made: look in the anchor's node.
  const isObject = parent.result !== null && typeof parent.result === 'object';
  const coll = isObject ? (byValue.get(parent.result) ?? parent) : parent;
  const children = coll.children;
  if (coll.kind === 'mapping') {
    for (let i = 0; i + 1 < children.length; i += 2) {
      if (String(children[i]!.result) === String(seg)) return { node: children[i + 1]!, key: children[i]! };
    }
    return undefined;
  }
  if (coll.kind === 'sequence' && Array.isArray(coll.result) && children.length === coll.result.length) {
    const i = typeof seg === 'number' ? seg : /^\d+$/.test(seg) ? Number(seg) : NaN;
    return i >= 0 && i < children.length ? { node: children[i]! } : undefined;
  }
  return undefined;
}

/** From where js-yaml began a node to its content: past spaces, line breaks, comments, an anchor and a tag. */
function contentStart(text: string, from: number): number {
  let p = from;
  for (;;) {
    const c = text.charCodeAt(p);
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) p++;
    else if (c === 0x23) {
      const eol = text.indexOf('\n', p);
      p = eol < 0 ? text.length : eol;
    } else if (c === 0x26 || c === 0x21) {
      while (p < text.length && !/[\s,[\]{}]/.test(text[p]!)) p++;
    } else return p;
  }
}

function starts(text: string): number[] {
  const out = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) out.push(i + 1);
  return out;
}
