/**
 * The process-level guard `lvsd run` installs: errors that no handler
 * caught are logged and counted (lvsd_unhandled_errors_total), and the
 * daemon goes on. Every async edge of the daemon has its own handler; this
 * is the net under them, for bugs, not a way of handling errors.
 *
 * Unhandled rejections: logged at error, counted; the daemon goes on. A
 * rejection nobody awaited unwound nothing but its own promise chain.
 *
 * Uncaught exceptions: logged at error, counted, and the daemon goes on,
 * after queuing a full resync. Node's default is to exit, because a throw
 * may have cut a synchronous operation in half. Here that trade is the
 * other way round: the reconciler keeps no state a throw can leave
 * inconsistent that a full read of the table does not rebuild (the picture
 * is re-read; the desired state is re-derived from the files), while an
 * exit throws away what a restart cannot rebuild at once: every real
 * server's health (a dead one counts as up again until its checks fail),
 * drains under way, and systemd gives up restarting after a few throws in
 * a row (StartLimitBurst), which would leave the table unmanaged. An
 * exception that recurs shows as a rising counter and error lines, not as
 * a restart loop.
 */
import type { Logger } from '../log.js';
import type { Metrics } from './metrics.js';

export interface GuardOptions {
  log: Logger;
  metrics: Metrics;
  /** After an uncaught exception: make the next reconcile read the whole table. */
  onException?: () => void;
}

function describe(e: unknown): { message: string; stack?: string } {
  if (e instanceof Error) return { message: e.message, ...(e.stack ? { stack: e.stack } : {}) };
  return { message: String(e) };
}

/** What the guard does with an unhandled rejection and with an uncaught exception. */
export function guardHandlers(opts: GuardOptions): Record<'onRejection' | 'onException', (e: unknown) => void> {
  const { log, metrics } = opts;
  return {
    onRejection: (reason) => {
      metrics.unhandledErrors.inc({ kind: 'rejection' });
      const { message, stack } = describe(reason);
      const why = `unhandled rejection (a bug; lvsd goes on): ${message}`;
      log.error({ event: 'unhandled_rejection', ...(stack ? { stack } : {}) }, why);
    },
    onException: (err) => {
      metrics.unhandledErrors.inc({ kind: 'exception' });
      const { message, stack } = describe(err);
      const why = `uncaught exception (a bug; lvsd reads the table again and goes on): ${message}`;
      log.error({ event: 'uncaught_exception', ...(stack ? { stack } : {}) }, why);
      try {
        opts.onException?.();
      } catch {
        // Already in the last resort: nothing more to do.
      }
    },
  };
}

/** Installs the guard; returns the function that removes it. */
export function installProcessGuard(opts: GuardOptions): () => void {
  const { onRejection, onException } = guardHandlers(opts);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  };
}
