/**
 * The one registry of lvsd error codes. Every error lvsd reports carries one
 * of these codes; the message is for people, the code is for tests and tools.
 */
export const ErrorCodes = {
  // config: reading, parsing and validating the YAML file(s)
  CONFIG_READ: 'could not read a config file',
  CONFIG_EMPTY: 'the config declares nothing',
  CONFIG_SYNTAX: 'YAML syntax error',
  CONFIG_SCHEMA: 'value not allowed by the schema',
  CONFIG_UNKNOWN_KEY: 'unknown key',
  CONFIG_DUPLICATE_SERVICE: 'two services with the same identity',
  CONFIG_DUPLICATE_NAME: 'two services with the same name',
  CONFIG_DUPLICATE_REALSERVER: 'a real server listed twice in one service',
  CONFIG_DUPLICATE_SECTION: 'a section that may appear in one file only appears in several',
  CONFIG_FAMILY_MISMATCH: 'address family mismatch',
  CONFIG_NETMASK: 'bad persistence netmask',
  CONFIG_ONE_PACKET: 'one_packet on a non-UDP service',
  CONFIG_TUNNEL: 'bad tunnel settings',
  CONFIG_THRESHOLDS: 'lower_threshold above upper_threshold',
  CONFIG_SCHEDULER: 'unknown scheduler',
  CONFIG_SCHEDULER_FLAG: 'scheduler flag does not fit the scheduler',
  CONFIG_MISSING: 'a required value is missing',
  CONFIG_ADDRESS: 'bad address',
  CONFIG_RANGE: 'value out of range',
  CONFIG_DURATION: 'bad duration',
  CONFIG_CONFLICT: 'keys or rules that exclude each other',
  CONFIG_CHECK: 'bad health check, sorry server or drain settings',
  CONFIG_HOST: 'bad director or realserver settings',
  CONFIG_SYNC: 'bad director.sync settings, or services the sync daemons cannot carry',
  CONFIG_PORT: 'a real server port that dr or tunnel forwarding cannot use',
  CONFIG_TOO_LARGE: 'a config file larger than lvsd reads',
  CONFIG_NOT_REGULAR:
    'a config file that is not a regular file (a FIFO, device, socket, or a directory where a file was)',
  CONFIG_DANGLING: 'a config file that is a symbolic link to nothing',
  CONFIG_TOO_DEEP: 'a config nested deeper than lvsd reads',
  CONFIG_TOO_MANY: 'a config whose aliases expand to more than lvsd reads',
  CONFIG_INTERNAL: 'an internal error while reading the config',
  IMPORT_PARSE: 'could not parse ipvsadm output',
  IMPORT_EMPTY: 'nothing to import: no table, or a table without services',
  IMPORT_INVALID: 'the imported table makes a config that validate rejects',
  IMPORT_SYNTAX: 'a keepalived.conf or ldirectord.cf that cannot be read as that syntax',
  IMPORT_WRITE: 'could not write a file lvsd import was asked to write',
  // ipvs: talking to the kernel
  IPVS_UNAVAILABLE: 'IPVS is not available in this kernel',
  IPVS_PERMISSION: 'not permitted (needs root or CAP_NET_ADMIN)',
  IPVS_EXISTS: 'object already exists',
  IPVS_NOT_FOUND: 'object not found',
  IPVS_INVALID: 'the kernel rejected the request as invalid',
  IPVS_BUSY: 'the kernel is busy',
  IPVS_PROTOCOL: 'unexpected netlink reply',
  IPVS_IO: 'netlink socket error',
  IPVS_KERNEL: 'the kernel rejected the request',
  // apply
  APPLY_SKIPPED: 'not sent because an operation it depends on failed',
  // host: addresses, links, sysctls
  HOST_UNSUPPORTED: 'this host lacks what the change needs',
  HOST_PERMISSION: 'not permitted to change the host (needs root or CAP_NET_ADMIN)',
  HOST_KERNEL: 'the kernel rejected a host change',
  HOST_SYSCTL_PATH: 'a sysctl key that leads outside /proc/sys/net',
  // cli
  CLI_USAGE: 'bad command line',
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

/** Where in which config file an error is. Lines and columns count from 1. */
export interface SourcePos {
  file: string;
  line?: number;
  column?: number;
}

export interface LvsdErrorOptions {
  cause?: unknown;
  pos?: SourcePos;
  /** Structured facts about the error (the object, the kernel's errno...). */
  details?: Record<string, unknown>;
}

/** A typed error: a registry code, a message for people, and its cause. */
export class LvsdError extends Error {
  readonly code: ErrorCode;
  readonly pos?: SourcePos;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: LvsdErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LvsdError';
    this.code = code;
    if (options.pos) this.pos = options.pos;
    if (options.details) this.details = options.details;
  }

  /** `FILE:LINE:COLUMN: message` when the error has a position, else the message. */
  toString(): string {
    return formatWithPos(this.message, this.pos);
  }
}

/** Prefix a message with `file:line:column: ` as far as the position is known. */
export function formatWithPos(message: string, pos?: SourcePos): string {
  if (!pos) return message;
  let where = pos.file;
  if (pos.line !== undefined) {
    where += `:${pos.line}`;
    if (pos.column !== undefined) where += `:${pos.column}`;
  }
  return `${where}: ${message}`;
}

/** True when `e` is an LvsdError, optionally with the given code. */
export function isLvsdError(e: unknown, code?: ErrorCode): e is LvsdError {
  return e instanceof LvsdError && (code === undefined || e.code === code);
}
