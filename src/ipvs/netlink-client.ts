/**
 * The adapter: the one module that imports `netlink`. It owns a generic
 * netlink socket, matches replies to requests by sequence number, and sends
 * write operations in bounded, batched windows. Encoding, decoding and the
 * model mapping are pure functions from codec.ts, wire.ts and map.ts.
 */
import { RawNetlinkSocket } from 'netlink';
import { LvsdError } from '../errors.js';
import type { LiveRealServer, LiveService, LiveState, ServiceId, Timeouts } from '../model/types.js';
import type { IpvsClient, IpvsInfo, IpvsOp, OpResult } from './client.js';
import {
  decodeDest, decodeFamily, decodeInfo, decodeService, decodeTimeouts, encodeDest, encodeService, encodeTimeouts, getFamilyMessage, ipvsMessage,
} from './codec.js';
import * as K from './constants.js';
import { describeOp, kernelError } from './kernel-errors.js';
import { fromKernelDest, fromKernelService, toKernelDest, toKernelDestId, toKernelService, toKernelServiceId } from './map.js';
import { errorCode, parseGenl, parseMessages, type RawMessage } from './wire.js';

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
/** The request watchdog runs this many times per timeout. */
const WATCHDOG_TICKS = 4;
const DUMP_READ_BUFFER = 8192;

/** A reply, or the failure of the socket itself. */
type Handler = (m: RawMessage | LvsdError) => void;

/** The kernel answered a request with an errno. */
class KernelErrno extends Error {
  constructor(what: string, readonly errno: number) {
    super(`${what}: errno ${errno}`);
  }
}

/** Opens the IPVS family. Throws IPVS_UNAVAILABLE when the kernel has none. */
export async function openIpvs(options: NetlinkIpvsOptions = {}): Promise<IpvsClient> {
  const conn = new Connection(options.timeoutMs ?? 30_000, MAIN_READ_BUFFER);
  try {
    const familyId = await conn.resolveFamily();
    return new NetlinkIpvsClient(conn, familyId, options.windowSize ?? DEFAULT_WINDOW, Math.max(1, options.dumpSockets ?? DEFAULT_DUMP_SOCKETS));
  } catch (e) {
    conn.close();
    throw e;
  }
}

/** A generic netlink socket with replies routed to their requests by sequence number. */
class Connection {
  private readonly sock: RawNetlinkSocket;
  private readonly handlers = new Map<number, Handler>();
  private seq = 1;
  readonly pid: number;
  /**
   * Requests waiting for an answer, with the watchdog tick they began in.
   * One interval timer for all of them rather than a timer per request:
   * arming a timer reads the clock, which is a system call where there is
   * no vDSO (User-Mode Linux), and a table read makes a request per service.
   */
  private readonly pending = new Map<number, { tick: number; expire: () => void }>();
  private watchdog: NodeJS.Timeout | undefined;
  private tick = 0;

  constructor(readonly timeoutMs: number, readBuffer: number) {
    try {
      this.sock = new RawNetlinkSocket(K.NETLINK_GENERIC, { messagePeeking: false, msgBufferSize: readBuffer, recvBufferSize: 1 << 20, sendBufferSize: 1 << 20 });
    } catch (e) {
      throw new LvsdError('IPVS_IO', `cannot open a generic netlink socket: ${(e as Error).message}`, { cause: e });
    }
    this.pid = this.sock.address().port;
    this.sock.unref();
    this.sock.on('message', (buf) => this.dispatch(buf));
    this.sock.on('truncatedMessage', () => this.failAll(new LvsdError('IPVS_PROTOCOL', 'a netlink reply was truncated')));
    // Without this listener a receive error (ENOBUFS) would be thrown from the native layer.
    this.sock.on('error', (err) => this.failAll(new LvsdError('IPVS_IO', `netlink socket error: ${err.message}`, { cause: err })));
  }

  nextSeq(): number {
    const s = this.seq;
    this.seq = this.seq >= 0x7fffffff ? 1 : this.seq + 1;
    return s;
  }

  on(seq: number, h: Handler): void {
    if (this.handlers.size === 0) this.sock.ref();
    this.handlers.set(seq, h);
  }

  off(seq: number): void {
    this.handlers.delete(seq);
    if (this.handlers.size === 0) this.sock.unref();
  }

