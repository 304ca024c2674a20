/**
 * The rules a schema cannot express (validate.ts), each with its code and the
 * position of the offending key or value.
 */
import { describe, expect, test } from 'vitest';
import { errorsOf, lines, oneError, posOf, withServices } from './helpers.js';

/** Expects exactly one error, with this code, at the nth `needle` of file a.yaml (or of the given file). */
function expectError(text: string, code: string, needle: string, nth = 1, file = 'a.yaml', ...more: string[]) {
  const texts = file === 'a.yaml' ? [text, ...more] : [...more, text];
  const e = oneError(...texts);
  expect(e).toMatchObject({ code, pos: { file, ...posOf(text, needle, nth) } });
  return e;
}

function expectValid(...texts: string[]) {
  expect(errorsOf(...texts).map(String)).toEqual([]);
}

const svc = (...extra: string[]) => withServices('  - vip: 192.0.2.1', '    port: 80', ...extra);

describe('service identity', () => {
  test('a vip service needs a port', () => {
    const text = withServices('  - vip: 192.0.2.1', '    scheduler: rr');
    const e = expectError(text, 'CONFIG_MISSING', 'vip');
    expect(e.message).toBe('a service with a vip needs a port');
  });

  test('a fwmark service needs a family', () => {
    const e = expectError(withServices('  - fwmark: 7', '    scheduler: sh'), 'CONFIG_MISSING', 'fwmark');
    expect(e.message).toContain('family: ipv4 or ipv6');
  });

  test('a service needs vip or fwmark', () => {
    expectError(withServices('  - name: nothing', '    scheduler: rr'), 'CONFIG_MISSING', 'name');
  });

  test('vip and fwmark together conflict', () => {
    expectError(
      withServices('  - vip: 192.0.2.1', '    port: 80', '    fwmark: 7', '    family: ipv4'),
      'CONFIG_CONFLICT',
      'fwmark',
    );
  });

  test('port and protocol do not go with fwmark', () => {
    const text = withServices('  - fwmark: 7', '    family: ipv4', '    port: 80', '    protocol: udp');
    expect(errorsOf(text)).toMatchObject([
      { code: 'CONFIG_CONFLICT', pos: posOf(text, 'port') },
      { code: 'CONFIG_CONFLICT', pos: posOf(text, 'protocol') },
    ]);
  });

  test('a bad vip', () => {
    const e = expectError(withServices('  - vip: 192.0.2.256', '    port: 80'), 'CONFIG_ADDRESS', '192.0.2.256');
    expect(e.message).toBe('vip "192.0.2.256" is not an IPv4 or IPv6 address');
    expectError(withServices('  - vip: www.example.com', '    port: 80'), 'CONFIG_ADDRESS', 'www');
    expectError(withServices('  - vip: "[2001:db8::1]"', '    port: 80'), 'CONFIG_ADDRESS', '"[2001');
  });

  test('family must fit the vip when given', () => {
    expectError(
      withServices('  - vip: 2001:db8::1', '    port: 80', '    family: ipv4'),
      'CONFIG_FAMILY_MISMATCH',
      'ipv4',
    );
    expectValid(withServices('  - vip: 2001:db8::1', '    port: 80', '    family: ipv6'));
  });

  test('port 0 (every port) needs persistence', () => {
    const e = expectError(withServices('  - vip: 192.0.2.1', '    port: 0'), 'CONFIG_RANGE', '0', 2);
    expect(e.message).toContain('needs persistence');
    expectValid(withServices('  - vip: 192.0.2.1', '    port: 0', '    persistence: {}'));
  });
});

