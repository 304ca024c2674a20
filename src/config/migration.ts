/**
 * What `lvsd import --from-keepalived` and `--from-ldirectord` share: the
 * report of each directive that was not converted (nothing is dropped
 * silently), and the printing of the converted config, checked the way
 * `lvsd validate` checks a file. Pure.
 */
import { LvsdError } from '../errors.js';
import { checkedConfigText } from './import.js';
import { yaml } from './yaml-module.js';

/** Where a directive was written. Lines count from 1. */
export interface SourceLine {
  file: string;
  line: number;
}

/**
 * One directive lvsd did not convert (`omitted`: the exit code says so), or a
 * conversion that changed something the reader should know (`note`).
 */
export interface MigrationReport extends SourceLine {
  severity: 'omitted' | 'note';
  directive: string;
  reason: string;
}

/** The converted config as plain data (what is printed as YAML) and the reports. */
export interface Migration {
  config: { version: 1; services: Record<string, unknown>[] } & Record<string, unknown>;
  reports: MigrationReport[];
}

/** A forwarding method, with tunnel settings when it has some. */
export interface Forwarding {
  forward: 'nat' | 'dr' | 'tunnel';
  tunnel?: { type?: string; port?: number; checksum?: string };
}

/** An lvsd service, and the forwarding its sorry server needs (lvsd gives a sorry server defaults.forward). */
export interface ConvertedService {
  service: Record<string, unknown>;
  sorry?: { forwarding: Forwarding; at: SourceLine };
}

/** Collects reports while a converter walks a file. */
export class Reporter {
  readonly reports: MigrationReport[] = [];
  private readonly seen = new Set<string>();

  /** A directive lvsd has no equivalent for, with why. */
  omit(at: SourceLine, directive: string, reason: string): void {
    this.add({ file: at.file, line: at.line, severity: 'omitted', directive, reason });
  }

  /** A directive converted with a change worth knowing. */
  note(at: SourceLine, directive: string, reason: string): void {
    this.add({ file: at.file, line: at.line, severity: 'note', directive, reason });
  }

  // A virtual_server_group makes several services of one block: its reports are said once.
  private add(report: MigrationReport): void {
    const key = JSON.stringify(report);
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.reports.push(report);
  }
}

/** Exit code of an import that printed a config but left directives out (reports on stderr). */
export const EXIT_OMISSIONS = 3;

/** `FILE:LINE: omitted|note: DIRECTIVE: REASON`, one line per report. */
export function formatReport(r: MigrationReport): string {
  return `${r.file}:${r.line}: ${r.severity}: ${r.directive}: ${r.reason}`;
}

/** A syntax error in the input file: the import stops, printing nothing. */
export function syntaxError(at: SourceLine, message: string): LvsdError {
  return new LvsdError('IMPORT_SYNTAX', `${at.file}:${at.line}: ${message}`, { details: { ...at } });
}

/**
 * The YAML text of a converted config, with `header` as comment lines, once
 * it loads as `lvsd validate` would load it (else IMPORT_INVALID). Throws
 * IMPORT_EMPTY when it has no service, unless allowEmpty.
 */
export function printMigration(m: Migration, header: string[], what: string, allowEmpty = false): string {
  if (m.config.services.length === 0 && !allowEmpty) {
    throw new LvsdError(
      'IMPORT_EMPTY',
      `${what} declares no virtual service; a config made from it would delete every service ` +
        '(pass --allow-empty to print `services: []` anyway)',
    );
  }
  // Sections in the order docs/config.md lists them, services last.
  const { version, timeouts, defaults, services: list, ...rest } = m.config;
  const ordered = {
    version,
    ...(timeouts ? { timeouts } : {}),
    ...(defaults ? { defaults } : {}),
    ...rest,
    services: list,
  };
  const doc = new (yaml().Document)(ordered);
  doc.commentBefore = header.map((l) => ` ${l}`).join('\n');
  const { isMap, isSeq } = yaml();
  const services = doc.get('services', true);
  if (isSeq(services)) {
    services.items.forEach((svc, i) => {
      if (!isMap(svc)) return;
      if (i > 0) svc.spaceBefore = true;
      for (const key of ['flags', 'expect', 'command']) flowAll(svc, key);
    });
  }
  return checkedConfigText(doc.toString({ lineWidth: 0 }), what);
}

/** Short lists (flags, status codes, a command) on one line, wherever they are nested. */
function flowAll(node: unknown, key: string): void {
  const { isMap, isSeq } = yaml();
  if (isMap(node)) {
    for (const pair of node.items) {
      const k = (pair.key as { value?: unknown } | null)?.value;
      if (k === key && isSeq(pair.value)) pair.value.flow = true;
      else flowAll(pair.value, key);
    }
  } else if (isSeq(node)) {
    for (const item of node.items) flowAll(item, key);
  }
}

/**
 * lvsd gives every sorry server `defaults.forward`: the first sorry server's
 * forwarding becomes it (returned unless it is lvsd's default, dr); a sorry
 * server needing another one, or tunnel settings, is reported and left out.
 */
export function sorryDefaults(converted: ConvertedService[], r: Reporter): string | undefined {
  let chosen: string | undefined;
  for (const c of converted) {
    if (c.sorry === undefined) continue;
    const { forwarding: f, at } = c.sorry;
    if (f.tunnel) {
      r.omit(at, 'sorry_server', 'lvsd gives a sorry server no tunnel settings');
    } else if (chosen === undefined || chosen === f.forward) {
      chosen = f.forward;
      continue;
    } else {
      r.omit(at, 'sorry_server', `lvsd gives every sorry server one forwarding (${chosen}), not ${f.forward}`);
    }
    delete c.service['sorry_server'];
  }
  return chosen === 'dr' ? undefined : chosen;
}

/** Status codes as http.expect writes them: runs of three or more as "200-299" ranges. */
export function expectList(codes: readonly number[]): (number | string)[] {
  const sorted = [...new Set(codes)].sort((a, b) => a - b);
  const out: (number | string)[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    if (j - i >= 2) out.push(`${sorted[i]}-${sorted[j]}`);
    else for (let k = i; k <= j; k++) out.push(sorted[k]!);
    i = j + 1;
  }
  return out;
}
