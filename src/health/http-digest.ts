/**
 * An http(s) check with `http.digest`, as keepalived's HTTP_GET/SSL_GET with
 * `digest`: the status must be one of `expect` and the MD5 of the whole
 * response body must be the digest genhash printed. The body is read to its
 * end (at most MAX_BODY bytes) within the check's timeout.
 */
import { createHash } from 'node:crypto';
import { request as plainRequest, type RequestOptions } from 'node:http';
import { request as tlsRequest } from 'node:https';
import type { CheckSpec } from '../model/types.js';
import type { CheckResult, CheckTarget } from './checkers.js';

/** A page bigger than this is no health page: the check fails instead of reading on. */
const MAX_BODY = 16 * 1024 * 1024;

/** One digest check of `t` within `ms`. */
export function httpDigestCheck(spec: CheckSpec, t: CheckTarget, ms: number): Promise<CheckResult> {
  const h = spec.http!;
  const hostHeader = h.host ?? `${t.family === 'ipv6' ? `[${t.address}]` : t.address}:${spec.port}`;
  const opts: RequestOptions & { rejectUnauthorized?: boolean; servername?: string } = {
    host: t.address,
    port: spec.port,
    path: h.path,
    agent: false,
    headers: { host: hostHeader, 'user-agent': 'lvsd-health-check', connection: 'close' },
  };
  if (spec.type === 'https') Object.assign(opts, { rejectUnauthorized: h.verify, servername: h.host });
  return new Promise((resolve) => {
    let settled = false;
    const finish = (r: CheckResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      req.destroy();
      resolve(r);
    };
    const deadline = setTimeout(() => finish({ ok: false, error: `no complete answer within ${ms} ms` }), ms);
    const req = (spec.type === 'https' ? tlsRequest : plainRequest)(opts, (res) => {
      const status = res.statusCode ?? 0;
      if (!h.expect.includes(status)) return finish({ ok: false, error: `status ${status} not expected` });
      const md5 = createHash('md5');
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY) return finish({ ok: false, error: `body larger than ${MAX_BODY} bytes` });
        md5.update(chunk);
      });
      res.on('end', () => {
        const got = md5.digest('hex');
        finish(got === h.digest ? { ok: true } : { ok: false, error: `body digest ${got}, expected ${h.digest}` });
      });
      res.on('error', (e) => finish({ ok: false, error: e.message }));
    });
    req.on('error', (e) => finish({ ok: false, error: e.message }));
    req.end();
  });
}
