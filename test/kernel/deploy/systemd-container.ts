// systemd 252 as PID 1 inside the test kernel, for tests of the shipped unit
// and the Debian package under a real service manager.
//
// The test kernel already has its own init (test/kernel/uml.mjs), so systemd
// runs as PID 1 of a new PID namespace, the way a container manager starts
// it: a mount namespace whose root is a throwaway overlay of the guest's root
// (lower: the host's file system through hostfs; upper: a tmpfs in the
// guest's /run, so dpkg, systemd and the units write only to memory), a
// cgroup namespace rooted at a cgroup of its own (systemd delegates
// controllers and attaches its BPF IP firewall there), its own UTS and IPC
// namespaces, and the network namespace given (a host of the e2e LAN). With
// `container=` set systemd skips hardware units; it reaches its target in
// about 5 s. Commands run inside through nsenter, in every namespace of
// systemd and under its root. Nothing of this touches the host.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { GUEST_MODPROBE, tmpDir } from '../helpers.js';
import { exec, run, sleep } from '../e2e/lan.js';

const REPO = path.resolve(import.meta.dirname, '..', '..', '..');

/** Same rule as test/run-all.mjs: CI=true (or any value but false/0). */
export const IN_CI = Boolean(process.env['CI']) && process.env['CI'] !== 'false' && process.env['CI'] !== '0';

/**
 * What a test of the package under systemd needs besides the test bed, that is
 * missing here (the tools, and `extra` ones). A missing one fails in CI and
 * skips (loudly) elsewhere.
 */
export function missingTools(extra: string[] = []): string[] {
  const tools = ['dpkg-deb', 'dpkg-shlibdeps', 'strip', 'unshare', 'nsenter', '/lib/systemd/systemd', ...extra];
  return tools.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
}

/** Builds the .deb with scripts/build-deb.sh (from the dist/ `npm test` built) and returns its path. */
export function buildDeb(): string {
  const build = spawnSync('bash', [path.join(REPO, 'scripts/build-deb.sh'), '--no-build', tmpDir('lvsd-deb-')], {
    encoding: 'utf8',
    cwd: REPO,
  });
  if (build.status !== 0) throw new Error(`scripts/build-deb.sh failed:\n${build.stderr}${build.stdout}`);
  return build.stdout.trim().split('\n').pop()!;
}

/** A command's result; `code` is its exit status. */
export interface Result {
  stdout: string;
  stderr: string;
  code: number;
}

const TARGET = `[Unit]
Description=lvsd kernel test: basic.target, nothing else
Requires=basic.target
After=basic.target
`;

/** A running systemd in its namespaces; see the file header. */
export class SystemdContainer {
  private constructor(
    /** The overlay root as the guest sees it: files written here are the container's. */
    readonly root: string,
    private readonly base: string,
    private readonly cgroup: string,
    private readonly launcher: ChildProcess,
    /** systemd's pid in the guest's PID namespace. */
    readonly pid: number,
    private readonly console: () => string,
  ) {}

