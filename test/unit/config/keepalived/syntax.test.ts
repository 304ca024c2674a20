/**
 * keepalived.conf's syntax as keepalived reads it: comments, quotes, braces,
 * `include` globs relative to the including file, `@ID` / `@^ID` lines,
 * `$PARAM` substitution; the blocks lvsd does not convert reported at
 * FILE:LINE; virtual_server_group expanded; syntax errors stop the import.
 */
import { describe, expect, test } from 'vitest';
import { expandBraces } from '../../../../src/config/keepalived/glob.js';
import { rangeAddresses } from '../../../../src/config/keepalived/groups.js';
import { LvsdError } from '../../../../src/errors.js';
import { lines } from '../helpers.js';
import { keepalived, MAIN, printedState, reportsAt } from './helpers.js';

const RS = ['  protocol TCP', '  real_server 198.51.100.1 80 {', '  }'];

describe('lines and words', () => {
  test('comments start with # or ! anywhere; braces need no spaces; a { may open on the next line', () => {
    const text = lines(
      '! keepalived.conf',
      'virtual_server 192.0.2.10 80 # the web VIP',
      '{',
      '  lb_algo rr ! round robin',
      '  protocol TCP',
      '  real_server 198.51.100.1 80{weight 2}',
      '}',
    );
    const m = keepalived(text);
    expect(m.config.services[0]).toMatchObject({ vip: '192.0.2.10', scheduler: 'rr', realservers: [{ weight: 2 }] });
    expect(m.reports.filter((r) => r.severity === 'omitted')).toEqual([]);
  });

  test('a quoted string is one word, with escapes; a # inside it is no comment', () => {
    const text = lines(
      'virtual_server 192.0.2.10 80 {',
      ...RS.slice(0, 2),
      '    MISC_CHECK {',
      '      misc_path "/bin/check --tag \\"a#b\\""',
      '    }',
      '  }',
      '}',
    );
    const rs = (keepalived(text).config.services[0]!['check'] as { exec: { command: string[] } }).exec.command;
    expect(rs).toEqual(['/bin/check', '--tag', '"a#b"']);
  });

  test('@ID lines count only for that config id, @^ID lines for every other', () => {
    const text = lines(
      'virtual_server 192.0.2.10 80 {',
      '  protocol TCP',
      '  @lb1 lb_algo rr',
      '  @lb2 lb_algo sh',
      '  @^lb1 weight_ignored',
      '  real_server 198.51.100.1 80 {',
      '    @^lb2 weight 5',
      '  }',
      '}',
    );
    const one = keepalived(text, {}, 'lb1');
    expect(one.config.services[0]).toMatchObject({ scheduler: 'rr', realservers: [{ weight: 5 }] });
    expect(one.reports.filter((r) => r.severity === 'omitted')).toEqual([]);
    const two = keepalived(text, {}, 'lb2');
    expect(two.config.services[0]).toMatchObject({ scheduler: 'sh', realservers: [{ weight: 1 }] });
    expect(reportsAt(two, 5)).toEqual(['omitted weight_ignored']);
  });

  test('$NAME=VALUE defines a parameter; $NAME and ${NAME} are replaced', () => {
    const text = lines('$VIP=192.0.2.10', '$PORT=80', 'virtual_server $VIP ${PORT} {', ...RS, '}');
    expect(keepalived(text).config.services[0]).toMatchObject({ vip: '192.0.2.10', port: 80 });
  });

  test('~SEQ lines are reported, not expanded', () => {
    const text = lines('~SEQ(N, 1, 3) virtual_server 192.0.2.$N 80 {', '}');
    expect(() => keepalived(text)).toThrow();
    const only = lines('~SEQ(N, 1, 3) real_server 198.51.100.$N 80', 'virtual_server 192.0.2.10 80 {', ...RS, '}');
    expect(reportsAt(keepalived(only), 1)).toEqual(['omitted ~SEQ(N,']);
  });
});

describe('include', () => {
  test('globs relative to the including file, in name order, nested includes relative to their own file', () => {
    const main = lines('include conf.d/*.conf', 'include /etc/other/{a,b}.conf');
    const m = keepalived(main, {
      '/etc/keepalived/conf.d/20-b.conf': lines('virtual_server 192.0.2.12 80 {', ...RS, '}'),
      '/etc/keepalived/conf.d/10-a.conf': lines('virtual_server 192.0.2.11 80 {', ...RS, '}', 'include ../sub/x.conf'),
      '/etc/keepalived/conf.d/.hidden.conf': lines('virtual_server 192.0.2.99 80 {', ...RS, '}'),
      '/etc/keepalived/sub/x.conf': lines('virtual_server 192.0.2.13 80 {', ...RS, '}'),
      '/etc/other/b.conf': lines('virtual_server 192.0.2.14 80 {', ...RS, '}'),
    });
    expect(m.config.services.map((s) => s['vip'])).toEqual(['192.0.2.11', '192.0.2.13', '192.0.2.12', '192.0.2.14']);
    printedState(m);
  });

  test('reports name the included file and its line', () => {
    const m = keepalived(lines('include extra.conf'), {
      '/etc/keepalived/extra.conf': lines('', 'vrrp_instance VI_1 {', '  state MASTER', '}'),
    });
    expect(reportsAt(m, 2, '/etc/keepalived/extra.conf')).toEqual(['omitted vrrp_instance']);
  });

  test('an include matching nothing is reported at its line, and the rest converted', () => {
    const m = keepalived(lines('include missing/*.conf', 'virtual_server 192.0.2.10 80 {', ...RS, '}'));
    expect(reportsAt(m, 1)).toEqual(['omitted include missing/*.conf']);
    expect(m.config.services).toHaveLength(1);
  });

  test('csh braces, nested', () => {
    expect(expandBraces('/a/{b,c{d,e}}/f')).toEqual(['/a/b/f', '/a/cd/f', '/a/ce/f']);
  });
});

