/**
 * Reading single config values that need more than the schema: persistence
 * netmasks, ignore prefixes, the defaults section. Shared by the rules (which
 * report what is wrong) and normalize.ts (which trusts validated input). Pure.
 */
import { parseDuration } from './duration.js';
import {
  addressToBytes,
  bytesToAddress,
  familyOf,
  hostPrefixLength,
  maskToPrefix,
  prefixToMask,
} from '../model/address.js';
import type { Family } from '../model/types.js';

/** Default persistence timeout (ipvsadm -p without a value). */
export const DEFAULT_PERSISTENCE = 300;

/** A plain mapping from the YAML data. */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Own key check that works on anything. */
export function hasKey(v: unknown, key: string): boolean {
  return isRecord(v) && Object.hasOwn(v, key);
}

/** A whole number, or undefined. */
export function intOf(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isSafeInteger(v) ? v : undefined;
}

/** What a real server shorthand may look like, for messages. */
export const SHORTHAND_HELP = '"ADDRESS", "ADDRESS:PORT" or "[IPV6]:PORT"';

/**
 * A persistence netmask in its canonical text: IPv4 a dotted mask (from a
 * contiguous mask or a prefix length 0..32), IPv6 a prefix length 1..128 as
 * text. Undefined when the value does not fit the family.
 */
export function parseNetmask(value: unknown, family: Family): string | undefined {
  const length =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\d{1,3}$/.test(value)
        ? Number(value)
        : undefined;
  if (family === 'ipv6') {
    return length !== undefined && Number.isInteger(length) && length >= 1 && length <= 128
      ? String(length)
      : undefined;
  }
  if (length !== undefined)
    return Number.isInteger(length) && length >= 0 && length <= 32 ? prefixToMask(length) : undefined;
  if (typeof value !== 'string' || familyOf(value) !== 'ipv4') return undefined;
  const prefix = maskToPrefix(value);
  return prefix === undefined ? undefined : prefixToMask(prefix);
}

/** What a netmask may look like for a family, for messages. */
export function netmaskHelp(family: Family): string {
  return family === 'ipv4'
    ? 'an IPv4 service takes a mask like 255.255.255.0 or a prefix length from 0 to 32'
    : 'an IPv6 service takes a prefix length from 1 to 128';
}

export interface Prefix {
  network: string;
  length: number;
  family: Family;
}

/**
 * "10.96.0.0/12", "2001:db8::/32", or an address alone (/32 or /128). The
 * network comes back canonical, host bits cleared ("10.96.0.1/12" reads as
 * 10.96.0.0/12).
 */
export function parsePrefix(text: string): Prefix | undefined {
  const slash = text.indexOf('/');
  const host = slash < 0 ? text : text.slice(0, slash);
  const family = familyOf(host);
  if (!family) return undefined;
  const max: number = hostPrefixLength(family);
  let length = max;
  if (slash >= 0) {
    const lengthText = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(lengthText) || Number(lengthText) > max) return undefined;
    length = Number(lengthText);
  }
  const bytes = addressToBytes(host);
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.min(8, Math.max(0, length - i * 8));
    bytes[i] = bytes[i]! & ((0xff << (8 - keep)) & 0xff);
  }
  return { network: bytesToAddress(bytes), length, family };
}

export interface Defaults {
  scheduler: string;
  forward: 'dr' | 'nat' | 'tunnel';
  weight: number;
  /** Seconds; 0 deletes leaving real servers at once. */
  drain: number;
}

/** Built-in defaults: what ipvsadm uses (wlc, -g, -w 1). */
export const BUILTIN_DEFAULTS: Readonly<Defaults> = { scheduler: 'wlc', forward: 'dr', weight: 1, drain: 0 };

/**
 * The defaults in effect for every file: the `defaults` section (of the first
 * file that has one) over the built-in ones. Values of the wrong type are
 * skipped (the schema reports them).
 */
export function readDefaults(files: readonly { data: unknown }[]): Defaults {
  const out: Defaults = { ...BUILTIN_DEFAULTS };
  const section = files.map((f) => (isRecord(f.data) ? f.data['defaults'] : undefined)).find(isRecord);
  if (!section) return out;
  if (typeof section['scheduler'] === 'string') out.scheduler = section['scheduler'];
  const fwd = section['forward'];
  if (fwd === 'dr' || fwd === 'nat' || fwd === 'tunnel') out.forward = fwd;
  const weight = intOf(section['weight']);
  if (weight !== undefined) out.weight = weight;
  const drain = parseDuration(section['drain']);
  if (drain !== undefined) out.drain = drain;
  return out;
}
