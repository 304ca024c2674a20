/**
 * The dns check against a UDP responder on 127.0.0.1: the query it sends
 * (id, RD, the name's labels, type, class IN), up on RCODE 0 with or without
 * records, down on an error RCODE, silence, or answers that are not ours.
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, expect, test } from 'vitest';
import { dnsCheck, dnsQuery } from '../../../src/health/dns.js';
import type { CheckSpec } from '../../../src/model/types.js';

const sockets: Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});

/** A responder answering each query through `answer(query)` (undefined: silence); the queries it saw. */
async function responder(answer: (q: Buffer) => Buffer | undefined): Promise<{ port: number; seen: Buffer[] }> {
  const s = createSocket('udp4');
  sockets.push(s);
  const seen: Buffer[] = [];
  s.on('message', (q, from) => {
    seen.push(q);
    const a = answer(q);
    if (a) s.send(a, from.port, from.address);
  });
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  return { port: s.address().port, seen };
}

/** The query turned into a response with `rcode` (and `flip` added to the id). */
const reply =
  (rcode: number, flip = 0) =>
  (q: Buffer) => {
    const a = Buffer.from(q);
    a.writeUInt16BE((q.readUInt16BE(0) + flip) & 0xffff, 0);
    a[2] = 0x81; // QR + RD
    a[3] = 0x80 | rcode; // RA + RCODE
    return a;
  };

const spec = (port: number, name = 'example.com', type: 'A' | 'SOA' = 'A'): CheckSpec => ({
  type: 'dns',
  interval: 1,
  timeout: 1,
  rise: 1,
  fall: 1,
  port,
  initial: 'up',
  onFailure: 'quiesce',
  dns: { name, type },
});
const target = { address: '127.0.0.1', family: 'ipv4' as const };

test('the query: id, recursion desired, one question, labels, type, class IN', () => {
  expect(dnsQuery(0x1234, 'www.example.com', 'A').toString('hex')).toBe(
    '1234' +
      '0100' +
      '0001' +
      '0000' +
      '0000' +
      '0000' +
      '03777777' +
      '076578616d706c65' +
      '03636f6d' +
      '00' +
      '0001' +
      '0001',
  );
  expect(dnsQuery(1, '.', 'SOA').subarray(12).toString('hex')).toBe('00' + '0006' + '0001');
  expect(dnsQuery(1, 'example.com.', 'AAAA').subarray(12).toString('hex')).toBe(
    '076578616d706c6503636f6d00' + '001c0001',
  );
});

test('an answer with RCODE 0 is up, with no records too (keepalived counts it so)', async () => {
  const r = await responder(reply(0));
  expect(await dnsCheck(spec(r.port), target, 1000)).toEqual({ ok: true });
  expect(r.seen[0]!.subarray(12).toString('hex')).toBe('076578616d706c6503636f6d0000010001');
});

test.each([
  [2, /SERVFAIL/],
  [3, /NXDOMAIN/],
  [5, /REFUSED/],
])('RCODE %i is down', async (rcode, error) => {
  const r = await responder(reply(rcode));
  const res = await dnsCheck(spec(r.port), target, 1000);
  expect(res.ok).toBe(false);
  expect(!res.ok && res.error).toMatch(error);
});

test('silence, or an answer with another id, is down after the timeout', async () => {
  for (const answer of [() => undefined, reply(0, 1)]) {
    const r = await responder(answer);
    const res = await dnsCheck(spec(r.port), target, 300);
    expect(res).toEqual({ ok: false, error: 'no DNS answer within 300 ms' });
  }
});

test('a query echoed back (no QR bit) is not an answer', async () => {
  const r = await responder((q) => q);
  expect((await dnsCheck(spec(r.port), target, 300)).ok).toBe(false);
});