describe('duplicates', () => {
  test('two services with the same protocol, vip and port', () => {
    const text = withServices('  - { vip: 192.0.2.1, port: 80 }', '  - { vip: 192.0.2.1, port: 80, protocol: tcp }');
    const e = expectError(text, 'CONFIG_DUPLICATE_SERVICE', '192.0.2.1', 2);
    expect(e.message).toBe(`service tcp/192.0.2.1:80 is already defined at a.yaml:3:12`);
  });

  test('addresses are compared in canonical form', () => {
    const text = withServices(
      '  - { vip: "2001:DB8::1", port: 53, protocol: udp }',
      '  - { vip: "2001:db8:0:0::0:1", port: 53, protocol: udp }',
    );
    expectError(text, 'CONFIG_DUPLICATE_SERVICE', '"2001:db8:0');
  });

  test('another protocol or port is another service', () => {
    expectValid(
      withServices(
        '  - { vip: 192.0.2.1, port: 80 }',
        '  - { vip: 192.0.2.1, port: 80, protocol: udp }',
        '  - { vip: 192.0.2.1, port: 443 }',
      ),
    );
  });

  test('fwmark services: the same mark and family', () => {
    const text = withServices(
      '  - { fwmark: 7, family: ipv4 }',
      '  - { fwmark: 7, family: ipv6 }',
      '  - { fwmark: 7, family: ipv4 }',
    );
    const e = expectError(text, 'CONFIG_DUPLICATE_SERVICE', '7', 3);
    expect(e.message).toContain('fwmark/7/ipv4');
  });

  test('services are compared across files', () => {
    const a = withServices('  - { vip: 192.0.2.1, port: 80 }');
    const b = withServices('  - { vip: 192.0.2.1, port: 80 }');
    const e = expectError(b, 'CONFIG_DUPLICATE_SERVICE', '192.0.2.1', 1, 'b.yaml', a);
    expect(e.toString()).toBe('b.yaml:3:12: service tcp/192.0.2.1:80 is already defined at a.yaml:3:12');
  });

  test('two services with the same name, across files', () => {
    const a = withServices('  - { name: web, vip: 192.0.2.1, port: 80 }');
    const b = withServices('  - { name: web, vip: 192.0.2.2, port: 80 }');
    const e = expectError(b, 'CONFIG_DUPLICATE_NAME', 'web', 1, 'b.yaml', a);
    expect(e.message).toBe("service name 'web' is already used at a.yaml:3:13");
  });

  test("a name equal to another service's default name", () => {
    const text = withServices(
      '  - { vip: 192.0.2.1, port: 80 }',
      '  - { name: tcp/192.0.2.1:80, vip: 192.0.2.2, port: 80 }',
    );
    expectError(text, 'CONFIG_DUPLICATE_NAME', 'tcp/');
  });

  test('a real server listed twice: shorthand, mapping, default port', () => {
    const text = svc(
      '    realservers:',
      '      - 192.0.2.10',
      '      - { address: 192.0.2.10, port: 80 }',
      '      - 192.0.2.11:80',
      '      - 192.0.2.11',
    );
    expect(errorsOf(text)).toMatchObject([
      { code: 'CONFIG_DUPLICATE_REALSERVER', pos: posOf(text, '192.0.2.10', 2) },
      { code: 'CONFIG_DUPLICATE_REALSERVER', pos: posOf(text, '192.0.2.11', 2) },
    ]);
    expect(errorsOf(text)[0]!.message).toBe(
      'real server 192.0.2.10:80 is already listed in this service at a.yaml:6:9',
    );
  });

  test('the same address on another port (nat) is another real server', () => {
    expectValid(
      svc(
        '    realservers:',
        '      - { address: 192.0.2.10, forward: nat }',
        '      - { address: 192.0.2.10, port: 8080, forward: nat }',
      ),
    );
  });

  test('the same real server in two services is fine', () => {
    expectValid(
      withServices(
        '  - { vip: 192.0.2.1, port: 80, realservers: [192.0.2.10] }',
        '  - { vip: 192.0.2.2, port: 80, realservers: [192.0.2.10] }',
      ),
    );
  });
});

describe('address families', () => {
  test('a real server of the other family', () => {
    const text = svc('    realservers:', '      - 2001:db8::10');
    const e = expectError(text, 'CONFIG_FAMILY_MISMATCH', '2001:db8::10');
    expect(e.message).toContain('only forward: tunnel can mix address families');
    expectError(
      withServices('  - { fwmark: 1, family: ipv6, realservers: [{ address: 192.0.2.10, forward: nat }] }'),
      'CONFIG_FAMILY_MISMATCH',
      '192.0.2.10',
    );
  });

  test('tunnel may mix families, also when tunnel is the default', () => {
    expectValid(svc('    realservers:', '      - { address: 2001:db8::10, forward: tunnel }'));
    expectValid(lines('version: 1', 'defaults: { forward: tunnel }'), svc('    realservers: ["2001:db8::10"]'));
  });
});

