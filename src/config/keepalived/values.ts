/**
 * keepalived's value syntax: <TIMER> (seconds, fractions allowed), <BOOL>,
 * integers, and `lvs_method` with its tunnel options. Pure.
 */
import type { Forwarding, Reporter } from '../migration.js';
import type { Statement } from './blocks.js';

/** keepalived's <BOOL>: on|off|true|false|yes|no; a keyword alone means true. Undefined: not a BOOL. */
export function boolArg(st: Statement): boolean | undefined {
  const v = st.args[0]?.toLowerCase();
  if (v === undefined) return true;
  if (['on', 'true', 'yes'].includes(v)) return true;
  if (['off', 'false', 'no'].includes(v)) return false;
  return undefined;
}

/** A whole number from `min` to `max`, or undefined (reported) when the argument is not one. */
export function intArg(st: Statement, r: Reporter, min = 0, max = 0x7fffffff, index = 0): number | undefined {
  const text = st.args[index];
  const n = text !== undefined && /^\d+$/.test(text) ? Number(text) : NaN;
  if (Number.isInteger(n) && n >= min && n <= max) return n;
  r.omit(st, st.keyword, `'${text ?? ''}' is not a whole number from ${min} to ${max}, as keepalived requires`);
  return undefined;
}

/**
 * A <TIMER> in whole seconds: lvsd's durations are whole seconds, so a
 * fraction is rounded up (to at least 1 s) and noted. Undefined (reported)
 * when it is not a number.
 */
export function timerArg(st: Statement, r: Reporter): number | undefined {
  const text = st.args[0];
  const n = text !== undefined && /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(n)) {
    r.omit(st, st.keyword, `'${text ?? ''}' is not a time in seconds`);
    return undefined;
  }
  const whole = Math.max(1, Math.ceil(n));
  if (whole !== n) r.note(st, st.keyword, `${text}s becomes ${whole}s: lvsd counts whole seconds`);
  return whole;
}

export type { Forwarding } from '../migration.js';

/** `lvs_method NAT|DR|TUN [type {ipip|gue port NUM|gre} [nocsum|csum|remcsum]]` (also lb_kind). */
export function forwardingArg(st: Statement, r: Reporter): Forwarding | undefined {
  const [method, ...rest] = st.args.map((a) => a.toLowerCase());
  if (method === 'nat') return { forward: 'nat' };
  if (method === 'dr') return { forward: 'dr' };
  if (method !== 'tun') {
    r.omit(st, st.keyword, `'${st.args[0] ?? ''}' is not NAT, DR or TUN`);
    return undefined;
  }
  const tunnel: NonNullable<Forwarding['tunnel']> = {};
  for (let i = 0; i < rest.length; i++) {
    const w = rest[i]!;
    if (w === 'type' && rest[i + 1] !== undefined) {
      const type = rest[++i]!;
      if (type !== 'ipip') tunnel.type = type;
    } else if (w === 'port' && /^\d+$/.test(rest[i + 1] ?? '')) tunnel.port = Number(rest[++i]);
    else if (w === 'csum' || w === 'remcsum') tunnel.checksum = w;
    else if (w !== 'nocsum') r.omit(st, `${st.keyword} ... ${w}`, 'not a tunnel option keepalived knows');
  }
  return Object.keys(tunnel).length > 0 ? { forward: 'tunnel', tunnel } : { forward: 'tunnel' };
}

/** The real server / sorry server text lvsd reads: ADDRESS, ADDRESS:PORT or [IPV6]:PORT. */
export function addressText(address: string, port: number | undefined): string {
  if (port === undefined) return address;
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
