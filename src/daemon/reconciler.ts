/**
 * The reconcile loop: load the config, read the live table, diff, apply.
 * Never two at once; a trigger during a reconcile queues exactly one more.
 * An invalid config keeps the table as it is. Everything it talks to is
 * injected, so it runs against the fake IPVS in unit tests.
 *
 * Where the live table comes from: start, SIGHUP (`signal`) and every
 * resync read the whole table from the kernel and make it the picture
 * (picture.ts); a file change diffs against the picture, kept up to date
 * with what the kernel confirmed, so one changed line costs one kernel
 * operation and no read, however big the table. When the kernel contradicts
 * the picture (IPVS_EXISTS, IPVS_NOT_FOUND) or an outcome is unknown, the
 * picture goes stale, a resync is queued at once, and whatever reconcile
 * comes next reads the table.
 *
 * The config is loaded again on a file change, SIGHUP and start; a resync,
 * health verdict or drain poll reuses the last load while the files stat
 * the same (see loadConfig). The daemon's loader (config/incremental.ts)
 * loads a change of a few services incrementally and says which services
 * changed; after a reconcile that converged, a file change, health verdict
 * or drain poll then plans only those services, the ones whose health
 * changed, and the ones that drain (see `scoped`). Start, SIGHUP, resync and
 * anything after a failure plan every service.
 *
 * A reconcile never rejects: whatever throws in it (the loader, the kernel,
 * a callback) ends it with result `error`, logged with its reason and
 * counted. One that ends `error` or `failed` is retried with backoff (1 s,
 * doubling to 60 s, back to 1 s after a success); an invalid config is not
 * (only a change of the files can mend it, and that comes with its event).
 */
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { applyPlan, type ApplyResult } from '../apply/apply.js';
import { kernelFor, type KernelSource, readLive, readLiveHost, UNMANAGED_CLIENT } from '../apply/live.js';
import type { LoadResult } from '../config/load.js';
import { isLvsdError, type LvsdError } from '../errors.js';
import type { DesiredState, LiveService, LiveState } from '../model/types.js';
import type { IpvsClient } from '../ipvs/client.js';
import { serviceKey } from '../model/keys.js';
import type { Logger } from '../log.js';
import { planToJson } from '../plan/format.js';
import { planFor } from '../plan/plan.js';
import { announceStatus } from '../plan/announce.js';
import type { HealthView } from '../plan/effective.js';
import { isHostChange } from '../plan/change.js';
import type { AnnounceStatus } from './status-file.js';
import type { IpvsOp } from '../model/ops.js';
import type { Metrics } from './metrics.js';
import { Picture } from './picture.js';
import { after } from '../timers.js';

/** The service of a healthKey ("SERVICE REALSERVER"), or a serviceKey itself. */
function serviceOf(key: string): string {
  const space = key.indexOf(' ');
  return space < 0 ? key : key.slice(0, space);
}

/** The services of `live` with their real servers read again from the kernel, with connection counts. */
async function withCounts(ipvs: IpvsClient, live: LiveState): Promise<LiveState> {
  const services: LiveService[] = [];
  for (const s of live.services) services.push({ ...s, realservers: await ipvs.realServers(s) });
  return { ...live, services };
}

/** Inode, size, mtime and ctime of the files and their directories (a file added or renamed there changes the directory's). */
async function statFingerprint(files: readonly string[]): Promise<string | undefined> {
  if (files.length === 0) return undefined;
  try {
    const paths = [...new Set([...files, ...files.map((f) => dirname(f))])];
    const parts = await Promise.all(
      paths.map(async (p) => {
        const st = await stat(p, { bigint: true });
        return `${p}\0${st.ino}\0${st.size}\0${st.mtimeNs}\0${st.ctimeNs}`;
      }),
    );
    return parts.join('\n');
  } catch {
    return undefined;
  }
}

export type Trigger = 'start' | 'file' | 'signal' | 'resync' | 'health' | 'drain' | 'retry';

/** What one reconcile did. */
export interface ReconcileSummary {
  trigger: Trigger;
  /** ok: table equals the config; failed: some operations failed; invalid_config: nothing done; skipped: config unchanged. */
  result: 'ok' | 'failed' | 'invalid_config' | 'skipped' | 'error';
  durationMs: number;
  changes: number;
  failures: number;
  /** Why the last reconcile is not healthy. */
  reason?: string;
  /** When it failed: the retry comes after this many ms. */
  retryInMs?: number;
}

