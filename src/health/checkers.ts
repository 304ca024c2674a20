/**
 * The health checks themselves: one attempt each, bounded by the check's
 * timeout, never throwing and never rejecting: whatever goes wrong, even a
 * synchronous throw of Node's http client for a path it refuses, is a failed
 * check. Run from the director's own network namespace.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import type { CheckSpec } from '../model/types.js';
import { after, clampDelay } from '../timers.js';
import { dnsCheck } from './dns.js';
import { httpDigestCheck } from './http-digest.js';
import { smtpCheck } from './smtp.js';

export interface CheckTarget {
  address: string;
  family: 'ipv4' | 'ipv6';
}

export type CheckResult = { ok: true } | { ok: false; error: string };

const fail = (error: string): CheckResult => ({ ok: false, error });

/** Bytes of an exec check's stderr kept for the error message; the rest of its output is read and dropped. */
export const EXEC_OUTPUT_KEPT = 64 * 1024;

/**
 * One check of `target`; resolves within spec.timeout (plus a little), and
 * at once with a failure when `signal` aborts (the daemon is stopping).
 */
export async function runCheck(spec: CheckSpec, target: CheckTarget, signal?: AbortSignal): Promise<CheckResult> {
  const ms = clampDelay(spec.timeout * 1000);
  try {
    switch (spec.type) {
      case 'tcp':
        return await tcp(target, spec.port, ms);
      case 'http':
      case 'https':
        return await (spec.http?.digest === undefined ? http(spec, target, ms) : httpDigestCheck(spec, target, ms));
      case 'udp':
        return await udp(spec, target, ms);
      case 'exec':
        return await exec(spec, target, ms, signal);
      case 'smtp':
        return await smtpCheck(target, spec.port, ms);
      case 'dns':
        return await dnsCheck(spec, target, ms);
    }
  } catch (e) {
    return fail(`check could not run: ${e instanceof Error ? e.message : String(e)}`);
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
    // May throw at once (a path or header Node refuses): the executor turns that into a rejection.
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
    const done = (r: CheckResult) => {
      clearTimeout(timer);
      sock.close();
      resolve(r);
    };
    const timer = after(
      ms,
      () => done(fail(`no answer within ${ms} ms`)),
      () => undefined,
    );
    sock.once('message', (msg) =>
      done(
        u.expect === undefined || msg.toString().includes(u.expect)
          ? { ok: true }
          : fail(`answer without ${JSON.stringify(u.expect)}`),
      ),
    );
    // A connected UDP socket hears the ICMP port-unreachable as ECONNREFUSED.
    sock.once('error', (e) => done(fail(e.message)));
    try {
      sock.connect(spec.port, t.address, () => sock.send(u.send));
    } catch (e) {
      done(fail((e as Error).message));
    }
  });
}

/** SIGKILL to the check's whole process group: the command and whatever it started. */
function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // ESRCH: the group is gone already.
  }
}

/**
 * The command in a process group of its own (detached), so that at the
 * timeout, on abort and after it exits, the whole group is killed: a shell's
 * `sleep` is never left behind. Its output is read and dropped beyond the
 * first EXEC_OUTPUT_KEPT bytes of stderr (kept for the error message): how
 * much it prints never decides the result, its exit status does.
 */
function exec(spec: CheckSpec, t: CheckTarget, ms: number, signal?: AbortSignal): Promise<CheckResult> {
  const expand = (a: string) => a.replaceAll('{address}', t.address).replaceAll('{port}', String(spec.port));
  const [cmd, ...args] = (spec.exec?.command ?? []).map(expand);
  if (!cmd) return Promise.resolve(fail('no command'));
  if (signal?.aborted) return Promise.resolve(fail('stopped'));
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let why: string | undefined;
    child.stdout!.resume();
    child.stderr!.on('data', (d: Buffer) => {
      if (stderr.length >= EXEC_OUTPUT_KEPT) return;
      stderr += d.subarray(0, EXEC_OUTPUT_KEPT - stderr.length).toString('latin1');
    });
    const stop = (reason: string) => {
      why ??= reason;
      killGroup(child);
      // A process the kernel cannot kill yet (stuck in a disk wait) must not hold the check forever.
      after(
        1000,
        () => finish(fail(`${why} (not yet gone)`)),
        () => undefined,
      );
    };
    const onAbort = () => stop('stopped');
    const timer = after(
      ms,
      () => stop(`killed after ${ms} ms`),
      () => undefined,
    );
    signal?.addEventListener('abort', onAbort, { once: true });
    let settled = false;
    const finish = (r: CheckResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      child.stdout!.destroy();
      child.stderr!.destroy();
      resolve(r);
    };
    child.once('error', (e) => finish(fail(e.message)));
    child.once('exit', (code, sig) => {
      killGroup(child); // stragglers it left in its group
      const verdict = (): CheckResult => {
        if (why === undefined && code === 0) return { ok: true };
        const last = stderr.trim().split('\n').pop();
        return fail(`${why ?? (code !== null ? `exit ${code}` : `killed by ${sig}`)}${last ? `: ${last}` : ''}`);
      };
      // The last of stderr may still be on its way; the group is dead, so it comes at once or never.
      child.once('close', () => finish(verdict()));
      after(
        100,
        () => finish(verdict()),
        () => undefined,
      );
    });
  });
}
