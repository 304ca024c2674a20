/**
 * From a place in the parsed data (a JSON pointer, or a path of keys and
 * indexes) to a line and column in the YAML text. Pure.
 */
import type { Document, LineCounter, Node, Pair } from 'yaml';
import type { SourcePos } from '../errors.js';
import { yaml } from './yaml-module.js';

export type PathSegment = string | number;

/** One parsed YAML text. */
export interface YamlSource {
  file: string;
  doc: Document.Parsed;
  lineCounter: LineCounter;
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
  let node: unknown = src.doc.contents;
  let pair: Pair | undefined;
  for (const seg of path) {
    const next = child(src.doc, node, seg);
    if (!next) return nodePos(src, node, pair, 'value');
    node = next.node;
    pair = next.pair;
  }
  return nodePos(src, node, pair, at);
}

/** `locate`, as an error position in the source's file. */
export function sourcePos(src: YamlSource, path: readonly PathSegment[], at: 'key' | 'value' = 'value'): SourcePos {
  return { file: src.file, ...locate(src, path, at) };
}

/** Offset in the text to a position. */
export function offsetPos(src: Pick<YamlSource, 'lineCounter'>, offset: number): LinePos {
  const p = src.lineCounter.linePos(offset);
  return { line: p.line, column: p.col };
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

function nodePos(src: YamlSource, node: unknown, pair: Pair | undefined, at: 'key' | 'value'): LinePos {
  const { isNode, isScalar } = yaml();
  const keyNode = pair && isNode(pair.key) ? (pair.key as Node) : undefined;
  const empty = !isNode(node) || (isScalar(node) && node.value === null && !node.source);
  if (keyNode?.range && (at === 'key' || empty)) return offsetPos(src, keyNode.range[0]);
  if (isNode(node) && node.range) return offsetPos(src, node.range[0]);
  return { line: 1, column: 1 };
}
