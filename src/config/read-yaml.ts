/**
 * The data path: a config text to plain data with js-yaml 4, under a schema
 * that resolves plain scalars exactly as the `yaml` package's YAML 1.2 core
 * schema does (`yes` and `on` are text, `2020-01-01` is text, `0o17` is 15,
 * `<<` merges). Whatever js-yaml would read differently from `yaml` (a key
 * that is empty, null or a collection, an explicit `?` key, a `%` directive,
 * a flow pair in a sequence) is declined, as is every error and warning: the
 * caller then asks `yaml`, whose answer is the one users have always had.
 *
 * Why js-yaml: on a 10,000-service file (4.6 MB) js-yaml 4.3 reads the data
 * in 0.15-0.3 s; `yaml` builds a document of every token and node first
 * (3-4 s, 550 MB). js-yaml 5 measured 2.5-3x slower than 4. `yaml` is kept
 * to place errors it finds and to print configs (print.ts).
 * test/unit/config/read-yaml.test.ts holds this reader to `yaml`'s answers. Pure.
 */
import jsYaml from 'js-yaml';
import type { LoadOptions, State } from 'js-yaml';

/**
 * How deep collections may nest. A config is at most 8 deep (a check's exec
 * command list inside a real server inside a service); 64 leaves room for
 * any hand-written structure, and keeps every recursive walk over the data
 * (ajv, validate, normalize) far from the stack's end.
 */
export const MAX_DEPTH = 64;

/** What js-yaml made of a text. */
export type YamlRead =
  | { kind: 'data'; data: unknown }
  /** Outside what this reader answers like `yaml`, or an error or warning: ask `yaml`. */
  | { kind: 'decline'; error?: YamlReadError };

/** js-yaml's error: its reason (never a snippet of the text) and where, when it says. */
export interface YamlReadError {
  reason: string;
  /** Offset in the text; undefined when js-yaml gives no place. */
  offset?: number;
  tooDeep: boolean;
}

// The YAML 1.2 core schema, as the yaml package resolves plain scalars.
const NULL = /^(?:~|[Nn]ull|NULL)?$/;
const BOOL = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const INT = /^[-+]?[0-9]+$/;
const OCT = /^0o[0-7]+$/;
const HEX = /^0x[0-9a-fA-F]+$/;
const SPECIAL_FLOAT = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const EXP = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/;

/** Could `s` resolve to anything but text? Most scalars (names, addresses) start with a letter no keyword does. */
function maybeSpecial(s: string): boolean {
  const c = s.charCodeAt(0);
  return (
    Number.isNaN(c) ||
    c === 0x7e ||
    c === 0x2b ||
    c === 0x2d ||
    c === 0x2e ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x4e ||
    c === 0x6e ||
    c === 0x54 ||
    c === 0x74 ||
    c === 0x46 ||
    c === 0x66
  );
}

const scalarType = (tag: string, resolve: (s: string) => boolean, construct: (s: string) => unknown) =>
  new jsYaml.Type(`tag:yaml.org,2002:${tag}`, {
    kind: 'scalar',
    resolve: (s: string | null) => (s === null ? tag === 'null' : maybeSpecial(s) && resolve(s)),
    construct: (s: string | null) => (s === null ? null : construct(s)),
  });

const CORE_SCHEMA = jsYaml.FAILSAFE_SCHEMA.extend({
  implicit: [
    scalarType(
      'null',
      (s) => NULL.test(s),
      () => null,
    ),
    scalarType(
      'bool',
      (s) => BOOL.test(s),
      (s) => s[0] === 't' || s[0] === 'T',
    ),
    scalarType(
      'int',
      (s) => INT.test(s) || OCT.test(s) || HEX.test(s),
      (s) => (OCT.test(s) ? parseInt(s.slice(2), 8) : HEX.test(s) ? parseInt(s.slice(2), 16) : parseInt(s, 10)),
    ),
    scalarType(
      'float',
      (s) => FLOAT.test(s) || EXP.test(s) || SPECIAL_FLOAT.test(s),
      (s) =>
        !SPECIAL_FLOAT.test(s) ? parseFloat(s) : /nan$/i.test(s) ? NaN : s.startsWith('-') ? -Infinity : Infinity,
    ),
    (jsYaml as unknown as { types: { merge: InstanceType<typeof jsYaml.Type> } }).types.merge,
  ],
});

