#!/usr/bin/env node
// `npm start`: see LVS-DR work end to end, on any Linux machine, in about a
// minute. Boots Debian's User-Mode Linux kernel (Linux 6.1 with IPVS, run as
// an ordinary process: the machine's own kernel needs no IPVS), and runs
// scripts/demo-guest.mjs inside it: a client, a director and two real
// servers as network namespaces, lvsd configuring each of them from
// config/demo/, requests through the VIP, a weight change under `lvsd run`.
//
// Needs User-Mode Linux, ipvsadm, iproute2, python3 and the node
// dependencies: `bash scripts/demo.sh` installs them and then runs this.
// Builds dist/ first when src/ is newer.
import { spawnSync } from 'node:child_process';
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
} from '../test/kernel/uml.mjs';

const say = (/** @type {string} */ s) => process.stderr.write(`[demo] ${s}\n`);

/**
 * Newest modification time of the files under `dir` (0 when it does not exist).
 * @param {string} dir
 * @returns {number}
 */
function newest(dir) {
  let t = 0;
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
  }
  return t;
}

function build() {
  const tsc = path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  if (!fs.existsSync(tsc)) {
    say('node_modules is missing: run `npm ci` first (or `bash scripts/demo.sh`, which does everything)');
    process.exit(1);
  }
  const cli = path.join(REPO_ROOT, 'dist', 'cli', 'main.js');
  const built = fs.existsSync(cli) ? fs.statSync(cli).mtimeMs : 0;
  if (built > 0 && newest(path.join(REPO_ROOT, 'src')) <= newest(path.join(REPO_ROOT, 'dist'))) return;
  say('building lvsd (tsc -p tsconfig.build.json)');
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: REPO_ROOT, stdio: 'inherit' });
  if (r.status !== 0) {
    say('the build failed');
    process.exit(1);
  }
}

if (!findUml()) {
  process.stderr.write(
    umlMissingBanner('The demo runs inside User-Mode Linux: `bash scripts/demo.sh` installs it and starts the demo.'),
  );
  process.exit(UML_MISSING_EXIT_CODE);
}
build();
say('booting Linux 6.1 (User-Mode Linux) with IPVS; the demo runs inside it');
try {
  const r = await runInUml({
    command: [process.execPath, path.join('scripts', 'demo-guest.mjs')],
    cwd: REPO_ROOT,
    env: { LVSD_DEMO_COLOR: process.stdout.isTTY && !process.env.NO_COLOR ? '1' : '0' },
    timeoutMs: 5 * 60_000,
    stream: true,
  });
  for (const w of r.warnings) say(`warning: ${w}`);
  say(
    `kernel booted in ${(r.bootMs / 1000).toFixed(1)} s; demo ${r.exitCode === 0 ? 'finished' : `failed (exit ${r.exitCode})`} after ${((r.totalMs - r.bootMs) / 1000).toFixed(1)} s`,
  );
  process.exitCode = r.exitCode;
} catch (e) {
  if (e instanceof UmlError) {
    say(`ERROR: ${e.message}`);
    process.exitCode = e.exitCode;
  } else {
    say(`ERROR: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exitCode = UML_FAILURE_EXIT_CODE;
  }
}
