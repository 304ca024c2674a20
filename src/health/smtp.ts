/**
 * The `smtp` check, as keepalived's SMTP_CHECK does it: connect, read the
 * 220 greeting, send HELO (with the director's host name) and read 250, then
 * QUIT. Multi-line replies (`250-...` lines before `250 ...`) are read to
 * their last line. One attempt, bounded by the timeout, never throwing.
 */
import { connect } from 'node:net';
import { hostname } from 'node:os';
import type { CheckResult, CheckTarget } from './checkers.js';

/** The longest reply read: a server sending more is not a mail server. */
const MAX_REPLY = 64 * 1024;

/** One SMTP check of `t` on `port` within `ms`. */
export function smtpCheck(t: CheckTarget, port: number, ms: number): Promise<CheckResult> {
  return new Promise((resolve) => {
    const sock = connect({ host: t.address, port });
    const timer = setTimeout(() => done({ ok: false, error: `no SMTP answer within ${ms} ms` }), ms);
    let buf = '';
    let step: 'greeting' | 'helo' = 'greeting';
    let settled = false;
    const done = (r: CheckResult, quit = false): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
      if (!quit) return void sock.destroy();
      // A polite QUIT; the socket goes when the server closes, or a second later.
      sock.end('QUIT\r\n');
      setTimeout(() => sock.destroy(), 1000).unref();
    };
    sock.setEncoding('latin1');
    sock.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > MAX_REPLY) return done({ ok: false, error: 'reply too long' });
      const reply = lastLine(buf);
      if (reply === undefined) return;
      buf = '';
      const want = step === 'greeting' ? '220' : '250';
      if (!reply.startsWith(want))
        return done({ ok: false, error: `${step}: expected ${want}, got '${reply.slice(0, 80)}'` });
      if (step === 'helo') return done({ ok: true }, true);
      step = 'helo';
      sock.write(`HELO ${hostname()}\r\n`);
    });
    sock.once('error', (e) => done({ ok: false, error: e.message }));
    sock.once('close', () => done({ ok: false, error: `connection closed before the ${step} reply` }));
  });
}

/** The final line of a complete reply (`CODE text`), or undefined while it is incomplete. */
function lastLine(buf: string): string | undefined {
  const lines = buf.split(/\r?\n/);
  lines.pop();
  return lines.find((l) => /^\d{3}(?: |$)/.test(l));
}
