/**
 * `lvsd import`: a config for the live table, or for the text of
 * `ipvsadm -Sn`, so a director set up by a shell script migrates in one step.
 */
import { readFile } from 'node:fs/promises';
import { parseIpvsadmSave } from '../../config/ipvsadm-text.js';
import { printConfig } from '../../config/print.js';
import { LvsdError } from '../../errors.js';
import { type Command, stringOpt, withIpvs } from '../command.js';
import { sortServices } from '../format-table.js';

export const importCommand: Command = {
  options: { 'from-ipvsadm': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  async run(values) {
    const from = stringOpt(values, 'from-ipvsadm');
    if (from === undefined) {
      const live = await withIpvs((client) => client.readTable());
      process.stdout.write(printConfig({ services: sortServices(live.services), timeouts: live.timeouts }));
      return 0;
    }
    let text: string;
    try {
      text = from === '-' ? await readStdin() : await readFile(from, 'utf8');
    } catch (e) {
      throw new LvsdError('CONFIG_READ', `cannot read ${from === '-' ? 'standard input' : from}: ${(e as Error).message}`, { cause: e });
    }
    process.stdout.write(printConfig(parseIpvsadmSave(text)));
    return 0;
  },
};

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
