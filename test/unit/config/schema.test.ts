import { describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { configSchema, definition } from '../../../src/config/schema.js';
import type { JsonSchema } from '../../../src/config/schema.js';
import { SCHED_FLAGS, SCHEDULERS } from '../../../src/model/types.js';

function resolve(s: JsonSchema): JsonSchema {
  const ref = s['$ref'];
  return typeof ref === 'string' ? resolve(definition(ref.replace('#/definitions/', ''))) : s;
}

/** Every property schema anywhere in the schema, with its path. */
function properties(s: JsonSchema, path: string, out: [string, JsonSchema][] = []): [string, JsonSchema][] {
  for (const [k, v] of Object.entries(s.properties ?? {})) {
    out.push([`${path}.${k}`, v]);
    properties(v, `${path}.${k}`, out);
  }
  const items = s['items'] as JsonSchema | undefined;
  if (items) properties(items, `${path}[]`, out);
  return out;
}

describe('schemas/lvsd.schema.json', () => {
  test('is the file the loader uses, and compiles in ajv strict mode', () => {
    expect(JSON.parse(readFileSync(new URL('../../../schemas/lvsd.schema.json', import.meta.url), 'utf8'))).toEqual(
      configSchema,
    );
    expect(() => new Ajv({ strict: true, allowUnionTypes: true }).compile(configSchema)).not.toThrow();
  });

  test('is draft-07, which ajv and yaml-language-server both read', () => {
    expect(configSchema['$schema']).toBe('http://json-schema.org/draft-07/schema#');
  });

  test('every property has a description, for editors', () => {
    const all = [
      ...properties(configSchema, ''),
      ...Object.entries(configSchema.definitions).flatMap(([n, d]) => properties(d, n)),
    ];
    expect(all.length).toBeGreaterThan(30);
    for (const [path, s] of all) {
      expect(s.description ?? resolve(s).description, path).toBeTruthy();
    }
  });

  test('every object rejects unknown keys', () => {
    const objects = [configSchema, ...Object.values(configSchema.definitions)].filter((s) => s.properties);
    expect(objects.length).toBeGreaterThan(5);
    for (const s of objects) expect(s['additionalProperties']).toBe(false);
  });

  test("the scheduler and flag lists are the model's", () => {
    expect(definition('scheduler').enum).toEqual([...SCHEDULERS]);
    expect((definition('service').properties!['flags']!['items'] as JsonSchema).enum).toEqual([...SCHED_FLAGS]);
  });
});

describe('the compiled validator', () => {
  test('src/config/schema-validator.generated.ts is what scripts/gen-schema-validator.mjs makes of the schema now', async () => {
    const { validatorSource, GENERATED } = (await import('../../../scripts/gen-schema-validator.mjs')) as {
      validatorSource: () => string;
      GENERATED: string;
    };
    expect(
      readFileSync(GENERATED, 'utf8') === validatorSource(),
      'stale: run node scripts/gen-schema-validator.mjs',
    ).toBe(true);
  });
});
