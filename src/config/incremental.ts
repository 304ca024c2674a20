/**
 * The daemon's config loader: a change of a few lines costs what changed.
 * After a full load (load.ts) it keeps, per file, the bytes and where each
 * item of the block-style `services` list starts (items.ts), and per item
 * only the service it made (the desired state's own object) and two counts;
 * never a YAML document or the parsed data of 110,000 objects. When the
 * bytes of one file change inside its services list, only the items the
 * changed bytes touch (and one either side) are parsed, schema-checked,
 * checked by the service and real-server rules, and normalized; then the
 * rules across items are checked against indexes kept for the purpose:
 *
 * - duplicate service identities and names (servicesUnique): counts by key
 *   and by name over every file;
 * - services hidden by an ignore rule (ignoreHidesNoService): the changed
 *   services against the rules, which cannot have changed;
 * - the bounds on real servers and values (limits.ts): per-item counts;
 * - director.bind_vips and ip_forward (normalizeHost): the host part is
 *   made again from the sections, kept without the services, and the new list.
 *
 * The other rules over the whole config (sections in one file, top-level
 * durations, ignore vips, bind_vips needing services, sysctl keys) read only
 * what lies outside the services list, which an incremental load never sees
 * change. realserver.vips is checked against every service's VIP: a config
 * with both loads in full. So does anything else: a change outside the
 * services list, of more than one file or of the files' set, aliases or
 * merge keys, a key this loader does not know (a new section may have rules
 * across services), and every error: the full load reports errors with
 * their exact places, and the result keeps the previous valid config as the
 * base of the next change. Pure.
 */
import { ignoreMatcher, serviceKey } from '../model/keys.js';
import type { DesiredService, DesiredState } from '../model/types.js';
import { normalizeHost } from './host.js';
import { itemAt, scanItems, splitServices } from './items.js';
import { MAX_REAL_SERVERS, MAX_VALUES } from './limits.js';
import { hashTexts, loadParsed, type ConfigText, type LoadResult, type ParseCache } from './load.js';
import { normalizeService } from './normalize.js';
import { parseConfigText, type ParseResult } from './parse.js';
import { resolveService, type RecordFile, type ResolvedConfig } from './resolve.js';
import type { ConfigRule } from './rules/context.js';
import { announceFitsDirector, announceKeepsSloppy } from './rules/announce.js';
import { bindVipsNeedServices, realserverVips, sysctlKeysAreNetwork, vrrpOwnsVips } from './rules/host.js';
import { mixesFamilies, syncNeedsOneFamilyPerService, syncSettings } from './rules/sync.js';
import { topLevelDurationsInRange } from './rules/durations.js';
import { ignoreHidesNoService, ignoreVipIsPrefix } from './rules/ignore.js';
import { configDeclaresSomething, sectionInOneFile } from './rules/sections.js';
import { servicesUnique } from './rules/service.js';
import { validateServices } from './validate.js';
import { isRecord, readDefaults, type Defaults } from './values.js';

/**
 * How an incremental load keeps each rule over the whole config
 * (validate.ts CONFIG_RULES) true. A rule added there without a line here
 * fails test/unit/config/incremental.test.ts: decide first whether a change
 * of services can break it, and how the loader checks it then.
 */
export const CONFIG_RULE_HANDLING: ReadonlyMap<ConfigRule, string> = new Map<ConfigRule, string>([
  [sectionInOneFile, 'reads top-level keys only: outside the services list'],
  [configDeclaresSomething, 'reads top-level keys only: outside the services list'],
  [topLevelDurationsInRange, 'reads timeouts and defaults: outside the services list'],
  [ignoreVipIsPrefix, 'reads ignore rules: outside the services list'],
  [servicesUnique, 'indexed: counts of service keys and names over every file'],
  [ignoreHidesNoService, 'each changed service against the ignore rules, which cannot have changed'],
  [bindVipsNeedServices, 'reads whether a services list exists: outside the items'],
  [realserverVips, 'not incremental: a config with realserver.vips and services loads in full'],
  [sysctlKeysAreNetwork, 'reads sysctl keys: outside the services list'],
  [vrrpOwnsVips, 'reads director.vrrp and bind_vips: outside the services list'],
  [syncSettings, 'reads director.sync: outside the services list'],
  [syncNeedsOneFamilyPerService, 'each changed service against director.sync, which cannot have changed'],
  [announceFitsDirector, 'not incremental: a config with director.announce loads in full'],
  [announceKeepsSloppy, 'not incremental: a config with director.announce loads in full'],
]);

