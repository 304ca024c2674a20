import { describe, expect, test } from 'vitest';
import { sharedClient } from '../../../src/daemon/shared-client.js';
import { FakeIpvs } from '../fake-ipvs.js';

/** An opener that counts opens and closes, resolving after a turn of the event loop like a socket would. */
function countingOpener(failFirst = 0) {
  const c = { opens: 0, closes: 0, failures: failFirst };
  const open = async () => {
    c.opens++;
    await new Promise((res) => setTimeout(res, 5));
    if (c.failures-- > 0) throw new Error('ip_vs not loaded');
    const client = new FakeIpvs();
    client.close = () => {
      c.closes++;
    };
    return client;
  };
  return { c, open };
}

describe('the /metrics IPVS client', () => {
  test('20 scrapes at once open one client; stop closes it', async () => {
    const { c, open } = countingOpener();
    const shared = sharedClient(open);
    const clients = await Promise.all(Array.from({ length: 20 }, () => shared.get()));
    expect(new Set(clients).size).toBe(1);
    expect(c.opens).toBe(1);
    shared.close();
    expect(c.closes).toBe(1);
    await expect(shared.get()).rejects.toThrow(/stopping/);
  });

  test('a failed open is tried again by the next scrape; a dropped client is replaced', async () => {
    const { c, open } = countingOpener(1);
    const shared = sharedClient(open);
    await expect(shared.get()).rejects.toThrow(/ip_vs/);
    const first = await shared.get();
    expect(c.opens).toBe(2);
    shared.drop(first);
    expect(c.closes).toBe(1);
    expect(await shared.get()).not.toBe(first);
    expect(c.opens).toBe(3);
  });

  test('a client still being opened when the daemon stops is closed when it arrives', async () => {
    const { c, open } = countingOpener();
    const shared = sharedClient(open);
    const pending = shared.get();
    shared.close();
    await pending;
    expect(c.closes).toBe(1);
  });

  test('scrapes during a read share it: one dump at a time per socket', async () => {
    const { c, open } = countingOpener();
    let reads = 0;
    const shared = sharedClient(async () => {
      const client = await open();
      client.readTable = async () => {
        reads++;
        await new Promise((res) => setTimeout(res, 20));
        return { services: [], timeouts: { tcp: 1, tcpFin: 2, udp: 3 } };
      };
      return client;
    });
    const tables = await Promise.all(Array.from({ length: 20 }, () => shared.readTable()));
    expect(new Set(tables).size).toBe(1);
    expect(reads).toBe(1);
    await shared.readTable();
    expect(reads).toBe(2);
    expect(c.opens).toBe(1);
  });

  test('a read that does not answer in time drops its socket; the next scrape opens another', async () => {
    const { c, open } = countingOpener();
    let hang = true;
    const shared = sharedClient(async () => {
      const client = await open();
      const read = client.readTable.bind(client);
      client.readTable = () => (hang ? new Promise(() => {}) : read());
      return client;
    });
    await expect(shared.readTable(50)).rejects.toThrow(/no answer from IPVS within 50 ms/);
    expect(c.closes).toBe(1);
    hang = false;
    await expect(shared.readTable(50)).resolves.toMatchObject({ services: [] });
    expect(c.opens).toBe(2);
  });
});
