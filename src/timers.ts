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
