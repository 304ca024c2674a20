/**
 * director.vrrp in `lvsd run`: follows which VIPs this host holds (keepalived
 * moves them) and keeps keepalived's track file (track-policy.ts says what
 * goes in it). The file is written only when its content differs from the
 * value wanted (read back first, so a file keepalived's `init_file
 * overwrite` or a person changed is put right at the next evaluation), and
 * each change of the verdict is logged once.
 */
import type { HealthView } from '../plan/effective.js';
import { readFile } from 'node:fs/promises';
import type { AddressWatch } from '../host/address-watch.js';
import type { HeldAddresses } from '../host/held-addresses.js';
import type { Logger } from '../log.js';
import type { DesiredService, DesiredState } from '../model/types.js';
import type { Metrics } from './metrics.js';
import type { ReconcileSummary } from './reconciler.js';
import type { DaemonStatus } from './status-file.js';
import { writeAtomic } from './status-file.js';
import { SYNC_WARMUP_MS, trackVerdict, type TrackVerdict } from './track-policy.js';

export interface VrrpDeps {
  log: Logger;
  metrics: Metrics;
  /** Up/down of checked real servers by healthKey. */
  health: () => HealthView;
  /** Starts following the host's addresses. */
  watch: (onChange: (held: HeldAddresses) => void, onError: (e: Error) => void) => Promise<AddressWatch>;
  /** Something `lvsd show` prints changed. */
  publish: () => void;
  now?: () => number;
}

export class VrrpFollower {
  private enabled = false;
  private trackFile: string | undefined;
  private services: readonly DesiredService[] = [];
  private vips: string[] = [];
  private lastReconcile: Pick<ReconcileSummary, 'result' | 'reason'> | undefined;
  private verdict: TrackVerdict | undefined;
  private stopped = false;
  /** Until when (ms) the sync backup learns the peer's connections; set at the first reconcile. */
  private warmUntil: number | undefined;
  private warmTimer: NodeJS.Timeout | undefined;
  private hasBackup = false;
  private watch: AddressWatch | undefined;
  private watching: Promise<void> | undefined;
  private readonly held = new Map<string, { held: boolean; since: number }>();
  /** One write of the track file at a time, in order. */
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly deps: VrrpDeps) {}

  /** Each valid config: which VIPs to follow, where the track file is. */
  configure(desired: DesiredState): void {
    const vrrp = desired.host?.vrrp;
    this.enabled = vrrp !== undefined;
    this.trackFile = vrrp?.trackFile;
    this.services = desired.services ?? [];
    this.hasBackup = (desired.sync ?? []).some((d) => d.role === 'backup');
    this.vips = [...new Set(this.services.flatMap((s) => (s.fwmark === undefined ? [s.address!] : [])))].sort();
    this.deps.metrics.vipHeld.reset();
    if (!this.enabled) {
      this.held.clear();
      this.closeWatch();
      return;
    }
    if (this.watch) this.followHeld(this.watch.held);
    else
      this.watching ??= this.deps
        .watch(
          (h) => this.followHeld(h),
          (e) => this.deps.log.error({ event: 'address_watch_error' }, e.message),
        )
        .then((w) => {
          this.watching = undefined;
          if (this.stopped || !this.enabled) return w.close();
          this.watch = w;
          this.followHeld(w.held);
        })
        .catch((e: Error) => {
          this.watching = undefined;
          this.deps.log.error({ event: 'address_watch_error' }, e.message);
        });
  }

  /** After each reconcile: a failed one makes this director unfit to serve. */
  reconciled(s: ReconcileSummary): void {
    if (s.result === 'skipped' || s.result === 'invalid_config') return;
    if (!this.lastReconcile && this.hasBackup) this.startWarmup();
    this.lastReconcile = { result: s.result, ...(s.reason ? { reason: s.reason } : {}) };
    this.evaluate();
  }

  /** A health verdict changed. */
  healthChanged(): void {
    this.evaluate();
  }

  /** lvsd stops: the track file says so (see track-policy.ts), and the watch ends. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.warmTimer);
    this.evaluate();
    this.closeWatch();
    await this.chain;
  }

  /** For the status file. */
  status(): Pick<DaemonStatus, 'vips' | 'track'> {
    if (!this.enabled) return {};
    const iso = (ms: number) => new Date(ms).toISOString();
    const vips = [...this.held].map(([vip, h]) => ({ vip, held: h.held, since: iso(h.since) }));
    const v = this.verdict;
    const track =
      this.trackFile && v
        ? { track: { path: this.trackFile, value: v.value, state: v.state, ...(v.reason ? { reason: v.reason } : {}) } }
        : {};
    return { vips, ...track };
  }

  /** The first reconcile started the sync backup: it learns the peer's connections first. */
  private startWarmup(): void {
    const now = this.deps.now ?? Date.now;
    this.warmUntil = now() + SYNC_WARMUP_MS;
    this.warmTimer = setTimeout(() => this.evaluate(), SYNC_WARMUP_MS);
    this.warmTimer.unref();
  }

  private closeWatch(): void {
    this.watch?.close();
    this.watch = undefined;
  }

  private followHeld(addresses: HeldAddresses): void {
    const now = (this.deps.now ?? Date.now)();
    let changed = false;
    for (const vip of [...this.held.keys()]) if (!this.vips.includes(vip)) this.held.delete(vip);
    for (const vip of this.vips) {
      const held = addresses.holds(vip);
      const before = this.held.get(vip);
      this.deps.metrics.vipHeld.set({ vip }, held ? 1 : 0);
      if (before?.held === held) continue;
      this.held.set(vip, { held, since: now });
      changed = true;
      const what = held ? 'this director holds the VIP (active)' : 'this director does not hold the VIP';
      this.deps.log.info({ event: 'vip_held', vip, held }, what);
    }
    if (changed) this.deps.publish();
  }

  private evaluate(): void {
    const path = this.trackFile;
    // Before the first reconcile there is no verdict to give: the file is left as it is.
    if (!this.enabled || !path || !this.lastReconcile) return;
    const v = trackVerdict({
      services: this.services,
      health: this.deps.health(),
      lastReconcile: this.lastReconcile,
      stopped: this.stopped,
      warming: this.warmUntil !== undefined && (this.deps.now ?? Date.now)() < this.warmUntil,
    });
    const before = this.verdict;
    this.verdict = v;
    this.deps.metrics.trackValue.set(v.value);
    if (before?.state !== v.state || before.reason !== v.reason) {
      const fields = {
        event: 'vrrp_track',
        path,
        state: v.state,
        value: v.value,
        ...(v.reason ? { reason: v.reason } : {}),
      };
      const text = v.state === 'ok' ? 'this director can serve' : `this director cannot serve: ${v.reason ?? ''}`;
      this.deps.log[v.state === 'ok' ? 'info' : 'warn'](fields, `track file ${v.value}: ${text}`);
      this.deps.publish();
    }
    this.chain = this.chain.then(() => this.write(path, v.value));
  }

  /** Writes `value` unless the file holds it already; a failure is logged, never thrown. */
  private async write(path: string, value: number): Promise<void> {
    try {
      const now = await readFile(path, 'utf8').then(
        (t) => t.trim(),
        () => undefined,
      );
      if (now === String(value)) return;
      await writeAtomic(path, `${value}\n`);
    } catch (e) {
      const why = `cannot write the track file (keepalived does not see this director's state): ${(e as Error).message}`;
      this.deps.log.error({ event: 'vrrp_track_error', path }, why);
    }
  }
}
