/**
 * `lvsd run --peer URL`: every interval, this director's flow table is
 * compared with each peer's, into the lvsd_peer_* metrics. A peer that does
 * not answer, answers slowly, too much or nonsense is a metric and one log
 * line when its state changes: never a failure of the daemon.
 */
import type { Logger } from '../log.js';
import { isLvsdError } from '../errors.js';
import { compareTables, formatDifference, type FlowTable } from '../peers/table.js';
import type { Metrics } from './metrics.js';

export interface PeerMonitorOptions {
  peers: readonly URL[];
  /** This director's table, read now. */
  readLocal: () => Promise<FlowTable>;
  /** A peer's table (bounded in time and size: peers/fetch.ts). */
  fetchPeer: (url: URL) => Promise<FlowTable>;
  metrics: Metrics;
  log: Logger;
}

/** What a peer was at its last check, so that only changes are logged. */
type PeerState = 'agrees' | 'differs' | 'unreachable';

export class PeerMonitor {
  private readonly states = new Map<string, PeerState>();
  private running: Promise<void> | undefined;

  constructor(private readonly opts: PeerMonitorOptions) {}

  /** One round over every peer; a round still running is joined, not doubled. Never rejects. */
  check(): Promise<void> {
    this.running ??= this.round().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async round(): Promise<void> {
    const { opts } = this;
    let here: FlowTable;
    try {
      here = await opts.readLocal();
    } catch (e) {
      // Without our own table there is nothing to compare: the last figures stay until the next round.
      opts.log.warn({ event: 'peer_local_table_error' }, e instanceof Error ? e.message : String(e));
      return;
    }
    await Promise.all(opts.peers.map((url) => this.checkPeer(url, here)));
  }

  private async checkPeer(url: URL, here: FlowTable): Promise<void> {
    const { metrics, log } = this.opts;
    const peer = url.href;
    try {
      const differences = compareTables(here, await this.opts.fetchPeer(url));
      metrics.peerReachable.set({ peer }, 1);
      metrics.peerAgrees.set({ peer }, differences.length === 0 ? 1 : 0);
      metrics.peerDifferences.set({ peer }, differences.length);
      const state: PeerState = differences.length === 0 ? 'agrees' : 'differs';
      if (this.states.get(peer) !== state) {
        const detail = { event: 'peer_table', peer, differences: differences.slice(0, 20).map(formatDifference) };
        if (state === 'agrees') log.info(detail, 'peer director agrees');
        else log.warn(detail, `peer director's table differs: ${differences.length} differences (lvsd peers ${peer})`);
      }
      this.states.set(peer, state);
    } catch (e) {
      metrics.peerReachable.set({ peer }, 0);
      metrics.peerAgrees.remove({ peer });
      metrics.peerDifferences.remove({ peer });
      if (this.states.get(peer) !== 'unreachable') {
        const code = isLvsdError(e) ? e.code : 'PEER_UNREACHABLE';
        log.warn({ event: 'peer_unreachable', peer, code }, e instanceof Error ? e.message : String(e));
      }
      this.states.set(peer, 'unreachable');
    }
  }
}
