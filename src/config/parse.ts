/**
 * One config text to data: YAML syntax first (tabs, bad indentation,
 * duplicate keys), then the JSON Schema, every error with its code and its
 * line and column. The checks a schema cannot express are validate.ts's.
 * Pure: the file name is only used in error positions.
 */
import type { Document, LineCounter } from 'yaml';
import type { ErrorObject } from 'ajv';
import { LvsdError } from '../errors.js';
import type { ErrorCode } from '../errors.js';
import { DURATION_HELP } from './duration.js';
import { MAX_REAL_SERVERS, MAX_VALUES, overBound } from './limits.js';
import { documentPositions, pointerToPath, sourcePos, textPositions } from './positions.js';
import type { PathSegment, YamlSource } from './positions.js';
import { MAX_DEPTH, readYaml } from './read-yaml.js';
import type { YamlReadError } from './read-yaml.js';
import { configSchema, isDefinition, schemaErrors } from './schema.js';
import type { JsonSchema } from './schema.js';
import { clip, clipTokens, closest, didYouMean } from './suggest.js';
import { yaml } from './yaml-module.js';

/** A config file, parsed. `data` is the plain data, undefined after a syntax error. */
export interface ParsedFile extends YamlSource {
  data: unknown;
}

export interface ParseResult extends ParsedFile {
  errors: LvsdError[];
}

/**
 * Above this size, a text js-yaml finds an error in gets js-yaml's message
 * and place instead of `yaml`'s: `yaml` builds its document at about 1 MB/s
 * (4 s for the 10,000-service file), js-yaml fails in a tenth of that;
 * 128 KiB is a few hundred services, more than people write by hand.
 * Below it, errors read as they always have.
 */
const YAML_ERRORS_MAX = 128 * 1024;

/**
 * The largest text handed to `yaml` for its data (the forms js-yaml declines).
 * `yaml` holds about 120 bytes per byte of text (550 MB for 4.6 MB); a 50 MB
 * file ran out of heap. 16 MiB stays within 2 GB.
 */
const YAML_DOCUMENT_MAX = 16 * 1024 * 1024;

/**
 * Parses and schema-checks one config text. `file` names the file in error
 * positions and nothing else: validation never depends on a file's name.
 * An empty document (nothing, or only comments) is a CONFIG_EMPTY error:
 * every file must at least say `version: 1`.
 */
export function parseConfigText(text: string, file: string): ParseResult {
  const source = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const read = readYaml(source);
  if (read.kind === 'data') return checkData({ file, data: read.data, errors: [], positions: textPositions(source) });
  const error = read.error;
  if (!error && source.length > YAML_DOCUMENT_MAX) {
    const message =
      `a file over ${YAML_DOCUMENT_MAX / 1024 / 1024} MiB must not use YAML forms only the full reader reads ` +
      '(a directive, a null or collection key, an anchor or tag before `key:` on its line)';
    const tooLarge = new LvsdError('CONFIG_TOO_LARGE', message, { pos: { file } });
    return { file, data: undefined, positions: textPositions(source), errors: [tooLarge] };
  }
  if (error && (error.tooDeep || source.length > YAML_ERRORS_MAX)) {
    const positions = textPositions(source);
    const code: ErrorCode = error.tooDeep ? 'CONFIG_TOO_DEEP' : 'CONFIG_SYNTAX';
    const message = error.tooDeep ? `collections nest more than ${MAX_DEPTH} deep` : readErrorMessage(source, error);
    const pos = { file, ...(error.offset === undefined ? { line: 1, column: 1 } : positions.at(error.offset)) };
    const details = { reason: clipTokens(error.reason) };
    return { file, data: undefined, positions, errors: [new LvsdError(code, message, { pos, details })] };
  }
  try {
    return parseWithYaml(source, file);
  } catch (e) {
    // yaml recurses once per nesting level: a text js-yaml declined for another reason may still be too deep for it.
    if (!(e instanceof RangeError)) throw e;
    const pos = { file, line: 1, column: 1 };
    const error = new LvsdError('CONFIG_TOO_DEEP', 'collections nest too deep to read', { pos, cause: e });
    return { file, data: undefined, positions: textPositions(''), errors: [error] };
  }
}

