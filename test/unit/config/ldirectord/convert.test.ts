/**
 * `lvsd import --from-ldirectord`: ldirectord.cf's directives (its man page,
 * defaults as its read_config has them), each converted or reported at
 * FILE:LINE, and every printed config loading as `lvsd validate` loads it.
 */
import { describe, expect, test } from 'vitest';
import { convertLdirectord } from '../../../../src/config/ldirectord/convert.js';
import type { Migration } from '../../../../src/config/migration.js';
import { LvsdError } from '../../../../src/errors.js';
import { lines } from '../helpers.js';
import { lineOf, printedState, reportsAt } from '../keepalived/helpers.js';

const FILE = '/etc/ha.d/ldirectord.cf';
const ld = (text: string): Migration => convertLdirectord(FILE, text);
const at = (m: Migration, line: number): string[] => reportsAt(m, line, FILE);

/** A virtual on 192.0.2.10:80 with one gate real server and `body` (indented with a tab). */
function virtual(body: string[], globals: string[] = [], head = 'virtual=192.0.2.10:80'): string {
  return lines(...globals, head, '\treal=198.51.100.1:80 gate', ...body.map((l) => `\t${l}`));
}
const svc = (text: string): Record<string, unknown> => ld(text).config.services[0]!;

describe('virtual sections', () => {
  test("ldirectord's defaults: wrr, tcp, negotiate http for port 80, every 10s, 30s negotiate timeout cut to 10s", () => {
    const text = virtual([]);
    expect(svc(text)).toEqual({
      vip: '192.0.2.10',
      port: 80,
      scheduler: 'wrr',
      check: {
        type: 'http',
        interval: 10,
        timeout: 10,
        rise: 1,
        fall: 1,
        on_failure: 'remove',
        http: { path: '/', expect: expect.any(Array) },
      },
      realservers: [{ address: '198.51.100.1', forward: 'dr', weight: 1 }],
    });
    printedState(ld(text));
  });

  test('scheduler, protocol, persistent, netmask, ops, schedflags', () => {
    const text = virtual(
      [
        'scheduler=sh',
        'protocol=udp',
        'persistent=600',
        'netmask=255.255.255.0',
        'ops=yes',
        'schedflags=sh-port',
        'checktype=on',
      ],
      [],
      'virtual=192.0.2.10:5000',
    );
    expect(svc(text)).toMatchObject({
      protocol: 'udp',
      scheduler: 'sh',
      flags: ['sh-port'],
      persistence: { timeout: 600, netmask: '255.255.255.0' },
      one_packet: true,
    });
    expect(printedState(ld(text)).services[0]).toMatchObject({ protocol: 'udp', onePacket: true, flags: ['sh-port'] });
  });

  test('port 53 is udp by default; a fwmark virtual is a fwmark service', () => {
    expect(svc(virtual(['checktype=on'], [], 'virtual=192.0.2.10:53'))['protocol']).toBe('udp');
    const fw = lines('virtual=7', '\treal=198.51.100.1 gate', '\tchecktype=on');
    expect(printedState(ld(fw)).services[0]).toMatchObject({ fwmark: 7, family: 'ipv4' });
    const v6 = lines('virtual6=[2001:db8::1]:80', '\treal6=[2001:db8::10]:80 gate', '\tchecktype=on');
    expect(printedState(ld(v6)).services[0]).toMatchObject({
      address: '2001:db8::1',
      realservers: [{ address: '2001:db8::10' }],
    });
  });

  test('netmask without persistent is reported', () => {
    const text = virtual(['netmask=255.255.255.0', 'checktype=on']);
    expect(at(ld(text), lineOf(text, 'netmask'))).toEqual(['omitted netmask']);
  });

  test('real: gate, masq, ipip, weight, a range, thresholds, a port name', () => {
    const text = lines(
      'virtual=192.0.2.10:80',
      '\treal=198.51.100.1:80 gate 3',
      '\treal=198.51.100.2:8080 masq',
      '\treal=198.51.100.3 ipip 2',
      '\treal=198.51.100.4->198.51.100.5:http gate',
      '\treal=198.51.100.6:80 gate 1 l:10 u:100',
      '\tchecktype=on',
    );
    const rs = printedState(ld(text)).services[0]!.realservers;
    expect(rs.map((r) => [r.address, r.port, r.forward, r.weight])).toEqual([
      ['198.51.100.1', 80, 'dr', 3],
      ['198.51.100.2', 8080, 'nat', 1],
      ['198.51.100.3', 80, 'tunnel', 2],
      ['198.51.100.4', 80, 'dr', 1],
      ['198.51.100.5', 80, 'dr', 1],
      ['198.51.100.6', 80, 'dr', 1],
    ]);
    expect(rs[5]).toMatchObject({ lowerThreshold: 10, upperThreshold: 100 });
  });

  test('fallback (global, or the section’s) is the sorry server; masq becomes defaults.forward', () => {
    const text = virtual(['checktype=on'], ['fallback=198.51.100.250:80 masq']);
    const m = ld(text);
    expect(m.config['defaults']).toEqual({ forward: 'nat' });
    expect(printedState(m).services[0]!.sorryServer).toMatchObject({
      address: '198.51.100.250',
      port: 80,
      forward: 'nat',
    });
    const own = virtual(['checktype=on', 'fallback=198.51.100.251'], ['fallback=198.51.100.250:80 masq']);
    expect(svc(own)['sorry_server']).toBe('198.51.100.251:80');
    expect(ld(own).config['defaults']).toBeUndefined();
  });

  test.each([
    ['emailalert="a@example.com"'],
    ['monitorfile="/var/log/x"'],
    ['cleanstop=no'],
    ['fallbackcommand="/bin/x"'],
    ['bogus=1'],
  ])('section directive %s is reported at its line', (line) => {
    const text = virtual(['checktype=on', line]);
    expect(at(ld(text), lineOf(text, line))).toEqual([`omitted ${line.split('=')[0]}`]);
  });
});