describe('real server addresses and ports', () => {
  test.each([
    ['host.example.com', 'is not an IP address'],
    ['192.0.2.10:http', 'port "http"'],
    ['192.0.2.10:70000', 'port "70000"'],
    ['[192.0.2.10]:80', 'not an IPv6 address'],
    ['192.0.2.10:', 'port ""'],
  ])('shorthand %s', (rs, reason) => {
    const text = svc('    realservers:', `      - "${rs}"`);
    const e = expectError(text, 'CONFIG_ADDRESS', `"${rs}"`);
    expect(e.message).toContain(reason);
  });

  test('an address with a port in the address key hints at port:', () => {
    const e = expectError(svc('    realservers:', '      - address: 192.0.2.10:80'), 'CONFIG_ADDRESS', '192.0.2.10:80');
    expect(e.message).toContain('port: N');
  });

  test('dr and tunnel cannot send to another port', () => {
    const text = svc(
      '    realservers:',
      '      - { address: 192.0.2.10, port: 8080 }',
      '      - 192.0.2.11:8080',
      '      - { address: 192.0.2.12, port: 8080, forward: tunnel }',
    );
    expect(errorsOf(text)).toMatchObject([
      { code: 'CONFIG_PORT', pos: posOf(text, '8080') },
      { code: 'CONFIG_PORT', pos: posOf(text, '192.0.2.11') },
      { code: 'CONFIG_PORT', pos: posOf(text, '8080', 3) },
    ]);
  });

  test('nat may; fwmark real servers may have any port', () => {
    expectValid(
      svc(
        '    realservers:',
        '      - { address: 192.0.2.10, port: 8080, forward: nat }',
        '      - { address: 192.0.2.11, port: 80 }',
      ),
    );
    expectValid(withServices('  - { fwmark: 3, family: ipv4, realservers: ["192.0.2.10:8080", 192.0.2.11] }'));
    expectValid(lines('version: 1', 'defaults: { forward: nat }'), svc('    realservers: ["192.0.2.10:8080"]'));
  });
});

describe('persistence', () => {
  test.each([
    ['64', 'ipv4'],
    ['33', 'ipv4'],
    ['255.0.255.0', 'ipv4'],
    ['"2001:db8::"', 'ipv4'],
  ])('netmask %s on an IPv4 service', (mask) => {
    const e = expectError(svc(`    persistence: { netmask: ${mask} }`), 'CONFIG_NETMASK', mask);
    expect(e.message).toContain('255.255.255.0 or a prefix length from 0 to 32');
  });

  test.each([['255.255.255.0'], ['0'], ['129']])('netmask %s on an IPv6 service', (mask) => {
    const text = withServices('  - vip: 2001:db8::1', '    port: 80', `    persistence: { netmask: ${mask} }`);
    const e = expectError(text, 'CONFIG_NETMASK', `${mask} }`);
    expect(e.message).toContain('prefix length from 1 to 128');
  });

  test('good netmasks', () => {
    expectValid(svc('    persistence: { netmask: 255.255.255.0 }'));
    expectValid(svc('    persistence: { netmask: 24 }'));
    expectValid(svc('    persistence: { netmask: 0.0.0.0 }'));
    expectValid(withServices('  - { fwmark: 1, family: ipv6, persistence: { netmask: 64 } }'));
  });

  test('the timeout: 1s to 31 days', () => {
    expectError(svc('    persistence: { timeout: 0 }'), 'CONFIG_DURATION', '0 }');
    const e = expectError(svc('    persistence: { timeout: 32d }'), 'CONFIG_DURATION', '32d');
    expect(e.message).toBe('the persistence timeout must be from 1s to 31d (2678400 seconds) (got "32d")');
    expectValid(svc('    persistence: { timeout: 31d }'));
  });

  test('pe needs persistence', () => {
    const e = expectError(svc('    pe: sip'), 'CONFIG_MISSING', 'pe');
    expect(e.message).toContain('persistence: {}');
    expectValid(svc('    pe: sip', '    persistence: {}'));
  });
});

describe('one_packet', () => {
  test('not on TCP or SCTP services', () => {
    const e = expectError(svc('    one_packet: true'), 'CONFIG_ONE_PACKET', 'one_packet');
    expect(e.message).toContain('this service is tcp');
    expectError(svc('    protocol: sctp', '    one_packet: true'), 'CONFIG_ONE_PACKET', 'one_packet');
  });

  test('on UDP and fwmark services, and false anywhere', () => {
    expectValid(svc('    protocol: udp', '    one_packet: true'));
    expectValid(withServices('  - { fwmark: 1, family: ipv4, one_packet: true }'));
    expectValid(svc('    one_packet: false'));
  });
});

