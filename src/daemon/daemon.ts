/**
 * `lvsd run`: apply at start, then keep the live table equal to the config
 * on every file change, SIGHUP and resync, until SIGTERM/SIGINT. Never
 * flushes, at start or at stop.
 *
 * One rule: nothing that comes from a file, a check, a scrape or the kernel
 * ends the process. Only SIGTERM, SIGINT and a fatal start-up error (a bad
 * --listen, a first reconcile that cannot complete) do. Everything set up
 * is undone by one Teardown, once, within a time budget.
 */
import type { Server } from 'node:http';
import type { EventEmitter } from 'node:events';
import { configKind, readConfigTexts, type ConfigKind, type ParseCache } from '../config/load.js';
import { IncrementalLoader } from '../config/incremental.js';
import { lazyKernel, type KernelSource } from '../apply/live.js';
import { HealthMonitor } from '../health/monitor.js';
import type { HostClient } from '../host/client.js';
import { openHost } from '../host/netlink-host.js';
import type { IpvsClient } from '../ipvs/client.js';
import type { LiveState } from '../model/types.js';
import { openIpvs } from '../ipvs/netlink-client.js';
import type { Logger } from '../log.js';
import { every, within } from '../timers.js';
import { installProcessGuard } from './guard.js';
import { Metrics } from './metrics.js';
import { notifierFromEnv, watchdogIntervalMs, type Notifier } from './notify.js';
import { Reconciler, type ReconcileSummary, type RetryPolicy, type Trigger } from './reconciler.js';
import { sharedClient } from './shared-client.js';
import { type AnnounceStatus, DEFAULT_STATUS_FILE, writeStatus } from './status-file.js';
import { startStatusServer } from './status-server.js';
import { PeerMonitor } from './peers.js';
import { fetchPeerTable, readLocalTable } from '../peers/fetch.js';
import { type FlowTable, TABLE_PATH } from '../peers/table.js';
import { Teardown } from './teardown.js';
import { VrrpFollower } from './vrrp.js';
import { watchAddresses } from '../host/address-watch.js';
import { ConfigWatcher } from './watch.js';

/** How long a stop waits for the reconcile in flight, by default (ms). */
export const DEFAULT_STOP_TIMEOUT_MS = 10_000;

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
  /** Opens the IPVS client /metrics reads counters with (default: openClient). */
  openStatsClient?: () => Promise<IpvsClient>;
  /** Where to write health and drains for `lvsd show`; '' disables. */
  statusFile?: string;
  debounceMs?: number;
  /** How long a stop waits for the reconcile in flight before exiting anyway (ms). */
  stopTimeoutMs?: number;
  /** Install the process-level guard (guard.ts); `lvsd run` does. */
  processGuard?: boolean;
  /** Where SIGHUP, SIGTERM and SIGINT come from (default: the process). */
  signals?: EventEmitter;
  retry?: RetryPolicy;
  /** Peer directors whose tables are compared with this one's every `intervalMs` (the lvsd_peer_* metrics). */
  peers?: { urls: URL[]; intervalMs: number };
}

/** What runDaemon wires together. */
interface Parts {
  opts: DaemonOptions;
  log: Logger;
  metrics: Metrics;
  notifier: Notifier;
  kernel: KernelSource;
  health: HealthMonitor;
  reconciler: Reconciler;
  /** Writes the status file (health and drains) for `lvsd show`. */
  publish: () => void;
  /** director.vrrp: held VIPs and the track file. */
  vrrp: VrrpFollower;
  /** What the -c path was when first read; kept, whatever the path becomes. */
  source: ConfigSource;
  teardown: Teardown;
}

interface ConfigSource {
  kind?: ConfigKind;
}

