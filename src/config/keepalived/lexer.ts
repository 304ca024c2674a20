/**
 * keepalived.conf's lines as words, the way keepalived's parser reads them
 * (keepalived.conf(5), "DESCRIPTION", "Quoted strings", "Conditional
 * configuration", "Parameter substitution"): comments start with `#` or `!`
 * anywhere outside quotes; `{` and `}` are words of their own; a line
 * starting `@ID` is kept only when ID is the config id, `@^ID` only when it
 * is not; `$NAME=VALUE` defines a parameter that `$NAME` and `${NAME}` are
 * then replaced by. Pure.
 */
import type { Reporter, SourceLine } from '../migration.js';
import { syntaxError } from '../migration.js';

/** One line of words, and where it was written. */
export interface LexedLine extends SourceLine {
  words: string[];
}

/** What lexing carries from line to line and file to file. */
export interface LexContext {
  /** keepalived's `-i`; without it, the first part of the node name (uname -n up to the first dot). */
  configId: string;
  /** Parameters defined so far ($NAME=VALUE), across included files as keepalived does. */
  params: Map<string, string>;
  reporter: Reporter;
  /** The `$NAME=VALUE` lines, as written. */
  definitions?: string[];
}

/** The lines of one file's text that keepalived would read, as words. Throws IMPORT_SYNTAX on an open quote. */
export function lexFile(text: string, file: string, ctx: LexContext): LexedLine[] {
  const out: LexedLine[] = [];
  text.split('\n').forEach((raw, i) => {
    const at = { file, line: i + 1 };
    const line = conditional(raw.replace(/\r$/, ''), ctx.configId);
    if (line === undefined) return;
    const def = /^\s*\$([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (def) {
      ctx.params.set(def[1]!, def[2]!.trim());
      ctx.definitions?.push(line.trim());
      return;
    }
    if (/^\s*~(SEQ|LST)\b/.test(line)) {
      ctx.reporter.omit(at, line.trim().split(/\s+/)[0]!, 'keepalived sequence and list blocks are not expanded');
      return;
    }
    const text = substitute(line, ctx.params);
    // An include names a glob, whose braces are csh braces, not blocks.
    const include = /^\s*(include[rmf]?)\s+(.*?)\s*(?:[#!].*)?$/.exec(text);
    if (include) {
      out.push({ ...at, words: [include[1]!, include[2]!.replace(/^"(.*)"$/, '$1')] });
      return;
    }
    const words = splitWords(text, at);
    if (words.length > 0) out.push({ ...at, words });
  });
  return out;
}

/** The line without its `@ID ` prefix when keepalived keeps it, undefined when it skips it. */
function conditional(line: string, configId: string): string | undefined {
  const m = /^\s*@(\^?)(\S*)(.*)$/.exec(line);
  if (!m) return line;
  const matches = m[2] === configId;
  const keep = m[1] === '^' ? !matches : matches;
  return keep ? m[3] : undefined;
}

/** `${NAME}` anywhere, `$NAME` when followed by whitespace or the end of the line. Unknown names stay. */
function substitute(line: string, params: Map<string, string>): string {
  if (!line.includes('$')) return line;
  return line
    .replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (all, name: string) => params.get(name) ?? all)
    .replace(/\$([A-Za-z_][A-Za-z0-9_]*)(?=\s|$)/g, (all, name: string) => params.get(name) ?? all);
}

const ESCAPES: Record<string, string> = { a: '\x07', b: '\b', E: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

/** Words of a line: quotes join words, `#` and `!` outside quotes end the line, braces stand alone. */
function splitWords(line: string, at: SourceLine): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (c === ' ' || c === '\t') i++;
    else if (c === '#' || c === '!') break;
    else if (c === '{' || c === '}') words.push(line[i++]!);
    else if (c === '"') {
      const [word, next] = quoted(line, i + 1, at);
      words.push(word);
      i = next;
    } else {
      let j = i;
      while (j < line.length && !' \t{}#!"'.includes(line[j]!)) j++;
      words.push(line.slice(i, j));
      i = j;
    }
  }
  return words;
}

/** A quoted string from after its opening quote: its text (escapes resolved) and the index after its end. */
function quoted(line: string, start: number, at: SourceLine): [string, number] {
  let text = '';
  let i = start;
  for (;;) {
    if (i >= line.length) throw syntaxError(at, 'a quoted string is not closed on its line');
    const c = line[i]!;
    // keepalived ends a quoted string only at a quote followed by a space or the end of the line.
    if (c === '"' && (i + 1 >= line.length || /\s/.test(line[i + 1]!))) return [text, i + 1];
    if (c === '"') {
      i++;
      continue;
    }
    if (c === '\\' && i + 1 < line.length) {
      const e = line[i + 1]!;
      text += ESCAPES[e] ?? e;
      i += 2;
      continue;
    }
    text += c;
    i++;
  }
}
