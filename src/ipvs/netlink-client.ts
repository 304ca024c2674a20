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
}

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
  const conn = new Connection(options.timeoutMs ?? 30_000);
  try {
    const familyId = await conn.resolveFamily();
    return new NetlinkIpvsClient(conn, familyId, options.windowSize ?? 200);
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

  constructor(readonly timeoutMs: number) {
    try {
      // A 64 KiB read buffer lets the kernel fill dump replies up to its 32 KiB limit: fewer reads.
      this.sock = new RawNetlinkSocket(K.NETLINK_GENERIC, { messagePeeking: false, msgBufferSize: 65536, recvBufferSize: 1 << 20, sendBufferSize: 1 << 20 });
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
      const timer = setTimeout(() => finish(new LvsdError('IPVS_IO', `${what}: no answer from the kernel within ${this.timeoutMs} ms`)), this.timeoutMs);
      const finish = (err?: Error): void => {
        clearTimeout(timer);
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
    this.sock.close();
  }
}

class NetlinkIpvsClient implements IpvsClient {
  constructor(private readonly conn: Connection, private readonly family: number, private readonly windowSize: number) {}

  private async get(cmd: number, attrs: Buffer[], what: string, dump = false): Promise<RawMessage[]> {
    const flags = K.NLM_F_REQUEST | (dump ? K.NLM_F_DUMP : 0);
    try {
      return await this.conn.request((seq) => ipvsMessage({ type: this.family, flags, seq, pid: this.conn.pid }, cmd, attrs), what);
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

  async realServers(service: ServiceId): Promise<LiveRealServer[]> {
    const id = toKernelServiceId(service);
    const replies = await this.get(K.IPVS_CMD_GET_DEST, [encodeService(id, false)], 'list real servers', true);
    return replies.map((r) => fromKernelDest(decodeDest(parseGenl(r.payload).attrs, id.af)));
  }

  async readTable(): Promise<LiveState> {
    const services = await this.services();
    for (const s of services) s.realservers = await this.realServers(s);
    return { services, timeouts: await this.timeouts() };
  }

  async execute(ops: readonly IpvsOp[]): Promise<OpResult[]> {
    const results: OpResult[] = [];
    for (let i = 0; i < ops.length; i += this.windowSize) {
      results.push(...(await this.window(ops.slice(i, i + this.windowSize))));
    }
    return results;
  }

  /**
   * One sendmsg carrying the window's operations without NLM_F_ACK, closed by
   * a GET_INFO request. The kernel handles a buffer's messages in order and
   * answers only the failing ones, so the GET_INFO reply means every earlier
   * message was processed and every error for them has arrived.
   */
  private window(ops: readonly IpvsOp[]): Promise<OpResult[]> {
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
      return this.encodeOp(op, seq);
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

  private encodeOp(op: IpvsOp, seq: number): Buffer {
    const h = { type: this.family, flags: K.NLM_F_REQUEST, seq, pid: this.conn.pid };
    switch (op.op) {
      case 'add-service':
        return ipvsMessage(h, K.IPVS_CMD_NEW_SERVICE, [encodeService(toKernelService(op.service), true)]);
      case 'edit-service':
        return ipvsMessage(h, K.IPVS_CMD_SET_SERVICE, [encodeService(toKernelService(op.service), true)]);
      case 'delete-service':
        return ipvsMessage(h, K.IPVS_CMD_DEL_SERVICE, [encodeService(toKernelServiceId(op.service), false)]);
      case 'add-realserver':
        return ipvsMessage(h, K.IPVS_CMD_NEW_DEST, [encodeService(toKernelServiceId(op.service), false), encodeDest(toKernelDest(op.realserver), true)]);
      case 'edit-realserver':
        return ipvsMessage(h, K.IPVS_CMD_SET_DEST, [encodeService(toKernelServiceId(op.service), false), encodeDest(toKernelDest(op.realserver), true)]);
      case 'delete-realserver':
        return ipvsMessage(h, K.IPVS_CMD_DEL_DEST, [encodeService(toKernelServiceId(op.service), false), encodeDest(toKernelDestId(op.realserver), false)]);
      case 'set-timeouts':
        return ipvsMessage(h, K.IPVS_CMD_SET_CONFIG, encodeTimeouts(op.timeouts));
      case 'flush':
        return ipvsMessage(h, K.IPVS_CMD_FLUSH, []);
    }
  }

  close(): void {
    this.conn.close();
  }
}