describe('tunnel settings', () => {
  test('only with forward: tunnel', () => {
    const text = svc('    realservers:', '      - { address: 192.0.2.10, tunnel: { type: gre } }');
    const e = expectError(text, 'CONFIG_TUNNEL', 'tunnel');
    expect(e.message).toBe("tunnel settings need forward: tunnel (this real server's forward is dr (the default))");
    expectError(
      svc('    realservers:', '      - { address: 192.0.2.10, forward: nat, tunnel: {} }'),
      'CONFIG_TUNNEL',
      'tunnel',
    );
  });

  test('gue needs a port', () => {
    expectError(
      svc('    realservers:', '      - { address: 192.0.2.10, forward: tunnel, tunnel: { type: gue } }'),
      'CONFIG_TUNNEL',
      'tunnel:',
    );
  });

  test('a port is for gue only', () => {
    expectError(
      svc('    realservers:', '      - { address: 192.0.2.10, forward: tunnel, tunnel: { port: 6080 } }'),
      'CONFIG_TUNNEL',
      'port: 6080',
    );
    expectError(
      svc('    realservers:', '      - { address: 192.0.2.10, forward: tunnel, tunnel: { type: gre, port: 6080 } }'),
      'CONFIG_TUNNEL',
      'port: 6080',
    );
  });

  test('checksums: remcsum is gue only, ipip has none', () => {
    expectError(
      svc(
        '    realservers:',
        '      - { address: 192.0.2.10, forward: tunnel, tunnel: { type: gre, checksum: remcsum } }',
      ),
      'CONFIG_TUNNEL',
      'remcsum',
    );
    expectError(
      svc('    realservers:', '      - { address: 192.0.2.10, forward: tunnel, tunnel: { checksum: csum } }'),
      'CONFIG_TUNNEL',
      'csum',
    );
  });

  test('good tunnels', () => {
    expectValid(
      svc(
        '    realservers:',
        '      - { address: 192.0.2.10, forward: tunnel }',
        '      - { address: 192.0.2.11, forward: tunnel, tunnel: { type: ipip, checksum: none } }',
        '      - { address: 192.0.2.12, forward: tunnel, tunnel: { type: gue, port: 6080, checksum: remcsum } }',
        '      - { address: 192.0.2.13, forward: tunnel, tunnel: { type: gre, checksum: csum } }',
      ),
    );
  });
});

describe('thresholds', () => {
  test('lower_threshold above upper_threshold', () => {
    const e = expectError(
      svc('    realservers:', '      - { address: 192.0.2.10, upper_threshold: 10, lower_threshold: 11 }'),
      'CONFIG_THRESHOLDS',
      'lower_threshold',
    );
    expect(e.message).toBe(
      'lower_threshold 11 is above upper_threshold 10: the kernel needs lower_threshold <= upper_threshold',
    );
  });

  test('lower_threshold without upper_threshold', () => {
    const e = expectError(
      svc('    realservers:', '      - { address: 192.0.2.10, lower_threshold: 5 }'),
      'CONFIG_THRESHOLDS',
      'lower_threshold',
    );
    expect(e.message).toContain('upper_threshold 0 (not set)');
  });

  test('equal or ordered thresholds', () => {
    expectValid(
      svc(
        '    realservers:',
        '      - { address: 192.0.2.10, upper_threshold: 10, lower_threshold: 10 }',
        '      - { address: 192.0.2.11, upper_threshold: 10 }',
      ),
    );
  });
});

describe('scheduler flags', () => {
  test('sh-* need sh, mh-* need mh', () => {
    const text = svc('    scheduler: rr', '    flags: [sh-port, mh-fallback]');
    const errs = errorsOf(text);
    expect(errs).toMatchObject([
      { code: 'CONFIG_SCHEDULER_FLAG', pos: posOf(text, 'sh-port') },
      { code: 'CONFIG_SCHEDULER_FLAG', pos: posOf(text, 'mh-fallback') },
    ]);
    expect(errs[0]!.message).toBe("flag sh-port needs scheduler sh, but this service's scheduler is rr");
    expectError(svc('    scheduler: sh', '    flags: [mh-port]'), 'CONFIG_SCHEDULER_FLAG', 'mh-port');
  });

  test('the default scheduler counts', () => {
    const e = expectError(svc('    flags: [sh-port]'), 'CONFIG_SCHEDULER_FLAG', 'sh-port');
    expect(e.message).toContain('wlc (the default)');
    expectValid(lines('version: 1', 'defaults: { scheduler: sh }'), svc('    flags: [sh-port, sh-fallback]'));
    expectValid(svc('    scheduler: mh', '    flags: [mh-port, mh-fallback]'));
  });
});

