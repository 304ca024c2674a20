/**
 * IP address text <-> bytes, and the canonical text form lvsd uses everywhere
 * (IPv4 dotted quad; IPv6 lower case, compressed as RFC 5952 says). Pure.
 */
import { isIPv4, isIPv6 } from 'node:net';

export type Family = 'ipv4' | 'ipv6';

/** The family of an address, or undefined when the text is not an IP address. */
export function familyOf(text: string): Family | undefined {
  if (isIPv4(text)) return 'ipv4';
  if (isIPv6(text) && !text.includes('%')) return 'ipv6';
  return undefined;
}

/** Address text to its 4 or 16 bytes. Throws on text that is not an address. */
export function addressToBytes(text: string): Uint8Array {
  if (isIPv4(text)) return Uint8Array.from(text.split('.').map(Number));
  if (!isIPv6(text) || text.includes('%')) throw new TypeError(`not an IP address: ${text}`);
  let s = text;
  const out = new Uint8Array(16);
  // An embedded IPv4 tail (::ffff:192.0.2.1) becomes two groups.
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    const v4 = addressToBytes(s.slice(lastColon + 1));
    s = s.slice(0, lastColon + 1) + ((v4[0]! << 8) | v4[1]!).toString(16) + ':' + ((v4[2]! << 8) | v4[3]!).toString(16);
  }
  const [head, tail] = s.includes('::') ? s.split('::') as [string, string] : [s, undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const groups = tail === undefined
    ? headGroups
    : [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  return out;
}

/** 4 or 16 bytes to canonical address text. */
export function bytesToAddress(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  if (bytes.length !== 16) throw new TypeError(`address of ${bytes.length} bytes`);
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  // RFC 5952: compress the longest run of two or more zero groups, the first on a tie.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return hex.slice(0, best).join(':') + '::' + hex.slice(best + bestLen).join(':');
}

/** Canonical text of an address; throws on text that is not an address. */
export function canonicalAddress(text: string): string {
  // node's isIPv4 takes no leading zeros, so dotted-quad text it accepts is already canonical.
  if (isIPv4(text)) return text;
  let canon = canonicalCache.get(text);
  if (canon === undefined) {
    canon = bytesToAddress(addressToBytes(text));
    if (canonicalCache.size >= 4096) canonicalCache.clear();
    canonicalCache.set(text, canon);
  }
  return canon;
}

/** IPv6 texts seen lately: a config names the same few real servers many times. */
const canonicalCache = new Map<string, string>();

/** True when `address` lies in the prefix `network/length` (same family only). */
export function inPrefix(address: string, network: string, length: number): boolean {
  const a = addressToBytes(address);
  const n = addressToBytes(network);
  if (a.length !== n.length) return false;
  let bits = length;
  for (let i = 0; i < a.length && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((a[i]! & mask) !== (n[i]! & mask)) return false;
  }
  return true;
}

/** `a.b.c.d` mask to its prefix length, or undefined when the mask is not contiguous. */
export function maskToPrefix(mask: string): number | undefined {
  const b = addressToBytes(mask);
  if (b.length !== 4) return undefined;
  const n = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  const len = 32 - Math.log2((~n >>> 0) + 1);
  return Number.isInteger(len) ? len : undefined;
}

/** Prefix length 0..32 to an `a.b.c.d` mask. */
export function prefixToMask(length: number): string {
  const n = length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
  return [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join('.');
}

/** `192.0.2.1:80` or `[2001:db8::1]:80`. */
export function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
