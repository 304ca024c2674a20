/**
 * Rules on `ignore`: each vip is a prefix, and no declared service is hidden
 * by a rule (lvsd would never touch it). Pure.
 */
import { ignoreMatcher } from '../../model/keys.js';
import type { IgnoreRule } from '../../model/types.js';
import { show } from '../parse.js';
import type { Config, Place, Report } from './context.js';
import { servicePlace } from './context.js';

/** CONFIG_ADDRESS: an ignore vip that is neither an address nor a prefix. */
export function ignoreVipIsPrefix(config: Config, report: Report): void {
  for (const r of config.ignore) {
    if (r.field !== 'vip' || r.rule) continue;
    report.add(
      'CONFIG_ADDRESS',
      { src: r.src, path: ['ignore', r.index, 'vip'], at: 'value' },
      `ignore vip ${show(r.text)} is neither an address nor a prefix like 10.96.0.0/12 or 2001:db8::/32`,
    );
  }
}

/** CONFIG_CONFLICT: a service matched by an ignore rule, named with the first rule that matches. */
export function ignoreHidesNoService(config: Config, report: Report): void {
  const rules: IgnoreRule[] = [];
  const places: Place[] = [];
  for (const r of config.ignore) {
    if (!r.rule) continue;
    rules.push(r.rule);
    places.push({ src: r.src, path: ['ignore', r.index, r.field], at: 'value' });
  }
  if (rules.length === 0) return;
  const match = ignoreMatcher(rules);
  for (const s of config.services) {
    if (!s.id) continue;
    const i = match(s.id);
    if (i < 0) continue;
    report.add(
      'CONFIG_CONFLICT',
      servicePlace(s, [s.form === 'fwmark' ? 'fwmark' : 'vip']),
      `service ${s.key!} is matched by the ignore rule at ${report.here(places[i]!)}: lvsd would never touch it; remove the service or narrow the rule`,
    );
  }
}
