/**
 * The IPVS client `/metrics` reads counters with: a socket of its own, so a
 * scrape never collides with a reconcile's dump, opened once however many
 * scrapes arrive together, and closed when the daemon stops. Scrapes that
 * arrive while a read is under way share it: a netlink socket runs one dump
 * at a time (the kernel answers a second with EBUSY).
 */
import type { IpvsClient } from '../ipvs/client.js';
import type { LiveState } from '../model/types.js';
import { TIMED_OUT, within } from '../timers.js';

/** How long a scrape's read of the table may take before its socket is given up (ms). */
export const STATS_READ_TIMEOUT_MS = 10_000;

export interface SharedClient {
  /** The client, opened on first use; a failed open is tried again next time. */
  get(): Promise<IpvsClient>;
  /** Forgets `client` (its socket failed): the next get opens a new one. */
  drop(client: IpvsClient): void;
  /** Closes the client, also one still being opened; get fails from now on. */
  close(): void;
  /**
   * The table with its counters, read by the client; callers that come while
   * a read is under way get that read. A read that fails or takes longer than
   * `timeoutMs` drops the client.
   */
  readTable(timeoutMs?: number): Promise<LiveState>;
}

export function sharedClient(open: () => Promise<IpvsClient>): SharedClient {
  let pending: Promise<IpvsClient> | undefined;
  /** The client once opened, until dropped or closed. */
  let opened: IpvsClient | undefined;
  let closed = false;
  let reading: Promise<LiveState> | undefined;
  const closeQuietly = (c: IpvsClient) => {
    try {
      c.close();
    } catch {
      // Closing a broken socket may fail: it is gone either way.
    }
  };
  const shared: SharedClient = {
    readTable(timeoutMs = STATS_READ_TIMEOUT_MS) {
      reading ??= (async () => {
        const c = await shared.get();
        try {
          const live = await within(c.readTable(), timeoutMs);
          if (live === TIMED_OUT) throw new Error(`no answer from IPVS within ${timeoutMs} ms`);
          return live;
        } catch (e) {
          shared.drop(c); // its socket may be broken or stuck: the next scrape opens another
          throw e;
        }
      })().finally(() => {
        reading = undefined;
      });
      return reading;
    },
    get() {
      if (closed) return Promise.reject(new Error('the daemon is stopping'));
      // The promise is memoized, not the client: twenty scrapes at once share one open.
      pending ??= open().then(
        (c) => {
          if (closed) closeQuietly(c);
          else opened = c;
          return c;
        },
        (e: unknown) => {
          pending = undefined;
          throw e;
        },
      );
      return pending;
    },
    drop(client) {
      if (opened !== client) return;
      opened = undefined;
      pending = undefined;
      closeQuietly(client);
    },
    close() {
      closed = true;
      pending = undefined;
      if (opened) closeQuietly(opened);
      opened = undefined;
    },
  };
  return shared;
}
