/**
 * `lvsd import --from-keepalived|--from-ldirectord`: the config on stdout,
 * each report on stderr at FILE:LINE, and the exit code saying which
 * happened (0 all converted, 3 converted with omissions, 1 nothing printed).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { importCommand } from '../../../src/cli/commands/import.js';
import { loadConfigTexts } from '../../../src/config/load.js';
import { LvsdError } from '../../../src/errors.js';

let out = '';
let err = '';
beforeEach(() => {
  out = '';
  err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
});
afterEach(() => vi.restoreAllMocks());

const dir = mkdtempSync(join(tmpdir(), 'lvsd-import-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const KEEPALIVED_OK = [
  'virtual_server 192.0.2.10 80 {',
  '  protocol TCP',
  '  lb_kind DR',
  '  delay_loop 5',
  '  real_server 198.51.100.1 80 {',
  '    TCP_CHECK {',
  '      connect_timeout 2',
  '    }',
  '  }',
  '}',
  '',
].join('\n');

describe('--from-keepalived', () => {
  test('everything converted: exit 0, the config on stdout loads, nothing on stderr', async () => {
    const code = await importCommand.run({ 'from-keepalived': file('ok.conf', KEEPALIVED_OK) });
    expect(code).toBe(0);
    expect(err).toBe('');
    expect(loadConfigTexts([{ file: 'x.yaml', text: out }]).ok).toBe(true);
  });

  test('with omissions: exit 3, each one on stderr as FILE:LINE, the config still printed', async () => {
    const p = file('vrrp.conf', `vrrp_instance VI_1 {\n  state MASTER\n}\n${KEEPALIVED_OK}`);
    const code = await importCommand.run({ 'from-keepalived': p });
    expect(code).toBe(3);
    expect(err).toBe(
      `${p}:1: omitted: vrrp_instance: VRRP stays with keepalived: keep this block in a keepalived.conf without virtual_server blocks\n`,
    );
    expect(out).toContain('1 directive(s) not converted');
    expect(loadConfigTexts([{ file: 'x.yaml', text: out }]).ok).toBe(true);
  });

  test('--config-id picks the @ID lines', async () => {
    const p = file(
      'id.conf',
      KEEPALIVED_OK.replace('  lb_kind DR', '  @a lvs_sched rr\n  @b lvs_sched sh\n  lb_kind DR'),
    );
    await importCommand.run({ 'from-keepalived': p, 'config-id': 'b' });
    expect(out).toContain('scheduler: sh');
  });

  test.each([
    ['not keepalived syntax', 'virtual_server 192.0.2.10 80 {\n', 'IMPORT_SYNTAX'],
    ['no virtual server', 'global_defs {\n}\n', 'IMPORT_EMPTY'],
    ['a config validate rejects', KEEPALIVED_OK.replace('lb_kind DR', 'lb_algo nosuch'), 'IMPORT_INVALID'],
  ])('%s: throws %s (exit 1), nothing on stdout', async (_, text, code) => {
    const p = file(`${code}.conf`, text);
    await expect(importCommand.run({ 'from-keepalived': p })).rejects.toMatchObject({ code });
    expect(out).toBe('');
  });

  test('a missing file is CONFIG_READ', async () => {
    await expect(importCommand.run({ 'from-keepalived': join(dir, 'nope.conf') })).rejects.toBeInstanceOf(LvsdError);
  });
});

describe('--from-ldirectord', () => {
  test('exit 0 when everything converts, 3 with omissions', async () => {
    const ok = file('ok.cf', 'virtual=192.0.2.10:80\n\treal=198.51.100.1:80 gate\n\tchecktype=connect\n');
    expect(await importCommand.run({ 'from-ldirectord': ok })).toBe(0);
    expect(err).toBe('');
    const some = file(
      'some.cf',
      'logfile="local0"\nvirtual=192.0.2.10:80\n\treal=198.51.100.1:80 gate\n\tchecktype=connect\n',
    );
    expect(await importCommand.run({ 'from-ldirectord': some })).toBe(3);
    expect(err).toMatch(new RegExp(`^${some}:1: omitted: logfile: `));
  });

  test('two sources at once is CLI_USAGE', async () => {
    await expect(importCommand.run({ 'from-ldirectord': 'a', 'from-keepalived': 'b' })).rejects.toMatchObject({
      code: 'CLI_USAGE',
    });
  });
});

describe('--vrrp-config', () => {
  test('writes the VRRP-only keepalived.conf, and never over an existing file', async () => {
    const conf = file('with-vrrp.conf', `vrrp_instance VI_1 {\n  state MASTER\n}\n${KEEPALIVED_OK}`);
    const vrrp = join(dir, 'vrrp-only.conf');
    expect(await importCommand.run({ 'from-keepalived': conf, 'vrrp-config': vrrp })).toBe(3);
    expect(readFileSync(vrrp, 'utf8')).toContain('vrrp_instance VI_1 {');
    expect(readFileSync(vrrp, 'utf8')).not.toContain('virtual_server');
    out = '';
    await expect(importCommand.run({ 'from-keepalived': conf, 'vrrp-config': vrrp })).rejects.toMatchObject({
      code: 'IMPORT_WRITE',
    });
    expect(out).toBe('');
  });

  test('only with --from-keepalived', async () => {
    await expect(importCommand.run({ 'from-ldirectord': 'a', 'vrrp-config': 'b' })).rejects.toMatchObject({
      code: 'CLI_USAGE',
    });
  });
});
