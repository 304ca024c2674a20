/** Helpers for the keepalived and ldirectord import tests: files in memory, converting, and the printed config. */
import { posix } from 'node:path';
import { expect } from 'vitest';
import type { ConfigFiles } from '../../../../src/config/keepalived/glob.js';
import { convertKeepalived } from '../../../../src/config/keepalived/convert.js';
import { loadConfigTexts } from '../../../../src/config/load.js';
import type { Migration, MigrationReport } from '../../../../src/config/migration.js';
import { printMigration } from '../../../../src/config/migration.js';
import type { DesiredState } from '../../../../src/model/types.js';

/** Files in memory, by absolute path; directories are implied by the paths. */
export function memFiles(files: Record<string, string>): ConfigFiles {
  const dirs = new Map<string, Set<string>>();
  for (const p of Object.keys(files)) {
    let child = p;
    for (let dir = posix.dirname(p); ; dir = posix.dirname(dir)) {
      if (!dirs.has(dir)) dirs.set(dir, new Set());
      dirs.get(dir)!.add(posix.basename(child));
      child = dir;
      if (dir === '/') break;
    }
  }
  return {
    read(path) {
      const t = files[path];
      if (t === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      return t;
    },
    list(dir) {
      const d = dirs.get(dir);
      if (!d) throw new Error(`ENOENT: ${dir}`);
      return [...d];
    },
    exists: (path) => path in files || dirs.has(path),
  };
}

export const MAIN = '/etc/keepalived/keepalived.conf';

/** Converts keepalived.conf text (and other files), with config id lb1. */
export function keepalived(text: string, others: Record<string, string> = {}, configId = 'lb1'): Migration {
  return convertKeepalived(MAIN, memFiles({ [MAIN]: text, ...others }), { configId });
}

/** The printed config of a migration, loaded back as `lvsd validate` loads it. */
export function printedState(m: Migration): DesiredState & { services: NonNullable<DesiredState['services']> } {
  const text = printMigration(m, ['test'], 'test input');
  const loaded = loadConfigTexts([{ file: 'printed.yaml', text }]);
  if (!loaded.ok) expect.fail(loaded.errors.map(String).join('\n'));
  return { ...loaded.state, services: loaded.state.services ?? [] };
}

/** The reports at one line, as `severity directive`. */
export function reportsAt(m: Migration, line: number, file = MAIN): string[] {
  return m.reports
    .filter((r: MigrationReport) => r.line === line && r.file === file)
    .map((r) => `${r.severity} ${r.directive}`);
}

/** The line (from 1) of the first line of `text` that contains `needle`. */
export function lineOf(text: string, needle: string): number {
  const i = text.split('\n').findIndex((l) => l.includes(needle));
  if (i < 0) throw new Error(`no line holds ${needle}`);
  return i + 1;
}
