import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import {
  decodeDest,
  decodeDestReply,
  decodeInfo,
  decodeService,
  decodeServiceReply,
  decodeStats,
  decodeTimeouts,
  encodeDest,
  encodeService,
  encodeTimeouts,
  ipvsMessage,
  type IpvsDest,
  type IpvsService,
} from '../../../src/ipvs/codec.js';
import * as IPVS from '../../../src/ipvs/constants.js';
import {
  fromKernelDest,
  fromKernelService,
  sameLiveRealServer,
  sameLiveService,
  toKernelDest,
  toKernelService,
} from '../../../src/ipvs/map.js';
import * as NL from '../../../src/netlink/constants.js';
import { nested, parseAttrs, parseGenl, parseMessages, u32 } from '../../../src/netlink/wire.js';
import type { LiveRealServer, LiveService, RealServer, Service } from '../../../src/model/types.js';

// Replies captured from the UML test kernel (Linux 6.1) for a table made by ipvsadm:
// regenerate with `node test/kernel/harness.mjs -- node test/kernel/capture-fixtures.mjs`.
const fixtures = JSON.parse(readFileSync(new URL('../../fixtures/kernel-replies.json', import.meta.url), 'utf8')) as {
  info: string;
  config: string;
  services: string[];
  dests: Record<string, string[]>;
  ipvsadmSave: string;
};
const K = { ...NL, ...IPVS };
const attrsOf = (hex: string) => parseGenl(Buffer.from(hex, 'hex')).attrs;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
/** Bytes written as hex groups with comments, for readable golden values. */
const bytes = (s: string) => s.replace(/#.*$/gm, '').replace(/\s+/g, '');

describe('decode: real kernel replies (golden bytes from Linux 6.1)', () => {
  const services = fixtures.services.map((h) => ({ hex: h, svc: decodeService(attrsOf(h)) }));
  const byKey = (pred: (s: IpvsService) => boolean) => {
    const found = services.find((s) => pred(s.svc));
    if (!found) throw new Error('fixture service missing');
    return found;
  };

  test('GET_INFO: version and connection table size', () => {
    expect(decodeInfo(attrsOf(fixtures.info))).toEqual({ version: '1.2.1', connTableSize: 4096 });
  });

  test('GET_CONFIG: tcp, tcp_fin, udp timeouts as ipvsadm --set wrote them', () => {
    expect(decodeTimeouts(attrsOf(fixtures.config))).toEqual({ tcp: 900, tcpFin: 120, udp: 300 });
  });

  test('IPv4 TCP service with persistence and netmask; hashed flag stripped', () => {
    const { svc } = byKey((s) => s.port === 80);
    expect(svc).toMatchObject({
      af: K.AF_INET,
      protocol: K.IPPROTO_TCP,
      addr: '192.0.2.1',
      port: 80,
      fwmark: 0,
      schedName: 'wrr',
      flags: K.IP_VS_SVC_F_PERSISTENT,
      timeout: 600,
      netmask: 0xffffff00,
    });
    expect(svc.stats).toEqual(expect.objectContaining({ conns: 0n, inbytes: 0n }));
    expect(fromKernelService(svc)).toMatchObject({
      family: 'ipv4',
      protocol: 'tcp',
      address: '192.0.2.1',
      port: 80,
      scheduler: 'wrr',
      flags: [],
      onePacket: false,
      persistence: { timeout: 600, netmask: '255.255.255.0' },
    });
  });

  test('IPv6 UDP service with one-packet and both sh flags', () => {
    const { svc } = byKey((s) => s.af === K.AF_INET6 && s.fwmark === 0);
    expect(fromKernelService(svc)).toMatchObject({
      family: 'ipv6',
      protocol: 'udp',
      address: '2001:db8::1',
      port: 53,
      scheduler: 'sh',
      flags: ['sh-fallback', 'sh-port'],
      onePacket: true,
    });
    expect(fromKernelService(svc).persistence).toBeUndefined();
  });

  test('IPv6 fwmark service with prefix-length netmask and the sip persistence engine', () => {
    const { svc } = byKey((s) => s.fwmark === 7);
    expect(svc).toMatchObject({ af: K.AF_INET6, fwmark: 7, netmask: 64, peName: 'sip', timeout: 60 });
    expect(fromKernelService(svc)).toMatchObject({
      family: 'ipv6',
      fwmark: 7,
      scheduler: 'mh',
      flags: ['mh-port'],
      pe: 'sip',
      persistence: { timeout: 60, netmask: '64' },
    });
  });

  test('SCTP service', () => {
    const { svc } = byKey((s) => s.protocol === K.IPPROTO_SCTP);
    expect(fromKernelService(svc)).toMatchObject({
      protocol: 'sctp',
      address: '203.0.113.5',
      port: 3868,
      scheduler: 'lc',
    });
  });

  test('destinations: NAT with thresholds, tunnel gue with port and remcsum, IPv6 DR weight 0', () => {
    const v4 = byKey((s) => s.port === 80);
    const dests = fixtures.dests[v4.hex]!.map((h) => fromKernelDest(decodeDest(attrsOf(h), K.AF_INET)));
    expect(dests).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          family: 'ipv4',
          address: '192.0.2.10',
          port: 8080,
          forward: 'nat',
          weight: 5,
          upperThreshold: 100,
          lowerThreshold: 50,
          activeConnections: 0,
          inactiveConnections: 0,
        }),
        expect.objectContaining({
          family: 'ipv4',
          address: '198.51.100.7',
          port: 80,
          forward: 'tunnel',
          weight: 2,
          tunnel: { type: 'gue', port: 6080, checksum: 'remcsum' },
        }),
      ]),
    );
    expect(dests.find((d) => d.forward === 'nat')!.tunnel).toBeUndefined();
    const v6 = byKey((s) => s.af === K.AF_INET6 && s.fwmark === 0);
    const [d6] = fixtures.dests[v6.hex]!.map((h) => fromKernelDest(decodeDest(attrsOf(h), K.AF_INET6)));
    expect(d6).toMatchObject({ family: 'ipv6', address: '2001:db8::10', port: 53, forward: 'dr', weight: 0 });
  });
});

