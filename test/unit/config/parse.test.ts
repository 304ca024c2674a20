import { describe, expect, test } from 'vitest';
import { parseConfigText } from '../../../src/config/parse.js';
import { lines } from './helpers.js';

const errors = (text: string) => parseConfigText(text, 'f.yaml').errors;
const brief = (text: string) => errors(text).map((e) => ({ code: e.code, line: e.pos?.line, column: e.pos?.column }));

describe('YAML syntax errors are CONFIG_SYNTAX with a position', () => {
  test('a duplicate key points at the second one', () => {
    const [e, ...rest] = errors(lines('version: 1', 'services: []', 'services: []'));
    expect(rest).toEqual([]);
    expect(e).toMatchObject({ code: 'CONFIG_SYNTAX', pos: { file: 'f.yaml', line: 3, column: 1 } });
    expect(e!.message).toContain("duplicate key 'services'");
    expect(String(e)).toMatch(/^f\.yaml:3:1: /);
  });

  test('a duplicate key inside a service', () => {
    expect(brief(lines('version: 1', 'services:', '  - vip: 192.0.2.1', '    port: 80', '    port: 81'))).toEqual([
      { code: 'CONFIG_SYNTAX', line: 5, column: 5 },
    ]);
  });

  test('a tab used for indentation', () => {
    const [e] = errors(lines('version: 1', 'timeouts:', '\ttcp: 5m'));
    expect(e).toMatchObject({ code: 'CONFIG_SYNTAX', pos: { line: 3, column: 1 } });
    expect(e!.message).toMatch(/tab/i);
  });

  test('bad indentation', () => {
    expect(brief(lines('version: 1', 'timeouts:', '  tcp: 5m', ' udp: 5m'))[0]).toEqual({
      code: 'CONFIG_SYNTAX',
      line: 4,
      column: 1,
    });
  });

  test('an unclosed flow list', () => {
    expect(errors(lines('version: 1', 'services: [', ''))[0]).toMatchObject({ code: 'CONFIG_SYNTAX' });
  });

  test('several documents in one file', () => {
    expect(brief(lines('version: 1', '---', 'version: 1'))).toEqual([{ code: 'CONFIG_SYNTAX', line: 2, column: 1 }]);
  });

  test('an unknown tag', () => {
    expect(brief(lines('version: 1', 'services: !weird []'))).toEqual([{ code: 'CONFIG_SYNTAX', line: 2, column: 11 }]);
  });

  test('no schema errors after a syntax error', () => {
    expect(errors(lines('version: 2', 'bogus: 1', 'bogus: 2')).map((e) => e.code)).toEqual(['CONFIG_SYNTAX']);
  });

  test('a byte order mark is not an error', () => {
    expect(errors('\uFEFFversion: 1\nservices: []\n')).toEqual([]);
  });
});

describe('empty files', () => {
  test.each([[''], ['\n\n'], ['# only a comment\n'], ['---\n'], ['~\n']])('%j is CONFIG_EMPTY', (text) => {
    expect(brief(text)).toEqual([{ code: 'CONFIG_EMPTY', line: 1, column: 1 }]);
  });
});

