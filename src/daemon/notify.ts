/**
 * sd_notify for `Type=notify`. Node has no unix datagram sockets, so the
 * messages go through systemd's own `systemd-notify` (execFile, no shell),
 * which also waits on a barrier so systemd can attribute the message before
 * the sender exits. Requires `NotifyAccess=all` in the unit.
 */
import { execFile } from 'node:child_process';

export interface Notifier {
  /** Sends `KEY=VALUE` assignments; resolves once delivered (or failed: see onError). */
  notify(assignments: Record<string, string>): Promise<void>;
  /** True when a NOTIFY_SOCKET was given. */
  readonly enabled: boolean;
}

/** A notifier that does nothing: not started by systemd. */
export const noNotifier: Notifier = { enabled: false, notify: async () => {} };

export interface SystemdNotifierOptions {
  socket: string;
  mainPid: number;
  /** The systemd-notify binary (default: from PATH). */
  command?: string;
  onError?: (err: Error) => void;
}

/** Sends via systemd-notify, one message at a time so that their order is kept. */
export function systemdNotifier(opts: SystemdNotifierOptions): Notifier {
  let chain: Promise<void> = Promise.resolve();
  const report = (err: Error) => {
    try {
      opts.onError?.(err);
    } catch {
      // Nothing is left to tell.
    }
  };
  // Never rejects: a failed message must neither end the daemon nor stop the ones after it.
  const send = (assignments: Record<string, string>): Promise<void> =>
    new Promise<void>((resolve) => {
      const args = [
        `--pid=${opts.mainPid}`,
        ...Object.entries(assignments).map(([k, v]) => `${k}=${v.replace(/\n/g, ' ')}`),
      ];
      execFile(
        opts.command ?? 'systemd-notify',
        args,
        { env: { ...process.env, NOTIFY_SOCKET: opts.socket }, timeout: 10_000 },
        (err, _out, stderr) => {
          if (err)
            report(
              new Error(
                `systemd-notify ${Object.keys(assignments).join(',')} failed: ${stderr.trim() || err.message}`,
                { cause: err },
              ),
            );
          resolve();
        },
      );
    }).catch((e: unknown) => report(e instanceof Error ? e : new Error(String(e))));
  return {
    enabled: true,
    notify(assignments) {
      chain = chain.then(() => send(assignments));
      return chain;
    },
  };
}

/** The notifier for this process's environment (NOTIFY_SOCKET), or one that does nothing. */
export function notifierFromEnv(env: NodeJS.ProcessEnv, onError?: (err: Error) => void): Notifier {
  const socket = env['NOTIFY_SOCKET'];
  if (!socket) return noNotifier;
  return systemdNotifier({ socket, mainPid: process.pid, ...(onError ? { onError } : {}) });
}

/** The watchdog interval in ms (half of WATCHDOG_USEC), when systemd asks this process for one. */
export function watchdogIntervalMs(env: NodeJS.ProcessEnv, pid = process.pid): number | undefined {
  const usec = Number(env['WATCHDOG_USEC']);
  if (!Number.isFinite(usec) || usec <= 0) return undefined;
  const forPid = env['WATCHDOG_PID'];
  if (forPid !== undefined && Number(forPid) !== pid) return undefined;
  return Math.max(1, Math.floor(usec / 2000));
}
