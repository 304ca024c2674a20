/** `lvsd peers URL...`: do other directors' tables send every flow where this one does? */
import { parseDuration } from '../../config/duration.js';
import { LvsdError, isLvsdError } from '../../errors.js';
import { fetchPeerTable, peerTableUrl, readLocalTable } from '../../peers/fetch.js';
import { compareTables, type FlowTable, formatDifference, type TableDifference } from '../../peers/table.js';
import { type Command, stringOpt, withIpvs } from '../command.js';

/** Exit codes of `lvsd peers`. */
export const PEERS_AGREE = 0;
export const PEERS_DIFFER = 2;

interface PeerOutcome {
  url: string;
  differences?: TableDifference[];
  error?: LvsdError;
}

export const peersCommand: Command = {
  options: {
    from: { type: 'string' },
    timeout: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
  positionals: true,
  async run(values, positionals = []) {
    if (positionals.length === 0) throw new LvsdError('CLI_USAGE', 'peers: name at least one peer URL');
    const urls = positionals.map(peerTableUrl);
    const timeoutText = stringOpt(values, 'timeout') ?? '5s';
    const seconds = parseDuration(timeoutText);
    if (seconds === undefined || seconds <= 0 || seconds > 600) {
      throw new LvsdError('CLI_USAGE', `peers: --timeout ${timeoutText}: expected a duration from 1s to 10m`);
    }
    const limits = { timeoutMs: seconds * 1000 };
    const from = stringOpt(values, 'from');
    const here: FlowTable = from ? await fetchPeerTable(peerTableUrl(from), limits) : await localTable();
    const outcomes = await Promise.all(
      urls.map(async (url): Promise<PeerOutcome> => {
        try {
          return { url: url.href, differences: compareTables(here, await fetchPeerTable(url, limits)) };
        } catch (e) {
          if (!isLvsdError(e)) throw e;
          return { url: url.href, error: e };
        }
      }),
    );
    if (values['json']) process.stdout.write(JSON.stringify({ peers: outcomes.map(outcomeJson) }, null, 2) + '\n');
    else printText(outcomes);
    if (outcomes.some((o) => o.error)) return 1;
    return outcomes.some((o) => o.differences!.length > 0) ? PEERS_DIFFER : PEERS_AGREE;
  },
};

/** This director's table: the kernel's IPVS table and the flow sysctls. */
async function localTable(): Promise<FlowTable> {
  const { openHost } = await import('../../host/netlink-host.js');
  return withIpvs(async (ipvs) => {
    const host = openHost();
    try {
      return await readLocalTable(ipvs, host);
    } finally {
      host.close();
    }
  });
}

function printText(outcomes: readonly PeerOutcome[]): void {
  for (const o of outcomes) {
    if (o.error) {
      process.stderr.write(`lvsd: ${o.error.code}: ${o.error.message}\n`);
      continue;
    }
    const n = o.differences!.length;
    process.stdout.write(`${o.url}: ${n === 0 ? 'agrees' : `${n} difference${n === 1 ? '' : 's'}`}\n`);
    for (const d of o.differences!) process.stdout.write(`  ${formatDifference(d)}\n`);
  }
}

function outcomeJson(o: PeerOutcome): unknown {
  if (o.error) return { url: o.url, error: { code: o.error.code, message: o.error.message } };
  return { url: o.url, agrees: o.differences!.length === 0, differences: o.differences };
}
