/**
 * Configs that used to pass `validate` and then fail, or do harm, at run
 * time (issue 12, "every accepted config is safe to run"): each is now an
 * error with its code, at the offending key or value.
 */
import { describe, expect, test } from 'vitest';
import { errorsOf, lines, oneError, posOf, stateOf, withServices } from './helpers.js';

function expectError(text: string, code: string, needle: string, nth = 1) {
  const e = oneError(text);
  expect(e).toMatchObject({ code, pos: { file: 'a.yaml', ...posOf(text, needle, nth) } });
  return e;
}

const service = (...extra: string[]) =>
  withServices('  - vip: 192.0.2.1', '    port: 80', '    realservers: [192.0.2.10]', ...extra);

describe('sysctl keys stay under /proc/sys/net', () => {
  test.each([
    ['net/../../../tmp/x'],
    ['net/ipv4/../../../etc/passwd'],
    ['net/./ipv4/ip_forward'],
    ['net//ipv4/ip_forward'],
    ['net..ipv4.ip_forward'],
    ['net.ipv4.'],
  ])('%s is refused', (key) => {
    const text = lines('version: 1', 'director:', '  sysctl:', `    ${key}: 1`);
    const e = expectError(text, 'CONFIG_HOST', key);
    expect(e.message).toContain('"." or ".." part');
  });

  test('a name that mixes dots and slashes (sysctl(8) writes eth0.100 as eth0/100 in a dotted name) says so', () => {
    const text = lines('version: 1', 'director:', '  sysctl:', '    net.ipv4.conf.eth0/100.rp_filter: 0');
    expect(expectError(text, 'CONFIG_HOST', 'net.').message).toContain('mixes dots and slashes');
  });

  test.each([['kernel.core_pattern'], ['vm/overcommit_memory'], ['net.ipv4'], ['fs.suid_dumpable']])(
    '%s is no network setting',
    (key) => {
      const text = lines('version: 1', 'realserver:', '  vips: [192.0.2.1]', '  sysctl:', `    ${key}: 1`);
      expect(expectError(text, 'CONFIG_HOST', key).message).toContain('net.* sysctls only');
    },
  );

  test('dotted names, and slashes where a part holds a dot (a VLAN interface), are paths under net/', () => {
    const s = stateOf(
      lines(
        'version: 1',
        'director:',
        '  sysctl:',
        '    net.ipv4.vs.conntrack: 1',
        '    net/ipv4/conf/eth0.100/rp_filter: 0',
        '    proc/sys/net/core/somaxconn: 4096',
      ),
    );
    expect(s.host!.sysctls).toEqual([
      { key: 'net/ipv4/vs/conntrack', value: '1' },
      { key: 'net/ipv4/conf/eth0.100/rp_filter', value: '0' },
      { key: 'net/core/somaxconn', value: '4096' },
    ]);
  });
});

describe('durations beyond what the kernel or the timers take', () => {
  test.each([
    ['timeouts.tcp', lines('version: 1', 'timeouts: { tcp: 99999999999999999999s }'), '99999999999999999999s'],
    ['defaults.drain', lines('version: 1', 'defaults: { drain: 1e20 }', 'services: []'), '1e20'],
    ['a persistence timeout', service('    persistence: { timeout: 99999999999999999999s }'), '99999999999999999999s'],
    ['a drain over 2^31-1 ms', service('    drain: 25d'), '25d'],
    ['a drain too large for a safe integer', service('    drain: 1e20'), '1e20'],
  ])('%s is CONFIG_DURATION, not an internal error', (_what, text, needle) => {
    expectError(text, 'CONFIG_DURATION', needle);
  });

  test.each([
    ['an interval over a day (25d fired a check every 1 ms)', '{ type: tcp, interval: 25d }', '25d'],
    [
      'an interval too large for a safe integer (was replaced by 5s)',
      '{ type: tcp, interval: 99999999999999999999s }',
      '9999',
    ],
    ['timeout 0 (meant "no timeout": a hung check froze the health)', '{ type: tcp, timeout: 0 }', '0 }'],
    ['interval 0', '{ type: tcp, interval: 0, timeout: 0s }', '0,'],
  ])('check: %s is CONFIG_CHECK', (_what, check, needle) => {
    const text = service(`    check: ${check}`);
    const errors = errorsOf(text);
    expect(errors[0]).toMatchObject({ code: 'CONFIG_CHECK', pos: posOf(text, needle) });
  });

  test('the limits themselves are fine', () => {
    expect(errorsOf(service('    drain: 2147483', '    check: { type: tcp, interval: 1d, timeout: 1s }'))).toEqual([]);
    expect(errorsOf(lines('version: 1', 'defaults: { drain: 24d }', 'services: []'))).toEqual([]);
  });
});

