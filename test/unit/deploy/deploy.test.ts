/**
 * The deployment files: the systemd unit (static checks, and its
 * `systemd-analyze security` exposure score), the modules-load.d file, and the
 * Ansible role (static checks, `ansible-playbook --syntax-check`).
 *
 * The two external tools are optional on a developer's machine: when one is
 * missing, its tests are reported as SKIPPED with a name saying why. With CI
 * set (as test/run-all.mjs reads it) a missing tool is a failure, never a skip.
 */
import { spawnSync } from 'node:child_process';
import {
  accessSync,
  constants,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { loadConfigTexts } from '../../../src/config/load.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const UNIT = join(ROOT, 'deploy/lvsd.service');
const MODULES = join(ROOT, 'deploy/modules-load.d/lvsd.conf');
const ANSIBLE = join(ROOT, 'deploy/ansible');
const ROLE = join(ANSIBLE, 'roles/lvsd');

/** Same rule as test/run-all.mjs: CI=true (or any value but false/0). */
const IN_CI = Boolean(process.env['CI']) && process.env['CI'] !== 'false' && process.env['CI'] !== '0';

/** The highest `systemd-analyze security` exposure the unit may have. */
const MAX_EXPOSURE = 2.0;

/** An executable on PATH (plus the sbin directories), or undefined. */
function findTool(name: string): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

function run(cmd: string, args: string[], cwd = ROOT) {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    timeout: 120_000,
    env: {
      ...process.env,
      LC_ALL: 'C.UTF-8',
      SYSTEMD_COLORS: '0',
      SYSTEMD_PAGER: '',
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_FORCE_COLOR: '0',
    },
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, output: `${r.stdout}\n${r.stderr}` };
}

/**
 * Declares the tests of an optional tool. Present: the tests run. Missing
 * outside CI: each is reported as skipped, and its name says why. Missing in
 * CI: one failing test says what to install.
 */
function withTool(tool: string, install: string, declare: (path: string) => void, names: string[]) {
  const path = findTool(tool);
  if (path) {
    declare(path);
    return;
  }
  if (IN_CI) {
    test(`${tool} is installed (required with CI set)`, () => {
      throw new Error(`${tool} not found on PATH; CI must run these checks: ${install}`);
    });
    return;
  }
  for (const name of names) {
    test.skipIf(true)(`SKIPPED because ${tool} is missing (${install}): ${name}`, () => {});
  }
}

// --- the unit file ---------------------------------------------------------

/** An address as a bigint and its width in bits. */
function addressBits(address: string): { value: bigint; bits: number } {
  if (address.includes('.')) {
    return { value: address.split('.').reduce((v, part) => (v << 8n) | BigInt(Number(part)), 0n), bits: 32 };
  }
  const [head = '', tail = ''] = address.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  return { value: groups.reduce((v, g) => (v << 16n) | BigInt(parseInt(g, 16)), 0n), bits: 128 };
}

/** Whether an address lies in PREFIX/LEN (same family only). */
function inPrefix(address: string, prefix: string): boolean {
  const [net = '', len = ''] = prefix.split('/');
  const a = addressBits(address);
  const n = addressBits(net);
  if (a.bits !== n.bits) return false;
  const shift = BigInt(a.bits - Number(len));
  return a.value >> shift === n.value >> shift;
}

const isLoopback = (address: string) => address === '::1' || address.startsWith('127.');

/** Directives of the unit: [section, key, value] in file order, comments left out. */
function unitDirectives(text: string): Array<[string, string, string]> {
  const out: Array<[string, string, string]> = [];
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1]!;
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0) throw new Error(`not a directive: ${line}`);
    out.push([section, line.slice(0, eq).trim(), line.slice(eq + 1).trim()]);
  }
  return out;
}

const unitText = readFileSync(UNIT, 'utf8');
const directives = unitDirectives(unitText);
/** All values of a [Service] key, in order. */
const service = (key: string) => directives.filter(([s, k]) => s === 'Service' && k === key).map(([, , v]) => v);
const one = (key: string) => {
  const values = service(key);
  expect(values, `${key}= should appear exactly once`).toHaveLength(1);
  return values[0]!;
};

