/**
 * Netlink and generic netlink framing: messages, attributes, error replies,
 * for every family lvsd speaks (IPVS, rtnetlink addresses). Pure functions
 * over bytes; integers are in host byte order unless a name says `be`
 * (network order), as netlink itself is. writer.ts writes the same bytes
 * into one growing buffer.
 */
import { endianness } from 'node:os';
import { GENL_HDRLEN, NLA_F_NESTED, NLA_HDRLEN, NLA_TYPE_MASK, NLMSG_ERROR, NLMSG_HDRLEN } from './constants.js';

/** Host byte order: netlink headers and most attributes are in it. */
export const LE = endianness() === 'LE';

/** A length rounded up to netlink's 4-byte alignment. */
export const align4 = (n: number): number => (n + 3) & ~3;

/** One netlink attribute: its header, the payload and padding to 4 bytes. */
export function attr(type: number, payload: Uint8Array): Buffer {
  const len = NLA_HDRLEN + payload.length;
  const out = Buffer.alloc(align4(len));
  u16At(out, 0, len);
  u16At(out, 2, type);
  out.set(payload, NLA_HDRLEN);
  return out;
}

export const nested = (type: number, children: Uint8Array[]): Buffer =>
  attr(type | NLA_F_NESTED, Buffer.concat(children));
export const u8 = (type: number, v: number): Buffer => attr(type, Uint8Array.of(v));
export const u16 = (type: number, v: number): Buffer => {
  const b = Buffer.alloc(2);
  u16At(b, 0, v);
  return attr(type, b);
};
export const u32 = (type: number, v: number): Buffer => attr(type, hostU32(v));
/** Four bytes of a host-order u32 (for structs inside attributes). */
export const hostU32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  u32At(b, 0, v);
  return b;
};
export const be16 = (type: number, v: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return attr(type, b);
};
export const be32 = (type: number, v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return attr(type, b);
};
/** A NUL-terminated string, as the kernel's NLA_NUL_STRING policy expects. */
export const str = (type: number, v: string): Buffer => attr(type, Buffer.from(v + '\0', 'utf8'));

/** Host-order u16 at an offset. */
export function u16At(b: Buffer, off: number, v: number): void {
  if (LE) b.writeUInt16LE(v, off);
  else b.writeUInt16BE(v, off);
}
/** Host-order u32 at an offset. */
export function u32At(b: Buffer, off: number, v: number): void {
  if (LE) b.writeUInt32LE(v >>> 0, off);
  else b.writeUInt32BE(v >>> 0, off);
}

export interface MessageHeader {
  type: number;
  flags: number;
  seq: number;
  pid: number;
}

/** A whole generic netlink message: nlmsghdr, genlmsghdr, attributes. */
export function genlMessage(h: MessageHeader, cmd: number, version: number, attrs: Uint8Array[]): Buffer {
  const body = Buffer.concat(attrs);
  const out = Buffer.alloc(NLMSG_HDRLEN + GENL_HDRLEN + body.length);
  u32At(out, 0, out.length);
  u16At(out, 4, h.type);
  u16At(out, 6, h.flags);
  u32At(out, 8, h.seq);
  u32At(out, 12, h.pid);
  out[16] = cmd;
  out[17] = version;
  out.set(body, NLMSG_HDRLEN + GENL_HDRLEN);
  return out;
}

/** A parsed netlink message; `payload` is everything after the nlmsghdr. */
export interface RawMessage extends MessageHeader {
  payload: Buffer;
}

/**
 * One netlink message of a datagram, by offset: `off` is where its payload
 * (after the nlmsghdr) begins, `end` where the message ends. forEachMessage
 * reuses one view for every message, so a handler reads it and lets go.
 */
export interface MessageView extends MessageHeader {
  buf: Buffer;
  off: number;
  end: number;
}

/**
 * Calls `fn` for each netlink message of a datagram without copying or
 * slicing anything. Throws on a truncated message before calling `fn` at all,
 * as parseMessages does.
 */
export function forEachMessage(buf: Buffer, view: MessageView, fn: (m: MessageView) => void): void {
  checkMessages(buf);
  view.buf = buf;
  let off = 0;
  while (off + NLMSG_HDRLEN <= buf.length) {
    const len = readU32(buf, off);
    view.type = readU16(buf, off + 4);
    view.flags = readU16(buf, off + 6);
    view.seq = readU32(buf, off + 8);
    view.pid = readU32(buf, off + 12);
    view.off = off + NLMSG_HDRLEN;
    view.end = off + len;
    fn(view);
    off += align4(len);
  }
}

/** Throws, as parseMessages does, when a datagram holds a truncated netlink message. */
export function checkMessages(buf: Buffer): void {
  let off = 0;
  while (off + NLMSG_HDRLEN <= buf.length) {
    const len = readU32(buf, off);
    if (len < NLMSG_HDRLEN || off + len > buf.length)
      throw new RangeError(`truncated netlink message at offset ${off}`);
    off += align4(len);
  }
}

