/**
 * A plan for people (text lines) and for tools (JSON). Pure.
 */
import { type Change, type FieldChange, isHostChange, type Plan } from './change.js';

const SIGN: Record<Change['action'], string> = { add: '+', edit: '~', delete: '-' };

/**
 * Values a new object gets when the config leaves them out; an add line does
 * not spell them out, so that it reads like the config that asked for it.
 */
const ADD_DEFAULTS: Record<string, unknown> = {
  flags: [],
  one_packet: false,
  upper_threshold: 0,
  lower_threshold: 0,
  'tunnel.port': 0,
  'tunnel.checksum': 'none',
};

function text(v: unknown): string {
  if (v === undefined || v === null) return 'none';
  if (Array.isArray(v)) return v.length === 0 ? 'none' : v.map(text).join(',');
  return String(v);
}

function isDefault(name: string, v: unknown): boolean {
  const d = ADD_DEFAULTS[name];
  if (Array.isArray(d)) return Array.isArray(v) && v.length === d.length;
  return name in ADD_DEFAULTS && v === d;
}

function subject(c: Change): string {
  if (c.kind === 'timeouts') return 'timeouts';
  if (c.kind === 'sync') return `sync daemon ${c.target}`;
  if (isHostChange(c)) return `${c.kind} ${c.target}`;
  if (c.kind === 'realserver') return `realserver ${c.service ?? '?'} -> ${c.realserver ?? '?'}`;
  return `service ${c.service ?? '?'}`;
}

function details(c: Change): string {
  const entries = Object.entries(c.fields);
  if (c.action === 'delete' || c.kind === 'address') return '';
  // A restart's start shows what changed, old => new.
  if (c.kind === 'sync' && entries.some(([, f]) => f.old !== undefined))
    return entries.map(([k, f]) => `${k} ${text(f.old)} => ${text(f.new)}`).join(', ');
  if (c.action === 'add') {
    return entries
      .filter(([k, f]) => !isDefault(k, f.new))
      .map(([k, f]) => `${k}=${text(f.new)}`)
      .join(' ');
  }
  return entries.map(([k, f]) => `${k} ${text(f.old)} => ${text(f.new)}`).join(', ');
}

/**
 * One line for one change, e.g.
 * `~ realserver tcp/192.0.2.1:80 -> 198.51.100.5:80 weight 1 => 3`.
 */
export function formatChange(c: Change): string {
  const d = details(c);
  return `${SIGN[c.action]} ${subject(c)}${d ? ' ' + d : ''}${c.note ? ` (${c.note})` : ''}${c.problem ? ` (cannot work: ${c.problem})` : ''}`;
}

/** `Plan: 2 to add, 1 to change, 1 to delete.`, or the no-changes sentence. */
export function planSummary(plan: Plan): string {
  if (plan.length === 0) return 'No changes. The live table matches the config.';
  const n = { add: 0, edit: 0, delete: 0 };
  for (const c of plan) n[c.action]++;
  return `Plan: ${n.add} to add, ${n.edit} to change, ${n.delete} to delete.`;
}

/** Every change as a line, in plan order, then the summary line. */
export function formatPlan(plan: Plan): string[] {
  return [...plan.map(formatChange), planSummary(plan)];
}

/** One change in the JSON output: one object per kernel operation. */
export interface ChangeJson {
  action: Change['action'];
  kind: Change['kind'];
  service?: string;
  realserver?: string;
  target?: string;
  fields: Record<string, FieldChange>;
  note?: string;
  problem?: string;
}

/** The JSON form of a plan. */
export interface PlanJson {
  changes: ChangeJson[];
}

/** Makes a value safe for JSON.stringify: bigints become decimal text. */
function jsonSafe(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return v.map(jsonSafe);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v)
        .filter(([, x]) => x !== undefined)
        .map(([k, x]) => [k, jsonSafe(x)]),
    );
  }
  return v;
}

/** The plan as plain JSON-safe data, without the kernel operation internals. */
export function planToJson(plan: Plan): PlanJson {
  return {
    changes: plan.map((c) => {
      const fields: Record<string, FieldChange> = {};
      for (const [k, f] of Object.entries(c.fields)) {
        const fj: FieldChange = {};
        if (f.old !== undefined) fj.old = jsonSafe(f.old);
        if (f.new !== undefined) fj.new = jsonSafe(f.new);
        fields[k] = fj;
      }
      // Key order is the reading order of the JSON: action, kind, service, realserver, fields.
      return {
        action: c.action,
        kind: c.kind,
        ...(c.service !== undefined ? { service: c.service } : {}),
        ...(c.realserver !== undefined ? { realserver: c.realserver } : {}),
        ...(c.target !== undefined ? { target: c.target } : {}),
        fields,
        ...(c.note !== undefined ? { note: c.note } : {}),
        ...(c.problem !== undefined ? { problem: c.problem } : {}),
      };
    }),
  };
}