/** The `yaml` package's reading of a text js-yaml declined: its errors, or its data. */
function parseWithYaml(source: string, file: string): ParseResult {
  const { doc, lineCounter } = parseYaml(source);
  const positions = documentPositions(doc, lineCounter);
  const result: ParseResult = { file, data: undefined, errors: [], positions };
  const seen = new Set<number>();
  for (const e of [...doc.errors, ...doc.warnings]) {
    if (seen.has(e.pos[0])) continue; // one message per place: the first is the cause
    seen.add(e.pos[0]);
    let message = clipTokens(e.message.split('\n')[0]!);
    if (e.code === 'DUPLICATE_KEY') message = duplicateKeyMessage(source, e.pos[0]);
    if (e.code === 'TAB_AS_INDENT') message += '; indent with spaces';
    const pos = { file, ...positions.at(e.pos[0]) };
    result.errors.push(new LvsdError('CONFIG_SYNTAX', message, { pos, details: { yamlCode: e.code } }));
  }
  if (result.errors.length > 0) return result;
  try {
    result.data = doc.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    if (e instanceof RangeError) throw e;
    const message = clipTokens(e instanceof Error ? e.message.split('\n')[0]! : String(e));
    result.errors.push(new LvsdError('CONFIG_SYNTAX', message, { pos: { file, line: 1, column: 1 }, cause: e }));
    return result;
  }
  return checkData(result);
}

/** A file's data against the emptiness rule, the bounds (limits.ts) and the schema. */
function checkData(result: ParseResult): ParseResult {
  const at = { pos: { file: result.file, line: 1, column: 1 } };
  if (result.data === null || result.data === undefined) {
    const message = 'the file is empty: every config file needs at least `version: 1`';
    result.errors.push(new LvsdError('CONFIG_EMPTY', message, at));
    return result;
  }
  const over = overBound(result.data);
  if (over) {
    result.data = undefined;
    const message =
      over.bound === 'depth'
        ? `collections nest more than ${MAX_DEPTH} deep (aliases included)`
        : over.bound === 'values'
          ? `the data expands to more than ${MAX_VALUES.toLocaleString('en')} values (aliases counted each time used)`
          : `the services have ${over.count.toLocaleString('en')} real servers (aliases counted each time used); ` +
            `lvsd reads at most ${MAX_REAL_SERVERS.toLocaleString('en')}`;
    const pos = over.bound === 'realservers' ? sourcePos(result, ['services'], 'key') : at.pos;
    result.errors.push(new LvsdError(over.bound === 'depth' ? 'CONFIG_TOO_DEEP' : 'CONFIG_TOO_MANY', message, { pos }));
    return result;
  }
  result.errors.push(...mapSchemaErrors(result, schemaErrors(result.data)));
  return result;
}

/** `duplicate key 'x': ...`, with the key as it is written at `offset` (truncated). */
function duplicateKeyMessage(source: string, offset: number): string {
  const key = /^("[^"\n]*"|'[^'\n]*'|[^:\n]*?)\s*:/.exec(source.slice(offset, offset + 1024))?.[1] ?? '';
  return `duplicate key '${clip(key.replace(/^["']|["']$/g, ''))}': a key may appear once in a mapping`;
}

/** js-yaml's reason, in the words `yaml`'s messages use for the common cases. */
function readErrorMessage(source: string, error: YamlReadError): string {
  if (error.reason === 'duplicated mapping key' && error.offset !== undefined) {
    return duplicateKeyMessage(source, error.offset);
  }
  if (error.reason.includes('tab characters')) return 'Tabs are not allowed as indentation; indent with spaces';
  return clipTokens(error.reason);
}

function parseYaml(source: string): { doc: Document.Parsed; lineCounter: LineCounter } {
  const { LineCounter, parseDocument } = yaml();
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, prettyErrors: false, uniqueKeys: true, strict: true, merge: true });
  return { doc, lineCounter };
}

/**
 * ajv's errors as LvsdErrors, one per problem: a type error hides the other
 * complaints about the same value, an unknown key that looks like a missing
 * required key hides the "missing" error. Sorted by position.
 */
export function mapSchemaErrors(src: ParsedFile, errors: readonly ErrorObject[]): LvsdError[] {
  const typeErrorAt = new Set(errors.filter((e) => e.keyword === 'type').map((e) => e.instancePath));
  const suggestedAt = new Map<string, Set<string>>();
  for (const e of errors) {
    if (e.keyword !== 'additionalProperties') continue;
    const allowed = Object.keys((e.parentSchema as JsonSchema | undefined)?.properties ?? {});
    const guess = closest(String(e.params.additionalProperty), allowed);
    if (guess === undefined) continue;
    const set = suggestedAt.get(e.instancePath) ?? new Set<string>();
    set.add(guess);
    suggestedAt.set(e.instancePath, set);
  }

  const out: LvsdError[] = [];
  const done = new Set<string>();
  for (const e of errors) {
    if (e.keyword === 'if') continue;
    if (e.keyword !== 'type' && typeErrorAt.has(e.instancePath)) continue;
    if (e.keyword === 'required' && suggestedAt.get(e.instancePath)?.has(String(e.params.missingProperty))) continue;
    const mapped = mapOne(src, e);
    const id = `${mapped.code}|${mapped.pos?.line}|${mapped.pos?.column}|${mapped.message}`;
    if (done.has(id)) continue;
    done.add(id);
    out.push(mapped);
  }
  return sortErrors(out);
}