/** Runs the daemon; resolves with the process exit code once it has stopped. */
export async function runDaemon(opts: DaemonOptions): Promise<number> {
  const { log } = opts;
  const parts = assemble(opts);
  const { reconciler, notifier, teardown } = parts;
  try {
    // Before the first apply: a bad --listen fails start-up with the table untouched.
    const tables = await startEndpoint(parts);
    const first = await reconciler.trigger('start');
    if (first.result === 'invalid_config' || first.result === 'error') {
      const why = 'not started: the first reconcile did not complete; the table is as it was';
      log.fatal({ event: 'start_failed', reason: first.reason }, why);
      await teardown.run(log, opts.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS);
      return 1;
    }
    // Ready once the table was applied; operations the kernel refused are reported by
    // STATUS, /healthz and the logs, and retried with backoff.
    parts.publish();
    await notifier.notify({ READY: '1', STATUS: statusLine(first) });
    await startWatching(parts);
    startTimers(parts);
    startPeers(parts, tables);
  } catch (e) {
    log.fatal({ event: 'start_failed' }, e instanceof Error ? e.message : String(e));
    await teardown.run(log, opts.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS);
    return 1;
  }
  log.info({ event: 'started', config: opts.configPath, resync_ms: opts.resyncMs }, 'lvsd running');
  return waitForStop(parts);
}

/** Creates the daemon's parts; each registers how it is undone. */
function assemble(opts: DaemonOptions): Parts {
  const { log } = opts;
  const teardown = new Teardown();
  const metrics = new Metrics();
  // eslint-disable-next-line prefer-const -- assigned below, once the parts it needs exist
  let reconciler: Reconciler | undefined;
  if (opts.processGuard) {
    // Added first, so removed last: it watches over the whole stop.
    const onException = () => {
      reconciler?.trigger('resync').catch(logged(opts, 'resync_error'));
    };
    teardown.add('process guard', installProcessGuard({ log, metrics, onException }));
  }
  const notifier = notifierFromEnv(opts.env ?? process.env, (err) => log.warn({ event: 'notify_error' }, err.message));
  // Opened when the config first needs them: a real server's file needs no IPVS.
  const kernel = lazyKernel({
    ipvs: opts.openClient ?? (() => openIpvs()),
    host: opts.openHostClient ?? (async () => openHost()),
  });
  teardown.add('kernel sockets', () => kernel.close());
  const health = new HealthMonitor({
    onChange: (c) => {
      metrics.backendUp.set({ service: c.service, realserver: c.realserver }, c.up ? 1 : 0);
      metrics.healthChanges.inc({ service: c.service, realserver: c.realserver, state: c.up ? 'up' : 'down' });
      const fields = { service: c.service, realserver: c.realserver, up: c.up, ...(c.error ? { error: c.error } : {}) };
      log.warn({ event: 'health', ...fields }, `real server ${c.up ? 'up' : 'down'}`);
      publish();
      vrrp.healthChanged();
      // A change of health is a reason to reconcile, like a file change: for this service.
      reconciler?.healthChanged(c.service);
      reconciler?.trigger('health').catch(logged(opts, 'reconcile_error'));
    },
    onError: (e) => log.error({ event: 'health_error' }, e instanceof Error ? e.message : String(e)),
  });
  const vrrp = new VrrpFollower({
    log,
    metrics,
    health: () => health.view(),
    watch: (onChange, onError) => watchAddresses({ onChange, onError }),
    publish: () => publish(),
  });
  // Runs after the reconcile in flight ended: the track file's last word is that lvsd stopped.
  teardown.add('vrrp track file', () => vrrp.stop());
  const { publish, setDraining, setAnnounce } = statusPublisher(opts, health, vrrp);
  const source: ConfigSource = {};
  reconciler = newReconciler(opts, source, { metrics, kernel, health, notifier, setDraining, setAnnounce, vrrp });
  const parts: Parts = { opts, log, metrics, notifier, kernel, health, reconciler, publish, teardown, source, vrrp };
  teardown.add('reconcile in flight', () => {
    reconciler.stop();
    return reconciler.idle();
  });
  teardown.add('health checks', () => health.stop());
  return parts;
}

