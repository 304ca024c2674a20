/**
 * The JSON Schema of the config file (schemas/lvsd.schema.json, also what
 * editors use) and its compiled ajv validator. The schema file ships with the
 * package and is read once, when this module loads.
 */
import { createRequire } from 'node:module';
import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';

export interface JsonSchema {
  [keyword: string]: unknown;
  description?: string;
  properties?: Record<string, JsonSchema>;
  definitions?: Record<string, JsonSchema>;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
}

const require = createRequire(import.meta.url);

/** The schema, as parsed from schemas/lvsd.schema.json (src/config and dist/config are both two levels down). */
export const configSchema = require('../../schemas/lvsd.schema.json') as JsonSchema & { definitions: Record<string, JsonSchema> };

let validator: ValidateFunction | undefined;

/** Validates parsed YAML data against the schema; every error, with its schema (verbose). */
export function schemaErrors(data: unknown): ErrorObject[] {
  validator ??= new Ajv({ strict: true, allErrors: true, verbose: true, allowUnionTypes: true }).compile(configSchema);
  return validator(data) ? [] : [...(validator.errors ?? [])];
}

/** The schema of a definition, by name ("duration", "realserver"...). */
export function definition(name: string): JsonSchema {
  const d = configSchema.definitions[name];
  if (!d) throw new Error(`schema has no definition ${name}`);
  return d;
}
