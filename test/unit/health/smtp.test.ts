/**
 * The smtp check against SMTP-like servers on 127.0.0.1: a 220 greeting and
 * a 250 answer to HELO pass (multi-line replies read to their last line);
 * anything else, silence, or a closed port fails within the timeout.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, expect, test } from 'vitest';
import { smtpCheck } from '../../../src/health/smtp.js';

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** A server greeting with `greeting` and answering each line with `answer(line)` (undefined: silence). */
async function server(
  greeting: string | string[] | undefined,
  answer: (line: string) => string | undefined,
): Promise<number> {
  const s = createServer((sock: Socket) => {
    // Pieces of the greeting 20 ms apart: the check must wait for the reply's last line.
    [greeting ?? []].flat().forEach((piece, i) => setTimeout(() => sock.write(piece), 20 * i));
    let buf = '';
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        const a = answer(line);
        if (a !== undefined) sock.write(a);
        if (line === 'QUIT') sock.end('221 bye\r\n');
      }
    });
    sock.on('error', () => {});
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as { port: number }).port;
}

const target = { address: '127.0.0.1', family: 'ipv4' as const };
const helo = (line: string) => (line.startsWith('HELO ') ? '250 ok\r\n' : undefined);

test('220 greeting, 250 to HELO: up', async () => {
  expect(await smtpCheck(target, await server('220 mx ESMTP\r\n', helo), 1000)).toEqual({ ok: true });
});

test('multi-line greeting and HELO reply, sent in pieces', async () => {
  const port = await server(['220-mx\r\n220', ' ready\r', '\n'], (l) =>
    l.startsWith('HELO') ? '250-mx\r\n250 SIZE\r\n' : undefined,
  );
  expect(await smtpCheck(target, port, 1000)).toEqual({ ok: true });
});

test.each([
  ['a 554 greeting', '554 go away\r\n', helo, /greeting: expected 220/],
  ['a 500 answer to HELO', '220 mx\r\n', () => '500 what\r\n', /helo: expected 250/],
  ['no greeting', undefined, helo, /no SMTP answer within 300 ms/],
  ['no HELO answer', '220 mx\r\n', () => undefined, /no SMTP answer within 300 ms/],
])('%s: down', async (_, greeting, answer, error) => {
  const r = await smtpCheck(target, await server(greeting, answer), 300);
  expect(r.ok).toBe(false);
  expect(!r.ok && r.error).toMatch(error);
});

test('a closed port: down', async () => {
  const port = await server('220 mx\r\n', helo);
  servers.pop()!.close();
  await new Promise((r) => setTimeout(r, 50));
  expect((await smtpCheck(target, port, 1000)).ok).toBe(false);
});
