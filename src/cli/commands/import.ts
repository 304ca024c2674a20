/**
 * `lvsd import`: a config for the live table, for the text of `ipvsadm -Sn`,
 * or for a keepalived.conf or ldirectord.cf, so a director migrates in one
 * step. It exits 1, printing nothing on stdout, when the table is empty
 * (unless --allow-empty) or makes a config `lvsd validate` would reject. From
 * keepalived or ldirectord it exits 3 (EXIT_OMISSIONS) when it printed a
 * config but left directives out: each is reported on stderr at FILE:LINE.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { importConfig } from '../../config/import.js';
import { parseIpvsadmSave } from '../../config/ipvsadm-text.js';
import type { ConfigFiles } from '../../config/keepalived/glob.js';
import type { Migration } from '../../config/migration.js';
import { EXIT_OMISSIONS, formatReport, printMigration } from '../../config/migration.js';
import { LvsdError } from '../../errors.js';
import { type Command, type OptionValues, stringOpt, withIpvs } from '../command.js';
import { sortServices } from '../format-table.js';

export const importCommand: Command = {
  options: {
    'from-ipvsadm': { type: 'string' },
    'from-keepalived': { type: 'string' },
    'from-ldirectord': { type: 'string' },
    'config-id': { type: 'string' },
    'vrrp-config': { type: 'string' },
    'allow-empty': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
  async run(values) {
    const sources = ['from-ipvsadm', 'from-keepalived', 'from-ldirectord'].filter((k) => values[k] !== undefined);
    if (sources.length > 1) throw new LvsdError('CLI_USAGE', `import: give one of --${sources.join(', --')}`);
    if (values['vrrp-config'] !== undefined && values['from-keepalived'] === undefined) {
      throw new LvsdError('CLI_USAGE', 'import: --vrrp-config goes with --from-keepalived');
    }
    const allowEmpty = values['allow-empty'] === true;
    if (values['from-keepalived'] !== undefined || values['from-ldirectord'] !== undefined) {
      return await fromOtherTool(values, allowEmpty);
    }
    const from = stringOpt(values, 'from-ipvsadm');
    if (from === undefined) {
      const live = await withIpvs((client) => client.readTable());
      const table = { services: sortServices(live.services), timeouts: live.timeouts, sync: live.syncDaemons ?? [] };
      process.stdout.write(importConfig(table, { source: { kind: 'live' }, allowEmpty }));
      return 0;
    }
    const name = from === '-' ? 'standard input' : from;
    let text: string;
    try {
      text = from === '-' ? await readStdin() : await readFile(from, 'utf8');
    } catch (e) {
      throw new LvsdError('CONFIG_READ', `cannot read ${name}: ${(e as Error).message}`, { cause: e });
    }
    process.stdout.write(importConfig(parseIpvsadmSave(text), { source: { kind: 'ipvsadm', name }, allowEmpty }));
    return 0;
  },
};

/** --from-keepalived / --from-ldirectord: the config on stdout, each report on stderr; 0, or 3 with omissions. */
async function fromOtherTool(values: OptionValues, allowEmpty: boolean): Promise<number> {
  const keepalived = stringOpt(values, 'from-keepalived');
  const path = keepalived ?? stringOpt(values, 'from-ldirectord')!;
  if (!existsSync(path)) throw new LvsdError('CONFIG_READ', `cannot read ${path}: no such file`);
  let migration: Migration;
  let header: string[];
  let afterPrint: (() => Promise<void>) | undefined;
  if (keepalived !== undefined) {
    const { convertKeepalived } = await import('../../config/keepalived/convert.js');
    // keepalived's default config id: the node name up to its first dot.
    const configId = stringOpt(values, 'config-id') ?? hostname().split('.')[0]!;
    migration = convertKeepalived(path, nodeFiles, { configId });
    header = [`lvsd configuration imported from ${path} (keepalived, config id ${configId})`];
    const vrrpOut = stringOpt(values, 'vrrp-config');
    if (vrrpOut !== undefined) afterPrint = () => writeVrrpConfig(path, vrrpOut, configId);
  } else {
    const { convertLdirectord } = await import('../../config/ldirectord/convert.js');
    migration = convertLdirectord(path, nodeFiles.read(path));
    header = [`lvsd configuration imported from ${path} (ldirectord)`];
  }
  const omitted = migration.reports.filter((r) => r.severity === 'omitted').length;
  if (omitted > 0) header.push(`${omitted} directive(s) not converted: see what lvsd import printed on stderr`);
  // Reports first: when the converted config is refused, they often say why.
  for (const r of migration.reports) process.stderr.write(`${formatReport(r)}\n`);
  const text = printMigration(migration, [...header, 'format reference: docs/config.md'], path, allowEmpty);
  // The VRRP-only keepalived.conf only once the lvsd config it pairs with is printed.
  await afterPrint?.();
  process.stdout.write(text);
  return omitted > 0 ? EXIT_OMISSIONS : 0;
}

/** --vrrp-config FILE: the keepalived.conf without virtual servers that keeps VRRP beside lvsd. */
async function writeVrrpConfig(path: string, out: string, configId: string): Promise<void> {
  const { vrrpOnlyConfig } = await import('../../config/keepalived/vrrp-only.js');
  try {
    writeFileSync(out, vrrpOnlyConfig(path, nodeFiles, configId), { flag: 'wx' });
  } catch (e) {
    if (e instanceof LvsdError) throw e;
    throw new LvsdError('IMPORT_WRITE', `cannot write ${out}: ${(e as Error).message}`, { cause: e });
  }
}

/** The files an import reads, from node:fs. */
const nodeFiles: ConfigFiles = {
  read(path) {
    try {
      return readFileSync(path, 'utf8');
    } catch (e) {
      throw new LvsdError('CONFIG_READ', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
    }
  },
  list: (dir) => readdirSync(dir),
  exists: (path) => existsSync(path),
};

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
