/**
 * Health checks in the config: a service's check merged with a real
 * server's overrides, and resolved into one CheckSpec. Their rules are in
 * rules/check.ts. Pure.
 */
import type { CheckSpec, CheckType, DnsRecordType } from '../model/types.js';
import { parseDuration } from './duration.js';
import { intOf, isRecord } from './values.js';

/** What a check leaves out. */
export const CHECK_DEFAULTS = {
  interval: 5,
  timeout: 2,
  rise: 2,
  fall: 3,
  initial: 'up',
  onFailure: 'quiesce',
  path: '/',
  expect: [200],
  send: 'ping',
  // keepalived's DNS_CHECK defaults.
  dnsName: '.',
  dnsType: 'SOA',
} as const;

/** The service's check merged with the real server's overrides (nested blocks merge key by key). */
export function mergedCheck(serviceCheck: unknown, rsCheck: unknown): Record<string, unknown> | undefined {
  const base = isRecord(serviceCheck) ? serviceCheck : undefined;
  const over = isRecord(rsCheck) ? rsCheck : undefined;
  if (!base && !over) return undefined;
  const out: Record<string, unknown> = { ...base, ...over };
  for (const k of ['http', 'udp', 'exec', 'dns']) {
    if (isRecord(base?.[k]) || isRecord(over?.[k])) out[k] = { ...(base?.[k] as object), ...(over?.[k] as object) };
  }
  // A real server that changes the type drops the service's blocks for the other types.
  const type = out['type'];
  if (type !== 'http' && type !== 'https') delete out['http'];
  if (type !== 'udp') delete out['udp'];
  if (type !== 'exec') delete out['exec'];
  if (type !== 'dns') delete out['dns'];
  return out;
}

/** The resolved check of one real server, or undefined when it has none (type none or no check). */
export function resolveCheck(serviceCheck: unknown, rsCheck: unknown, rsPort: number): CheckSpec | undefined {
  const c = mergedCheck(serviceCheck, rsCheck);
  if (!c || c['type'] === undefined || c['type'] === 'none') return undefined;
  const type = c['type'] as CheckType;
  const spec: CheckSpec = {
    type,
    interval: parseDuration(c['interval']) ?? CHECK_DEFAULTS.interval,
    // A short interval shortens the default timeout with it.
    timeout:
      parseDuration(c['timeout']) ??
      Math.min(CHECK_DEFAULTS.timeout, parseDuration(c['interval']) ?? CHECK_DEFAULTS.interval),
    rise: intOf(c['rise']) ?? CHECK_DEFAULTS.rise,
    fall: intOf(c['fall']) ?? CHECK_DEFAULTS.fall,
    port: intOf(c['port']) ?? rsPort,
    initial: (c['initial'] as CheckSpec['initial'] | undefined) ?? CHECK_DEFAULTS.initial,
    onFailure: (c['on_failure'] as CheckSpec['onFailure'] | undefined) ?? CHECK_DEFAULTS.onFailure,
  };
  const http = isRecord(c['http']) ? c['http'] : {};
  if (type === 'http' || type === 'https') {
    spec.http = {
      path: typeof http['path'] === 'string' ? http['path'] : CHECK_DEFAULTS.path,
      expect: Array.isArray(http['expect']) ? statusCodes(http['expect']) : [...CHECK_DEFAULTS.expect],
      verify: http['verify'] === true,
      ...(typeof http['host'] === 'string' ? { host: http['host'] } : {}),
      ...(typeof http['digest'] === 'string' ? { digest: http['digest'].toLowerCase() } : {}),
    };
  }
  const udp = isRecord(c['udp']) ? c['udp'] : {};
  if (type === 'udp')
    spec.udp = {
      send: typeof udp['send'] === 'string' ? udp['send'] : CHECK_DEFAULTS.send,
      ...(typeof udp['expect'] === 'string' ? { expect: udp['expect'] } : {}),
    };
  const exec = isRecord(c['exec']) ? c['exec'] : {};
  if (type === 'exec') spec.exec = { command: (exec['command'] as string[] | undefined) ?? [] };
  const dns = isRecord(c['dns']) ? c['dns'] : {};
  if (type === 'dns') {
    spec.dns = {
      name: typeof dns['name'] === 'string' ? dns['name'] : CHECK_DEFAULTS.dnsName,
      type: (dns['type'] as DnsRecordType | undefined) ?? CHECK_DEFAULTS.dnsType,
    };
  }
  return spec;
}

/** http.expect's codes and "200-299" ranges as the sorted list of codes. */
export function statusCodes(expect: unknown[]): number[] {
  const codes = new Set<number>();
  for (const item of expect) {
    if (typeof item === 'number') codes.add(item);
    const m = typeof item === 'string' ? /^(\d{3})-(\d{3})$/.exec(item) : null;
    if (m) for (let c = Number(m[1]); c <= Number(m[2]); c++) codes.add(c);
  }
  return [...codes].sort((a, b) => a - b);
}
