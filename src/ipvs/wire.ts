/**
 * Netlink and generic netlink framing: messages, attributes, error replies.
 * Pure functions over bytes; integers are in host byte order unless a name
 * says `be` (network order), as netlink itself is.
 */
import { endianness } from 'node:os';
import { GENL_HDRLEN, NLA_F_NESTED, NLA_HDRLEN, NLA_TYPE_MASK, NLMSG_ERROR, NLMSG_HDRLEN } from './constants.js';

const LE = endianness() === 'LE';

const align4 = (n: number): number => (n + 3) & ~3;

/** One netlink attribute: its header, the payload and padding to 4 bytes. */
export function attr(type: number, payload: Uint8Array): Buffer {
  const len = NLA_HDRLEN + payload.length;
  const out = Buffer.alloc(align4(len));
  u16At(out, 0, len);
  u16At(out, 2, type);
  out.set(payload, NLA_HDRLEN);
  return out;
}

export const nested = (type: number, children: Uint8Array[]): Buffer => attr(type | NLA_F_NESTED, Buffer.concat(children));
export const u8 = (type: number, v: number): Buffer => attr(type, Uint8Array.of(v));
export const u16 = (type: number, v: number): Buffer => { const b = Buffer.alloc(2); u16At(b, 0, v); return attr(type, b); };
export const u32 = (type: number, v: number): Buffer => attr(type, hostU32(v));
/** Four bytes of a host-order u32 (for structs inside attributes). */
export const hostU32 = (v: number): Buffer => { const b = Buffer.alloc(4); u32At(b, 0, v); return b; };
export const be16 = (type: number, v: number): Buffer => { const b = Buffer.alloc(2); b.writeUInt16BE(v); return attr(type, b); };
export const be32 = (type: number, v: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32BE(v >>> 0); return attr(type, b); };
/** A NUL-terminated string, as the kernel's NLA_NUL_STRING policy expects. */
export const str = (type: number, v: string): Buffer => attr(type, Buffer.from(v + '\0', 'utf8'));

function u16At(b: Buffer, off: number, v: number): void {
  if (LE) b.writeUInt16LE(v, off); else b.writeUInt16BE(v, off);
}
function u32At(b: Buffer, off: number, v: number): void {
  if (LE) b.writeUInt32LE(v >>> 0, off); else b.writeUInt32BE(v >>> 0, off);
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

/** Splits a datagram into its netlink messages. Throws on a truncated one. */
export function parseMessages(buf: Buffer): RawMessage[] {
  const out: RawMessage[] = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= buf.length) {
    const len = readU32(buf, off);
    if (len < NLMSG_HDRLEN || off + len > buf.length) throw new RangeError(`truncated netlink message at offset ${off}`);
    out.push({
      type: readU16(buf, off + 4),
      flags: readU16(buf, off + 6),
      seq: readU32(buf, off + 8),
      pid: readU32(buf, off + 12),
      payload: buf.subarray(off + NLMSG_HDRLEN, off + len),
    });
    off += align4(len);
  }
  return out;
}

/** The errno of an NLMSG_ERROR message: 0 for an acknowledgement, positive for an error. */
export function errorCode(m: RawMessage): number {
  if (m.type !== NLMSG_ERROR) throw new TypeError('not an NLMSG_ERROR message');
  const err = LE ? m.payload.readInt32LE(0) : m.payload.readInt32BE(0);
  return err === 0 ? 0 : -err;
}

/** Attributes by type (nested flag removed); a repeated type keeps the last. */
export type Attrs = Map<number, Buffer>;

export function parseAttrs(buf: Buffer): Attrs {
  const out: Attrs = new Map();
  let off = 0;
  while (off + NLA_HDRLEN <= buf.length) {
    const len = readU16(buf, off);
    if (len < NLA_HDRLEN || off + len > buf.length) throw new RangeError(`truncated netlink attribute at offset ${off}`);
    out.set(readU16(buf, off + 2) & NLA_TYPE_MASK, buf.subarray(off + NLA_HDRLEN, off + len));
    off += align4(len);
  }
  return out;
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
  const nul = b.indexOf(0);
  return b.toString('utf8', 0, nul < 0 ? b.length : nul);
}
