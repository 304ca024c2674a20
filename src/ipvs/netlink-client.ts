/**
 * The adapter: with connection.ts (its generic netlink sockets, replies
 * matched to requests by sequence number) the one place that imports
 * `netlink`. It reads the table and sends write operations in bounded,
 * batched windows. Encoding, decoding and the model mapping are pure
 * functions from codec.ts, map.ts and ../netlink/.
 */
import { LvsdError } from '../errors.js';
import type { IpvsOp, OpResult } from '../model/ops.js';
import type { LiveRealServer, LiveService, LiveState, ServiceId, SyncDaemon, Timeouts } from '../model/types.js';
import * as NL from '../netlink/constants.js';
import { isPermissionErrno, PERMISSION_DENIED } from '../netlink/errno.js';
import { errorCodeAt, type MessageView, parseGenl } from '../netlink/wire.js';
import { NetlinkWriter } from '../netlink/writer.js';
import type { IpvsClient, IpvsInfo, ReadOptions } from './client.js';
import { Connection, type Handler, KernelErrno, SEQ_SPAN } from './connection.js';
import {
  decodeDaemonReply,
  decodeDestReply,
  decodeInfo,
  decodeServiceReply,
  decodeTimeouts,
  encodeService,
  type IpvsServiceId,
  writeDaemon,
  writeDest,
  writeService,
  writeTimeouts,
} from './codec.js';
import * as K from './constants.js';
import { describeOp, kernelError } from './kernel-errors.js';
import { serviceKey } from '../model/keys.js';
import {
  fromKernelDaemon,
  fromKernelDest,
  fromKernelService,
  toKernelDaemon,
  sameLiveRealServer,
  sameLiveService,
  toKernelDest,
  toKernelDestId,
  toKernelService,
  toKernelServiceId,
} from './map.js';

export interface NetlinkIpvsOptions {
  /**
   * Write operations per sendmsg. Each window is awaited before the next is
   * sent, so at most this many error replies are ever queued in the socket.
   */
  windowSize?: number;
  /** A request without an answer after this long fails (ms). */
  timeoutMs?: number;
  /**
   * Sockets that read real servers side by side when the whole table is
   * read (one GET_DEST dump per service; the kernel runs one dump per
   * socket at a time).
   */
  dumpSockets?: number;
}

/** Write operations per sendmsg: measured no faster above this, and it bounds the queued error replies. */
export const DEFAULT_WINDOW = 200;
/** Side-by-side real server dumps when reading a table: measured best in UML at 10,000 services (docs/performance.md). */
export const DEFAULT_DUMP_SOCKETS = 16;

/**
 * Receive buffers. The kernel sizes a dump's skbs after the largest read the
 * socket has made (at most 32 KiB) and never below NLMSG_GOODSIZE (under
 * 8 KiB on every page size), so a reader with a buffer of at least 8 KiB
 * never sees a truncated dump. The native layer allocates a buffer of this
 * size for every read (also for the one that finds the socket empty), so
 * small buffers are much cheaper where one read carries little: the
 * per-service real server dumps (a few KiB each). The main socket keeps
 * 32 KiB for the one service dump, which can be megabytes.
 */
const MAIN_READ_BUFFER = 32768;
const DUMP_READ_BUFFER = 8192;

/** The answer of an operation that drew no error: shared, never changed. */
const OK: OpResult = Object.freeze({ ok: true as const });
const ignore = (): undefined => undefined;

/** The IPVS command that carries out each operation. */
const COMMAND: Record<IpvsOp['op'], number> = {
  'add-service': K.IPVS_CMD_NEW_SERVICE,
  'edit-service': K.IPVS_CMD_SET_SERVICE,
  'delete-service': K.IPVS_CMD_DEL_SERVICE,
  'add-realserver': K.IPVS_CMD_NEW_DEST,
  'edit-realserver': K.IPVS_CMD_SET_DEST,
  'delete-realserver': K.IPVS_CMD_DEL_DEST,
  'set-timeouts': K.IPVS_CMD_SET_CONFIG,
  'start-sync': K.IPVS_CMD_NEW_DAEMON,
  'stop-sync': K.IPVS_CMD_DEL_DAEMON,
  flush: K.IPVS_CMD_FLUSH,
};