/** Backoff of the retries after a failed reconcile (ms). */
export interface RetryPolicy {
  firstMs: number;
  maxMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { firstMs: 1000, maxMs: 60_000 };

/** One reconcile under way: why, since when, where its time went (ms), and how it loaded and planned, for the log. */
interface Run {
  trigger: Trigger;
  t0: number;
  lap: number;
  phases: Record<string, number>;
  notes: Record<string, string | number>;
}

export interface ReconcilerDeps {
  /**
   * The config. `full`: for start and SIGHUP, which promise a reading of
   * everything; otherwise the loader may load incrementally (its result's
   * `delta` says what changed since its last valid result).
   */
  load: (opts?: { full: boolean }) => Promise<LoadResult>;
  /** IPVS and the host, opened when the config first needs them. */
  kernel: KernelSource;
  log: Logger;
  metrics: Metrics;
  /** Called after every reconcile (for sd_notify STATUS and /healthz). */
  onSummary?: (s: ReconcileSummary) => void;
  /**
   * Up/down of checked real servers by healthKey (lvsd run); undefined: every
   * real server counts as up. Read only while a plan is made (synchronously),
   * so a live view will do.
   */
  health?: () => HealthView;
  /**
   * Called with each new valid config, before it is applied (the health
   * monitor follows it); not again for the same one. `changed`: the keys of
   * the services that differ from the config of the call before; undefined:
   * any may.
   */
  onConfig?: (desired: DesiredState, changed?: ReadonlySet<string>) => void;
  /**
   * What the config files look like on disk, to tell whether they changed
   * without parsing them; undefined when unknown. Default: their stats.
   */
  fingerprint?: (files: readonly string[]) => Promise<string | undefined>;
  /** How often a drain looks at the connections left (ms). */
  drainPollMs?: number;
  /** What is draining after each reconcile, with its deadline (ms), by healthKey or serviceKey. */
  onDraining?: (draining: ReadonlyMap<string, number>) => void;
  /** Called after every apply with director.announce's VIPs (undefined without announce). */
  onAnnounce?: (announce: AnnounceStatus | undefined) => void;
  now?: () => number;
  /** Backoff of retries after failures; default DEFAULT_RETRY. */
  retry?: RetryPolicy;
}

export class Reconciler {
  private running: Promise<ReconcileSummary> | undefined;
  /** The one reconcile waiting for the running one to finish, and who waits for it. */
  private queued:
    | {
        trigger: Trigger;
        resolve: (s: ReconcileSummary) => void;
        reject: (e: unknown) => void;
        done: Promise<ReconcileSummary>;
      }
    | undefined;
  private appliedHash: string | undefined;
  /** The config whose warnings were logged last. */
  private warnedHash: string | undefined;
  private lastResult: ReconcileSummary | undefined;
  private readonly picture = new Picture();
  /** The last valid config and how its files looked on disk then. */
  private lastLoad: { loaded: LoadResult & { ok: true }; fingerprint: string } | undefined;
  /** When each draining real server or service started draining. */
  private drains = new Map<string, number>();
  private drainTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Failed reconciles since the last success: the retry's backoff exponent. */
  private failuresInARow = 0;
  private stopped = false;
  /**
   * The services whose desired state (config or health) may differ from the
   * picture: all others are as the last plan made them, so a file change or
   * health verdict plans these only. Undefined when that is not known (no
   * reconcile converged since the start, a failure, a full load): the next
   * plan is over every service.
   */
  private scope: Set<string> | undefined;
  /** Why `scope` is undefined, for the log. */
  private scopeLost = 'no reconcile yet';
  /** The config onConfig was last called with (weakly: a full load lets go of the old state first). */
  private configured: WeakRef<DesiredState> | undefined;
  /** The state of the last valid load, which the next incremental load's delta must start from. */
  private loadedState: WeakRef<DesiredState> | undefined;
  /** Services whose health changed since the last plan. */
  private healthMoved = new Set<string>();

  constructor(private readonly deps: ReconcilerDeps) {}

  /** The summary of the last finished reconcile. */
  get last(): ReconcileSummary | undefined {
    return this.lastResult;
  }

