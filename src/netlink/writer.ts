/**
 * A netlink message writer: the bytes wire.ts's builders make, written into
 * one growing buffer.
 */
import { GENL_HDRLEN, NLA_F_NESTED, NLA_HDRLEN, NLMSG_HDRLEN } from './constants.js';
import { align4, u16At, u32At } from './wire.js';

/**
 * Writes netlink messages into one growing buffer: no Buffer per attribute,
 * no concatenation. begin/end pairs fill in the lengths of messages and
 * nested attributes once their contents are written; take() copies out what
 * was written (the copy may go to the kernel asynchronously while the writer
 * goes on) and starts over. Padding is zeroed, so the bytes are those attr()
 * and genlMessage() build.
 */
export class NetlinkWriter {
  private buf: Buffer;
  pos = 0;

  constructor(size = 65536) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** Room for n more bytes; returns the buffer to write them in (it may move). */
  reserve(n: number): Buffer {
    if (this.pos + n > this.buf.length) {
      const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
      this.buf.copy(next, 0, 0, this.pos);
      this.buf = next;
    }
    return this.buf;
  }

  /** An nlmsghdr and genlmsghdr; returns the message's start for endMessage. */
  beginMessage(type: number, flags: number, seq: number, pid: number, cmd: number, version: number): number {
    const b = this.reserve(NLMSG_HDRLEN + GENL_HDRLEN);
    const start = this.pos;
    u16At(b, start + 4, type);
    u16At(b, start + 6, flags);
    u32At(b, start + 8, seq);
    u32At(b, start + 12, pid);
    b[start + 16] = cmd;
    b[start + 17] = version;
    b[start + 18] = 0;
    b[start + 19] = 0;
    this.pos = start + NLMSG_HDRLEN + GENL_HDRLEN;
    return start;
  }

  endMessage(start: number): void {
    u32At(this.buf, start, this.pos - start);
  }

  /** A nested attribute's header; returns its start for endNested. */
  beginNested(type: number): number {
    const start = this.pos;
    u16At(this.reserve(NLA_HDRLEN), start + 2, type | NLA_F_NESTED);
    this.pos = start + NLA_HDRLEN;
    return start;
  }

  endNested(start: number): void {
    u16At(this.buf, start, this.pos - start);
  }

  /**
   * An attribute of `size` payload bytes, zeroed with its padding; returns
   * the payload's offset in the (now current) buffer for the caller to fill.
   */
  attr(type: number, size: number): number {
    const total = align4(NLA_HDRLEN + size);
    const b = this.reserve(total);
    const start = this.pos;
    b.fill(0, start + NLA_HDRLEN, start + total);
    u16At(b, start, NLA_HDRLEN + size);
    u16At(b, start + 2, type);
    this.pos = start + total;
    return start + NLA_HDRLEN;
  }

  /** The buffer attr() and reserve() write into (valid until the next reserve). */
  get bytes(): Buffer {
    return this.buf;
  }

  u8(type: number, v: number): void {
    const at = this.attr(type, 1);
    this.buf[at] = v;
  }
  // Each writes after attr(), which may have moved the buffer.
  u16(type: number, v: number): void {
    const at = this.attr(type, 2);
    u16At(this.buf, at, v);
  }
  u32(type: number, v: number): void {
    const at = this.attr(type, 4);
    u32At(this.buf, at, v);
  }
  be16(type: number, v: number): void {
    const at = this.attr(type, 2);
    this.buf.writeUInt16BE(v, at);
  }
  be32(type: number, v: number): void {
    const at = this.attr(type, 4);
    this.buf.writeUInt32BE(v >>> 0, at);
  }
  /** A NUL-terminated string, as the kernel's NLA_NUL_STRING policy expects. */
  str(type: number, v: string): void {
    const size = Buffer.byteLength(v, 'utf8') + 1;
    const at = this.attr(type, size);
    this.buf.write(v, at, 'utf8');
  }
  /** Raw bytes already encoded (a cached attribute). */
  raw(bytes: Uint8Array): void {
    this.reserve(bytes.length).set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** Drops what was written since the last take() (say, a message left half written by a throw). */
  reset(): void {
    this.pos = 0;
  }

  /** A copy of what was written since the last take(); the writer starts over. */
  take(): Buffer {
    const out = Buffer.allocUnsafe(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    this.pos = 0;
    return out;
  }
}
