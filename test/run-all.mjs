#!/usr/bin/env node
// `npm test`: the unit suite on the host, then the kernel suite inside the
// User-Mode Linux test bed, then one summary with both results.
//
// Exit 0 only when the unit suite passed and the kernel suite passed — or,
// outside CI, when User-Mode Linux is not installed (then the summary says
// loudly that the kernel suite was NOT RUN and how to install it). With
// CI=true a missing User-Mode Linux is a failure. Never a silent skip.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  REPO_ROOT,
  UML_FAILURE_EXIT_CODE,
  UML_INSTALL_COMMAND,
  UML_MISSING_EXIT_CODE,
  findUml,
  umlMissingBanner,
  umlVersion,
} from './kernel/uml.mjs';

const inCi = Boolean(process.env.CI) && process.env.CI !== 'false' && process.env.CI !== '0';

/** @param {string} line */
const say = (line) => process.stdout.write(`${line}\n`);

/** @param {string} title */
function heading(title) {
  say('');
  say(`=== ${title} ${'='.repeat(Math.max(0, 70 - title.length))}`);
  say('');
}

/**
 * @param {string[]} args
 * @returns {{ code: number | null, signal: NodeJS.Signals | null }}
 */
function runNode(args) {
  const r = spawnSync(process.execPath, args, { cwd: REPO_ROOT, stdio: 'inherit' });
  if (r.error) {
    process.stderr.write(`cannot run ${process.execPath} ${args.join(' ')}: ${r.error.message}\n`);
    return { code: 1, signal: null };
  }
  return { code: r.status, signal: r.signal };
}

/** @param {{ code: number | null, signal: NodeJS.Signals | null }} r */
const how = (r) => (r.signal ? `killed by ${r.signal}` : `exit code ${r.code}`);

const vitest = path.join(REPO_ROOT, 'node_modules', 'vitest', 'vitest.mjs');
if (!fs.existsSync(vitest)) {
  process.stderr.write(`${vitest} not found: run \`npm ci\` first\n`);
  process.exit(1);
}

// 0) build: the kernel suite drives the compiled CLI (dist/), which must match src/
heading('build (tsc)');
const build = runNode([path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json']);
if (build.code !== 0) {
  process.stderr.write(`build failed (${how(build)}): fix the type errors above first\n`);
  process.exit(1);
}
// The tests are type-checked too: vitest only strips types.
const typecheck = runNode([
  path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
  '-p',
  'tsconfig.test.json',
]);
if (typecheck.code !== 0) {
  process.stderr.write(`type check of the tests failed (${how(typecheck)})\n`);
  process.exit(1);
}

// Formatting (prettier) and lint (eslint with typescript-eslint): part of the test, not advice.
heading('format and lint (prettier --check, eslint)');
const format = runNode([
  path.join(REPO_ROOT, 'node_modules', 'prettier', 'bin', 'prettier.cjs'),
  '--check',
  '--log-level',
  'warn',
  '.',
]);
const lint = runNode([path.join(REPO_ROOT, 'node_modules', 'eslint', 'bin', 'eslint.js'), '.']);
if (format.code !== 0 || lint.code !== 0) {
  process.stderr.write(
    `${format.code !== 0 ? `formatting differs (${how(format)}): run \`npm run format\`\n` : ''}` +
      `${lint.code !== 0 ? `lint failed (${how(lint)}): see above\n` : ''}`,
  );
  process.exit(1);
}

// 1) unit suite, on the host (vitest.config.ts: test/unit/**/*.test.ts)
heading('unit suite (host)');
const unit = runNode([vitest, 'run']);
const unitPassed = unit.code === 0;
const unitLine = unitPassed ? 'PASSED' : `FAILED (${how(unit)})`;

// 2) kernel suite, inside User-Mode Linux
heading('kernel suite (User-Mode Linux)');
/** @type {string} */
let kernelLine;
/** @type {boolean} */
let kernelOk;
let kernelRan = false;
const uml = findUml();
if (!uml) {
  process.stderr.write(
    umlMissingBanner(
      inCi
        ? 'CI=true: a missing kernel test bed is a FAILURE here.'
        : 'Not in CI: the run continues, but the kernel suite did NOT run.',
    ),
  );
  kernelOk = !inCi;
  kernelLine = inCi
    ? 'FAILED: NOT RUN, User-Mode Linux is not installed (required when CI=true)'
    : `NOT RUN !!! User-Mode Linux is not installed; install it with: ${UML_INSTALL_COMMAND}`;
} else {
  const kernel = runNode([path.join(REPO_ROOT, 'test', 'kernel', 'harness.mjs'), '--suite']);
  const version = umlVersion(uml) ?? 'unknown version';
  kernelRan = kernel.code !== UML_MISSING_EXIT_CODE;
  kernelOk = kernel.code === 0;
  if (kernelOk) kernelLine = `PASSED (User-Mode Linux ${version})`;
  else if (kernel.code === UML_FAILURE_EXIT_CODE)
    kernelLine = `ERROR: the User-Mode Linux test bed failed (see above; User-Mode Linux ${version})`;
  else if (kernel.code === UML_MISSING_EXIT_CODE) {
    kernelOk = !inCi;
    kernelLine = `NOT RUN !!! User-Mode Linux could not be used; install it with: ${UML_INSTALL_COMMAND}`;
  } else kernelLine = `FAILED (${how(kernel)}; User-Mode Linux ${version})`;
}

// 3) summary
const ok = unitPassed && kernelOk;
heading('summary');
say(`unit suite:   ${unitLine}`);
say(`kernel suite: ${kernelLine}`);
say('');
if (!ok) say('npm test: FAILED');
else if (kernelRan) say('npm test: PASSED');
else say('npm test: PASSED, BUT ONLY THE UNIT SUITE RAN (kernel suite NOT RUN, see above)');
process.exit(ok ? 0 : 1);