describe('encode: golden bytes', () => {
  test('NEW_SERVICE, IPv4 TCP, persistent with netmask, sh-port, pe sip', () => {
    const svc: IpvsService = {
      af: K.AF_INET,
      protocol: K.IPPROTO_TCP,
      addr: '192.0.2.1',
      port: 80,
      fwmark: 0,
      schedName: 'sh',
      flags: K.IP_VS_SVC_F_PERSISTENT | K.IP_VS_SVC_F_SCHED2,
      timeout: 300,
      netmask: 0xffffff00,
      peName: 'sip',
    };
    expect(
      hex(
        ipvsMessage({ type: 28, flags: K.NLM_F_REQUEST, seq: 7, pid: 1234 }, K.IPVS_CMD_NEW_SERVICE, [
          encodeService(svc, true),
        ]),
      ),
    ).toBe(
      bytes(`
      70000000 1c00 0100 07000000 d2040000   # nlmsghdr: len 112, type 28 (IPVS), REQUEST, seq 7, pid 1234
      01 01 0000                             # genlmsghdr: NEW_SERVICE, version 1
      5c000180                               # IPVS_CMD_ATTR_SERVICE, nested, len 92
        0600 0100 0200 0000                  # AF = AF_INET (u16)
        0600 0200 0600 0000                  # PROTOCOL = 6 (u16)
        1400 0300 c0000201 000000000000000000000000  # ADDR: union nf_inet_addr, 16 bytes
        0600 0400 0050 0000                  # PORT = 80, network order
        0700 0600 736800 00                  # SCHED_NAME "sh\\0"
        0c00 0700 11000000 ffffffff          # FLAGS {flags: PERSISTENT|SCHED2, mask: ~0}
        0800 0800 2c010000                   # TIMEOUT = 300 (u32)
        0800 0900 ffffff00                   # NETMASK = 255.255.255.0, network order
        0800 0b00 73697000                   # PE_NAME "sip\\0"
    `),
    );
  });

  test('hashed flag is never sent', () => {
    const svc: IpvsService = {
      af: K.AF_INET,
      protocol: K.IPPROTO_UDP,
      addr: '192.0.2.1',
      port: 53,
      fwmark: 0,
      schedName: 'rr',
      flags: K.IP_VS_SVC_F_HASHED | K.IP_VS_SVC_F_ONEPACKET,
      timeout: 0,
      netmask: 0xffffffff,
    };
    const flags = parseAttrs(parseAttrs(encodeService(svc, true)).get(K.IPVS_CMD_ATTR_SERVICE)!).get(
      K.IPVS_SVC_ATTR_FLAGS,
    )!;
    expect(hex(flags)).toBe('04000000ffffffff');
  });

  test('DEL_SERVICE of an IPv6 fwmark service carries identity only', () => {
    expect(hex(encodeService({ af: K.AF_INET6, protocol: 0, addr: '', port: 0, fwmark: 7 }, false))).toBe(
      bytes(`
      14000180                               # IPVS_CMD_ATTR_SERVICE, nested, len 20
        0600 0100 0a00 0000                  # AF = AF_INET6
        0800 0500 07000000                   # FWMARK = 7
    `),
    );
  });

  test('IPv6 netmask is a prefix length in host order', () => {
    const svc: IpvsService = {
      af: K.AF_INET6,
      protocol: K.IPPROTO_TCP,
      addr: '2001:db8::1',
      port: 443,
      fwmark: 0,
      schedName: 'rr',
      flags: K.IP_VS_SVC_F_PERSISTENT,
      timeout: 60,
      netmask: 64,
    };
    const a = parseAttrs(parseAttrs(encodeService(svc, true)).get(K.IPVS_CMD_ATTR_SERVICE)!);
    expect(hex(a.get(K.IPVS_SVC_ATTR_NETMASK)!)).toBe('40000000');
    expect(hex(a.get(K.IPVS_SVC_ATTR_ADDR)!)).toBe('20010db8000000000000000000000001');
    expect(hex(a.get(K.IPVS_SVC_ATTR_PORT)!)).toBe('01bb');
  });

  test('NEW_DEST: tunnel gue with port and csum, thresholds, address family', () => {
    const d: IpvsDest = {
      af: K.AF_INET,
      addr: '198.51.100.7',
      port: 8080,
      fwdMethod: K.IP_VS_CONN_F_TUNNEL,
      weight: 3,
      uThresh: 100,
      lThresh: 50,
      tunType: K.IP_VS_CONN_F_TUNNEL_TYPE_GUE,
      tunPort: 6080,
      tunFlags: K.IP_VS_TUNNEL_ENCAP_FLAG_CSUM,
    };
    expect(hex(encodeDest(d, true))).toBe(
      bytes(`
      60000280                               # IPVS_CMD_ATTR_DEST, nested, len 96
        1400 0100 c6336407 000000000000000000000000  # ADDR 198.51.100.7
        0600 0200 1f90 0000                  # PORT = 8080, network order
        0600 0b00 0200 0000                  # ADDR_FAMILY = AF_INET
        0800 0300 02000000                   # FWD_METHOD = TUNNEL
        0800 0400 03000000                   # WEIGHT = 3
        0800 0500 64000000                   # U_THRESH = 100
        0800 0600 32000000                   # L_THRESH = 50
        0500 0d00 01 000000                  # TUN_TYPE = GUE (u8)
        0600 0e00 17c0 0000                  # TUN_PORT = 6080, network order
        0600 0f00 0100 0000                  # TUN_FLAGS = CSUM
    `),
    );
  });

  test('DEL_DEST carries address, port and family only', () => {
    expect(hex(encodeDest({ af: K.AF_INET6, addr: '2001:db8::10', port: 53 }, false))).toBe(
      bytes(`
      28000280
        1400 0100 20010db8000000000000000000000010
        0600 0200 0035 0000
        0600 0b00 0a00 0000
    `),
    );
  });

  test('SET_CONFIG sends only the timeouts given', () => {
    expect(hex(Buffer.concat(encodeTimeouts({ tcp: 900, udp: 300 })))).toBe(
      bytes(`
      0800 0400 84030000                     # TIMEOUT_TCP = 900
      0800 0600 2c010000                     # TIMEOUT_UDP = 300
    `),
    );
  });
});

