/**
 * Follows the host's addresses over rtnetlink: one socket subscribed to
 * RTNLGRP_IPV4_IFADDR and RTNLGRP_IPV6_IFADDR, a dump at start and after
 * the kernel dropped notifications (ENOBUFS on the socket). keepalived adds
 * and removes a VRRP pair's VIPs; lvsd follows them this way, which needs no
 * notify script and sees what the kernel holds, not what keepalived meant.
 */
import { createRtNetlink, FlagsGet, type RtNetlinkSocket } from 'netlink';
import { LvsdError } from '../errors.js';
import { HeldAddresses } from './held-addresses.js';
import { decodeAddress, encodeAddressDump, RTM_DELADDR, RTM_GETADDR, RTM_NEWADDR } from './rtnl-codec.js';

/** Based on <linux/rtnetlink.h> (enum rtnetlink_groups). */
const RTNLGRP_IPV4_IFADDR = 5;
const RTNLGRP_IPV6_IFADDR = 9;

export interface AddressWatchOptions {
  /** The set of held addresses changed (after a dump or a notification). */
  onChange: (held: HeldAddresses) => void;
  onError: (e: Error) => void;
}

/** A running watch; `close` ends it. */
export interface AddressWatch {
  readonly held: HeldAddresses;
  close(): void;
}

/** Subscribes, then dumps; resolves once the first dump is in. */
export async function watchAddresses(opts: AddressWatchOptions): Promise<AddressWatch> {
  let sock: RtNetlinkSocket;
  try {
    sock = createRtNetlink();
  } catch (e) {
    throw new LvsdError('HOST_KERNEL', `cannot open an rtnetlink socket: ${(e as Error).message}`, { cause: e });
  }
  const held = new HeldAddresses();
  let closed = false;
  const dump = async (): Promise<void> => {
    held.beginDump();
    const [msgs] = await sock.socket.request(RTM_GETADDR, encodeAddressDump(), { flags: FlagsGet.DUMP });
    const list = [];
    for (const m of msgs) {
      const a = m.type === RTM_NEWADDR ? decodeAddress(m.data) : undefined;
      if (a) list.push({ index: a.index, address: a.address });
    }
    held.replace(list);
    opts.onChange(held);
  };
  sock.socket.on('message', (msgs) => {
    let changed = false;
    for (const m of msgs) {
      if (m.type !== RTM_NEWADDR && m.type !== RTM_DELADDR) continue;
      const a = decodeAddress(m.data);
      if (a)
        changed =
          held.apply({ kind: m.type === RTM_NEWADDR ? 'new' : 'del', index: a.index, address: a.address }) || changed;
    }
    if (changed) opts.onChange(held);
  });
  sock.socket.on('error', (e) => {
    if (closed) return;
    // Notifications were lost (the receive buffer overflowed): only a new dump tells the truth.
    opts.onError(new LvsdError('HOST_KERNEL', `address notifications: ${e.message}; reading the addresses again`));
    dump().catch((err: Error) => opts.onError(err));
  });
  try {
    sock.socket.addMembership(RTNLGRP_IPV4_IFADDR);
    sock.socket.addMembership(RTNLGRP_IPV6_IFADDR);
    await dump();
  } catch (e) {
    sock.socket.close();
    throw new LvsdError('HOST_KERNEL', `cannot follow the host's addresses: ${(e as Error).message}`, { cause: e });
  }
  return {
    held,
    close: () => {
      closed = true;
      sock.socket.close();
    },
  };
}
