/**
 * keepalived's checkers as lvsd checks: the settings a checker inherits from
 * its real server and virtual server, each checker kind, and what lvsd
 * cannot check reported at FILE:LINE.
 */
import { describe, expect, test } from 'vitest';
import { lines } from '../helpers.js';
import { keepalived, lineOf, printedState, reportsAt } from './helpers.js';

/** A DR virtual server on port 80 with `vsLines`, one real server with `rsLines` holding `checker`. */
function withChecker(checker: string[], rsLines: string[] = [], vsLines: string[] = []): string {
  return lines(
    'virtual_server 192.0.2.10 80 {',
    '  protocol TCP',
    '  lb_kind DR',
    ...vsLines,
    '  real_server 198.51.100.1 80 {',
    ...rsLines,
    ...checker,
    '  }',
    '}',
  );
}

function checkOf(text: string): Record<string, unknown> | undefined {
  const svc = keepalived(text).config.services[0]!;
  return (svc['check'] ?? (svc['realservers'] as Record<string, unknown>[])[0]!['check']) as
    Record<string, unknown> | undefined;
}

describe('settings a checker inherits', () => {
  test("keepalived's defaults: delay_loop 60, connect_timeout 5, retry 1 (down after 2 failures), up after 1", () => {
    expect(checkOf(withChecker(['    TCP_CHECK {', '    }']))).toEqual({
      type: 'tcp',
      interval: 60,
      timeout: 5,
      rise: 1,
      fall: 2,
      on_failure: 'remove',
    });
  });

  test('delay_loop, connect_timeout, retry, inhibit_on_failure, alpha from the virtual server', () => {
    const text = withChecker(
      ['    TCP_CHECK {', '    }'],
      [],
      ['  delay_loop 10', '  connect_timeout 3', '  retry 4', '  inhibit_on_failure', '  alpha'],
    );
    expect(checkOf(text)).toEqual({
      type: 'tcp',
      interval: 10,
      timeout: 3,
      rise: 1,
      fall: 5,
      initial: 'down',
      on_failure: 'quiesce',
    });
    const state = printedState(keepalived(text));
    expect(state.services[0]!.realservers[0]!.check).toMatchObject({
      interval: 10,
      timeout: 3,
      fall: 5,
      initial: 'down',
      onFailure: 'quiesce',
    });
  });

  test('the checker overrides the real server, which overrides the virtual server', () => {
    const text = withChecker(
      ['    TCP_CHECK {', '      connect_timeout 2', '      retry 0', '      alpha no', '    }'],
      ['    connect_timeout 4', '    retry 3', '    inhibit_on_failure yes', '    delay_loop 7'],
      ['  delay_loop 20', '  alpha', '  inhibit_on_failure'],
    );
    expect(checkOf(text)).toEqual({ type: 'tcp', interval: 7, timeout: 2, rise: 1, fall: 1, on_failure: 'quiesce' });
  });

  test('nb_get_retry is the old name of retry', () => {
    const text = withChecker([
      '    HTTP_GET {',
      '      nb_get_retry 2',
      '      url {',
      '        path /',
      '      }',
      '    }',
    ]);
    expect(checkOf(text)).toMatchObject({ fall: 3 });
  });

  test('a fractional timer is rounded up to whole seconds, with a note', () => {
    const text = withChecker(['    TCP_CHECK {', '      connect_timeout 2.5', '    }']);
    expect(checkOf(text)).toMatchObject({ timeout: 3 });
    expect(reportsAt(keepalived(text), lineOf(text, '2.5'))).toEqual(['note connect_timeout']);
  });

  test('a connect_timeout longer than delay_loop is cut to it, with a note (lvsd: timeout at most the interval)', () => {
    const text = withChecker(['    TCP_CHECK {', '      connect_timeout 10', '      delay_loop 4', '    }']);
    expect(checkOf(text)).toMatchObject({ interval: 4, timeout: 4 });
    expect(reportsAt(keepalived(text), lineOf(text, 'TCP_CHECK'))).toEqual(['note TCP_CHECK']);
    printedState(keepalived(text));
  });

  test.each([
    ['delay_before_retry 3'],
    ['warmup 2'],
    ['connect_ip 198.51.100.9'],
    ['bindto 192.0.2.1'],
    ['bind_port 5000'],
    ['bind_if eth0'],
    ['fwmark 3'],
    ['log_all_failures yes'],
  ])('%s is reported', (line) => {
    const text = withChecker(['    TCP_CHECK {', `      ${line}`, '    }']);
    expect(reportsAt(keepalived(text), lineOf(text, line))).toEqual([`omitted ${line.split(' ')[0]}`]);
  });

  test('connect_port becomes the check port', () => {
    expect(checkOf(withChecker(['    TCP_CHECK {', '      connect_port 8080', '    }']))).toMatchObject({ port: 8080 });
  });
});