describe('check text that Node would refuse at run time', () => {
  test.each([
    ['a space in the path', 'http: { path: "/a b" }', '"/a b"'],
    ['non-ASCII in the path', 'http: { path: "/ä" }', '"/ä"'],
    ['CR LF in the path', 'http: { path: "/a\\r\\nX: y" }', '"/a'],
    ['CR LF in the host', 'http: { host: "example.com\\r\\nX: y" }', '"example'],
    ['a space in the host', 'http: { host: "a b" }', '"a b"'],
    ['non-ASCII in the host', 'http: { host: "exämple.com" }', '"exämple'],
    ['a port beyond 65535 in the host', 'http: { host: "example.com:70000" }', '"example'],
  ])('%s', (_what, block, needle) => {
    const text = service(`    check: { type: http, ${block} }`);
    expectError(text, 'CONFIG_CHECK', needle);
  });

  test.each([['example.com'], ['example.com:8080'], ['192.0.2.1'], ['[2001:db8::1]:443'], ['www-1.example.com']])(
    'host %s is fine',
    (host) => {
      expect(errorsOf(service(`    check: { type: https, http: { host: "${host}", path: "/health?x=%20" } }`))).toEqual(
        [],
      );
    },
  );

  test('an exec command must name a program; no argument holds NUL', () => {
    expectError(service('    check: { type: exec, exec: { command: [""] } }'), 'CONFIG_CHECK', '""');
    expectError(service('    check: { type: exec, exec: { command: [/bin/true, "a\\0b"] } }'), 'CONFIG_CHECK', '"a');
    expect(errorsOf(service('    check: { type: exec, exec: { command: [/bin/check, ""] } }'))).toEqual([]);
  });

  test('a real server override is checked too', () => {
    const text = withServices(
      '  - vip: 192.0.2.1',
      '    port: 80',
      '    check: { type: http }',
      '    realservers:',
      '      - { address: 192.0.2.10, check: { http: { path: "/a b" } } }',
    );
    expect(expectError(text, 'CONFIG_CHECK', '"/a b"').message).toMatch(/^real server check: http.path/);
  });
});

