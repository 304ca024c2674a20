/**
 * The items of a file's block-style `services` list, found in its bytes by
 * their lines, without parsing: the daemon's incremental loader
 * (incremental.ts) parses again only the items whose lines changed. A line
 * is an item's first when it is `-` at the list's indentation; the list
 * ends at the first line less indented (a top-level key). Blank and comment
 * lines belong to the item before them. Whatever does not look like that
 * (a flow list, a quoted key, odd indentation) is reported, and the caller
 * reads the file in full. Pure.
 */

/** Where a file's `services` items are: byte offsets. */
export interface ItemSplit {
  /** The indentation of the list's `-`. */
  indent: number;
  /** Where each item starts; an item ends where the next starts, the last at `end`. */
  starts: number[];
  /** Where the list ends: the start of the first line after it, or the file's length. */
  end: number;
}

const NL = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const HASH = 0x23;
const DASH = 0x2d;

/** One line, as the split sees it. */
type Line = { kind: 'blank' } | { kind: 'content'; indent: number; dash: boolean };

function lineAt(bytes: Uint8Array, pos: number, end: number): Line {
  let i = pos;
  while (i < end && bytes[i] === SPACE) i++;
  const indent = i - pos;
  let j = i;
  while (j < end && (bytes[j] === SPACE || bytes[j] === TAB)) j++;
  if (j >= end || bytes[j] === NL || bytes[j] === CR || bytes[j] === HASH) return { kind: 'blank' };
  const next = i + 1 < end ? bytes[i + 1] : NL;
  const dash = bytes[i] === DASH && (next === SPACE || next === TAB || next === NL || next === CR);
  return { kind: 'content', indent, dash };
}

/** The start of the line after the one at `pos` (or `end`). */
function nextLine(bytes: Uint8Array, pos: number, end: number): number {
  const nl = bytes.indexOf(NL, pos);
  return nl < 0 || nl >= end ? end : nl + 1;
}

const SERVICES_LINE = /^services[ \t]*:[ \t]*(?:#.*)?\r?\n?$/;

/**
 * The items of the block list under `services:` (a line of its own at column 0),
 * or why there is none to split.
 */
export function splitServices(bytes: Uint8Array): ItemSplit | string {
  let pos = 0;
  let header = -1;
  while (pos < bytes.length) {
    const next = nextLine(bytes, pos, bytes.length);
    const line = () => Buffer.from(bytes.buffer, bytes.byteOffset + pos, next - pos).toString('latin1');
    if (bytes[pos] === 0x73 && SERVICES_LINE.test(line())) {
      header = next;
      break;
    }
    pos = next;
  }
  if (header < 0) return 'the file has no block-style services list';
  for (pos = header; pos < bytes.length; pos = nextLine(bytes, pos, bytes.length)) {
    const line = lineAt(bytes, pos, bytes.length);
    if (line.kind === 'blank') continue;
    if (!line.dash) return 'the services list is not a block list';
    const items = scanItems(bytes, pos, bytes.length, line.indent);
    return typeof items === 'string' ? items : { indent: line.indent, ...items };
  }
  return 'the services list is empty';
}

/**
 * The items between `from` (an item's first line) and `to`: where each
 * starts, and where the list ends (at `to`, or at a top-level line before it).
 */
export function scanItems(
  bytes: Uint8Array,
  from: number,
  to: number,
  indent: number,
): { starts: number[]; end: number } | string {
  const starts: number[] = [];
  for (let pos = from; pos < to; pos = nextLine(bytes, pos, to)) {
    const line = lineAt(bytes, pos, to);
    if (line.kind === 'blank') continue;
    if (line.indent === indent && line.dash) starts.push(pos);
    else if (line.indent > indent && starts.length > 0) continue;
    else if (line.indent === 0) return starts.length > 0 ? { starts, end: pos } : 'no service item where one starts';
    else return 'a line of the services list is indented unlike its items';
  }
  return starts.length > 0 ? { starts, end: to } : 'no service item where one starts';
}

/** The index of the item that holds byte `offset` (the last item whose start is at or before it). */
export function itemAt(starts: readonly number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