describe('round trip: model -> kernel bytes -> model', () => {
  const services: Service[] = [
    { family: 'ipv4', protocol: 'tcp', address: '192.0.2.1', port: 80, scheduler: 'rr', flags: [], onePacket: false },
    {
      family: 'ipv4',
      protocol: 'udp',
      address: '192.0.2.2',
      port: 53,
      scheduler: 'sh',
      flags: ['sh-fallback', 'sh-port'],
      onePacket: true,
      persistence: { timeout: 300, netmask: '255.255.0.0' },
    },
    {
      family: 'ipv6',
      protocol: 'sctp',
      address: '2001:db8::1',
      port: 3868,
      scheduler: 'mh',
      flags: ['mh-fallback'],
      onePacket: false,
      persistence: { timeout: 60, netmask: '48' },
      pe: 'sip',
    },
    { family: 'ipv4', fwmark: 100, scheduler: 'wlc', flags: [], onePacket: false },
    { family: 'ipv6', fwmark: 7, scheduler: 'lblcr', flags: [], onePacket: false },
  ];
  test.each(services)('service %#', (svc) => {
    // Decode what we encoded, as if the kernel had echoed it back (it adds the hashed flag).
    const enc = encodeService(toKernelService(svc), true);
    const dec = decodeService(parseAttrs(enc));
    expect(fromKernelService(dec)).toEqual({ ...svc, realservers: [] });
  });

  const dests: RealServer[] = [
    { family: 'ipv4', address: '192.0.2.10', port: 80, forward: 'dr', weight: 1, upperThreshold: 0, lowerThreshold: 0 },
    {
      family: 'ipv4',
      address: '192.0.2.11',
      port: 8080,
      forward: 'nat',
      weight: 2147483647,
      upperThreshold: 1000,
      lowerThreshold: 10,
    },
    {
      family: 'ipv6',
      address: '2001:db8::abcd',
      port: 443,
      forward: 'tunnel',
      weight: 0,
      upperThreshold: 0,
      lowerThreshold: 0,
      tunnel: { type: 'ipip', port: 0, checksum: 'none' },
    },
    {
      family: 'ipv4',
      address: '203.0.113.9',
      port: 0,
      forward: 'tunnel',
      weight: 5,
      upperThreshold: 0,
      lowerThreshold: 0,
      tunnel: { type: 'gre', port: 0, checksum: 'remcsum' },
    },
    {
      family: 'ipv6',
      address: '2001:db8::9',
      port: 53,
      forward: 'tunnel',
      weight: 5,
      upperThreshold: 0,
      lowerThreshold: 0,
      tunnel: { type: 'gue', port: 6080, checksum: 'csum' },
    },
  ];
  test.each(dests)('real server %#', (rs) => {
    const dec = decodeDest(parseAttrs(encodeDest(toKernelDest(rs), true)), K.AF_INET);
    expect(fromKernelDest(dec)).toEqual({
      ...rs,
      activeConnections: 0,
      inactiveConnections: 0,
      persistentConnections: 0,
    });
  });
});