  /**
   * Runs a reconcile now, or, when one is running, queues one more to run
   * after it (several triggers meanwhile still queue only one). Resolves
   * with the summary of the reconcile that covers this trigger.
   */
  trigger(reason: Trigger): Promise<ReconcileSummary> {
    if (!this.running) return this.start(reason);
    if (!this.queued) {
      let resolve!: (s: ReconcileSummary) => void;
      let reject!: (e: unknown) => void;
      const done = new Promise<ReconcileSummary>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      this.queued = { trigger: reason, resolve, reject, done };
    } else if (this.queued.trigger === 'resync') {
      // A file change or a signal outranks a resync: it also has a file to re-read.
      this.queued.trigger = reason;
    }
    return this.queued.done;
  }

  /**
   * A checked real server of service `service` (its serviceKey) went up or
   * down: the next plan looks at that service. Call before trigger('health').
   */
  healthChanged(service: string): void {
    this.healthMoved.add(service);
  }

  /** Resolves when nothing is running or queued. */
  async idle(): Promise<void> {
    while (this.running) await this.running.catch(() => undefined);
  }

  private start(reason: Trigger): Promise<ReconcileSummary> {
    const run = this.guarded(reason).finally(() => {
      this.running = undefined;
      const next = this.queued;
      this.queued = undefined;
      if (next) this.start(next.trigger).then(next.resolve, next.reject);
    });
    this.running = run;
    return run;
  }

  /** A reconcile that resolves whatever happens in it. */
  private async guarded(trigger: Trigger): Promise<ReconcileSummary> {
    const t0 = (this.deps.now ?? Date.now)();
    const run: Run = { trigger, t0, lap: t0, phases: {}, notes: {} };
    try {
      return await this.reconcile(run);
    } catch (e) {
      // The kernel's table may be half-changed: the next reconcile reads it.
      this.picture.invalidate('a reconcile ended with an error');
      this.loseScope('a reconcile ended with an error');
      const message = e instanceof Error ? e.message : String(e);
      this.deps.log.error({ event: 'reconcile_error', trigger, ...(isLvsdError(e) ? { code: e.code } : {}) }, message);
      return this.finish(run, { result: 'error', changes: 0, failures: 1, reason: message });
    }
  }

  private phase(run: Run, name: string): void {
    const t = (this.deps.now ?? Date.now)();
    run.phases[`${name}_ms`] = t - run.lap;
    run.lap = t;
  }

  private finish(run: Run, s: Omit<ReconcileSummary, 'durationMs' | 'trigger'>): ReconcileSummary {
    const { log, metrics } = this.deps;
    const { trigger } = run;
    const summary: ReconcileSummary = { trigger, durationMs: (this.deps.now ?? Date.now)() - run.t0, ...s };
    const retryInMs = this.scheduleRetry(summary.result);
    if (retryInMs !== undefined) summary.retryInMs = retryInMs;
    metrics.reconciles.inc({ trigger, result: summary.result });
    if (summary.result === 'skipped') {
      log.debug({ event: 'reconcile', trigger, result: 'skipped' }, 'no config changes found');
    } else {
      metrics.duration.observe(summary.durationMs / 1000);
      if (summary.result !== 'ok') metrics.reconcileFailures.inc({ trigger, result: summary.result });
      this.lastResult = summary;
      const level = summary.result === 'ok' ? 'info' : 'error';
      log[level](
        {
          event: 'reconcile',
          trigger,
          result: summary.result,
          duration_ms: summary.durationMs,
          ...run.phases,
          ...run.notes,
          changes: summary.changes,
          failures: summary.failures,
          ...(summary.reason ? { reason: summary.reason } : {}),
          ...(retryInMs !== undefined ? { retry_in_ms: retryInMs } : {}),
        },
        'reconcile finished',
      );
    }
    try {
      this.deps.onSummary?.(summary);
    } catch (e) {
      log.error({ event: 'summary_error' }, `after the reconcile: ${e instanceof Error ? e.message : String(e)}`);
    }
    return summary;
  }

  /** Retries a reconcile that failed or erred, with backoff; returns the delay (ms). */
  private scheduleRetry(result: ReconcileSummary['result']): number | undefined {
    if (result === 'skipped') return undefined;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (result === 'ok') this.failuresInARow = 0;
    if ((result !== 'error' && result !== 'failed') || this.stopped) return undefined;
    const { firstMs, maxMs } = this.deps.retry ?? DEFAULT_RETRY;
    const ms = Math.min(maxMs, firstMs * 2 ** Math.min(this.failuresInARow, 30));
    this.failuresInARow++;
    this.retryTimer = after(
      ms,
      () => this.trigger('retry'),
      (e) => this.deps.log.error({ event: 'retry_error' }, String(e)),
    );
    this.retryTimer.unref(); // a retry alone does not keep the process up
    return ms;
  }

