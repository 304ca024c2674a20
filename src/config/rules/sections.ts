/**
 * Rules on the top-level sections: which may be spread over files, and a
 * config that declares nothing. Pure.
 */
import { TOP_LEVEL_KEYS } from '../parse.js';
import type { Config, Place, Report } from './context.js';

/** Sections that may be spread over several files; every other one lives in one file. */
export const MERGED_SECTIONS: readonly string[] = ['services', 'ignore'];

/** CONFIG_DUPLICATE_SECTION: a section other than services and ignore in a second file. */
export function sectionInOneFile(config: Config, report: Report): void {
  const sectionAt = new Map<string, Place>();
  for (const src of config.records) {
    for (const key of Object.keys(src.data)) {
      if (key === 'version' || MERGED_SECTIONS.includes(key) || !TOP_LEVEL_KEYS.includes(key)) continue;
      const place: Place = { src, path: [key], at: 'key' };
      const first = sectionAt.get(key);
      if (!first) {
        sectionAt.set(key, place);
        continue;
      }
      const merged = MERGED_SECTIONS.join(' and ');
      report.add(
        'CONFIG_DUPLICATE_SECTION',
        place,
        `'${key}' is already set in ${report.here(first)}: only ${merged} may be spread over several files`,
      );
    }
  }
}

/** CONFIG_EMPTY: a config that declares nothing is a mistake, never "delete everything". */
export function configDeclaresSomething(config: Config, report: Report): void {
  const { files, records } = config;
  if (files.length === 0 || records.length !== files.length) return;
  if (!records.every((f) => Object.keys(f.data).every((k) => k === 'version'))) return;
  report.add(
    'CONFIG_EMPTY',
    { src: records[0]!, path: [], at: 'value' },
    'the config declares nothing but its version: list the services lvsd should keep (`services: []` for none), or timeouts',
  );
}
