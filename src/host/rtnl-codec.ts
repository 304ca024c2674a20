/**
 * rtnetlink address messages (struct ifaddrmsg + IFA_* attributes), written
 * here because the netlink package's rt module neither writes nor reads
 * IFA_PROTO, lvsd's ownership mark. Pure.
 * Based on <linux/if_addr.h> and <linux/rtnetlink.h> (Linux 6.1).
 */
import { addressToBytes, bytesToAddress, type Family } from '../model/address.js';
import { AF_INET, AF_INET6 } from '../netlink/constants.js';
import { attr, hostU32, parseAttrs, readStr, readU32, str, u8 } from '../netlink/wire.js';

export const RTM_NEWADDR = 20;
export const RTM_DELADDR = 21;
export const RTM_GETADDR = 22;
export const IFA_ADDRESS = 1;
export const IFA_LOCAL = 2;
export const IFA_LABEL = 3;
export const IFA_PROTO = 11; // Linux 5.18+
export const IFA_F_NODAD = 0x02;

export interface AddressMessage {
  family: Family;
  prefix: number;
  index: number;
  address: string;
  label?: string;
  proto?: number;
}

/** struct ifaddrmsg: family, prefixlen, flags, scope (universe), ifindex (host order). */
function ifaddrmsg(family: Family, prefix: number, flags: number, index: number): Buffer {
  return Buffer.concat([Buffer.of(family === 'ipv4' ? AF_INET : AF_INET6, prefix, flags, 0), hostU32(index)]);
}

/** The body of an RTM_NEWADDR / RTM_DELADDR request. */
export function encodeAddress(m: AddressMessage, nodad = false): Buffer {
  const bytes = addressToBytes(m.address);
  const parts = [
    ifaddrmsg(m.family, m.prefix, nodad ? IFA_F_NODAD : 0, m.index),
    attr(IFA_LOCAL, bytes),
    attr(IFA_ADDRESS, bytes),
  ];
  if (m.label !== undefined) parts.push(str(IFA_LABEL, m.label));
  if (m.proto !== undefined) parts.push(u8(IFA_PROTO, m.proto));
  return Buffer.concat(parts);
}

/** The body of an RTM_GETADDR dump request for every family. */
export function encodeAddressDump(): Buffer {
  return Buffer.alloc(8);
}

/** An RTM_NEWADDR message body, or undefined for families other than IPv4/IPv6. */
export function decodeAddress(body: Buffer): AddressMessage | undefined {
  const family = body[0] === AF_INET ? 'ipv4' : body[0] === AF_INET6 ? 'ipv6' : undefined;
  if (!family) return undefined;
  const attrs = parseAttrs(body.subarray(8));
  const bytes = attrs.get(IFA_LOCAL) ?? attrs.get(IFA_ADDRESS);
  if (!bytes) return undefined;
  const m: AddressMessage = { family, prefix: body[1]!, index: readU32(body, 4), address: bytesToAddress(bytes) };
  const label = attrs.get(IFA_LABEL);
  if (label) m.label = readStr(label);
  const proto = attrs.get(IFA_PROTO);
  if (proto?.length) m.proto = proto[0]!;
  return m;
}
