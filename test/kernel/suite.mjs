// The kernel suite, split over several User-Mode Linux kernels that run at
// once. Each kernel has its own IPVS table, network namespaces and /run, so
// test files in different kernels cannot see each other; inside one kernel
// the files still run one at a time (vitest.kernel.config.ts), because they
// share that kernel's table.
//
// Files are dealt to the kernels by their last measured durations
// (test/kernel/timings.json; longest first, each to the least loaded kernel).
// Each kernel's time limit is derived from what it was dealt, and a kernel
// that runs out of time is reported with the test file it was running.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT, UML_FAILURE_EXIT_CODE, UmlError, runInUml } from './uml.mjs';

export const TIMINGS_FILE = path.join(REPO_ROOT, 'test', 'kernel', 'timings.json');
const REPORTER = path.join(REPO_ROOT, 'test', 'kernel', 'progress-reporter.mjs');

/** Seconds assumed for a test file that has no recorded duration yet. */
const UNKNOWN_FILE_SECONDS = 60;
/** A kernel's limit: this many times its files' recorded durations, plus boot and slack. */
const TIME_FACTOR = 3;
const TIME_SLACK_SECONDS = 180;
const MIN_TIMEOUT_SECONDS = 600;

/** @param {string} dir @returns {string[]} test files under dir, relative to the repo root, sorted */
export function kernelTestFiles(dir = path.join(REPO_ROOT, 'test', 'kernel')) {
  /** @type {string[]} */
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...kernelTestFiles(full));
    else if (e.name.endsWith('.test.ts')) out.push(path.relative(REPO_ROOT, full));
  }
  return out.sort();
}

/** @returns {Record<string, number>} seconds by file */
export function readTimings(file = TIMINGS_FILE) {
  try {
    const data = JSON.parse(fs.readFileSync(file, 'utf8'));
    return data && typeof data === 'object' ? (data.seconds ?? {}) : {};
  } catch {
    return {};
  }
}

/**
 * Deals files to `jobs` kernels, longest first, each to the least loaded.
 * @param {string[]} files
 * @param {Record<string, number>} timings
 * @param {number} jobs
 * @returns {{ files: string[], seconds: number }[]}
 */
export function partition(files, timings, jobs) {
  const bins = Array.from({ length: Math.max(1, jobs) }, () => ({ files: /** @type {string[]} */ ([]), seconds: 0 }));
  const cost = (/** @type {string} */ f) => timings[f] ?? UNKNOWN_FILE_SECONDS;
  for (const f of [...files].sort((a, b) => cost(b) - cost(a) || a.localeCompare(b))) {
    const bin = bins.reduce((min, b) => (b.seconds < min.seconds ? b : min));
    bin.files.push(f);
    bin.seconds += cost(f);
  }
  for (const b of bins) b.files.sort();
  return bins.filter((b) => b.files.length > 0);
}

/** @param {number} expectedSeconds @returns {number} ms */
export function timeLimitMs(expectedSeconds) {
  return Math.max(MIN_TIMEOUT_SECONDS, Math.ceil(expectedSeconds * TIME_FACTOR) + TIME_SLACK_SECONDS) * 1000;
}

/**
 * @param {string} file progress file written by progress-reporter.mjs
 * @returns {{ started: Map<string, number>, ended: Map<string, { state: string, ms: number }> }}
 */
export function readProgress(file) {
  const started = new Map();
  const ended = new Map();
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    // nothing started
  }
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line);
      if (r.ev === 'start') started.set(r.file, r.at);
      else if (r.ev === 'end') ended.set(r.file, { state: r.state, ms: r.ms });
    } catch {
      // a line cut by the kernel's death
    }
  }
  return { started, ended };
}

/** What a kernel that ran out of time was doing. @param {string[]} files @param {string} progressFile */
export function explainTimeout(files, progressFile) {
  const { started, ended } = readProgress(progressFile);
  const running = [...started].filter(([f]) => !ended.has(f));
  const notStarted = files.filter((f) => !started.has(f));
  const lines = running.map(([f, at]) => `  running: ${f} (for ${Math.round((Date.now() - at) / 1000)} s)`);
  if (running.length === 0) lines.push('  running: no test file (between files, or in vitest start-up)');
  lines.push(`  finished: ${ended.size} file(s); not started: ${notStarted.length ? notStarted.join(', ') : 'none'}`);
  return lines.join('\n');
}

