/**
 * Prometheus metrics: the daemon's own (prom-client), and the IPVS counters
 * per service and real server, named like node_exporter's ipvs collector
 * under an `lvsd_` prefix, with its label names, so queries can join.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { LiveState, Stats, SyncDaemon } from '../model/types.js';
import { isSyncDaemon } from '../plan/sync-diff.js';

export class Metrics {
  readonly registry = new Registry();
  readonly reconciles = new Counter({
    name: 'lvsd_reconciles_total',
    help: 'Reconciles run, by trigger and result (ok, failed, invalid_config, skipped).',
    labelNames: ['trigger', 'result'] as const,
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'lvsd_reconcile_duration_seconds',
    help: 'Time to read the table, diff and apply.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly changes = new Counter({
    name: 'lvsd_changes_applied_total',
    help: 'Kernel operations applied, by kind and action.',
    labelNames: ['kind', 'action'] as const,
    registers: [this.registry],
  });
  readonly changeFailures = new Counter({
    name: 'lvsd_change_failures_total',
    help: 'Kernel operations that failed or were skipped, by kind, action and error code.',
    labelNames: ['kind', 'action', 'code'] as const,
    registers: [this.registry],
  });
  readonly driftCorrections = new Counter({
    name: 'lvsd_drift_corrections_total',
    help: "Changes made behind lvsd's back that a resync corrected, by kind and action.",
    labelNames: ['kind', 'action'] as const,
    registers: [this.registry],
  });
  readonly lastSuccess = new Gauge({
    name: 'lvsd_last_success_timestamp_seconds',
    help: 'When the last reconcile without failures finished (unix time).',
    registers: [this.registry],
  });
  readonly backendUp = new Gauge({
    name: 'lvsd_backend_up',
    help: 'Health of each checked real server: 1 up, 0 down.',
    labelNames: ['service', 'realserver'] as const,
    registers: [this.registry],
  });
  readonly healthChanges = new Counter({
    name: 'lvsd_backend_state_changes_total',
    help: 'Up/down changes of checked real servers.',
    labelNames: ['service', 'realserver', 'state'] as const,
    registers: [this.registry],
  });
  readonly reconcileFailures = new Counter({
    name: 'lvsd_reconcile_failures_total',
    help: 'Reconciles that did not leave the table equal to the config (failed, error, invalid_config), by trigger and result.',
    labelNames: ['trigger', 'result'] as const,
    registers: [this.registry],
  });
  readonly unhandledErrors = new Counter({
    name: 'lvsd_unhandled_errors_total',
    help: 'Errors no handler caught, seen by the process-level guard (a bug: please report), by kind (rejection, exception).',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly peerReachable = new Gauge({
    name: 'lvsd_peer_reachable',
    help: '1 when the peer director (--peer) answered its last table read, else 0.',
    labelNames: ['peer'] as const,
    registers: [this.registry],
  });
  readonly peerAgrees = new Gauge({
    name: 'lvsd_peer_table_agrees',
    help: "1 when the peer director's table sends every flow where this one does, 0 when not; absent while it does not answer.",
    labelNames: ['peer'] as const,
    registers: [this.registry],
  });
  readonly peerDifferences = new Gauge({
    name: 'lvsd_peer_differences',
    help: "Differences between this director's table and the peer's that move flows (lvsd peers lists them).",
    labelNames: ['peer'] as const,
    registers: [this.registry],
  });
  readonly vipHeld = new Gauge({
    name: 'lvsd_vip_held',
    help: 'director.vrrp: 1 when this host holds the VIP now (the active director), else 0.',
    labelNames: ['vip'] as const,
    registers: [this.registry],
  });
  readonly trackValue = new Gauge({
    name: 'lvsd_vrrp_track_value',
    help: 'director.vrrp.track_file: the value lvsd wrote for keepalived (0 can serve, -253 cannot, -100 warming up or lvsd stopped).',
    registers: [this.registry],
  });
  readonly configValid = new Gauge({
    name: 'lvsd_config_valid',
    help: '1 when the config file(s) last read were valid, else 0.',
    registers: [this.registry],
  });

  readonly syncDaemonUp = new Gauge({
    name: 'lvsd_sync_daemon_up',
    help: 'Each connection sync daemon director.sync asks for: 1 running with its settings, 0 not (set at each scrape).',
    labelNames: ['role', 'interface', 'id'] as const,
    registers: [this.registry],
  });
  /** The sync daemons the config last loaded asks for. */
  private expectedSync: readonly SyncDaemon[] = [];

  /** Sets the sync daemons the config asks for (each loaded config). */
  expectSync(daemons: readonly SyncDaemon[]): void {
    this.expectedSync = daemons;
  }

  /**
   * The exposition text: the daemon's metrics, then the IPVS counters of
   * `live` when given. The sync daemon gauge is set from `live` first; without
   * it (the table could not be read) it has no values.
   */
  async text(live?: LiveState): Promise<string> {
    this.syncDaemonUp.reset();
    if (live) {
      for (const [d, up] of syncDaemonStates(this.expectedSync, live.syncDaemons ?? []))
        this.syncDaemonUp.set({ role: d.role, interface: d.interface, id: String(d.id) }, up ? 1 : 0);
    }
    return (await this.registry.metrics()) + (live ? ipvsMetricsText(live) : '');
  }
}