/**
 * Errors in file order (the order of `files`; errors of other files last),
 * then by line and column; stable for equal positions.
 */
export function sortErrors(errors: readonly LvsdError[], files: readonly string[] = []): LvsdError[] {
  const rank = (e: LvsdError) => {
    const i = files.indexOf(e.pos?.file ?? '');
    return i < 0 ? files.length : i;
  };
  return errors
    .map((e, i) => ({ e, i }))
    .sort(
      (a, b) =>
        rank(a.e) - rank(b.e) ||
        (a.e.pos?.line ?? 0) - (b.e.pos?.line ?? 0) ||
        (a.e.pos?.column ?? 0) - (b.e.pos?.column ?? 0) ||
        a.i - b.i,
    )
    .map((x) => x.e);
}

/** What every schema error's message is built from. */
interface SchemaErrorContext {
  e: ErrorObject;
  path: PathSegment[];
  parent: JsonSchema | undefined;
  /** "a service", "'port'"... */
  what: string;
  /** The offending value, clipped. */
  got: string;
  make: (code: ErrorCode, message: string, at?: readonly PathSegment[], where?: 'key' | 'value') => LvsdError;
}

function mapOne(src: ParsedFile, e: ErrorObject): LvsdError {
  const path: PathSegment[] = pointerToPath(e.instancePath);
  const parent = e.parentSchema as JsonSchema | undefined;
  const make: SchemaErrorContext['make'] = (code, message, at = path, where = 'value') =>
    new LvsdError(code, message, {
      pos: sourcePos(src, at, where),
      details: { path: path.join('.'), keyword: e.keyword },
    });
  const c: SchemaErrorContext = { e, path, parent, what: describe(path), got: show(e.data), make };
  if (isDefinition(parent, 'duration') && (e.keyword === 'type' || e.keyword === 'pattern')) {
    return make('CONFIG_DURATION', `${c.what} must be a duration: ${DURATION_HELP} (got ${c.got})`);
  }
  return (KEYWORD_ERRORS[e.keyword] ?? otherError)(c);
}

const otherError = ({ what, e, make }: SchemaErrorContext) =>
  make('CONFIG_SCHEMA', `${what} ${e.message ?? 'is not allowed'}`);

function unknownKeyError({ e, path, parent, make }: SchemaErrorContext): LvsdError {
  const key = String(e.params.additionalProperty);
  const allowed = Object.keys(parent?.properties ?? {});
  const message = `unknown key '${keyText(key)}'${didYouMean(key, allowed)}; ${describe(path, 'in')} the keys are: ${allowed.join(', ')}`;
  return make('CONFIG_UNKNOWN_KEY', message, [...path, key], 'key');
}

function requiredError({ e, path, what, make }: SchemaErrorContext): LvsdError {
  const key = String(e.params.missingProperty);
  if (path.length === 0 && key === 'version') {
    return make('CONFIG_MISSING', 'missing `version: 1`: every lvsd config file starts with it');
  }
  return make('CONFIG_MISSING', `${what} needs '${key}'`);
}

function typeError({ e, path, parent, what, got, make }: SchemaErrorContext): LvsdError {
  if (isDefinition(parent, 'realserver')) {
    return make(
      'CONFIG_SCHEMA',
      `a real server is an address text (${'"ADDRESS", "ADDRESS:PORT" or "[IPV6]:PORT"'}) or a mapping with 'address' (got ${got})`,
    );
  }
  const types = ([] as string[]).concat(e.params.type as string | string[]);
  if (path.length === 0) {
    // Never the content: the file may be anything given with -c (/etc/shadow, a binary).
    return make(
      'CONFIG_SCHEMA',
      `the file is not a YAML mapping of settings but ${typeName(valueType(e.data))}: an lvsd config starts with \`version: 1\``,
    );
  }
  let message = `${what} must be ${types.map(typeName).join(' or ')} (got ${got})`;
  if (types.includes('array') && e.data === null) message += `; write \`${String(path.at(-1))}: []\` for an empty list`;
  if (types.includes('object') && e.data === null && isDefinition(parent, 'persistence'))
    message += '; write `persistence: {}` for the defaults';
  return make('CONFIG_SCHEMA', message);
}

