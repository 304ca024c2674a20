/**
 * The health checks themselves: one attempt each, bounded by the check's
 * timeout, never throwing. Run from the director's own network namespace.
 */
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import type { CheckSpec } from '../model/types.js';
import { dnsCheck } from './dns.js';
import { httpDigestCheck } from './http-digest.js';
import { smtpCheck } from './smtp.js';

export interface CheckTarget {
  address: string;
  family: 'ipv4' | 'ipv6';
}

export type CheckResult = { ok: true } | { ok: false; error: string };

const fail = (error: string): CheckResult => ({ ok: false, error });

/** One check of `target`; resolves within spec.timeout (plus a little). */
export function runCheck(spec: CheckSpec, target: CheckTarget): Promise<CheckResult> {
  const ms = spec.timeout * 1000;
  switch (spec.type) {
    case 'tcp':
      return tcp(target, spec.port, ms);
    case 'http':
    case 'https':
      return spec.http?.digest === undefined ? http(spec, target, ms) : httpDigestCheck(spec, target, ms);
    case 'udp':
      return udp(spec, target, ms);
    case 'exec':
      return exec(spec, target, ms);
    case 'smtp':
      return smtpCheck(target, spec.port, ms);
    case 'dns':
      return dnsCheck(spec, target, ms);
  }
}

function tcp(t: CheckTarget, port: number, ms: number): Promise<CheckResult> {
  return new Promise((resolve) => {
    const sock = connect({ host: t.address, port, timeout: ms });
    const done = (r: CheckResult) => {
      sock.destroy();
      resolve(r);
    };
    sock.once('connect', () => done({ ok: true }));
    sock.once('timeout', () => done(fail(`no connection within ${ms} ms`)));
    sock.once('error', (e) => done(fail(e.message)));
  });
}

function http(spec: CheckSpec, t: CheckTarget, ms: number): Promise<CheckResult> {
  const h = spec.http ?? { path: '/', expect: [200], verify: false };
  const host = t.family === 'ipv6' ? `[${t.address}]` : t.address;
  return new Promise((resolve) => {
    const options = {
      host: t.address,
      port: spec.port,
      path: h.path,
      method: 'GET',
      timeout: ms,
      agent: false as const,
      headers: { host: h.host ?? `${host}:${spec.port}`, 'user-agent': 'lvsd-health-check', connection: 'close' },
      ...(spec.type === 'https' ? { rejectUnauthorized: h.verify, servername: h.host } : {}),
    };
    const req = (spec.type === 'https' ? httpsRequest : httpRequest)(options, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      resolve(h.expect.includes(status) ? { ok: true } : fail(`status ${status}, expected ${h.expect.join(' or ')}`));
      req.destroy();
    });
    req.once('timeout', () => {
      req.destroy();
      resolve(fail(`no answer within ${ms} ms`));
    });
    req.once('error', (e) => resolve(fail(e.message)));
    req.end();
  });
}

function udp(spec: CheckSpec, t: CheckTarget, ms: number): Promise<CheckResult> {
  const u = spec.udp ?? { send: 'ping' };
  return new Promise((resolve) => {
    const sock = createSocket(t.family === 'ipv6' ? 'udp6' : 'udp4');
    const timer = setTimeout(() => done(fail(`no answer within ${ms} ms`)), ms);
    const done = (r: CheckResult) => {
      clearTimeout(timer);
      sock.close();
      resolve(r);
    };
    sock.once('message', (msg) => done(u.expect === undefined || msg.toString().includes(u.expect) ? { ok: true } : fail(`answer without ${JSON.stringify(u.expect)}`)));
    // A connected UDP socket hears the ICMP port-unreachable as ECONNREFUSED.
    sock.once('error', (e) => done(fail(e.message)));
    sock.connect(spec.port, t.address, () => sock.send(u.send));
  });
}

function exec(spec: CheckSpec, t: CheckTarget, ms: number): Promise<CheckResult> {
  const [cmd, ...args] = (spec.exec?.command ?? []).map((a) => a.replaceAll('{address}', t.address).replaceAll('{port}', String(spec.port)));
  return new Promise((resolve) => {
    if (!cmd) return resolve(fail('no command'));
    execFile(cmd, args, { timeout: ms, killSignal: 'SIGKILL' }, (err, _out, stderr) => {
      if (!err) return resolve({ ok: true });
      const why = err.killed ? `killed after ${ms} ms` : typeof err.code === 'number' ? `exit ${err.code}` : err.message;
      resolve(fail(`${why}${stderr.trim() ? `: ${stderr.trim().split('\n').pop()}` : ''}`));
    });
  });
}