  private async reconcile(run: Run): Promise<ReconcileSummary> {
    const { log, metrics } = this.deps;
    const { trigger } = run;
    let loaded: LoadResult;
    try {
      loaded = await this.loadConfig(run);
    } catch (e) {
      // A loader should report, not throw; if it throws, the table is kept as for an invalid file.
      const message = e instanceof Error ? e.message : String(e);
      log.error({ event: 'config_load_error', ...(isLvsdError(e) ? { code: e.code } : {}) }, message);
      return this.finish(run, {
        result: 'error',
        changes: 0,
        failures: 1,
        reason: `the config could not be loaded: ${message}; the table is kept as it is`,
      });
    }
    this.phase(run, 'load');
    if (!loaded.ok) {
      metrics.configValid.set(0);
      for (const e of loaded.errors) log.error({ event: 'config_error', code: e.code, ...(e.pos ?? {}) }, e.toString());
      return this.finish(run, {
        result: 'invalid_config',
        changes: 0,
        failures: 0,
        reason: `config invalid (${loaded.errors.length} error${loaded.errors.length === 1 ? '' : 's'}): ${loaded.errors[0]!.toString()}; the table is kept as it is`,
      });
    }
    metrics.configValid.set(1);
    if (loaded.hash !== this.warnedHash) {
      // Once per content: a warning repeated on every reconcile would bury the rest of the log.
      this.warnedHash = loaded.hash;
      for (const w of loaded.warnings)
        log.warn({ event: 'config_warning', code: w.code, ...(w.pos ?? {}) }, w.toString());
    }
    this.configure(loaded);
    // A file event whose content is what we already applied needs no kernel work; drift is the resync's job.
    if (trigger === 'file' && loaded.hash === this.appliedHash && this.lastResult?.result === 'ok') {
      return this.finish(run, { result: 'skipped', changes: 0, failures: 0 });
    }
    let applied: { result: ApplyResult; fromPicture: boolean };
    try {
      applied = await this.applyDesired(run, loaded.state);
    } catch (e) {
      const err = e as Error;
      this.picture.invalidate(`kernel error: ${err.message}`);
      this.loseScope(`kernel error: ${err.message}`);
      log.error({ event: 'kernel_error', ...(isLvsdError(e) ? { code: e.code } : {}) }, err.message);
      return this.finish(run, { result: 'error', changes: 0, failures: 1, reason: err.message });
    }
    return this.afterApply(run, loaded, applied.result, applied.fromPicture);
  }

  /** Reads the table (or takes the picture), plans and applies. */
  private async applyDesired(run: Run, desired: DesiredState): Promise<{ result: ApplyResult; fromPicture: boolean }> {
    const now = this.deps.now ?? Date.now;
    const kernel = await kernelFor(this.deps.kernel, desired);
    let live: Awaited<ReturnType<typeof readLive>>;
    const pictured = kernel.ipvs && this.mayUsePicture(run.trigger, desired) ? this.picture.state() : undefined;
    if (pictured) {
      const host = kernel.host ? await readLiveHost(kernel.host, desired) : undefined;
      live = host ? { ipvs: pictured, host } : { ipvs: pictured };
    } else {
      live = await readLive(kernel, desired, this.picture.known());
      if (kernel.ipvs) this.picture.replace(live.ipvs);
      else this.picture.invalidate('IPVS not managed by the last config');
    }
    this.phase(run, 'read');
    const scoped = this.scoped(run, desired, live.ipvs, pictured !== undefined);
    if (scoped && this.mayDrain(desired)) scoped.live = await withCounts(kernel.ipvs!, scoped.live);
    const planned = planFor({
      desired: scoped?.desired ?? desired,
      live: scoped?.live ?? live.ipvs,
      ...(live.host ? { host: live.host } : {}),
      ...(this.deps.health ? { health: this.deps.health() } : {}),
      drains: this.drains,
      now: now(),
    });
    // From here until it converges, nothing is known about what differs.
    this.loseScope('the last reconcile did not converge');
    this.phase(run, 'plan');
    const result = await applyPlan(planned.plan, kernel.ipvs ?? UNMANAGED_CLIENT, kernel.host);
    this.phase(run, 'apply');
    // Complete after a plan of some services too: those plans take in every service that drains.
    this.drains = planned.drains;
    this.scheduleDrainPoll(planned.draining, now());
    this.deps.onDraining?.(planned.draining);
    this.deps.onAnnounce?.(announceStatus(desired.host?.announce, planned.announce));
    return { result, fromPicture: pictured !== undefined };
  }

