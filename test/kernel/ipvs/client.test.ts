// The IPVS client against the real kernel, cross-checked both ways with
// Debian's ipvsadm: what lvsd writes, ipvsadm reads back exactly; what
// ipvsadm writes, lvsd reads back exactly.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import type { IpvsClient } from '../../../src/ipvs/client.js';
import type { IpvsOp } from '../../../src/model/ops.js';
import { openIpvs } from '../../../src/ipvs/netlink-client.js';
import type { RealServer, Service, ServiceEntry } from '../../../src/model/types.js';
import { GUEST_MODPROBE, flushIpvs, ipvsListing, requireKernel, sortedLines } from '../helpers.js';

const ipvsadm = (...args: string[]): string => execFileSync('ipvsadm', args, { encoding: 'utf8' });
const restore = (text: string): void => {
  execFileSync('ipvsadm', ['-R'], { input: text });
};
const listing = (flag: string): string[] => ipvsListing(ipvsadm('-Ln', flag));

const rs = (address: string, port: number, extra: Partial<RealServer> = {}): RealServer => ({
  family: address.includes(':') ? 'ipv6' : 'ipv4',
  address,
  port,
  forward: 'dr',
  weight: 1,
  upperThreshold: 0,
  lowerThreshold: 0,
  ...extra,
});

// One table exercising every attribute the client handles.
const TABLE: ServiceEntry[] = [
  {
    family: 'ipv4',
    protocol: 'tcp',
    address: '192.0.2.1',
    port: 80,
    scheduler: 'rr',
    flags: [],
    onePacket: false,
    realservers: [
      rs('192.0.2.10', 80, { weight: 3 }),
      rs('192.0.2.11', 8080, { forward: 'nat', weight: 2, upperThreshold: 100, lowerThreshold: 50 }),
      rs('198.51.100.7', 80, { forward: 'tunnel', tunnel: { type: 'gue', port: 6080, checksum: 'csum' } }),
      rs('198.51.100.8', 80, { forward: 'tunnel', tunnel: { type: 'gre', port: 0, checksum: 'csum' } }),
      rs('198.51.100.9', 80, { forward: 'tunnel', tunnel: { type: 'ipip', port: 0, checksum: 'none' } }),
    ],
  },
  {
    family: 'ipv4',
    protocol: 'tcp',
    address: '192.0.2.2',
    port: 443,
    scheduler: 'sh',
    flags: ['sh-fallback', 'sh-port'],
    onePacket: false,
    persistence: { timeout: 600, netmask: '255.255.255.0' },
    realservers: [rs('192.0.2.20', 443, { weight: 0 })],
  },
  {
    family: 'ipv4',
    protocol: 'udp',
    address: '192.0.2.3',
    port: 53,
    scheduler: 'wlc',
    flags: [],
    onePacket: true,
    persistence: { timeout: 60, netmask: '255.255.255.255' },
    pe: 'sip',
    realservers: [rs('192.0.2.30', 53)],
  },
  {
    family: 'ipv4',
    protocol: 'sctp',
    address: '203.0.113.5',
    port: 3868,
    scheduler: 'lc',
    flags: [],
    onePacket: false,
    realservers: [rs('203.0.113.50', 3868, { forward: 'nat' })],
  },
  {
    family: 'ipv6',
    protocol: 'tcp',
    address: '2001:db8::1',
    port: 80,
    scheduler: 'mh',
    flags: ['mh-port'],
    onePacket: false,
    persistence: { timeout: 300, netmask: '64' },
    realservers: [
      rs('2001:db8::10', 80),
      rs('2001:db8::11', 8080, { forward: 'nat', upperThreshold: 7, lowerThreshold: 3 }),
    ],
  },
  {
    family: 'ipv4',
    fwmark: 100,
    scheduler: 'wrr',
    flags: [],
    onePacket: false,
    realservers: [rs('192.0.2.40', 0, { weight: 5 })],
  },
  {
    family: 'ipv6',
    fwmark: 7,
    scheduler: 'sh',
    flags: ['sh-port'],
    onePacket: false,
    realservers: [rs('2001:db8::20', 0, { forward: 'tunnel', tunnel: { type: 'gue', port: 5555, checksum: 'none' } })],
  },
];