/** Writes lines of `chunk` to stdout with a prefix, keeping partial lines until complete. */
function linePrefixer(/** @type {string} */ prefix) {
  let pending = '';
  return {
    /** @param {Buffer} chunk */
    write(chunk) {
      pending += chunk.toString('utf8');
      const cut = pending.lastIndexOf('\n');
      if (cut < 0) return;
      const lines = pending.slice(0, cut).split('\n');
      pending = pending.slice(cut + 1);
      process.stdout.write(lines.map((l) => `${prefix}${l}\n`).join(''));
    },
    flush() {
      if (pending) process.stdout.write(`${prefix}${pending}\n`);
      pending = '';
    },
  };
}

/**
 * @typedef {object} KernelRun
 * @property {string} name
 * @property {string[]} files
 * @property {number} expectedSeconds
 * @property {number} timeoutMs
 * @property {number} exitCode
 * @property {number} wallMs
 * @property {string} progressFile
 * @property {string} [failure]
 */

/**
 * Runs one kernel's share of the suite.
 * @param {object} p
 * @param {string} p.name
 * @param {{ files: string[], seconds: number }} p.share
 * @param {string[]} p.vitest   command prefix: node vitest.mjs run --config ...
 * @param {Record<string, string>} p.env
 * @param {string} p.memory
 * @param {number | undefined} p.timeoutMs  override
 * @param {string} p.progressDir
 * @param {boolean} p.prefixOutput
 * @returns {Promise<KernelRun>}
 */
async function runShare({ name, share, vitest, env, memory, timeoutMs, progressDir, prefixOutput }) {
  const progressFile = path.join(progressDir, `${name}.jsonl`);
  const limit = timeoutMs ?? timeLimitMs(share.seconds);
  const out = linePrefixer(prefixOutput ? `[${name}] ` : '');
  const started = Date.now();
  /** @type {KernelRun} */
  const run = {
    name,
    files: share.files,
    expectedSeconds: share.seconds,
    timeoutMs: limit,
    exitCode: 0,
    wallMs: 0,
    progressFile,
  };
  try {
    const r = await runInUml({
      command: [...vitest, `--reporter=default`, `--reporter=${REPORTER}`, ...share.files],
      env: { ...env, LVSD_PROGRESS_FILE: progressFile },
      timeoutMs: limit,
      memory,
      stream: true,
      onOutput: (chunk) => out.write(chunk),
    });
    run.exitCode = r.exitCode;
  } catch (e) {
    run.exitCode = e instanceof UmlError ? e.exitCode : UML_FAILURE_EXIT_CODE;
    const msg = e instanceof Error ? e.message : String(e);
    run.failure = /timed out/.test(msg) ? `${msg}\n${explainTimeout(share.files, progressFile)}` : msg;
  } finally {
    out.flush();
    run.wallMs = Date.now() - started;
  }
  return run;
}

/**
 * Runs the files over `jobs` kernels at once.
 * @param {object} p
 * @param {string[]} p.files
 * @param {number} p.jobs
 * @param {string[]} p.vitest
 * @param {Record<string, string>} p.env
 * @param {string} p.memory
 * @param {number | undefined} p.timeoutMs
 * @returns {Promise<{ runs: KernelRun[], durations: Map<string, { state: string, ms: number }> }>}
 */
export async function runSuite({ files, jobs, vitest, env, memory, timeoutMs }) {
  const shares = partition(files, readTimings(), jobs);
  const progressDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lvsd-suite-'));
  try {
    shares.forEach((s, i) =>
      process.stderr.write(
        `[uml] kernel k${i + 1}: ${s.files.length} files, about ${Math.round(s.seconds)} s expected, ` +
          `limit ${Math.round((timeoutMs ?? timeLimitMs(s.seconds)) / 1000)} s\n`,
      ),
    );
    const runs = await Promise.all(
      shares.map((share, i) =>
        runShare({
          name: `k${i + 1}`,
          share,
          vitest,
          env,
          memory,
          timeoutMs,
          progressDir,
          prefixOutput: shares.length > 1,
        }),
      ),
    );
    /** @type {Map<string, { state: string, ms: number }>} */
    const durations = new Map();
    for (const r of runs) for (const [f, d] of readProgress(r.progressFile).ended) durations.set(f, d);
    return { runs, durations };
  } finally {
    fs.rmSync(progressDir, { recursive: true, force: true });
  }
}

/** Records measured durations for the next split. @param {Map<string, { ms: number }>} durations */
export function writeTimings(durations) {
  const seconds = { ...readTimings() };
  for (const [f, d] of durations) seconds[f] = Math.round(d.ms / 100) / 10;
  const sorted = Object.fromEntries(Object.entries(seconds).sort(([a], [b]) => a.localeCompare(b)));
  const note =
    'Seconds per kernel test file, measured by `LVSD_RECORD_TIMINGS=1 npm run test:kernel`; used to split the suite.';
  fs.writeFileSync(TIMINGS_FILE, `${JSON.stringify({ note, seconds: sorted }, null, 2)}\n`);
}
