/** `lvsd show`: the live table as config YAML, JSON with statistics, or ipvsadm-style text. */
import { printConfig } from '../../config/print.js';
import { LvsdError } from '../../errors.js';
import { hostAddressKey, type HostAddress } from '../../model/host.js';
import { type Command, stringOpt, withIpvs } from '../command.js';
import { formatDaemonStatus, formatIpvsadm, formatSyncDaemons, liveToJson, sortServices } from '../format-table.js';

const FORMATS = ['yaml', 'json', 'ipvsadm'] as const;

export const showCommand: Command = {
  options: {
    format: { type: 'string', short: 'f' },
    'status-file': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
  async run(values) {
    const format = stringOpt(values, 'format') ?? 'yaml';
    if (!(FORMATS as readonly string[]).includes(format)) {
      throw new LvsdError('CLI_USAGE', `show: unknown format '${format}' (allowed: ${FORMATS.join(', ')})`);
    }
    const owned = await ownedAddresses();
    const { DEFAULT_STATUS_FILE, readStatus } = await import('../../daemon/status-file.js');
    const daemon = await readStatus(stringOpt(values, 'status-file') ?? DEFAULT_STATUS_FILE);
    const out = await withIpvs(async (client) => {
      const live = await client.readTable();
      if (format === 'json')
        return (
          JSON.stringify(
            {
              ...(liveToJson(live) as object),
              addresses: owned.map((a) => ({ key: hostAddressKey(a), ...a })),
              ...(daemon ? { daemon } : {}),
            },
            null,
            2,
          ) + '\n'
        );
      const note =
        (owned.length ? `# addresses lvsd added: ${owned.map(hostAddressKey).join(', ')}\n` : '') +
        (daemon ? formatDaemonStatus(daemon) : '');
      if (format === 'ipvsadm') {
        const info = await client.info();
        return formatIpvsadm(live, info.version, info.connTableSize) + formatSyncDaemons(live.syncDaemons ?? []) + note;
      }
      return (
        printConfig({ services: sortServices(live.services), timeouts: live.timeouts, sync: live.syncDaemons ?? [] }) +
        note
      );
    });
    process.stdout.write(out);
    return 0;
  },
};

/** The addresses lvsd bound on this host (its mark), without the `owned` flag. */
async function ownedAddresses(): Promise<HostAddress[]> {
  const { openHost } = await import('../../host/netlink-host.js');
  const host = openHost();
  try {
    return (await host.addresses()).filter((a) => a.owned).map(({ owned: _o, ...a }) => a);
  } finally {
    host.close();
  }
}
