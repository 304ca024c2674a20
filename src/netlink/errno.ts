/**
 * The errno values a netlink reply carries, by name: Node's table of the
 * host's <errno.h>, never numbers written by hand.
 */
import { constants } from 'node:os';

/** errno values by name (`ERRNO.ENOENT`). */
export const ERRNO = constants.errno;

const NAMES = new Map<number, string>(Object.entries(ERRNO).map(([k, v]) => [v, k]));

/** `EEXIST` for 17; `errno 999` for a number the table lacks. */
export function errnoName(errno: number): string {
  return NAMES.get(errno) ?? `errno ${errno}`;
}

/** EPERM or EACCES: the caller lacks root or CAP_NET_ADMIN. */
export function isPermissionErrno(errno: number): boolean {
  return errno === ERRNO.EPERM || errno === ERRNO.EACCES;
}

/** What lvsd says when the kernel refuses it for lack of privilege. */
export const PERMISSION_DENIED = 'permission denied: lvsd needs root or CAP_NET_ADMIN';
