/**
 * Runs the health checks of the desired state's real servers, each on its
 * own interval, concurrently and off the reconcile loop, and reports every
 * up/down change. Checks are bounded by their timeout; a check still running
 * when the next is due is not started twice. A check that throws or rejects
 * counts as a failed check; a callback that throws goes to onError: nothing
 * a check does reaches the process.
 */
import { healthKey, realServerKey, serviceKey } from '../model/keys.js';
import type { CheckSpec, DesiredState } from '../model/types.js';
import { type CheckResult, type CheckTarget, runCheck } from './checkers.js';
import { type HealthState, initialHealth, observe } from './state.js';
import { after, every } from '../timers.js';

export interface HealthChange {
  key: string;
  service: string;
  realserver: string;
  up: boolean;
  error?: string;
}

export interface HealthMonitorOptions {
  onChange: (c: HealthChange) => void;
  /** Each check's result, for metrics and debugging. */
  onResult?: (key: string, r: CheckResult) => void;
  check?: (spec: CheckSpec, target: CheckTarget, signal?: AbortSignal) => Promise<CheckResult>;
  /** A callback (onChange, onResult) threw: the monitor goes on. Default: ignored. */
  onError?: (err: unknown) => void;
  now?: () => number;
}

interface Entry {
  service: string;
  realserver: string;
  spec: CheckSpec;
  target: CheckTarget;
  state: HealthState;
  timer: NodeJS.Timeout;
  running: boolean;
  specText: string;
}

export class HealthMonitor {
  private readonly entries = new Map<string, Entry>();
  private stopped = false;
  /** Aborts the checks running when the monitor stops (an exec check's process group is killed). */
  private readonly abort = new AbortController();

  constructor(private readonly opts: HealthMonitorOptions) {}

  /** Up or down of every checked real server, by healthKey. */
  snapshot(): Map<string, boolean> {
    return new Map([...this.entries].map(([k, e]) => [k, e.state.up]));
  }

  /**
   * Up or down by healthKey, as the checks have it now (not a copy): for a
   * reader that is done before the checks can move on (a plan).
   */
  view(): Pick<ReadonlyMap<string, boolean>, 'get'> {
    return { get: (key: string) => this.entries.get(key)?.state.up };
  }

  /** States with their last errors, for status output; `of`: of these services only (serviceKeys). */
  states(
    of?: ReadonlySet<string>,
  ): { key: string; service: string; realserver: string; up: boolean; since: number; lastError?: string }[] {
    const entries = of ? [...this.entries].filter(([, e]) => of.has(e.service)) : [...this.entries];
    return entries.map(([key, e]) => ({
      key,
      service: e.service,
      realserver: e.realserver,
      up: e.state.up,
      since: e.state.since,
      ...(e.state.lastError ? { lastError: e.state.lastError } : {}),
    }));
  }

  /**
   * Checks exactly the checked real servers of `desired`; a real server whose
   * check changed keeps its state. `changed`: only these services (by
   * serviceKey) can differ from the last update's, so only they are looked at.
   */
  update(desired: DesiredState, changed?: ReadonlySet<string>): void {
    if (this.stopped) return;
    const now = this.opts.now ?? Date.now;
    const seen = new Set<string>();
    for (const svc of desired.services ?? []) {
      const service = serviceKey(svc);
      if (changed && !changed.has(service)) continue;
      for (const r of svc.realservers) {
        if (!r.check) continue;
        const realserver = realServerKey(r);
        const key = healthKey(service, realserver);
        seen.add(key);
        const specText = JSON.stringify(r.check);
        const old = this.entries.get(key);
        if (old && old.specText === specText) continue;
        if (old) clearInterval(old.timer);
        const entry: Entry = {
          service,
          realserver,
          spec: r.check,
          specText,
          running: false,
          target: { address: r.address, family: r.family },
          state: old?.state ?? initialHealth(r.check, now()),
          timer: every(r.check.interval * 1000, () => this.run(key), this.onError),
        };
        this.entries.set(key, entry);
        // The first check soon, spread over the interval so that a thousand do not start at once.
        after(
          Math.floor(Math.random() * Math.min(1000, r.check.interval * 1000)),
          () => this.run(key),
          this.onError,
        ).unref();
      }
    }
    for (const [key, e] of this.entries) {
      if (seen.has(key) || (changed && !changed.has(e.service))) continue;
      clearInterval(e.timer);
      this.entries.delete(key);
    }
  }

  private readonly onError = (e: unknown): void => {
    try {
      this.opts.onError?.(e);
    } catch {
      // The error handler itself failed: nothing is left to tell.
    }
  };

  private run(key: string): void {
    const e = this.entries.get(key);
    if (!e || e.running || this.stopped) return;
    e.running = true;
    const check = this.opts.check ?? runCheck;
    // A check that throws at once, or rejects, is a failed check like any other.
    new Promise<CheckResult>((resolve) => resolve(check(e.spec, { ...e.target }, this.abort.signal)))
      .catch((err: unknown): CheckResult => {
        return { ok: false, error: `check failed to run: ${err instanceof Error ? err.message : String(err)}` };
      })
      .then((r) => {
        e.running = false;
        if (this.entries.get(key) !== e || this.stopped) return;
        this.record(key, e, r);
      })
      .catch(this.onError);
  }

  private record(key: string, e: Entry, r: CheckResult): void {
    this.opts.onResult?.(key, r);
    const { state, changed } = observe(
      e.state,
      r.ok,
      e.spec,
      (this.opts.now ?? Date.now)(),
      r.ok ? undefined : r.error,
    );
    e.state = state;
    if (!changed) return;
    const error = state.lastError && !state.up ? { error: state.lastError } : {};
    this.opts.onChange({ key, service: e.service, realserver: e.realserver, up: state.up, ...error });
  }

  /** Stops every check; running ones are aborted. */
  stop(): void {
    this.stopped = true;
    this.abort.abort();
    for (const e of this.entries.values()) clearInterval(e.timer);
    this.entries.clear();
  }
}
