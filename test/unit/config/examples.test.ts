/** Every example under config/ must load: they are documentation people copy. */
import { describe, expect, test } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { basename, join } from 'node:path';
import { loadConfig, loadConfigTexts } from '../../../src/config/load.js';
import { printConfig } from '../../../src/config/print.js';

const CONFIG = fileURLToPath(new URL('../../../config/', import.meta.url));
const single = [
  join(CONFIG, 'lvsd.yaml'),
  ...readdirSync(join(CONFIG, 'examples'))
    .filter((n) => n.endsWith('.yaml'))
    .map((n) => join(CONFIG, 'examples', n)),
];
const layout = join(CONFIG, 'examples', 'conf.d-layout');

describe('config examples', () => {
  test('there are the examples the docs promise', () => {
    expect(single.map((f) => basename(f)).sort()).toEqual([
      'fwmark-persistence.yaml',
      'ipv6-tunnel.yaml',
      'lvsd.yaml',
      'nat.yaml',
    ]);
  });

  test.each(single)('%s validates', async (file) => {
    const r = await loadConfig(file);
    expect(r.ok ? [] : r.errors.map(String)).toEqual([]);
  });

  test('the conf.d layout validates as a directory', async () => {
    const r = await loadConfig(layout);
    expect(r.ok ? [] : r.errors.map(String)).toEqual([]);
    expect(r.files.map((f) => f.slice(layout.length + 1))).toEqual([
      'lvsd.yaml',
      'conf.d/10-web.yaml',
      'conf.d/20-dns.yaml',
    ]);
    if (r.ok) expect(r.state.services!.map((s) => s.name)).toEqual(['web', 'web-tls', 'dns-udp', 'dns-tcp']);
  });

  test.each(readdirSync(join(layout, 'conf.d')))('drop-in %s also validates alone (Ansible validate)', async (name) => {
    const r = await loadConfig(join(layout, 'conf.d', name));
    expect(r.ok ? [] : r.errors.map(String)).toEqual([]);
  });

  test('config/lvsd.yaml is the classic LVS-DR setup', async () => {
    const r = await loadConfig(join(CONFIG, 'lvsd.yaml'));
    expect(r.ok && r.state).toStrictEqual({
      ignore: [],
      services: [
        {
          name: 'web',
          family: 'ipv4',
          protocol: 'tcp',
          address: '192.168.1.200',
          port: 80,
          scheduler: 'rr',
          flags: [],
          onePacket: false,
          realservers: [
            {
              family: 'ipv4',
              address: '192.168.1.193',
              port: 80,
              forward: 'dr',
              weight: 1,
              upperThreshold: 0,
              lowerThreshold: 0,
            },
            {
              family: 'ipv4',
              address: '192.168.1.195',
              port: 80,
              forward: 'dr',
              weight: 1,
              upperThreshold: 0,
              lowerThreshold: 0,
            },
          ],
        },
      ],
    });
  });

  test.each(single)('%s prints and loads back to the same state', async (file) => {
    const r = await loadConfig(file);
    if (!r.ok) return expect.fail(r.errors.map(String).join('\n'));
    const again = loadConfigTexts([{ file: 'printed.yaml', text: printConfig(r.state) }]);
    expect(again.ok && again.state).toStrictEqual(r.state);
  });

  test('every example points editors at the schema with a path that exists', () => {
    const files = [
      ...single,
      join(layout, 'lvsd.yaml'),
      ...readdirSync(join(layout, 'conf.d')).map((n) => join(layout, 'conf.d', n)),
    ];
    for (const file of files) {
      const m = /^# yaml-language-server: \$schema=(\S+)$/m.exec(readFileSync(file, 'utf8'));
      expect(m, file).not.toBeNull();
      expect(() => readFileSync(join(file, '..', m![1]!)), file).not.toThrow();
    }
  });
});