  /** Boots systemd in network namespace `netns` and waits until it is running (or degraded). */
  static async boot(name: string, netns: string): Promise<SystemdContainer> {
    const base = path.join('/run', `lvsd-sd-${name}`);
    const root = path.join(base, 'root');
    const cgMount = path.join(base, 'cgroup');
    for (const d of ['up', 'work', 'root', 'cgroup']) fs.mkdirSync(path.join(base, d), { recursive: true });
    await run(GUEST_MODPROBE, ['overlay']);
    await run('mount', ['-t', 'overlay', 'lvsd-sd', '-o', `lowerdir=/,upperdir=${base}/up,workdir=${base}/work`, root]);
    await run('mount', ['-t', 'cgroup2', 'none', cgMount]);
    const controllers = fs.readFileSync(path.join(cgMount, 'cgroup.controllers'), 'utf8').trim().split(/\s+/);
    for (const c of controllers.filter(Boolean))
      fs.writeFileSync(path.join(cgMount, 'cgroup.subtree_control'), `+${c}`);
    const cgroup = path.join(cgMount, `lvsd-sd-${name}`);
    fs.mkdirSync(cgroup, { recursive: true });
    fs.writeFileSync(path.join(root, 'etc/systemd/system/lvsd-test.target'), TARGET);

    // PID 1 of the new PID namespace moves itself into the cgroup, then makes
    // that cgroup the root of a cgroup namespace: the launcher (outside the
    // PID namespace) stays out of it, so systemd finds its cgroup empty but
    // for itself and can delegate controllers below it.
    const inner = `echo 1 > ${cgroup}/cgroup.procs && exec unshare --cgroup env -i container=lvsd-test /usr/sbin/chroot ${root} /lib/systemd/systemd --unit=lvsd-test.target`;
    const launcher = spawn(
      'ip',
      [
        'netns',
        'exec',
        netns,
        'unshare',
        '--pid',
        '--mount',
        '--uts',
        '--ipc',
        '--fork',
        '--propagation',
        'private',
        'sh',
        '-c',
        inner,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    launcher.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    launcher.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    const pid = await childOf(launcher, () => out);
    const c = new SystemdContainer(root, base, cgroup, launcher, pid, () => out);
    await c.waitRunning();
    return c;
  }

  /** Runs a command inside (all of systemd's namespaces, its root); never rejects for an exit status. */
  exec(
    cmd: string,
    args: string[] = [],
    opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
  ): Promise<Result> {
    return exec('nsenter', ['-t', String(this.pid), '-a', '-r', '-w', cmd, ...args], opts);
  }

  /** As exec, but throws unless the command exits 0; returns stdout. */
  async run(cmd: string, args: string[] = [], opts: { timeoutMs?: number } = {}): Promise<string> {
    const r = await this.exec(cmd, args, opts);
    if (r.code !== 0)
      throw new Error(
        `${cmd} ${args.join(' ')} (in systemd's container) exited with ${r.code}:\n${r.stderr}${r.stdout}`,
      );
    return r.stdout;
  }

  /** `systemctl ARGS` inside; throws unless it exits 0. */
  systemctl(...args: string[]): Promise<string> {
    return this.run('systemctl', ['--no-pager', ...args], { timeoutMs: 120_000 });
  }

  /**
   * The .deb depends on nodejs (>= 20.19). When the machine's Node is not a
   * Debian package (e.g. nodejs.org binaries), install a stand-in package
   * `nodejs` of the running Node's version in the throwaway root, and link
   * /usr/bin/node to it, so that `dpkg -i` checks lvsd's package and not how
   * this machine got its Node.
   */
  async ensureNodejsPackage(): Promise<void> {
    const status = await this.exec('dpkg-query', ['-W', '-f', '${Status}', 'nodejs']);
    if (status.stdout.includes('install ok installed')) return;
    const dir = path.join(this.root, 'root', 'nodejs-stand-in');
    fs.mkdirSync(path.join(dir, 'DEBIAN'), { recursive: true });
    fs.writeFileSync(
      path.join(dir, 'DEBIAN', 'control'),
      `Package: nodejs\nVersion: ${process.versions.node}-0lvsdtest\nArchitecture: all\nMaintainer: lvsd tests <lvsd@example.org>\n` +
        `Description: stand-in for the Node.js ${process.versions.node} of the test machine\n`,
    );
    await this.run('dpkg-deb', ['--build', '/root/nodejs-stand-in', '/root/nodejs-stand-in.deb']);
    await this.run('dpkg', ['-i', '/root/nodejs-stand-in.deb']);
    if (!fs.existsSync(path.join(this.root, 'usr/bin/node')))
      fs.symlinkSync(process.execPath, path.join(this.root, 'usr/bin/node'));
  }

  /** A file of the container, e.g. '/etc/lvsd/lvsd.yaml'. */
  file(p: string): string {
    return path.join(this.root, p);
  }

  private async waitRunning(timeoutMs = 90_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    let state = '';
    while (Date.now() < until) {
      if (this.launcher.exitCode !== null) break;
      state = (await this.exec('systemctl', ['is-system-running'])).stdout.trim();
      if (state === 'running' || state === 'degraded') return;
      await sleep(500);
    }
    throw new Error(`systemd did not come up (state '${state}'); its output:\n${this.console()}`);
  }

  /** Kills systemd (and with it every process of its PID namespace), removes the overlay and cgroups. */
  async destroy(): Promise<void> {
    try {
      process.kill(this.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    if (this.launcher.exitCode === null) await new Promise((r) => this.launcher.once('exit', r));
    await exec('umount', ['-l', this.root]);
    // the cgroups systemd made: deepest first, once their processes are gone
    const dirs = await exec('find', [this.cgroup, '-depth', '-type', 'd']);
    for (let i = 0; i < 20; i++) {
      const left = dirs.stdout.split('\n').filter((d) => d && fs.existsSync(d));
      if (left.length === 0) break;
      for (const d of left) await exec('rmdir', [d]);
      await sleep(100);
    }
    await exec('umount', [path.join(this.base, 'cgroup')]);
    fs.rmSync(this.base, { recursive: true, force: true });
  }
}

/** The pid of the launcher's child (systemd, PID 1 of its namespace). */
async function childOf(launcher: ChildProcess, output: () => string): Promise<number> {
  const until = Date.now() + 20_000;
  // ip netns exec execs unshare, which forks systemd's shell
  while (Date.now() < until && launcher.exitCode === null) {
    try {
      const children = fs.readFileSync(`/proc/${launcher.pid}/task/${launcher.pid}/children`, 'utf8').trim();
      if (children) return Number(children.split(/\s+/)[0]);
    } catch {
      // not yet
    }
    await sleep(50);
  }
  throw new Error(`systemd's launcher exited (${launcher.exitCode}) or never forked; its output:\n${output()}`);
}