  send(buf: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.sock.send(buf, {}, (err) => (err ? reject(new LvsdError('IPVS_IO', `netlink send failed: ${err.message}`, { cause: err })) : resolve()));
    });
  }

  /**
   * Sends one request and collects its answer: a single reply, a multi-part
   * dump until NLMSG_DONE, or an error.
   */
  request(build: (seq: number) => Buffer, what: string): Promise<RawMessage[]> {
    const seq = this.nextSeq();
    return new Promise<RawMessage[]>((resolve, reject) => {
      const parts: RawMessage[] = [];
      this.watch(seq, () => finish(new LvsdError('IPVS_IO', `${what}: no answer from the kernel within ${this.timeoutMs} ms`)));
      const finish = (err?: Error): void => {
        this.pending.delete(seq);
        this.off(seq);
        if (err) reject(err); else resolve(parts);
      };
      this.on(seq, (m) => {
        if (m instanceof LvsdError) {
          finish(m);
        } else if (m.type === K.NLMSG_ERROR) {
          const errno = errorCode(m);
          finish(errno ? new KernelErrno(what, errno) : undefined);
        } else if (m.type === K.NLMSG_DONE) {
          finish();
        } else {
          parts.push(m);
          if (!(m.flags & K.NLM_F_MULTI)) finish();
        }
      });
      this.send(build(seq)).catch(finish);
    });
  }

  /** A request fails after timeoutMs to 1.25 x timeoutMs without its answer. */
  private watch(seq: number, expire: () => void): void {
    this.pending.set(seq, { tick: this.tick, expire });
    if (this.watchdog) return;
    this.watchdog = setInterval(() => {
      this.tick++;
      if (this.pending.size === 0) {
        clearInterval(this.watchdog);
        this.watchdog = undefined;
        return;
      }
      for (const p of [...this.pending.values()]) if (this.tick - p.tick > WATCHDOG_TICKS) p.expire();
    }, this.timeoutMs / WATCHDOG_TICKS);
    // The socket is referenced while requests wait; the watchdog alone keeps nothing alive.
    this.watchdog.unref();
  }

  async resolveFamily(): Promise<number> {
    try {
      const [reply] = await this.request((seq) => getFamilyMessage({ flags: K.NLM_F_REQUEST, seq, pid: this.pid }, K.IPVS_GENL_NAME), 'resolve IPVS family');
      return decodeFamily(parseGenl(reply!.payload).attrs).id;
    } catch (e) {
      if (e instanceof KernelErrno && e.errno === 2) {
        throw new LvsdError('IPVS_UNAVAILABLE', 'IPVS is not available in this kernel (try: modprobe ip_vs)', { cause: e });
      }
      throw e;
    }
  }

  private dispatch(buf: Buffer): void {
    let msgs: RawMessage[];
    try {
      msgs = parseMessages(buf);
    } catch (e) {
      this.failAll(new LvsdError('IPVS_PROTOCOL', `malformed netlink reply: ${(e as Error).message}`, { cause: e }));
      return;
    }
    for (const m of msgs) this.handlers.get(m.seq)?.(m);
  }

  private failAll(err: LvsdError): void {
    for (const h of [...this.handlers.values()]) h(err);
  }

  close(): void {
    clearInterval(this.watchdog);
    this.watchdog = undefined;
    this.sock.close();
  }
}

class NetlinkIpvsClient implements IpvsClient {
  /** Extra sockets for real server dumps, opened on the first whole-table read and kept. */
  private readonly dumpConns: Connection[] = [];

  constructor(private readonly conn: Connection, private readonly family: number, private readonly windowSize: number, private readonly dumpSockets: number) {}

  private async get(cmd: number, attrs: Buffer[], what: string, dump = false, conn = this.conn): Promise<RawMessage[]> {
    const flags = K.NLM_F_REQUEST | (dump ? K.NLM_F_DUMP : 0);
    try {
      return await conn.request((seq) => ipvsMessage({ type: this.family, flags, seq, pid: conn.pid }, cmd, attrs), what);
    } catch (e) {
      if (!(e instanceof KernelErrno)) throw e;
      if (e.errno === 1 || e.errno === 13) throw new LvsdError('IPVS_PERMISSION', `${what}: permission denied: lvsd needs root or CAP_NET_ADMIN`, { cause: e });
      throw new LvsdError('IPVS_KERNEL', `${what}: the kernel answered errno ${e.errno}`, { cause: e, details: { errno: e.errno } });
    }
  }

  async info(): Promise<IpvsInfo> {
    const [r] = await this.get(K.IPVS_CMD_GET_INFO, [], 'read IPVS info');
    return decodeInfo(parseGenl(r!.payload).attrs);
  }

  async timeouts(): Promise<Timeouts> {
    const [r] = await this.get(K.IPVS_CMD_GET_CONFIG, [], 'read IPVS timeouts');
    return decodeTimeouts(parseGenl(r!.payload).attrs);
  }

  async services(): Promise<LiveService[]> {
    const replies = await this.get(K.IPVS_CMD_GET_SERVICE, [], 'list services', true);
    return replies.map((r) => fromKernelService(decodeService(parseGenl(r.payload).attrs)));
  }