/**
 * Texts js-yaml may read differently from `yaml`, found without parsing: a
 * carriage return without a line feed (a line break to js-yaml, text to
 * `yaml`), a directive (`%YAML 1.1` switches `yaml` to YAML 1.1 booleans), `---` or
 * `...` run into text (`---#` is a key to `yaml`), an anchor or alias whose
 * name ends in `:` (`{ &a: 1 }`: js-yaml takes the colon into the name,
 * `yaml` calls it an error), and an anchor or tag followed by `key: value` on
 * its line (js-yaml reads a mapping, `yaml` an error). The same characters in
 * a value decline too; that only costs time.
 */
const DECLINED_TEXT = new RegExp(
  [
    '\\r(?!\\n)',
    '^%',
    '^(?:---|\\.\\.\\.)\\S',
    '[&*][^\\s,[\\]{}]*:(?:[\\s,\\]}]|$)',
    '[&!][^\\s,[\\]{}]*[ \\t]+[^\\s#[{"\'*&!][^\\n]*?:(?:[ \\t]|$)',
  ].join('|'),
  'm',
);

/**
 * A comment, to look past: `#` at a line's start or after a space. Inside a
 * quoted scalar this cuts real text, but what follows a closing quote on its
 * line is an error js-yaml reports anyway.
 */
const COMMENT = /(^|[ \t])#.*$/gm;

/** The data of `text`, or a decline (with js-yaml's error when there was one). */
export function readYaml(text: string): YamlRead {
  // Only look again without comments when the text hits: `# R&D: ...` is no anchor.
  if (DECLINED_TEXT.test(text) && DECLINED_TEXT.test(text.replace(COMMENT, '$1'))) return { kind: 'decline' };
  const shape = new ShapeCheck();
  let warned = false;
  const options: LoadOptions & { maxDepth: number } = {
    schema: CORE_SCHEMA,
    maxDepth: MAX_DEPTH,
    onWarning: () => {
      warned = true;
    },
    listener(event: 'open' | 'close', state: State) {
      if (event === 'open') shape.open();
      else shape.close(state.kind, state.result);
    },
  };
  let data: unknown;
  try {
    data = jsYaml.load(text, options);
  } catch (e) {
    return { kind: 'decline', error: readError(e) };
  }
  return shape.odd || warned ? { kind: 'decline' } : { kind: 'data', data };
}

const EMPTY_CHILD = 1;
const BAD_KEY = 2;
const MERGE_VALUE = 4;

/**
 * Finds, from js-yaml's open and close events, what it reads unlike `yaml`:
 * a mapping key that is null (`~:`; `yaml` makes it '') or a collection or
 * alias of one (`[port]: 80` is key 'port' to js-yaml, '[ port ]' to `yaml`);
 * a mapping whose events do not pair up one key, one value (a flow key
 * without a value, `{ a, ~ }`), so its keys cannot be checked; a merge of
 * anything but mappings; a sequence with a flow pair (`[a: 1]`) or an empty
 * item (`-` alone), whose events do not match its items or place them as
 * `yaml` does; and an alias of a collection still being read (a cycle, or a
 * merge of itself). Keeps a few numbers per open node (js-yaml nests at most
 * MAX_DEPTH), so the check costs little on a big file.
 */
class ShapeCheck {
  odd = false;
  private depth = 0;
  private readonly count: number[] = [0];
  private readonly flags: number[] = [0];
  private readonly merges: number[] = [0];
  private readonly first: unknown[] = [undefined];
  private readonly done = new Set<unknown>();

  open(): void {
    const d = ++this.depth;
    this.count[d] = 0;
    this.flags[d] = 0;
    this.merges[d] = 0;
    this.first[d] = undefined;
  }