describe('checks', () => {
  test('negotiate http: request, virtualhost, checkport, failurecount, quiescent, timeouts; receive reported', () => {
    const text = virtual(
      [
        'service=http',
        'request="health.html"',
        'receive="OK"',
        'virtualhost=www.example.com',
        'checkport=8080',
        'checktype=negotiate',
      ],
      ['checkinterval=20', 'negotiatetimeout=4', 'failurecount=3', 'quiescent=yes'],
    );
    expect(svc(text)['check']).toEqual({
      type: 'http',
      interval: 20,
      timeout: 4,
      rise: 1,
      fall: 3,
      on_failure: 'quiesce',
      port: 8080,
      http: { path: '/health.html', expect: expect.any(Array), host: 'www.example.com' },
    });
    expect(at(ld(text), lineOf(text, 'receive'))).toEqual(['omitted receive']);
    printedState(ld(text));
  });

  test('https, and a per-real-server request overriding the path (its receive reported)', () => {
    const text = lines('virtual=192.0.2.10:443', '\treal=198.51.100.1:443 gate 1 "/a.html", "yes"', '\tservice=https');
    const m = ld(text);
    expect(m.config.services[0]).toMatchObject({
      check: { type: 'https' },
      realservers: [{ check: { http: { path: '/a.html' } } }],
    });
    expect(at(m, 2)).toEqual(['omitted real ... "yes"']);
    expect(printedState(m).services[0]!.realservers[0]!.check!.http!.path).toBe('/a.html');
  });

  test('connect: tcp with checktimeout; on UDP it is reported (ldirectord pings)', () => {
    const text = virtual(['checktype=connect', 'checktimeout=3']);
    expect(svc(text)['check']).toMatchObject({ type: 'tcp', timeout: 3 });
    const udp = virtual(['checktype=connect', 'protocol=udp']);
    expect(svc(udp)['check']).toBeUndefined();
    expect(at(ld(udp), lineOf(udp, 'checktype'))).toEqual(['omitted checktype connect']);
  });

  test('external: exec with ldirectord’s four arguments', () => {
    const text = virtual(['checktype=external', 'checkcommand="/usr/local/bin/check"']);
    expect(svc(text)['check']).toMatchObject({
      type: 'exec',
      timeout: 5,
      exec: { command: ['/usr/local/bin/check', '192.0.2.10', '80', '{address}', '{port}'] },
    });
    printedState(ld(text));
  });

  test.each([
    ['checktype=ping', 'checktype ping'],
    ['checktype=off', 'checktype off'],
    ['service=dns', 'service dns'],
    ['service=radius', 'service radius'],
  ])('%s makes no check and is reported', (line, directive) => {
    const text = virtual([line]);
    expect(svc(text)['check']).toBeUndefined();
    expect(at(ld(text), lineOf(text, line))).toEqual([`omitted ${directive}`]);
  });

  test('service=smtp is an smtp check; its request/receive are reported', () => {
    const text = virtual(['service=smtp', 'request="x"', 'receive="220"'], [], 'virtual=192.0.2.10:25');
    const m = ld(text);
    expect(m.config.services[0]!['check']).toMatchObject({ type: 'smtp' });
    expect([lineOf(text, 'smtp'), lineOf(text, 'request'), lineOf(text, 'receive')].map((l) => at(m, l))).toEqual([
      [],
      ['omitted request'],
      ['omitted receive'],
    ]);
    expect(printedState(m).services[0]!.realservers[0]!.check).toMatchObject({ type: 'smtp', port: 25 });
  });

  test('service=dns with a request is a dns check for that A record; receive is reported', () => {
    const text = virtual(
      ['service=dns', 'request="www.example.com"', 'receive="192.0.2.80"'],
      [],
      'virtual=192.0.2.10:53',
    );
    const m = ld(text);
    expect(m.config.services[0]!['check']).toMatchObject({ type: 'dns', dns: { name: 'www.example.com', type: 'A' } });
    expect(at(m, lineOf(text, 'receive'))).toEqual(['omitted receive']);
    expect(printedState(m).services[0]!.realservers[0]!.check).toMatchObject({ type: 'dns', port: 53 });
    const ptr = virtual(['service=dns', 'request="192.0.2.80"'], [], 'virtual=192.0.2.10:53');
    expect(svc(ptr)['check']).toBeUndefined();
    expect(at(ld(ptr), lineOf(ptr, 'request'))).toEqual(['omitted service dns']);
  });

  test('service=ftp is a tcp check, reported', () => {
    const text = virtual(['service=ftp']);
    expect(svc(text)['check']).toMatchObject({ type: 'tcp' });
    expect(at(ld(text), lineOf(text, 'ftp'))).toEqual(['omitted service ftp']);
  });

  test('checktype=on and service=none: no check, nothing reported', () => {
    for (const line of ['checktype=on', 'service=none']) expect(ld(virtual([line])).reports).toEqual([]);
  });

  test('a section checkinterval counts only with fork = yes', () => {
    const text = virtual(['checkinterval=30', 'checktype=connect']);
    expect(svc(text)['check']).toMatchObject({ interval: 10 });
    expect(at(ld(text), lineOf(text, 'checkinterval'))).toEqual(['omitted checkinterval']);
    expect(svc(virtual(['checkinterval=30', 'checktype=connect'], ['fork=yes']))['check']).toMatchObject({
      interval: 30,
    });
  });
});

describe('globals and syntax', () => {
  test.each([
    ['logfile="local0"', 'omitted'],
    ['callback="/bin/x"', 'omitted'],
    ['maintenancedir=/x', 'omitted'],
    ['autoreload=yes', 'note'],
    ['supervised=yes', 'note'],
    ['emailalert="a@example.com"', 'omitted'],
  ])('%s', (line, severity) => {
    const text = virtual(['checktype=on'], [line]);
    expect(at(ld(text), 1)).toEqual([`${severity} ${line.split('=')[0]}`]);
  });

  test('comments, blank lines, tabs as 4 spaces; a line that is not key = value is IMPORT_SYNTAX at its line', () => {
    expect(
      ld(lines('# c', '', 'virtual=192.0.2.10:80', '    real=198.51.100.1:80 gate # c', '\tchecktype=on')).config
        .services,
    ).toHaveLength(1);
    let error: unknown;
    try {
      ld(lines('virtual=192.0.2.10:80', '\treal 198.51.100.1'));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LvsdError);
    expect(error).toMatchObject({ code: 'IMPORT_SYNTAX', details: { file: FILE, line: 2 } });
  });
});
