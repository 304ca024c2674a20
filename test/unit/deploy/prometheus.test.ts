/**
 * deploy/prometheus/lvsd-alerts.yml: `promtool check rules` and `promtool test
 * rules` with its test file; and every metric the rules use is one lvsd
 * exports (src/daemon/metrics.ts).
 *
 * promtool (Debian package prometheus) is optional on a developer's machine:
 * missing, its tests are reported as SKIPPED with a name saying why. With CI
 * set a missing promtool is a failure, never a skip.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { Metrics } from '../../../src/daemon/metrics.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const DIR = join(ROOT, 'deploy/prometheus');
const RULES = 'lvsd-alerts.yml';
const TESTS = 'lvsd-alerts.test.yml';
const IN_CI = Boolean(process.env['CI']) && process.env['CI'] !== 'false' && process.env['CI'] !== '0';

function findTool(name: string): string | undefined {
  for (const dir of [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/sbin']) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not here
    }
  }
  return undefined;
}

function promtool(path: string, args: string[], cwd: string) {
  const r = spawnSync(path, args, { cwd, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, output: `${r.stdout}\n${r.stderr}` };
}

interface Rule {
  alert: string;
  expr: string;
}
const groups = (parseYaml(readFileSync(join(DIR, RULES), 'utf8')) as { groups: { rules: Rule[] }[] }).groups;
const rules = groups.flatMap((g) => g.rules);

describe('deploy/prometheus/lvsd-alerts.yml (static)', () => {
  test('has the alerts the issue asks for', () => {
    expect(rules.map((r) => r.alert).sort()).toEqual([
      'LvsdConfigInvalid',
      'LvsdDriftCorrectedRepeatedly',
      'LvsdRealServerDown',
      'LvsdReconcilesFailing',
      'LvsdServiceAllRealServersDown',
      'LvsdSyncDaemonDown',
    ]);
  });

  test('uses only metrics lvsd exports', async () => {
    const exported = new Set((await new Metrics().registry.getMetricsAsJSON()).map((m) => m.name));
    const used = new Set(rules.flatMap((r) => r.expr.match(/\blvsd_[a-z_]+/g) ?? []));
    expect(used.size).toBeGreaterThan(0);
    for (const name of used) expect(exported, name).toContain(name);
  });
});

const tool = findTool('promtool');
if (tool) {
  describe('deploy/prometheus (promtool)', () => {
    test('promtool check rules', () => {
      const r = promtool(tool, ['check', 'rules', RULES], DIR);
      expect(r.status, r.output).toBe(0);
      expect(r.output).toMatch(/SUCCESS: 6 rules found/);
    });

    test('promtool test rules with lvsd-alerts.test.yml', () => {
      const r = promtool(tool, ['test', 'rules', TESTS], DIR);
      expect(r.status, r.output).toBe(0);
    });

    test('promtool test rules fails when a rule is wrong (so the test above means something)', () => {
      const dir = mkdtempSync(join(tmpdir(), 'lvsd-prom-'));
      try {
        copyFileSync(join(DIR, TESTS), join(dir, TESTS));
        writeFileSync(
          join(dir, RULES),
          readFileSync(join(DIR, RULES), 'utf8')
            .replace('expr: lvsd_backend_up == 0', 'expr: lvsd_backend_up == 1')
            .replace('expr: lvsd_sync_daemon_up == 0', 'expr: lvsd_sync_daemon_up == 1'),
        );
        const r = promtool(tool, ['test', 'rules', TESTS], dir);
        expect(r.status, r.output).not.toBe(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
} else if (IN_CI) {
  test('promtool is installed (required with CI set)', () => {
    throw new Error('promtool not found on PATH; CI must run these checks: apt-get install prometheus');
  });
} else {
  test.skipIf(true)(
    'SKIPPED because promtool is missing (apt-get install prometheus): check rules, test rules',
    () => {},
  );
}
