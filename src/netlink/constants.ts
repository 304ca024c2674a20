/**
 * Netlink and generic netlink constants, shared by every netlink family lvsd
 * speaks (IPVS over generic netlink, addresses over rtnetlink).
 * Based on <linux/netlink.h>, <linux/genetlink.h> and <linux/socket.h>
 * (Linux 6.1); values are ABI and never change.
 */

// <linux/netlink.h>
export const NETLINK_GENERIC = 16;
export const NLMSG_HDRLEN = 16;
export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLM_F_REQUEST = 0x01;
export const NLM_F_MULTI = 0x02;
export const NLM_F_ACK = 0x04;
export const NLM_F_DUMP = 0x300; // NLM_F_ROOT | NLM_F_MATCH
export const NLA_HDRLEN = 4;
export const NLA_F_NESTED = 0x8000;
export const NLA_TYPE_MASK = 0x3fff;

// <linux/genetlink.h>
export const GENL_HDRLEN = 4;
export const GENL_ID_CTRL = 16;
export const CTRL_CMD_GETFAMILY = 3;
export const CTRL_ATTR_FAMILY_ID = 1;
export const CTRL_ATTR_FAMILY_NAME = 2;
export const CTRL_ATTR_VERSION = 3;

// <linux/socket.h>: the address families IPVS and rtnetlink messages carry.
export const AF_INET = 2;
export const AF_INET6 = 10;
