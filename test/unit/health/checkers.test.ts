// The checkers on the host: exec checks spawn real processes (no IPVS needed), HTTP checks talk to a local server.
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { runCheck } from '../../../src/health/checkers.js';
import type { CheckSpec } from '../../../src/model/types.js';

const target = { address: '127.0.0.1', family: 'ipv4' as const };
const spec = (over: Partial<CheckSpec>): CheckSpec => ({
  type: 'tcp',
  interval: 5,
  timeout: 1,
  rise: 1,
  fall: 1,
  port: 80,
  initial: 'up',
  onFailure: 'quiesce',
  ...over,
});
const execSpec = (command: string[], timeout = 1) => spec({ type: 'exec', timeout, exec: { command } });

/** Pids of processes whose command line is exactly `argv`. */
function pidsOf(argv: string[]): number[] {
  const want = argv.join('\0') + '\0';
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'latin1') === want) pids.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

const leftovers: string[][] = [];
afterEach(() => {
  for (const argv of leftovers.splice(0)) for (const pid of pidsOf(argv)) process.kill(pid, 'SIGKILL');
});

describe('exec checks', () => {
  test('at the timeout the whole process group is killed: no `sleep` is left behind', async () => {
    // A duration nobody else uses, so that /proc shows only ours.
    const sleep = ['sleep', '8.4173'];
    leftovers.push(sleep);
    const t0 = Date.now();
    const r = await runCheck(execSpec(['sh', '-c', `${sleep.join(' ')}; true`]), target);
    expect(r).toEqual({ ok: false, error: 'killed after 1000 ms' });
    expect(Date.now() - t0).toBeLessThan(3000);
    await new Promise((res) => setTimeout(res, 100));
    expect(pidsOf(sleep)).toEqual([]);
  });

  test('what a check leaves running in its group after it exits is killed too', async () => {
    const sleep = ['sleep', '9.2261'];
    leftovers.push(sleep);
    expect(await runCheck(execSpec(['sh', '-c', `${sleep.join(' ')} & exit 0`]), target)).toEqual({ ok: true });
    await new Promise((res) => setTimeout(res, 100));
    expect(pidsOf(sleep)).toEqual([]);
  });

  test('more than 1 MB of output does not fail a check that exits 0', async () => {
    const r = await runCheck(
      execSpec(['sh', '-c', 'head -c 3000000 /dev/zero; head -c 3000000 /dev/zero >&2; exit 0'], 5),
      target,
    );
    expect(r).toEqual({ ok: true });
  });

  test('a failing check names its exit status and the last line of stderr', async () => {
    expect(
      await runCheck(execSpec(['sh', '-c', 'echo first >&2; echo {address}:{port} down >&2; exit 3']), target),
    ).toEqual({ ok: false, error: 'exit 3: 127.0.0.1:80 down' });
  });

  test('a command that does not exist is a failed check', async () => {
    expect(await runCheck(execSpec(['/nonexistent/lvsd-check']), target)).toMatchObject({
      ok: false,
      error: expect.stringMatching(/ENOENT/),
    });
  });

  test('arguments spawn refuses at once are a failed check', async () => {
    expect(await runCheck(execSpec(['sh', '-c', 'true\0']), target)).toMatchObject({
      ok: false,
      error: expect.stringMatching(/check could not run/),
    });
  });

  test('an abort (the daemon stopping) kills the running check at once', async () => {
    const sleep = ['sleep', '7.5311'];
    leftovers.push(sleep);
    const ac = new AbortController();
    const pending = runCheck(execSpec(['sh', '-c', `${sleep.join(' ')}; true`], 30), target, ac.signal);
    await new Promise((res) => setTimeout(res, 200));
    ac.abort();
    expect(await pending).toEqual({ ok: false, error: 'stopped' });
    await new Promise((res) => setTimeout(res, 100));
    expect(pidsOf(sleep)).toEqual([]);
  });
});

describe('http checks', () => {
  test.each([
    ['a space', '/health check'],
    ['CR/LF', '/x\r\nX-Injected: 1'],
    ['characters outside Latin-1', '/健康'],
  ])('a path with %s that Node refuses is a failed check, not a throw', async (_what, path) => {
    const r = await runCheck(spec({ type: 'http', port: 9, http: { path, expect: [200], verify: false } }), target);
    expect(r).toMatchObject({ ok: false, error: expect.stringMatching(/check could not run/) });
  });

  test('a host header Node refuses is a failed check', async () => {
    const r = await runCheck(
      spec({ type: 'http', port: 9, http: { path: '/', host: 'a\r\nb', expect: [200], verify: false } }),
      target,
    );
    expect(r).toMatchObject({ ok: false });
  });

  test('expected status: ok; another: failed with the status', async () => {
    const server = createServer((req, res) => res.writeHead(req.url === '/ok' ? 200 : 503).end());
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
    const port = (server.address() as AddressInfo).port;
    try {
      expect(
        await runCheck(spec({ type: 'http', port, http: { path: '/ok', expect: [200], verify: false } }), target),
      ).toEqual({ ok: true });
      expect(
        await runCheck(spec({ type: 'http', port, http: { path: '/no', expect: [200], verify: false } }), target),
      ).toEqual({ ok: false, error: 'status 503, expected 200' });
    } finally {
      server.close();
    }
  });
});

describe("timeouts beyond Node's timer range", () => {
  test('a 25-day timeout is not a 1 ms timeout', async () => {
    const r = await runCheck(execSpec(['sh', '-c', 'sleep 0.3; exit 0'], 25 * 86400), target);
    expect(r).toEqual({ ok: true });
  });
});