  private afterApply(
    run: Run,
    loaded: LoadResult & { ok: true },
    result: ApplyResult,
    fromPicture: boolean,
  ): ReconcileSummary {
    const { log, metrics } = this.deps;
    const now = this.deps.now ?? Date.now;
    this.logChanges(run.trigger, result);
    const stale = this.picture.record(
      result.results
        .filter((r) => !isHostChange(r.change))
        .map((r) => ({
          op: r.change.op as IpvsOp,
          status: r.status,
          ...(r.status === 'ok' ? {} : { error: r.error }),
        })),
    );
    if (stale) {
      log.warn(
        { event: 'picture_stale', trigger: run.trigger, reason: stale },
        'the live table is not what lvsd thought: reading it again',
      );
      // After a diff against the picture, read at once; after a full read (someone changing the
      // table meanwhile), leave it to the next trigger rather than risk a loop.
      if (fromPicture) this.trigger('resync').catch(() => undefined);
    }
    if (result.ok && !stale) this.scope = new Set();
    if (result.ok) {
      this.appliedHash = loaded.hash;
      metrics.lastSuccess.set(now() / 1000);
      return this.finish(run, { result: 'ok', changes: result.applied, failures: 0 });
    }
    const first = result.results.find((r) => r.status !== 'ok') as { error: LvsdError } | undefined;
    return this.finish(run, {
      result: 'failed',
      changes: result.applied,
      failures: result.failed + result.skipped,
      reason: `${result.failed + result.skipped} operation(s) failed: ${first?.error.message ?? ''}`,
    });
  }

  /**
   * The config: parsed again for a file change, SIGHUP and start; for a
   * resync, a health verdict or a drain poll, the last parse is reused while
   * its files and their directories stat the same (inode, size, mtime,
   * ctime). Parsing is most of a reconcile's work on a big file (10,000
   * services: seconds), and a resync is about the kernel's drift; a change
   * of the files comes with its own file event.
   */
  private async loadConfig(run: Run): Promise<LoadResult> {
    const { trigger } = run;
    const last = this.lastLoad;
    if (last && trigger !== 'file' && trigger !== 'signal' && trigger !== 'start') {
      const now = await (this.deps.fingerprint ?? statFingerprint)(last.loaded.files);
      if (now !== undefined && now === last.fingerprint) {
        this.deps.log.debug({ event: 'config_unchanged', trigger }, 'config files unchanged on disk: not parsed again');
        run.notes['load'] = 'reused';
        return last.loaded;
      }
    }
    // Let go of the old parse first: a big file's parse needs all the heap it can get.
    this.lastLoad = undefined;
    const loaded = await this.deps.load({ full: trigger === 'start' || trigger === 'signal' });
    if (loaded.ok) {
      this.noteDelta(run, loaded);
      const fingerprint = await (this.deps.fingerprint ?? statFingerprint)(loaded.files);
      if (fingerprint !== undefined) this.lastLoad = { loaded, fingerprint };
    }
    return loaded;
  }

  /** Hands a new valid config to onConfig, with what changed when that is known. */
  private configure(loaded: LoadResult & { ok: true }): void {
    const last = this.configured?.deref();
    if (last === loaded.state) return;
    const delta = loaded.delta;
    const changed = last && delta?.mode === 'incremental' && delta.base === last ? delta.changed : undefined;
    // Should onConfig throw halfway, the next call must not count on this one.
    this.configured = undefined;
    this.deps.onConfig?.(loaded.state, changed);
    this.configured = new WeakRef(loaded.state);
  }

  /** What a valid load changed: the services to plan, or that every service must be. */
  private noteDelta(run: Run, loaded: LoadResult & { ok: true }): void {
    const delta = loaded.delta;
    const previous = this.loadedState?.deref();
    this.loadedState = new WeakRef(loaded.state);
    run.notes['load'] = delta?.mode ?? 'full';
    if (delta?.mode === 'full') run.notes['load_reason'] = delta.reason;
    if (delta?.mode === 'incremental' && delta.base === previous) for (const key of delta.changed) this.scope?.add(key);
    else if (delta?.mode === 'incremental') this.loseScope('the config was loaded from another base');
    else this.loseScope(`the config was loaded in full${delta ? ` (${delta.reason})` : ''}`);
  }