describe('blocks lvsd does not convert', () => {
  test.each([
    ['vrrp_instance VI_1 {', 'vrrp_instance'],
    ['vrrp_sync_group G {', 'vrrp_sync_group'],
    ['vrrp_script chk {', 'vrrp_script'],
    ['static_ipaddress {', 'static_ipaddress'],
    ['SSL {', 'SSL'],
  ])('%s is reported at its line', (open, keyword) => {
    const m = keepalived(lines('virtual_server 192.0.2.10 80 {', ...RS, '}', open, '  x y', '}'));
    expect(reportsAt(m, 6)).toEqual([`omitted ${keyword}`]);
    expect(m.reports.filter((r) => r.line === 7)).toEqual([]);
  });

  test('global_defs: lvs_timeouts becomes timeouts; lvs_flush and router_id are reported', () => {
    const text = lines(
      'global_defs {',
      '  router_id lb1',
      '  lvs_timeouts tcp 900 tcpfin 120 udp 300',
      '  lvs_sync_daemon eth0 VI_1 id 3',
      '  lvs_flush',
      '}',
      'virtual_server 192.0.2.10 80 {',
      ...RS,
      '}',
    );
    const m = keepalived(text);
    expect(m.config['timeouts']).toEqual({ tcp: 900, tcp_fin: 120, udp: 300 });
    expect(printedState(m).timeouts).toEqual({ tcp: 900, tcpFin: 120, udp: 300 });
    expect([2, 4, 5].map((l) => reportsAt(m, l))).toEqual([
      ['omitted router_id'],
      ['note lvs_sync_daemon'],
      ['omitted lvs_flush'],
    ]);
  });
});

describe('virtual_server fwmark and group', () => {
  test('fwmark: family from ip_family, else the real servers', () => {
    const v6 = lines('virtual_server fwmark 7 {', '  lb_kind DR', '  real_server 2001:db8::10 {', '  }', '}');
    expect(printedState(keepalived(v6)).services[0]).toMatchObject({ fwmark: 7, family: 'ipv6' });
    const explicit = lines(
      'virtual_server fwmark 7 {',
      '  ip_family inet6',
      '  lb_kind TUN',
      '  real_server 198.51.100.1 {',
      '  }',
      '}',
    );
    expect(printedState(keepalived(explicit)).services[0]).toMatchObject({ fwmark: 7, family: 'ipv6' });
  });

  test('a group is one service per address, range entry and fwmark', () => {
    const text = lines(
      'virtual_server_group web {',
      '  192.0.2.10 80',
      '  192.0.2.20-21 443',
      '  fwmark 9',
      '}',
      'virtual_server group web {',
      '  protocol TCP',
      '  lb_kind DR',
      '  persistence_timeout 60',
      '  real_server 198.51.100.1 {',
      '  }',
      '}',
    );
    const services = printedState(keepalived(text)).services;
    expect(services.map((s) => s.fwmark ?? `${s.address}:${s.port}`)).toEqual([
      '192.0.2.10:80',
      '192.0.2.20:443',
      '192.0.2.21:443',
      9,
    ]);
    expect(services.map((s) => s.realservers[0]!.port)).toEqual([80, 443, 443, 0]);
  });

  test('an unknown group is reported', () => {
    const m = keepalived(lines('virtual_server group nope {', ...RS, '}'));
    expect(reportsAt(m, 1).filter((r) => r.startsWith('omitted'))).toEqual(['omitted virtual_server group']);
  });

  test.each([
    ['192.0.2.1-3', ['192.0.2.1', '192.0.2.2', '192.0.2.3']],
    ['192.0.2.254-192.0.3.1', ['192.0.2.254', '192.0.2.255', '192.0.3.0', '192.0.3.1']],
    ['192.0.2.8/30', ['192.0.2.8', '192.0.2.9', '192.0.2.10', '192.0.2.11']],
    ['2001:db8::1-3', ['2001:db8::1', '2001:db8::2', '2001:db8::3']],
  ])('range %s', (range, want) => {
    expect(rangeAddresses(range)).toEqual(want);
  });

  test('a range of more than 1024 addresses is reported, not printed', () => {
    expect(rangeAddresses('10.0.0.0/16')).toMatch(/more than 1024/);
  });
});

describe('syntax errors stop the import (exit 1), naming FILE:LINE', () => {
  test.each([
    [lines('virtual_server 192.0.2.10 80 {', '  protocol TCP'), 1, 'never closed'],
    [lines('}'), 1, 'closes no block'],
    [lines('{'), 1, 'without a keyword'],
    [lines('virtual_server 192.0.2.10 80 {', '  misc_path "/bin/x', '}'), 2, 'not closed'],
  ])('%j', (text, line, message) => {
    let error: unknown;
    try {
      keepalived(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LvsdError);
    expect(error).toMatchObject({ code: 'IMPORT_SYNTAX', details: { file: MAIN, line } });
    expect((error as Error).message).toContain(message);
  });
});