/** Splits a datagram into its netlink messages. Throws on a truncated one. */
export function parseMessages(buf: Buffer): RawMessage[] {
  const out: RawMessage[] = [];
  const view: MessageView = { buf, off: 0, end: 0, type: 0, flags: 0, seq: 0, pid: 0 };
  forEachMessage(buf, view, (m) => {
    out.push({ type: m.type, flags: m.flags, seq: m.seq, pid: m.pid, payload: m.buf.subarray(m.off, m.end) });
  });
  return out;
}

/** The errno of the NLMSG_ERROR message whose payload begins at `off`: 0 for an acknowledgement. */
export function errorCodeAt(buf: Buffer, off: number): number {
  const err = LE ? buf.readInt32LE(off) : buf.readInt32BE(off);
  return err === 0 ? 0 : -err;
}

/** The errno of an NLMSG_ERROR message: 0 for an acknowledgement, positive for an error. */
export function errorCode(m: RawMessage): number {
  if (m.type !== NLMSG_ERROR) throw new TypeError('not an NLMSG_ERROR message');
  return errorCodeAt(m.payload, 0);
}

/** Attributes by type (nested flag removed); a repeated type keeps the last. */
export type Attrs = Map<number, Buffer>;

/** An attribute a reply must carry; throws naming it when absent. */
export function need(a: Attrs, type: number, name: string): Buffer {
  const b = a.get(type);
  if (!b) throw new RangeError(`reply lacks ${name}`);
  return b;
}

export function parseAttrs(buf: Buffer): Attrs {
  const out: Attrs = new Map();
  let off = 0;
  while (off + NLA_HDRLEN <= buf.length) {
    const len = readU16(buf, off);
    if (len < NLA_HDRLEN || off + len > buf.length)
      throw new RangeError(`truncated netlink attribute at offset ${off}`);
    out.set(readU16(buf, off + 2) & NLA_TYPE_MASK, buf.subarray(off + NLA_HDRLEN, off + len));
    off += align4(len);
  }
  return out;
}

/**
 * Indexes the attributes in buf[start, end) without slicing: for each type
 * below table.length / 2, table[2 * type] is the offset of its payload and
 * table[2 * type + 1] its length, or -1 when absent (nested flag removed; a
 * repeated type keeps the last; larger types are skipped). One table can be
 * reused for every message of its kind.
 */
export function indexAttrs(buf: Buffer, start: number, end: number, table: Int32Array): void {
  table.fill(-1);
  const types = table.length >> 1;
  if (start < 0 || end > buf.length)
    throw new RangeError(`attributes at ${start}..${end} outside a buffer of ${buf.length}`);
  let off = start;
  while (off + NLA_HDRLEN <= end) {
    // Bytes read directly (the range is checked above): this loop runs for every attribute of a table read.
    const len = LE ? buf[off]! | (buf[off + 1]! << 8) : (buf[off]! << 8) | buf[off + 1]!;
    if (len < NLA_HDRLEN || off + len > end)
      throw new RangeError(`truncated netlink attribute at offset ${off - start}`);
    const type = (LE ? buf[off + 2]! | (buf[off + 3]! << 8) : (buf[off + 2]! << 8) | buf[off + 3]!) & NLA_TYPE_MASK;
    if (type < types) {
      table[2 * type] = off + NLA_HDRLEN;
      table[2 * type + 1] = len - NLA_HDRLEN;
    }
    off += align4(len);
  }
}

/** The generic netlink header and attributes of a message's payload. */
export function parseGenl(payload: Buffer): { cmd: number; version: number; attrs: Attrs } {
  return { cmd: payload[0]!, version: payload[1]!, attrs: parseAttrs(payload.subarray(GENL_HDRLEN)) };
}

export const readU16 = (b: Buffer, off = 0): number => (LE ? b.readUInt16LE(off) : b.readUInt16BE(off));
export const readU32 = (b: Buffer, off = 0): number => (LE ? b.readUInt32LE(off) : b.readUInt32BE(off));
export const readU64 = (b: Buffer, off = 0): bigint => (LE ? b.readBigUInt64LE(off) : b.readBigUInt64BE(off));
/** A NUL-terminated (or unterminated) string attribute. */
export function readStr(b: Buffer): string {
  return readStrAt(b, 0, b.length);
}
/** A NUL-terminated (or unterminated) string of at most `len` bytes at `at`. */
export function readStrAt(b: Buffer, at: number, len: number): string {
  let e = at;
  const end = at + len;
  while (e < end && b[e] !== 0) e++;
  return b.toString('utf8', at, e);
}
