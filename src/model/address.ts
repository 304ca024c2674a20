/**
 * IP address text <-> bytes, and the canonical text form lvsd uses everywhere
 * (IPv4 dotted quad; IPv6 lower case, compressed as RFC 5952 says). Pure.
 */
import { isIPv4, isIPv6 } from 'node:net';

export type Family = 'ipv4' | 'ipv6';

/** Length of a host route (the prefix lvsd binds VIPs with): 32 for IPv4, 128 for IPv6. */
export function hostPrefixLength(family: Family): 32 | 128 {
  return family === 'ipv4' ? 32 : 128;
}

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
  const [head, tail] = s.includes('::') ? (s.split('::') as [string, string]) : [s, undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const groups =
    tail === undefined
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
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
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

/**
 * Why an address can never be a VIP or a real server, or undefined when it can:
 * - `unspecified`: 0.0.0.0/8 and ::, "no address", never a destination on the wire;
 * - `loopback`: 127.0.0.0/8 and ::1, never leave the host, so no client or director reaches them;
 * - `multicast`: 224.0.0.0/4 and ff00::/8, IPVS schedules unicast connections only;
 * - `broadcast`: 255.255.255.255, the limited broadcast, never routed;
 * - `ipv4-mapped`: ::ffff:0:0/96, an IPv4 address in IPv6 dress that never appears in an
 *   IPv6 packet on the wire (RFC 4038): write the IPv4 address;
 * - `link-local`: fe80::/10, needs a zone (an interface) that IPVS cannot be given.
 * IPv4 link-local (169.254.0.0/16) is left alone: it routes on its link without a zone.
 */
export type UnusableClass = 'unspecified' | 'loopback' | 'multicast' | 'broadcast' | 'ipv4-mapped' | 'link-local';

/** The class that makes `address` unusable for IPVS (see UnusableClass), or undefined. Throws on non-addresses. */
export function unusableClass(address: string): UnusableClass | undefined {
  if (isIPv4(address)) {
    // The first octet decides, but for the broadcast address; no bytes needed (100,000 real servers).
    const first = Number(address.slice(0, address.indexOf('.')));
    if (first === 0) return 'unspecified';
    if (first === 127) return 'loopback';
    if (first >= 224 && first <= 239) return 'multicast';
    if (address === '255.255.255.255') return 'broadcast';
    return undefined;
  }
  const b = addressToBytes(address);
  const zeroTo = (n: number) => b.subarray(0, n).every((x) => x === 0);
  if (zeroTo(16)) return 'unspecified';
  if (zeroTo(15) && b[15] === 1) return 'loopback';
  if (b[0] === 0xff) return 'multicast';
  if (zeroTo(10) && b[10] === 0xff && b[11] === 0xff) return 'ipv4-mapped';
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0x80) return 'link-local';
  return undefined;
}

/** An address with an optional port, as parseAddressPort reads it; `address` is canonical. */
export type AddressPort = { ok: true; address: string; family: Family; port?: number } | { ok: false; reason: string };

/**
 * `ADDRESS[:PORT]`, the one reading of it everywhere (config shorthands,
 * sorry servers, ipvsadm text): "192.0.2.10", "192.0.2.10:8080",
 * "2001:db8::10", "[2001:db8::10]" or "[2001:db8::10]:8080"; port 0..65535.
 * A bare IPv6 address takes no port (its colons would be ambiguous).
 */
export function parseAddressPort(text: string): AddressPort {
  let host = text;
  let portText: string | undefined;
  const bracket = /^\[([^\]]*)\](?::(.*))?$/.exec(text);
  if (bracket) {
    host = bracket[1]!;
    portText = bracket[2];
    if (familyOf(host) !== 'ipv6') return { ok: false, reason: `"${host}" in brackets is not an IPv6 address` };
  } else if (text.split(':').length === 2) {
    [host, portText] = text.split(':') as [string, string];
  }
  const family = familyOf(host);
  if (!family) return { ok: false, reason: `"${host}" is not an IP address` };
  const address = canonicalAddress(host);
  if (portText === undefined) return { ok: true, address, family };
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    return { ok: false, reason: `port "${portText}" is not a number from 0 to 65535` };
  }
  return { ok: true, address, family, port: Number(portText) };
}
