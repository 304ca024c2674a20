/**
 * The optional status endpoint: `/healthz`, `/metrics` and the flow table
 * `/v1/table` (for `lvsd peers`). Off unless
 * `--listen ADDR:PORT` is given; there is no default address.
 */
import { createServer, type Server } from 'node:http';
import { LvsdError } from '../errors.js';
import { TABLE_PATH } from '../peers/table.js';

export interface StatusSource {
  /** undefined: healthy; otherwise why not. */
  unhealthyReason(): string | undefined;
  metricsText(): Promise<string>;
  /** This director's flow table as JSON (peers/table.ts), served on TABLE_PATH. */
  tableJson?(): Promise<string>;
}

/** `127.0.0.1:9588`, `[::1]:9588` -> host and port. */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 1 || port > 65535) {
    throw new LvsdError('CLI_USAGE', `--listen ${text}: expected ADDRESS:PORT, e.g. 127.0.0.1:9588 or [::1]:9588`);
  }
  return { host: (m[1] ?? m[2])!, port };
}

export async function startStatusServer(listen: { host: string; port: number }, source: StatusSource): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/healthz') {
      const reason = source.unhealthyReason();
      res
        .writeHead(reason ? 503 : 200, { 'content-type': 'text/plain; charset=utf-8' })
        .end(reason ? `unhealthy: ${reason}\n` : 'ok\n');
      return;
    }
    if (path === '/metrics') {
      source.metricsText().then(
        (text) => res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(text),
        (err: Error) =>
          res
            .writeHead(500, { 'content-type': 'text/plain; charset=utf-8' })
            .end(`metrics unavailable: ${err.message}\n`),
      );
      return;
    }
    if (path === TABLE_PATH && source.tableJson) {
      source.tableJson().then(
        (text) => res.writeHead(200, { 'content-type': 'application/json' }).end(text),
        (err: Error) =>
          res
            .writeHead(503, { 'content-type': 'text/plain; charset=utf-8' })
            .end(`table unavailable: ${err.message}\n`),
      );
      return;
    }
    res
      .writeHead(404, { 'content-type': 'text/plain; charset=utf-8' })
      .end(`not found: try /healthz, /metrics or ${TABLE_PATH}\n`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) =>
      reject(new LvsdError('CLI_USAGE', `cannot listen on ${listen.host}:${listen.port}: ${e.message}`, { cause: e })),
    );
    server.listen(listen.port, listen.host, () => resolve());
  });
  return server;
}
