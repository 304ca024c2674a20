/**
 * A generic netlink socket of the IPVS adapter: requests matched to their
 * replies by sequence number, a watchdog for requests without an answer, and
 * the IPVS family's id. Part of the adapter, so it may import `netlink`.
 */
// The raw socket alone: the package's index loads every family it knows (rtnetlink, nl80211, wireguard...),
// 0.6 s of a cold start in the test kernel.
import { RawNetlinkSocket } from 'netlink/dist/raw.js';
import { LvsdError } from '../errors.js';
import * as NL from '../netlink/constants.js';
import { ERRNO } from '../netlink/errno.js';
import { decodeFamily, getFamilyMessage } from '../netlink/genl-family.js';
import { checkMessages, errorCodeAt, forEachMessage, type MessageView, parseGenl } from '../netlink/wire.js';
import * as K from './constants.js';

/** The request watchdog runs this many times per timeout. */
const WATCHDOG_TICKS = 4;

/** A reply (a view to read at once, not to keep), or the failure of the socket itself. */
export type Handler = (m: MessageView | LvsdError) => void;

/** Sequence numbers run 1 .. 0x7fffffff and wrap to 1. */
export const SEQ_SPAN = 0x7fffffff;

/** The kernel answered a request with an errno. */
export class KernelErrno extends Error {
  constructor(
    what: string,
    readonly errno: number,
  ) {
    super(`${what}: errno ${errno}`);
  }
}

/** A generic netlink socket with replies routed to their requests by sequence number. */
export class Connection {
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
  /** The one view dispatch hands to handlers, message after message. */
  private readonly view: MessageView = { buf: Buffer.alloc(0), off: 0, end: 0, type: 0, flags: 0, seq: 0, pid: 0 };
  private readonly route = (m: MessageView): void => this.handlers.get(m.seq)?.(m);

  constructor(
    readonly timeoutMs: number,
    readBuffer: number,
  ) {
    try {
      this.sock = new RawNetlinkSocket(NL.NETLINK_GENERIC, {
        messagePeeking: false,
        msgBufferSize: readBuffer,
        recvBufferSize: 1 << 20,
        sendBufferSize: 1 << 20,
      });
    } catch (e) {
      throw new LvsdError('IPVS_IO', `cannot open a generic netlink socket: ${(e as Error).message}`, { cause: e });
    }
    this.pid = this.sock.address().port;
    this.sock.unref();
    this.sock.on('message', (buf) => this.dispatch(buf));
    this.sock.on('truncatedMessage', () =>
      this.failAll(new LvsdError('IPVS_PROTOCOL', 'a netlink reply was truncated')),
    );
    // Without this listener a receive error (ENOBUFS) would be thrown from the native layer.
    this.sock.on('error', (err) =>
      this.failAll(new LvsdError('IPVS_IO', `netlink socket error: ${err.message}`, { cause: err })),
    );
  }

  nextSeq(): number {
    const s = this.seq;
    this.seq = this.seq >= SEQ_SPAN ? 1 : this.seq + 1;
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
      this.sock.send(buf, {}, (err) =>
        err ? reject(new LvsdError('IPVS_IO', `netlink send failed: ${err.message}`, { cause: err })) : resolve(),
      );
    });
  }

  /**
   * Sends one request and collects its answer: a single reply, a multi-part
   * dump until NLMSG_DONE, or an error. Each reply message is decoded as it
   * arrives, so no datagram is kept once read.
   */
  request<T>(build: (seq: number) => Buffer, what: string, decode: (m: MessageView) => T): Promise<T[]> {
    const seq = this.nextSeq();
    return new Promise<T[]>((resolve, reject) => {
      const parts: T[] = [];
      this.watch(seq, () =>
        finish(new LvsdError('IPVS_IO', `${what}: no answer from the kernel within ${this.timeoutMs} ms`)),
      );
      const finish = (err?: Error): void => {
        this.pending.delete(seq);
        this.off(seq);
        if (err) reject(err);
        else resolve(parts);
      };
      this.on(seq, (m) => {
        if (m instanceof LvsdError) {
          finish(m);
        } else if (m.type === NL.NLMSG_ERROR) {
          const errno = errorCodeAt(m.buf, m.off);
          finish(errno ? new KernelErrno(what, errno) : undefined);
        } else if (m.type === NL.NLMSG_DONE) {
          finish();
        } else {
          let v: T;
          try {
            v = decode(m);
          } catch (e) {
            finish(new LvsdError('IPVS_PROTOCOL', `${what}: malformed reply: ${(e as Error).message}`, { cause: e }));
            return;
          }
          parts.push(v);
          if (!(m.flags & NL.NLM_F_MULTI)) finish();
        }
      });
      let msg: Buffer;
      try {
        msg = build(seq);
      } catch (e) {
        finish(e as Error);
        return;
      }
      this.send(msg).catch(finish);
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
      const [family] = await this.request(
        (seq) => getFamilyMessage({ flags: NL.NLM_F_REQUEST, seq, pid: this.pid }, K.IPVS_GENL_NAME),
        'resolve IPVS family',
        (m) => decodeFamily(parseGenl(m.buf.subarray(m.off, m.end)).attrs),
      );
      return family!.id;
    } catch (e) {
      if (e instanceof KernelErrno && e.errno === ERRNO.ENOENT) {
        throw new LvsdError('IPVS_UNAVAILABLE', 'IPVS is not available in this kernel (try: modprobe ip_vs)', {
          cause: e,
        });
      }
      throw e;
    }
  }

  private dispatch(buf: Buffer): void {
    try {
      checkMessages(buf);
    } catch (e) {
      this.failAll(new LvsdError('IPVS_PROTOCOL', `malformed netlink reply: ${(e as Error).message}`, { cause: e }));
      return;
    }
    forEachMessage(buf, this.view, this.route);
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
