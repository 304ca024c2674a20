/**
 * Health checks, sorry servers and drain in the config: the checks a schema
 * cannot express, and resolving a service's check with a real server's
 * overrides into one CheckSpec. Pure.
 */
import { LvsdError } from '../errors.js';
import type { CheckSpec, CheckType } from '../model/types.js';
import { parseDuration } from './duration.js';
import type { ParsedFile } from './parse.js';
import { sourcePos } from './positions.js';
import { intOf, isRecord, parseShorthand } from './values.js';

export const CHECK_DEFAULTS = { interval: 5, timeout: 2, rise: 2, fall: 3, initial: 'up', onFailure: 'quiesce', path: '/', expect: [200], send: 'ping' } as const;

/** The service's check merged with the real server's overrides (nested blocks merge key by key). */
function merged(serviceCheck: unknown, rsCheck: unknown): Record<string, unknown> | undefined {
  const base = isRecord(serviceCheck) ? serviceCheck : undefined;
  const over = isRecord(rsCheck) ? rsCheck : undefined;
  if (!base && !over) return undefined;
  const out: Record<string, unknown> = { ...base, ...over };
  for (const k of ['http', 'udp', 'exec']) {
    if (isRecord(base?.[k]) || isRecord(over?.[k])) out[k] = { ...(base?.[k] as object), ...(over?.[k] as object) };
  }
  // A real server that changes the type drops the service's blocks for the other types.
  const type = out['type'];
  if (type !== 'http' && type !== 'https') delete out['http'];
  if (type !== 'udp') delete out['udp'];
  if (type !== 'exec') delete out['exec'];
  return out;
}

/** The resolved check of one real server, or undefined when it has none (type none or no check). */
export function resolveCheck(serviceCheck: unknown, rsCheck: unknown, rsPort: number): CheckSpec | undefined {
  const c = merged(serviceCheck, rsCheck);
  if (!c || c['type'] === undefined || c['type'] === 'none') return undefined;
  const type = c['type'] as CheckType;
  const spec: CheckSpec = {
    type,
    interval: parseDuration(c['interval']) ?? CHECK_DEFAULTS.interval,
    // A short interval shortens the default timeout with it.
    timeout: parseDuration(c['timeout']) ?? Math.min(CHECK_DEFAULTS.timeout, parseDuration(c['interval']) ?? CHECK_DEFAULTS.interval),
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
      expect: Array.isArray(http['expect']) ? (http['expect'] as number[]) : [...CHECK_DEFAULTS.expect],
      verify: http['verify'] === true,
      ...(typeof http['host'] === 'string' ? { host: http['host'] } : {}),
    };
  }
  const udp = isRecord(c['udp']) ? c['udp'] : {};
  if (type === 'udp') spec.udp = { send: typeof udp['send'] === 'string' ? udp['send'] : CHECK_DEFAULTS.send, ...(typeof udp['expect'] === 'string' ? { expect: udp['expect'] } : {}) };
  const exec = isRecord(c['exec']) ? c['exec'] : {};
  if (type === 'exec') spec.exec = { command: (exec['command'] as string[] | undefined) ?? [] };
  return spec;
}

/**
 * Rules for check, sorry_server and drain: an exec check needs a command,
 * blocks only for their type, a timeout no longer than the interval, a port
 * to check on fwmark services, a sorry server that parses and is not one of
 * the real servers.
 */
