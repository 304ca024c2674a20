/**
 * What every rule needs: places in the files, a collector of errors, and the
 * shapes of the three kinds of rule (over the whole config, one service, one
 * real server). Places are built only when a rule reports: a config may list
 * 100,000 real servers. Pure.
 */
import { LvsdError, formatWithPos } from '../../errors.js';
import type { ErrorCode } from '../../errors.js';
import type { Family } from '../../model/types.js';
import type { ParsedFile } from '../parse.js';
import { sourcePos } from '../positions.js';
import type { PathSegment } from '../positions.js';
import type { ResolvedConfig, ResolvedRealServer, ResolvedService } from '../resolve.js';

/** A key or value in a file. */
export interface Place {
  src: ParsedFile;
  path: PathSegment[];
  at: 'key' | 'value';
}

export type Config = ResolvedConfig<ParsedFile>;
export type Service = ResolvedService<ParsedFile>;
export type RealServer = ResolvedRealServer;

/** Collects the errors of the rules, each at its place. */
export class Report {
  readonly errors: LvsdError[] = [];
  /** What is allowed but likely wrong: printed, never refused. */
  readonly warnings: LvsdError[] = [];

  /** One problem at a place. */
  add(code: ErrorCode, place: Place, message: string): void {
    this.errors.push(new LvsdError(code, message, { pos: sourcePos(place.src, place.path, place.at) }));
  }

  /** One warning at a place. */
  warn(code: ErrorCode, place: Place, message: string): void {
    this.warnings.push(new LvsdError(code, message, { pos: sourcePos(place.src, place.path, place.at) }));
  }

  /** "a.yaml:3:5", to name an earlier place in a message. */
  here(place: Place): string {
    return formatWithPos('', sourcePos(place.src, place.path, place.at)).slice(0, -2);
  }
}

/** A rule over the whole config (sections, duplicates across files). */
export type ConfigRule = (config: Config, report: Report) => void;
/** A rule over one service. */
export type ServiceRule = (service: Service, report: Report, config: Config) => void;
/** A rule over one real server of a service. */
export type RealServerRule = (rs: RealServer, service: Service, report: Report) => void;

/** A place inside a service. */
export function servicePlace(s: Service, path: PathSegment[] = [], at: 'key' | 'value' = 'value'): Place {
  return { src: s.src, path: ['services', s.index, ...path], at };
}

/**
 * A place inside a real server: its `field` in the mapping form, the whole
 * item for a shorthand (which has no fields).
 */
export function realServerPlace(
  s: Service,
  rs: RealServer,
  field?: PathSegment | readonly PathSegment[],
  at: 'key' | 'value' = 'value',
): Place {
  const path: PathSegment[] = ['realservers', rs.index];
  if (rs.rec && field !== undefined) path.push(...(Array.isArray(field) ? field : [field as PathSegment]));
  return servicePlace(s, path, at);
}

/** "IPv4" or "IPv6". */
export function familyName(f: Family): string {
  return f === 'ipv4' ? 'IPv4' : 'IPv6';
}

/** " (the default)" when a value came from the defaults, for messages. */
export function fromDefaults(own: boolean): string {
  return own ? '' : ' (the default)';
}
