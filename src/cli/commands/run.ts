/** `lvsd run`: the daemon. */
import { parseDuration, DURATION_HELP, MAX_TIMER_SECONDS } from '../../config/duration.js';
import { runDaemon } from '../../daemon/daemon.js';
import { parseListen } from '../../daemon/status-server.js';
import { LvsdError } from '../../errors.js';
import { createLogger, LOG_LEVELS, type LogLevel } from '../../log.js';
import { DEFAULT_CONFIG_PATH as DEFAULT_CONFIG } from '../../config/load.js';
import { peerTableUrl } from '../../peers/fetch.js';
import { type Command, CONFIG_OPTION, type OptionValues, stringOpt } from '../command.js';

/** The longest --resync-interval (s): Node's timers take at most 2^31-1 ms. */
export const MAX_RESYNC_SECONDS = MAX_TIMER_SECONDS;

/** --resync-interval as ms; 0 disables. CLI_USAGE for anything but a duration up to MAX_RESYNC_SECONDS. */
export function parseResyncInterval(text: string): number {
  const seconds = /^\d+$/.test(text) ? Number(text) : parseDuration(text);
  if (seconds === undefined) {
    throw new LvsdError('CLI_USAGE', `run: --resync-interval ${text}: expected ${DURATION_HELP}; 0 disables`);
  }
  if (seconds > MAX_RESYNC_SECONDS) {
    throw new LvsdError(
      'CLI_USAGE',
      `run: --resync-interval ${text}: at most ${MAX_RESYNC_SECONDS} s (24d20h31m23s); 0 disables`,
    );
  }
  return seconds * 1000;
}

/** --peer URL... and --peer-interval: the peers whose tables the daemon compares with its own (lvsd_peer_* metrics). */
export function parsePeers(values: OptionValues, listening: boolean): { urls: URL[]; intervalMs: number } | undefined {
  const raw = values['peer'];
  const list = Array.isArray(raw) ? raw.filter((v): v is string => typeof v === 'string') : [];
  const intervalText = stringOpt(values, 'peer-interval');
  if (list.length === 0) {
    if (intervalText !== undefined) throw new LvsdError('CLI_USAGE', 'run: --peer-interval needs --peer URL');
    return undefined;
  }
  if (!listening)
    throw new LvsdError('CLI_USAGE', 'run: --peer needs --listen: the comparison is a metric on /metrics');
  const seconds = parseDuration(intervalText ?? '30s');
  if (seconds === undefined || seconds < 1 || seconds > MAX_RESYNC_SECONDS) {
    throw new LvsdError('CLI_USAGE', `run: --peer-interval ${intervalText}: expected ${DURATION_HELP}, at least 1s`);
  }
  return { urls: list.map(peerTableUrl), intervalMs: seconds * 1000 };
}

export const runCommand: Command = {
  options: {
    ...CONFIG_OPTION,
    'resync-interval': { type: 'string' },
    listen: { type: 'string' },
    'log-level': { type: 'string' },
    'log-format': { type: 'string' },
    'status-file': { type: 'string' },
    peer: { type: 'string', multiple: true },
    'peer-interval': { type: 'string' },
  },
  async run(values) {
    const level = stringOpt(values, 'log-level') ?? 'info';
    if (!(LOG_LEVELS as readonly string[]).includes(level)) {
      throw new LvsdError('CLI_USAGE', `run: --log-level ${level}: allowed: ${LOG_LEVELS.join(', ')}`);
    }
    const format = stringOpt(values, 'log-format');
    if (format !== undefined && format !== 'json' && format !== 'text') {
      throw new LvsdError(
        'CLI_USAGE',
        `run: --log-format ${format}: allowed: json, text (default: text on a terminal, else json)`,
      );
    }
    const resyncMs = parseResyncInterval(stringOpt(values, 'resync-interval') ?? '30s');
    const listenText = stringOpt(values, 'listen');
    const peers = parsePeers(values, listenText !== undefined);
    const log = createLogger({ level: level as LogLevel, ...(format ? { pretty: format === 'text' } : {}) });
    const code = await runDaemon({
      configPath: stringOpt(values, 'config') ?? DEFAULT_CONFIG,
      resyncMs,
      ...(listenText ? { listen: parseListen(listenText) } : {}),
      ...(stringOpt(values, 'status-file') !== undefined ? { statusFile: stringOpt(values, 'status-file')! } : {}),
      log,
      processGuard: true,
      ...(peers ? { peers } : {}),
    });
    // A stop that gave up on an operation in flight (a read of a FIFO that never returns) leaves
    // it pending, and it would keep the process up: exit soon whatever is left.
    setTimeout(() => process.exit(code), 1000).unref();
    return code;
  },
};