describe('schema errors', () => {
  test('version is required', () => {
    const [e] = errors(lines('services: []'));
    expect(e).toMatchObject({ code: 'CONFIG_MISSING', pos: { line: 1, column: 1 } });
    expect(e!.message).toContain('version: 1');
  });

  test('version must be 1', () => {
    const [e] = errors(lines('version: 2', 'services: []'));
    expect(e).toMatchObject({ code: 'CONFIG_SCHEMA', pos: { line: 1, column: 10 } });
    expect(e!.message).toContain('must be 1 (got 2)');
  });

  test('the config must be a mapping', () => {
    expect(brief('- 1\n')).toEqual([{ code: 'CONFIG_SCHEMA', line: 1, column: 1 }]);
  });

  test('an unknown top-level key points at the key and suggests', () => {
    const [e] = errors(lines('version: 1', 'servces: []'));
    expect(e).toMatchObject({ code: 'CONFIG_UNKNOWN_KEY', pos: { line: 2, column: 1 } });
    expect(e!.message).toContain("unknown key 'servces' (did you mean 'services'?)");
    expect(e!.message).toContain('version, timeouts, defaults, ignore, services');
  });

  test('an unknown service key: the contract example', () => {
    const [e] = errors(lines('version: 1', 'services:', '  - vip: 192.0.2.1', '    port: 80', '    schedular: rr'));
    expect(e).toMatchObject({ code: 'CONFIG_UNKNOWN_KEY', pos: { line: 5, column: 5 } });
    expect(e!.message).toMatch(/^unknown key 'schedular' \(did you mean 'scheduler'\?\)/);
  });

  test('an unknown key without a close match lists what is allowed', () => {
    const [e] = errors(lines('version: 1', 'timeouts:', '  icmp: 5m'));
    expect(e).toMatchObject({ code: 'CONFIG_UNKNOWN_KEY', pos: { line: 3, column: 3 } });
    expect(e!.message).toBe("unknown key 'icmp'; in 'timeouts' the keys are: tcp, tcp_fin, udp");
  });

  test('unknown keys in real servers, tunnels, persistence and defaults', () => {
    expect(
      brief(
        lines(
          'version: 1',
          'defaults: { schedulr: rr }',
          'services:',
          '  - vip: 192.0.2.1',
          '    port: 80',
          '    persistence: { timout: 5m }',
          '    realservers:',
          '      - { address: 192.0.2.10, wieght: 2 }',
          '      - { address: 192.0.2.11, forward: tunnel, tunnel: { kind: gue } }',
        ),
      ),
    ).toEqual([
      { code: 'CONFIG_UNKNOWN_KEY', line: 2, column: 13 },
      { code: 'CONFIG_UNKNOWN_KEY', line: 6, column: 20 },
      { code: 'CONFIG_UNKNOWN_KEY', line: 8, column: 32 },
      { code: 'CONFIG_UNKNOWN_KEY', line: 9, column: 59 },
    ]);
  });

  test('a misspelt required key is reported once, as unknown', () => {
    const [e, ...rest] = errors(
      lines(
        'version: 1',
        'services:',
        '  - vip: 192.0.2.1',
        '    port: 80',
        '    realservers:',
        '      - adress: 192.0.2.10',
      ),
    );
    expect(rest).toEqual([]);
    expect(e).toMatchObject({ code: 'CONFIG_UNKNOWN_KEY', pos: { line: 6, column: 9 } });
    expect(e!.message).toContain("did you mean 'address'?");
  });

  test('a real server mapping without address', () => {
    const [e] = errors(
      lines('version: 1', 'services:', '  - vip: 192.0.2.1', '    port: 80', '    realservers:', '      - weight: 2'),
    );
    expect(e).toMatchObject({ code: 'CONFIG_MISSING', pos: { line: 6, column: 9 } });
    expect(e!.message).toBe("a real server needs 'address'");
  });

  test('enums say what is allowed and suggest', () => {
    const [e] = errors(lines('version: 1', 'services:', '  - vip: 192.0.2.1', '    port: 80', '    protocol: tpc'));
    expect(e).toMatchObject({ code: 'CONFIG_SCHEMA', pos: { line: 5, column: 15 } });
    expect(e!.message).toBe("'protocol' must be one of tcp, udp, sctp (got \"tpc\") (did you mean 'tcp'?)");
  });

  test("an unknown scheduler is CONFIG_SCHEDULER and lists the kernel's", () => {
    const [e] = errors(lines('version: 1', 'services:', '  - vip: 192.0.2.1', '    port: 80', '    scheduler: wrrr'));
    expect(e).toMatchObject({ code: 'CONFIG_SCHEDULER', pos: { line: 5, column: 16 } });
    expect(e!.message).toContain('rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh, twos');
    expect(e!.message).toContain("did you mean 'wrr'?");
    expect(brief(lines('version: 1', 'defaults:', '  scheduler: roundrobin'))).toEqual([
      { code: 'CONFIG_SCHEDULER', line: 3, column: 14 },
    ]);
  });

  test('forward, family, pe, tunnel type and checksum are enums', () => {
    expect(
      brief(
        lines(
          'version: 1',
          'services:',
          '  - fwmark: 1',
          '    family: inet6',
          '    pe: http',
          '    realservers:',
          '      - { address: 192.0.2.10, forward: direct }',
          '      - { address: 192.0.2.11, forward: tunnel, tunnel: { type: vxlan, checksum: yes } }',
        ),
      ).map((e) => [e.code, e.line]),
    ).toEqual([
      ['CONFIG_SCHEMA', 4],
      ['CONFIG_SCHEMA', 5],
      ['CONFIG_SCHEMA', 7],
      ['CONFIG_SCHEMA', 8],
      ['CONFIG_SCHEMA', 8],
    ]);
  });

  test('numbers out of range are CONFIG_RANGE and say the range', () => {
    const errs = errors(
      lines(
        'version: 1',
        'services:',
        '  - vip: 192.0.2.1',
        '    port: 65536',
        '    realservers:',
        '      - { address: 192.0.2.10, weight: -1, upper_threshold: 2147483648 }',
        '      - { address: 192.0.2.11, port: 70000, forward: tunnel, tunnel: { type: gue, port: 0 } }',
        '  - fwmark: 0',
        '    family: ipv4',
        'defaults: { weight: 2147483648 }',
      ),
    );
    expect(errs.map((e) => ({ code: e.code, line: e.pos?.line, column: e.pos?.column }))).toEqual([
      { code: 'CONFIG_RANGE', line: 4, column: 11 },
      { code: 'CONFIG_RANGE', line: 6, column: 40 },
      { code: 'CONFIG_RANGE', line: 6, column: 61 },
      { code: 'CONFIG_RANGE', line: 7, column: 38 },
      { code: 'CONFIG_RANGE', line: 7, column: 89 },
      { code: 'CONFIG_RANGE', line: 8, column: 13 },
      { code: 'CONFIG_RANGE', line: 10, column: 21 },
    ]);
    expect(errs[0]!.message).toBe("'port' must be from 0 to 65535 (got 65536)");
    expect(errs[1]!.message).toBe("'weight' must be from 0 to 2147483647 (got -1)");
  });

  test('types: a whole number, a list, a mapping, true or false', () => {
    const errs = errors(
      lines(
        'version: 1',
        'services:',
        '  - vip: 192.0.2.1',
        '    port: "80"',
        '    one_packet: yes',
        '    flags: sh-port',
        '    realservers: 192.0.2.10',
        '  - vip: 192.0.2.2',
        '    port: 80.5',
        '    persistence: 300',
      ),
    );
    expect(errs.map((e) => [e.code, e.pos?.line, e.message])).toEqual([
      ['CONFIG_SCHEMA', 4, '\'port\' must be a whole number (got "80")'],
      ['CONFIG_SCHEMA', 5, '\'one_packet\' must be true or false (got "yes")'],
      ['CONFIG_SCHEMA', 6, '\'flags\' must be a list (got "sh-port")'],
      ['CONFIG_SCHEMA', 7, '\'realservers\' must be a list (got "192.0.2.10")'],
      ['CONFIG_SCHEMA', 9, "'port' must be a whole number (got 80.5)"],
      ['CONFIG_SCHEMA', 10, "'persistence' must be a mapping (got 300)"],
    ]);
  });

  test('`services:` with nothing after it is an error, not "no services"', () => {
    const [e] = errors(lines('version: 1', 'services:'));
    expect(e).toMatchObject({ code: 'CONFIG_SCHEMA', pos: { line: 2, column: 1 } });
    expect(e!.message).toContain('write `services: []` for an empty list');
  });

  test('`persistence:` with nothing after it hints at {}', () => {
    const [e] = errors(lines('version: 1', 'services:', '  - vip: 192.0.2.1', '    port: 80', '    persistence:'));
    expect(e).toMatchObject({ code: 'CONFIG_SCHEMA', pos: { line: 5, column: 5 } });
    expect(e!.message).toContain('persistence: {}');
  });

  test('a real server that is neither text nor a mapping', () => {
    const [e] = errors(lines('version: 1', 'services:', '  - vip: 192.0.2.1', '    port: 80', '    realservers: [42]'));
    expect(e).toMatchObject({ code: 'CONFIG_SCHEMA', pos: { line: 5, column: 19 } });
    expect(e!.message).toContain('"ADDRESS", "ADDRESS:PORT" or "[IPV6]:PORT"');
  });

  test('durations: CONFIG_DURATION for a bad form', () => {
    const errs = errors(lines('version: 1', 'timeouts:', '  tcp: 15 minutes', '  tcp_fin: 1.5', '  udp: [1]'));
    expect(errs.map((e) => [e.code, e.pos?.line, e.pos?.column])).toEqual([
      ['CONFIG_DURATION', 3, 8],
      ['CONFIG_DURATION', 4, 12],
      ['CONFIG_DURATION', 5, 8],
    ]);
    expect(errs[0]!.message).toContain('"90s", "15m", "1h30m"');
  });

  test('ignore rules have exactly one key', () => {
    expect(
      brief(lines('version: 1', 'ignore:', '  - {}', '  - { vip: 10.0.0.0/8, fwmark: 3 }', '  - { fwmark: 0 }')),
    ).toEqual([
      { code: 'CONFIG_SCHEMA', line: 3, column: 5 },
      { code: 'CONFIG_SCHEMA', line: 4, column: 5 },
      { code: 'CONFIG_RANGE', line: 5, column: 15 },
    ]);
  });

  test('flags: unknown and repeated', () => {
    const errs = errors(
      lines(
        'version: 1',
        'services:',
        '  - vip: 192.0.2.1',
        '    port: 80',
        '    scheduler: sh',
        '    flags: [sh-port, sh-prot, sh-port]',
      ),
    );
    expect(errs.map((e) => [e.code, e.pos?.line, e.pos?.column, e.message])).toEqual([
      [
        'CONFIG_SCHEMA',
        6,
        22,
        'a scheduler flag must be one of sh-fallback, sh-port, mh-fallback, mh-port (got "sh-prot") (did you mean \'sh-port\'?)',
      ],
      ['CONFIG_SCHEMA', 6, 31, '\'flags\' lists "sh-port" twice'],
    ]);
  });

  test('names: no spaces, at most 128 characters', () => {
    expect(
      brief(
        lines(
          'version: 1',
          'services:',
          '  - { name: "web site", vip: 192.0.2.1, port: 80 }',
          `  - { name: ${'x'.repeat(129)}, vip: 192.0.2.2, port: 80 }`,
        ),
      ),
    ).toEqual([
      { code: 'CONFIG_SCHEMA', line: 3, column: 13 },
      { code: 'CONFIG_RANGE', line: 4, column: 13 },
    ]);
  });

  test('every error of a file is reported, in position order', () => {
    const errs = errors(
      lines(
        'version: 1',
        'timeouts: { tcp: soon }',
        'services:',
        '  - vip: 192.0.2.1',
        '    port: 0x',
        '    realservers: [{ address: 192.0.2.10, weight: many }]',
        '    colour: blue',
      ),
    );
    expect(errs.map((e) => e.pos?.line)).toEqual([2, 5, 6, 7]);
  });

  test('the file name is only used in positions', () => {
    const text = lines('version: 1', 'services: []');
    for (const name of ['source', '/tmp/x/lvsd.yaml', 'conf.d/10-web.yaml', 'weird name.txt', '']) {
      expect(parseConfigText(text, name).errors).toEqual([]);
    }
    expect(parseConfigText('version: 3\n', 'source').errors[0]!.toString()).toMatch(/^source:1:10: /);
  });
});

