/**
 * The daemon's timers. Node's timers take at most 2^31-1 ms (about 24.8
 * days); a longer delay fires after 1 ms instead, so an `interval: 25d`
 * check would run a thousand times a second. Every timer in src/daemon and
 * src/health goes through here: delays are clamped into Node's range, and
 * a callback that throws or rejects goes to its error handler, never to the
 * process.
 */

/** The longest delay Node's timers honour (ms). */
export const TIMER_MAX_MS = 2 ** 31 - 1;

/** `ms` within what Node's timers honour: NaN and below 1 become 1, above TIMER_MAX_MS becomes TIMER_MAX_MS. */
export function clampDelay(ms: number): number {
  if (!(ms >= 1)) return 1;
  return Math.min(Math.floor(ms), TIMER_MAX_MS);
}

/** What a timer's callback may do: return nothing, or a promise whose rejection goes to onError. */
export type TimerCallback = () => void | Promise<unknown>;

function guarded(fn: TimerCallback, onError: (e: unknown) => void): () => void {
  return () => {
    try {
      const r = fn();
      if (r) r.catch(onError);
    } catch (e) {
      onError(e);
    }
  };
}

/** setTimeout with the delay clamped and errors of `fn` handed to `onError`. */
export function after(ms: number, fn: TimerCallback, onError: (e: unknown) => void): NodeJS.Timeout {
  return setTimeout(guarded(fn, onError), clampDelay(ms));
}

/** setInterval with the period clamped and errors of `fn` handed to `onError`. */
export function every(ms: number, fn: TimerCallback, onError: (e: unknown) => void): NodeJS.Timeout {
  return setInterval(guarded(fn, onError), clampDelay(ms));
}

/** What `within` resolves with when time ran out. */
export const TIMED_OUT: unique symbol = Symbol('timed out');

/** `p`, or TIMED_OUT when it has not settled within `ms`; the timer never outlives the race. */
export async function within<T>(p: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), Math.max(0, Math.min(ms, TIMER_MAX_MS)));
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
