#!/usr/bin/env node
/**
 * Lists the longest functions of the TypeScript sources (default: src/), with
 * file:line and length in lines (first line to last, both counted), and exits
 * 1 when any is LIMIT lines or longer. Every function counts on its own:
 * declarations, methods, accessors, constructors, function expressions and
 * arrow functions; a nested function's lines count for it and for the
 * function around it.
 *
 *   node scripts/function-lengths.mjs [--limit 80] [--top 15] [DIR...]
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import ts from 'typescript';

const { values, positionals } = parseArgs({
  options: { limit: { type: 'string', default: '80' }, top: { type: 'string', default: '15' } },
  allowPositionals: true,
});
const limit = Number(values.limit);
const top = Number(values.top);
const roots = positionals.length ? positionals : ['src'];

function* tsFiles(path) {
  if (statSync(path).isFile()) {
    if (/\.m?tsx?$/.test(path) && !path.endsWith('.d.ts')) yield path;
    return;
  }
  for (const name of readdirSync(path).sort()) yield* tsFiles(join(path, name));
}

/** A readable name for a function node: its own, its variable's or property's, or `<anonymous>`. */
function nameOf(node, sf) {
  if (node.name) return node.name.getText(sf);
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const p = node.parent;
  const named = p && (ts.isVariableDeclaration(p) || ts.isPropertyDeclaration(p) || ts.isPropertyAssignment(p));
  if (named) return p.name.getText(sf);
  return '<anonymous>';
}

const found = [];
for (const root of roots) {
  for (const file of tsFiles(root)) {
    const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node) => {
      if (ts.isFunctionLike(node) && 'body' in node && node.body) {
        const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
        const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line + 1;
        const name = nameOf(node, sf);
        found.push({ file: relative(process.cwd(), file), line: start, lines: end - start + 1, name });
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
}

found.sort((a, b) => b.lines - a.lines || a.file.localeCompare(b.file) || a.line - b.line);
const over = found.filter((f) => f.lines >= limit);
for (const f of found.slice(0, Math.max(top, over.length))) {
  const mark = f.lines >= limit ? '  (over the limit)' : '';
  process.stdout.write(`${String(f.lines).padStart(4)}  ${f.file}:${f.line}  ${f.name}${mark}\n`);
}
process.stdout.write(
  over.length
    ? `${over.length} function${over.length === 1 ? '' : 's'} of ${limit} lines or more (of ${found.length})\n`
    : `no function of ${limit} lines or more (of ${found.length}; longest ${found[0]?.lines ?? 0})\n`,
);
process.exitCode = over.length ? 1 : 0;