/** Top-level keys and the keys of their sections an incremental load knows the rules of. */
const KNOWN_KEYS: Record<string, readonly string[] | undefined> = {
  version: undefined,
  timeouts: undefined,
  defaults: undefined,
  ignore: undefined,
  services: undefined,
  director: ['bind_vips', 'ip_forward', 'sysctl', 'sync', 'vrrp'],
  realserver: ['vips', 'arp', 'tunnel', 'sysctl'],
};

/** One file of the base: its bytes, its items, and what each item made. */
interface FileBase {
  bytes: Buffer;
  /** Undefined when the file cannot be loaded incrementally, with why. */
  items?: FileItems;
  why: string;
}

interface FileItems {
  indent: number;
  starts: number[];
  end: number;
  /** Where this file's services begin in the desired state's list. */
  offset: number;
  services: DesiredService[];
  realservers: number[];
  values: number[];
  /** Values outside the services items (the file's mapping, its other sections, the list itself). */
  headValues: number;
}

/** The last valid config, as the next incremental load needs it. */
interface Base {
  names: string[];
  files: FileBase[];
  state: DesiredState;
  hash: string;
  defaults: Defaults;
  /** Each file's data without its services (the host sections). */
  heads: { data: unknown }[];
  hasHost: boolean;
  ignored: (id: DesiredService) => number;
  keyCounts: Map<string, number>;
  nameCounts: Map<string, number>;
  /** Why no file of this config loads incrementally, when so. */
  why?: string;
}

/** What the items between two byte offsets made, ready to replace the old ones. */
interface Replacement {
  file: number;
  /** Old items [first, last] are replaced. */
  first: number;
  last: number;
  starts: number[];
  services: DesiredService[];
  realservers: number[];
  values: number[];
  bytes: Buffer;
}

/**
 * Loads a config again and again (lvsd run), incrementally when it can;
 * each result's `delta` says how, and for a full load why.
 */
export class IncrementalLoader {
  private base: Base | undefined;
  /** Bytes of older versions of the files that nothing reads any more, by file: the next read may go there. */
  private readonly spares = new Map<string, Buffer>();

  constructor(private readonly cache?: ParseCache) {}

  /**
   * Loads `texts` (the main file, then the drop-ins): incrementally when it
   * can, in full when `full` says why it must.
   */
  load(texts: readonly ConfigText[], full?: string): LoadResult {
    const before = new Map(this.base?.names.map((n, i) => [n, this.base!.files[i]!.bytes]));
    const result = this.loadNow(texts, full);
    this.recycle(before, texts);
    return result;
  }

  private loadNow(texts: readonly ConfigText[], full?: string): LoadResult {
    const base = this.base;
    const tried = full ?? (base ? this.incremental(base, texts) : 'first load');
    if (typeof tried !== 'string') return tried;
    const { result, parsed } = loadParsed(texts, this.cache);
    if (result.ok && parsed) {
      // Let go of the old base first: building the new one holds the parse.
      this.base = undefined;
      this.base = makeBase(texts, parsed, result.state, result.hash);
    }
    return result.ok ? { ...result, delta: { mode: 'full', reason: tried } } : result;
  }

  /**
   * A buffer to read `file` into: the bytes of a version before the one this
   * loader compares with, which nothing reads any more. Taken: the loader
   * hands it out once.
   */
  spare(file: string): Buffer | undefined {
    const b = this.spares.get(file);
    this.spares.delete(file);
    return b;
  }

  /** After a load: of a file's old base bytes and the bytes just read, one the base does not hold is a spare. */
  private recycle(before: ReadonlyMap<string, Buffer>, texts: readonly ConfigText[]): void {
    const held = new Set<ArrayBufferLike>(this.base?.files.map((f) => f.bytes.buffer) ?? []);
    for (const t of texts) {
      const free = [before.get(t.file), t.bytes].find((b) => b !== undefined && !held.has(b.buffer));
      if (free) this.spares.set(t.file, Buffer.from(free.buffer, free.byteOffset, free.byteLength));
    }
  }

