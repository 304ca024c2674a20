/**
 * The daemon's picture of the kernel's IPVS table: the last full read, kept
 * up to date by applying the operations the kernel confirmed. A file change
 * then needs no read of the whole table (at 10,000 services that read costs
 * seconds; the diff against the picture costs milliseconds).
 *
 * The picture is only as good as its evidence, so it goes stale, and the
 * next reconcile reads the table again, when:
 * - the kernel contradicts it: an add answered IPVS_EXISTS, or an edit or
 *   delete answered IPVS_NOT_FOUND (someone else changed the table);
 * - the outcome of an operation is unknown (the batch could not be sent,
 *   the socket failed: IPVS_IO, IPVS_PROTOCOL, or any code not known to
 *   leave the table as it was);
 * - nobody ever read the table (a new picture).
 * Operations the kernel refused for what they are (IPVS_INVALID,
 * IPVS_PERMISSION, ...) left the table as it was, and so does an operation
 * never sent (APPLY_SKIPPED): the picture stays right.
 *
 * Changes made behind lvsd's back that the kernel does not contradict are
 * found by the next full read (resync, SIGHUP, restart), as before.
 *
 * Counters (stats, connection counts) are not kept: the diff does not use them.
 */
import type { ErrorCode, LvsdError } from '../errors.js';
import type { IpvsOp } from '../model/ops.js';
import { bareRealServer, bareService as bareKernelService, realServerKey, serviceKey } from '../model/keys.js';
import type {
  LiveRealServer,
  LiveService,
  LiveState,
  RealServer,
  Service,
  SyncDaemon,
  Timeouts,
} from '../model/types.js';

/** One operation and what became of it (apply's ChangeResult, by its op). */
export interface OpOutcome {
  op: IpvsOp;
  /** ok: applied; failed: the kernel (or the socket) said no; skipped: never sent. */
  status: 'ok' | 'failed' | 'skipped';
  error?: LvsdError;
}

/** Failures that leave the kernel's table exactly as it was. */
const TABLE_UNCHANGED: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'IPVS_INVALID',
  'IPVS_PERMISSION',
  'IPVS_BUSY',
  'IPVS_KERNEL',
  'IPVS_UNAVAILABLE',
  'APPLY_SKIPPED',
]);

interface Entry {
  /** The service, its `realservers` rebuilt from `rs` when `dirty`. */
  service: LiveService;
  rs: Map<string, LiveRealServer>;
  dirty: boolean;
}

export class Picture {
  private readonly entries = new Map<string, Entry>();
  private timeouts: Timeouts = { tcp: 0, tcpFin: 0, udp: 0 };
  /**
   * The sync daemons by role. One started by lvsd keeps what was sent: a
   * backup's maxlen, when none was sent, is the kernel's (unknown here, and
   * not compared by the diff).
   */
  private readonly sync = new Map<SyncDaemon['role'], SyncDaemon>();
  /** Why the picture cannot be trusted; undefined when it can. */
  private staleReason: string | undefined = 'never read';
  /** The services array handed out last; rebuilt after a service is added or deleted. */
  private list: LiveService[] | undefined;

  /** Why a full read is needed, or undefined when the picture is accurate. */
  get stale(): string | undefined {
    return this.staleReason;
  }

  /** How many services and real servers the picture holds. */
  get size(): { services: number; realservers: number } {
    let realservers = 0;
    for (const e of this.entries.values()) realservers += e.rs.size;
    return { services: this.entries.size, realservers };
  }

  /** Starts over from a full read of the table. */
  replace(live: LiveState): void {
    this.entries.clear();
    this.list = undefined;
    for (const s of live.services) {
      const rs = new Map<string, LiveRealServer>();
      for (const r of s.realservers) rs.set(realServerKey(r), bareLive(r, r));
      this.entries.set(serviceKey(s), { service: bareService(s), rs, dirty: true });
    }
    this.timeouts = { ...live.timeouts };
    this.sync.clear();
    for (const d of live.syncDaemons ?? []) this.sync.set(d.role, { ...d });
    this.staleReason = undefined;
  }

  /** Makes the next reconcile read the table. */
  invalidate(reason: string): void {
    this.staleReason ??= reason;
  }

