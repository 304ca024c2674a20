/**
 * `lvsd import`: a config for the live table, or for the text of
 * `ipvsadm -Sn`, so a director set up by a shell script migrates in one step.
 * It exits 1, printing nothing on stdout, when the table is empty (unless
 * --allow-empty) or makes a config `lvsd validate` would reject.
 */
import { readFile } from 'node:fs/promises';
import { importConfig } from '../../config/import.js';
import { parseIpvsadmSave } from '../../config/ipvsadm-text.js';
import { LvsdError } from '../../errors.js';
import { type Command, stringOpt, withIpvs } from '../command.js';
import { sortServices } from '../format-table.js';

export const importCommand: Command = {
  options: {
    'from-ipvsadm': { type: 'string' },
    'allow-empty': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
  async run(values) {
    const from = stringOpt(values, 'from-ipvsadm');
    const allowEmpty = values['allow-empty'] === true;
    if (from === undefined) {
      const live = await withIpvs((client) => client.readTable());
      const table = { services: sortServices(live.services), timeouts: live.timeouts };
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

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