  private incremental(base: Base, texts: readonly ConfigText[]): LoadResult | string {
    if (base.why) return base.why;
    if (texts.length !== base.names.length || texts.some((t, i) => t.file !== base.names[i])) {
      return 'the set of config files changed';
    }
    const bytes = texts.map(bytesOf);
    const changed = bytes.flatMap((b, i) => (b.equals(base.files[i]!.bytes) ? [] : [i]));
    const previous = base.state;
    const unchanged = { mode: 'incremental' as const, changed: new Set<string>(), base: previous };
    if (changed.length === 0)
      return { ok: true, state: previous, files: base.names, hash: base.hash, warnings: [], delta: unchanged };
    if (changed.length > 1) return 'more than one config file changed';
    const i = changed[0]!;
    const r = replacement(base, i, bytes[i]!, texts[i]!.file);
    if (typeof r === 'string') return `${texts[i]!.file}: ${r}`;
    const keys = commit(base, r);
    if (typeof keys === 'string') return keys;
    base.hash = hashTexts(texts);
    return {
      ok: true,
      state: base.state,
      files: base.names,
      hash: base.hash,
      // A change with warnings loads in full (see replacement), so an incremental one has none.
      warnings: [],
      delta: { mode: 'incremental', changed: keys, base: previous },
    };
  }
}

function bytesOf(t: ConfigText): Buffer {
  return t.bytes ? Buffer.from(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength) : Buffer.from(t.text, 'utf8');
}

/** The base of a valid config just loaded in full; `why` says when nothing of it loads incrementally. */
function makeBase(
  texts: readonly ConfigText[],
  parsed: readonly ParseResult[],
  state: DesiredState,
  hash: string,
): Base {
  const records = parsed.filter((p): p is RecordFile<ParseResult> => isRecord(p.data));
  const heads = parsed.map((p) => ({ data: isRecord(p.data) ? withoutServices(p.data) : p.data }));
  const base: Base = {
    names: texts.map((t) => t.file),
    files: [],
    state,
    hash,
    defaults: readDefaults(records),
    heads,
    hasHost: heads.some((h) => isRecord(h.data) && (isRecord(h.data['director']) || isRecord(h.data['realserver']))),
    ignored: ignoreMatcher(state.ignore),
    keyCounts: new Map(),
    nameCounts: new Map(),
  };
  const unknown = heads.map((h) => unknownKey(h.data)).find((k) => k !== undefined);
  if (unknown) base.why = `${unknown} is not handled incrementally`;
  else if (state.services && records.some((r) => isRecord(r.data['realserver']) && 'vips' in r.data['realserver'])) {
    base.why = 'realserver.vips is checked against the VIPs of all services';
  }
  let offset = 0;
  parsed.forEach((p, i) => {
    base.files.push(fileBase(bytesOf(texts[i]!), p.data, state.services ?? [], offset));
    const list = isRecord(p.data) ? p.data['services'] : undefined;
    if (Array.isArray(list)) offset += list.filter(isRecord).length;
  });
  if (offset !== (state.services?.length ?? 0)) base.why ??= 'the services list could not be split into its items';
  for (const s of state.services ?? []) {
    count(base.keyCounts, serviceKey(s), 1);
    count(base.nameCounts, s.name, 1);
  }
  return base;
}

function withoutServices(data: Record<string, unknown>): Record<string, unknown> {
  const { services: _s, ...rest } = data;
  return rest;
}

function unknownKey(data: unknown): string | undefined {
  if (!isRecord(data)) return undefined;
  for (const [key, value] of Object.entries(data)) {
    if (!Object.hasOwn(KNOWN_KEYS, key)) return `the top-level key '${key}'`;
    const sub = KNOWN_KEYS[key];
    if (!sub || !isRecord(value)) continue;
    const odd = Object.keys(value).find((k) => !sub.includes(k));
    if (odd !== undefined) return `${key}.${odd}`;
  }
  return undefined;
}

function fileBase(bytes: Buffer, data: unknown, services: readonly DesiredService[], offset: number): FileBase {
  const list = isRecord(data) ? data['services'] : undefined;
  if (!Array.isArray(list)) return { bytes, why: 'the file has no services list' };
  const split = splitServices(bytes);
  if (typeof split === 'string') return { bytes, why: split };
  if (split.starts.length !== list.length) return { bytes, why: 'the services list could not be split into its items' };
  const items: FileItems = {
    ...split,
    offset,
    services: services.slice(offset, offset + list.length),
    realservers: list.map(realServersOf),
    values: list.map(valuesOf),
    headValues: valuesOf(withoutServices(data as Record<string, unknown>)) + 1,
  };
  return { bytes, items, why: '' };
}