describe('wire', () => {
  test('parseMessages splits a datagram and rejects truncation', () => {
    const m1 = ipvsMessage({ type: 28, flags: 1, seq: 1, pid: 0 }, K.IPVS_CMD_GET_INFO, []);
    const m2 = ipvsMessage({ type: 28, flags: 1, seq: 2, pid: 0 }, K.IPVS_CMD_GET_CONFIG, []);
    expect(parseMessages(Buffer.concat([m1, m2])).map((m) => m.seq)).toEqual([1, 2]);
    expect(() => parseMessages(Buffer.concat([m1, m2]).subarray(0, 38))).toThrow(/truncated/);
  });
});

describe('decode by offset', () => {
  // A reply payload inside a larger datagram, as the socket delivers it.
  const inside = (payloadHex: string) => {
    const p = Buffer.from(payloadHex, 'hex');
    return { buf: Buffer.concat([Buffer.alloc(36, 0xaa), p, Buffer.alloc(8, 0xbb)]), off: 36, end: 36 + p.length };
  };

  test('IPv4 addresses decode right however many there are (their texts are shared, the table of them bounded)', () => {
    const reply = (addr: string) => {
      const dest = encodeDest(
        {
          af: K.AF_INET,
          addr,
          port: 80,
          fwdMethod: IPVS.IP_VS_CONN_F_DROUTE,
          weight: 1,
          uThresh: 0,
          lThresh: 0,
          tunType: 0,
          tunPort: 0,
          tunFlags: 0,
        },
        true,
      );
      return Buffer.concat([Buffer.alloc(4), dest]);
    };
    // More distinct addresses than the table of texts keeps, each read twice, in two orders.
    const addrs = Array.from({ length: 70_000 }, (_, i) => `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`);
    for (const order of [addrs, [...addrs].reverse()]) {
      for (let i = 0; i < order.length; i += 7) {
        const b = reply(order[i]!);
        expect(decodeDestReply(b, 0, b.length, K.AF_INET).addr).toBe(order[i]);
      }
    }
    for (const addr of ['0.0.0.0', '255.255.255.255', '203.0.113.255', '128.0.0.1']) {
      const b = reply(addr);
      expect(decodeDestReply(b, 0, b.length, K.AF_INET).addr).toBe(addr);
    }
  });

  test('without stats, every captured reply decodes the same but for its traffic counters', () => {
    let withCounters = 0;
    for (const h of fixtures.services) {
      const { buf, off, end } = inside(h);
      const { stats, ...svc } = decodeServiceReply(buf, off, end);
      const bare = decodeServiceReply(buf, off, end, false);
      expect(bare).not.toHaveProperty('stats');
      expect(bare).toEqual(svc);
      if (stats) withCounters++;
      for (const d of fixtures.dests[h]!) {
        const at = inside(d);
        const { stats: dstats, ...dest } = decodeDestReply(at.buf, at.off, at.end, svc.af);
        const bareDest = decodeDestReply(at.buf, at.off, at.end, svc.af, false);
        expect(bareDest).not.toHaveProperty('stats');
        // Connection counts are not traffic counters: drains need them.
        expect(bareDest).toEqual(dest);
        expect(bareDest.activeConns).toBeTypeOf('number');
        if (dstats) withCounters++;
      }
    }
    expect(withCounters).toBeGreaterThan(0);
  });

  test('every captured service and destination decodes as from parsed attributes', () => {
    let dests = 0;
    for (const h of fixtures.services) {
      const { buf, off, end } = inside(h);
      const svc = decodeServiceReply(buf, off, end);
      expect(svc).toEqual(decodeService(attrsOf(h)));
      for (const d of fixtures.dests[h]!) {
        const at = inside(d);
        expect(decodeDestReply(at.buf, at.off, at.end, svc.af)).toEqual(decodeDest(attrsOf(d), svc.af));
        dests++;
      }
    }
    expect(dests).toBe(3);
  });

  test('a reply without its nested attribute, or with a short one, is refused', () => {
    const noDest = Buffer.from('05010000', 'hex');
    expect(() => decodeDestReply(noDest, 0, noDest.length, K.AF_INET)).toThrow(/lacks IPVS_CMD_ATTR_DEST/);
    const shortPort = Buffer.concat([
      Buffer.from('05010000', 'hex'),
      nested(K.IPVS_CMD_ATTR_DEST, [
        encodeDest({ af: K.AF_INET, addr: '192.0.2.1', port: 1 }, false).subarray(4, 24),
        Buffer.from('0500020001000000', 'hex'),
      ]),
    ]);
    expect(() => decodeDestReply(shortPort, 0, shortPort.length, K.AF_INET)).toThrow(/IPVS_DEST_ATTR_PORT of 1 bytes/);
  });

  test('counters: 64-bit values of every size, 32-bit STATS, absent ones', () => {
    const u64 = (type: number, v: bigint) => {
      const b = Buffer.alloc(12);
      b.writeUInt16LE(12, 0);
      b.writeUInt16LE(type, 2);
      if (parseAttrs(u32(1, 1)).get(1)!.readUInt32LE(0) === 1) b.writeBigUInt64LE(v, 4);
      else b.writeBigUInt64BE(v, 4);
      return b;
    };
    const big = [
      0n,
      1n,
      0xffffffffn,
      0x100000000n,
      2n ** 53n - 1n,
      2n ** 53n + 1n,
      2n ** 64n - 1n,
      123456789012345n,
      7n,
      0n,
    ];
    const stats64 = Buffer.concat(big.map((v, i) => u64(i + 1, v)));
    expect(Object.values(decodeStats(stats64, undefined)!)).toEqual(big);
    const stats32 = Buffer.concat([
      u32(K.IPVS_STATS_ATTR_CONNS, 0xffffffff),
      u32(K.IPVS_STATS_ATTR_INPKTS, 5),
      u64(K.IPVS_STATS_ATTR_INBYTES, 2n ** 40n),
    ]);
    expect(decodeStats(undefined, stats32)).toEqual({
      conns: 0xffffffffn,
      inpkts: 5n,
      outpkts: 0n,
      inbytes: 2n ** 40n,
      outbytes: 0n,
      cps: 0n,
      inpps: 0n,
      outpps: 0n,
      inbps: 0n,
      outbps: 0n,
    });
    expect(decodeStats(stats64, stats32)!.outbytes).toBe(2n ** 53n - 1n);
    expect(decodeStats(undefined, undefined)).toBeUndefined();
  });
});