/** The top-level attributes of a reply that is read rarely (info, config, family). */
const attrsOf = (m: MessageView) => parseGenl(m.buf.subarray(m.off, m.end)).attrs;
const decodeService = (m: MessageView): LiveService => fromKernelService(decodeServiceReply(m.buf, m.off, m.end));
const decodeServiceBare = (m: MessageView): LiveService =>
  fromKernelService(decodeServiceReply(m.buf, m.off, m.end, false));

/**
 * `read` with its real servers `realservers`, built of `old`'s objects where
 * they read the same (paired by position: the kernel lists a service's real
 * servers in the same order every time); `old` itself when all of it does.
 */
function reuse(old: LiveService, read: LiveService, realservers: LiveRealServer[]): LiveService {
  const had = old.realservers;
  let same = had.length === realservers.length && sameLiveService(old, read);
  for (let j = 0; j < realservers.length; j++) {
    const o = had[j];
    if (o !== undefined && sameLiveRealServer(o, realservers[j]!)) realservers[j] = o;
    else same = false;
  }
  if (same) return old;
  read.realservers = realservers;
  return read;
}

/** Opens the IPVS family. Throws IPVS_UNAVAILABLE when the kernel has none. */
export async function openIpvs(options: NetlinkIpvsOptions = {}): Promise<IpvsClient> {
  const conn = new Connection(options.timeoutMs ?? 30_000, MAIN_READ_BUFFER);
  try {
    const familyId = await conn.resolveFamily();
    return new NetlinkIpvsClient(
      conn,
      familyId,
      options.windowSize ?? DEFAULT_WINDOW,
      Math.max(1, options.dumpSockets ?? DEFAULT_DUMP_SOCKETS),
    );
  } catch (e) {
    conn.close();
    throw e;
  }
}

class NetlinkIpvsClient implements IpvsClient {
  /** Extra sockets for real server dumps, opened on the first whole-table read and kept. */
  private readonly dumpConns: Connection[] = [];

  constructor(
    private readonly conn: Connection,
    private readonly family: number,
    private readonly windowSize: number,
    private readonly dumpSockets: number,
  ) {}

  /**
   * Writes every request. A request is copied out (take) as soon as it is
   * whole, before anything awaits, so one writer serves all sockets.
   */
  private readonly out = new NetlinkWriter();

  /** One request message, with the service's identity when one is given. */
  private message(cmd: number, flags: number, seq: number, pid: number, service?: IpvsServiceId): Buffer {
    const w = this.out;
    w.reset();
    const m = w.beginMessage(this.family, flags, seq, pid, cmd, K.IPVS_GENL_VERSION);
    if (service) writeService(w, service, false);
    w.endMessage(m);
    return w.take();
  }

  private async get<T>(
    cmd: number,
    what: string,
    decode: (m: MessageView) => T,
    dump = false,
    conn = this.conn,
    service?: IpvsServiceId,
  ): Promise<T[]> {
    const flags = NL.NLM_F_REQUEST | (dump ? NL.NLM_F_DUMP : 0);
    try {
      return await conn.request((seq) => this.message(cmd, flags, seq, conn.pid, service), what, decode);
    } catch (e) {
      if (!(e instanceof KernelErrno)) throw e;
      if (isPermissionErrno(e.errno))
        throw new LvsdError('IPVS_PERMISSION', `${what}: ${PERMISSION_DENIED}`, { cause: e });
      throw new LvsdError('IPVS_KERNEL', `${what}: the kernel answered errno ${e.errno}`, {
        cause: e,
        details: { errno: e.errno },
      });
    }
  }