function realServersOf(item: unknown): number {
  const rs = isRecord(item) ? item['realservers'] : undefined;
  return Array.isArray(rs) ? rs.length : 0;
}

/** Values in `data` as limits.ts counts them: every scalar and collection. */
function valuesOf(data: unknown): number {
  let n = 0;
  const stack: unknown[] = [data];
  while (stack.length > 0) {
    const v = stack.pop();
    n++;
    if (v !== null && typeof v === 'object')
      for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push(child);
  }
  return n;
}

function count(map: Map<string, number>, key: string, by: number): void {
  const n = (map.get(key) ?? 0) + by;
  if (n === 0) map.delete(key);
  else map.set(key, n);
}

/** The longest common start of two buffers, compared in chunks (memcmp) first. */
function commonPrefix(a: Buffer, b: Buffer, max: number): number {
  const CHUNK = 16_384;
  let i = 0;
  while (i + CHUNK <= max && a.subarray(i, i + CHUNK).equals(b.subarray(i, i + CHUNK))) i += CHUNK;
  while (i < max && a[i] === b[i]) i++;
  return i;
}

/** The longest common end of two buffers, at most `max` bytes. */
function commonSuffix(a: Buffer, b: Buffer, max: number): number {
  const CHUNK = 16_384;
  let i = 0;
  while (
    i + CHUNK <= max &&
    a.subarray(a.length - i - CHUNK, a.length - i).equals(b.subarray(b.length - i - CHUNK, b.length - i))
  )
    i += CHUNK;
  while (i < max && a[a.length - 1 - i] === b[b.length - 1 - i]) i++;
  return i;
}

/** The items of file `i` that the change touches, made again from the new bytes; or why not. */
function replacement(base: Base, i: number, bytes: Buffer, file: string): Replacement | string {
  const old = base.files[i]!;
  const items = old.items;
  if (!items) return old.why;
  // An alias makes one item's value depend on another's text.
  if (bytes.includes('*') || bytes.includes('<<')) return 'the file has aliases or merge keys';
  const a = old.bytes;
  const p = commonPrefix(a, bytes, Math.min(a.length, bytes.length));
  const q = commonSuffix(a, bytes, Math.min(a.length, bytes.length) - p);
  const changedEnd = a.length - q;
  if (p < items.starts[0]! || changedEnd > items.end) return 'a line outside the services list changed';
  // One item either side: a changed line may belong to the item before, or end the one after.
  const first = Math.max(0, itemAt(items.starts, Math.max(p - 1, items.starts[0]!)) - 1);
  const last = Math.min(items.starts.length - 1, itemAt(items.starts, Math.max(changedEnd - 1, p)) + 1);
  const from = items.starts[first]!;
  const oldTo = last + 1 < items.starts.length ? items.starts[last + 1]! : items.end;
  const to = oldTo + bytes.length - a.length;
  const scan = scanItems(bytes, from, to, items.indent);
  if (typeof scan === 'string') return scan;
  if (scan.end !== to) return 'a line outside the services list changed';
  const made = makeItems(base, bytes, from, to, scan.starts.length, file);
  if (typeof made === 'string') return made;
  return { file: i, first, last, starts: scan.starts, bytes, ...made };
}

