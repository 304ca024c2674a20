/**
 * Every duration of the config against its range (duration.ts
 * DURATION_RANGES), in one place: IPVS timeouts and persistence within what
 * the kernel takes, drain and check times within what Node's timers take.
 * Values too large for a safe integer are out of range here, never left for
 * normalize to trip on or replaced by a default. Pure.
 */
import { DURATION_RANGES, formatDuration, readDuration } from '../duration.js';
import type { DurationRange } from '../duration.js';
import { show } from '../parse.js';
import { TIMEOUT_KEYS } from '../../model/timeouts.js';
import { isRecord } from '../values.js';
import type { Config, Place, Report, Service } from './context.js';
import { servicePlace } from './context.js';

/** Reports a duration-shaped value outside its range; other values are the schema's. */
function checkRange(report: Report, place: Place, value: unknown, range: DurationRange, label = range.label): void {
  const seconds = readDuration(value);
  if (seconds === undefined || (seconds >= range.min && seconds <= range.max)) return;
  const span = `from ${formatDuration(range.min)} to ${formatDuration(range.max)} (${range.max} seconds)`;
  report.add(range.code, place, `${label} must be ${span} (got ${show(value)})`);
}

/** CONFIG_DURATION: timeouts.* within the kernel's range, defaults.drain within the timers'. */
export function topLevelDurationsInRange(config: Config, report: Report): void {
  for (const src of config.records) {
    const t = src.data['timeouts'];
    if (isRecord(t)) {
      for (const { key } of TIMEOUT_KEYS) {
        if (!Object.hasOwn(t, key)) continue;
        checkRange(
          report,
          { src, path: ['timeouts', key], at: 'value' },
          t[key],
          DURATION_RANGES.ipvsTimeout,
          `timeouts.${key}`,
        );
      }
    }
    const d = src.data['defaults'];
    if (isRecord(d) && Object.hasOwn(d, 'drain')) {
      checkRange(
        report,
        { src, path: ['defaults', 'drain'], at: 'value' },
        d['drain'],
        DURATION_RANGES.drain,
        'defaults.drain',
      );
    }
  }
}

/** CONFIG_DURATION and CONFIG_CHECK: a service's drain, persistence timeout and check times. */
export function serviceDurationsInRange(s: Service, report: Report): void {
  const raw = s.raw;
  if (Object.hasOwn(raw, 'drain')) checkRange(report, servicePlace(s, ['drain']), raw['drain'], DURATION_RANGES.drain);
  const p = raw['persistence'];
  if (isRecord(p) && Object.hasOwn(p, 'timeout')) {
    checkRange(report, servicePlace(s, ['persistence', 'timeout']), p['timeout'], DURATION_RANGES.persistence);
  }
  checkTimes(report, s, ['check'], raw['check']);
  const rss = raw['realservers'];
  if (!Array.isArray(rss)) return;
  rss.forEach((rs: unknown, j) => {
    if (isRecord(rs)) checkTimes(report, s, ['realservers', j, 'check'], rs['check']);
  });
}

function checkTimes(report: Report, s: Service, path: (string | number)[], check: unknown): void {
  if (!isRecord(check)) return;
  for (const [key, range] of [
    ['interval', DURATION_RANGES.checkInterval],
    ['timeout', DURATION_RANGES.checkTimeout],
  ] as const) {
    if (Object.hasOwn(check, key)) checkRange(report, servicePlace(s, [...path, key]), check[key], range);
  }
}