export function validateHealth(files: readonly ParsedFile[]): LvsdError[] {
  const errors: LvsdError[] = [];
  for (const src of files) {
    const data = src.data;
    if (!isRecord(data) || !Array.isArray(data['services'])) continue;
    data['services'].forEach((svc: unknown, si: number) => {
      if (!isRecord(svc)) return;
      const base = ['services', si];
      const isFwmark = svc['fwmark'] !== undefined;
      const serviceCheck = isRecord(svc['check']) ? svc['check'] : undefined;
      // Checks one written check block (the service's, or a real server's override) against the effective type.
      const checkBlock = (path: (string | number)[], c: Record<string, unknown>, type: unknown, label: string) => {
        for (const [block, types] of [['http', ['http', 'https']], ['udp', ['udp']], ['exec', ['exec']]] as const) {
          if (c[block] !== undefined && typeof type === 'string' && !(types as readonly string[]).includes(type)) {
            errors.push(new LvsdError('CONFIG_CHECK', `${label}: '${block}' settings are for ${types.join(' and ')} checks; this check is ${type}`, { pos: sourcePos(src, [...path, block], 'key') }));
          }
        }
        const timeout = parseDuration(c['timeout']);
        const interval = parseDuration(c['interval']) ?? parseDuration(serviceCheck?.['interval']) ?? CHECK_DEFAULTS.interval;
        if (timeout !== undefined && timeout > interval) {
          errors.push(new LvsdError('CONFIG_CHECK', `${label}: timeout (${timeout}s) is longer than the interval (${interval}s); a check must end before the next starts`, { pos: sourcePos(src, [...path, 'timeout']) }));
        }
        if (parseDuration(c['interval']) === 0) errors.push(new LvsdError('CONFIG_CHECK', `${label}: interval must be at least 1s`, { pos: sourcePos(src, [...path, 'interval']) }));
      };
      if (serviceCheck) checkBlock([...base, 'check'], serviceCheck, serviceCheck['type'], 'check');
      const rsAddresses = new Set<string>();
      if (Array.isArray(svc['realservers'])) {
        svc['realservers'].forEach((rs: unknown, ri: number) => {
          const rec = isRecord(rs) ? rs : undefined;
          const sh = typeof rs === 'string' ? parseShorthand(rs) : undefined;
          const port = rec ? intOf(rec['port']) : sh?.ok ? sh.port : undefined;
          const rsPort = port ?? (isFwmark ? 0 : intOf(svc['port']));
          if (sh?.ok) rsAddresses.add(`${sh.address}:${rsPort}`);
          else if (rec && typeof rec['address'] === 'string') rsAddresses.add(`${rec['address']}:${rsPort}`);
          const override = isRecord(rec?.['check']) ? (rec['check'] as Record<string, unknown>) : undefined;
          const path = override ? [...base, 'realservers', ri, 'check'] : [...base, 'check'];
          const c = merged(serviceCheck, override);
          if (!c) return;
          if (override) checkBlock(path, override, c['type'], 'real server check');
          const type = c['type'];
          if (type === 'exec' && !(isRecord(c['exec']) && Array.isArray(c['exec']['command']))) {
            errors.push(new LvsdError('CONFIG_CHECK', 'an exec check needs exec.command, e.g. exec: { command: [/usr/local/bin/check, "{address}", "{port}"] }', { pos: sourcePos(src, [...path, 'type']) }));
          }
          if (rsPort === 0 && c['port'] === undefined && typeof type === 'string' && type !== 'none' && type !== 'exec') {
            errors.push(new LvsdError('CONFIG_CHECK', 'this real server has port 0 (a fwmark service): give its check a port', { pos: sourcePos(src, path, 'key') }));
          }
        });
      }
      const sorry = svc['sorry_server'];
      if (typeof sorry === 'string') {
        const sh = parseShorthand(sorry);
        const pos = sourcePos(src, [...base, 'sorry_server']);
        if (!sh.ok) errors.push(new LvsdError('CONFIG_ADDRESS', `sorry_server: ${JSON.stringify(sorry)} is not "ADDRESS", "ADDRESS:PORT" or "[IPV6]:PORT"`, { pos }));
        else if (rsAddresses.has(`${sh.address}:${sh.port ?? (isFwmark ? 0 : intOf(svc['port']))}`)) {
          errors.push(new LvsdError('CONFIG_CHECK', `sorry_server ${sorry} is also one of the service's real servers; it must be a server of its own`, { pos }));
        }
      }
    });
  }
  return errors;
}
