/**
 * Rules on health checks: each check block as written (the service's, and
 * each real server's override), and each real server's check as merged.
 * Text a check sends must be what Node's clients take, or `lvsd run` would
 * fail on it at run time. Pure.
 */
import { isIP } from 'node:net';
import { CHECK_DEFAULTS, mergedCheck } from '../health.js';
import { parseDuration } from '../duration.js';
import { show } from '../parse.js';
import { isRecord } from '../values.js';
import type { Place, Report, Service } from './context.js';
import { servicePlace } from './context.js';

type Block = Record<string, unknown>;
type Path = (string | number)[];

/** Each written check block with its path and label. */
function writtenChecks(s: Service): { path: Path; block: Block; type: unknown; label: string }[] {
  const serviceCheck = isRecord(s.raw['check']) ? s.raw['check'] : undefined;
  const out: { path: Path; block: Block; type: unknown; label: string }[] = serviceCheck
    ? [{ path: ['check'], block: serviceCheck, type: serviceCheck['type'], label: 'check' }]
    : [];
  for (const rs of s.realservers) {
    const override = rs.rec?.['check'];
    if (!isRecord(override)) continue;
    const type = mergedCheck(serviceCheck, override)?.['type'];
    out.push({ path: ['realservers', rs.index, 'check'], block: override, type, label: 'real server check' });
  }
  return out;
}

/** CONFIG_CHECK: http, udp, exec and dns blocks only for their type; a timeout no longer than the interval. */
export function checkBlocksFit(s: Service, report: Report): void {
  const serviceInterval = isRecord(s.raw['check']) ? parseDuration(s.raw['check']['interval']) : undefined;
  for (const { path, block, type, label } of writtenChecks(s)) {
    for (const [name, types] of [
      ['http', ['http', 'https']],
      ['udp', ['udp']],
      ['exec', ['exec']],
      ['dns', ['dns']],
    ] as const) {
      if (block[name] === undefined || typeof type !== 'string' || (types as readonly string[]).includes(type))
        continue;
      report.add(
        'CONFIG_CHECK',
        servicePlace(s, [...path, name], 'key'),
        `${label}: '${name}' settings are for ${types.join(' and ')} checks; this check is ${type}`,
      );
    }
    const timeout = parseDuration(block['timeout']);
    const interval = parseDuration(block['interval']) ?? serviceInterval ?? CHECK_DEFAULTS.interval;
    if (timeout === undefined || timeout <= interval) continue;
    report.add(
      'CONFIG_CHECK',
      servicePlace(s, [...path, 'timeout']),
      `${label}: timeout (${timeout}s) is longer than the interval (${interval}s); a check must end before the next starts`,
    );
  }
}

/** Printable ASCII without space: what Node's http.request takes in a path (and what a URL path is). */
const PATH_RE = /^\/[\x21-\x7e]*$/;
/** A host name (letters, digits, hyphens, dots) or an IPv4 address, or an [IPv6] address; an optional :port. */
const HOST_RE = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** CONFIG_CHECK: http.path and http.host that Node's http client sends; an exec command that names a program. */
export function checkTextIsSendable(s: Service, report: Report): void {
  for (const { path, block, label } of writtenChecks(s)) {
    const http = isRecord(block['http']) ? block['http'] : undefined;
    const at = (...p: Path): Place => servicePlace(s, [...path, ...p]);
    if (typeof http?.['path'] === 'string' && !PATH_RE.test(http['path'])) {
      report.add(
        'CONFIG_CHECK',
        at('http', 'path'),
        `${label}: http.path ${show(http['path'])} must start with / and hold printable ASCII only, no spaces ` +
          '(percent-encode the rest, e.g. %20 for a space)',
      );
    }
    const host = http?.['host'];
    if (typeof host === 'string' && !validHost(host)) {
      report.add(
        'CONFIG_CHECK',
        at('http', 'host'),
        `${label}: http.host ${show(host)} is not a host name or address (with an optional :port) for the Host header`,
      );
    }
    const exec = isRecord(block['exec']) ? block['exec'] : undefined;
    const command = exec?.['command'];
    if (!Array.isArray(command)) continue;
    if (typeof command[0] === 'string' && command[0].trim() === '') {
      report.add('CONFIG_CHECK', at('exec', 'command', 0), `${label}: exec.command must start with the program to run`);
    }
    command.forEach((arg: unknown, i) => {
      if (typeof arg === 'string' && arg.includes('\0')) {
        report.add(
          'CONFIG_CHECK',
          at('exec', 'command', i),
          `${label}: exec.command arguments cannot hold a NUL character`,
        );
      }
    });
  }
}

/** CONFIG_CHECK: a status range in http.expect runs upwards ("200-299", not "299-200"). */
export function expectRangesOrdered(s: Service, report: Report): void {
  for (const { path, block, label } of writtenChecks(s)) {
    const expect = isRecord(block['http']) ? block['http']['expect'] : undefined;
    if (!Array.isArray(expect)) continue;
    expect.forEach((item: unknown, i) => {
      const m = typeof item === 'string' ? /^(\d{3})-(\d{3})$/.exec(item) : null;
      if (!m || Number(m[1]) <= Number(m[2])) return;
      report.add(
        'CONFIG_CHECK',
        servicePlace(s, [...path, 'http', 'expect', i]),
        `${label}: the status range ${show(item)} ends before it starts; write it low-high`,
      );
    });
  }
}

function validHost(host: string): boolean {
  const m = HOST_RE.exec(host);
  if (!m) return false;
  const port = /:(\d+)$/.exec(host.startsWith('[') ? host.slice(host.indexOf(']')) : host);
  if (port && Number(port[1]) > 65535) return false;
  return !host.startsWith('[') || isIP(host.slice(1, host.indexOf(']'))) === 6;
}

/**
 * CONFIG_CHECK: each real server's check as merged: an exec check has a
 * command; on a fwmark service (real server port 0) a check names its port.
 * A problem of the service's own check is reported once, not per real server.
 */
export function mergedChecksComplete(s: Service, report: Report): void {
  const serviceCheck = isRecord(s.raw['check']) ? s.raw['check'] : undefined;
  const reported = new Set<string>();
  const add = (place: Place, message: string) => {
    const key = `${place.path.join('/')} ${message}`;
    if (reported.has(key)) return;
    reported.add(key);
    report.add('CONFIG_CHECK', place, message);
  };
  for (const rs of s.realservers) {
    const override = isRecord(rs.rec?.['check']) ? rs.rec['check'] : undefined;
    const c = mergedCheck(serviceCheck, override);
    if (!c) continue;
    const path: Path = override ? ['realservers', rs.index, 'check'] : ['check'];
    const type = c['type'];
    if (type === 'exec' && !(isRecord(c['exec']) && Array.isArray(c['exec']['command']))) {
      add(
        servicePlace(s, [...path, 'type']),
        'an exec check needs exec.command, e.g. exec: { command: [/usr/local/bin/check, "{address}", "{port}"] }',
      );
    }
    if (
      rs.effectivePort === 0 &&
      c['port'] === undefined &&
      typeof type === 'string' &&
      type !== 'none' &&
      type !== 'exec'
    ) {
      add(servicePlace(s, path, 'key'), 'this real server has port 0 (a fwmark service): give its check a port');
    }
  }
}