  async info(): Promise<IpvsInfo> {
    const [r] = await this.get(K.IPVS_CMD_GET_INFO, 'read IPVS info', (m) => decodeInfo(attrsOf(m)));
    return r!;
  }

  async timeouts(): Promise<Timeouts> {
    const [r] = await this.get(K.IPVS_CMD_GET_CONFIG, 'read IPVS timeouts', (m) => decodeTimeouts(attrsOf(m)));
    return r!;
  }

  async services(stats = true): Promise<LiveService[]> {
    return this.get(K.IPVS_CMD_GET_SERVICE, 'list services', stats ? decodeService : decodeServiceBare, true);
  }

  async syncDaemons(): Promise<SyncDaemon[]> {
    return this.get(
      K.IPVS_CMD_GET_DAEMON,
      'list sync daemons',
      (m) => fromKernelDaemon(decodeDaemonReply(m.buf, m.off, m.end)),
      true,
    );
  }

  async realServers(service: ServiceId, conn = this.conn, stats = true): Promise<LiveRealServer[]> {
    const id = toKernelServiceId(service);
    return this.get(
      K.IPVS_CMD_GET_DEST,
      'list real servers',
      (m) => fromKernelDest(decodeDestReply(m.buf, m.off, m.end, id.af, stats)),
      true,
      conn,
      id,
    );
  }

  /**
   * The service dump, then one real server dump per service. Each socket runs
   * one dump at a time (the kernel answers EBUSY to a second one), so the
   * per-service dumps go out over a small pool of sockets side by side: the
   * kernel answers each dump as soon as it is asked, and one wake-up of the
   * event loop then serves many sockets. A service deleted between the two
   * dumps reads as having no real servers (the kernel ends its dump empty).
   */
  async readTable(options: ReadOptions = {}): Promise<LiveState> {
    const stats = options.stats ?? true;
    const services = await this.services(stats);
    const previous = options.previous && new Map(options.previous.services.map((s) => [serviceKey(s), s]));
    const conns = this.dumpPool(Math.min(this.dumpSockets, services.length));
    let next = 0;
    const worker = async (conn: Connection): Promise<void> => {
      while (next < services.length) {
        const i = next++;
        const s = services[i]!;
        const realservers = await this.realServers(s, conn, stats);
        const old = previous?.get(serviceKey(s));
        if (old) services[i] = reuse(old, s, realservers);
        else s.realservers = realservers;
      }
    };
    await Promise.all(conns.map(worker));
    return { services, timeouts: await this.timeouts(), syncDaemons: await this.syncDaemons() };
  }

  private dumpPool(n: number): Connection[] {
    while (this.dumpConns.length < n) this.dumpConns.push(new Connection(this.conn.timeoutMs, DUMP_READ_BUFFER));
    return this.dumpConns.slice(0, n);
  }

  async execute(ops: readonly IpvsOp[]): Promise<OpResult[]> {
    const results: OpResult[] = [];
    // A plan names a service by one object in all its real server operations: encode its id once.
    const ids = new Map<ServiceId, Buffer>();
    for (let i = 0; i < ops.length; i += this.windowSize) {
      results.push(...(await this.window(ops.slice(i, i + this.windowSize), ids)));
    }
    return results;
  }