describe('a big file (over 128 KiB) with a syntax error: js-yaml places it, in the words yaml would use', () => {
  const filler = Array.from(
    { length: 3000 },
    (_, i) => `  - { vip: 192.0.2.1, port: ${i + 1}, scheduler: wrr, realservers: [192.0.2.10] }`,
  );
  const big = (...tail: string[]) => lines('version: 1', 'services:', ...filler, ...tail);

  test('the filler alone is valid and over the bound', () => {
    expect(big().length).toBeGreaterThan(128 * 1024);
    expect(errors(big())).toEqual([]);
  });

  test('a duplicate key: the same message and place as yaml gives a small file', () => {
    const [e, ...rest] = errors(big('  - { vip: 192.0.2.2, port: 1, port: 2 }'));
    expect(rest).toEqual([]);
    expect(e).toMatchObject({ code: 'CONFIG_SYNTAX', pos: { line: 3003, column: 32 } });
    expect(e!.message).toBe("duplicate key 'port': a key may appear once in a mapping");
    const [small] = errors(lines('version: 1', 'services:', '  - { vip: 192.0.2.2, port: 1, port: 2 }'));
    expect(small).toMatchObject({ code: 'CONFIG_SYNTAX', pos: { line: 3, column: 32 }, message: e!.message });
  });

  test('a tab as indentation', () => {
    const [e] = errors(big('timeouts:', '\ttcp: 5m'));
    expect(e).toMatchObject({ code: 'CONFIG_SYNTAX', pos: { line: 3004, column: 1 } });
    expect(e!.message).toMatch(/tab.*indent with spaces/i);
  });

  test("any other error: js-yaml's reason, clipped, at its place", () => {
    const [e] = errors(big(`  - { vip: !${'x'.repeat(100)} 1 }`));
    expect(e).toMatchObject({ code: 'CONFIG_SYNTAX', pos: { line: 3003 } });
    expect(e!.message).not.toMatch(/x{41}/);
  });
});

describe('a file over 16 MiB that only the full YAML reader reads', () => {
  test('is CONFIG_TOO_LARGE at once, instead of a yaml document of gigabytes', () => {
    const text = `%YAML 1.2\n---\nversion: 1\nservices: []\n${'#'.repeat(16 * 1024 * 1024)}\n`;
    const started = performance.now();
    const [e, ...rest] = errors(text);
    expect(rest).toEqual([]);
    expect(e).toMatchObject({ code: 'CONFIG_TOO_LARGE' });
    expect(performance.now() - started).toBeLessThan(5000);
  });

  test('the same file under the bound is read by yaml', () => {
    expect(errors('%YAML 1.2\n---\nversion: 1\nservices: []\n')).toEqual([]);
  });
});
