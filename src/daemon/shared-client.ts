/**
 * The IPVS client `/metrics` reads counters with: a socket of its own, so a
 * scrape never collides with a reconcile's dump, opened once however many
 * scrapes arrive together, and closed when the daemon stops.
 */
import type { IpvsClient } from '../ipvs/client.js';

export interface SharedClient {
  /** The client, opened on first use; a failed open is tried again next time. */
  get(): Promise<IpvsClient>;
  /** Forgets `client` (its socket failed): the next get opens a new one. */
  drop(client: IpvsClient): void;
  /** Closes the client, also one still being opened; get fails from now on. */
  close(): void;
}

export function sharedClient(open: () => Promise<IpvsClient>): SharedClient {
  let pending: Promise<IpvsClient> | undefined;
  /** The client once opened, until dropped or closed. */
  let opened: IpvsClient | undefined;
  let closed = false;
  const closeQuietly = (c: IpvsClient) => {
    try {
      c.close();
    } catch {
      // Closing a broken socket may fail: it is gone either way.
    }
  };
  return {
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
}
