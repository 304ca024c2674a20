/**
 * The file names an `include` pattern names, as glob(3) with GLOB_BRACE
 * finds them: `*`, `?`, `[...]` in any path component (not matching a
 * leading dot), csh braces `{a,b}`, sorted. Pure over a directory lister.
 */
import { posix } from 'node:path';

/** How the importer reads files; the CLI passes node:fs, tests pass a map. */
export interface ConfigFiles {
  /** A file's text; throws when it cannot be read. */
  read(path: string): string;
  /** The names in a directory; throws when it cannot be listed. */
  list(dir: string): string[];
  /** True when the path exists (file or directory). */
  exists(path: string): boolean;
}

/** Absolute paths matching `pattern` (absolute, or relative to `dir`), sorted; [] when none match. */
export function expandGlob(pattern: string, dir: string, files: ConfigFiles): string[] {
  const abs = posix.resolve(dir, pattern);
  const out = new Set<string>();
  for (const p of expandBraces(abs)) for (const m of matchPath(p, files)) out.add(m);
  return [...out].sort();
}

/** `a{b,c}d` as [abd, acd], nested braces included. */
export function expandBraces(text: string): string[] {
  const open = text.indexOf('{');
  if (open < 0) return [text];
  let depth = 0;
  const cuts: number[] = [];
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === '{') depth++;
    else if (c === '}' && --depth === 0) {
      const head = text.slice(0, open);
      const tail = text.slice(i + 1);
      const parts = split(
        text.slice(open + 1, i),
        cuts.map((c2) => c2 - open - 1),
      );
      return parts.flatMap((p) => expandBraces(head + p + tail));
    } else if (c === ',' && depth === 1) cuts.push(i);
  }
  return [text];
}

function split(text: string, at: number[]): string[] {
  const parts: string[] = [];
  let from = 0;
  for (const i of at) {
    parts.push(text.slice(from, i));
    from = i + 1;
  }
  parts.push(text.slice(from));
  return parts;
}

function matchPath(path: string, files: ConfigFiles): string[] {
  const parts = path.split('/').filter((p) => p !== '');
  let found = ['/'];
  for (const part of parts) {
    if (!/[*?[]/.test(part)) {
      found = found.map((d) => posix.join(d, part)).filter((p) => files.exists(p));
      continue;
    }
    const re = wildcard(part);
    found = found.flatMap((d) => {
      let names: string[];
      try {
        names = files.list(d);
      } catch {
        return [];
      }
      return names
        .filter((n) => re.test(n) && (part.startsWith('.') || !n.startsWith('.')))
        .map((n) => posix.join(d, n));
    });
  }
  return found;
}

function wildcard(part: string): RegExp {
  let re = '';
  for (let i = 0; i < part.length; i++) {
    const c = part[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = part.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        const body = part
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\');
        re += `[${body}]`;
        i = end;
      }
    } else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}
