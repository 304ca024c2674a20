import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { fetchPeerTable, peerTableUrl } from '../../../src/peers/fetch.js';

const TABLE = { version: 1, sysctls: { sloppy_tcp: '1', sloppy_sctp: '0' }, services: [] };

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    s.close();
  }
});

/** A peer on 127.0.0.1 answering with `handler`; resolves with its base URL. */
async function peer(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const s = createServer(handler);
  servers.push(s);
  await new Promise<void>((res) => s.listen(0, '127.0.0.1', res));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

describe('peerTableUrl', () => {
  test('a bare address gets the table path; a full URL is kept; other schemes are refused', () => {
    expect(peerTableUrl('http://192.0.2.2:9588').href).toBe('http://192.0.2.2:9588/v1/table');
    expect(peerTableUrl('http://192.0.2.2:9588/other').href).toBe('http://192.0.2.2:9588/other');
    expect(() => peerTableUrl('ftp://192.0.2.2/')).toThrow(expect.objectContaining({ code: 'CLI_USAGE' }));
    expect(() => peerTableUrl('192.0.2.2:9588')).toThrow(expect.objectContaining({ code: 'CLI_USAGE' }));
  });
});

describe('fetchPeerTable', () => {
  test('reads the table from the path', async () => {
    let path = '';
    const base = await peer((req, res) => {
      path = req.url ?? '';
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(TABLE));
    });
    expect(await fetchPeerTable(peerTableUrl(base))).toEqual(TABLE);
    expect(path).toBe('/v1/table');
  });

  test('an answer beyond the size limit is refused, declared or streamed', async () => {
    const big = JSON.stringify({ ...TABLE, pad: 'x'.repeat(5000) });
    const declared = await peer((_q, res) => res.writeHead(200).end(big));
    await expect(fetchPeerTable(peerTableUrl(declared), { maxBytes: 1000 })).rejects.toMatchObject({
      code: 'PEER_ANSWER',
      message: expect.stringContaining('larger than 1000 bytes'),
    });
    const streamed = await peer((_q, res) => {
      res.writeHead(200);
      const chunk = 'x'.repeat(500);
      // Never ends on its own: the reader must stop at the limit.
      const t = setInterval(() => res.write(chunk), 1);
      res.on('close', () => clearInterval(t));
    });
    await expect(fetchPeerTable(peerTableUrl(streamed), { maxBytes: 1000 })).rejects.toMatchObject({
      code: 'PEER_ANSWER',
    });
  });

  test('a peer that does not answer in time, answers 500 or is not there is named as unreachable', async () => {
    const silent = await peer(() => undefined);
    await expect(fetchPeerTable(peerTableUrl(silent), { timeoutMs: 200 })).rejects.toMatchObject({
      code: 'PEER_UNREACHABLE',
      message: `${silent}/v1/table: no answer within 200 ms`,
    });
    const failing = await peer((_q, res) => res.writeHead(503).end('table unavailable'));
    await expect(fetchPeerTable(peerTableUrl(failing))).rejects.toMatchObject({
      code: 'PEER_UNREACHABLE',
      message: `${failing}/v1/table: HTTP 503`,
    });
    const gone = await peer(() => undefined);
    servers.pop()!.close();
    await expect(fetchPeerTable(peerTableUrl(gone))).rejects.toMatchObject({
      code: 'PEER_UNREACHABLE',
      message: `${gone}/v1/table: ECONNREFUSED`,
    });
  });

  test('not JSON, or JSON of another shape, is a bad answer', async () => {
    const html = await peer((_q, res) => res.writeHead(200).end('<html>'));
    await expect(fetchPeerTable(peerTableUrl(html))).rejects.toMatchObject({ code: 'PEER_ANSWER' });
    const other = await peer((_q, res) => res.writeHead(200).end('{"services": 3}'));
    await expect(fetchPeerTable(peerTableUrl(other))).rejects.toMatchObject({ code: 'PEER_ANSWER' });
  });
});
