/**
 * A fast reader for the plain subset of YAML that config files are written
 * in: block mappings and sequences, one-line flow collections, plain and
 * one-line quoted scalars, comments. It returns exactly what the `yaml`
 * package's `parse` returns for such a text (YAML 1.2 core schema), or
 * `undefined` for anything outside the subset: anchors, tags, block scalars,
 * multi-line scalars or flow collections, merge keys, escapes, tabs, CR,
 * duplicate keys, and every syntax error. The caller then uses `yaml`, which
 * also gives positions and messages; this reader never reports an error.
 *
 * Why: `yaml` builds a full document (CST, nodes, ranges) and takes about 4 s
 * and 1 GB for a 110,000-object file; this takes a few tens of milliseconds
 * and keeps only the data. test/unit/config/fast-yaml.test.ts checks it
 * against `yaml` on every example config and on generated documents. Pure.
 */

/** Plain data, as `yaml`'s toJS gives it. */
export type YamlValue = null | boolean | number | string | YamlValue[] | { [key: string]: YamlValue };

/** Thrown inside the reader when the text leaves the subset; never escapes it. */
class OutsideSubset {}
const OUT = new OutsideSubset();

interface Line {
  indent: number;
  /** The line without its indentation (may start with "- " items rewritten by the block reader). */
  text: string;
}

const SPACE = 0x20;
const HASH = 0x23;
const COLON = 0x3a;
const DASH = 0x2d;

/** The data of `text`, or undefined when `text` is not in the subset (use `yaml` then). */
export function fastParseYaml(text: string): YamlValue | undefined {
  if (text.includes('\t') || text.includes('\r') || text.includes('\\')) return undefined;
  try {
    const lines = splitLines(text);
    if (lines.length === 0) return undefined;
    const reader = new BlockReader(lines);
    const value = reader.block(lines[0]!.indent);
    if (reader.i !== lines.length) return undefined;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    return value;
  } catch (e) {
    if (e === OUT) return undefined;
    throw e;
  }
}

/** The lines that carry content: no blank or comment-only lines; a leading `---` is dropped. */
function splitLines(text: string): Line[] {
  const out: Line[] = [];
  let start = 0;
  let first = true;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    let indent = 0;
    while (start + indent < end && text.charCodeAt(start + indent) === SPACE) indent++;
    if (start + indent < end && text.charCodeAt(start + indent) !== HASH) {
      const body = text.slice(start + indent, end);
      if (body.startsWith('---') || body.startsWith('...') || body.startsWith('%')) {
        // One document-start marker before any content is fine; anything else is not in the subset.
        if (!(first && indent === 0 && /^---(?: +(?:#.*)?)?$/.test(body))) throw OUT;
      } else {
        out.push({ indent, text: trimEnd(body) });
      }
      first = false;
    }
    start = end + 1;
  }
  return out;
}

function trimEnd(s: string): string {
  let e = s.length;
  while (e > 0 && s.charCodeAt(e - 1) === SPACE) e--;
  return e === s.length ? s : s.slice(0, e);
}

/** A plain key: what no schema resolves to anything but a string, and nothing YAML treats specially. */
const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_./-]*$/;
const SPECIAL_KEYS = new Set(['true', 'True', 'TRUE', 'false', 'False', 'FALSE', 'null', 'Null', 'NULL', '__proto__']);

class BlockReader {
  i = 0;
  constructor(private readonly lines: Line[]) {}

  /** The block (mapping or sequence) whose lines start at column `indent`. */
  block(indent: number): YamlValue {
    const line = this.lines[this.i]!;
    if (line.indent !== indent) throw OUT;
    return isItem(line.text) ? this.sequence(indent) : this.mapping(indent);
  }

  private sequence(indent: number): YamlValue[] {
    const out: YamlValue[] = [];
    while (this.i < this.lines.length) {
      const line = this.lines[this.i]!;
      if (line.indent < indent) break;
      if (line.indent > indent) throw OUT;
      if (!isItem(line.text)) break; // back to a mapping at the same column (`key:\n- item`)
      let spaces = 1;
      while (spaces < line.text.length && line.text.charCodeAt(spaces) === SPACE) spaces++;
      const rest = line.text.slice(spaces);
      if (rest === '' || rest.charCodeAt(0) === HASH) {
        this.i++;
        out.push(this.nested(indent));
      } else if (isItem(rest) || keyEnd(rest) >= 0) {
        // A compact block inside the item: it continues on the lines at the rest's column.
        this.lines[this.i] = { indent: indent + spaces, text: rest };
        out.push(this.block(indent + spaces));
      } else {
        this.i++;
        out.push(this.inline(rest, indent));
      }
    }
    return out;
  }

  private mapping(indent: number): Record<string, YamlValue> {
    const out: Record<string, YamlValue> = {};
    while (this.i < this.lines.length) {
      const line = this.lines[this.i]!;
      if (line.indent < indent) break;
      if (line.indent > indent || isItem(line.text)) throw OUT;
      const end = keyEnd(line.text);
      if (end < 0) throw OUT;
      const key = readKey(line.text.slice(0, end));
      if (Object.prototype.hasOwnProperty.call(out, key)) throw OUT; // yaml reports the duplicate
      let v = end + 1;
      while (v < line.text.length && line.text.charCodeAt(v) === SPACE) v++;
      const rest = line.text.slice(v);
      this.i++;
      if (rest === '' || rest.charCodeAt(0) === HASH) {
        const next = this.lines[this.i];
        // `key:` followed by a sequence at the key's own column is YAML's compact form.
        out[key] = next && next.indent === indent && isItem(next.text) ? this.sequence(indent) : this.nested(indent);
      } else {
        out[key] = this.inline(rest, indent);
      }
    }
    return out;
  }

  /** The value after `key:` or `-` with nothing on the line: the more-indented block below, or null. */
  private nested(indent: number): YamlValue {
    const next = this.lines[this.i];
    if (!next || next.indent <= indent) return null;
    return this.block(next.indent);
  }

  /** A value on the rest of a line; the next line must not continue it. */
  private inline(rest: string, indent: number): YamlValue {
    const next = this.lines[this.i]; // the line after the value's
    if (next && next.indent > indent) throw OUT; // a multi-line scalar, or an error
    const flow = new FlowReader(rest);
    const value = flow.value(false);
    flow.end();
    return value;
  }
}

/** Is this line text a sequence item (`-` alone or `- ...`)? */
function isItem(text: string): boolean {
  return text.charCodeAt(0) === DASH && (text.length === 1 || text.charCodeAt(1) === SPACE);
}

/** The index of the `:` that ends a block mapping key on this line, or -1 when the line is no `key:` line. */
function keyEnd(text: string): number {
  const c = text.charCodeAt(0);
  if (c === 0x7b || c === 0x5b) return -1; // a flow collection
  if (c === 0x22 || c === 0x27) {
    const close = text.indexOf(String.fromCharCode(c), 1);
    if (close < 0 || text.charCodeAt(close + 1) !== COLON) return -1;
    const after = text.charCodeAt(close + 2);
    return Number.isNaN(after) || after === SPACE ? close + 1 : -1;
  }
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === COLON) {
      const after = text.charCodeAt(i + 1);
      if (Number.isNaN(after) || after === SPACE) return i;
    } else if (ch === SPACE) {
      // `a b: c` is a valid key in YAML, but not a config key: let yaml handle it.
      return -1;
    }
  }
  return -1;
}

