// `lvsd peers --from URL URL...`: the whole command without a kernel, against tables served on 127.0.0.1.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { peersCommand } from '../../../src/cli/commands/peers.js';
import type { FlowTable } from '../../../src/peers/table.js';

const servers: Server[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    s.close();
  }
});

function table(order: string[]): FlowTable {
  return {
    version: 1,
    sysctls: { sloppy_tcp: '1', sloppy_sctp: '0' },
    services: [
      {
        key: 'tcp/198.51.100.1:80',
        scheduler: 'mh',
        flags: ['mh-port'],
        one_packet: false,
        realservers: order.map((key) => ({ key, forward: 'dr', weight: 1, upper_threshold: 0, lower_threshold: 0 })),
      },
    ],
  };
}

async function serve(body: string): Promise<string> {
  const s = createServer((_q, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(body));
  servers.push(s);
  await new Promise<void>((res) => s.listen(0, '127.0.0.1', res));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

/** Runs the command; returns its exit code and what it wrote. */
async function peers(values: Record<string, string | boolean>, urls: string[]) {
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((stdout += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((stderr += String(s)), true));
  const code = await peersCommand.run(values, urls);
  vi.restoreAllMocks();
  return { code, stdout, stderr };
}

const A = '192.0.2.11:80';
const B = '192.0.2.12:80';

describe('lvsd peers', () => {
  test('exit 0 when every peer agrees, 2 when one differs, naming the service and both orders', async () => {
    const here = await serve(JSON.stringify(table([A, B])));
    const same = await serve(JSON.stringify(table([A, B])));
    const other = await serve(JSON.stringify(table([B, A])));
    expect(await peers({ from: here }, [same])).toEqual({ code: 0, stdout: `${same}/v1/table: agrees\n`, stderr: '' });
    const r = await peers({ from: here }, [same, other]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe(
      `${same}/v1/table: agrees\n${other}/v1/table: 1 difference\n` +
        `  service tcp/198.51.100.1:80: real-server order: here ${A}, ${B}; there ${B}, ${A}\n`,
    );
  });

  test('exit 1 naming a peer that answers nonsense; the others are still compared', async () => {
    const here = await serve(JSON.stringify(table([A, B])));
    const junk = await serve('{"version": 7}');
    const same = await serve(JSON.stringify(table([A, B])));
    const r = await peers({ from: here, json: true }, [junk, same]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual({
      peers: [
        {
          url: `${junk}/v1/table`,
          error: { code: 'PEER_ANSWER', message: `${junk}/v1/table: the answer is not an lvsd table (version 1)` },
        },
        { url: `${same}/v1/table`, agrees: true, differences: [] },
      ],
    });
  });

  test.each<[string, Record<string, string>, string[]]>([
    ['no peer', {}, []],
    ['a timeout of 0', { timeout: '0' }, ['http://192.0.2.2:9588']],
    ['a peer that is not a URL', {}, ['192.0.2.2:9588']],
  ])('%s is a usage error', async (_name, values, urls) => {
    await expect(peersCommand.run(values, urls)).rejects.toMatchObject({ code: 'CLI_USAGE' });
  });
});
