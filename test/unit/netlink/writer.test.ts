import { describe, expect, test } from 'vitest';
import * as K from '../../../src/netlink/constants.js';
import { attr, be16, be32, genlMessage, nested, str, u16, u32, u8 } from '../../../src/netlink/wire.js';
import { NetlinkWriter } from '../../../src/netlink/writer.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('NetlinkWriter', () => {
  // The bytes of the attr()/nested()/genlMessage() builders, the reference the writer must match.
  const reference = () =>
    Buffer.concat([
      genlMessage({ type: 28, flags: K.NLM_F_REQUEST, seq: 7, pid: 1234 }, 5, 1, [
        nested(1, [
          u16(1, 2),
          u8(2, 0xab),
          be16(3, 8080),
          u32(4, 0xdeadbeef),
          be32(5, 0xffffff00),
          str(6, 'wrr'),
          str(7, 'sh'),
          attr(8, Uint8Array.of(1, 2, 3, 4, 5)),
        ]),
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