describe('deploy/lvsd.service (static)', () => {
  test('is a Type=notify service that accepts notifications from systemd-notify, a child process', () => {
    expect(one('Type')).toBe('notify');
    expect(one('NotifyAccess')).toBe('all');
  });

  test('validates the config before starting, and runs the daemon on /etc/lvsd', () => {
    expect(one('ExecStartPre')).toBe('/usr/bin/lvsd validate -c /etc/lvsd');
    expect(one('ExecStart')).toMatch(/^\/usr\/bin\/lvsd run -c \/etc\/lvsd(\s|$)/);
  });

  test('reloads by sending SIGHUP to the main process', () => {
    expect(one('ExecReload')).toMatch(/^\/bin\/kill (-HUP|-s HUP|-SIGHUP|--signal HUP) \$MAINPID$/);
  });

  test('restarts on failure, never on a clean exit (SIGTERM exits 0)', () => {
    expect(one('Restart')).toBe('on-failure');
  });

  test('has CAP_NET_ADMIN and no other capability, as an unprivileged user', () => {
    expect(one('AmbientCapabilities')).toBe('CAP_NET_ADMIN');
    expect(one('CapabilityBoundingSet')).toBe('CAP_NET_ADMIN');
    expect(one('DynamicUser')).toBe('yes');
    expect(one('NoNewPrivileges')).toBe('yes');
    expect(service('User')).toEqual([]);
  });

  test("stays in the host's network namespace and user namespace (it manages the host's IPVS table)", () => {
    for (const key of ['PrivateNetwork', 'PrivateUsers', 'NetworkNamespacePath', 'JoinsNamespaceOf']) {
      expect(
        service(key).filter((v) => v !== 'no'),
        key,
      ).toEqual([]);
    }
    expect(directives.filter(([, k]) => k === 'JoinsNamespaceOf')).toEqual([]);
  });

  test("does not set MemoryDenyWriteExecute (Node's JIT needs W+X memory)", () => {
    expect(service('MemoryDenyWriteExecute').filter((v) => v !== 'no')).toEqual([]);
  });

  test('may not load kernel modules (ip_vs comes from modules-load.d)', () => {
    expect(one('ProtectKernelModules')).toBe('yes');
  });

  test('keeps the sandbox settings the exposure score relies on', () => {
    const expected: Record<string, string> = {
      ProtectSystem: 'strict',
      ProtectHome: 'yes',
      PrivateTmp: 'yes',
      PrivateDevices: 'yes',
      ProtectKernelTunables: 'yes',
      ProtectKernelLogs: 'yes',
      ProtectControlGroups: 'yes',
      ProtectClock: 'yes',
      ProtectHostname: 'yes',
      ProtectProc: 'invisible',
      RestrictNamespaces: 'yes',
      RestrictRealtime: 'yes',
      RestrictSUIDSGID: 'yes',
      LockPersonality: 'yes',
      SystemCallArchitectures: 'native',
      UMask: '0077',
      IPAddressDeny: 'any',
    };
    for (const [key, value] of Object.entries(expected)) expect(one(key), key).toBe(value);
    expect(one('RestrictAddressFamilies').split(/\s+/).sort()).toEqual([
      'AF_INET',
      'AF_INET6',
      'AF_NETLINK',
      'AF_UNIX',
    ]);
  });

  test('lets health checks reach a real server at any unicast address, and nothing else but localhost', () => {
    // IPAddressDeny=any with IPAddressAllow=localhost alone dropped every
    // check to a real server: every real server was quiesced.
    const allow = service('IPAddressAllow').flatMap((v) => v.split(/\s+/));
    const allowed = (address: string) =>
      allow.some((entry) => (entry === 'localhost' ? isLoopback(address) : inPrefix(address, entry)));
    for (const a of [
      '198.51.100.193',
      '10.1.2.3',
      '172.16.0.9',
      '192.168.1.193',
      '100.64.0.1',
      '8.8.8.8',
      '127.0.0.1',
    ]) {
      expect(allowed(a), a).toBe(true);
    }
    for (const a of ['2001:db8::10', 'fd00::5', '2a00:1450::1', '::1']) expect(allowed(a), a).toBe(true);
    for (const a of ['224.0.0.18', '239.1.1.1', '255.255.255.255', 'ff02::1', 'fe80::1'])
      expect(allowed(a), a).toBe(false);
  });

  test('may write net.* sysctls (ARP settings of a real server) and nothing else under /proc/sys', () => {
    expect(one('ProtectKernelTunables')).toBe('yes');
    expect(service('ReadWritePaths')).toEqual(['/proc/sys/net']);
    // ProcSubset=pid hides /proc/sys altogether
    expect(service('ProcSubset').filter((v) => v !== 'all')).toEqual([]);
  });

  test('has /run/lvsd for the status file', () => {
    expect(one('RuntimeDirectory')).toBe('lvsd');
  });

  test('filters system calls, allowing @pkey (V8 probes pkey_alloc; without it Node dies of SIGSYS)', () => {
    const filters = service('SystemCallFilter');
    const allowed = filters.filter((f) => !f.startsWith('~')).flatMap((f) => f.split(/\s+/));
    const denied = filters.filter((f) => f.startsWith('~')).flatMap((f) => f.slice(1).split(/\s+/));
    expect(allowed).toEqual(expect.arrayContaining(['@system-service', '@pkey']));
    expect(denied).toEqual(expect.arrayContaining(['@privileged', '@resources']));
  });

  test('is enabled by multi-user.target', () => {
    expect(directives).toContainEqual(['Install', 'WantedBy', 'multi-user.target']);
  });
});