/** A block or flow mapping key: plain (a safe name) or quoted. */
function readKey(raw: string): string {
  const c = raw.charCodeAt(0);
  let key: string;
  if (c === 0x22 || c === 0x27) {
    const r = new FlowReader(raw);
    key = r.quoted();
    r.end();
  } else {
    if (!PLAIN_KEY.test(raw) || SPECIAL_KEYS.has(raw)) throw OUT;
    key = raw;
  }
  if (key === '__proto__' || key === '<<') throw OUT;
  return key;
}

/** Reads one value (a scalar or a flow collection) from a single line. */
class FlowReader {
  p = 0;
  constructor(private readonly s: string) {}

  /** The value at p. `inFlow`: inside `[...]`/`{...}`, where `,]}` end plain scalars. */
  value(inFlow: boolean): YamlValue {
    const c = this.s.charCodeAt(this.p);
    if (c === 0x7b) return this.flowMap();
    if (c === 0x5b) return this.flowSeq();
    if (c === 0x22 || c === 0x27) return this.quoted();
    return this.plain(inFlow);
  }

  /** Nothing but spaces and a comment may follow. */
  end(): void {
    this.spaces();
    if (this.p < this.s.length && !(this.s.charCodeAt(this.p) === HASH && this.s.charCodeAt(this.p - 1) === SPACE)) throw OUT;
  }

  quoted(): string {
    const q = this.s[this.p]!;
    let out = '';
    let from = this.p + 1;
    for (;;) {
      const close = this.s.indexOf(q, from);
      if (close < 0) throw OUT; // multi-line quoted scalars are not in the subset
      out += this.s.slice(from, close);
      if (q === "'" && this.s[close + 1] === "'") {
        out += "'";
        from = close + 2;
        continue;
      }
      this.p = close + 1;
      break;
    }
    // A quoted scalar must be followed by a separator.
    const after = this.s.charCodeAt(this.p);
    if (!(Number.isNaN(after) || after === SPACE || after === 0x2c || after === 0x5d || after === 0x7d || after === COLON)) throw OUT;
    return out;
  }

