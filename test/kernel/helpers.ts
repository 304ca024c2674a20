// Helpers for kernel tests (test/kernel/**/*.test.ts). These tests run inside
// the User-Mode Linux test bed (node test/kernel/harness.mjs --suite) and all
// share one IPVS table: vitest.kernel.config.ts runs them one file at a time.

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export { GUEST_MODPROBE } from './uml.mjs';

/** Result of a command run without a shell. */
export interface ShResult {
  stdout: string;
  stderr: string;
  /** exit status; 128 + signal number when killed by a signal */
  code: number;
}

const SIGNALS: Record<string, number> = os.constants.signals as unknown as Record<string, number>;

/**
 * Run `cmd` with `args` (execFile, no shell). Never rejects because of the
 * exit status: look at `code`. Rejects only if the command cannot be started
 * at all (e.g. not found), with an error naming the command.
 */
export function sh(
  cmd: string,
  args: string[] = [],
  options: { input?: string; timeoutMs?: number } = {},
): Promise<ShResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: options.timeoutMs ?? 30_000 },
      (error, stdout, stderr) => {
        if (error && typeof error.code === 'string') {
          reject(new Error(`cannot run ${cmd}: ${error.message}`, { cause: error }));
          return;
        }
        let code = 0;
        if (error) {
          if (typeof error.code === 'number') code = error.code;
          else if (error.signal) code = 128 + (SIGNALS[error.signal] ?? 0);
          else code = 1;
        }
        resolve({ stdout, stderr, code });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
  });
}

/**
 * Run `ipvsadm ...args`; returns stdout; throws with the command line, exit
 * code and stderr when it fails.
 */
export async function ipvsadm(...args: string[]): Promise<string> {
  const r = await sh('ipvsadm', args);
  if (r.code !== 0) {
    throw new Error(`ipvsadm ${args.join(' ')} failed with exit code ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  }
  return r.stdout;
}

/** Empty the IPVS table of the current network namespace (`ipvsadm -C`). */
export async function flushIpvs(): Promise<void> {
  await ipvsadm('-C');
}

/**
 * The IPVS table in `ipvsadm -Sn` form (one rule per line, sorted as the
 * kernel lists them); empty string for an empty table.
 */
export async function ipvsRules(): Promise<string> {
  return (await ipvsadm('-Sn')).trim();
}

/**
 * Throw unless we run inside the User-Mode Linux test bed with IPVS.
 *
 * Kernel tests flush the IPVS table; run on a real machine they would wipe
 * its load-balancer configuration, and run on a kernel without IPVS they
 * would be meaningless. So insist on all three: the harness's marker
 * variable, a UML kernel, and /proc/net/ip_vs. Call it in beforeAll.
 */
export function requireKernel(): void {
  const how = 'run kernel tests with `node test/kernel/harness.mjs --suite` (or `npm test`)';
  if (process.env.LVSD_UML_GUEST !== '1') {
    throw new Error(`kernel tests must run inside the User-Mode Linux test bed (LVSD_UML_GUEST is not set): ${how}`);
  }
  let cpuinfo = '';
  try {
    cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    // fall through to the error below
  }
  if (!/User Mode Linux/.test(cpuinfo)) {
    throw new Error(`kernel tests must run inside the User-Mode Linux test bed, but this is not a UML kernel: ${how}`);
  }
  if (!fs.existsSync('/proc/net/ip_vs')) {
    throw new Error(
      `IPVS is not available in this kernel (/proc/net/ip_vs is missing); the test bed failed to load ip_vs: ${how}`,
    );
  }
}

/**
 * Run `fn` with the kernel's module autoloading switched off.
 *
 * In the test bed the kernel loads modules on demand (kernel.modprobe points
 * at a modprobe that knows the UML modules), just like a real host: asking
 * for the "IPVS" generic-netlink family loads ip_vs through the alias
 * net-pf-16-proto-16-family-IPVS. To test "IPVS is not in the kernel", unload
 * the modules and open the socket inside this function.
 */
export async function withModuleAutoloadDisabled<T>(fn: () => Promise<T>): Promise<T> {
  const knob = '/proc/sys/kernel/modprobe';
  const saved = fs.readFileSync(knob, 'utf8').trim();
  fs.writeFileSync(knob, '/bin/false\n');
  try {
    return await fn();
  } finally {
    fs.writeFileSync(knob, `${saved}\n`);
  }
}

/** True when running inside the test bed (same checks as requireKernel, no throw). */
export function inKernel(): boolean {
  try {
    requireKernel();
    return true;
  } catch {
    return false;
  }
}

/**
 * A fresh temporary directory under os.tmpdir(). In the test bed that is the
 * run's own directory under the host's /tmp (TMPDIR set by uml.mjs), which
 * the harness deletes after the run; this process also removes it on a
 * normal exit unless LVSD_KEEP_TMP=1 (vitest workers are usually killed, so
 * do not rely on that).
 */
export function tmpDir(prefix = 'lvsd-ktest-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  if (process.env.LVSD_KEEP_TMP !== '1') {
    if (tmpDirs.size === 0) {
      process.once('exit', () => {
        for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
      });
    }
    tmpDirs.add(dir);
  }
  return dir;
}

const tmpDirs = new Set<string>();

/** The compiled lvsd CLI (`npm test` builds it before the kernel suite). */
export const CLI = path.join(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');

/**
 * The command line that runs lvsd as its `#!` line does: node with the V8
 * flags of that line (single-threaded GC, a bounded young generation), then
 * the CLI. Tests spawn this, so that memory and timing are what users get.
 */
export const LVSD: readonly string[] = [
  process.execPath,
  ...fs
    .readFileSync(CLI, 'utf8')
    .split('\n', 1)[0]!
    .split(/\s+/)
    .filter((a) => a.startsWith('--')),
  CLI,
];

/** Runs `lvsd ...args` (optionally with stdin); never rejects for the exit status. */
export function lvsd(args: string[], input?: string): Promise<ShResult> {
  return sh(LVSD[0]!, [...LVSD.slice(1), ...args], { timeoutMs: 60_000, ...(input !== undefined ? { input } : {}) });
}

/** Text split into its non-empty lines, sorted: `ipvsadm -Sn` output compares as a set. */
export function sortedLines(text: string): string[] {
  return text.split('\n').filter(Boolean).sort();
}

/**
 * `ipvsadm -Ln <flag>` (--thresholds, --tun-info...) as sorted rows
 * "PROTO SERVICE | real server columns", whitespace collapsed.
 */
export function ipvsListing(text: string): string[] {
  const out: string[] = [];
  let svc = '';
  for (const line of text.split('\n')) {
    if (/^(TCP|UDP|SCTP|FWM) /.test(line)) svc = line.trim().split(/\s+/).slice(0, 2).join(' ');
    else if (line.startsWith('  -> ') && !line.includes('RemoteAddress'))
      out.push(`${svc} | ${line.slice(5).trim().split(/\s+/).join(' ')}`);
  }
  return out.sort();
}