  close(kind: string | null, result: unknown): void {
    const d = this.depth--;
    if (result !== null && typeof result === 'object') {
      if (kind !== null) this.done.add(result);
      else if (!this.done.has(result)) this.odd = true;
      if (!this.odd && (this.count[d]! > 0 || kind === 'sequence')) this.odd = this.oddCollection(d, kind, result);
    }
    this.child(this.depth, kind, result);
  }

  /** Notes a closed node as the next child of the node open at depth `p`. */
  private child(p: number, kind: string | null, result: unknown): void {
    const i = this.count[p]!++;
    if (i === 0) this.first[p] = result;
    let f = this.flags[p]!;
    if (kind === null && result === null) f |= EMPTY_CHILD;
    if (i % 2 === 0) {
      if (result === null || typeof result === 'object') f |= BAD_KEY;
      else if (result === '<<' && kind === 'scalar') {
        f |= MERGE_VALUE;
        this.merges[p]!++;
      }
    } else if (f & MERGE_VALUE) {
      // `yaml` merges mappings and lists of mappings only; js-yaml takes any collection.
      if (!isMapping(result) && !(Array.isArray(result) && result.every(isMapping))) f |= BAD_KEY;
      f &= ~MERGE_VALUE;
    }
    this.flags[p] = f;
  }

  private oddCollection(d: number, kind: string | null, result: object): boolean {
    const n = this.count[d]!;
    // A flow collection as a block item is read twice over: once as a would-be key, then kept.
    if (n === 1 && this.first[d] === result) return false;
    if (kind === 'sequence') return (this.flags[d]! & EMPTY_CHILD) !== 0 || n !== (result as unknown[]).length;
    if (kind !== 'mapping') return false;
    if (n % 2 !== 0 || (this.flags[d]! & BAD_KEY) !== 0) return true;
    const keys = Object.keys(result).length;
    const merges = this.merges[d]!;
    return merges === 0 ? keys !== n / 2 : keys < n / 2 - merges;
  }
}

function isMapping(v: unknown): boolean {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function readError(e: unknown): YamlReadError {
  const err = e as { reason?: unknown; mark?: { position?: unknown } };
  const reason =
    typeof err.reason === 'string' ? err.reason : e instanceof Error ? e.message.split('\n')[0]! : String(e);
  const offset = typeof err.mark?.position === 'number' ? err.mark.position : undefined;
  const tooDeep = reason.startsWith('nesting exceeded maxDepth');
  return { reason, ...(offset === undefined ? {} : { offset }), tooDeep };
}

/** One event of a position index: where a node starts, what it is, its children (keys and values alternate). */
export interface IndexNode {
  /** Where js-yaml began to read the node: the content, or the space before a mapping value. */
  open: number;
  kind: string | null;
  result: unknown;
  children: IndexNode[];
}

/**
 * The nodes of a text js-yaml reads without error, with where each starts;
 * positions.ts walks it to place errors. Reads the text a second time, only
 * when an error needs a place. `byValue` maps each collection to its first
 * node: an alias is the same object as its anchor's.
 */
export function indexYaml(text: string): { root: IndexNode | undefined; byValue: Map<unknown, IndexNode> } {
  const stack: IndexNode[] = [{ open: 0, kind: null, result: undefined, children: [] }];
  const byValue = new Map<unknown, IndexNode>();
  const options: LoadOptions & { maxDepth: number } = {
    schema: CORE_SCHEMA,
    maxDepth: MAX_DEPTH,
    listener(event: 'open' | 'close', state: State) {
      if (event === 'open') {
        stack.push({ open: state.position, kind: null, result: undefined, children: [] });
        return;
      }
      const node = stack.pop()!;
      node.kind = state.kind;
      node.result = state.result;
      const isObject = node.result !== null && typeof node.result === 'object';
      if (isObject && !byValue.has(node.result)) byValue.set(node.result, node);
      stack.at(-1)!.children.push(node);
    },
  };
  try {
    jsYaml.load(text, options);
  } catch {
    return { root: undefined, byValue };
  }
  return { root: stack[0]!.children[0], byValue };
}
