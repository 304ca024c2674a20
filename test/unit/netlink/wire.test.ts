import { describe, expect, test } from 'vitest';
import * as K from '../../../src/netlink/constants.js';
import {
  checkMessages,
  forEachMessage,
  genlMessage,
  indexAttrs,
  type MessageView,
  nested,
  parseAttrs,
  parseMessages,
  u16,
  u32,
  u8,
} from '../../../src/netlink/wire.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('reading by offset', () => {
  const m1 = genlMessage({ type: 28, flags: K.NLM_F_MULTI, seq: 1, pid: 9 }, 1, 1, [u16(1, 10), u32(3, 77)]);
  const m2 = genlMessage({ type: K.NLMSG_DONE, flags: K.NLM_F_MULTI, seq: 2, pid: 9 }, 0, 0, []);

  test('forEachMessage reports what parseMessages does, by offset', () => {
    const buf = Buffer.concat([m1, m2]);
    const seen: Array<{ type: number; flags: number; seq: number; pid: number; payload: string }> = [];
    const view: MessageView = { buf: Buffer.alloc(0), off: 0, end: 0, type: 0, flags: 0, seq: 0, pid: 0 };
    forEachMessage(buf, view, (m) =>
      seen.push({ type: m.type, flags: m.flags, seq: m.seq, pid: m.pid, payload: hex(m.buf.subarray(m.off, m.end)) }),
    );
    expect(seen).toEqual(
      parseMessages(buf).map((m) => ({
        type: m.type,
        flags: m.flags,
        seq: m.seq,
        pid: m.pid,
        payload: hex(m.payload),
      })),
    );
  });

  test('a truncated datagram throws before any message is handled', () => {
    const buf = Buffer.concat([m1, m2]).subarray(0, m1.length + 18);
    expect(() => parseMessages(buf)).toThrow(/truncated/);
    expect(() => checkMessages(buf)).toThrow(/truncated/);
    let calls = 0;
    const view: MessageView = { buf: Buffer.alloc(0), off: 0, end: 0, type: 0, flags: 0, seq: 0, pid: 0 };
    expect(() => forEachMessage(buf, view, () => calls++)).toThrow(/truncated/);
    expect(calls).toBe(0);
  });

  test('indexAttrs: offsets and lengths by type, last of a repeated type, nested flag removed, large types skipped', () => {
    const body = Buffer.concat([
      Buffer.alloc(6, 0xee),
      u16(1, 5),
      u32(2, 6),
      nested(3, [u8(1, 1)]),
      u32(2, 8),
      u32(40, 1),
    ]);
    const table = new Int32Array(2 * 8).fill(123);
    indexAttrs(body, 6, body.length, table);
    const attrs = parseAttrs(body.subarray(6));
    for (let t = 0; t < 8; t++) {
      const b = attrs.get(t);
      if (!b) {
        expect(table[2 * t]).toBe(-1);
      } else {
        expect(hex(body.subarray(table[2 * t]!, table[2 * t]! + table[2 * t + 1]!))).toBe(hex(b));
      }
    }
    expect(body.readUInt32LE(table[2 * 2]!)).toBe(8);
    expect(() => indexAttrs(body, 6, body.length - 2, table)).toThrow(/truncated/);
  });
});
