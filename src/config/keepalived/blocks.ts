/**
 * keepalived.conf as a tree of statements: `include` lines followed (globs
 * relative to the including file's directory, as keepalived changes into
 * it), then `{ ... }` blocks nested. Pure over a ConfigFiles reader.
 */
import { posix } from 'node:path';
import type { Reporter, SourceLine } from '../migration.js';
import { syntaxError } from '../migration.js';
import type { ConfigFiles } from './glob.js';
import { expandGlob } from './glob.js';
import type { LexContext, LexedLine } from './lexer.js';
import { lexFile } from './lexer.js';

/** A keyword with its arguments, and the statements of its block if it opens one. */
export interface Statement extends SourceLine {
  keyword: string;
  args: string[];
  block?: Statement[];
  /** Where the block's closing `}` is. */
  end?: SourceLine;
}

/** keepalived's include keywords: the variants only add checks keepalived makes on the files. */
const INCLUDES = new Set(['include', 'includer', 'includem', 'includef']);

/** How deep includes may nest before a loop is assumed. */
const MAX_INCLUDE_DEPTH = 16;

/**
 * The statements of `path` with its includes followed. Throws CONFIG_READ's
 * kin IMPORT_SYNTAX for unbalanced braces and an unreadable main file
 * (LvsdError CONFIG_READ); an include that cannot be read or matches nothing
 * is reported and skipped, as keepalived skips it. `definitions` collects the
 * `$NAME=VALUE` lines read.
 */
export function readStatements(
  path: string,
  files: ConfigFiles,
  configId: string,
  reporter: Reporter,
  definitions: string[] = [],
): Statement[] {
  const ctx: LexContext = { configId, params: new Map(), reporter, definitions };
  const lines = readLines(posix.resolve(path), files, ctx, 0);
  return nest(lines, path);
}

function readLines(path: string, files: ConfigFiles, ctx: LexContext, depth: number): LexedLine[] {
  const out: LexedLine[] = [];
  for (const line of lexFile(files.read(path), path, ctx)) {
    if (!INCLUDES.has(line.words[0]!)) {
      out.push(line);
      continue;
    }
    const pattern = line.words.slice(1).join(' ');
    if (pattern === '' || depth >= MAX_INCLUDE_DEPTH) {
      ctx.reporter.omit(line, line.words[0]!, pattern === '' ? 'no file named' : 'includes nested too deep (a loop?)');
      continue;
    }
    const matched = expandGlob(pattern, posix.dirname(path), files);
    if (matched.length === 0) ctx.reporter.omit(line, `include ${pattern}`, 'no file matches it');
    for (const f of matched) {
      try {
        out.push(...readLines(f, files, ctx, depth + 1));
      } catch (e) {
        if ((e as { code?: string }).code === 'IMPORT_SYNTAX') throw e;
        ctx.reporter.omit(line, `include ${f}`, `cannot read it: ${(e as Error).message}`);
      }
    }
  }
  return out;
}

/** Statements from lines: words up to `{`, `}` or the end of a line make one; `{` may open on the next line. */
function nest(lines: LexedLine[], path: string): Statement[] {
  const root: Statement[] = [];
  const stack: { list: Statement[]; opener?: Statement }[] = [{ list: root }];
  let last: Statement | undefined;
  for (const line of lines) {
    let words: string[] = [];
    const flush = (): void => {
      if (words.length === 0) return;
      last = { file: line.file, line: line.line, keyword: words[0]!, args: words.slice(1) };
      stack[stack.length - 1]!.list.push(last);
      words = [];
    };
    for (const w of line.words) {
      if (w === '{') {
        flush();
        if (!last || last.block) throw syntaxError(line, "'{' opens a block without a keyword");
        last.block = [];
        stack.push({ list: last.block, opener: last });
        last = undefined;
      } else if (w === '}') {
        flush();
        if (stack.length === 1) throw syntaxError(line, "'}' closes no block");
        stack.pop()!.opener!.end = { file: line.file, line: line.line };
        last = undefined;
      } else words.push(w);
    }
    flush();
  }
  const open = stack[stack.length - 1]!.opener;
  if (open) throw syntaxError(open, `the block of '${open.keyword}' is never closed (in ${path} or its includes)`);
  return root;
}