function newReconciler(
  opts: DaemonOptions,
  source: ConfigSource,
  p: Pick<Parts, 'metrics' | 'kernel' | 'health' | 'notifier' | 'vrrp'> & Omit<Publisher, 'publish'>,
): Reconciler {
  const parseCache: ParseCache = new Map();
  // A change of a few lines of services parses those; a full load of a drop-in config parses the changed files only.
  const loader = new IncrementalLoader(parseCache);
  return new Reconciler({
    // The -c path keeps the kind it had when first read: a directory put where the file was is an
    // error (the table is kept), not a config directory.
    load: async (how) => {
      source.kind ??= await configKind(opts.configPath);
      const read = await readConfigTexts(opts.configPath, source.kind, (file) => loader.spare(file));
      if (!read.ok) return read.failed;
      return loader.load(read.texts, how?.full ? 'start and SIGHUP load in full' : undefined);
    },
    kernel: p.kernel,
    log: opts.log,
    metrics: p.metrics,
    health: () => p.health.view(),
    onConfig: (desired, changed) => {
      p.health.update(desired, changed);
      p.vrrp.configure(desired);
      p.metrics.expectSync(desired.sync ?? []);
      for (const s of p.health.states(changed)) {
        p.metrics.backendUp.set({ service: s.service, realserver: s.realserver }, s.up ? 1 : 0);
      }
    },
    onDraining: p.setDraining,
    onAnnounce: p.setAnnounce,
    onSummary: (s) => {
      p.vrrp.reconciled(s);
      p.notifier.notify({ STATUS: statusLine(s) }).catch(logged(opts, 'notify_error'));
    },
    ...(opts.retry ? { retry: opts.retry } : {}),
  });
}

/** Health and drains for `lvsd show`: written after each change of either, never on the hot path. */
type Draining = ReadonlyMap<string, number>;

interface Publisher {
  publish: () => void;
  setDraining: (d: Draining) => void;
  /** Written when it differs from the last one. */
  setAnnounce: (a: AnnounceStatus | undefined) => void;
}

function statusPublisher(opts: DaemonOptions, health: HealthMonitor, vrrp: VrrpFollower): Publisher {
  const file = opts.statusFile ?? DEFAULT_STATUS_FILE;
  let draining: ReadonlyMap<string, number> = new Map();
  let announce: AnnounceStatus | undefined;
  let warned = false;
  const iso = (ms: number) => new Date(ms).toISOString();
  // One write at a time, each of the state when it starts: the last write is of the latest state.
  let chain: Promise<void> = Promise.resolve();
  const write = () =>
    writeStatus(file, {
      pid: process.pid,
      updated: iso(Date.now()),
      health: health.states().map((h) => ({
        service: h.service,
        realserver: h.realserver,
        up: h.up,
        since: iso(h.since),
        ...(h.lastError ? { lastError: h.lastError } : {}),
      })),
      draining: Object.fromEntries([...draining].map(([k, until]) => [k, iso(until)])),
      ...(announce ? { announce } : {}),
      ...vrrp.status(),
    });
  const publish = (): void => {
    if (!file) return;
    chain = chain.then(write).catch((e: Error) => {
      const why = `cannot write ${file} (lvsd show will not see health): ${e.message}`;
      if (!warned) opts.log.warn({ event: 'status_file_error', path: file }, why);
      warned = true;
    });
  };
  const setDraining = (d: ReadonlyMap<string, number>): void => {
    if (d.size === 0 && draining.size === 0) return;
    draining = d;
    publish();
  };
  const setAnnounce = (a: AnnounceStatus | undefined): void => {
    if (JSON.stringify(a) === JSON.stringify(announce)) return;
    announce = a;
    publish();
  };
  return { publish, setDraining, setAnnounce };
}