  /**
   * One sendmsg carrying the window's operations without NLM_F_ACK, closed by
   * a GET_INFO request. The kernel handles a buffer's messages in order and
   * answers only the failing ones, so the GET_INFO reply means every earlier
   * message was processed and every error for them has arrived. The messages
   * are written into one buffer; one handler serves the window's sequence
   * numbers, which are consecutive (modulo the wrap after 0x7fffffff).
   */
  private window(ops: readonly IpvsOp[], ids: Map<ServiceId, Buffer>): Promise<OpResult[]> {
    const results: OpResult[] = new Array<OpResult>(ops.length).fill(OK);
    const conn = this.conn;
    let first = 0;
    const handler: Handler = (m) => {
      const i = m instanceof LvsdError ? -1 : (((m.seq - first) % SEQ_SPAN) + SEQ_SPAN) % SEQ_SPAN;
      if (m instanceof LvsdError) {
        // The socket failed: every operation without an answer yet shares the failure.
        for (let j = 0; j < ops.length; j++) {
          if (results[j]!.ok)
            results[j] = {
              ok: false,
              error: new LvsdError(m.code, `${describeOp(ops[j]!)}: ${m.message}`, { cause: m }),
            };
        }
      } else if (m.type === NL.NLMSG_ERROR && i < ops.length) {
        const errno = errorCodeAt(m.buf, m.off);
        if (errno) results[i] = { ok: false, error: kernelError(errno, ops[i]!) };
      }
    };
    const w = this.out;
    let registered = 0;
    const release = (): void => {
      for (let i = 0, seq = first; i < registered; i++, seq = seq >= SEQ_SPAN ? 1 : seq + 1) conn.off(seq);
    };
    w.reset();
    try {
      for (let i = 0; i < ops.length; i++) {
        const seq = conn.nextSeq();
        if (i === 0) first = seq;
        conn.on(seq, handler);
        registered++;
        this.writeOp(w, ops[i]!, seq, ids);
      }
    } catch (e) {
      // An operation that cannot be encoded (not an address): nothing of the window is sent.
      release();
      w.reset();
      throw e;
    }
    // request() builds synchronously: GET_INFO joins the operations already written, and take() copies them all out.
    return conn
      .request(
        (seq) => {
          const m = w.beginMessage(
            this.family,
            NL.NLM_F_REQUEST,
            seq,
            conn.pid,
            K.IPVS_CMD_GET_INFO,
            K.IPVS_GENL_VERSION,
          );
          w.endMessage(m);
          return w.take();
        },
        'write batch',
        ignore,
      )
      .then(
        () => {
          release();
          return results;
        },
        (e: unknown) => {
          release();
          // GET_INFO refused for lack of privilege: every operation of the window was refused the same way.
          if (e instanceof KernelErrno && isPermissionErrno(e.errno))
            return ops.map((op) => ({ ok: false as const, error: kernelError(e.errno, op) }));
          throw e;
        },
      );
  }

  /** One operation's message into the writer. */
  private writeOp(w: NetlinkWriter, op: IpvsOp, seq: number, ids: Map<ServiceId, Buffer>): void {
    const serviceId = (service: ServiceId): Buffer => {
      let b = ids.get(service);
      if (!b) ids.set(service, (b = encodeService(toKernelServiceId(service), false)));
      return b;
    };
    const m = w.beginMessage(this.family, NL.NLM_F_REQUEST, seq, this.conn.pid, COMMAND[op.op], K.IPVS_GENL_VERSION);
    switch (op.op) {
      case 'add-service':
      case 'edit-service':
        writeService(w, toKernelService(op.service), true);
        break;
      case 'delete-service':
        writeService(w, toKernelServiceId(op.service), false);
        break;
      case 'add-realserver':
      case 'edit-realserver':
        w.raw(serviceId(op.service));
        writeDest(w, toKernelDest(op.realserver), true);
        break;
      case 'delete-realserver':
        w.raw(serviceId(op.service));
        writeDest(w, toKernelDestId(op.realserver), false);
        break;
      case 'set-timeouts':
        writeTimeouts(w, op.timeouts);
        break;
      case 'start-sync':
      case 'stop-sync':
        writeDaemon(w, toKernelDaemon(op.daemon), op.op === 'start-sync');
        break;
      case 'flush':
        break;
    }
    w.endMessage(m);
  }

  close(): void {
    this.conn.close();
    for (const c of this.dumpConns) c.close();
    this.dumpConns.length = 0;
  }
}
