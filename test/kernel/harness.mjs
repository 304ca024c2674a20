#!/usr/bin/env node
// Run the kernel test suite, or any command, inside the User-Mode Linux test bed.
//
//   node test/kernel/harness.mjs --suite [vitest args...]
//       vitest run --config vitest.kernel.config.ts [vitest args...] in the kernel
//   node test/kernel/harness.mjs -- <cmd> [args...]
//       <cmd> in the kernel (cwd = repo root)
//
// Output is streamed live; the exit code is the suite's / command's.
// Other exit codes:
//   3    User-Mode Linux is not installed (banner printed)
//   125  the test bed itself failed (kernel died, hung past the timeout, no status)
//   2    usage error
//
// Environment:
//   LVSD_UML            path of linux.uml (LVSD_UML=/nonexistent simulates "not installed")
//   LVSD_UML_TIMEOUT    seconds before the kernel is killed (default 1200)
//   LVSD_UML_MEM        guest memory (default 2G)
//   LVSD_UML_KEEP=1     keep the per-run directory for debugging
// Passed into the guest: CI, NO_COLOR, FORCE_COLOR (FORCE_COLOR=1 is added when
// stdout is a terminal, so vitest keeps its colours), and every LVSD_* variable
// except the LVSD_UML* ones above.

import fs from 'node:fs';
import path from 'node:path';
import {
  REPO_ROOT,
  UML_FAILURE_EXIT_CODE,
  UML_MISSING_EXIT_CODE,
  UmlError,
  findUml,
  runInUml,
  umlMissingBanner,
} from './uml.mjs';

const USAGE = `usage: node test/kernel/harness.mjs --suite [vitest args...]
       node test/kernel/harness.mjs -- <command> [args...]`;

/** @param {string} line */
function err(line) {
  process.stderr.write(`${line}\n`);
}

/** @returns {Record<string, string>} */
function guestEnv() {
  /** @type {Record<string, string>} */
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined) continue;
    if (k === 'CI' || k === 'NO_COLOR' || k === 'FORCE_COLOR') env[k] = v;
    else if (k.startsWith('LVSD_') && !k.startsWith('LVSD_UML')) env[k] = v;
  }
  if (process.stdout.isTTY && env.NO_COLOR === undefined && env.FORCE_COLOR === undefined) {
    env.FORCE_COLOR = '1';
  }
  return env;
}

/** @param {string} name @param {number} fallback */
function numberFromEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) {
    err(`harness: ${name} must be a positive number, got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return n;
}

/**
 * @param {string[]} argv  process.argv.slice(2)
 * @returns {Promise<number>} exit code
 */
async function main(argv) {
  /** @type {string[]} */
  let command;
  let what;
  if (argv[0] === '--suite') {
    const vitest = path.join(REPO_ROOT, 'node_modules', 'vitest', 'vitest.mjs');
    if (!fs.existsSync(vitest)) {
      err(`harness: ${vitest} not found; run \`npm ci\` first`);
      return 2;
    }
    // vitest's CLI run directly by node: no npx, no network lookups.
    command = [process.execPath, vitest, 'run', '--config', 'vitest.kernel.config.ts', ...argv.slice(1)];
    what = 'kernel suite';
  } else if (argv[0] === '--' && argv.length > 1) {
    command = argv.slice(1);
    what = `command \`${command.join(' ')}\``;
  } else {
    err(USAGE);
    return 2;
  }

  if (!findUml()) {
    process.stderr.write(umlMissingBanner());
    return UML_MISSING_EXIT_CODE;
  }

  const timeoutMs = numberFromEnv('LVSD_UML_TIMEOUT', 1200) * 1000;
  const memory = process.env.LVSD_UML_MEM || '2G';
  err(`[uml] booting User-Mode Linux to run the ${what}`);
  try {
    const r = await runInUml({ command, cwd: REPO_ROOT, env: guestEnv(), timeoutMs, memory, stream: true });
    for (const w of r.warnings) err(`[uml] warning: ${w}`);
    err(
      `[uml] Linux ${r.kernelRelease}: booted in ${(r.bootMs / 1000).toFixed(1)} s, ` +
        `${what} exited with code ${r.exitCode} after ${((r.totalMs - r.bootMs) / 1000).toFixed(1)} s ` +
        `(total ${(r.totalMs / 1000).toFixed(1)} s)`,
    );
    return r.exitCode;
  } catch (e) {
    if (e instanceof UmlError) {
      err('');
      err(`[uml] ERROR: ${e.message}`);
      if (e.exitCode === UML_MISSING_EXIT_CODE) process.stderr.write(umlMissingBanner());
      return e.exitCode;
    }
    err(`[uml] ERROR: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    return UML_FAILURE_EXIT_CODE;
  }
}

process.exitCode = await main(process.argv.slice(2));
