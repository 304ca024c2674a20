/**
 * The yaml package, loaded on first use. Config files are read by js-yaml
 * (read-yaml.ts); yaml (72 files) is only loaded for a text js-yaml declines
 * (an error, or a construct it reads differently) or to print a config.
 * Loading it costs about 30 ms on a build machine and much more in User-Mode Linux.
 */
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';

const require = createRequire(import.meta.url);
let loaded: typeof Yaml | undefined;

export function yaml(): typeof Yaml {
  return (loaded ??= require('yaml') as typeof Yaml);
}