/**
 * The status endpoint, when --listen asks for one: bound before anything
 * touches the table. Returns the IPVS reader it uses (for the peer comparison).
 */
async function startEndpoint(parts: Parts): Promise<TableReader | undefined> {
  const { opts, log, metrics, reconciler, teardown } = parts;
  if (!opts.listen) return undefined;
  // A socket of its own: a scrape must not collide with a reconcile's dump.
  const stats = sharedClient(opts.openStatsClient ?? opts.openClient ?? (() => openIpvs()));
  teardown.add('metrics IPVS client', () => stats.close());
  const server: Server = await startStatusServer(opts.listen, {
    unhealthyReason: () => {
      const last = reconciler.last;
      if (!last) return 'no reconcile yet';
      if (last.result === 'ok') return undefined;
      const retry = last.retryInMs !== undefined ? `; retrying within ${Math.ceil(last.retryInMs / 1000)} s` : '';
      return `${last.reason ?? last.result}${retry}`;
    },
    metricsText: async () => {
      try {
        return await metrics.text(await stats.readTable());
      } catch (e) {
        // A real server has no IPVS to report; a director's failure shows in the logs.
        log.debug({ event: 'metrics_ipvs_unavailable' }, (e as Error).message);
        return metrics.text();
      }
    },
    tableJson: async () => JSON.stringify(await localTable(parts, stats)) + '\n',
  });
  teardown.add('status endpoint', () => {
    server.close();
    server.closeAllConnections();
  });
  const address = `${opts.listen.host}:${opts.listen.port}`;
  log.info({ event: 'listening', address }, `status endpoint up: /healthz /metrics ${TABLE_PATH}`);
  return stats;
}

/** What the flow table needs of a client: a read with counters (the shared stats client's, at most one at a time). */
interface TableReader {
  readTable(): Promise<LiveState>;
}

/** This director's flow table: its IPVS table and its flow sysctls. */
async function localTable(parts: Parts, ipvs: TableReader): Promise<FlowTable> {
  return readLocalTable(ipvs, await parts.kernel.host());
}

/** The comparison with --peer directors, when asked for: a first round now, then every interval. */
function startPeers(parts: Parts, ipvs: TableReader | undefined): void {
  const { opts, metrics, log, teardown } = parts;
  if (!opts.peers || opts.peers.urls.length === 0 || !ipvs) return;
  const monitor = new PeerMonitor({
    peers: opts.peers.urls,
    readLocal: () => localTable(parts, ipvs),
    fetchPeer: (url) => fetchPeerTable(url),
    metrics,
    log,
  });
  const timer = every(opts.peers.intervalMs, () => monitor.check(), logged(parts, 'peer_error'));
  teardown.add('peer comparison', () => clearInterval(timer));
  monitor.check().catch(logged(parts, 'peer_error'));
}

/** A reload (file change, SIGHUP) told to systemd as RELOADING, then READY. Never rejects. */
async function reload(parts: Parts, trigger: Trigger): Promise<void> {
  const { notifier, reconciler } = parts;
  await notifier.notify({ RELOADING: '1', MONOTONIC_USEC: String(process.hrtime.bigint() / 1000n) });
  const s = await reconciler.trigger(trigger);
  await notifier.notify({ READY: '1', STATUS: statusLine(s) });
}

/** A rejection handler that logs at error: every promise the daemon does not await ends in one. */
function logged(parts: Pick<Parts, 'log'>, event: string): (e: unknown) => void {
  return (e) => parts.log.error({ event }, e instanceof Error ? e.message : String(e));
}

