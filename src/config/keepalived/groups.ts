/**
 * keepalived's `virtual_server_group NAME { ... }`: addresses with ports,
 * address ranges (`192.0.2.1-10`, `192.0.2.250-192.0.3.10`, `192.0.2.8/29`)
 * and `fwmark N [inet|inet6]`. keepalived makes one IPVS service per address
 * of a range, and so does the import. Pure.
 */
import { addressToBytes, bytesToAddress, familyOf } from '../../model/address.js';
import type { Reporter } from '../migration.js';
import type { Statement } from './blocks.js';

/** One service a group declares. */
export type GroupEntry =
  | { kind: 'address'; address: string; port: number; at: Statement }
  | { kind: 'fwmark'; fwmark: number; family?: 'ipv4' | 'ipv6'; at: Statement };

/** How many addresses one range may expand to: a larger range is reported, not printed. */
export const MAX_RANGE = 1024;

/** The entries of a virtual_server_group block. */
export function readGroup(st: Statement, r: Reporter): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const s of st.block ?? []) {
    if (s.keyword === 'fwmark') {
      const mark = Number(s.args[0]);
      const fam = s.args[1];
      if (!/^\d+$/.test(s.args[0] ?? '') || mark < 1 || mark > 0xffffffff)
        r.omit(s, 'fwmark', 'not a mark from 1 to 4294967295');
      else if (fam !== undefined && fam !== 'inet' && fam !== 'inet6')
        r.omit(s, 'fwmark', `'${fam}' is not inet or inet6`);
      else
        out.push({ kind: 'fwmark', fwmark: mark, at: s, ...(fam ? { family: fam === 'inet' ? 'ipv4' : 'ipv6' } : {}) });
      continue;
    }
    const port = s.args[0] === undefined ? 0 : Number(s.args[0]);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      r.omit(s, s.keyword, `'${s.args[0]}' is not a port`);
      continue;
    }
    const addresses = rangeAddresses(s.keyword);
    if (typeof addresses === 'string') r.omit(s, s.keyword, addresses);
    else for (const address of addresses) out.push({ kind: 'address', address, port, at: s });
  }
  return out;
}

/** The addresses of `A`, `A-LAST`, `A-B` or `A/N`; a string says why there are none. */
export function rangeAddresses(text: string): string[] | string {
  if (familyOf(text) !== undefined) return [text];
  const prefix = /^(.+)\/(\d+)$/.exec(text);
  const dash = /^(.+?)-([0-9a-fA-F.:]+)$/.exec(text);
  const first = prefix?.[1] ?? dash?.[1];
  if (first === undefined || familyOf(first) === undefined) return 'not an address, range or prefix';
  const start = addressToBytes(first);
  let last: Uint8Array;
  if (prefix) {
    const bits = Number(prefix[2]);
    if (bits > start.length * 8) return 'the prefix is longer than the address';
    last = setHostBits(start, bits, 1);
    start.set(setHostBits(start, bits, 0));
  } else if (familyOf(dash![2]!) !== undefined) last = addressToBytes(dash![2]!);
  else {
    // keepalived: the number after '-' replaces the last part (IPv4 byte, IPv6 16-bit group).
    const end = familyOf(first) === 'ipv4' ? Number(dash![2]) : parseInt(dash![2]!, 16);
    const width = familyOf(first) === 'ipv4' ? 1 : 2;
    last = Uint8Array.from(start);
    if (!(end >= 0 && end < 256 ** width)) return 'the end of the range is not a number that fits the last part';
    for (let i = 0; i < width; i++) last[start.length - 1 - i] = (end >> (8 * i)) & 0xff;
  }
  return enumerate(start, last);
}

function setHostBits(bytes: Uint8Array, prefix: number, bit: 0 | 1): Uint8Array {
  const out = Uint8Array.from(bytes);
  for (let i = prefix; i < out.length * 8; i++) {
    const mask = 0x80 >> (i % 8);
    out[i >> 3] = bit ? out[i >> 3]! | mask : out[i >> 3]! & ~mask;
  }
  return out;
}

function enumerate(start: Uint8Array, last: Uint8Array): string[] | string {
  const out: string[] = [];
  const cur = Uint8Array.from(start);
  for (;;) {
    if (compare(cur, last) > 0) break;
    if (out.length >= MAX_RANGE) return `the range holds more than ${MAX_RANGE} addresses, one service each`;
    out.push(bytesToAddress(cur));
    let i = cur.length - 1;
    while (i >= 0 && cur[i] === 0xff) cur[i--] = 0;
    if (i < 0) break;
    cur[i] = cur[i]! + 1;
  }
  return out.length > 0 ? out : 'the range ends before it starts';
}

function compare(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}
