/**
 * The plan: the smallest list of kernel operations that turns the live IPVS
 * table into the desired one, ordered so live traffic keeps flowing. Pure.
 * Each change gets its phase here, where it is made (change.ts).
 */
import { bareRealServer, bareService, isIgnored, realServerKey, serviceIdOf, serviceKey } from '../model/keys.js';
import type { IpvsOp } from '../model/ops.js';
import { TIMEOUT_KEYS } from '../model/timeouts.js';
import type {
  DesiredState,
  LiveState,
  RealServer,
  Service,
  ServiceEntry,
  ServiceId,
  Timeouts,
} from '../model/types.js';
import { addOrder, isOrderSensitive, readdForOrder } from './order.js';
import {
  type Change,
  type FieldChange,
  inPhaseOrder,
  type Plan,
  type RealServerChange,
  type ServiceChange,
  type TimeoutsChange,
} from './change.js';

type Flat = Record<string, unknown>;

/** How diff plans beyond making the table equal. */
export interface DiffOptions {
  /** Re-add real servers of order-sensitive services so their kernel list is in canonical order. */
  reorder?: boolean;
}

/** Timeout keys as the config file spells them. */

/**
 * The attributes of a service the kernel edits in place, flattened under the
 * config file's names. Optional parts (persistence, pe) are left out when
 * absent, so that adding or removing them shows as fields appearing.
 */
export function serviceFields(s: Service): Flat {
  const f: Flat = { scheduler: s.scheduler, flags: [...s.flags] };
  if (s.persistence) {
    f['persistence.timeout'] = s.persistence.timeout;
    f['persistence.netmask'] = s.persistence.netmask;
  }
  f['one_packet'] = s.onePacket;
  if (s.pe !== undefined) f['pe'] = s.pe;
  return f;
}

/** The attributes of a real server the kernel edits in place, flattened like serviceFields. */
export function realServerFields(r: RealServer): Flat {
  const f: Flat = {
    forward: r.forward,
    weight: r.weight,
    upper_threshold: r.upperThreshold,
    lower_threshold: r.lowerThreshold,
  };
  if (r.tunnel) {
    f['tunnel.type'] = r.tunnel.type;
    f['tunnel.port'] = r.tunnel.port;
    f['tunnel.checksum'] = r.tunnel.checksum;
  }
  return f;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => v === b[i]);
  return a === b;
}

/** The fields whose values differ between two flattened objects; empty when equal. */
function fieldDiff(oldF: Flat, newF: Flat): Record<string, FieldChange> {
  const out: Record<string, FieldChange> = {};
  const note = (k: string) => {
    const o = oldF[k];
    const n = newF[k];
    if (sameValue(o, n)) return;
    const fc: FieldChange = {};
    if (o !== undefined) fc.old = o;
    if (n !== undefined) fc.new = n;
    out[k] = fc;
  };
  for (const k in newF) note(k);
  for (const k in oldF) if (!(k in newF)) note(k);
  return out;
}

function isEmpty(o: object): boolean {
  for (const _ in o) return false;
  return true;
}

/**
 * `{ new: v }` and `{ old: v }` of a primitive value, one frozen object per
 * value: an add of 100,000 real servers names a handful of values, and a
 * plan that large spent most of its time collecting garbage.
 */
const SHARED = { new: new Map<unknown, FieldChange>(), old: new Map<unknown, FieldChange>() };
const SHARED_MAX = 4096;

function side(which: 'new' | 'old', v: unknown): FieldChange {
  if (v !== null && typeof v === 'object') return which === 'new' ? { new: v } : { old: v };
  const cache = SHARED[which];
  let f = cache.get(v);
  if (f === undefined) {
    if (cache.size >= SHARED_MAX) cache.clear();
    f = Object.freeze(which === 'new' ? { new: v } : { old: v });
    cache.set(v, f);
  }
  return f;
}

function onlyNew(f: Flat): Record<string, FieldChange> {
  const out: Record<string, FieldChange> = {};
  for (const k in f) out[k] = side('new', f[k]);
  return out;
}

function onlyOld(f: Flat): Record<string, FieldChange> {
  const out: Record<string, FieldChange> = {};
  for (const k in f) out[k] = side('old', f[k]);
  return out;
}

/**
 * True when fieldDiff(serviceFields(a), serviceFields(b)) is empty, without
 * building either: a no-op reconcile compares 110,000 objects. The property
 * tests (test/unit/plan/properties.test.ts) hold the two to the same answer.
 */
function sameServiceAttrs(a: Service, b: Service): boolean {
  if (a.scheduler !== b.scheduler || a.onePacket !== b.onePacket || a.pe !== b.pe || !sameValue(a.flags, b.flags))
    return false;
  if (a.persistence === undefined || b.persistence === undefined) return a.persistence === b.persistence;
  return a.persistence.timeout === b.persistence.timeout && a.persistence.netmask === b.persistence.netmask;
}