describe('encode: addresses and a failed encode', () => {
  test('IPv4 text is written as by addressToBytes; IPv4-mapped IPv6 too', () => {
    const addrOf = (addr: string, af: number) =>
      parseAttrs(parseAttrs(encodeDest({ af, addr, port: 1 }, false)).get(K.IPVS_CMD_ATTR_DEST)!).get(
        K.IPVS_DEST_ATTR_ADDR,
      )!;
    expect(hex(addrOf('0.0.0.0', K.AF_INET))).toBe('00000000000000000000000000000000');
    expect(hex(addrOf('255.255.255.255', K.AF_INET))).toBe('ffffffff000000000000000000000000');
    expect(hex(addrOf('10.20.30.40', K.AF_INET))).toBe('0a141e28000000000000000000000000');
    expect(hex(addrOf('::ffff:192.0.2.1', K.AF_INET6))).toBe('00000000000000000000ffffc0000201');
  });

  test('text that is not an address throws, and leaves nothing behind for the next encode', () => {
    for (const bad of ['1.2.3', '1.2.3.256', '1.2.3.4.5', '1..2.3', 'a.b.c.d', '']) {
      expect(() => encodeDest({ af: K.AF_INET, addr: bad, port: 1 }, false)).toThrow(TypeError);
    }
    expect(hex(encodeDest({ af: K.AF_INET6, addr: '2001:db8::10', port: 53 }, false))).toBe(
      bytes(`
      28000280 1400 0100 20010db8000000000000000000000010 0600 0200 0035 0000 0600 0b00 0a00 0000
    `),
    );
  });
});

