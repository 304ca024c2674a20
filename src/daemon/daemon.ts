/**
 * `lvsd run`: apply at start, then keep the live table equal to the config
 * on every file change, SIGHUP and resync, until SIGTERM/SIGINT. Never
 * flushes, at start or at stop.
 */
import type { Server } from 'node:http';
import { loadConfig, type ParseCache } from '../config/load.js';
import { lazyKernel } from '../apply/live.js';
import { HealthMonitor } from '../health/monitor.js';
import type { HostClient } from '../host/client.js';
import { openHost } from '../host/netlink-host.js';
import type { IpvsClient } from '../ipvs/client.js';
import { openIpvs } from '../ipvs/netlink-client.js';
import type { Logger } from '../log.js';
import { Metrics } from './metrics.js';
import { notifierFromEnv, watchdogIntervalMs, type Notifier } from './notify.js';
import { Reconciler, type ReconcileSummary, type Trigger } from './reconciler.js';
import { DEFAULT_STATUS_FILE, writeStatus } from './status-file.js';
import { startStatusServer } from './status-server.js';
import { ConfigWatcher } from './watch.js';

export interface DaemonOptions {
  configPath: string;
  /** 0 disables the periodic re-read of the live table. */
  resyncMs: number;
  listen?: { host: string; port: number };
  log: Logger;
  env?: NodeJS.ProcessEnv;
  /** Open the kernel's IPVS and the host; tests may pass others. */
  openClient?: () => Promise<IpvsClient>;
  openHostClient?: () => Promise<HostClient>;
  /** Where to write health and drains for `lvsd show`; '' disables. */
  statusFile?: string;
  debounceMs?: number;
}

