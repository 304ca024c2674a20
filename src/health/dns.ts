/**
 * The `dns` check, as keepalived's DNS_CHECK does it: one query (recursion
 * desired) over UDP to the real server; up when an answer with the query's
 * id comes back with RCODE 0 (NOERROR), whether or not it holds records.
 * Written on node:dgram rather than node:dns, whose resolver retries, falls
 * back to TCP and reports an empty answer as an error. One attempt, bounded
 * by the timeout, never throwing.
 */
import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import type { CheckSpec, DnsRecordType } from '../model/types.js';
import type { CheckResult, CheckTarget } from './checkers.js';

/** RFC 1035 3.2.2 and RFC 3596 (AAAA). */
const QTYPES: Record<DnsRecordType, number> = { A: 1, NS: 2, CNAME: 5, SOA: 6, MX: 15, TXT: 16, AAAA: 28 };

const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

/** The query message for `name` and `type`, with `id`. */
export function dnsQuery(id: number, name: string, type: DnsRecordType): Buffer {
  const labels = name
    .replace(/\.$/, '')
    .split('.')
    .filter((l) => l !== '');
  const qname = Buffer.concat([
    ...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'ascii')])),
    Buffer.from([0]),
  ]);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2); // RD: recursion desired, as keepalived sets it
  header.writeUInt16BE(1, 4); // one question
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(QTYPES[type], 0);
  tail.writeUInt16BE(1, 2); // class IN
  return Buffer.concat([header, qname, tail]);
}

/** One dns check of `t` (spec.port, spec.dns) within `ms`. */
export function dnsCheck(spec: CheckSpec, t: CheckTarget, ms: number): Promise<CheckResult> {
  const { name, type } = spec.dns ?? { name: '.', type: 'SOA' as const };
  const id = randomInt(0x10000);
  return new Promise((resolve) => {
    const sock = createSocket(t.family === 'ipv6' ? 'udp6' : 'udp4');
    const timer = setTimeout(() => done({ ok: false, error: `no DNS answer within ${ms} ms` }), ms);
    let settled = false;
    const done = (r: CheckResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.close();
      resolve(r);
    };
    sock.on('error', (e) => done({ ok: false, error: e.message }));
    sock.on('message', (msg) => {
      // Another id, or a query rather than a response: not our answer (keepalived ignores it too).
      if (msg.length < 12 || msg.readUInt16BE(0) !== id || !(msg[2]! & 0x80)) return;
      const rcode = msg[3]! & 0x0f;
      done(rcode === 0 ? { ok: true } : { ok: false, error: `answered ${RCODES[rcode] ?? `RCODE ${rcode}`}` });
    });
    sock.send(dnsQuery(id, name, type), spec.port, t.address, (e) => {
      if (e) done({ ok: false, error: e.message });
    });
  });
}
