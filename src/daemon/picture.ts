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
  /** The service; its `realservers` are rebuilt from `rs` while it is in `dirty`. */
  service: LiveService;
  /** Its real servers by key: built on the first change to them (until then the read's list stands). */
  rs: Map<string, LiveRealServer> | undefined;
  /** Its place in `list`. */
  at: number;
}

export class Picture {
  /**
   * The services by key, built on the first operation after a read: a read
   * with nothing to change (a resync of an unchanged table) never indexes
   * its 100,000 real servers, nor copies them.
   */
  private entries: Map<string, Entry> | undefined;
  /** The services array handed out; rebuilt from `entries` when undefined (after a service was deleted). */
  private list: LiveService[] | undefined = [];
  /**
   * The entries whose real servers changed since the last state(): only
   * they are brought up to date, so a reconcile of one change costs the
   * picture what that change touched, not a walk of every service.
   */
  private readonly dirty = new Set<Entry>();
  private timeouts: Timeouts = { tcp: 0, tcpFin: 0, udp: 0 };
  /**
   * The sync daemons by role. One started by lvsd keeps what was sent: a
   * backup's maxlen, when none was sent, is the kernel's (unknown here, and
   * not compared by the diff).
   */
  private readonly sync = new Map<SyncDaemon['role'], SyncDaemon>();
  /** Why the picture cannot be trusted; undefined when it can. */
  private staleReason: string | undefined = 'never read';

  /** Why a full read is needed, or undefined when the picture is accurate. */
  get stale(): string | undefined {
    return this.staleReason;
  }

  /** How many services and real servers the picture holds. */
  get size(): { services: number; realservers: number } {
    let realservers = 0;
    const services = this.state0();
    for (const s of services) realservers += s.realservers.length;
    return { services: services.length, realservers };
  }

  /**
   * Starts over from a full read of the table. The picture takes the read's
   * objects as they are (nobody may change them afterwards): copying 100,000
   * real servers cost a resync more CPU than the read itself. A read with
   * traffic counters is copied without them (they take memory and the diff
   * never looks at them): read without.
   */
  replace(live: LiveState): void {
    this.entries = undefined;
    this.dirty.clear();
    this.list = live.services.map(withoutCounters);
    this.timeouts = { ...live.timeouts };
    this.sync.clear();
    for (const d of live.syncDaemons ?? []) this.sync.set(d.role, { ...d });
    this.staleReason = undefined;
  }

  /**
   * The table as last read and recorded, also when stale (for a new read to
   * reuse what did not change: ReadOptions.previous); undefined before the
   * first read. Read its objects, never change them.
   */
  known(): LiveState | undefined {
    if (this.staleReason === 'never read') return undefined;
    return { services: this.state0(), timeouts: { ...this.timeouts }, syncDaemons: [...this.sync.values()] };
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
    return { services: this.state0(), timeouts: { ...this.timeouts }, syncDaemons: [...this.sync.values()] };
  }

  /** The services, with the real servers of every changed one brought up to date. */
  private state0(): LiveService[] {
    if (!this.entries) return this.list ?? [];
    for (const e of this.dirty) if (e.rs) e.service.realservers = [...e.rs.values()];
    this.dirty.clear();
    if (!this.list) {
      this.list = [];
      for (const e of this.entries.values()) e.at = this.list.push(e.service) - 1;
    }
    return this.list;
  }

  /** Puts an entry's new service object where `old` was in the list (or has the list rebuilt). */
  private place(e: Entry, old: LiveService): void {
    if (this.list && this.list[e.at] === old) this.list[e.at] = e.service;
    else this.list = undefined;
  }

  /** The services by key, indexed now when not yet. */
  private index(): Map<string, Entry> {
    if (!this.entries) {
      this.entries = new Map();
      const list = this.list ?? [];
      for (let at = 0; at < list.length; at++)
        this.entries.set(serviceKey(list[at]!), { service: list[at]!, rs: undefined, at });
    }
    return this.entries;
  }

  /** The real servers of an entry by key; the service becomes the picture's own copy first. */
  private realServersOf(e: Entry): Map<string, LiveRealServer> {
    if (!e.rs) {
      e.rs = new Map();
      for (const r of e.service.realservers) e.rs.set(realServerKey(r), r);
      const old = e.service;
      e.service = { ...old, realservers: old.realservers };
      this.place(e, old);
    }
    return e.rs;
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

  private applySync(op: 'start-sync' | 'stop-sync', daemon: SyncDaemon): void {
    if (op === 'start-sync') {
      // The kernel starts a role only when none runs: the picture had one it did not.
      if (this.sync.has(daemon.role))
        this.invalidate(`the kernel ran no ${daemon.role} sync daemon, which lvsd's picture has`);
      this.sync.set(daemon.role, { ...daemon });
    } else if (!this.sync.delete(daemon.role)) {
      this.invalidate(`the kernel ran a ${daemon.role} sync daemon, which lvsd's picture lacks`);
    }
  }

  private apply(op: IpvsOp): void {
    const entries = this.index();
    switch (op.op) {
      case 'add-service':
      case 'edit-service': {
        const key = serviceKey(op.service);
        const e = entries.get(key);
        if (op.op === 'edit-service' && e) {
          this.realServersOf(e);
          const old = e.service;
          e.service = bareService(op.service);
          this.place(e, old);
          this.dirty.add(e);
          return;
        }
        // An add the kernel took means it had no such service; an edit it took means it had one.
        if (e) this.invalidate(`the kernel lacked service ${key}, which lvsd's picture has`);
        else if (op.op === 'edit-service') this.invalidate(`the kernel has service ${key}, which lvsd's picture lacks`);
        if (e) {
          const old = e.service;
          e.service = bareService(op.service);
          e.rs = new Map();
          this.place(e, old);
          this.dirty.add(e);
          return;
        }
        const added: Entry = { service: bareService(op.service), rs: new Map(), at: this.list?.length ?? 0 };
        entries.set(key, added);
        this.list?.push(added.service);
        this.dirty.add(added);
        return;
      }
      case 'delete-service': {
        const e = entries.get(serviceKey(op.service));
        if (!e) return;
        entries.delete(serviceKey(op.service));
        this.dirty.delete(e);
        this.list = undefined;
        return;
      }
      case 'add-realserver':
      case 'edit-realserver':
      case 'delete-realserver': {
        const e = entries.get(serviceKey(op.service));
        if (!e) {
          // The kernel applied it, so the service exists there: the picture missed it.
          this.invalidate(`the kernel has service ${serviceKey(op.service)}, which lvsd's picture lacks`);
          return;
        }
        const rs = this.realServersOf(e);
        const rk = realServerKey(op.realserver);
        if (op.op === 'delete-realserver') rs.delete(rk);
        else rs.set(rk, bareLive(op.realserver, rs.get(rk)));
        this.dirty.add(e);
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
      case 'stop-sync':
        this.applySync(op.op, op.daemon);
        return;
      case 'flush':
        entries.clear();
        this.dirty.clear();
        this.list = undefined;
        return;
    }
  }
}

/** The service as it is when neither it nor its real servers carry traffic counters, else a copy without them. */
function withoutCounters(s: LiveService): LiveService {
  if (s.stats === undefined && !s.realservers.some((r) => r.stats !== undefined)) return s;
  return { ...bareService(s), realservers: s.realservers.map((r) => bareLive(r, r)) };
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