  private plain(inFlow: boolean): YamlValue {
    const s = this.s;
    const start = this.p;
    const c = s.charCodeAt(start);
    // Indicators that cannot start a plain scalar (`-`, `?`, `:` only when a space follows).
    if ('&*!|>%@`#,[]{}'.includes(s[start] ?? '') || Number.isNaN(c)) throw OUT;
    if ((c === DASH || c === 0x3f || c === COLON) && (s.length === start + 1 || s.charCodeAt(start + 1) === SPACE)) throw OUT;
    let p = start;
    for (; p < s.length; p++) {
      const ch = s.charCodeAt(p);
      if (ch === COLON) {
        const after = s.charCodeAt(p + 1);
        if (Number.isNaN(after) || after === SPACE || (inFlow && (after === 0x2c || after === 0x5d || after === 0x7d))) break;
      } else if (ch === HASH && s.charCodeAt(p - 1) === SPACE) break;
      else if (inFlow && (ch === 0x2c || ch === 0x5b || ch === 0x5d || ch === 0x7b || ch === 0x7d)) break;
    }
    let e = p;
    while (e > start && s.charCodeAt(e - 1) === SPACE) e--;
    this.p = e;
    return resolvePlain(s.slice(start, e));
  }

  private flowSeq(): YamlValue[] {
    const out: YamlValue[] = [];
    this.p++;
    for (;;) {
      this.spaces();
      if (this.s.charCodeAt(this.p) === 0x5d) break;
      const item = this.value(true);
      this.spaces();
      if (this.s.charCodeAt(this.p) === COLON) throw OUT; // `[a: b]` is a one-pair mapping in YAML
      out.push(item);
      const c = this.s.charCodeAt(this.p);
      if (c === 0x2c) {
        this.p++;
        continue;
      }
      if (c === 0x5d) break;
      throw OUT;
    }
    this.p++;
    return out;
  }

  private flowMap(): Record<string, YamlValue> {
    const out: Record<string, YamlValue> = {};
    this.p++;
    for (;;) {
      this.spaces();
      if (this.s.charCodeAt(this.p) === 0x7d) break;
      const key = this.flowKey();
      if (Object.prototype.hasOwnProperty.call(out, key)) throw OUT;
      this.spaces();
      const c0 = this.s.charCodeAt(this.p);
      if (c0 === 0x2c || c0 === 0x7d) throw OUT; // an empty value: let yaml say what it is
      out[key] = this.value(true);
      this.spaces();
      const c = this.s.charCodeAt(this.p);
      if (c === 0x2c) {
        this.p++;
        continue;
      }
      if (c === 0x7d) break;
      throw OUT;
    }
    this.p++;
    return out;
  }

  /** `key:` followed by a space, inside a flow mapping. */
  private flowKey(): string {
    const s = this.s;
    const start = this.p;
    const c = s.charCodeAt(start);
    let end: number;
    if (c === 0x22 || c === 0x27) {
      const close = s.indexOf(s[start]!, start + 1);
      if (close < 0) throw OUT;
      end = close + 1;
    } else {
      end = s.indexOf(':', start);
      if (end < 0) throw OUT;
    }
    if (s.charCodeAt(end) !== COLON || s.charCodeAt(end + 1) !== SPACE) throw OUT;
    const key = readKey(s.slice(start, end));
    this.p = end + 1;
    return key;
  }

  private spaces(): void {
    while (this.s.charCodeAt(this.p) === SPACE) this.p++;
  }
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

/** A plain scalar's value under the core schema. */
export function resolvePlain(s: string): YamlValue {
  const c = s.charCodeAt(0);
  // Most scalars (names, addresses, schedulers) start with a letter that no number or keyword starts with.
  const maybeSpecial = Number.isNaN(c) || c === 0x7e || c === 0x2b || c === DASH || c === 0x2e || (c >= 0x30 && c <= 0x39) ||
    c === 0x4e || c === 0x6e || c === 0x54 || c === 0x74 || c === 0x46 || c === 0x66;
  if (!maybeSpecial) return s;
  if (INT.test(s)) return parseInt(s, 10);
  if (NULL.test(s)) return null;
  if (BOOL.test(s)) return c === 0x74 || c === 0x54;
  if (FLOAT.test(s) || EXP.test(s)) return parseFloat(s);
  if (OCT.test(s)) return parseInt(s.slice(2), 8);
  if (HEX.test(s)) return parseInt(s.slice(2), 16);
  if (SPECIAL_FLOAT.test(s)) return s.endsWith('nan') || s.endsWith('NaN') || s.endsWith('NAN') ? NaN : s.startsWith('-') ? -Infinity : Infinity;
  return s;
}
