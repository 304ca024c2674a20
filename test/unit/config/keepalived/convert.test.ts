/**
 * `lvsd import --from-keepalived`: keepalived.conf(5)'s LVS directives, each
 * converted to lvsd's config or reported at FILE:LINE, and every printed
 * config loading as `lvsd validate` loads it.
 */
import { describe, expect, test } from 'vitest';
import { lines } from '../helpers.js';
import { keepalived, lineOf, printedState, reportsAt } from './helpers.js';

/** One TCP virtual server with `body` inside, and one real server with `rs` inside. */
function vs(body: string[], rs: string[] = []): string {
  return lines(
    'virtual_server 192.0.2.10 80 {',
    '  protocol TCP',
    ...body,
    '  real_server 198.51.100.1 80 {',
    ...rs,
    '  }',
    '}',
  );
}

const service = (text: string): Record<string, unknown> => keepalived(text).config.services[0]!;
const firstRs = (text: string): Record<string, unknown> =>
  (service(text)['realservers'] as Record<string, unknown>[])[0]!;

describe('virtual_server settings', () => {
  test.each([
    ['lb_algo rr', { scheduler: 'rr' }],
    ['lvs_sched sh', { scheduler: 'sh' }],
    ['persistence_timeout 50', { persistence: { timeout: 50 } }],
    ['persistence_timeout', { persistence: { timeout: 360 } }],
    ['ops', {}],
  ])('%s', (line, want) => {
    const text = vs([`  ${line}`]);
    expect(service(text)).toMatchObject(want);
    printedState(keepalived(text));
  });

  test('no lb_algo is wlc, as keepalived defaults it', () => {
    expect(service(vs([]))['scheduler']).toBe('wlc');
  });

  test.each([
    ['TCP', undefined],
    ['UDP', 'udp'],
    ['SCTP', 'sctp'],
  ])('protocol %s', (p, want) => {
    const text = lines(
      'virtual_server 192.0.2.10 80 {',
      `  protocol ${p}`,
      '  real_server 198.51.100.1 80 {',
      '  }',
      '}',
    );
    expect(service(text)['protocol']).toBe(want);
  });

  test('no protocol is UDP, as keepalived makes it, with a note', () => {
    const m = keepalived(lines('virtual_server 192.0.2.10 53 {', '  real_server 198.51.100.1 53 {', '  }', '}'));
    expect(m.config.services[0]!['protocol']).toBe('udp');
    expect(reportsAt(m, 1)).toContain('note virtual_server');
  });

  test('persistence_granularity and persistence_engine', () => {
    const text = vs([
      '  persistence_timeout 600',
      '  persistence_granularity 255.255.255.0',
      '  persistence_engine sip',
    ]);
    expect(service(text)).toMatchObject({ persistence: { timeout: 600, netmask: '255.255.255.0' }, pe: 'sip' });
    expect(printedState(keepalived(text)).services[0]!.persistence).toEqual({ timeout: 600, netmask: '255.255.255.0' });
  });

  test('persistence_granularity without persistence_timeout is reported', () => {
    const text = vs(['  persistence_granularity 255.255.255.0']);
    expect(reportsAt(keepalived(text), lineOf(text, 'granularity'))).toEqual(['omitted persistence_granularity']);
  });

  test('port 0 without persistence becomes persistent, as keepalived makes it', () => {
    const m = keepalived(
      lines('virtual_server 192.0.2.10 0 {', '  protocol TCP', '  real_server 198.51.100.1 {', '  }', '}'),
    );
    expect(printedState(m).services[0]).toMatchObject({ port: 0, persistence: { timeout: 360 } });
  });

  test('ops on UDP is one_packet; on TCP it is reported (keepalived resets it)', () => {
    const udp = lines(
      'virtual_server 192.0.2.10 53 {',
      '  protocol UDP',
      '  ops',
      '  real_server 198.51.100.1 53 {',
      '  }',
      '}',
    );
    expect(service(udp)['one_packet']).toBe(true);
    const tcp = vs(['  ops']);
    expect(service(tcp)['one_packet']).toBeUndefined();
    expect(reportsAt(keepalived(tcp), 3)).toEqual(['omitted ops']);
  });

  test.each([
    [
      ['lvs_sched sh', 'sh-port', 'sh-fallback'],
      ['sh-fallback', 'sh-port'],
    ],
    [
      ['lvs_sched mh', 'mh-port', 'mh-fallback'],
      ['mh-fallback', 'mh-port'],
    ],
    [
      ['lvs_sched sh', 'flag-1', 'flag-2'],
      ['sh-fallback', 'sh-port'],
    ],
    [['lvs_sched mh', 'flag-1'], ['mh-fallback']],
  ])('scheduler flags %j', (body, flags) => {
    const text = vs(body.map((l) => `  ${l}`));
    expect(service(text)['flags']).toEqual(flags);
    expect(printedState(keepalived(text)).services[0]!.flags).toEqual(flags);
  });

  test.each([
    [['sh-port', 'lvs_sched sh'], 'sh-port'],
    [['lvs_sched rr', 'flag-3'], 'flag-3'],
  ])('flags keepalived ignores are reported: %j', (body, flag) => {
    const text = vs(body.map((l) => `  ${l}`));
    const m = keepalived(text);
    expect(m.config.services[0]!['flags']).toBeUndefined();
    expect(reportsAt(m, lineOf(text, `  ${flag}`))).toEqual([`omitted ${flag}`]);
  });

  test.each([
    ['lb_kind DR', { forward: 'dr' }],
    ['lvs_method NAT', { forward: 'nat' }],
    ['lvs_method TUN', { forward: 'tunnel' }],
    [
      'lvs_method TUN type gue port 6080 csum',
      { forward: 'tunnel', tunnel: { type: 'gue', port: 6080, checksum: 'csum' } },
    ],
    ['lvs_method TUN type gre nocsum', { forward: 'tunnel', tunnel: { type: 'gre' } }],
  ])('%s is every real server’s forwarding', (line, want) => {
    const text = vs([`  ${line}`]);
    expect(firstRs(text)).toMatchObject(want);
    printedState(keepalived(text));
  });

  test('no lvs_method is NAT, as keepalived defaults it, with a note', () => {
    const m = keepalived(vs([]));
    expect((m.config.services[0]!['realservers'] as object[])[0]).toMatchObject({ forward: 'nat' });
    expect(reportsAt(m, 1)).toEqual(['note virtual_server']);
  });

  test('a real server port differing under DR becomes the virtual port, as keepalived resets it', () => {
    const text = lines(
      'virtual_server 192.0.2.10 80 {',
      '  protocol TCP',
      '  lb_kind DR',
      '  real_server 198.51.100.1 8080 {',
      '  }',
      '}',
    );
    const m = keepalived(text);
    expect(printedState(m).services[0]!.realservers[0]).toMatchObject({ port: 80, forward: 'dr' });
    expect(reportsAt(m, 4)).toEqual(['note real_server']);
  });

  test('NAT keeps another real server port', () => {
    const text = lines(
      'virtual_server 192.0.2.10 80 {',
      '  protocol TCP',
      '  real_server 198.51.100.1 8080 {',
      '  }',
      '}',
    );
    expect(printedState(keepalived(text)).services[0]!.realservers[0]).toMatchObject({ port: 8080, forward: 'nat' });
  });

  test.each([
    ['ha_suspend'],
    ['smtp_alert yes'],
    ['snmp_name web'],
    ['omega'],
    ['quorum 3'],
    ['hysteresis 2'],
    ['quorum_up /bin/true'],
    ['quorum_down /bin/true'],
    ['warmup 5'],
    ['sorry_server_inhibit'],
  ])('%s is reported at its line', (line) => {
    const text = vs([`  ${line}`]);
    expect(reportsAt(keepalived(text), 3)).toEqual([`omitted ${line.split(' ')[0]}`]);
  });

  test('quorum 1 and hysteresis 0 are what lvsd does: not reported', () => {
    expect(keepalived(vs(['  quorum 1', '  hysteresis 0'])).reports.filter((r) => r.severity === 'omitted')).toEqual(
      [],
    );
  });
});

