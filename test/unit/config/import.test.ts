/**
 * `lvsd import` (config/import.ts): it never prints a config that deletes
 * every service because its input was empty, nor one `lvsd validate` rejects.
 * Before, both printed with exit 0.
 */
import { describe, expect, test } from 'vitest';
import { importConfig } from '../../../src/config/import.js';
import type { ImportOptions } from '../../../src/config/import.js';
import { parseIpvsadmSave } from '../../../src/config/ipvsadm-text.js';
import { loadConfigTexts } from '../../../src/config/load.js';
import { LvsdError } from '../../../src/errors.js';
import { lines } from './helpers.js';

const fromText: ImportOptions = { source: { kind: 'ipvsadm', name: 'standard input' } };

/** The error importing `ipvsadm -Sn` lines throws. */
function importError(text: string, opts: ImportOptions = fromText): LvsdError {
  try {
    importConfig(parseIpvsadmSave(text), opts);
  } catch (e) {
    if (e instanceof LvsdError) return e;
    throw e;
  }
  throw new Error('imported without an error');
}

describe('an empty table', () => {
  test.each([[''], ['\n'], ['# ipvsadm-save output, but no rules\n']])(
    '%j is IMPORT_EMPTY, not `services: []`',
    (text) => {
      const e = importError(text);
      expect(e.code).toBe('IMPORT_EMPTY');
      expect(e.message).toContain('standard input holds no ipvsadm table');
    },
  );

  test('an empty live table names the flag that prints it anyway', () => {
    const e = importError('', { source: { kind: 'live' } });
    expect(e).toMatchObject({ code: 'IMPORT_EMPTY' });
    expect(e.message).toMatch(/live IPVS table has no services.*--allow-empty/);
  });

  test('--allow-empty prints the config without services', () => {
    const text = importConfig(parseIpvsadmSave(''), { ...fromText, allowEmpty: true });
    expect(text).toContain('services: []');
  });
});

describe('tables that make a config validate rejects', () => {
  test.each([
    [
      'thresholds lower > upper',
      ['-A -t 192.0.2.1:80 -s rr', '-a -t 192.0.2.1:80 -r 192.0.2.10:80 -g -w 1 -x 5 -y 10'],
      'CONFIG_THRESHOLDS',
    ],
    [
      'a dr real server on another port',
      ['-A -t 192.0.2.1:80 -s rr', '-a -t 192.0.2.1:80 -r 192.0.2.10:8080 -g -w 1'],
      'CONFIG_PORT',
    ],
    ['one-packet scheduling on TCP', ['-A -t 192.0.2.1:80 -s rr -o'], 'CONFIG_ONE_PACKET'],
    ['a port flag with scheduler rr', ['-A -t 192.0.2.1:80 -s rr -b sh-port'], 'CONFIG_SCHEDULER_FLAG'],
    ['a persistence timeout over 31 days', ['-A -t 192.0.2.1:80 -s rr -p 99999999'], 'CONFIG_DURATION'],
    ['port 0 without persistence', ['-A -t 192.0.2.1:0 -s rr'], 'CONFIG_RANGE'],
    [
      'an IPv6 real server under dr',
      ['-A -t 192.0.2.1:80 -s rr', '-a -t 192.0.2.1:80 -r [2001:db8::10]:80 -g -w 1'],
      'CONFIG_FAMILY_MISMATCH',
    ],
    [
      'a gue tunnel without a port',
      ['-A -t 192.0.2.1:80 -s rr', '-a -t 192.0.2.1:80 -r 192.0.2.10:80 -i -w 1 --tun-type gue'],
      'CONFIG_TUNNEL',
    ],
    [
      'a real server listed twice',
      ['-A -t 192.0.2.1:80 -s rr', '-a -t 192.0.2.1:80 -r 192.0.2.10 -g', '-a -t 192.0.2.1:80 -r 192.0.2.10:80 -g'],
      'CONFIG_DUPLICATE_REALSERVER',
    ],
    [
      'a loopback real server',
      ['-A -t 192.0.2.1:80 -s rr', '-a -t 192.0.2.1:80 -r 127.0.0.1:80 -m -w 1'],
      'CONFIG_ADDRESS',
    ],
  ])('%s: IMPORT_INVALID with the validation error', (_what, table, code) => {
    const e = importError(lines(...table));
    expect(e.code).toBe('IMPORT_INVALID');
    expect((e.details!['errors'] as LvsdError[]).map((x) => x.code)).toContain(code);
    expect(e.message).toContain(`${code}: `);
  });
});

test('a good table prints a config that loads', () => {
  const text = importConfig(
    parseIpvsadmSave(
      lines(
        '-A -t 192.0.2.1:80 -s rr -p 300',
        '-a -t 192.0.2.1:80 -r 192.0.2.10:80 -g -w 1',
        '-A -f 7 -6 -s sh -b sh-port',
        '-a -f 7 -6 -r [2001:db8::10]:0 -g -w 2',
      ),
    ),
    fromText,
  );
  const loaded = loadConfigTexts([{ file: 'imported.yaml', text }]);
  expect(loaded.ok).toBe(true);
});
