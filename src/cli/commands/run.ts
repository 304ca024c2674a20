/** `lvsd run`: the daemon. */
import { parseDuration, DURATION_HELP } from '../../config/duration.js';
import { runDaemon } from '../../daemon/daemon.js';
import { parseListen } from '../../daemon/status-server.js';
import { LvsdError } from '../../errors.js';
import { createLogger, LOG_LEVELS, type LogLevel } from '../../log.js';
import { DEFAULT_CONFIG_PATH as DEFAULT_CONFIG } from '../../config/load.js';
import { type Command, CONFIG_OPTION, stringOpt } from '../command.js';

export const runCommand: Command = {
  options: {
    ...CONFIG_OPTION,
    'resync-interval': { type: 'string' },
    listen: { type: 'string' },
    'log-level': { type: 'string' },
    'log-format': { type: 'string' },
    'status-file': { type: 'string' },
  },
  async run(values) {
    const level = stringOpt(values, 'log-level') ?? 'info';
    if (!(LOG_LEVELS as readonly string[]).includes(level)) {
      throw new LvsdError('CLI_USAGE', `run: --log-level ${level}: allowed: ${LOG_LEVELS.join(', ')}`);
    }
    const format = stringOpt(values, 'log-format');
    if (format !== undefined && format !== 'json' && format !== 'text') {
      throw new LvsdError('CLI_USAGE', `run: --log-format ${format}: allowed: json, text (default: text on a terminal, else json)`);
    }
    const interval = stringOpt(values, 'resync-interval') ?? '30s';
    const seconds = /^\d+$/.test(interval) ? Number(interval) : parseDuration(interval);
    if (seconds === undefined) throw new LvsdError('CLI_USAGE', `run: --resync-interval ${interval}: expected ${DURATION_HELP}; 0 disables`);
    const listenText = stringOpt(values, 'listen');
    const log = createLogger({ level: level as LogLevel, ...(format ? { pretty: format === 'text' } : {}) });
    return runDaemon({
      configPath: stringOpt(values, 'config') ?? DEFAULT_CONFIG,
      resyncMs: seconds * 1000,
      ...(listenText ? { listen: parseListen(listenText) } : {}),
      ...(stringOpt(values, 'status-file') !== undefined ? { statusFile: stringOpt(values, 'status-file')! } : {}),
      log,
    });
  },
};