/** Parses, checks and normalizes `n` items between two offsets; or why not. */
function makeItems(
  base: Base,
  bytes: Buffer,
  from: number,
  to: number,
  n: number,
  file: string,
): Pick<Replacement, 'services' | 'realservers' | 'values'> | string {
  const text = bytes.toString('utf8', from, to);
  const parsed = parseConfigText(`version: 1\nservices:\n${text}`, file);
  if (parsed.errors.length > 0) return 'a changed service has errors';
  const list = (parsed.data as Record<string, unknown>)['services'];
  if (!Array.isArray(list) || list.length !== n || !list.every(isRecord)) {
    return 'the changed lines are not whole services';
  }
  const src = parsed as RecordFile<ParseResult>;
  const resolved = list.map((raw, k) => resolveService(src, k, raw, base.defaults));
  const config: ResolvedConfig<ParseResult> = {
    files: [src],
    records: [src],
    defaults: base.defaults,
    services: resolved,
    ignore: [],
    hasServices: true,
  };
  const checked = validateServices(resolved, config);
  if (checked.errors.length > 0) return 'a changed service has errors';
  // syncNeedsOneFamilyPerService, for the changed services: the full load reports it.
  if (base.state.sync !== undefined && resolved.some(mixesFamilies)) {
    return 'a changed service mixes address families while director.sync is set';
  }
  // Warnings are logged once per config content from a full load, which has them all.
  if (checked.warnings.length > 0) return 'a changed service has warnings';
  const services = resolved.map((s) => normalizeService(s, base.defaults));
  if (services.some((s) => base.ignored(s) >= 0)) return 'a changed service is matched by an ignore rule';
  return { services, realservers: list.map(realServersOf), values: list.map(valuesOf) };
}

/** Puts the replacement in the base when the rules across items allow; returns the keys that changed, or why not. */
function commit(base: Base, r: Replacement): ReadonlySet<string> | string {
  const file = base.files[r.file]!;
  const items = file.items!;
  const removed = items.services.slice(r.first, r.last + 1);
  const changed = changedKeys(removed, r.services);
  const keys = new Map<string, number>();
  const names = new Map<string, number>();
  for (const s of removed) {
    count(keys, serviceKey(s), -1);
    count(names, s.name, -1);
  }
  for (const s of r.services) {
    count(keys, serviceKey(s), 1);
    count(names, s.name, 1);
  }
  for (const [k, d] of keys) if ((base.keyCounts.get(k) ?? 0) + d > 1) return 'a changed service repeats an identity';
  for (const [k, d] of names) if ((base.nameCounts.get(k) ?? 0) + d > 1) return 'a changed service repeats a name';
  const sum = (xs: readonly number[], from: number, to: number) => xs.slice(from, to).reduce((x, y) => x + y, 0);
  const realservers =
    sum(items.realservers, 0, Infinity) - sum(items.realservers, r.first, r.last + 1) + sum(r.realservers, 0, Infinity);
  const values =
    items.headValues +
    sum(items.values, 0, Infinity) -
    sum(items.values, r.first, r.last + 1) +
    sum(r.values, 0, Infinity);
  if (realservers > MAX_REAL_SERVERS || values > MAX_VALUES) return 'the services pass a bound on their size';
  for (const [k, d] of keys) count(base.keyCounts, k, d);
  for (const [k, d] of names) count(base.nameCounts, k, d);
  splice(base, r);
  return changed;
}

/** The keys of the services that differ between the old items and the new (an item either side is often the same). */
function changedKeys(before: readonly DesiredService[], after: readonly DesiredService[]): Set<string> {
  const was = new Map(before.map((s) => [serviceKey(s), JSON.stringify(s)]));
  const out = new Set<string>();
  for (const s of after) {
    const key = serviceKey(s);
    if (was.get(key) !== JSON.stringify(s)) out.add(key);
    was.delete(key);
  }
  for (const key of was.keys()) out.add(key);
  return out;
}

/** Replaces the items in the file and their services in the desired state. */
function splice(base: Base, r: Replacement): void {
  const file = base.files[r.file]!;
  const items = file.items!;
  const shift = r.bytes.length - file.bytes.length;
  const tail = items.starts.slice(r.last + 1).map((s) => s + shift);
  items.starts = [...items.starts.slice(0, r.first), ...r.starts, ...tail];
  items.end += shift;
  const removed = r.last + 1 - r.first;
  items.services.splice(r.first, removed, ...r.services);
  items.realservers.splice(r.first, removed, ...r.realservers);
  items.values.splice(r.first, removed, ...r.values);
  file.bytes = r.bytes;
  const all = base.state.services!;
  const services = [
    ...all.slice(0, items.offset + r.first),
    ...r.services,
    ...all.slice(items.offset + r.first + removed),
  ];
  const delta = r.services.length - removed;
  if (delta !== 0) for (const f of base.files.slice(r.file + 1)) if (f.items) f.items.offset += delta;
  const state: DesiredState = { ...base.state, services };
  if (base.hasHost) {
    const host = normalizeHost(base.heads, services);
    if (host) state.host = host;
  }
  base.state = state;
}