// The same table as ipvsadm -Sn prints it (ipvsadm 1.31).
const TABLE_SAVE = `
-A -t 192.0.2.1:80 -s rr
-a -t 192.0.2.1:80 -r 192.0.2.10:80 -g -w 3
-a -t 192.0.2.1:80 -r 192.0.2.11:8080 -m -w 2
-a -t 192.0.2.1:80 -r 198.51.100.7:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum
-a -t 192.0.2.1:80 -r 198.51.100.8:80 -i -w 1 --tun-type gre --tun-csum
-a -t 192.0.2.1:80 -r 198.51.100.9:80 -i -w 1 --tun-type ipip
-A -t 192.0.2.2:443 -s sh -p 600 -M 255.255.255.0 -b sh-fallback,sh-port
-a -t 192.0.2.2:443 -r 192.0.2.20:443 -g -w 0
-A -u 192.0.2.3:53 -s wlc -p 60 --pe sip -o
-a -u 192.0.2.3:53 -r 192.0.2.30:53 -g -w 1
-A --sctp-service 203.0.113.5:3868 -s lc
-a --sctp-service 203.0.113.5:3868 -r 203.0.113.50:3868 -m -w 1
-A -t [2001:db8::1]:80 -s mh -p 300 -M 64 -b mh-port
-a -t [2001:db8::1]:80 -r [2001:db8::10]:80 -g -w 1
-a -t [2001:db8::1]:80 -r [2001:db8::11]:8080 -m -w 1
-A -f 100 -s wrr
-a -f 100 -r 192.0.2.40:0 -g -w 5
-A -f 7 -6 -s sh -b sh-port
-a -f 7 -6 -r [2001:db8::20]:0 -i -w 1 --tun-type gue --tun-port 5555 --tun-nocsum
`;

const addOps = (table: ServiceEntry[]): IpvsOp[] =>
  table.flatMap(({ realservers, ...service }) => [
    { op: 'add-service' as const, service: service as Service },
    ...realservers.map((realserver) => ({ op: 'add-realserver' as const, service: service as Service, realserver })),
  ]);

/** The live table without counters, sorted, for comparison with TABLE. */
async function readBack(client: IpvsClient): Promise<ServiceEntry[]> {
  const live = await client.readTable();
  return live.services
    .map(({ stats: _s, realservers, ...svc }) => ({
      ...svc,
      realservers: realservers
        .map(({ stats: _r, activeConnections: _a, inactiveConnections: _i, persistentConnections: _p, ...r }) => r)
        .sort((a, b) => a.address.localeCompare(b.address)),
    }))
    .sort(byKey);
}
const byKey = (a: ServiceEntry, b: ServiceEntry) =>
  JSON.stringify([a.fwmark, a.address, a.port]).localeCompare(JSON.stringify([b.fwmark, b.address, b.port]));
const expected = (t: ServiceEntry[]) =>
  t
    .map((s) => ({ ...s, realservers: [...s.realservers].sort((a, b) => a.address.localeCompare(b.address)) }))
    .sort(byKey);

/** A read as plain data, in a stable order. */
const readable = (live: { services: ServiceEntry[] }) => JSON.parse(JSON.stringify(expected(live.services))) as unknown;

let client: IpvsClient;
beforeAll(async () => {
  requireKernel();
  client = await openIpvs();
});
afterAll(() => client?.close());
beforeEach(() => flushIpvs());

