import { describe, expect, test } from 'vitest';
import * as K from '../../../src/ipvs/constants.js';
import {
  attr, be16, be32, checkMessages, forEachMessage, genlMessage, indexAttrs, type MessageView, nested, NetlinkWriter, parseAttrs, parseMessages, str, u16, u32, u8,
} from '../../../src/ipvs/wire.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('NetlinkWriter', () => {
  // The bytes of the attr()/nested()/genlMessage() builders, the reference the writer must match.
  const reference = () => Buffer.concat([
    genlMessage({ type: 28, flags: K.NLM_F_REQUEST, seq: 7, pid: 1234 }, 5, 1, [
      nested(1, [u16(1, 2), u8(2, 0xab), be16(3, 8080), u32(4, 0xdeadbeef), be32(5, 0xffffff00), str(6, 'wrr'), str(7, 'sh'), attr(8, Uint8Array.of(1, 2, 3, 4, 5))]),
      u32(9, 300),
    ]),
    genlMessage({ type: 28, flags: K.NLM_F_REQUEST, seq: 8, pid: 1234 }, 2, 1, []),
  ]);
  const write = (w: NetlinkWriter) => {
    const m = w.beginMessage(28, K.NLM_F_REQUEST, 7, 1234, 5, 1);
    const n = w.beginNested(1);
    w.u16(1, 2);
    w.u8(2, 0xab);
    w.be16(3, 8080);
    w.u32(4, 0xdeadbeef);
    w.be32(5, 0xffffff00);
    w.str(6, 'wrr');
    w.str(7, 'sh');
    w.raw(attr(8, Uint8Array.of(1, 2, 3, 4, 5)));
    w.endNested(n);
    w.u32(9, 300);
    w.endMessage(m);
    w.endMessage(w.beginMessage(28, K.NLM_F_REQUEST, 8, 1234, 2, 1));
  };

  test('writes the bytes the attribute builders make, padding zeroed', () => {
    const w = new NetlinkWriter(4096);
    // Dirty the buffer first: padding must not show what was there.
    w.raw(Buffer.alloc(512, 0xff));
    w.reset();
    write(w);
    expect(hex(w.take())).toBe(hex(reference()));
  });

  test('grows from a tiny buffer without losing what was written', () => {
    const w = new NetlinkWriter(8);
    write(w);
    expect(hex(w.take())).toBe(hex(reference()));
    // take() starts over; the copy it returned is not overwritten by later writes.
    const first = (write(w), w.take());
    write(w);
    expect(hex(first)).toBe(hex(reference()));
  });
});

describe('reading by offset', () => {
  const m1 = genlMessage({ type: 28, flags: K.NLM_F_MULTI, seq: 1, pid: 9 }, 1, 1, [u16(1, 10), u32(3, 77)]);
  const m2 = genlMessage({ type: K.NLMSG_DONE, flags: K.NLM_F_MULTI, seq: 2, pid: 9 }, 0, 0, []);

  test('forEachMessage reports what parseMessages does, by offset', () => {
    const buf = Buffer.concat([m1, m2]);
    const seen: Array<{ type: number; flags: number; seq: number; pid: number; payload: string }> = [];
    const view: MessageView = { buf: Buffer.alloc(0), off: 0, end: 0, type: 0, flags: 0, seq: 0, pid: 0 };
    forEachMessage(buf, view, (m) => seen.push({ type: m.type, flags: m.flags, seq: m.seq, pid: m.pid, payload: hex(m.buf.subarray(m.off, m.end)) }));
    expect(seen).toEqual(parseMessages(buf).map((m) => ({ type: m.type, flags: m.flags, seq: m.seq, pid: m.pid, payload: hex(m.payload) })));
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
    const body = Buffer.concat([Buffer.alloc(6, 0xee), u16(1, 5), u32(2, 6), nested(3, [u8(1, 1)]), u32(2, 8), u32(40, 1)]);
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
