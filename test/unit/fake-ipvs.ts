/**
 * An in-memory IPVS table with the kernel's rules for the operations lvsd
 * sends: adds of existing objects fail EXISTS, edits and deletes of missing
 * ones fail NOT_FOUND, bad thresholds and unknown schedulers fail INVALID,
 * and deleting a service takes its real servers with it. Counts what it is
 * sent, so tests can assert on operations.
 */
import { LvsdError } from '../../src/errors.js';
import type { IpvsClient, IpvsInfo } from '../../src/ipvs/client.js';
import type { IpvsOp, OpResult } from '../../src/model/ops.js';
import { bareRealServer, bareService, realServerKey, serviceKey } from '../../src/model/keys.js';
import type {
  LiveRealServer,
  LiveService,
  LiveState,
  RealServer,
  Service,
  ServiceEntry,
  ServiceId,
  SyncDaemon,
  Timeouts,
} from '../../src/model/types.js';

/** The kernel's timeouts after boot. */
export const KERNEL_TIMEOUTS: Timeouts = { tcp: 900, tcpFin: 120, udp: 300 };

export interface FakeIpvsOptions {
  /** Schedulers this "kernel" has no module for: add/edit-service with them fail IPVS_INVALID. */
  unknownSchedulers?: Iterable<string>;
  /** The table to start from. */
  table?: { services: readonly ServiceEntry[]; timeouts?: Timeouts };
  /** Sync daemons running at the start. */
  syncDaemons?: readonly SyncDaemon[];
  /** Fails chosen operations on purpose; return undefined to let the op through. */
  fail?: (op: IpvsOp) => LvsdError | undefined;
}

interface Entry {
  service: Service;
  realservers: Map<string, RealServer>;
}

function live(r: RealServer): LiveRealServer {
  return { ...bareRealServer(r), activeConnections: 0, inactiveConnections: 0, persistentConnections: 0 };
}

/** In-memory IpvsClient with kernel semantics. */
export class FakeIpvs implements IpvsClient {
  /** Every operation received by execute, in order. */
  readonly sent: IpvsOp[] = [];
  /** How many times execute was called (one per batch). */
  executeCalls = 0;
  private readonly table = new Map<string, Entry>();
  /** The running sync daemons by role (the kernel runs one per role). */
  readonly daemons = new Map<SyncDaemon['role'], SyncDaemon>();
  private tmo: Timeouts;
  private readonly unknownSchedulers: Set<string>;
  private readonly fail: ((op: IpvsOp) => LvsdError | undefined) | undefined;

  constructor(options: FakeIpvsOptions = {}) {
    this.unknownSchedulers = new Set(options.unknownSchedulers ?? []);
    this.fail = options.fail;
    this.tmo = { ...(options.table?.timeouts ?? KERNEL_TIMEOUTS) };
    for (const d of options.syncDaemons ?? []) this.daemons.set(d.role, { ...d });
    for (const s of options.table?.services ?? []) {
      this.table.set(serviceKey(s), {
        service: bareService(s),
        realservers: new Map(s.realservers.map((r) => [realServerKey(r), bareRealServer(r)])),
      });
    }
  }

  /** How many operations execute has received. */
  get opsExecuted(): number {
    return this.sent.length;
  }

  async info(): Promise<IpvsInfo> {
    return { version: '1.2.1', connTableSize: 4096 };
  }

  async timeouts(): Promise<Timeouts> {
    return { ...this.tmo };
  }

  async services(): Promise<LiveService[]> {
    return [...this.table.values()].map((e) => ({ ...bareService(e.service), realservers: [] }));
  }

  async realServers(service: ServiceId): Promise<LiveRealServer[]> {
    const e = this.table.get(serviceKey(service));
    if (!e) throw this.err('IPVS_NOT_FOUND', `no service ${serviceKey(service)}`);
    return [...e.realservers.values()].map(live);
  }

  async syncDaemons(): Promise<SyncDaemon[]> {
    return [...this.daemons.values()].map((d) => ({ ...d }));
  }

  async readTable(): Promise<LiveState> {
    return { services: this.snapshot(), timeouts: { ...this.tmo }, syncDaemons: await this.syncDaemons() };
  }

  /** The table as read, synchronously (for assertions). */
  snapshot(): LiveService[] {
    return [...this.table.values()].map((e) => ({
      ...bareService(e.service),
      realservers: [...e.realservers.values()].map(live),
    }));
  }

  async execute(ops: readonly IpvsOp[]): Promise<OpResult[]> {
    this.executeCalls++;
    return ops.map((op) => {
      this.sent.push(op);
      const error = this.fail?.(op) ?? this.run(op);
      return error ? { ok: false, error } : { ok: true };
    });
  }