describe('lvsd writes, ipvsadm reads', () => {
  test('every attribute: ipvsadm -Sn, --thresholds and --tun-info show exactly the table', async () => {
    const results = await client.execute(addOps(TABLE));
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(sortedLines(ipvsadm('-Sn'))).toEqual(sortedLines(TABLE_SAVE));
    expect(listing('--thresholds')).toEqual(
      expect.arrayContaining([
        'TCP 192.0.2.1:80 | 192.0.2.11:8080 100 50 0 0',
        'TCP [2001:db8::1]:80 | [2001:db8::11]:8080 7 3 0 0',
        'TCP 192.0.2.1:80 | 192.0.2.10:80 0 0 0 0',
      ]),
    );
    const tun = listing('--tun-info');
    // TunnelInfo column: type[:port][:checksum flags]
    expect(tun.find((l) => l.includes('198.51.100.7'))).toMatch(/ Tunnel gue:6080:\+c /);
    expect(tun.find((l) => l.includes('198.51.100.8'))).toMatch(/ Tunnel gre:\+c /);
    expect(tun.find((l) => l.includes('198.51.100.9'))).toMatch(/ Tunnel ipip /);
    expect(tun.find((l) => l.includes('2001:db8::20'))).toMatch(/ Tunnel gue:5555:-c /);
  });

  test('timeouts: set-timeouts changes only the keys given', async () => {
    execFileSync('ipvsadm', ['--set', '900', '120', '300']);
    const [r] = await client.execute([{ op: 'set-timeouts', timeouts: { tcp: 600, udp: 45 } }]);
    expect(r).toEqual({ ok: true });
    expect(ipvsadm('-Ln', '--timeout')).toContain('Timeout (tcp tcpfin udp): 600 120 45');
    expect(await client.timeouts()).toEqual({ tcp: 600, tcpFin: 120, udp: 45 });
    execFileSync('ipvsadm', ['--set', '900', '120', '300']);
  });

  test('edits in place: SET_SERVICE and SET_DEST keep the objects and change the fields', async () => {
    await client.execute(addOps(TABLE.slice(0, 1)));
    const { realservers, ...svc } = TABLE[0]!;
    const results = await client.execute([
      {
        op: 'edit-service',
        service: { ...(svc as Service), scheduler: 'wlc', persistence: { timeout: 120, netmask: '255.255.0.0' } },
      },
      {
        op: 'edit-realserver',
        service: svc as Service,
        realserver: { ...realservers[0]!, weight: 9, forward: 'nat', upperThreshold: 20, lowerThreshold: 10 },
      },
      {
        op: 'edit-realserver',
        service: svc as Service,
        realserver: { ...realservers[2]!, tunnel: { type: 'gue', port: 7000, checksum: 'remcsum' } },
      },
    ]);
    expect(results.every((r) => r.ok)).toBe(true);
    const save = ipvsadm('-Sn');
    expect(save).toContain('-A -t 192.0.2.1:80 -s wlc -p 120 -M 255.255.0.0');
    expect(save).toContain('-a -t 192.0.2.1:80 -r 192.0.2.10:80 -m -w 9');
    expect(save).toContain(
      '-a -t 192.0.2.1:80 -r 198.51.100.7:80 -i -w 1 --tun-type gue --tun-port 7000 --tun-remcsum',
    );
    expect(listing('--thresholds')).toContain('TCP 192.0.2.1:80 | 192.0.2.10:80 20 10 0 0');
    // Removing persistence and scheduler flags is an edit too.
    await client.execute([
      { op: 'edit-service', service: { ...(svc as Service), scheduler: 'rr', persistence: undefined } },
    ]);
    expect(ipvsadm('-Sn')).toContain('-A -t 192.0.2.1:80 -s rr\n');
  });

  test('deletes: a real server, then a service with its real servers', async () => {
    await client.execute(addOps(TABLE));
    const { realservers, ...svc } = TABLE[0]!;
    const results = await client.execute([
      { op: 'delete-realserver', service: svc as Service, realserver: realservers[0]! },
      { op: 'delete-service', service: TABLE[4]! },
      { op: 'delete-service', service: TABLE[6]! },
    ]);
    expect(results.every((r) => r.ok)).toBe(true);
    const save = ipvsadm('-Sn');
    expect(save).not.toContain('192.0.2.10:80');
    expect(save).not.toContain('2001:db8::1');
    expect(save).not.toContain('-f 7');
    expect(save).toContain('-A -f 100 -s wrr');
  });

  test.each(['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh'])(
    'scheduler %s',
    async (scheduler) => {
      const svc: Service = {
        family: 'ipv4',
        protocol: 'tcp',
        address: '192.0.2.9',
        port: 80,
        scheduler,
        flags: [],
        onePacket: false,
      };
      expect(await client.execute([{ op: 'add-service', service: svc }])).toEqual([{ ok: true }]);
      expect(ipvsadm('-Sn')).toContain(`-A -t 192.0.2.9:80 -s ${scheduler}\n`);
      const [live] = await client.services();
      expect(live!.scheduler).toBe(scheduler);
    },
  );
});