describe('real servers', () => {
  test('weight, uthreshold, lthreshold, lvs_method', () => {
    const text = vs([], ['    weight 3', '    uthreshold 100', '    lthreshold 10', '    lvs_method DR']);
    expect(firstRs(text)).toEqual({
      address: '198.51.100.1',
      forward: 'dr',
      weight: 3,
      upper_threshold: 100,
      lower_threshold: 10,
    });
    expect(printedState(keepalived(text)).services[0]!.realservers[0]).toMatchObject({
      weight: 3,
      upperThreshold: 100,
      lowerThreshold: 10,
    });
  });

  test.each([['notify_up /bin/true'], ['notify_down /bin/true'], ['smtp_alert on'], ['snmp_name a']])(
    '%s is reported',
    (line) => {
      const text = vs([], [`    ${line}`]);
      expect(reportsAt(keepalived(text), 4)).toEqual([`omitted ${line.split(' ')[0]}`]);
    },
  );

  test('a real server listed twice is reported, not printed twice', () => {
    const text = lines(
      'virtual_server 192.0.2.10 80 {',
      '  protocol TCP',
      '  real_server 198.51.100.1 80 {',
      '  }',
      '  real_server 198.51.100.1 80 {',
      '  }',
      '}',
    );
    const m = keepalived(text);
    expect(m.config.services[0]!['realservers']).toHaveLength(1);
    expect(reportsAt(m, 5)).toEqual(['omitted real_server']);
  });

  test('sorry_server, with sorry_server_lvs_method as defaults.forward', () => {
    const text = vs(['  lb_kind DR', '  sorry_server 198.51.100.99 80', '  sorry_server_lvs_method NAT']);
    const m = keepalived(text);
    expect(m.config['defaults']).toEqual({ forward: 'nat' });
    expect(printedState(m).services[0]!.sorryServer).toMatchObject({
      address: '198.51.100.99',
      port: 80,
      forward: 'nat',
    });
  });

  test('sorry servers needing different forwarding: the second is reported and left out', () => {
    const text =
      vs(['  lb_kind DR', '  sorry_server 198.51.100.99 80']) +
      lines(
        'virtual_server 192.0.2.11 80 {',
        '  protocol TCP',
        '  lb_kind NAT',
        '  sorry_server 198.51.100.98 80',
        '  real_server 198.51.100.1 80 {',
        '  }',
        '}',
      );
    const m = keepalived(text);
    expect(reportsAt(m, lineOf(text, '198.51.100.98'))).toEqual(['omitted sorry_server']);
    expect(m.config.services[1]!['sorry_server']).toBeUndefined();
    printedState(m);
  });
});
