#!/usr/bin/env node
// Run the kernel test suite, or any command, inside the User-Mode Linux test bed.
//
//   node test/kernel/harness.mjs --suite [vitest options...] [test files...]
//       the kernel suite (or the test files named), dealt over LVSD_KERNEL_JOBS
//       kernels that run at once (default 3; see suite.mjs), each running
//       vitest run --config vitest.kernel.config.ts on its share
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
//   LVSD_UML_TIMEOUT    seconds before a kernel is killed (default: a command 1200; the
//                       suite derives each kernel's limit from test/kernel/timings.json)
//   LVSD_UML_MEM        guest memory (default 2G; 3G for each kernel of the suite)
//   LVSD_KERNEL_JOBS    kernels at once for the suite (default 3)
//   LVSD_RECORD_TIMINGS=1  write the measured durations to test/kernel/timings.json
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
import { kernelTestFiles, runSuite, writeTimings } from './suite.mjs';

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
  if (argv[0] === '--suite') return suite(argv.slice(1));
  if (argv[0] !== '--' || argv.length < 2) {
    err(USAGE);
    return 2;
  }
  if (!findUml()) {
    process.stderr.write(umlMissingBanner());
    return UML_MISSING_EXIT_CODE;
  }
  const command = argv.slice(1);
  const what = `command \`${command.join(' ')}\``;
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
    err(`[uml] ERROR: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return UML_FAILURE_EXIT_CODE;
  }
}

/**
 * The kernel suite: every test file (or the files named in `args`), dealt
 * over LVSD_KERNEL_JOBS kernels (default 3) that run at once.
 * @param {string[]} args vitest arguments; those not starting with '-' name test files
 * @returns {Promise<number>}
 */
async function suite(args) {
  const vitestJs = path.join(REPO_ROOT, 'node_modules', 'vitest', 'vitest.mjs');
  if (!fs.existsSync(vitestJs)) {
    err(`harness: ${vitestJs} not found; run \`npm ci\` first`);
    return 2;
  }
  if (!findUml()) {
    process.stderr.write(umlMissingBanner());
    return UML_MISSING_EXIT_CODE;
  }
  const named = args.filter((a) => !a.startsWith('-'));
  const options = args.filter((a) => a.startsWith('-'));
  const all = kernelTestFiles();
  const files = named.length ? all.filter((f) => named.some((n) => f.includes(n))) : all;
  if (files.length === 0) {
    err(`harness: no kernel test file matches ${named.join(' ')}`);
    return 2;
  }
  // Three kernels on two cores: the kernel tests mostly wait (health-check intervals, debounces,
  // systemd, ansible), so a third kernel shortens the suite. Measured 2026-11-30, 26 files on this
  // 2-core machine: 2 kernels 556 s wall, 3 kernels 378 s, the longest file (ansible) alone 248 s.
  const jobs = Math.min(numberFromEnv('LVSD_KERNEL_JOBS', 3), files.length);
  const override = process.env.LVSD_UML_TIMEOUT ? numberFromEnv('LVSD_UML_TIMEOUT', 1200) * 1000 : undefined;
  // vitest's CLI run directly by node: no npx, no network lookups.
  const vitest = [process.execPath, vitestJs, 'run', '--config', 'vitest.kernel.config.ts', ...options];
  err(`[uml] kernel suite: ${files.length} test files in ${jobs} User-Mode Linux kernel(s) at once`);
  const started = Date.now();
  const { runs, durations } = await runSuite({
    files,
    jobs,
    vitest,
    env: guestEnv(),
    memory: process.env.LVSD_UML_MEM || '3G',
    timeoutMs: override,
  });
  if (process.env.LVSD_RECORD_TIMINGS === '1') writeTimings(durations);
  err('');
  err('[uml] kernel suite by file (seconds):');
  for (const r of runs) {
    for (const f of r.files) {
      const d = durations.get(f);
      err(
        `[uml]   ${r.name} ${d ? `${(d.ms / 1000).toFixed(1).padStart(6)} ${d.state}` : '     - not finished'}  ${f}`,
      );
    }
  }
  for (const r of runs) {
    const how = r.failure ? `FAILED: ${r.failure}` : `exit code ${r.exitCode}`;
    err(
      `[uml] ${r.name}: ${r.files.length} files in ${(r.wallMs / 1000).toFixed(1)} s (limit ${r.timeoutMs / 1000} s): ${how}`,
    );
  }
  err(`[uml] kernel suite wall time: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const failed = runs.find((r) => r.exitCode !== 0);
  return failed ? failed.exitCode : 0;
}

process.exitCode = await main(process.argv.slice(2));