/** Runs the daemon; resolves with the process exit code once it has stopped. */
export async function runDaemon(opts: DaemonOptions): Promise<number> {
  const { log } = opts;
  const env = opts.env ?? process.env;
  const open = opts.openClient ?? (() => openIpvs());
  const notifier: Notifier = notifierFromEnv(env, (err) => log.warn({ event: 'notify_error' }, err.message));
  const metrics = new Metrics();

  // Opened when the config first needs them: a real server's file needs no IPVS.
  const kernel = lazyKernel({ ipvs: open, host: opts.openHostClient ?? (async () => openHost()) });

  // Health and drains for `lvsd show`: written after each change of either, never on the hot path.
  const statusFile = opts.statusFile ?? DEFAULT_STATUS_FILE;
  let draining: ReadonlyMap<string, number> = new Map();
  let statusWarned = false;
  const publish = (): void => {
    if (!statusFile) return;
    const iso = (ms: number) => new Date(ms).toISOString();
    writeStatus(statusFile, {
      pid: process.pid,
      updated: iso(Date.now()),
      health: health.states().map((h) => ({ service: h.service, realserver: h.realserver, up: h.up, since: iso(h.since), ...(h.lastError ? { lastError: h.lastError } : {}) })),
      draining: Object.fromEntries([...draining].map(([k, until]) => [k, iso(until)])),
    }).catch((e: Error) => {
      if (!statusWarned) log.warn({ event: 'status_file_error', path: statusFile }, `cannot write ${statusFile} (lvsd show will not see health): ${e.message}`);
      statusWarned = true;
    });
  };

  // Checks run beside the loop; a change of health is a reason to reconcile, like a file change.
  let reconciler: Reconciler | undefined;
  const health = new HealthMonitor({
    onChange: (c) => {
      metrics.backendUp.set({ service: c.service, realserver: c.realserver }, c.up ? 1 : 0);
      metrics.healthChanges.inc({ service: c.service, realserver: c.realserver, state: c.up ? 'up' : 'down' });
      log.warn({ event: 'health', service: c.service, realserver: c.realserver, up: c.up, ...(c.error ? { error: c.error } : {}) }, `real server ${c.up ? 'up' : 'down'}`);
      publish();
      void reconciler?.trigger('health');
    },
  });
  const parseCache: ParseCache = new Map();
  reconciler = new Reconciler({
    // A change of one conf.d/ drop-in parses that file only.
    load: () => loadConfig(opts.configPath, parseCache),
    kernel,
    log,
    metrics,
    health: () => health.snapshot(),
    onConfig: (desired) => {
      health.update(desired);
      for (const s of health.states()) metrics.backendUp.set({ service: s.service, realserver: s.realserver }, s.up ? 1 : 0);
    },
    onDraining: (d) => {
      if (d.size === 0 && draining.size === 0) return;
      draining = d;
      publish();
    },
    onSummary: (s) => void notifier.notify({ STATUS: statusLine(s) }),
  });

  const first = await reconciler.trigger('start');
  if (first.result === 'invalid_config' || first.result === 'error') {
    log.fatal({ event: 'start_failed', reason: first.reason }, 'not started: the first reconcile did not complete; the table is as it was');
    health.stop();
    reconciler.stop();
    kernel.close();
    return 1;
  }
  // Ready once the table was applied; operations the kernel refused are reported by
  // STATUS, /healthz and the logs, and retried on every reload and resync.
  publish();
  await notifier.notify({ READY: '1', STATUS: statusLine(first) });

  const reload = async (trigger: Trigger): Promise<void> => {
    await notifier.notify({ RELOADING: '1', MONOTONIC_USEC: String(process.hrtime.bigint() / 1000n) });
    const s = await reconciler.trigger(trigger);
    await notifier.notify({ READY: '1', STATUS: statusLine(s) });
  };

  const watcher = new ConfigWatcher({
    path: opts.configPath,
    debounceMs: opts.debounceMs ?? 150,
    unlinkGraceMs: 1000,
    onChange: (events) => {
      log.debug({ event: 'config_changed', files: events }, 'config files changed');
      void reload('file');
    },
    onError: (err) => log.error({ event: 'watch_error' }, err.message),
  });
  await watcher.start();

  const timers: NodeJS.Timeout[] = [];
  if (opts.resyncMs > 0) timers.push(setInterval(() => void reconciler.trigger('resync'), opts.resyncMs));
  const watchdog = watchdogIntervalMs(env);
  if (watchdog !== undefined && notifier.enabled) timers.push(setInterval(() => void notifier.notify({ WATCHDOG: '1' }), watchdog));

  let server: Server | undefined;
  let statsClient: IpvsClient | undefined;
  if (opts.listen) {
    try {
      server = await startStatusServer(opts.listen, {
        unhealthyReason: () => {
          const last = reconciler.last;
          if (!last) return 'no reconcile yet';
          return last.result === 'ok' ? undefined : last.reason ?? last.result;
        },
        // A socket of its own: a scrape must not collide with a reconcile's dump.
        metricsText: async () => {
          try {
            statsClient ??= await open();
            return await metrics.text(await statsClient.readTable());
          } catch (e) {
            // A real server has no IPVS to report; a director's failure shows in the logs.
            log.debug({ event: 'metrics_ipvs_unavailable' }, (e as Error).message);
            return metrics.text();
          }
        },
      });
      log.info({ event: 'listening', address: `${opts.listen.host}:${opts.listen.port}` }, 'status endpoint up: /healthz /metrics');
    } catch (e) {
      log.fatal({ event: 'start_failed' }, (e as Error).message);
      await watcher.close();
      timers.forEach(clearInterval);
      health.stop();
      reconciler.stop();
      kernel.close();
      return 1;
    }
  }

  log.info({ event: 'started', config: opts.configPath, resync_ms: opts.resyncMs }, 'lvsd running');

  return new Promise<number>((resolve) => {
    let stopping = false;
    const onHup = () => {
      log.info({ event: 'signal', signal: 'SIGHUP' }, 'reloading');
      void reload('signal');
    };
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ event: 'signal', signal }, 'stopping; the table is left as it is');
      void (async () => {
        await notifier.notify({ STOPPING: '1' });
        timers.forEach(clearInterval);
        await watcher.close();
        health.stop();
        await reconciler!.idle(); // finish the operation in flight
        reconciler!.stop();
        server?.close();
        statsClient?.close();
        kernel.close();
        process.off('SIGHUP', onHup);
        process.off('SIGTERM', onTerm);
        process.off('SIGINT', onInt);
        log.info({ event: 'stopped' }, 'lvsd stopped');
        resolve(0);
      })();
    };
    const onTerm = () => stop('SIGTERM');
    const onInt = () => stop('SIGINT');
    process.on('SIGHUP', onHup);
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  });
}

/** The one-line STATUS= text for systemctl status. */
export function statusLine(s: ReconcileSummary): string {
  const when = new Date().toISOString().slice(11, 19);
  switch (s.result) {
    case 'ok':
      return `${when} ${s.trigger}: in sync, ${s.changes} change${s.changes === 1 ? '' : 's'} applied in ${s.durationMs} ms`;
    case 'skipped':
      return `${when} ${s.trigger}: config unchanged`;
    case 'failed':
      return `${when} ${s.trigger}: ${s.failures} operation(s) failed, ${s.changes} applied`;
    case 'invalid_config':
      return `${when} ${s.trigger}: config invalid, table kept`;
    case 'error':
      return `${when} ${s.trigger}: error: ${s.reason ?? ''}`;
  }
}