describe('checker kinds', () => {
  test('HTTP_GET: path, status_code ranges, virtualhost', () => {
    const text = withChecker([
      '    HTTP_GET {',
      '      url {',
      '        path /healthz',
      '        status_code 200-202 301',
      '        virtualhost www.example.com',
      '      }',
      '    }',
    ]);
    expect(checkOf(text)).toMatchObject({
      type: 'http',
      http: { path: '/healthz', expect: ['200-202', 301], host: 'www.example.com' },
    });
    expect(printedState(keepalived(text)).services[0]!.realservers[0]!.check!.http).toMatchObject({
      path: '/healthz',
      expect: [200, 201, 202, 301],
    });
  });

  test('HTTP_GET without status_code accepts 200-299, as keepalived does; virtualhost from the virtual server', () => {
    const text = withChecker(
      ['    HTTP_GET {', '      url {', '        path /', '      }', '    }'],
      [],
      ['  virtualhost a.example'],
    );
    expect(checkOf(text)!['http']).toEqual({ path: '/', expect: ['200-299'], host: 'a.example' });
    const printed = printedState(keepalived(text)).services[0]!.realservers[0]!.check!.http!.expect;
    expect(printed).toEqual(Array.from({ length: 100 }, (_, i) => 200 + i));
  });

  test('digest becomes http.digest (lower case); one that is no MD5 is reported', () => {
    const text = withChecker([
      '    HTTP_GET {',
      '      url {',
      '        path /',
      '        digest 9B3A0C85A887A256D6939DA88AABD8CD',
      '      }',
      '    }',
    ]);
    expect(checkOf(text)).toMatchObject({ http: { digest: '9b3a0c85a887a256d6939da88aabd8cd' } });
    expect(keepalived(text).reports).toEqual([]);
    expect(printedState(keepalived(text)).services[0]!.realservers[0]!.check!.http!.digest).toBe(
      '9b3a0c85a887a256d6939da88aabd8cd',
    );
    const bad = withChecker([
      '    HTTP_GET {',
      '      url {',
      '        path /',
      '        digest abc',
      '      }',
      '    }',
    ]);
    expect(reportsAt(keepalived(bad), lineOf(bad, 'digest'))).toEqual(['omitted digest']);
  });

  test('SSL_GET is https; regex, a second url, http_protocol, enable_sni are reported', () => {
    const text = withChecker([
      '    SSL_GET {',
      '      http_protocol 1.1',
      '      enable_sni',
      '      url {',
      '        path /a',
      '        digest 9b3a0c85a887a256d6939da88aabd8cd',
      '        regex ok',
      '      }',
      '      url {',
      '        path /b',
      '      }',
      '    }',
    ]);
    const m = keepalived(text);
    expect(checkOf(text)).toMatchObject({ type: 'https', http: { path: '/a' } });
    for (const [needle, directive] of [
      ['http_protocol', 'http_protocol'],
      ['enable_sni', 'enable_sni'],
      ['regex', 'regex'],
      ['path /b', 'url'],
    ] as const) {
      const line = needle === 'path /b' ? lineOf(text, 'path /b') - 1 : lineOf(text, needle);
      expect(reportsAt(m, line)).toEqual([`omitted ${directive}`]);
    }
  });

  test('MISC_CHECK is exec: misc_path split into words, misc_timeout, retry 0 by default', () => {
    const text = withChecker(
      [
        '    MISC_CHECK {',
        '      misc_path "/usr/local/bin/check -p \'a b\'"',
        '      misc_timeout 4',
        '      misc_dynamic',
        '      user nobody',
        '    }',
      ],
      [],
      ['  delay_loop 10'],
    );
    expect(checkOf(text)).toEqual({
      type: 'exec',
      interval: 10,
      timeout: 4,
      rise: 1,
      fall: 1,
      on_failure: 'remove',
      exec: { command: ['/usr/local/bin/check', '-p', 'a b'] },
    });
    const m = keepalived(text);
    expect(reportsAt(m, lineOf(text, 'misc_dynamic'))).toEqual(['omitted misc_dynamic']);
    expect(reportsAt(m, lineOf(text, 'user'))).toEqual(['omitted user']);
    printedState(m);
  });

  test('UDP_CHECK: printable payload and require_reply become send and expect', () => {
    const text = lines(
      'virtual_server 192.0.2.10 53 {',
      '  protocol UDP',
      '  lb_kind DR',
      '  real_server 198.51.100.1 53 {',
      '    UDP_CHECK {',
      '      payload 70696e67',
      '      require_reply 706f6e67',
      '    }',
      '  }',
      '}',
    );
    expect(checkOf(text)).toMatchObject({ type: 'udp', udp: { send: 'ping', expect: 'pong' } });
    expect(keepalived(text).reports).toEqual([]);
    printedState(keepalived(text));
  });

  test('UDP_CHECK without require_reply is reported: lvsd needs an answer', () => {
    const text = withChecker(['    UDP_CHECK {', '      payload 00ff', '    }']);
    const m = keepalived(text);
    expect(reportsAt(m, lineOf(text, 'UDP_CHECK')).sort()).toEqual(['note UDP_CHECK', 'omitted UDP_CHECK']);
    expect(reportsAt(m, lineOf(text, 'payload'))).toEqual(['omitted payload']);
  });

  test('SMTP_CHECK is an smtp check (greeting and HELO); helo_name is reported', () => {
    const text = withChecker(['    SMTP_CHECK {', '      connect_port 25', '      helo_name lb.example', '    }']);
    const m = keepalived(text);
    expect(checkOf(text)).toMatchObject({ type: 'smtp', port: 25 });
    expect(reportsAt(m, lineOf(text, 'SMTP_CHECK'))).toEqual([]);
    expect(reportsAt(m, lineOf(text, 'helo_name'))).toEqual(['omitted helo_name']);
    expect(printedState(m).services[0]!.realservers[0]!.check).toMatchObject({ type: 'smtp', port: 25 });
  });

  test.each([['PING_CHECK'], ['FILE_CHECK'], ['BFD_CHECK']])('%s is reported and makes no check', (kind) => {
    const text = withChecker([`    ${kind} {`, '    }']);
    expect(checkOf(text)).toBeUndefined();
    expect(reportsAt(keepalived(text), lineOf(text, kind))).toEqual([`omitted ${kind}`]);
  });

  test('HTTP_GET without a url with a path is reported and makes no check, as keepalived ignores it', () => {
    const none = withChecker(['    HTTP_GET {', '    }']);
    expect(checkOf(none)).toBeUndefined();
    expect(reportsAt(keepalived(none), lineOf(none, 'HTTP_GET'))).toEqual(['omitted HTTP_GET']);
    const pathless = withChecker([
      '    HTTP_GET {',
      '      url {',
      '        status_code 200',
      '      }',
      '      url {',
      '        path /b',
      '      }',
      '    }',
    ]);
    expect(checkOf(pathless)).toMatchObject({ http: { path: '/b', expect: expect.any(Array) } });
    expect(reportsAt(keepalived(pathless), lineOf(pathless, 'url {'))).toEqual(['omitted url']);
  });

  test('DNS_CHECK is a dns check: type, name, retry 3 by default', () => {
    const text = lines(
      'virtual_server 192.0.2.10 53 {',
      '  protocol UDP',
      '  lb_kind DR',
      '  real_server 198.51.100.1 53 {',
      '    DNS_CHECK {',
      '      type a',
      '      name www.example.com',
      '    }',
      '  }',
      '}',
    );
    const m = keepalived(text);
    expect(checkOf(text)).toMatchObject({ type: 'dns', fall: 4, dns: { type: 'A', name: 'www.example.com' } });
    expect(m.reports).toEqual([]);
    expect(printedState(m).services[0]!.realservers[0]!.check!.dns).toEqual({ name: 'www.example.com', type: 'A' });
    const plain = withChecker(['    DNS_CHECK {', '    }']);
    expect(printedState(keepalived(plain)).services[0]!.realservers[0]!.check!.dns).toEqual({ name: '.', type: 'SOA' });
    const ptr = withChecker(['    DNS_CHECK {', '      type PTR', '    }']);
    expect(reportsAt(keepalived(ptr), lineOf(ptr, 'PTR'))).toEqual(['omitted type']);
  });

  test('a second checker is reported: lvsd runs one per real server', () => {
    const text = withChecker([
      '    TCP_CHECK {',
      '    }',
      '    HTTP_GET {',
      '      url {',
      '        path /',
      '      }',
      '    }',
    ]);
    expect(checkOf(text)).toMatchObject({ type: 'tcp' });
    expect(reportsAt(keepalived(text), lineOf(text, 'HTTP_GET'))).toEqual(['omitted HTTP_GET']);
  });

  test('the same check on every real server is the service check; different ones stay on each', () => {
    const same = lines(
      'virtual_server 192.0.2.10 80 {',
      '  protocol TCP',
      '  lb_kind DR',
      '  delay_loop 5',
      '  real_server 198.51.100.1 80 {',
      '    TCP_CHECK {',
      '    }',
      '  }',
      '  real_server 198.51.100.2 80 {',
      '    TCP_CHECK {',
      '    }',
      '  }',
      '}',
    );
    const svc = keepalived(same).config.services[0]!;
    expect(svc['check']).toMatchObject({ type: 'tcp', interval: 5 });
    expect((svc['realservers'] as object[]).every((rs) => !('check' in rs))).toBe(true);
    const state = printedState(keepalived(same));
    expect(state.services[0]!.realservers.map((rs) => rs.check?.type)).toEqual(['tcp', 'tcp']);
    const differ = same.replace(
      '    TCP_CHECK {\n    }\n  }\n}',
      '    TCP_CHECK {\n      connect_port 81\n    }\n  }\n}',
    );
    const svc2 = keepalived(differ).config.services[0]!;
    expect(svc2['check']).toBeUndefined();
    expect(printedState(keepalived(differ)).services[0]!.realservers.map((rs) => rs.check?.port)).toEqual([80, 81]);
  });

  test("a fwmark service's check without connect_port is reported (lvsd needs a port)", () => {
    const text = lines(
      'virtual_server fwmark 7 {',
      '  lb_kind DR',
      '  real_server 198.51.100.1 {',
      '    TCP_CHECK {',
      '    }',
      '  }',
      '}',
    );
    const m = keepalived(text);
    expect(reportsAt(m, 4)).toEqual(['omitted TCP_CHECK']);
    printedState(m);
  });
});