/** True when fieldDiff(realServerFields(a), realServerFields(b)) is empty, without building either. */
function sameRealServerAttrs(a: RealServer, b: RealServer): boolean {
  if (
    a.forward !== b.forward ||
    a.weight !== b.weight ||
    a.upperThreshold !== b.upperThreshold ||
    a.lowerThreshold !== b.lowerThreshold
  )
    return false;
  if (a.tunnel === undefined || b.tunnel === undefined) return a.tunnel === b.tunnel;
  return a.tunnel.type === b.tunnel.type && a.tunnel.port === b.tunnel.port && a.tunnel.checksum === b.tunnel.checksum;
}

/** A service change: adds and edits go before the real server changes, deletes after them. */
function serviceChange(
  action: Change['action'],
  service: string,
  fields: Record<string, FieldChange>,
  op: IpvsOp,
): ServiceChange {
  return { action, kind: 'service', phase: action === 'delete' ? 'service-deletes' : 'services', service, fields, op };
}

/** A real server change: after its service is added, before a service is deleted. */
function realServerChange(
  action: Change['action'],
  service: string,
  realserver: string,
  fields: Record<string, FieldChange>,
  op: IpvsOp,
): RealServerChange {
  return { action, kind: 'realserver', phase: 'realservers', service, realserver, fields, op };
}

function timeoutsChange(desired: DesiredState, live: LiveState): TimeoutsChange | undefined {
  if (!desired.timeouts) return undefined;
  const set: Partial<Timeouts> = {};
  const fields: Record<string, FieldChange> = {};
  for (const { field: key, key: name } of TIMEOUT_KEYS) {
    const want = desired.timeouts[key];
    // 0 tells the kernel "keep the current value", so it can never be reached: not managed.
    if (want === undefined || want === 0 || want === live.timeouts[key]) continue;
    set[key] = want;
    fields[name] = { old: live.timeouts[key], new: want };
  }
  if (Object.keys(set).length === 0) return undefined;
  // With the service adds: a new service's connections get the new timeouts.
  return { action: 'edit', kind: 'timeouts', phase: 'services', fields, op: { op: 'set-timeouts', timeouts: set } };
}

/**
 * Compares the desired state with the live table and returns the operations
 * that make the live table match, in phase order (change.ts): timeouts,
 * service adds and edits; real server adds, then edits, then deletes (a pool
 * is filled before it is drained); service deletes. Objects are matched by their canonical
 * keys, so a change of identity is a delete and an add; any other change is a
 * single in-place edit.
 *
 * Services matched by `desired.ignore` are invisible, on both sides: an
 * ignored live service is never touched, and a desired service that an ignore
 * rule also matches is skipped too (config validation reports that overlap;
 * the promise that ignored services are left alone wins here).
 *
 * `desired.services === undefined` leaves services alone entirely; `[]`
 * deletes every live service that is not ignored. Runs in time linear in the
 * size of both tables (plus sorting each service's new real servers).
 *
 * A service's new real servers are added in reverse canonical order
 * (order.ts), so that the kernel, which puts each at the head of its list,
 * lists them canonically. With `options.reorder`, a service whose scheduler
 * depends on that order (mh, sh, dh) also gets the fewest of its live real
 * servers deleted and added again that make its list canonical.
 */
export function diff(desired: DesiredState, live: LiveState, options: DiffOptions = {}): Plan {
  const plan: Plan = [];
  const t = timeoutsChange(desired, live);
  if (t) plan.push(t);
  if (desired.services === undefined) return plan;

  const liveByKey = new Map<string, ServiceEntry>();
  for (const s of live.services) {
    if (!isIgnored(s, desired.ignore)) liveByKey.set(serviceKey(s), s);
  }

  const services: Change[] = [];
  const rs: RealServerSinks = { adds: [], edits: [], deletes: [] };
  const seen = new Set<string>();

  for (const want of desired.services) {
    if (isIgnored(want, desired.ignore)) continue;
    const key = serviceKey(want);
    // Config validation rejects duplicate identities; should one slip through, the first wins.
    if (seen.has(key)) continue;
    seen.add(key);
    const have = liveByKey.get(key);
    if (!have) {
      const svc = bareService(want);
      services.push(serviceChange('add', key, onlyNew(serviceFields(svc)), { op: 'add-service', service: svc }));
    } else if (!sameServiceAttrs(have, want)) {
      const fields = fieldDiff(serviceFields(have), serviceFields(want));
      if (!isEmpty(fields)) {
        services.push(serviceChange('edit', key, fields, { op: 'edit-service', service: bareService(want) }));
      }
    }
    const reorder = options.reorder === true && isOrderSensitive(want.scheduler);
    diffRealServers(key, serviceIdOf(want), want.realservers, have?.realservers ?? [], rs, reorder);
  }

  for (const [key, have] of liveByKey) {
    if (seen.has(key)) continue;
    const op: IpvsOp = { op: 'delete-service', service: serviceIdOf(have) };
    services.push(serviceChange('delete', key, onlyOld(serviceFields(have)), op));
  }

  // Within the real server phase, a pool is filled before it is drained.
  return inPhaseOrder(plan.concat(services, rs.adds, rs.edits, rs.deletes));
}

