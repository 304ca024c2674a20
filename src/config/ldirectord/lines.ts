/**
 * ldirectord.cf as directives, the way ldirectord's read_config reads it:
 * `key = value` lines; a `virtual =` (or `virtual6 =`) line starts a
 * section that holds the lines after it indented by at least 4 spaces (a tab
 * counts as 4); `#` starts a comment. Pure.
 */
import type { SourceLine } from '../migration.js';
import { syntaxError } from '../migration.js';

/** One `key = value` line. */
export interface Directive extends SourceLine {
  key: string;
  value: string;
}

/** A `virtual =` line and the directives of its section. */
export interface VirtualSection {
  virtual: Directive;
  directives: Directive[];
}

/** The file's global directives and its virtual sections, in file order. */
export interface LdirectordFile {
  globals: Directive[];
  virtuals: VirtualSection[];
}

/** Splits ldirectord.cf text; throws IMPORT_SYNTAX for a line that is not `key = value` or stray indentation. */
export function readLdirectord(text: string, file: string): LdirectordFile {
  const out: LdirectordFile = { globals: [], virtuals: [] };
  let current: VirtualSection | undefined;
  text.split('\n').forEach((raw, i) => {
    const at = { file, line: i + 1 };
    if (/^\s*#/.test(raw)) return;
    const line = stripComment(raw).replace(/\t/g, '    ').replace(/\s+$/, '');
    if (line === '') return;
    const indented = /^ {4,}/.test(line);
    const d = directive(line.trim(), at);
    if (indented) {
      if (!current) throw syntaxError(at, 'an indented line outside a virtual section');
      current.directives.push(d);
    } else if (d.key === 'virtual' || d.key === 'virtual6') {
      current = { virtual: d, directives: [] };
      out.virtuals.push(current);
    } else if (/^\s/.test(line)) {
      throw syntaxError(at, 'indented by fewer than 4 spaces: ldirectord ends the virtual section here');
    } else {
      current = undefined;
      out.globals.push(d);
    }
  });
  return out;
}

function directive(text: string, at: SourceLine): Directive {
  const m = /^([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(.*)$/.exec(text);
  if (!m) throw syntaxError(at, `'${text.slice(0, 40)}' is not a key = value line`);
  return { ...at, key: m[1]!, value: m[2]! };
}

/** ldirectord drops `#` and what follows (outside quotes: a request may hold one). */
function stripComment(line: string): string {
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '"') quoted = !quoted;
    else if (line[i] === '#' && !quoted) return line.slice(0, i);
  }
  return line;
}

/** A value without the double quotes around it. */
export function unquote(value: string): string {
  const m = /^"(.*)"$/.exec(value.trim());
  return m ? m[1]! : value.trim();
}