/**
 * Each sync daemon the config asks for, and whether the kernel runs it with
 * the config's settings (a daemon of its role with other settings is not
 * it). Pure.
 */
export function syncDaemonStates(
  expected: readonly SyncDaemon[],
  running: readonly SyncDaemon[],
): [SyncDaemon, boolean][] {
  return expected.map((d) => [d, running.some((r) => isSyncDaemon(d, r))]);
}

const SERVICE_COUNTERS: [keyof Stats, string, string][] = [
  ['connections', 'connections_total', 'Connections scheduled.'],
  ['packetsIn', 'incoming_packets_total', 'Incoming packets.'],
  ['packetsOut', 'outgoing_packets_total', 'Outgoing packets.'],
  ['bytesIn', 'incoming_bytes_total', 'Incoming bytes.'],
  ['bytesOut', 'outgoing_bytes_total', 'Outgoing bytes.'],
];

/**
 * IPVS statistics in Prometheus text format: per service
 * `lvsd_ipvs_service_*` counters, per real server `lvsd_ipvs_backend_*`
 * counters and the gauges node_exporter has (`connections_active`,
 * `connections_inactive`, `weight`). Pure.
 */
export function ipvsMetricsText(live: LiveState): string {
  const out: string[] = [];
  const svcLines = new Map<string, string[]>();
  const backendLines = new Map<string, string[]>();
  const push = (m: Map<string, string[]>, name: string, line: string) => {
    const list = m.get(name) ?? [];
    list.push(line);
    m.set(name, list);
  };
  for (const s of live.services) {
    const local =
      s.fwmark !== undefined
        ? { local_address: '', local_port: '0', proto: '', local_mark: String(s.fwmark) }
        : { local_address: s.address, local_port: String(s.port), proto: s.protocol.toUpperCase(), local_mark: '' };
    if (s.stats) {
      for (const [key, suffix] of SERVICE_COUNTERS)
        push(svcLines, `lvsd_ipvs_service_${suffix}`, `lvsd_ipvs_service_${suffix}${labels(local)} ${s.stats[key]}`);
    }
    for (const r of s.realservers) {
      const l = labels({ ...local, remote_address: r.address, remote_port: String(r.port) });
      push(
        backendLines,
        'lvsd_ipvs_backend_connections_active',
        `lvsd_ipvs_backend_connections_active${l} ${r.activeConnections}`,
      );
      push(
        backendLines,
        'lvsd_ipvs_backend_connections_inactive',
        `lvsd_ipvs_backend_connections_inactive${l} ${r.inactiveConnections}`,
      );
      push(backendLines, 'lvsd_ipvs_backend_weight', `lvsd_ipvs_backend_weight${l} ${r.weight}`);
      if (r.stats) {
        for (const [key, suffix] of SERVICE_COUNTERS)
          push(backendLines, `lvsd_ipvs_backend_${suffix}`, `lvsd_ipvs_backend_${suffix}${l} ${r.stats[key]}`);
      }
    }
  }
  for (const [, suffix, help] of SERVICE_COUNTERS)
    emit(out, `lvsd_ipvs_service_${suffix}`, `${help} Per virtual service.`, 'counter', svcLines);
  emit(out, 'lvsd_ipvs_backend_connections_active', 'Active connections per real server.', 'gauge', backendLines);
  emit(out, 'lvsd_ipvs_backend_connections_inactive', 'Inactive connections per real server.', 'gauge', backendLines);
  emit(out, 'lvsd_ipvs_backend_weight', 'Weight per real server.', 'gauge', backendLines);
  for (const [, suffix, help] of SERVICE_COUNTERS)
    emit(out, `lvsd_ipvs_backend_${suffix}`, `${help} Per real server.`, 'counter', backendLines);
  return out.join('');
}

function emit(
  out: string[],
  name: string,
  help: string,
  type: 'counter' | 'gauge',
  lines: Map<string, string[]>,
): void {
  out.push(`# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`);
  for (const l of lines.get(name) ?? []) out.push(l + '\n');
}

function labels(l: Record<string, string>): string {
  return (
    '{' +
    Object.entries(l)
      .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`)
      .join(',') +
    '}'
  );
}
