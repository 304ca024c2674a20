/**
 * Words for addresses IPVS can never serve (model/address.ts unusableClass),
 * shared by the rules on vips, real servers, sorry servers and
 * realserver.vips. Ignore rules may name any prefix. Pure.
 */
import { unusableClass } from '../../model/address.js';
import type { UnusableClass } from '../../model/address.js';

const WHY: Record<UnusableClass, string> = {
  unspecified: 'is the unspecified address ("any"), never a destination',
  loopback: 'is a loopback address: it never leaves its host, so no client or director reaches it',
  multicast: 'is a multicast address: IPVS balances unicast connections only',
  broadcast: 'is the broadcast address, never routed',
  'ipv4-mapped': 'is an IPv4-mapped IPv6 address, which never appears in an IPv6 packet: write the IPv4 address',
  'link-local': 'is an IPv6 link-local address: it needs an interface (a zone) that IPVS cannot be given',
};

/** Why a canonical address can never be a VIP or real server ("is a loopback address..."), or undefined. */
export function unusableMessage(address: string): string | undefined {
  const c = unusableClass(address);
  return c === undefined ? undefined : WHY[c];
}