describe('deploy/modules-load.d/lvsd.conf', () => {
  const modules = readFileSync(MODULES, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith(';'));

  test('loads ip_vs and the common schedulers', () => {
    expect(modules[0]).toBe('ip_vs');
    expect(modules).toEqual(
      expect.arrayContaining(['ip_vs_rr', 'ip_vs_wrr', 'ip_vs_lc', 'ip_vs_wlc', 'ip_vs_sh', 'ip_vs_mh']),
    );
  });

  test('lists one module name per line, and none that older kernels lack (a missing one fails the boot unit)', () => {
    for (const m of modules) expect(m).toMatch(/^ip_vs(_[a-z]+)?$/);
    expect(modules).not.toContain('ip_vs_twos'); // Linux 6.2+; Debian 12 has 6.1
    expect(new Set(modules).size).toBe(modules.length);
  });
});

describe('deploy/debian/lvsd.yaml (the conffile of the Debian package)', () => {
  test('is valid and manages nothing: no services, no host settings, no timeouts (installing never changes a table)', () => {
    const r = loadConfigTexts([
      { file: 'lvsd.yaml', text: readFileSync(join(ROOT, 'deploy/debian/lvsd.yaml'), 'utf8') },
    ]);
    expect(r.ok ? [] : r.errors.map(String)).toEqual([]);
    if (!r.ok) return;
    expect(r.state.services).toBeUndefined();
    expect(r.state.host).toBeUndefined();
    expect(r.state.timeouts).toBeUndefined();
  });
});

// --- systemd-analyze -----------------------------------------------------------

