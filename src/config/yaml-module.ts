/**
 * The yaml package, loaded on first use. Most config files are read by
 * fast-yaml.ts alone; yaml (72 files) is only loaded for a file outside
 * that subset, to place an error, or to print a config. Loading it costs
 * about 30 ms on a build machine and much more in User-Mode Linux.
 */
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';

const require = createRequire(import.meta.url);
let loaded: typeof Yaml | undefined;

export function yaml(): typeof Yaml {
  return (loaded ??= require('yaml') as typeof Yaml);
}
