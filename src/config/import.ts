/**
 * `lvsd import`'s promise: the config it prints is one `lvsd validate`
 * accepts, and it never prints a config that deletes every service because
 * its input was empty (a failed `ipvsadm -Sn | lvsd import` pipe). Pure.
 */
import { LvsdError } from '../errors.js';
import { loadConfigTexts } from './load.js';
import { printConfig } from './print.js';
import type { PrintableState } from './print.js';

/** Where the table came from, for messages. */
export type ImportSource = { kind: 'ipvsadm'; name: string } | { kind: 'live' };

export interface ImportOptions {
  source: ImportSource;
  /** Print a config without services (`services: []`, which deletes every service) when the table has none. */
  allowEmpty?: boolean;
}

/** The name the printed text goes by while it is checked. */
const CHECKED_AS = '(imported config)';

/**
 * The config text for an imported table, loaded back the way `lvsd validate`
 * loads a file. Throws IMPORT_EMPTY for a table without services (unless
 * allowEmpty) and IMPORT_INVALID, with every validation error in `details`,
 * when the printed config would not load.
 */
export function importConfig(table: PrintableState, opts: ImportOptions): string {
  if ((table.services ?? []).length === 0 && !opts.allowEmpty) throw emptyError(opts.source);
  return checkedConfigText(printConfig(table), 'the table');
}

/**
 * `text` when it loads the way `lvsd validate` loads a file; else throws
 * IMPORT_INVALID with every validation error in `details`. `what` names the
 * input in the message ("the table", "the keepalived config").
 */
export function checkedConfigText(text: string, what: string): string {
  const loaded = loadConfigTexts([{ file: CHECKED_AS, text }]);
  if (loaded.ok) return text;
  const lines = text.split('\n');
  const problems = loaded.errors.map((e) => {
    const line = e.pos?.line;
    const shown = line === undefined ? '' : ` (line ${line}: ${lines[line - 1]!.trim()})`;
    return `${e.code}: ${e.message}${shown}`;
  });
  const n = problems.length;
  throw new LvsdError(
    'IMPORT_INVALID',
    `${what} makes a config that lvsd validate rejects (${n} error${n === 1 ? '' : 's'}), so none was printed:\n  ${problems.join('\n  ')}`,
    { details: { errors: loaded.errors } },
  );
}

function emptyError(source: ImportSource): LvsdError {
  const why =
    source.kind === 'live'
      ? 'the live IPVS table has no services'
      : `${source.name} holds no ipvsadm table (no -A line): did \`ipvsadm -Sn\` fail?`;
  return new LvsdError(
    'IMPORT_EMPTY',
    `${why}; a config made from it would delete every service (pass --allow-empty to print \`services: []\` anyway)`,
  );
}
