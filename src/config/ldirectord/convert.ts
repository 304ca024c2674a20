/**
 * ldirectord.cf as an lvsd config: each `virtual =` section is a service;
 * the global directives either set what sections inherit (timeouts,
 * checkinterval, failurecount, quiescent, fallback) or are reported at
 * FILE:LINE with why lvsd has no equivalent. Pure.
 */
import type { ConvertedService, Migration } from '../migration.js';
import { Reporter, sorryDefaults } from '../migration.js';
import type { Lookup } from './check.js';
import type { Directive } from './lines.js';
import { readLdirectord, unquote } from './lines.js';
import { virtualService } from './virtual.js';

/** Globals sections inherit (read through their Lookup). */
const INHERITED = new Set([
  'checktimeout',
  'negotiatetimeout',
  'connecttimeout',
  'checkinterval',
  'checkcount',
  'failurecount',
  'quiescent',
  'fallback',
  'fallback6',
  'emailalert',
  'emailalertfreq',
  'emailalertstatus',
  'smtp',
  'cleanstop',
  'fallbackcommand',
]);

/** Globals whose behaviour lvsd has without a setting. */
const GLOBAL_SAME: Record<string, string> = {
  autoreload: 'lvsd run watches its config and reloads it itself',
  supervised: 'lvsd run stays in the foreground anyway (systemd Type=notify)',
  fork: 'lvsd checks every real server concurrently anyway',
};

const GLOBAL_OMITTED: Record<string, string> = {
  callback: 'lvsd runs no script when its config changes',
  logfile: "lvsd logs to stderr (the journal under systemd); see lvsd run's --log-format",
  execute: 'one lvsd config holds every service; import each ldirectord config and merge them as drop-ins',
  readdquiescent: 'lvsd keeps a failed real server at weight 0 (quiesce) or deletes it (remove)',
  maintenancedir: 'lvsd has no maintenance files: set the weight to 0 in the config',
  emailalertfrom: 'lvsd sends no mail',
  emailalert: 'lvsd sends no mail; it logs each change and exports lvsd_backend_up in /metrics',
  emailalertfreq: 'lvsd sends no mail',
  emailalertstatus: 'lvsd sends no mail',
  smtp: 'lvsd sends no mail',
  cleanstop: 'lvsd leaves the table as it is when it stops',
  fallbackcommand: 'lvsd runs no scripts when every real server is down',
};

/** The lvsd config of ldirectord.cf text (`file` names it in reports). */
export function convertLdirectord(file: string, text: string): Migration {
  const r = new Reporter();
  const parsed = readLdirectord(text, file);
  const globals = new Map<string, Directive>();
  for (const g of parsed.globals) globals.set(g.key === 'fallback6' ? 'fallback' : g.key, g);
  const fork = unquote(globals.get('fork')?.value ?? 'no') === 'yes';
  const global: Lookup = (k) => globals.get(k);
  for (const g of parsed.globals) {
    if (INHERITED.has(g.key) && GLOBAL_OMITTED[g.key] === undefined) continue;
    const same = GLOBAL_SAME[g.key];
    if (same !== undefined) r.note(g, g.key, same);
    else r.omit(g, g.key, GLOBAL_OMITTED[g.key] ?? 'not a directive ldirectord or lvsd knows');
  }
  const converted: ConvertedService[] = [];
  for (const sec of parsed.virtuals) {
    const c = virtualService(sec, global, fork, r);
    if (c) converted.push(c);
  }
  const config: Migration['config'] = { version: 1, services: [] };
  const forward = sorryDefaults(converted, r);
  if (forward !== undefined) config['defaults'] = { forward };
  config.services = converted.map((c) => c.service);
  return { config, reports: r.reports.sort((a, b) => a.line - b.line) };
}
