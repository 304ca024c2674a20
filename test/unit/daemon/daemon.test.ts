// runDaemon against the fake IPVS, on the host: start-up order, stop under a hung reconcile, /metrics and /healthz.
import { execFileSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { closeSync, constants, mkdirSync, mkdtempSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { type DaemonOptions, runDaemon, statusLine } from '../../../src/daemon/daemon.js';
import type { IpvsClient } from '../../../src/ipvs/client.js';
import { createLogger } from '../../../src/log.js';
import { FakeIpvs } from '../fake-ipvs.js';

const config = (weight: number) => `version: 1
services:
  - { vip: 192.0.2.1, port: 80, scheduler: rr, realservers: [{ address: 192.0.2.10, weight: ${weight} }] }
`;

type Line = Record<string, unknown>;
const running: { signals: EventEmitter; done: Promise<number> }[] = [];
afterEach(async () => {
  for (const d of running.splice(0)) {
    d.signals.emit('SIGTERM');
    await d.done;
  }
});

/** Starts runDaemon on a fresh config file; `client` is what every IPVS open returns. */
async function start(over: Partial<DaemonOptions> = {}, client: IpvsClient = new FakeIpvs()) {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-daemon-'));
  const file = join(dir, 'lvsd.yaml');
  writeFileSync(file, config(1));
  const lines: Line[] = [];
  const log = createLogger({
    level: 'debug',
    pretty: false,
    stream: { write: (l) => lines.push(JSON.parse(l) as Line) },
  });
  const counts = { opens: 0, closes: 0 };
  const open = async (): Promise<IpvsClient> => {
    counts.opens++;
    await new Promise((res) => setTimeout(res, 5));
    // Like a netlink socket, each opened client runs one dump at a time.
    let dumping = false;
    const socket = bind(client);
    const readTable = async () => {
      if (dumping) throw new Error('EBUSY: a dump is under way on this socket');
      dumping = true;
      try {
        await new Promise((res) => setTimeout(res, 5));
        return await socket.readTable();
      } finally {
        dumping = false;
      }
    };
    return {
      ...socket,
      readTable,
      close: () => {
        counts.closes++;
      },
    };
  };
  const signals = new EventEmitter();
  const done = runDaemon({
    configPath: file,
    resyncMs: 0,
    log,
    openClient: open,
    openHostClient: () => Promise.reject(new Error('no host here')),
    statusFile: join(dir, 'status.json'),
    signals,
    debounceMs: 20,
    stopTimeoutMs: 300,
    ...over,
  });
  const entry = { signals, done };
  running.push(entry);
  const started = await Promise.race([
    waitFor(lines, (l) => l['event'] === 'started').then(() => true),
    done.then(() => false),
  ]);
  if (!started) running.splice(running.indexOf(entry), 1);
  return { dir, file, lines, counts, signals, done, started };
}

/** The client's methods bound to it, so that the copy (with its own close) still drives the same table. */
function bind(c: IpvsClient): IpvsClient {
  return {
    info: () => c.info(),
    timeouts: () => c.timeouts(),
    services: () => c.services(),
    realServers: (s) => c.realServers(s),
    syncDaemons: () => c.syncDaemons(),
    readTable: () => c.readTable(),
    execute: (ops) => c.execute(ops),
    close: () => c.close(),
  };
}

async function waitFor(lines: Line[], pred: (l: Line) => boolean, ms = 5000): Promise<Line> {
  const t0 = Date.now();
  for (;;) {
    const l = lines.find(pred);
    if (l) return l;
    if (Date.now() - t0 > ms)
      throw new Error(`no such log line within ${ms} ms:\n${lines.map((x) => JSON.stringify(x)).join('\n')}`);
    await new Promise((res) => setTimeout(res, 10));
  }
}

function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res
        .setEncoding('utf8')
        .on('data', (d: string) => {
          body += d;
        })
        .on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

/** A port nothing listens on right now. */
const listenPort = () => 20000 + Math.floor(Math.random() * 20000);

describe('lvsd run, start-up', () => {
  test('a --listen address that cannot be bound fails start-up before anything touches the table', async () => {
    const client = new FakeIpvs();
    // 192.0.2.1 is no address of this host: EADDRNOTAVAIL.
    const d = await start({ listen: { host: '192.0.2.1', port: 9588 } }, client);
    expect(d.started).toBe(false);
    expect(await d.done).toBe(1);
    expect(client.opsExecuted).toBe(0);
    expect(d.counts.opens).toBe(0);
    expect(d.lines.find((l) => l['event'] === 'start_failed')).toMatchObject({
      level: 'fatal',
      msg: expect.stringMatching(/cannot listen on 192\.0\.2\.1:9588/),
    });
  });
});

describe('lvsd run, stop', () => {
  test('SIGTERM stops the daemon even while a reconcile hangs on a read that never returns', async () => {
    const client = new FakeIpvs();
    let reads = 0;
    const read = client.readTable.bind(client);
    client.readTable = () => (++reads === 1 ? read() : new Promise(() => {}));
    const d = await start({}, client);
    d.signals.emit('SIGHUP');
    await waitFor(d.lines, () => reads === 2);
    const t0 = Date.now();
    d.signals.emit('SIGTERM');
    const code = await Promise.race([d.done, new Promise((res) => setTimeout(() => res('still running'), 5000))]);
    expect(code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(d.lines.find((l) => l['event'] === 'stop_timeout')).toMatchObject({
      level: 'warn',
      step: 'reconcile in flight',
    });
    expect(d.lines.at(-1)).toMatchObject({ event: 'stopped', in_time: false });
  });

  test('SIGTERM stops the daemon while a reload reads a FIFO put where the config was', async () => {
    const d = await start();
    const fifo = join(d.dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    renameSync(fifo, d.file);
    d.signals.emit('SIGHUP');
    await waitFor(d.lines, (l) => l['event'] === 'signal' && l['signal'] === 'SIGHUP');
    await new Promise((res) => setTimeout(res, 100));
    d.signals.emit('SIGTERM');
    try {
      const code = await Promise.race([d.done, new Promise((res) => setTimeout(() => res('still running'), 5000))]);
      expect(code).toBe(0);
      // A loader that blocks on the FIFO is left behind; one that refuses it ends the reload with the table kept.
      const reload = d.lines.find((l) => l['event'] === 'reconcile' && l['trigger'] === 'signal');
      const timedOut = d.lines.find((l) => l['event'] === 'stop_timeout');
      expect(timedOut ?? reload).toMatchObject(
        timedOut ? { step: 'reconcile in flight' } : { result: expect.stringMatching(/^(invalid_config|error)$/) },
      );
    } finally {
      // Let a reader still blocked on the FIFO see its end, so that the worker's thread is free again.
      try {
        closeSync(openSync(d.file, constants.O_WRONLY | constants.O_NONBLOCK));
      } catch {
        // no reader: nothing is blocked
      }
    }
  });
});

describe('lvsd run, the config file changing kind', () => {
  test('a directory (with a valid lvsd.yaml) put where the file was is refused, not read as a config directory', async () => {
    const client = new FakeIpvs();
    const d = await start({}, client);
    const applied = client.opsExecuted;
    rmSync(d.file);
    mkdirSync(d.file);
    writeFileSync(join(d.file, 'lvsd.yaml'), config(7));
    const err = await waitFor(d.lines, (l) => l['event'] === 'config_error');
    expect(err).toMatchObject({ code: 'CONFIG_NOT_REGULAR', file: d.file });
    await new Promise((res) => setTimeout(res, 200));
    expect(client.opsExecuted).toBe(applied);
    // The file back: it applies.
    rmSync(d.file, { recursive: true });
    writeFileSync(d.file, config(3));
    await waitFor(
      d.lines,
      (l) => l['event'] === 'reconcile' && l['trigger'] === 'file' && client.opsExecuted > applied,
    );
    expect((await client.readTable()).services[0]!.realservers[0]!.weight).toBe(3);
  });
});

describe('lvsd run, process guard', () => {
  test('installed while the daemon runs, removed when it has stopped', async () => {
    const count = () => process.listenerCount('unhandledRejection') + process.listenerCount('uncaughtException');
    const before = count();
    const d = await start({ processGuard: true });
    expect(count()).toBe(before + 2);
    d.signals.emit('SIGTERM');
    expect(await d.done).toBe(0);
    expect(count()).toBe(before);
  });
});

describe('lvsd run, status endpoint', () => {
  test('20 scrapes of /metrics at once open one more IPVS client, closed at stop', async () => {
    const port = listenPort();
    const d = await start({ listen: { host: '127.0.0.1', port } });
    expect(d.counts.opens).toBe(1); // the reconciler's
    const scrapes = await Promise.all(Array.from({ length: 20 }, () => httpGet(port, '/metrics')));
    expect(scrapes.every((s) => s.status === 200 && s.body.includes('lvsd_ipvs_backend_weight{'))).toBe(true);
    expect(d.counts.opens).toBe(2);
    d.signals.emit('SIGTERM');
    expect(await d.done).toBe(0);
    expect(d.counts.closes).toBe(2);
  });

  test('/healthz says why the last reconcile failed and when it is retried; the retry mends it', async () => {
    const client = new FakeIpvs();
    let broken = false;
    const read = client.readTable.bind(client);
    client.readTable = () => (broken ? Promise.reject(new Error('netlink: ENOBUFS')) : read());
    const port = listenPort();
    const d = await start({ listen: { host: '127.0.0.1', port }, retry: { firstMs: 300, maxMs: 300 } }, client);
    expect((await httpGet(port, '/healthz')).status).toBe(200);
    broken = true;
    d.signals.emit('SIGHUP');
    await waitFor(d.lines, (l) => l['event'] === 'reconcile' && l['result'] === 'error');
    const h = await httpGet(port, '/healthz');
    expect(h).toEqual({ status: 503, body: 'unhealthy: netlink: ENOBUFS; retrying within 1 s\n' });
    expect((await httpGet(port, '/metrics')).body).toMatch(
      /lvsd_reconcile_failures_total\{trigger="signal",result="error"\} 1/,
    );
    broken = false;
    await waitFor(d.lines, (l) => l['event'] === 'reconcile' && l['trigger'] === 'retry' && l['result'] === 'ok');
    expect((await httpGet(port, '/healthz')).status).toBe(200);
  });
});

describe('STATUS line for systemctl status', () => {
  test('a failed reconcile says when it is retried', () => {
    expect(
      statusLine({
        trigger: 'file',
        result: 'error',
        durationMs: 3,
        changes: 0,
        failures: 1,
        reason: 'EIO',
        retryInMs: 4000,
      }),
    ).toMatch(/^\d\d:\d\d:\d\d file: error: EIO; retry in 4 s$/);
    expect(
      statusLine({ trigger: 'retry', result: 'failed', durationMs: 3, changes: 1, failures: 2, retryInMs: 60_000 }),
    ).toMatch(/retry: 2 operation\(s\) failed, 1 applied; retry in 60 s$/);
  });
});
