/**
 * The bounds on what a config may make lvsd hold in memory, checked on the
 * data before the schema, the rules or normalize walk it. Pure.
 */
import { MAX_DEPTH } from './read-yaml.js';

/**
 * The largest config file lvsd reads: 64 MiB. The 10,000-service,
 * 100,000-real-server benchmark file is 4.6 MB in flow style and about 13 MB
 * in block style; 64 MiB holds a table several times that in any style, and
 * reading it stays within a few seconds and a few hundred MB. A bigger file
 * is a mistake (`-c /dev/sda`, a log file), not a config.
 */
export const MAX_FILE_BYTES = 64 * 1024 * 1024;

/**
 * The most real servers a config may declare, aliases counted each time they
 * are used: 1,000,000, ten times the largest table the benchmarks drive. 999
 * aliases of one 10,000-server pool would otherwise be 10 million real
 * servers (49 s and 970 MB before this bound).
 */
export const MAX_REAL_SERVERS = 1_000_000;

/**
 * The most values (collections and scalars) the data may expand to, aliases
 * counted each time they are used: 10,000,000. A file within MAX_FILE_BYTES
 * written without aliases has fewer (about 10 bytes of text per value), so
 * only aliases of aliases (a "billion laughs") or a cycle reach it.
 */
export const MAX_VALUES = 10_000_000;

/** Which bound the data passes over, if any. */
export type DataBound = { bound: 'depth' } | { bound: 'values' } | { bound: 'realservers'; count: number };

/** The first bound `data` passes over, or undefined. Never recurses, stops at the bound. */
export function overBound(data: unknown): DataBound | undefined {
  const servers = realServerCount(data);
  if (servers > MAX_REAL_SERVERS) return { bound: 'realservers', count: servers };
  let values = 0;
  const stack: Array<{ v: unknown; depth: number }> = [{ v: data, depth: 0 }];
  while (stack.length > 0) {
    const { v, depth } = stack.pop()!;
    if (++values > MAX_VALUES) return { bound: 'values' };
    if (v === null || typeof v !== 'object') continue;
    if (depth >= MAX_DEPTH) return { bound: 'depth' };
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push({ v: child, depth: depth + 1 });
  }
  return undefined;
}

/** Real servers across the services (a shared list counts once per service that uses it). */
function realServerCount(data: unknown): number {
  if (data === null || typeof data !== 'object') return 0;
  const services = (data as Record<string, unknown>)['services'];
  if (!Array.isArray(services)) return 0;
  let n = 0;
  for (const s of services) {
    const rs = s !== null && typeof s === 'object' ? (s as Record<string, unknown>)['realservers'] : undefined;
    if (Array.isArray(rs)) n += rs.length;
  }
  return n;
}
