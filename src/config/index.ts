/**
 * The config module's public API: load and validate the YAML config, print a
 * table as config, read ipvsadm -Sn output. Format reference: docs/config.md.
 */
export { DEFAULT_CONFIG_PATH, configFiles, hashTexts, loadConfig, loadConfigTexts } from './load.js';
export type { ConfigText, LoadResult } from './load.js';
export { printConfig } from './print.js';
export type { PrintOptions, PrintableState } from './print.js';
export { parseIpvsadmSave } from './ipvsadm-text.js';
export { parseConfigText } from './parse.js';
export type { ParseResult, ParsedFile } from './parse.js';
export { validateConfig } from './validate.js';
export { normalize } from './normalize.js';
export { formatDuration, parseDuration } from './duration.js';
