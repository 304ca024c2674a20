/**
 * Durations in the config: whole seconds as a number (300), or text with
 * units d, h, m, s, largest first, each at most once ("90s", "15m", "1h30m",
 * "31d"). Pure.
 */
import { TIMER_MAX_MS } from '../timers.js';

const UNITS = [
  ['d', 86400],
  ['h', 3600],
  ['m', 60],
  ['s', 1],
] as const;

const DURATION_RE = /^(?=\d)(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** What a duration may look like, for error messages. */
export const DURATION_HELP = 'whole seconds (300) or text like "90s", "15m", "1h30m", "1d"';

/**
 * Seconds of a duration, or undefined when the value is not a duration
 * (negative and fractional numbers are not, nor values beyond
 * Number.MAX_SAFE_INTEGER). Ranges are the caller's business: see DURATION_RANGES.
 */
export function parseDuration(value: unknown): number | undefined {
  const seconds = readDuration(value);
  return seconds !== undefined && Number.isSafeInteger(seconds) && seconds >= 0 ? seconds : undefined;
}

/**
 * Seconds of anything shaped like a duration, however large or negative
 * (`99999999999999999999s`, `1e20` and `-5` pass the schema's shape): what a
 * range check needs to name the problem. Undefined for other values.
 */
export function readDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const m = DURATION_RE.exec(value);
  if (!m) return undefined;
  let total = 0;
  UNITS.forEach(([, factor], i) => {
    const part = m[i + 1];
    if (part !== undefined) total += Number(part) * factor;
  });
  return total;
}

/**
 * Longest delay Node's timers take: 2^31-1 ms, about 24.8 days, in whole
 * seconds. A longer setTimeout/setInterval fires after 1 ms instead; every
 * duration lvsd turns into a timer (drain, check interval and timeout,
 * `lvsd run --resync-interval`) must stay at or below it.
 */
export const MAX_TIMER_SECONDS = Math.floor(TIMER_MAX_MS / 1000);

/** Longest connection timeout the kernel takes: INT_MAX jiffies at HZ=1000 (ipvsadm --set). */
export const MAX_TIMEOUT = 2147483;
/** Longest persistence timeout ipvsadm takes (31 days). */
export const MAX_PERSISTENCE = 31 * 86400;
/** Longest check interval: a check that runs less than once a day no longer tells whether a server is up. */
export const MAX_CHECK_INTERVAL = 86400;

/** The allowed range of one kind of duration, in seconds, both ends included. */
export interface DurationRange {
  min: number;
  max: number;
  /** CONFIG_CHECK for a check's durations (as before ranges were checked here), else CONFIG_DURATION. */
  code: 'CONFIG_DURATION' | 'CONFIG_CHECK';
  /** What the value is, for messages: "timeouts.tcp", "the persistence timeout". */
  label: string;
}

/**
 * Every duration of the config and its range, checked in one place
 * (rules/durations.ts) and listed in docs/config.md.
 */
export const DURATION_RANGES = {
  ipvsTimeout: { min: 1, max: MAX_TIMEOUT, code: 'CONFIG_DURATION', label: 'timeouts' },
  persistence: { min: 1, max: MAX_PERSISTENCE, code: 'CONFIG_DURATION', label: 'the persistence timeout' },
  drain: { min: 0, max: MAX_TIMER_SECONDS, code: 'CONFIG_DURATION', label: 'drain' },
  checkInterval: { min: 1, max: MAX_CHECK_INTERVAL, code: 'CONFIG_CHECK', label: 'the check interval' },
  // 0 would mean "no timeout": a hung check would freeze its server's health for good.
  checkTimeout: { min: 1, max: MAX_CHECK_INTERVAL, code: 'CONFIG_CHECK', label: 'the check timeout' },
} as const satisfies Record<string, DurationRange>;

/**
 * Text for a number of seconds that parseDuration reads back, in the largest
 * units that divide it: 300 → "5m", 5400 → "1h30m", 90 → "1m30s", 0 → "0s".
 */
export function formatDuration(seconds: number): string {
  if (!Number.isSafeInteger(seconds) || seconds < 0) throw new RangeError(`not a duration: ${seconds}`);
  if (seconds === 0) return '0s';
  let rest = seconds;
  let out = '';
  for (const [unit, factor] of UNITS) {
    const n = Math.floor(rest / factor);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * factor;
    }
  }
  return out;
}