async function startWatching(parts: Parts): Promise<void> {
  const { opts, log, teardown } = parts;
  const watcher = new ConfigWatcher({
    path: opts.configPath,
    ...(parts.source.kind ? { kind: parts.source.kind } : {}),
    debounceMs: opts.debounceMs ?? 150,
    unlinkGraceMs: 1000,
    onChange: (events) => {
      log.debug({ event: 'config_changed', files: events }, 'config files changed');
      reload(parts, 'file').catch(logged(parts, 'reload_error'));
    },
    onError: logged(parts, 'watch_error'),
  });
  teardown.add('config watcher', () => watcher.close());
  await watcher.start();
}

/** The periodic resync and systemd's watchdog. */
function startTimers(parts: Parts): void {
  const { opts, notifier, reconciler, teardown } = parts;
  const timers: NodeJS.Timeout[] = [];
  teardown.add('timers', () => timers.forEach(clearInterval));
  if (opts.resyncMs > 0) {
    timers.push(every(opts.resyncMs, () => reconciler.trigger('resync'), logged(parts, 'resync_error')));
  }
  const watchdog = watchdogIntervalMs(opts.env ?? process.env);
  if (watchdog !== undefined && notifier.enabled) {
    timers.push(every(watchdog, () => notifier.notify({ WATCHDOG: '1' }), logged(parts, 'watchdog_error')));
  }
}

/** Serves SIGHUP until SIGTERM or SIGINT; then stops, waiting a bounded time for the reconcile in flight. */
function waitForStop(parts: Parts): Promise<number> {
  const { opts, log, notifier, teardown } = parts;
  const signals = opts.signals ?? process;
  const budget = opts.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
  return new Promise<number>((resolve) => {
    let stopping = false;
    const onHup = () => {
      log.info({ event: 'signal', signal: 'SIGHUP' }, stopping ? 'stopping: not reloading' : 'reloading');
      if (!stopping) reload(parts, 'signal').catch(logged(parts, 'reload_error'));
    };
    const stop = async (signal: string) => {
      if (stopping) return log.info({ event: 'signal', signal }, 'already stopping');
      stopping = true;
      log.info({ event: 'signal', signal }, 'stopping; the table is left as it is');
      await within(notifier.notify({ STOPPING: '1' }), Math.min(budget, 2000));
      const inTime = await teardown.run(log, budget);
      signals.off('SIGHUP', onHup).off('SIGTERM', onTerm).off('SIGINT', onInt);
      const how = inTime ? 'lvsd stopped' : 'lvsd stopped without waiting for the operation in flight';
      log.info({ event: 'stopped', in_time: inTime }, how);
      if (!inTime && signals === process) {
        // An exit would wait for libuv's threads, one of which may be stuck for good (a read of a
        // FIFO): die of the signal itself, now unhandled, which systemd counts as a clean stop.
        process.kill(process.pid, signal);
        return;
      }
      resolve(0);
    };
    const onTerm = () => {
      stop('SIGTERM').catch(logged(parts, 'stop_error'));
    };
    const onInt = () => {
      stop('SIGINT').catch(logged(parts, 'stop_error'));
    };
    signals.on('SIGHUP', onHup).on('SIGTERM', onTerm).on('SIGINT', onInt);
  });
}

/** The one-line STATUS= text for systemctl status. */
export function statusLine(s: ReconcileSummary): string {
  const when = new Date().toISOString().slice(11, 19);
  const retry = s.retryInMs !== undefined ? `; retry in ${Math.ceil(s.retryInMs / 1000)} s` : '';
  switch (s.result) {
    case 'ok':
      return `${when} ${s.trigger}: in sync, ${s.changes} change${s.changes === 1 ? '' : 's'} applied in ${s.durationMs} ms`;
    case 'skipped':
      return `${when} ${s.trigger}: config unchanged`;
    case 'failed':
      return `${when} ${s.trigger}: ${s.failures} operation(s) failed, ${s.changes} applied${retry}`;
    case 'invalid_config':
      return `${when} ${s.trigger}: config invalid, table kept`;
    case 'error':
      return `${when} ${s.trigger}: error: ${s.reason ?? ''}${retry}`;
  }
}
