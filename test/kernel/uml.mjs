// Kernel test bed: run a command inside Debian's User-Mode Linux kernel.
//
// The build machine's kernel has no IPVS, so everything that touches the
// kernel runs inside `linux.uml` (Linux 6.1 with IPVS as modules), booted as
// an ordinary process. The host filesystem is mounted as the guest's root
// (hostfs), so node, node_modules and the checkout are visible at the same
// paths. The guest never gets a network device.
//
// How a run works:
//   1. A per-run directory is created under the host's /tmp (visible to the
//      guest at the same path). It holds the generated init script, the
//      command's output, its exit status, a setup log and the UML umid dir.
//   2. linux.uml boots with that script as PID 1. The script mounts /proc,
//      /sys, a tmpfs on /run (so `ip netns add` etc. never write to the host's
//      /run), makes `modprobe` find the UML modules, loads ip_vs, the
//      schedulers and the optional network modules, brings lo up, runs the
//      command with a clean environment and writes its exit status.
//   3. hostfs is write-through, so the host tails the output file while the
//      guest runs (live streaming) and reads the status after the kernel
//      powers off.
//
// Environment variables honoured (host side):
//   LVSD_UML        path of the UML kernel to use instead of searching PATH;
//                   a path that does not exist means "UML is not installed"
//                   (e.g. LVSD_UML=/nonexistent to simulate a machine without it)
//   LVSD_UML_KEEP=1 keep the per-run directory (init script, console log,
//                   output) for debugging instead of deleting it

import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (this file lives in test/kernel/). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Exit code used when the test bed itself failed (kernel died, hung, no status). */
export const UML_FAILURE_EXIT_CODE = 125;

/** Exit code used by the CLIs when User-Mode Linux is not installed. */
export const UML_MISSING_EXIT_CODE = 3;

/** Command that installs everything the kernel test bed needs on Debian/Ubuntu. */
export const UML_INSTALL_COMMAND = 'sudo apt-get install -y user-mode-linux ipvsadm kmod iproute2';

/** Environment variable set inside the guest so tests can tell where they run. */
export const GUEST_MARKER_ENV = 'LVSD_UML_GUEST';

/** Modules that must load: without them there is nothing to test. */
const REQUIRED_MODULES = ['ip_vs'];

/**
 * Modules loaded when available. A missing one is recorded as a warning and
 * does not fail the boot (the tests that need it fail instead, clearly).
 * The `twos` scheduler does not exist on 6.1; that is expected.
 */
const OPTIONAL_MODULES = [
  'ip_vs_rr',
  'ip_vs_wrr',
  'ip_vs_lc',
  'ip_vs_wlc',
  'ip_vs_lblc',
  'ip_vs_lblcr',
  'ip_vs_dh',
  'ip_vs_sh',
  'ip_vs_sed',
  'ip_vs_nq',
  'ip_vs_fo',
  'ip_vs_ovf',
  'ip_vs_mh',
  'ip_vs_pe_sip',
  'veth',
  'bridge',
  'dummy',
  'ipip',
  'fou',
];

const GUEST_SYSTEM_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * The guest's modprobe: a wrapper that runs `modprobe -d` on a module root in
 * the guest's /run. A fresh machine has no /lib/modules at all, so a plain
 * `/sbin/modprobe NAME` finds nothing there; tests call this path (it is also
 * first on the command's PATH and is the kernel's own module loader).
 */
export const GUEST_MODPROBE = '/run/lvsd-uml/bin/modprobe';
const CONSOLE_LOG_LIMIT = 256 * 1024;

/**
 * Error thrown when the test bed itself failed: the kernel could not be
 * started, died, hung past the timeout, or never wrote an exit status.
 * It is never thrown for a command that merely exited non-zero.
 */
export class UmlError extends Error {
  /**
   * @param {string} message
   * @param {{ exitCode?: number, output?: string, consoleLog?: string, cause?: unknown }} [details]
   */
  constructor(message, details = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'UmlError';
    /** Exit code a CLI should use for this failure. */
    this.exitCode = details.exitCode ?? UML_FAILURE_EXIT_CODE;
    /** Whatever the command wrote before things went wrong. */
    this.output = details.output ?? '';
    /** Kernel console (boot messages, panics), last 256 KiB. */
    this.consoleLog = details.consoleLog ?? '';
  }
}