  close(): void {}

  private err(
    code: 'IPVS_EXISTS' | 'IPVS_NOT_FOUND' | 'IPVS_INVALID',
    message: string,
    details: Record<string, unknown> = {},
  ): LvsdError {
    return new LvsdError(code, message, { details });
  }

  /** Applies one operation; returns the error the kernel would give, if any. */
  private run(op: IpvsOp): LvsdError | undefined {
    switch (op.op) {
      case 'flush':
        this.table.clear();
        return undefined;
      case 'set-timeouts':
        // The kernel leaves a timeout alone when it is absent or 0.
        for (const k of ['tcp', 'tcpFin', 'udp'] as const) {
          const v = op.timeouts[k];
          if (v) this.tmo[k] = v;
        }
        return undefined;
      case 'start-sync':
      case 'stop-sync':
        return this.runSync(op);
      case 'add-service':
      case 'edit-service': {
        const key = serviceKey(op.service);
        const exists = this.table.has(key);
        if (op.op === 'add-service' && exists)
          return this.err('IPVS_EXISTS', `service ${key} exists`, { service: key });
        if (op.op === 'edit-service' && !exists)
          return this.err('IPVS_NOT_FOUND', `no service ${key}`, { service: key });
        if (this.unknownSchedulers.has(op.service.scheduler)) {
          return this.err('IPVS_INVALID', `unknown scheduler ${op.service.scheduler}`, { service: key });
        }
        const realservers = this.table.get(key)?.realservers ?? new Map<string, RealServer>();
        this.table.set(key, { service: bareService(op.service), realservers });
        return undefined;
      }
      case 'delete-service': {
        const key = serviceKey(op.service);
        if (!this.table.delete(key)) return this.err('IPVS_NOT_FOUND', `no service ${key}`, { service: key });
        return undefined;
      }
      case 'add-realserver':
      case 'edit-realserver':
      case 'delete-realserver': {
        const key = serviceKey(op.service);
        const e = this.table.get(key);
        if (!e) return this.err('IPVS_NOT_FOUND', `no service ${key}`, { service: key });
        const rk = realServerKey(op.realserver);
        const where = { service: key, realserver: rk };
        const exists = e.realservers.has(rk);
        if (op.op === 'delete-realserver') {
          if (!exists) return this.err('IPVS_NOT_FOUND', `no real server ${rk} in ${key}`, where);
          e.realservers.delete(rk);
          return undefined;
        }
        if (op.op === 'add-realserver' && exists)
          return this.err('IPVS_EXISTS', `real server ${rk} exists in ${key}`, where);
        if (op.op === 'add-realserver' && this.daemons.size > 0 && op.realserver.family !== e.service.family)
          return this.err('IPVS_INVALID', `mixed family real server ${rk} while sync runs`, where);
        if (op.op === 'edit-realserver' && !exists)
          return this.err('IPVS_NOT_FOUND', `no real server ${rk} in ${key}`, where);
        const r = op.realserver;
        if (r.upperThreshold !== 0 && r.lowerThreshold > r.upperThreshold) {
          return this.err('IPVS_INVALID', `lower threshold ${r.lowerThreshold} above upper ${r.upperThreshold}`, where);
        }
        e.realservers.set(rk, bareRealServer(r));
        return undefined;
      }
    }
  }

  /** The kernel's sync daemon rules: one per role, no start while a service mixes families. */
  private runSync(op: IpvsOp & { op: 'start-sync' | 'stop-sync' }): LvsdError | undefined {
    const role = op.daemon.role;
    if (op.op === 'stop-sync') {
      if (!this.daemons.delete(role)) return this.err('IPVS_NOT_FOUND', `no ${role} sync daemon`);
      return undefined;
    }
    if (this.daemons.has(role)) return this.err('IPVS_EXISTS', `a ${role} sync daemon runs`);
    const mixed = [...this.table.values()].some((e) =>
      [...e.realservers.values()].some((r) => r.family !== e.service.family),
    );
    if (mixed) return this.err('IPVS_INVALID', 'a service mixes address families');
    // The kernel fills in a backup's maxlen from the interface's MTU (1500 here).
    const maxlen = op.daemon.maxlen ?? 1500 - (op.daemon.group.includes(':') ? 48 : 28);
    this.daemons.set(role, { ...op.daemon, maxlen });
    return undefined;
  }
}

// Compile-time proof that the fake is a drop-in IpvsClient.
const _check: IpvsClient = new FakeIpvs();
void _check;
