/**
 * The one module that imports pino. JSON lines on stdout for journald; when
 * stdout is a terminal, one readable line per record instead.
 */
import { pino, type Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerOptions {
  level: LogLevel;
  /** Human-readable lines instead of JSON (default: when stdout is a TTY). */
  pretty?: boolean;
  /** Where lines go (default: stdout). */
  stream?: { write(line: string): void };
}

export function createLogger(opts: LoggerOptions): Logger {
  const out = opts.stream ?? process.stdout;
  const pretty = opts.pretty ?? Boolean(process.stdout.isTTY);
  const options = {
    level: opts.level,
    base: undefined, // pid and hostname are journald's job
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return pino(options, pretty ? { write: (line: string) => out.write(prettyLine(line)) } : out);
}

/** A JSON log line as `HH:MM:SS LEVEL message key=value ...`. */
export function prettyLine(json: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const { time, level, msg, ...rest } = rec;
  const clock = typeof time === 'string' ? time.slice(11, 19) : '';
  const fields = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${clock} ${String(level).toUpperCase().padEnd(5)} ${String(msg ?? '')}${fields ? '  ' + fields : ''}\n`;
}