function enumError({ e, parent, what, got, make }: SchemaErrorContext): LvsdError {
  const allowed = (e.params.allowedValues as unknown[]).map(String);
  const hint = typeof e.data === 'string' ? didYouMean(e.data, allowed) : '';
  const code: ErrorCode = isDefinition(parent, 'scheduler') ? 'CONFIG_SCHEDULER' : 'CONFIG_SCHEMA';
  return make(code, `${what} must be one of ${allowed.join(', ')} (got ${got})${hint}`);
}

function rangeError({ parent, what, got, make }: SchemaErrorContext): LvsdError {
  return make(
    'CONFIG_RANGE',
    `${what} must be from ${parent?.minimum ?? '-∞'} to ${parent?.maximum ?? '∞'} (got ${got})`,
  );
}

function propertiesError(c: SchemaErrorContext): LvsdError {
  if (isDefinition(c.parent, 'ignoreRule')) {
    return c.make('CONFIG_SCHEMA', 'an ignore rule has exactly one key: `vip: PREFIX-OR-ADDRESS` or `fwmark: N`');
  }
  return otherError(c);
}

/** One message builder per ajv keyword; the others get `otherError`. */
const KEYWORD_ERRORS: Record<string, (c: SchemaErrorContext) => LvsdError> = {
  additionalProperties: unknownKeyError,
  required: requiredError,
  type: typeError,
  enum: enumError,
  const: ({ e, path, what, got, make }) =>
    make(
      'CONFIG_SCHEMA',
      `${what} must be ${show(e.params.allowedValue)} (got ${got})${path.join() === 'version' ? ': this lvsd reads format version 1' : ''}`,
    ),
  minimum: rangeError,
  maximum: rangeError,
  pattern: ({ e, path, what, got, make }) =>
    path.at(-1) === 'name'
      ? make('CONFIG_SCHEMA', `a service name must not be empty or contain spaces (got ${got})`)
      : make('CONFIG_SCHEMA', `${what} must match ${String(e.params.pattern)} (got ${got})`),
  maxLength: ({ e, what, make }) => make('CONFIG_RANGE', `${what} is longer than ${String(e.params.limit)} characters`),
  minProperties: propertiesError,
  maxProperties: propertiesError,
  uniqueItems: ({ e, path, what, make }) => {
    const items = Array.isArray(e.data) ? e.data : [];
    return make('CONFIG_SCHEMA', `${what} lists ${show(items[Number(e.params.j)])} twice`, [
      ...path,
      Number(e.params.i),
    ]);
  },
};

/** "a service", "a real server", "'port'", "the config"... for messages. */
function describe(path: readonly PathSegment[], preposition?: 'in'): string {
  const last = path.at(-1);
  const parent = path.at(-2);
  let what: string;
  if (last === undefined) what = preposition ? 'at the top level' : 'the config';
  else if (/^\d+$/.test(String(last))) {
    what =
      (
        {
          services: 'a service',
          realservers: 'a real server',
          ignore: 'an ignore rule',
          flags: 'a scheduler flag',
        } as Record<string, string>
      )[String(parent)] ?? 'an item';
  } else what = `'${String(last)}'`;
  if (!preposition || last === undefined) return what;
  return `in ${what}`;
}

function typeName(t: string): string {
  return (
    (
      {
        integer: 'a whole number',
        number: 'a number',
        string: 'text',
        object: 'a mapping',
        array: 'a list',
        boolean: 'true or false',
        null: 'empty',
      } as Record<string, string>
    )[t] ?? t
  );
}

/** A value as a message shows it: "text", 12, true, nothing, a list, a mapping. */
export function show(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (typeof v === 'string') return JSON.stringify(clip(v));
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return String(v);
}

/**
 * An unknown key as a message shows it: up to the first character no config
 * key has, at most 40 characters. A line of /etc/shadow given with -c reads
 * as a key; its hash stays out of the message.
 */
function keyText(key: string): string {
  const plain = /^[A-Za-z0-9_./ -]*/.exec(key)![0];
  return plain.length === key.length ? clip(key) : `${clip(plain)}…`;
}

function valueType(v: unknown): string {
  return Array.isArray(v)
    ? 'array'
    : v === null
      ? 'null'
      : typeof v === 'object'
        ? 'object'
        : typeof v === 'string'
          ? 'string'
          : typeof v === 'boolean'
            ? 'boolean'
            : 'number';
}

/** The top-level keys the schema knows. */
export const TOP_LEVEL_KEYS: readonly string[] = Object.keys(configSchema.properties ?? {});
