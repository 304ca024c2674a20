/**
 * The JSON Schema of the config file (schemas/lvsd.schema.json, also what
 * editors use) and its validator, compiled ahead of time by ajv
 * (scripts/gen-schema-validator.mjs): starting lvsd loads no schema compiler.
 * The schema file ships with the package and is read once, when this module
 * loads.
 */
import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { validate } from './schema-validator.generated.js';

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
export const configSchema = require('../../schemas/lvsd.schema.json') as JsonSchema & {
  definitions: Record<string, JsonSchema>;
};

const validator = validate as ValidateFunction;

/** Validates parsed YAML data against the schema; every error, with its schema (verbose). */
export function schemaErrors(data: unknown): ErrorObject[] {
  return validator(data) ? [] : [...(validator.errors ?? [])];
}

const definitionTexts = new Map<string, string>();

/**
 * True when an error's parentSchema is the definition `name`. The compiled
 * validator holds copies of the schema's parts, so they are compared by content.
 */
export function isDefinition(schema: unknown, name: string): boolean {
  if (schema === undefined || schema === null) return false;
  let text = definitionTexts.get(name);
  if (text === undefined) definitionTexts.set(name, (text = JSON.stringify(definition(name))));
  return JSON.stringify(schema) === text;
}

/** The schema of a definition, by name ("duration", "realserver"...). */
export function definition(name: string): JsonSchema {
  const d = configSchema.definitions[name];
  if (!d) throw new Error(`schema has no definition ${name}`);
  return d;
}