  private loseScope(why: string): void {
    if (this.scope) this.scopeLost = why;
    this.scope = undefined;
  }

  /**
   * The part of the desired state and the picture to plan, when only some
   * services can differ: the last reconcile converged (every other service
   * is as it planned it), the plan is against the picture, and nothing
   * drains (mayUsePicture). Undefined: plan everything, and the log says why.
   * The plan of the part is the full plan: services outside it have no
   * changes, and timeouts, ignore rules and the host are planned whole
   * (with director.announce, whose VIPs follow all their services, the
   * whole plan is made).
   */
  private scoped(
    run: Run,
    desired: DesiredState,
    live: LiveState,
    fromPicture: boolean,
  ): { desired: DesiredState; live: LiveState } | undefined {
    const moved = this.healthMoved;
    this.healthMoved = new Set();
    const scope = this.scope;
    const why = !fromPicture
      ? `trigger ${run.trigger} reads the table`
      : !scope
        ? this.scopeLost
        : desired.host?.announce
          ? // Whether a VIP is announced depends on every service of that VIP.
            'director.announce is planned over every service'
          : undefined;
    if (why !== undefined || !scope || !desired.services) {
      run.notes['plan'] = 'full';
      run.notes['plan_reason'] = why ?? 'the config manages no services';
      return undefined;
    }
    for (const key of moved) scope.add(key);
    // What drains changes with time and connections: it is planned every time until it is gone.
    for (const key of this.drains.keys()) scope.add(serviceOf(key));
    run.notes['plan'] = 'scoped';
    run.notes['planned_services'] = scope.size;
    return {
      desired: { ...desired, services: desired.services.filter((s) => scope.has(serviceKey(s))) },
      live: { ...live, services: live.services.filter((s) => scope.has(serviceKey(s))) },
    };
  }

  /**
   * A file change, a health check's verdict or a drain poll may be planned
   * against the picture. Start, SIGHUP and resync read the table: they
   * promise the truth. A drain needs the live connection counts, which the
   * picture does not follow: while a drain may happen, a plan of some
   * services (scoped) reads their real servers' counts, and a plan of all
   * reads the table.
   */
  private mayUsePicture(trigger: Trigger, desired: DesiredState): boolean {
    if (trigger !== 'file' && trigger !== 'health' && trigger !== 'drain') return false;
    if (!this.mayDrain(desired)) return trigger !== 'drain';
    return this.scope !== undefined && desired.services !== undefined;
  }

  private mayDrain(desired: DesiredState): boolean {
    if (this.drains.size > 0 || (desired.defaultDrain ?? 0) > 0) return true;
    return desired.services?.some((s) => (s.drain ?? 0) > 0) ?? false;
  }

  /** While anything drains, look again soon: its connections may have ended, or its time run out. */
  private scheduleDrainPoll(draining: ReadonlyMap<string, number>, now: number): void {
    if (this.drainTimer) clearTimeout(this.drainTimer);
    this.drainTimer = undefined;
    if (draining.size === 0) return;
    const next = Math.min(...draining.values()) - now;
    const wait = Math.max(50, Math.min(this.deps.drainPollMs ?? 1000, next));
    if (this.stopped) return;
    this.drainTimer = after(
      wait,
      () => this.trigger('drain'),
      (e) => this.deps.log.error({ event: 'drain_poll_error' }, String(e)),
    );
  }

  /** Stops the drain poll and the retries (the daemon is stopping); a reconcile in flight runs on. */
  stop(): void {
    this.stopped = true;
    if (this.drainTimer) clearTimeout(this.drainTimer);
    this.drainTimer = undefined;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private logChanges(trigger: Trigger, result: ApplyResult): void {
    const { log, metrics } = this.deps;
    const json = planToJson(result.results.map((r) => r.change)).changes;
    result.results.forEach((r, i) => {
      const c = r.change;
      const fields = { event: 'change', ...json[i], trigger };
      if (r.status === 'ok') {
        metrics.changes.inc({ kind: c.kind, action: c.action });
        if (trigger === 'resync') {
          metrics.driftCorrections.inc({ kind: c.kind, action: c.action });
          log.warn(fields, 'drift corrected');
        } else {
          log.info(fields, 'change applied');
        }
      } else {
        metrics.changeFailures.inc({ kind: c.kind, action: c.action, code: r.error.code });
        log.error({ ...fields, status: r.status, code: r.error.code }, r.error.message);
      }
    });
  }
}