withTool(
  'systemd-analyze',
  'apt-get install systemd',
  (sa) => {
    describe('deploy/lvsd.service (systemd-analyze)', () => {
      /** `→ Overall exposure level for lvsd.service: 1.6 OK 🙂` */
      const exposureOf = (output: string) => {
        const m = /Overall exposure level for \S+: (\d+(?:\.\d+)?) (\S+)/.exec(output);
        if (!m) throw new Error(`no overall exposure level in:\n${output}`);
        return { score: Number(m[1]), label: m[2] };
      };

      test(`security --offline=true: exposure ${MAX_EXPOSURE.toFixed(1)} or better`, () => {
        // --threshold= is compared with the exposure in tenths (the 0..100
        // value systemd shows divided by 10): the command fails when the
        // exposure is greater than it. So 20 enforces a score <= 2.0.
        const r = run(sa, ['security', '--offline=true', `--threshold=${Math.round(MAX_EXPOSURE * 10)}`, UNIT]);
        const { score, label } = exposureOf(r.output);
        expect(score, r.output).toBeLessThanOrEqual(MAX_EXPOSURE);
        expect(label).toBe('OK');
        expect(r.status, r.output).toBe(0);
      });

      test('security --threshold= really fails a unit above it (so the check above means something)', () => {
        const { score } = exposureOf(run(sa, ['security', '--offline=true', UNIT]).output);
        const below = Math.round(score * 10) - 1;
        const r = run(sa, ['security', '--offline=true', `--threshold=${below}`, UNIT]);
        expect(r.status, r.output).not.toBe(0);
      });

      test('verify: no errors or warnings about the unit', () => {
        // verify insists that ExecStart's program exists: point the unit's
        // /usr/bin/lvsd at a stand-in in a temporary directory.
        const dir = mkdtempSync(join(tmpdir(), 'lvsd-unit-'));
        try {
          const bin = join(dir, 'lvsd');
          symlinkSync('/bin/true', bin);
          const unit = join(dir, 'lvsd.service');
          writeFileSync(unit, unitText.replaceAll('/usr/bin/lvsd', bin));
          const r = run(sa, ['verify', unit], dir);
          expect(r.status, r.output).toBe(0);
          expect(
            r.stderr.split('\n').filter((l) => l.includes('lvsd')),
            r.output,
          ).toEqual([]);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      });
    });
  },
  [
    'security --offline=true: exposure 2.0 or better',
    'security --threshold= really fails a unit above it',
    'verify: no errors or warnings about the unit',
  ],
);

// --- Ansible -----------------------------------------------------------------------

interface Task {
  name?: string;
  notify?: unknown;
  'ansible.builtin.template'?: { src: string; dest: string; validate?: string };
  'ansible.builtin.copy'?: { src: string; dest: string; remote_src?: boolean };
  [module: string]: unknown;
}

const tasks = parseYaml(readFileSync(join(ROLE, 'tasks/main.yml'), 'utf8')) as Task[];

describe('deploy/ansible role lvsd (static)', () => {
  test('the config task validates with lvsd and notifies no handler (lvsd watches its config)', () => {
    const t = tasks.find((x) => x['ansible.builtin.template']?.dest === '/etc/lvsd/lvsd.yaml');
    expect(t, 'a template task writing /etc/lvsd/lvsd.yaml').toBeDefined();
    expect(t!['ansible.builtin.template']!.validate).toMatch(/^\{\{ lvsd_bin \}\} validate -c %s$/);
    expect(t!.notify).toBeUndefined();
  });

  test('installs the unit and the modules-load file shipped in the npm package', () => {
    const copies = tasks.map((x) => x['ansible.builtin.copy']).filter((c) => c?.remote_src);
    const shipped = new Map(copies.map((c) => [c!.dest, c!.src.replace(/^\{\{ lvsd_package_dir \}\}\//, '')]));
    expect(shipped.get('/etc/systemd/system/lvsd.service')).toBe('deploy/lvsd.service');
    expect(shipped.get('/etc/modules-load.d/lvsd.conf')).toBe('deploy/modules-load.d/lvsd.conf');
    for (const path of shipped.values()) expect(existsSync(join(ROOT, path)), path).toBe(true);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { files: string[] };
    expect(pkg.files).toContain('deploy/');
  });

  test('checks the Node version it was told lvsd needs (package.json engines)', () => {
    const defaults = parseYaml(readFileSync(join(ROLE, 'defaults/main.yml'), 'utf8')) as Record<string, unknown>;
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
    expect(pkg.engines.node).toBe(`>=${String(defaults['lvsd_node_min_version']).replace(/\.0$/, '')}`);
  });

  test('the example group_vars make a config lvsd accepts', () => {
    const vars = parseYaml(readFileSync(join(ANSIBLE, 'group_vars/lvs_directors.yml'), 'utf8')) as Record<
      string,
      unknown
    >;
    const config: Record<string, unknown> = { version: 1 };
    if (vars['lvsd_timeouts']) config['timeouts'] = vars['lvsd_timeouts'];
    if (vars['lvsd_ignore']) config['ignore'] = vars['lvsd_ignore'];
    config['services'] = vars['lvsd_services'];
    const r = loadConfigTexts([{ file: 'group_vars/lvs_directors.yml', text: stringifyYaml(config) }]);
    expect(r.ok ? [] : r.errors.map(String)).toEqual([]);
    expect(config['services']).toEqual([
      {
        name: 'web',
        vip: '192.168.1.200',
        port: 80,
        protocol: 'tcp',
        scheduler: 'rr',
        realservers: [{ address: '192.168.1.193', weight: 1, forward: 'dr' }, '192.168.1.195'],
      },
    ]);
  });
});

withTool(
  'ansible-playbook',
  'apt-get install ansible-core',
  (ap) => {
    describe('deploy/ansible (ansible-playbook)', () => {
      test('--syntax-check of site.yml with the example inventory', { timeout: 120_000 }, () => {
        const r = run(ap, ['--syntax-check', '-i', 'inventory.ini', 'site.yml'], ANSIBLE);
        expect(r.status, r.output).toBe(0);
        expect(r.stdout).toMatch(/playbook: site\.yml/);
      });
    });
  },
  ['--syntax-check of site.yml with the example inventory'],
);