const sameId = (a: RealServer, b: RealServer): boolean =>
  a.address === b.address && a.port === b.port && a.family === b.family;

/**
 * `had` reordered to match `wanted` one to one, when the two hold the same
 * real servers in the same or in reverse order (the kernel lists a service's
 * real servers newest first); undefined otherwise.
 */
function pairedByPosition(
  wanted: readonly RealServer[],
  had: readonly RealServer[],
): readonly RealServer[] | undefined {
  const n = wanted.length;
  if (had.length !== n) return undefined;
  let i = 0;
  while (i < n && sameId(wanted[i]!, had[i]!)) i++;
  if (i === n) return had;
  i = 0;
  while (i < n && sameId(wanted[i]!, had[n - 1 - i]!)) i++;
  if (i === n) return [...had].reverse();
  return undefined;
}

interface RealServerSinks {
  adds: Change[];
  edits: Change[];
  deletes: Change[];
}

/** The edit that turns `have` into `want` (the same real server), or undefined when they agree. */
function realServerEdit(key: string, svc: ServiceId, have: RealServer, want: RealServer): RealServerChange | undefined {
  if (sameRealServerAttrs(have, want)) return undefined;
  const fields = fieldDiff(realServerFields(have), realServerFields(want));
  if (isEmpty(fields)) return undefined;
  const op: IpvsOp = { op: 'edit-realserver', service: svc, realserver: bareRealServer(want) };
  return realServerChange('edit', key, realServerKey(want), fields, op);
}

/** Why a real server is deleted and added again. */
const READD_NOTE = 're-added for the canonical real-server order';

function diffRealServers(
  key: string,
  svc: ServiceId,
  wanted: readonly RealServer[],
  had: readonly RealServer[],
  { adds, edits, deletes }: RealServerSinks,
  reorder: boolean,
): void {
  const readd = reorder ? new Set(readdForOrder(wanted, had).map(realServerKey)) : undefined;
  const byPosition = pairedByPosition(wanted, had);
  if (byPosition && !readd?.size) {
    // The common case (same real servers, listed in the same or the kernel's reverse order): no keys, no maps.
    for (let i = 0; i < wanted.length; i++) {
      const edit = realServerEdit(key, svc, byPosition[i]!, wanted[i]!);
      if (edit) edits.push(edit);
    }
    return;
  }
  const haveByKey = new Map<string, RealServer>();
  for (const r of had) haveByKey.set(realServerKey(r), r);
  const seen = new Set<string>();
  const added: RealServer[] = [];
  for (const w of wanted) {
    const rk = realServerKey(w);
    if (seen.has(rk)) continue;
    seen.add(rk);
    const have = haveByKey.get(rk);
    // A re-added real server gets the wanted values with its add: no separate edit.
    if (!have || readd?.has(rk)) {
      added.push(w);
      continue;
    }
    const edit = realServerEdit(key, svc, have, w);
    if (edit) edits.push(edit);
  }
  for (const w of addOrder(added)) {
    const rk = realServerKey(w);
    const rs = bareRealServer(w);
    const again = readd?.has(rk) === true;
    if (again) adds.push(realServerDelete(key, svc, haveByKey.get(rk)!, READD_NOTE));
    const add = realServerChange('add', key, rk, onlyNew(realServerFields(rs)), {
      op: 'add-realserver',
      service: svc,
      realserver: rs,
    });
    if (again) add.note = READD_NOTE;
    adds.push(add);
  }
  for (const [rk, have] of haveByKey) {
    if (!seen.has(rk)) deletes.push(realServerDelete(key, svc, have));
  }
}

/** The change that deletes a live real server; `note` says why when the file alone does not. */
function realServerDelete(key: string, svc: ServiceId, have: RealServer, note?: string): RealServerChange {
  const id = { family: have.family, address: have.address, port: have.port };
  const op: IpvsOp = { op: 'delete-realserver', service: svc, realserver: id };
  const c = realServerChange('delete', key, realServerKey(have), onlyOld(realServerFields(have)), op);
  if (note !== undefined) c.note = note;
  return c;
}