/**
 * @param {string} p
 * @returns {boolean}
 */
function isExecutableFile(p) {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/**
 * Locate the User-Mode Linux kernel.
 *
 * `LVSD_UML` (when set and non-empty) wins: its value is returned if it is an
 * executable file, otherwise null — so `LVSD_UML=/nonexistent` simulates a
 * machine without UML. Otherwise `linux.uml` is searched on PATH and then in
 * /usr/bin (Debian's location).
 *
 * @param {NodeJS.ProcessEnv} [env]
 * @returns {string | null} absolute path of linux.uml, or null when not installed
 */
export function findUml(env = process.env) {
  const override = env.LVSD_UML;
  if (override !== undefined && override !== '') {
    return isExecutableFile(override) ? path.resolve(override) : null;
  }
  const dirs = (env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const dir of [...dirs, '/usr/bin']) {
    const candidate = path.resolve(dir, 'linux.uml');
    if (isExecutableFile(candidate)) return candidate;
  }
  return null;
}

/**
 * The loud banner printed when User-Mode Linux is missing (never skip silently).
 * @param {string} [why]  extra line, e.g. why this is a failure
 * @returns {string}
 */
export function umlMissingBanner(why) {
  const bar = '!'.repeat(76);
  const lines = [
    '',
    bar,
    '!!  KERNEL SUITE NOT RUN: User-Mode Linux is not installed',
    '!!',
    '!!  The kernel tests run inside User-Mode Linux (an IPVS-capable kernel',
    '!!  booted as an ordinary process). Install it with:',
    '!!',
    `!!      ${UML_INSTALL_COMMAND}`,
  ];
  if (process.env.LVSD_UML) {
    lines.push('!!', `!!  (LVSD_UML=${process.env.LVSD_UML} is set and is not an executable file)`);
  }
  if (why) lines.push('!!', `!!  ${why}`);
  lines.push(bar, '', '');
  return lines.join('\n');
}

/**
 * Kernel release of a UML binary (`linux.uml --version`, which prints it
 * without booting), e.g. "6.1.176"; null if it cannot be determined.
 *
 * @param {string | null} [umlPath]
 * @returns {string | null}
 */
export function umlVersion(umlPath = findUml()) {
  if (!umlPath) return null;
  try {
    const out = execFileSync(umlPath, ['--version'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 10_000,
    });
    const release = out.trim().split('\n')[0]?.trim();
    return release ? release : null;
  } catch {
    return null;
  }
}

/**
 * Single-quote a string for /bin/sh.
 * @param {string} s
 * @returns {string}
 */
function shq(s) {
  if (s.includes('\0')) throw new TypeError('NUL byte in a command argument or environment value');
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/**
 * Parse "2G", "512M", "1024K" or a byte count.
 * @param {string} mem
 * @returns {number}
 */
function memoryBytes(mem) {
  const m = /^(\d+)([KMG]?)$/i.exec(mem.trim());
  if (!m) throw new TypeError(`memory must look like 2G, 512M or 1048576K, got ${JSON.stringify(mem)}`);
  const units = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };
  return Number(m[1]) * units[/** @type {'' | 'K' | 'M' | 'G'} */ (m[2].toUpperCase())];
}

/**
 * A directory on the host that the guest sees at the same path. The guest
 * mounts its own /proc, /sys, /dev and /run, and the kernel command line
 * cannot carry spaces, so fall back to /tmp when os.tmpdir() is unsuitable.
 * @returns {string}
 */
function hostTempBase() {
  const t = os.tmpdir();
  const shadowed = ['/run', '/dev', '/proc', '/sys', '/lib/modules', '/usr/lib/modules'];
  if (/^\/[A-Za-z0-9._/-]*$/.test(t) && !shadowed.some((s) => t === s || t.startsWith(`${s}/`))) {
    return t;
  }
  return '/tmp';
}

/**
 * UML backs guest memory with a sparse file it creates in $TMPDIR, else in
 * /dev/shm, else /tmp. Containers often have a 64 MiB /dev/shm, in which case
 * the guest would die with SIGBUS as soon as it touches more; point TMPDIR at
 * a disk directory then.
 * @param {number} bytes guest memory size
 * @param {string} fallbackDir
 * @returns {string | undefined} value for TMPDIR, or undefined to leave UML's default
 */
function memoryFileDir(bytes, fallbackDir) {
  if (process.env.TMPDIR) return undefined;
  try {
    const st = fs.statfsSync('/dev/shm');
    if (st.bavail * st.bsize >= bytes) return undefined;
  } catch {
    // no /dev/shm: UML falls back to /tmp by itself, but be explicit
  }
  return fallbackDir;
}

/**
 * @typedef {object} InitScriptParams
 * @property {string} runDir   per-run directory (same path on host and guest)
 * @property {string[]} command
 * @property {string} cwd
 * @property {Record<string, string>} env   complete environment of the command
 */

/**
 * Generate the guest's init script (runs as PID 1 under /bin/sh).
 * @param {InitScriptParams} p
 * @returns {string}
 */
function initScript({ runDir, command, cwd, env }) {
  const envArgs = Object.entries(env)
    .map(([k, v]) => shq(`${k}=${v}`))
    .join(' ');
  const cmdArgs = command.map(shq).join(' ');
  return `#!/bin/sh
# Generated by test/kernel/uml.mjs: init (PID 1) of a User-Mode Linux test-bed run.
PATH=${GUEST_SYSTEM_PATH}
HOME=/root
export PATH HOME
RUN=${shq(runDir)}

log() { echo "$*" >> "$RUN/setup.log"; }
fail() {
  log "FATAL: $*"
  echo "lvsd-uml: FATAL: $*" > /dev/console
  sync
  poweroff -f
  exit 1
}

mount -t proc proc /proc || fail "cannot mount /proc"
mount -t sysfs sysfs /sys || fail "cannot mount /sys"
# hostfs writes go straight to the host: keep /run (netns files, pid files) in the guest.
mount -t tmpfs -o mode=0755 tmpfs /run || fail "cannot mount a tmpfs on /run"

# Make modprobe find the UML kernel's modules without touching the host:
# a module root in the guest's /run, used by a modprobe wrapper that comes
# first in PATH and is also the kernel's module loader (request_module).
KREL=$(uname -r)
MODSRC=/usr/lib/uml/modules/$KREL
[ -d "$MODSRC" ] || fail "UML modules for kernel $KREL not found in $MODSRC"
MODROOT=/run/lvsd-uml/modroot
mkdir -p "$MODROOT/lib/modules" /run/lvsd-uml/bin || fail "cannot create /run/lvsd-uml"
ln -s "$MODSRC" "$MODROOT/lib/modules/$KREL" || fail "cannot link $MODSRC"
if [ -d /lib/modules ]; then
  # the host has its own modules: hide them so a plain /sbin/modprobe works too
  mount -t tmpfs -o mode=0755 tmpfs /lib/modules && ln -s "$MODSRC" "/lib/modules/$KREL"
fi
cat > /run/lvsd-uml/bin/modprobe <<'EOF_MODPROBE'
#!/bin/sh
exec /sbin/modprobe -d /run/lvsd-uml/modroot "$@"
EOF_MODPROBE
chmod 0755 /run/lvsd-uml/bin/modprobe
echo /run/lvsd-uml/bin/modprobe > /proc/sys/kernel/modprobe || log "WARNING: cannot set kernel.modprobe"
PATH=/run/lvsd-uml/bin:$PATH

for m in ${REQUIRED_MODULES.join(' ')}; do
  modprobe "$m" >> "$RUN/setup.log" 2>&1 || fail "cannot load required module $m"
done
# one modprobe for all (each invocation costs ~40 ms here); -a goes on past missing ones
modprobe -a ${OPTIONAL_MODULES.join(' ')} >> "$RUN/setup.log" 2>&1
for m in ${OPTIONAL_MODULES.join(' ')}; do
  [ -d "/sys/module/$m" ] || log "WARNING: optional module $m not available"
done
[ -e /proc/net/ip_vs ] || fail "/proc/net/ip_vs missing after loading ip_vs"

# With lo down IPVS rejects every destination add with EINVAL.
ip link set lo up || fail "cannot bring lo up"

echo "$KREL" > "$RUN/release"
echo "@@LVSD-UML-COMMAND-START@@" > /dev/console
cd ${shq(cwd)} || fail "cannot cd to "${shq(cwd)}
env -i ${envArgs} ${cmdArgs} < /dev/null > "$RUN/output" 2>&1
echo $? > "$RUN/status"
echo "@@LVSD-UML-COMMAND-END@@" > /dev/console
sync
poweroff -f
`;
}

/** @type {Set<{ pid: number, runDir: string, keep: boolean }>} */
const activeRuns = new Set();
let exitHooksInstalled = false;

/** @param {number} pid */
function killGroup(pid) {
  // UML calls setsid() itself and we spawn it detached: its process group
  // holds the kernel and every guest process (each a host process).
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

function installExitHooks() {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  const cleanupAll = () => {
    for (const run of activeRuns) {
      killGroup(run.pid);
      if (!run.keep) fs.rmSync(run.runDir, { recursive: true, force: true });
    }
    activeRuns.clear();
  };
  process.on('exit', cleanupAll);
  // The UML kernel is in its own session, so Ctrl-C does not reach it:
  // kill it ourselves, then let the signal do what it would have done.
  for (const sig of /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP'])) {
    const handler = () => {
      cleanupAll();
      if (process.listenerCount(sig) === 1) {
        process.removeListener(sig, handler);
        process.kill(process.pid, sig);
      }
    };
    process.on(sig, handler);
  }
}

/**
 * @param {string} file
 * @returns {string | null}
 */
function readIfExists(file) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/**
 * @typedef {object} RunInUmlOptions
 * @property {string[]} command      argv run inside the guest (searched on the guest PATH)
 * @property {string} [cwd]          working directory in the guest; default: repo root
 * @property {Record<string, string>} [env]  extra environment for the command (e.g. CI)
 * @property {number} [timeoutMs]    kill the kernel after this long; default 600000 (10 min)
 * @property {string} [memory]       guest memory, UML `mem=` syntax; default "2G"
 * @property {boolean} [stream]      copy the command's output live to process.stdout
 * @property {(chunk: Buffer) => void} [onOutput]  with stream: receives the output instead of process.stdout
 */

/**
 * @typedef {object} RunInUmlResult
 * @property {number} exitCode       the command's exit status (128+N if killed by signal N)
 * @property {string} output         the command's stdout and stderr, interleaved
 * @property {string} kernelRelease  `uname -r` in the guest, e.g. "6.1.176"
 * @property {string[]} warnings     set-up warnings, e.g. an optional module missing
 * @property {number} bootMs         spawn to command start (kernel boot + module loading)
 * @property {number} totalMs        spawn to kernel exit
 */

/**
 * Boot the UML kernel, run `command` in it, power it off.
 *
 * Inside the guest: IPVS and the schedulers are loaded, lo is up, /run is a
 * private tmpfs, the host filesystem is the root (writes go straight to the
 * host). The command runs with PATH = dirname(node) +
 * /usr/sbin:/usr/bin:/sbin:/bin, HOME=/root, LVSD_UML_GUEST=1,
 * TMPDIR = a directory of this run under the host's /tmp (deleted
 * afterwards; pass your own directory as an argument to get files back), and
 * `env` on top; stdin is /dev/null.
 *
 * Resolves with the command's exit code and output whatever that exit code
 * is. Rejects with {@link UmlError} (exitCode 125) when the test bed failed:
 * UML missing (exitCode 3), the kernel could not start, died, hung past the
 * timeout (it is killed), or never wrote an exit status.
 *
 * @param {RunInUmlOptions} options
 * @returns {Promise<RunInUmlResult>}
 */
export async function runInUml(options) {
  const {
    command,
    cwd = REPO_ROOT,
    env = {},
    timeoutMs = 600_000,
    memory = '2G',
    stream = false,
    onOutput = (/** @type {Buffer} */ chunk) => process.stdout.write(chunk),
  } = options;
  if (!Array.isArray(command) || command.length === 0 || !command.every((a) => typeof a === 'string')) {
    throw new TypeError('runInUml: command must be a non-empty array of strings');
  }
  if (command[0].includes('=')) {
    throw new TypeError(`runInUml: command name must not contain "=": ${command[0]}`);
  }
  for (const k of Object.keys(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k))
      throw new TypeError(`runInUml: bad environment variable name ${JSON.stringify(k)}`);
  }
  const memBytes = memoryBytes(memory);

  const uml = findUml();
  if (!uml) {
    throw new UmlError(
      `User-Mode Linux is not installed (no linux.uml${process.env.LVSD_UML ? ` at LVSD_UML=${process.env.LVSD_UML}` : ' on PATH'}); install it with: ${UML_INSTALL_COMMAND}`,
      { exitCode: UML_MISSING_EXIT_CODE },
    );
  }

  const runDir = fs.mkdtempSync(path.join(hostTempBase(), 'lvsd-uml-'));
  const keep = process.env.LVSD_UML_KEEP === '1';
  installExitHooks();
  /** @type {{ pid: number, runDir: string, keep: boolean } | undefined} */
  let active;
  let consoleLog = '';
  try {
    const umid = `lvsd-${process.pid}-${path.basename(runDir).slice('lvsd-uml-'.length)}`;
    const umlDir = path.join(runDir, 'uml');
    const outputFile = path.join(runDir, 'output');

    // The guest's temporary files go to the run directory (on the host's
    // disk, same path in the guest) and are removed with it: test processes
    // are often killed (vitest workers, poweroff) before they clean up.
    const guestTmp = path.join(runDir, 'tmp');
    fs.mkdirSync(guestTmp, { mode: 0o1777 });
    const guestEnv = {
      PATH: [
        ...new Set([path.dirname(GUEST_MODPROBE), path.dirname(process.execPath), ...GUEST_SYSTEM_PATH.split(':')]),
      ].join(':'),
      HOME: '/root',
      TMPDIR: guestTmp,
      [GUEST_MARKER_ENV]: '1',
      ...env,
    };
    const initFile = path.join(runDir, 'init');
    fs.writeFileSync(initFile, initScript({ runDir, command, cwd: path.resolve(cwd), env: guestEnv }), { mode: 0o755 });

    const args = [
      `mem=${memory}`,
      `umid=${umid}`,
      `uml_dir=${umlDir}`,
      'rootfstype=hostfs',
      'rootflags=/',
      'rw',
      `init=${initFile}`,
      'quiet',
      'con=null',
      'con0=null,fd:2',
      // No network device, ever: tests use documentation addresses only.
    ];
    const umlEnv = { ...process.env };
    const tmpdirForMemory = memoryFileDir(memBytes, runDir);
    if (tmpdirForMemory) umlEnv.TMPDIR = tmpdirForMemory;

    const started = Date.now();
    /** @param {Buffer} chunk */
    const appendConsole = (chunk) => {
      consoleLog += chunk.toString('utf8');
      if (consoleLog.length > CONSOLE_LOG_LIMIT) consoleLog = consoleLog.slice(-CONSOLE_LOG_LIMIT);
    };
    let bootMs = -1;

    // Live copy of the output file (hostfs is write-through, so the host sees
    // the guest's writes as they happen).
    let streamed = 0;
    const pump = () => {
      if (!stream) return;
      let fd;
      try {
        fd = fs.openSync(outputFile, 'r');
      } catch {
        return;
      }
      try {
        const buf = Buffer.alloc(64 * 1024);
        for (;;) {
          const n = fs.readSync(fd, buf, 0, buf.length, streamed);
          if (n <= 0) break;
          onOutput(Buffer.from(buf.subarray(0, n)));
          streamed += n;
        }
      } finally {
        fs.closeSync(fd);
      }
    };

    const child = spawn(uml, args, {
      cwd: runDir,
      env: umlEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    child.stdout.on('data', appendConsole);
    child.stderr.on('data', (chunk) => {
      appendConsole(chunk);
      if (bootMs < 0 && consoleLog.includes('@@LVSD-UML-COMMAND-START@@')) bootMs = Date.now() - started;
    });

    const outcome = await new Promise((resolve) => {
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        if (child.pid !== undefined) killGroup(child.pid);
      }, timeoutMs);
      const ticker = setInterval(pump, 100);
      child.once('spawn', () => {
        if (child.pid !== undefined) {
          active = { pid: child.pid, runDir, keep };
          activeRuns.add(active);
        }
      });
      child.once('error', (err) => {
        clearTimeout(timer);
        clearInterval(ticker);
        resolve({ spawnError: err, timedOut, code: null, signal: null });
      });
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        clearInterval(ticker);
        resolve({ spawnError: null, timedOut, code, signal });
      });
    });
    // Whatever happened, make sure no guest process survives.
    if (child.pid !== undefined) killGroup(child.pid);
    pump();
    if (stream && streamed > 0) {
      // keep the next host line on its own line
      const last = readIfExists(outputFile);
      if (last && !last.endsWith('\n')) onOutput(Buffer.from('\n'));
    }

    const totalMs = Date.now() - started;
    const output = readIfExists(outputFile) ?? '';
    const statusText = readIfExists(path.join(runDir, 'status'));
    const setupLog = readIfExists(path.join(runDir, 'setup.log')) ?? '';
    const release = (readIfExists(path.join(runDir, 'release')) ?? '').trim();
    const warnings = setupLog
      .split('\n')
      .filter((l) => l.startsWith('WARNING: '))
      .map((l) => l.slice('WARNING: '.length));
    const fatal = setupLog.split('\n').find((l) => l.startsWith('FATAL: '));
    const tail = consoleLog.split('\n').slice(-40).join('\n').trimEnd();
    const fail = (/** @type {string} */ why) =>
      new UmlError(
        `User-Mode Linux test bed failed: ${why}${tail ? `\n--- kernel console (last lines) ---\n${tail}\n--- end of kernel console ---` : ''}`,
        { output, consoleLog },
      );

    if (outcome.spawnError) throw fail(`cannot start ${uml}: ${outcome.spawnError.message}`);
    if (outcome.timedOut) {
      throw fail(
        `timed out after ${Math.round(timeoutMs / 1000)} s ` +
          (release ? 'while the command was running' : 'before the command started (kernel boot or set-up hung)') +
          '; the kernel was killed',
      );
    }
    if (fatal) {
      const log = setupLog.trimEnd().split('\n').slice(-15).join('\n');
      throw fail(
        `guest set-up failed: ${fatal.slice('FATAL: '.length)}\n--- set-up log (last lines) ---\n${log}\n--- end of set-up log ---`,
      );
    }
    if (statusText === null || !/^\d+\s*$/.test(statusText)) {
      const how = outcome.signal ? `was killed by ${outcome.signal}` : `exited with code ${outcome.code}`;
      throw fail(
        `the kernel ${how} without the command writing an exit status ` +
          (release
            ? '(it died or was powered off while the command ran)'
            : '(the guest never got as far as running the command)'),
      );
    }
    return {
      exitCode: Number(statusText.trim()),
      output,
      kernelRelease: release,
      warnings,
      bootMs: bootMs >= 0 ? bootMs : totalMs,
      totalMs,
    };
  } finally {
    if (active) activeRuns.delete(active);
    if (keep) {
      fs.writeFileSync(path.join(runDir, 'console.log'), consoleLog);
      process.stderr.write(`lvsd-uml: LVSD_UML_KEEP=1, run directory kept: ${runDir}\n`);
    } else {
      fs.rmSync(runDir, { recursive: true, force: true });
    }
  }
}