describe('ipvsadm writes, lvsd reads', () => {
  test('every attribute of the same table reads back exactly', async () => {
    restore(TABLE_SAVE);
    // -Sn/-R carry no thresholds: set them as a user would, with -e.
    ipvsadm('-e', '-t', '192.0.2.1:80', '-r', '192.0.2.11:8080', '-m', '-w', '2', '-x', '100', '-y', '50');
    ipvsadm('-e', '-t', '[2001:db8::1]:80', '-r', '[2001:db8::11]:8080', '-m', '-w', '1', '-x', '7', '-y', '3');
    expect(await readBack(client)).toEqual(expected(TABLE));
  });

  test('a read given an earlier one hands back the objects that read the same, and new ones for what changed', async () => {
    restore(TABLE_SAVE);
    const first = await client.readTable({ stats: false });
    expect(first.services.flatMap((s) => s.realservers).every((r) => r.stats === undefined)).toBe(true);
    expect(first.services.every((s) => s.stats === undefined)).toBe(true);
    const again = await client.readTable({ stats: false, previous: first });
    expect(again.services.length).toBe(first.services.length);
    for (const s of again.services) expect(first.services).toContain(s);
    // One weight changed behind the reader's back: that real server and its service are new objects, all else is reused.
    ipvsadm('-e', '-t', '192.0.2.1:80', '-r', '192.0.2.10:80', '-g', '-w', '9');
    const third = await client.readTable({ stats: false, previous: again });
    const changed = third.services.find((s) => s.address === '192.0.2.1' && s.port === 80)!;
    expect(again.services).not.toContain(changed);
    const [moved, ...others] = [...changed.realservers].sort((a, b) => a.address.localeCompare(b.address));
    expect(moved).toMatchObject({ address: '192.0.2.10', weight: 9 });
    const before = again.services.find((s) => s.address === '192.0.2.1' && s.port === 80)!.realservers;
    expect(before).not.toContain(moved);
    for (const r of others) expect(before).toContain(r);
    for (const s of third.services) if (s !== changed) expect(again.services).toContain(s);
    expect(readable(third)).toEqual(readable(await client.readTable({ stats: false })));
    // With counters nothing is reused: they change all the time.
    const counted = await client.readTable({ previous: third });
    for (const s of counted.services) expect(third.services).not.toContain(s);
  });

  test('info and timeouts', async () => {
    execFileSync('ipvsadm', ['--set', '901', '121', '301']);
    expect(await client.timeouts()).toEqual({ tcp: 901, tcpFin: 121, udp: 301 });
    expect(await client.info()).toMatchObject({
      version: expect.stringMatching(/^1\.2\.\d+$/),
      connTableSize: expect.any(Number),
    });
    execFileSync('ipvsadm', ['--set', '900', '120', '300']);
  });
});

describe('kernel errors are typed and name the object', () => {
  const svc: Service = {
    family: 'ipv4',
    protocol: 'tcp',
    address: '192.0.2.1',
    port: 80,
    scheduler: 'rr',
    flags: [],
    onePacket: false,
  };
  const dest = rs('192.0.2.10', 80);

  test('duplicate add -> IPVS_EXISTS, for a service and a real server', async () => {
    const r = await client.execute([
      { op: 'add-service', service: svc },
      { op: 'add-service', service: svc },
      { op: 'add-realserver', service: svc, realserver: dest },
      { op: 'add-realserver', service: svc, realserver: dest },
    ]);
    expect(r[0]).toEqual({ ok: true });
    expect(r[1]).toMatchObject({
      ok: false,
      error: { code: 'IPVS_EXISTS', message: expect.stringContaining('add service tcp/192.0.2.1:80') },
    });
    expect(r[3]).toMatchObject({
      ok: false,
      error: { code: 'IPVS_EXISTS', message: expect.stringContaining('192.0.2.10:80') },
    });
  });

  test('deleting or editing what is not there -> IPVS_NOT_FOUND', async () => {
    await client.execute([{ op: 'add-service', service: svc }]);
    const r = await client.execute([
      { op: 'delete-service', service: { ...svc, port: 81 } },
      { op: 'delete-realserver', service: svc, realserver: dest },
      { op: 'edit-realserver', service: svc, realserver: dest },
      { op: 'edit-service', service: { ...svc, port: 82 } },
      { op: 'add-realserver', service: { ...svc, port: 83 }, realserver: dest },
    ]);
    expect(r.map((x) => (x.ok ? 'ok' : x.error.code))).toEqual(Array(5).fill('IPVS_NOT_FOUND'));
  });

  test('unknown scheduler -> IPVS_INVALID with a clear message (twos is not in this kernel)', async () => {
    const [r] = await client.execute([{ op: 'add-service', service: { ...svc, scheduler: 'twos' } }]);
    expect(r).toMatchObject({
      ok: false,
      error: { code: 'IPVS_INVALID', message: expect.stringMatching(/scheduler 'twos' is not available/) },
    });
    expect(ipvsadm('-Sn')).toBe('');
  });

  test('lower threshold above upper -> IPVS_INVALID', async () => {
    await client.execute([{ op: 'add-service', service: svc }]);
    const [r] = await client.execute([
      { op: 'add-realserver', service: svc, realserver: { ...dest, upperThreshold: 5, lowerThreshold: 10 } },
    ]);
    expect(r).toMatchObject({ ok: false, error: { code: 'IPVS_INVALID' } });
  });

  test('a failure in the middle of a batch does not stop the rest', async () => {
    const r = await client.execute([
      { op: 'add-service', service: { ...svc, scheduler: 'twos' } },
      { op: 'add-service', service: { ...svc, port: 81 } },
      { op: 'add-realserver', service: { ...svc, port: 81 }, realserver: dest },
    ]);
    expect(r.map((x) => x.ok)).toEqual([false, true, true]);
    expect(sortedLines(ipvsadm('-Sn'))).toEqual([
      '-A -t 192.0.2.1:81 -s rr',
      '-a -t 192.0.2.1:81 -r 192.0.2.10:80 -g -w 1',
    ]);
  });
});

