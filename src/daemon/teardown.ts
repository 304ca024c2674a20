/**
 * One list of what to undo when the daemon stops (or fails to start), in
 * reverse order of setup, once, within a time budget: a step that hangs (a
 * reconcile stuck on a read that never returns) is logged and left behind,
 * so that SIGTERM always ends the daemon.
 */
import type { Logger } from '../log.js';
import { TIMED_OUT, within } from '../timers.js';

export class Teardown {
  private steps: { name: string; run: () => unknown }[] = [];

  /** Adds a step; steps run last-added first. */
  add(name: string, run: () => unknown): void {
    this.steps.push({ name, run });
  }

  /**
   * Runs every step once, in reverse order, each bounded by what is left of
   * `budgetMs`; a step that throws or runs out of time is logged and the
   * next runs. Resolves false when some step did not finish in time.
   */
  async run(log: Logger, budgetMs: number): Promise<boolean> {
    const steps = this.steps.reverse();
    this.steps = [];
    const deadline = Date.now() + budgetMs;
    let inTime = true;
    for (const step of steps) {
      try {
        const r = await within(Promise.resolve().then(step.run), deadline - Date.now());
        if (r === TIMED_OUT) {
          inTime = false;
          const why = `${step.name} did not finish within ${budgetMs} ms: going on without it; the table is left as it is`;
          log.warn({ event: 'stop_timeout', step: step.name, budget_ms: budgetMs }, why);
        }
      } catch (e) {
        log.warn(
          { event: 'stop_error', step: step.name },
          `${step.name}: ${e instanceof Error ? e.message : String(e)}`,
        );
      }
    }
    return inTime;
  }
}
