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
  return Number.isNaN(c) || c === 0x7e || c === 0x2b || c === 0x2d || c === 0x2e || (c >= 0x30 && c <= 0x39) ||
    c === 0x4e || c === 0x6e || c === 0x54 || c === 0x74 || c === 0x46 || c === 0x66;
}

const scalarType = (tag: string, resolve: (s: string) => boolean, construct: (s: string) => unknown) =>
  new jsYaml.Type(`tag:yaml.org,2002:${tag}`, {
    kind: 'scalar',
    resolve: (s: string | null) => (s === null ? tag === 'null' : maybeSpecial(s) && resolve(s)),
    construct: (s: string | null) => (s === null ? null : construct(s)),
  });

const CORE_SCHEMA = jsYaml.FAILSAFE_SCHEMA.extend({
  implicit: [
    scalarType('null', (s) => NULL.test(s), () => null),
    scalarType('bool', (s) => BOOL.test(s), (s) => s[0] === 't' || s[0] === 'T'),
    scalarType('int', (s) => INT.test(s) || OCT.test(s) || HEX.test(s), (s) =>
      OCT.test(s) ? parseInt(s.slice(2), 8) : HEX.test(s) ? parseInt(s.slice(2), 16) : parseInt(s, 10)),
    scalarType('float', (s) => FLOAT.test(s) || EXP.test(s) || SPECIAL_FLOAT.test(s), (s) =>
      !SPECIAL_FLOAT.test(s) ? parseFloat(s) : /nan$/i.test(s) ? NaN : s.startsWith('-') ? -Infinity : Infinity),
    (jsYaml as unknown as { types: { merge: InstanceType<typeof jsYaml.Type> } }).types.merge,
  ],
});

/**
 * Texts js-yaml may read differently from `yaml`, found without parsing: a
 * directive (`%YAML 1.1` switches `yaml` to YAML 1.1 booleans), an explicit
 * key indicator `?` (the key checks below pair keys with values by order),
 * an anchor or alias whose name ends in `:` (`{ &a: 1 }`: js-yaml takes
 * the colon into the name, `yaml` calls it an error), and an anchor or tag
 * followed by `key: value` on its line (js-yaml reads a mapping, `yaml` an
 * error), and `---` or `...` run into text (`---#`: a key to `yaml`). The
 * same characters in a comment or a value decline too; that only costs time.
 */
const DECLINED_TEXT = new RegExp([
  '^%',
  '^(?:---|\\.\\.\\.)\\S',
  '(?:^|[\\s[{,])\\?(?:\\s|$)',
  '[&*][^\\s,[\\]{}]*:(?:[\\s,\\]}]|$)',
  '[&!][^\\s,[\\]{}]*[ \\t]+[^\\s#[{"\'*&!][^\\n]*?:(?:[ \\t]|$)',
].join('|'), 'm');

/** The data of `text`, or a decline (with js-yaml's error when there was one). */
export function readYaml(text: string): YamlRead {
  if (DECLINED_TEXT.test(text)) return { kind: 'decline' };
  let odd = false;
  let warned = false;
  const done = new Set<unknown>();
  const frames: Array<Array<{ kind: string | null; result: unknown }>> = [[]];
  const options: LoadOptions & { maxDepth: number } = {
    schema: CORE_SCHEMA,
    maxDepth: MAX_DEPTH,
    onWarning: () => {
      warned = true;
    },
    listener(event: 'open' | 'close', state: State) {
      if (event === 'open') {
        frames.push([]);
        return;
      }
      const children = frames.pop()!;
      const node = { kind: state.kind as string | null, result: state.result as unknown };
      frames.at(-1)!.push(node);
      if (node.result === null || typeof node.result !== 'object') return;
      if (node.kind !== null) done.add(node.result);
      // An alias (no kind of its own) of a collection still being read: a cycle, or a merge of itself.
      else if (!done.has(node.result)) odd = true;
      if (!odd && children.length > 0) odd = oddCollection(node, children);
    },
  };
  let data: unknown;
  try {
    data = jsYaml.load(text, options);
  } catch (e) {
    return { kind: 'decline', error: readError(e) };
  }
  return odd || warned ? { kind: 'decline' } : { kind: 'data', data };
}

/**
 * A collection js-yaml reads unlike `yaml`: a mapping key that is null (`~:`;
 * `yaml` makes it '') or a collection or alias of one (`[port]: 80` is key
 * 'port' to js-yaml, '[ port ]' to `yaml`); a mapping whose events do not
 * pair up one key, one value (a flow key without a value, `{ a, ~ }`), so
 * its keys cannot be checked; a merge of anything but mappings; and a
 * sequence with a flow pair (`[a: 1]`) or an empty item (`-` alone), whose
 * events do not match its items or place them as `yaml` does.
 */
interface Event {
  kind: string | null;
  result: unknown;
}

function oddCollection(node: Event, children: Event[]): boolean {
  // A flow collection as a block item is read twice over: once as a would-be key, then kept.
  if (children.length === 1 && children[0]!.result === node.result) return false;
  if (node.kind === 'sequence') {
    const empty = children.some((c) => c.kind === null && c.result === null);
    return empty || children.length !== (node.result as unknown[]).length;
  }
  if (node.kind !== 'mapping') return false;
  if (children.length % 2 !== 0) return true;
  let merges = 0;
  for (let i = 0; i < children.length; i += 2) {
    const key = children[i]!.result;
    if (key === null || typeof key === 'object') return true;
    if (key === '<<' && children[i]!.kind === 'scalar') {
      // `yaml` merges mappings and lists of mappings only; js-yaml takes any collection.
      const from = children[i + 1]!.result;
      if (!isMapping(from) && !(Array.isArray(from) && from.every(isMapping))) return true;
      merges++;
    }
  }
  const keys = Object.keys(node.result as object).length;
  return merges === 0 ? keys !== children.length / 2 : keys < children.length / 2 - merges;
}

function isMapping(v: unknown): boolean {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function readError(e: unknown): YamlReadError {
  const err = e as { reason?: unknown; mark?: { position?: unknown } };
  const reason = typeof err.reason === 'string' ? err.reason : e instanceof Error ? e.message.split('\n')[0]! : String(e);
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