  /**
   * The table as the picture has it, for the diff; undefined when stale.
   * The objects are the picture's own: read them, never change them.
   */
  state(): LiveState | undefined {
    if (this.staleReason !== undefined) return undefined;
    if (!this.list) {
      this.list = [];
      for (const e of this.entries.values()) this.list.push(e.service);
    }
    for (const e of this.entries.values()) {
      if (e.dirty) {
        e.service.realservers = [...e.rs.values()];
        e.dirty = false;
      }
    }
    return { services: this.list, timeouts: { ...this.timeouts }, syncDaemons: [...this.sync.values()] };
  }

  /**
   * Applies what the kernel confirmed, in the order sent. Returns the reason
   * the picture went stale, or undefined when it is still accurate.
   */
  record(outcomes: Iterable<OpOutcome>): string | undefined {
    for (const o of outcomes) {
      if (o.status === 'ok') {
        this.apply(o.op);
        continue;
      }
      const code = o.error?.code;
      if (code === 'IPVS_EXISTS' || code === 'IPVS_NOT_FOUND') {
        this.invalidate(`the kernel contradicted lvsd's picture of the table (${code}: ${o.error!.message})`);
      } else if (o.status === 'failed' && (code === undefined || !TABLE_UNCHANGED.has(code))) {
        this.invalidate(
          `the outcome of an operation is unknown (${code ?? 'no error code'}: ${o.error?.message ?? ''})`,
        );
      }
    }
    return this.staleReason;
  }

  private apply(op: IpvsOp): void {
    switch (op.op) {
      case 'add-service':
      case 'edit-service': {
        const key = serviceKey(op.service);
        const e = this.entries.get(key);
        this.list = undefined;
        if (op.op === 'edit-service' && e) {
          e.service = bareService(op.service);
          e.dirty = true;
          return;
        }
        // An add the kernel took means it had no such service; an edit it took means it had one.
        if (e) this.invalidate(`the kernel lacked service ${key}, which lvsd's picture has`);
        else if (op.op === 'edit-service') this.invalidate(`the kernel has service ${key}, which lvsd's picture lacks`);
        this.entries.set(key, { service: bareService(op.service), rs: new Map(), dirty: true });
        return;
      }
      case 'delete-service':
        if (this.entries.delete(serviceKey(op.service))) this.list = undefined;
        return;
      case 'add-realserver':
      case 'edit-realserver':
      case 'delete-realserver': {
        const e = this.entries.get(serviceKey(op.service));
        if (!e) {
          // The kernel applied it, so the service exists there: the picture missed it.
          this.invalidate(`the kernel has service ${serviceKey(op.service)}, which lvsd's picture lacks`);
          return;
        }
        const rk = realServerKey(op.realserver);
        if (op.op === 'delete-realserver') e.rs.delete(rk);
        else e.rs.set(rk, bareLive(op.realserver, e.rs.get(rk)));
        e.dirty = true;
        return;
      }
      case 'set-timeouts':
        // The kernel leaves a timeout alone when it is absent or 0.
        for (const k of ['tcp', 'tcpFin', 'udp'] as const) {
          const v = op.timeouts[k];
          if (v) this.timeouts[k] = v;
        }
        return;
      case 'start-sync':
        // The kernel starts a role only when none runs: the picture had one it did not.
        if (this.sync.has(op.daemon.role))
          this.invalidate(`the kernel ran no ${op.daemon.role} sync daemon, which lvsd's picture has`);
        this.sync.set(op.daemon.role, { ...op.daemon });
        return;
      case 'stop-sync':
        if (!this.sync.delete(op.daemon.role))
          this.invalidate(`the kernel ran a ${op.daemon.role} sync daemon, which lvsd's picture lacks`);
        return;
      case 'flush':
        this.entries.clear();
        this.list = undefined;
        return;
    }
  }
}

/** A service without counters or real servers. */
function bareService(s: Service): LiveService {
  return { ...bareKernelService(s), realservers: [] };
}

/** A real server without stats; connection counts from `counts` when known (they do not take part in the diff). */
function bareLive(r: RealServer, counts: Partial<LiveRealServer> | undefined): LiveRealServer {
  return {
    ...bareRealServer(r),
    activeConnections: counts?.activeConnections ?? 0,
    inactiveConnections: counts?.inactiveConnections ?? 0,
    persistentConnections: counts?.persistentConnections ?? 0,
  };
}
