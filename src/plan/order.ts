/**
 * The canonical order of a service's real servers, and what it takes to
 * reach it. Pure.
 *
 * The kernel keeps a service's real servers in a list and puts every new one
 * at its head (`ip_vs_ctl.c`, `list_add_rcu`); the dump (GET_DEST) reads it
 * from the head. The `mh`, `sh` and `dh` schedulers build their lookup table
 * by walking that list, so two directors holding the same real servers in
 * another order send some flows to different real servers. lvsd therefore
 * adds real servers in one canonical order that depends on nothing but their
 * identities: by family (IPv4 first), address bytes, then port, ascending
 * from the head. To get there from an empty list it adds them in reverse.
 */
import { addressToBytes } from '../model/address.js';
import { isIgnored, realServerKey, serviceKey } from '../model/keys.js';
import type { IgnoreRule, RealServerId, ServiceEntry } from '../model/types.js';

/** Schedulers whose choice of real server depends on the order of the kernel's list. */
export const ORDER_SENSITIVE_SCHEDULERS: ReadonlySet<string> = new Set(['mh', 'sh', 'dh']);

/** True when the scheduler maps flows by the order of the real-server list (mh, sh, dh). */
export function isOrderSensitive(scheduler: string): boolean {
  return ORDER_SENSITIVE_SCHEDULERS.has(scheduler);
}

/** A text that sorts like the canonical order: family, address bytes, port, as fixed-width hex. */
export function canonicalSortKey(r: RealServerId): string {
  let hex = r.family === 'ipv4' ? '4' : '6';
  for (const b of addressToBytes(r.address)) hex += b.toString(16).padStart(2, '0');
  return hex + r.port.toString(16).padStart(4, '0');
}

/**
 * A key that sorts like canonicalSortKey, cheaper for IPv4 (the common case,
 * and a plan from empty sorts every real server): address and port as one
 * number below 2^48; IPv6 as canonicalSortKey's text, after every number.
 */
function fastKey(r: RealServerId): number | string {
  if (r.family !== 'ipv4') return canonicalSortKey(r);
  const a = r.address;
  let n = 0;
  let part = 0;
  for (let i = 0; i < a.length; i++) {
    const c = a.charCodeAt(i);
    if (c === 46) {
      n = n * 256 + part;
      part = 0;
    } else part = part * 10 + (c - 48);
  }
  return (n * 256 + part) * 65536 + r.port;
}

function compareKeys(a: number | string, b: number | string): number {
  if (typeof a === 'number') return typeof b === 'number' ? a - b : -1;
  if (typeof b === 'number') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The real servers in canonical order (the order the kernel lists them in after lvsd added them). */
export function canonicalOrder<T extends RealServerId>(servers: readonly T[]): T[] {
  if (servers.length < 2) return [...servers];
  const keyed = servers.map((r) => ({ r, k: fastKey(r) }));
  keyed.sort((a, b) => compareKeys(a.k, b.k));
  return keyed.map((x) => x.r);
}

/** The order to add real servers in so that the kernel, inserting each at the head, lists them canonically. */
export function addOrder<T extends RealServerId>(servers: readonly T[]): T[] {
  return canonicalOrder(servers).reverse();
}

/**
 * The live real servers that must be deleted and added again so that, with
 * the new ones (in `wanted`, not in `live`), the kernel's list becomes
 * `wanted` in canonical order; empty when the plain plan already gets there.
 *
 * Minimal: a real server that is not re-added keeps its place relative to
 * the others, and everything added goes to the head. So the real servers
 * kept must be the last ones of the canonical order, already live and
 * already in canonical order among themselves. The longest such tail is
 * kept; every other live real server is re-added, which no smaller set can
 * avoid. `live` is in kernel order (head first); duplicates count once.
 */
export function readdForOrder<T extends RealServerId, L extends RealServerId>(
  wanted: readonly T[],
  live: readonly L[],
): L[] {
  const position = new Map<string, number>();
  live.forEach((r, i) => {
    const k = realServerKey(r);
    if (!position.has(k)) position.set(k, i);
  });
  const seen = new Set<string>();
  const canonical = canonicalOrder(wanted).filter((r) => {
    const k = realServerKey(r);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  let kept = canonical.length;
  let next = Infinity;
  while (kept > 0) {
    const at = position.get(realServerKey(canonical[kept - 1]!));
    if (at === undefined || at >= next) break;
    next = at;
    kept--;
  }
  const byKey = new Map(live.map((r) => [realServerKey(r), r]));
  const out: L[] = [];
  for (const r of canonical.slice(0, kept)) {
    const have = byKey.get(realServerKey(r));
    if (have) out.push(have);
  }
  return out;
}

/** An order-sensitive service whose kernel list is not (or after the plain plan will not be) canonical. */
export interface OrderDrift {
  /** serviceKey. */
  service: string;
  scheduler: string;
  /** realServerKeys in kernel order (head first), as read. */
  live: string[];
  /** realServerKeys in the canonical order of the wanted real servers. */
  canonical: string[];
  /** realServerKeys `apply --reorder` deletes and adds again (the fewest that make the order canonical). */
  readd: string[];
}

/**
 * Order drift: the services scheduled by an order-sensitive scheduler (mh,
 * sh, dh) whose real servers the kernel lists, or will list after a plain
 * apply, in another order than the canonical one. `wanted` is the desired
 * state (or the live table itself, when there is no file to compare with);
 * services are matched by key and ignored ones are skipped.
 */
export function orderDrift(
  wanted: { services?: readonly ServiceEntry[]; ignore?: readonly IgnoreRule[] },
  live: { services: readonly ServiceEntry[] },
): OrderDrift[] {
  const ignore = wanted.ignore ?? [];
  const liveByKey = new Map<string, ServiceEntry>();
  for (const s of live.services) if (!isIgnored(s, ignore)) liveByKey.set(serviceKey(s), s);
  const out: OrderDrift[] = [];
  for (const want of wanted.services ?? []) {
    if (!isOrderSensitive(want.scheduler) || isIgnored(want, ignore)) continue;
    const key = serviceKey(want);
    const have = liveByKey.get(key);
    if (!have) continue;
    const readd = readdForOrder(want.realservers, have.realservers);
    if (readd.length === 0) continue;
    out.push({
      service: key,
      scheduler: want.scheduler,
      live: have.realservers.map(realServerKey),
      canonical: canonicalOrder(want.realservers).map(realServerKey),
      readd: readd.map(realServerKey),
    });
  }
  return out;
}