describe('addresses IPVS can never serve', () => {
  test.each([
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['127.0.0.1', 'loopback'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['"::"', 'unspecified'],
    ['"::1"', 'loopback'],
    ['"ff02::1"', 'multicast'],
    ['"::ffff:192.0.2.1"', 'IPv4-mapped'],
    ['"fe80::1"', 'link-local'],
  ])('vip %s (%s)', (vip, word) => {
    const text = withServices(`  - vip: ${vip}`, '    port: 80');
    expect(expectError(text, 'CONFIG_ADDRESS', vip).message).toContain(word);
  });

  test('a real server, as a mapping and as a shorthand', () => {
    expectError(
      withServices('  - vip: 192.0.2.1', '    port: 80', '    realservers: [{ address: 127.0.0.1 }]'),
      'CONFIG_ADDRESS',
      '127.0.0.1',
    );
    expectError(
      withServices('  - vip: 2001:db8::1', '    port: 80', '    realservers: ["[ff02::1]:80"]'),
      'CONFIG_ADDRESS',
      '"[ff02',
    );
  });

  test('a sorry server and a real server host VIP', () => {
    expectError(service('    sorry_server: 255.255.255.255'), 'CONFIG_ADDRESS', '255.255.255.255');
    const text = lines('version: 1', 'realserver:', '  vips: [192.0.2.1, 0.0.0.0]');
    expectError(text, 'CONFIG_ADDRESS', '0.0.0.0');
  });

  test('IPv4 link-local and private addresses are fine; ignore rules may name any prefix', () => {
    expect(errorsOf(withServices('  - vip: 169.254.10.1', '    port: 80', '    realservers: [10.0.0.1]'))).toEqual([]);
    expect(
      errorsOf(
        lines('version: 1', 'ignore: [{ vip: 0.0.0.0/0 }, { vip: "::1" }, { vip: 127.0.0.0/8 }]', 'services: []'),
      ),
    ).toEqual([]);
  });
});

describe('sorry servers compared as the kernel sees them', () => {
  test('a sorry server that is a real server in another spelling', () => {
    const text = withServices(
      '  - vip: 2001:db8::1',
      '    port: 80',
      '    realservers: [{ address: 2001:DB8:0::10 }]',
      '    sorry_server: "[2001:db8::10]:80"',
    );
    expectError(text, 'CONFIG_CHECK', '"[2001:db8::10]');
  });

  test('an IPv6 sorry server on an IPv4 service, unless the default forward is tunnel', () => {
    const text = service('    sorry_server: "2001:db8::99"');
    expect(expectError(text, 'CONFIG_FAMILY_MISMATCH', '"2001').message).toContain('only forward: tunnel');
    const tunnel = lines(
      'version: 1',
      'defaults: { forward: tunnel }',
      'services:',
      '  - vip: 192.0.2.1',
      '    port: 80',
      '    realservers: [192.0.2.10]',
      '    sorry_server: "2001:db8::99"',
    );
    expect(errorsOf(tunnel)).toEqual([]);
  });
});

describe('no config makes the loader throw', () => {
  // A valid config with one value replaced, in every place by every value: load returns errors or a
  // state, never an exception (which `lvsd validate` printed as "internal error" and `lvsd run` died on).
  const base = () => ({
    version: 1,
    timeouts: { tcp: '1h', tcp_fin: 120, udp: 300 },
    defaults: { scheduler: 'wlc', forward: 'dr', weight: 1, drain: 0 },
    ignore: [{ vip: '10.96.0.0/12' }, { fwmark: 9 }],
    director: { ip_forward: true, sysctl: { 'net.ipv4.vs.conntrack': 1 } },
    services: [
      {
        vip: '192.0.2.1',
        port: 80,
        protocol: 'tcp',
        scheduler: 'sh',
        flags: ['sh-port'],
        drain: '30s',
        sorry_server: '192.0.2.99',
        persistence: { timeout: 300, netmask: 24 },
        check: { type: 'http', interval: 5, timeout: 2, http: { path: '/', host: 'example.com' } },
        realservers: ['192.0.2.10', { address: '192.0.2.11', port: 80, weight: 1, check: { timeout: 1 } }],
      },
      {
        fwmark: 7,
        family: 'ipv4',
        check: { type: 'exec', exec: { command: ['/bin/true'] } },
        realservers: ['192.0.2.20'],
      },
    ],
  });
  const paths = [
    'timeouts.tcp',
    'timeouts.udp',
    'defaults.drain',
    'defaults.weight',
    'defaults.forward',
    'ignore.0.vip',
    'ignore.1.fwmark',
    'director.sysctl.net.ipv4.vs.conntrack',
    'services.0.vip',
    'services.0.port',
    'services.0.protocol',
    'services.0.drain',
    'services.0.sorry_server',
    'services.0.persistence.timeout',
    'services.0.persistence.netmask',
    'services.0.check.interval',
    'services.0.check.timeout',
    'services.0.check.http.path',
    'services.0.check.http.host',
    'services.0.realservers.0',
    'services.0.realservers.1.address',
    'services.0.realservers.1.port',
    'services.0.realservers.1.weight',
    'services.0.realservers.1.check.timeout',
    'services.1.fwmark',
    'services.1.family',
    'services.1.check.exec.command.0',
  ];
  const values = [
    0,
    -5,
    1,
    65536,
    1e20,
    2 ** 53,
    3.5,
    '',
    'x',
    '99999999999999999999s',
    '25d',
    true,
    null,
    [],
    {},
    '0.0.0.0',
    '2001:DB8::1',
    '::1',
    '[2001:db8::1]:80',
    '192.0.2.10:8080',
    '/a b',
    'net/../x',
  ];
  /** Sets `path` (dots; the sysctl key is the rest after "sysctl.") in `data`. */
  function set(data: Record<string, unknown>, path: string, v: unknown): void {
    const [head, key] = path.includes('sysctl.')
      ? [path.slice(0, path.indexOf('sysctl.') + 6), path.slice(path.indexOf('sysctl.') + 7)]
      : [path, ''];
    const parts = head.split('.');
    if (key) parts.push(key);
    let node = data as Record<string, unknown>;
    for (const p of parts.slice(0, -1)) node = node[p] as Record<string, unknown>;
    node[parts.at(-1)!] = v;
  }

  test('the base config loads', () => {
    expect(errorsOf(JSON.stringify(base()))).toEqual([]);
  });

  test.each(paths)('%s, set to each value', (path) => {
    for (const v of values) {
      const data = base();
      set(data, path, v);
      expect(() => errorsOf(JSON.stringify(data)), `${path}: ${JSON.stringify(v)}`).not.toThrow();
    }
  });
});
