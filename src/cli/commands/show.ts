/** `lvsd show`: the live table as config YAML, JSON with statistics, or ipvsadm-style text. */
import { printConfig } from '../../config/print.js';
import { LvsdError } from '../../errors.js';
import { type Command, stringOpt, withIpvs } from '../command.js';
import { formatIpvsadm, liveToJson, sortServices } from '../format-table.js';

const FORMATS = ['yaml', 'json', 'ipvsadm'] as const;

export const showCommand: Command = {
  options: { format: { type: 'string', short: 'f' }, help: { type: 'boolean', short: 'h' } },
  async run(values) {
    const format = stringOpt(values, 'format') ?? 'yaml';
    if (!(FORMATS as readonly string[]).includes(format)) {
      throw new LvsdError('CLI_USAGE', `show: unknown format '${format}' (allowed: ${FORMATS.join(', ')})`);
    }
    const out = await withIpvs(async (client) => {
      const live = await client.readTable();
      if (format === 'json') return JSON.stringify(liveToJson(live), null, 2) + '\n';
      if (format === 'ipvsadm') {
        const info = await client.info();
        return formatIpvsadm(live, info.version, info.connTableSize);
      }
      return printConfig({ services: sortServices(live.services), timeouts: live.timeouts });
    });
    process.stdout.write(out);
    return 0;
  },
};