  async realServers(service: ServiceId, conn = this.conn): Promise<LiveRealServer[]> {
    const id = toKernelServiceId(service);
    const replies = await this.get(K.IPVS_CMD_GET_DEST, [encodeService(id, false)], 'list real servers', true, conn);
    return replies.map((r) => fromKernelDest(decodeDest(parseGenl(r.payload).attrs, id.af)));
  }

  /**
   * The service dump, then one real server dump per service. Each socket runs
   * one dump at a time (the kernel answers EBUSY to a second one), so the
   * per-service dumps go out over a small pool of sockets side by side: the
   * kernel answers each dump as soon as it is asked, and one wake-up of the
   * event loop then serves many sockets. A service deleted between the two
   * dumps reads as having no real servers (the kernel ends its dump empty).
   */
  async readTable(): Promise<LiveState> {
    const services = await this.services();
    const conns = this.dumpPool(Math.min(this.dumpSockets, services.length));
    let next = 0;
    const worker = async (conn: Connection): Promise<void> => {
      while (next < services.length) {
        const s = services[next++]!;
        s.realservers = await this.realServers(s, conn);
      }
    };
    await Promise.all(conns.map(worker));
    return { services, timeouts: await this.timeouts() };
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
   * message was processed and every error for them has arrived.
   */
  private window(ops: readonly IpvsOp[], ids: Map<ServiceId, Buffer>): Promise<OpResult[]> {
    const results: OpResult[] = ops.map(() => ({ ok: true }));
    const seqs: number[] = [];
    const msgs = ops.map((op, i) => {
      const seq = this.conn.nextSeq();
      seqs.push(seq);
      this.conn.on(seq, (m) => {
        if (m instanceof LvsdError) {
          results[i] = { ok: false, error: new LvsdError(m.code, `${describeOp(op)}: ${m.message}`, { cause: m }) };
        } else if (m.type === K.NLMSG_ERROR) {
          const errno = errorCode(m);
          if (errno) results[i] = { ok: false, error: kernelError(errno, op) };
        }
      });
      return this.encodeOp(op, seq, ids);
    });
    const release = (): void => seqs.forEach((s) => this.conn.off(s));
    return this.conn
      .request((seq) => Buffer.concat([...msgs, ipvsMessage({ type: this.family, flags: K.NLM_F_REQUEST, seq, pid: this.conn.pid }, K.IPVS_CMD_GET_INFO, [])]), 'write batch')
      .then(() => {
        release();
        return results;
      }, (e: unknown) => {
        release();
        // GET_INFO refused for lack of privilege: every operation of the window was refused the same way.
        if (e instanceof KernelErrno && (e.errno === 1 || e.errno === 13)) return ops.map((op) => ({ ok: false as const, error: kernelError(e.errno, op) }));
        throw e;
      });
  }

  private encodeOp(op: IpvsOp, seq: number, ids: Map<ServiceId, Buffer>): Buffer {
    const serviceId = (service: ServiceId): Buffer => {
      let b = ids.get(service);
      if (!b) ids.set(service, (b = encodeService(toKernelServiceId(service), false)));
      return b;
    };
    const h = { type: this.family, flags: K.NLM_F_REQUEST, seq, pid: this.conn.pid };
    switch (op.op) {
      case 'add-service':
        return ipvsMessage(h, K.IPVS_CMD_NEW_SERVICE, [encodeService(toKernelService(op.service), true)]);
      case 'edit-service':
        return ipvsMessage(h, K.IPVS_CMD_SET_SERVICE, [encodeService(toKernelService(op.service), true)]);
      case 'delete-service':
        return ipvsMessage(h, K.IPVS_CMD_DEL_SERVICE, [encodeService(toKernelServiceId(op.service), false)]);
      case 'add-realserver':
        return ipvsMessage(h, K.IPVS_CMD_NEW_DEST, [serviceId(op.service), encodeDest(toKernelDest(op.realserver), true)]);
      case 'edit-realserver':
        return ipvsMessage(h, K.IPVS_CMD_SET_DEST, [serviceId(op.service), encodeDest(toKernelDest(op.realserver), true)]);
      case 'delete-realserver':
        return ipvsMessage(h, K.IPVS_CMD_DEL_DEST, [serviceId(op.service), encodeDest(toKernelDestId(op.realserver), false)]);
      case 'set-timeouts':
        return ipvsMessage(h, K.IPVS_CMD_SET_CONFIG, encodeTimeouts(op.timeouts));
      case 'flush':
        return ipvsMessage(h, K.IPVS_CMD_FLUSH, []);
    }
  }

  close(): void {
    this.conn.close();
    for (const c of this.dumpConns) c.close();
    this.dumpConns.length = 0;
  }
}
