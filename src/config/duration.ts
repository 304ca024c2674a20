/**
 * Durations in the config: whole seconds as a number (300), or text with
 * units d, h, m, s, largest first, each at most once ("90s", "15m", "1h30m",
 * "31d"). Pure.
 */

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
 * (negative and fractional numbers are not). Ranges are the caller's business.
 */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const m = DURATION_RE.exec(value);
  if (!m) return undefined;
  let total = 0;
  UNITS.forEach(([, factor], i) => {
    const part = m[i + 1];
    if (part !== undefined) total += Number(part) * factor;
  });
  return Number.isSafeInteger(total) ? total : undefined;
}

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
