/**
 * The http check with a digest (keepalived's `digest`, genhash's MD5 of the
 * body) against a server on 127.0.0.1: up only when the status is expected
 * and the whole body hashes to the digest.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { afterEach, expect, test } from 'vitest';
import { runCheck } from '../../../src/health/checkers.js';
import type { CheckSpec } from '../../../src/model/types.js';

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** A server answering `status` with `body`, in two chunks 20 ms apart (the digest covers all of it). */
async function server(status: number, body: string): Promise<number> {
  const s = createServer((_req, res) => {
    res.writeHead(status);
    res.write(body.slice(0, 3));
    setTimeout(() => res.end(body.slice(3)), 20);
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as { port: number }).port;
}

const md5 = (text: string) => createHash('md5').update(text).digest('hex');
const spec = (port: number, digest: string, expect = [200]): CheckSpec => ({
  type: 'http',
  interval: 1,
  timeout: 1,
  rise: 1,
  fall: 1,
  port,
  initial: 'up',
  onFailure: 'quiesce',
  http: { path: '/', expect, verify: false, digest },
});
const target = { address: '127.0.0.1', family: 'ipv4' as const };

test('the body hashing to the digest, status expected: up', async () => {
  const port = await server(200, 'healthy page\n');
  expect(await runCheck(spec(port, md5('healthy page\n')), target)).toEqual({ ok: true });
});

test('another body: down, naming both digests', async () => {
  const port = await server(200, 'maintenance\n');
  const r = await runCheck(spec(port, md5('healthy page\n')), target);
  expect(r).toEqual({ ok: false, error: `body digest ${md5('maintenance\n')}, expected ${md5('healthy page\n')}` });
});

test('the right body with a status not expected: down', async () => {
  const port = await server(503, 'healthy page\n');
  expect((await runCheck(spec(port, md5('healthy page\n')), target)).ok).toBe(false);
});