describe('1,000 services x 10 real servers', () => {
  const N = 1000;
  const big: ServiceEntry[] = Array.from({ length: N }, (_, i) => ({
    family: 'ipv4' as const,
    protocol: 'tcp' as const,
    address: `198.51.100.${1 + (i % 250)}`,
    port: 1000 + Math.floor(i / 250),
    scheduler: 'wrr',
    flags: [],
    onePacket: false,
    // ipvsadm gives DR real servers the service's port, as DR cannot rewrite ports.
    realservers: Array.from({ length: 10 }, (_, j) =>
      rs(`203.0.113.${10 + j}`, 1000 + Math.floor(i / 250), { weight: 1 + j }),
    ),
  }));
  const save =
    big
      .map((s) =>
        [
          `-A -t ${s.address}:${s.port} -s wrr`,
          ...s.realservers.map((r) => `-a -t ${s.address}:${s.port} -r ${r.address}:${r.port} -g -w ${r.weight}`),
        ].join('\n'),
      )
      .join('\n') + '\n';

  test('a table made by ipvsadm -R reads back completely and correctly (multi-part replies)', async () => {
    restore(save);
    expect(await readBack(client)).toEqual(expected(big));
  });

  test('written through the client, then written again: 11,000 IPVS_EXISTS reported, no crash', async () => {
    const ops = addOps(big);
    const first = await client.execute(ops);
    expect(first.filter((r) => !r.ok)).toEqual([]);
    expect(sortedLines(ipvsadm('-Sn'))).toEqual(sortedLines(save));
    const second = await client.execute(ops);
    expect(second).toHaveLength(11_000);
    expect(second.every((r) => !r.ok && r.error.code === 'IPVS_EXISTS')).toBe(true);
    // The socket is still healthy afterwards.
    expect((await client.services()).length).toBe(N);
  });
});

describe('no IPVS in the kernel', () => {
  test('openIpvs -> IPVS_UNAVAILABLE with the modprobe hint', async () => {
    client.close();
    const mods = execFileSync('sh', ['-c', "lsmod | awk '/^ip_vs/ {print $1}'"], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
    execFileSync(GUEST_MODPROBE, ['-r', ...mods.filter((m) => m !== 'ip_vs'), 'ip_vs']);
    // The kernel loads ip_vs on demand when the family is looked up: point its
    // module loader (kernel.modprobe) at /bin/false so it cannot.
    const loader = readFileSync('/proc/sys/kernel/modprobe', 'utf8').trim();
    writeFileSync('/proc/sys/kernel/modprobe', '/bin/false');
    try {
      expect(existsSync('/proc/net/ip_vs')).toBe(false);
      await expect(openIpvs()).rejects.toMatchObject({
        code: 'IPVS_UNAVAILABLE',
        message: expect.stringContaining('modprobe ip_vs'),
      });
    } finally {
      writeFileSync('/proc/sys/kernel/modprobe', loader);
      for (const m of mods) execFileSync(GUEST_MODPROBE, [m]);
      client = await openIpvs();
    }
  });
});