describe('sameLiveRealServer and sameLiveService: what a read may reuse', () => {
  /** Every leaf of a plain object, as paths. */
  const leaves = (o: object, at: string[] = []): string[][] =>
    Object.entries(o).flatMap(([k, v]) =>
      v !== null && typeof v === 'object' && !Array.isArray(v) ? leaves(v as object, [...at, k]) : [[...at, k]],
    );
  /** A deep copy with the leaf at `path` changed. */
  const changed = <T extends object>(o: T, path: string[]): T => {
    const copy = structuredClone(o);
    let parent = copy as Record<string, unknown>;
    for (const k of path.slice(0, -1)) parent = parent[k] as Record<string, unknown>;
    const k = path[path.length - 1]!;
    const v = parent[k];
    parent[k] = Array.isArray(v) ? [...(v as unknown[]), 'x'] : typeof v === 'number' ? v + 1 : `${String(v)}x`;
    return copy;
  };

  test('a real server decoded with every field is the same as its copy, and differs in any one field', () => {
    const dest = decodeDest(
      parseAttrs(
        encodeDest(
          toKernelDest({
            family: 'ipv6',
            address: '2001:db8::9',
            port: 53,
            forward: 'tunnel',
            weight: 5,
            upperThreshold: 10,
            lowerThreshold: 2,
            tunnel: { type: 'gue', port: 6080, checksum: 'csum' },
          }),
          true,
        ),
      ),
      K.AF_INET6,
    );
    const r = { ...fromKernelDest(dest), activeConnections: 1, inactiveConnections: 2, persistentConnections: 3 };
    expect(sameLiveRealServer(r, structuredClone(r))).toBe(true);
    const paths = leaves(r);
    expect(paths.length).toBeGreaterThanOrEqual(13);
    for (const p of paths) expect(sameLiveRealServer(r, changed(r, p)), p.join('.')).toBe(false);
    const withStats = { ...r, stats: { connections: 0n } as unknown as LiveRealServer['stats'] };
    expect(sameLiveRealServer(withStats, withStats)).toBe(false);
  });

  test('a service decoded with every field is the same as its copy, and differs in any one field but its real servers', () => {
    const svc = decodeService(
      parseAttrs(
        encodeService(
          toKernelService({
            family: 'ipv4',
            protocol: 'udp',
            address: '192.0.2.1',
            port: 53,
            scheduler: 'sh',
            flags: ['sh-fallback'],
            onePacket: true,
            persistence: { timeout: 300, netmask: '255.255.255.0' },
            pe: 'sip',
          }),
          true,
        ),
      ),
    );
    const s = fromKernelService(svc);
    delete s.stats;
    expect(sameLiveService(s, { ...structuredClone(s), realservers: [] })).toBe(true);
    const paths = leaves(s).filter((p) => p[0] !== 'realservers');
    expect(paths.length).toBeGreaterThanOrEqual(10);
    for (const p of paths) expect(sameLiveService(s, changed(s, p)), p.join('.')).toBe(false);
    const mark = fromKernelService({ ...svc, fwmark: 7, protocol: 0, addr: '', port: 0 });
    delete mark.stats;
    expect(sameLiveService(mark, { ...mark, fwmark: 8 } as LiveService)).toBe(false);
  });
});
