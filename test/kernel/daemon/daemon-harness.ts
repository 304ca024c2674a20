// Drives a real `lvsd run` process in the test kernel: start, read its JSON
// logs, poll the IPVS table, stop.
import { type ChildProcess, spawn } from 'node:child_process';
import { get } from 'node:http';
import { LVSD, CLI, ipvsadm } from '../helpers.js';

export { CLI };

export interface LogRecord {
  level: string;
  msg: string;
  event?: string;
  [k: string]: unknown;
}

export class Daemon {
  readonly logs: LogRecord[] = [];
  stderr = '';
  private exited: Promise<number | null>;

  private constructor(readonly child: ChildProcess) {
    let buf = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          this.logs.push(JSON.parse(line) as LogRecord);
        } catch {
          this.logs.push({ level: 'raw', msg: line });
        }
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.stderr += d;
    });
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  /** Starts `lvsd run` with JSON logs; resolves once it logged 'started' (or exited). */
  static async start(args: string[], env: NodeJS.ProcessEnv = {}, prefix: string[] = []): Promise<Daemon> {
    // A prefix such as `ip netns exec NS` execs node in place: signals still reach lvsd itself.
    const argv = [...prefix, ...LVSD, 'run', '--log-format', 'json', '--log-level', 'debug', ...args];
    const child = spawn(argv[0]!, argv.slice(1), {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const d = new Daemon(child);
    await Promise.race([d.waitLog((r) => r.event === 'started', 30_000), d.exited]);
    return d;
  }

  /** Resolves with the first log record matching `pred` (also among those already seen). */
  async waitLog(pred: (r: LogRecord) => boolean, timeoutMs = 10_000, from = 0): Promise<LogRecord> {
    const t0 = Date.now();
    for (;;) {
      const found = this.logs.slice(from).find(pred);
      if (found) return found;
      if (Date.now() - t0 > timeoutMs)
        throw new Error(
          `no matching log record within ${timeoutMs} ms; logs:\n${this.logs.map((l) => JSON.stringify(l)).join('\n')}\nstderr: ${this.stderr}`,
        );
      await sleep(50);
    }
  }

  /** Sends a signal and resolves with the exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    this.child.kill(signal);
    return this.exited;
  }

  exitCode(): Promise<number | null> {
    return this.exited;
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `ipvsadm -Sn` until `pred` holds; returns the last listing. */
export async function waitTable(pred: (save: string) => boolean, timeoutMs = 10_000): Promise<string> {
  const t0 = Date.now();
  for (;;) {
    const save = await ipvsadm('-Sn');
    if (pred(save)) return save;
    if (Date.now() - t0 > timeoutMs) throw new Error(`table did not converge within ${timeoutMs} ms; it is:\n${save}`);
    await sleep(100);
  }
}

/** GET `url` (the daemon's /healthz or /metrics): its status and body. */
export function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
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