describe('timeouts', () => {
  test('from 1s to 2147483s', () => {
    const text = lines('version: 1', 'timeouts:', '  tcp: 0', '  tcp_fin: 2147484', '  udp: 25d');
    expect(errorsOf(text)).toMatchObject([
      { code: 'CONFIG_DURATION', pos: posOf(text, '0') },
      { code: 'CONFIG_DURATION', pos: posOf(text, '2147484') },
      { code: 'CONFIG_DURATION', pos: posOf(text, '25d') },
    ]);
    expect(errorsOf(text)[0]!.message).toBe('timeouts.tcp must be from 1s to 24d20h31m23s (2147483 seconds) (got 0)');
    expectValid(lines('version: 1', 'timeouts: { tcp: 2147483, tcp_fin: 1, udp: 24d }'));
  });

  test('a negative number', () => {
    expectError(lines('version: 1', 'timeouts: { tcp: -5 }'), 'CONFIG_DURATION', '-5');
  });
});

describe('ignore rules', () => {
  test.each([['10.0.0.0/33'], ['10.0.0/8'], ['2001:db8::/129'], ['kube'], ['10.0.0.0/']])('bad prefix %s', (prefix) => {
    expectError(lines('version: 1', 'ignore:', `  - vip: ${prefix}`), 'CONFIG_ADDRESS', prefix);
  });

  test('a service an ignore rule would hide', () => {
    const a = lines('version: 1', 'ignore:', '  - vip: 10.96.0.0/12', '  - fwmark: 100');
    const b = withServices(
      '  - { vip: 10.100.0.1, port: 53, protocol: udp }',
      '  - { fwmark: 100, family: ipv6 }',
      '  - { vip: 10.112.0.1, port: 53 }',
    );
    const errs = errorsOf(a, b);
    expect(errs).toMatchObject([
      { code: 'CONFIG_CONFLICT', pos: { file: 'b.yaml', ...posOf(b, '10.100.0.1') } },
      { code: 'CONFIG_CONFLICT', pos: { file: 'b.yaml', ...posOf(b, '100,') } },
    ]);
    expect(errs[0]!.message).toContain('matched by the ignore rule at a.yaml:3:10');
  });
});

describe('sections spread over files', () => {
  test('timeouts and defaults live in one file', () => {
    const a = lines('version: 1', 'timeouts: { tcp: 1h }', 'defaults: { weight: 2 }', 'services: []');
    const b = lines('version: 1', 'defaults: { weight: 3 }', 'timeouts: { udp: 1m }');
    const errs = errorsOf(a, b);
    expect(errs).toMatchObject([
      { code: 'CONFIG_DUPLICATE_SECTION', pos: { file: 'b.yaml', line: 2, column: 1 } },
      { code: 'CONFIG_DUPLICATE_SECTION', pos: { file: 'b.yaml', line: 3, column: 1 } },
    ]);
    expect(errs[0]!.toString()).toBe(
      "b.yaml:2:1: 'defaults' is already set in a.yaml:3:1: only services and ignore may be spread over several files",
    );
  });

  test('services and ignore may be in every file', () => {
    expectValid(
      lines('version: 1', 'ignore: [{ fwmark: 1 }]', 'services: [{ vip: 192.0.2.1, port: 80 }]'),
      lines('version: 1', 'ignore: [{ fwmark: 2 }]', 'services: [{ vip: 192.0.2.2, port: 80 }]'),
    );
  });
});

test('every error of a file is reported, not just the first', () => {
  const text = withServices(
    '  - vip: 192.0.2.1',
    '    port: 80',
    '    one_packet: true',
    '    flags: [mh-port]',
    '    realservers:',
    '      - 2001:db8::1',
    '      - { address: 192.0.2.10, lower_threshold: 3, tunnel: {} }',
    '  - vip: 192.0.2.1',
    '    port: 80',
    '    pe: sip',
  );
  expect(errorsOf(text).map((e) => e.code)).toEqual([
    'CONFIG_ONE_PACKET',
    'CONFIG_SCHEDULER_FLAG',
    'CONFIG_FAMILY_MISMATCH',
    'CONFIG_THRESHOLDS',
    'CONFIG_TUNNEL',
    'CONFIG_DUPLICATE_SERVICE',
    'CONFIG_MISSING',
  ]);
});

test('schema errors and rule errors together, each once', () => {
  const text = withServices(
    '  - vip: 192.0.2.1',
    '    port: "80"',
    '    colour: red',
    '    realservers: [2001:db8::1]',
  );
  expect(errorsOf(text).map((e) => e.code)).toEqual(['CONFIG_SCHEMA', 'CONFIG_UNKNOWN_KEY', 'CONFIG_FAMILY_MISMATCH']);
});
