import { describe, expect, test } from 'vitest';
import { parseIpvsadmSave } from '../../../src/config/ipvsadm-text.js';
import { loadConfigTexts } from '../../../src/config/load.js';
import { printConfig } from '../../../src/config/print.js';
import { isLvsdError } from '../../../src/errors.js';
import type { LvsdError } from '../../../src/errors.js';
import { lines } from './helpers.js';

const parse = (...ls: string[]) => parseIpvsadmSave(lines(...ls)).services;

function parseError(text: string): LvsdError {
  try {
    parseIpvsadmSave(text, 'save.txt');
  } catch (e) {
    if (isLvsdError(e, 'IMPORT_PARSE')) return e;
    throw e;
  }
  throw new Error('parsed without an error');
}

const dr = { forward: 'dr', weight: 1, upperThreshold: 0, lowerThreshold: 0 } as const;

describe('parseIpvsadmSave', () => {
  test('the classic LVS-DR table', () => {
    expect(
      parse(
        '-A -t 192.168.1.200:80 -s rr',
        '-a -t 192.168.1.200:80 -r 192.168.1.193:80 -g -w 1',
        '-a -t 192.168.1.200:80 -r 192.168.1.195:80 -g -w 1',
      ),
    ).toStrictEqual([
      {
        family: 'ipv4',
        protocol: 'tcp',
        address: '192.168.1.200',
        port: 80,
        scheduler: 'rr',
        flags: [],
        onePacket: false,
        realservers: [
          { family: 'ipv4', address: '192.168.1.193', port: 80, ...dr },
          { family: 'ipv4', address: '192.168.1.195', port: 80, ...dr },
        ],
      },
    ]);
  });

  test('persistence, netmask, scheduler flags, one-packet, persistence engine', () => {
    const [s] = parse('-A -u 192.0.2.1:5060 -s sh -p 300 -M 255.255.255.0 -b sh-port,sh-fallback -o --pe sip');
    expect(s).toStrictEqual({
      family: 'ipv4',
      protocol: 'udp',
      address: '192.0.2.1',
      port: 5060,
      scheduler: 'sh',
      flags: ['sh-fallback', 'sh-port'],
      onePacket: true,
      persistence: { timeout: 300, netmask: '255.255.255.0' },
      pe: 'sip',
      realservers: [],
    });
  });

  test('-p without a timeout is 300 seconds; no -M is the whole address', () => {
    expect(parse('-A -t 192.0.2.1:443 -s wlc -p')[0]!.persistence).toEqual({
      timeout: 300,
      netmask: '255.255.255.255',
    });
    expect(parse('-A -t 192.0.2.1:443 -p -s wlc')[0]!.persistence).toEqual({
      timeout: 300,
      netmask: '255.255.255.255',
    });
    expect(parse('-A -t [2001:db8::1]:443 -s wlc -p 1800 -M 64')[0]!.persistence).toEqual({
      timeout: 1800,
      netmask: '64',
    });
    expect(parse('-A -t [2001:db8::1]:443 -s wlc -p 60')[0]!.persistence).toEqual({ timeout: 60, netmask: '128' });
  });

  test('what old ipvsadm versions print: " pe sip" and " ops"', () => {
    const [s] = parse('-A -u 192.0.2.1:5060 -s rr -p 300 pe sip ops');
    expect(s).toMatchObject({ pe: 'sip', onePacket: true });
  });

  test('fwmark services, IPv6, tunnels', () => {
    const [s] = parse(
      '-A -f 7 -6 -s sh',
      '-a -f 7 -6 -r [2001:db8::10]:0 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum',
      '-a -f 7 -6 -r [2001:db8::11]:0 -i -w 1 --tun-type gue --tun-port 6080 --tun-remcsum',
      '-a -f 7 -6 -r [2001:db8::12]:0 -i -w 1 --tun-type gre --tun-nocsum',
      '-a -f 7 -6 -r [2001:db8::13]:0 -i -w 1 --tun-type ipip',
      '-a -f 7 -6 -r [2001:db8::14]:0 -i -w 1',
    );
    expect(s).toMatchObject({ family: 'ipv6', fwmark: 7, scheduler: 'sh' });
    expect(s!.protocol).toBeUndefined();
    expect(s!.realservers.map((r) => [r.address, r.port, r.forward, r.tunnel])).toEqual([
      ['2001:db8::10', 0, 'tunnel', { type: 'gue', port: 6080, checksum: 'csum' }],
      ['2001:db8::11', 0, 'tunnel', { type: 'gue', port: 6080, checksum: 'remcsum' }],
      ['2001:db8::12', 0, 'tunnel', { type: 'gre', port: 0, checksum: 'none' }],
      ['2001:db8::13', 0, 'tunnel', { type: 'ipip', port: 0, checksum: 'none' }],
      ['2001:db8::14', 0, 'tunnel', { type: 'ipip', port: 0, checksum: 'none' }],
    ]);
  });

  test('an IPv4 fwmark service, NAT with another port, thresholds, sctp', () => {
    const services = parse(
      '-A -f 1 -s wlc',
      '-a -f 1 -r 192.0.2.10:0 -m -w 5',
      '-A --sctp-service 192.0.2.1:3868 -s rr',
      '-a --sctp-service 192.0.2.1:3868 -r 198.51.100.10:3869 -m -w 2 -x 100 -y 50',
    );
    expect(services.map((s) => [s.family, s.fwmark, s.protocol, s.port])).toEqual([
      ['ipv4', 1, undefined, undefined],
      ['ipv4', undefined, 'sctp', 3868],
    ]);
    expect(services[0]!.realservers[0]).toStrictEqual({
      family: 'ipv4',
      address: '192.0.2.10',
      port: 0,
      forward: 'nat',
      weight: 5,
      upperThreshold: 0,
      lowerThreshold: 0,
    });
    expect(services[1]!.realservers[0]).toMatchObject({
      port: 3869,
      forward: 'nat',
      weight: 2,
      upperThreshold: 100,
      lowerThreshold: 50,
    });
  });

  test('IPv6 addresses come back canonical', () => {
    const [s] = parse('-A -t [2001:DB8:0::1]:80 -s rr', '-a -t [2001:DB8:0::1]:80 -r [2001:db8:0:0::10]:80 -m -w 1');
    expect(s!.address).toBe('2001:db8::1');
    expect(s!.realservers[0]!.address).toBe('2001:db8::10');
  });

  test('mh flags, and flag-N for other schedulers', () => {
    expect(parse('-A -t 192.0.2.1:80 -s mh -b mh-fallback,mh-port')[0]!.flags).toEqual(['mh-fallback', 'mh-port']);
    expect(parse('-A -t 192.0.2.1:80 -s sh -b flag-2')[0]!.flags).toEqual(['sh-port']);
    expect(parse('-A -t 192.0.2.1:80 -s mh -b flag-1')[0]!.flags).toEqual(['mh-fallback']);
  });

  test('defaults when options are left out: wlc, -g, weight 1, the service port', () => {
    const [s] = parse('-A -t 192.0.2.1:80', '-a -t 192.0.2.1:80 -r 192.0.2.10');
    expect(s).toMatchObject({
      scheduler: 'wlc',
      realservers: [{ address: '192.0.2.10', port: 80, forward: 'dr', weight: 1 }],
    });
    expect(parse('-A -f 3', '-a -f 3 -r 192.0.2.10')[0]!.realservers[0]!.port).toBe(0);
    expect(parse('-A -t 192.0.2.1 -s rr -p')[0]!.port).toBe(0);
  });

  test('long options, --opt=value, a leading ipvsadm, comments and blank lines', () => {
    const services = parse(
      '# saved by ipvsadm-save',
      '',
      'ipvsadm --add-service --tcp-service 192.0.2.1:80 --scheduler rr --persistent=600',
      '/usr/sbin/ipvsadm --add-server --tcp-service 192.0.2.1:80 --real-server 192.0.2.10:80 --masquerading --weight=3',
      '  -a -t 192.0.2.1:80 -r 192.0.2.11:80 --gatewaying --weight 2 --u-threshold 9 --l-threshold 1  ',
    );
    expect(services).toHaveLength(1);
    expect(services[0]).toMatchObject({ scheduler: 'rr', persistence: { timeout: 600 } });
    expect(services[0]!.realservers.map((r) => [r.forward, r.weight, r.upperThreshold, r.lowerThreshold])).toEqual([
      ['nat', 3, 0, 0],
      ['dr', 2, 9, 1],
    ]);
  });

  test('empty output is no services', () => {
    expect(parseIpvsadmSave('')).toEqual({ services: [] });
  });
});

describe('what it cannot read is IMPORT_PARSE with line and column', () => {
  test.each([
    ['an unknown option', '-A -t 192.0.2.1:80 -s rr --frobnicate', 26, 'unknown option "--frobnicate"'],
    ['an unknown command', '--set 900 120 300', 1, 'expected -A'],
    ['a host name (no -n)', '-A -t www.example.com:http -s rr', 7, 'use ipvsadm -Sn'],
    ['a service port name (no -n)', '-A -t 192.0.2.1:http -s rr', 7, 'numeric port'],
    ['a missing value', '-A -t 192.0.2.1:80 -s', 20, '-s needs a value'],
    ['no service', '-A -s rr', 1, 'exactly one of -t'],
    ['two services', '-A -t 192.0.2.1:80 -u 192.0.2.1:80', 1, 'exactly one of -t'],
    ['a netmask without persistence', '-A -t 192.0.2.1:80 -M 255.255.255.0', 20, 'without -p'],
    ['a bad netmask', '-A -t 192.0.2.1:80 -p -M 255.0.255.0', 26, 'bad netmask'],
    ['an unknown scheduler flag', '-A -t 192.0.2.1:80 -s sh -b sh-magic', 29, 'sh-magic'],
    ['a real server option on a service', '-A -t 192.0.2.1:80 -w 1', 20, 'belongs on a real server line'],
    ['-6 with an address', '-A -t 192.0.2.1:80 -6', 20, '-6 goes with -f only'],
    ['a bad fwmark', '-A -f 0', 7, 'firewall mark'],
  ])('%s', (_, line, column, message) => {
    const e = parseError(`# header\n${line}\n`);
    expect(e).toMatchObject({ code: 'IMPORT_PARSE', pos: { file: 'save.txt', line: 2, column } });
    expect(e.message).toContain(message);
  });

  test('a real server before its service', () => {
    const e = parseError('-a -t 192.0.2.1:80 -r 192.0.2.10:80 -g -w 1\n');
    expect(e.toString()).toBe('save.txt:1:1: real server for service tcp/192.0.2.1:80, which no -A line added before');
  });

  test('a service added twice', () => {
    expect(parseError('-A -t 192.0.2.1:80\n-A -t 192.0.2.1:80 -s rr\n')).toMatchObject({ pos: { line: 2, column: 1 } });
  });

  test('real server lines: service options, two forwarding methods, tunnel options without -i', () => {
    const head = '-A -t 192.0.2.1:80\n';
    expect(parseError(`${head}-a -t 192.0.2.1:80 -r 192.0.2.10:80 -s rr\n`).message).toContain(
      'belongs on a service line',
    );
    expect(parseError(`${head}-a -t 192.0.2.1:80 -r 192.0.2.10:80 -g -m\n`).message).toContain(
      'more than one forwarding method',
    );
    expect(parseError(`${head}-a -t 192.0.2.1:80 -r 192.0.2.10:80 -g --tun-type gue\n`).message).toContain('needs -i');
    expect(parseError(`${head}-a -t 192.0.2.1:80 -r 192.0.2.10:80 -i --tun-type vxlan\n`).message).toContain(
      'unknown tunnel type',
    );
    expect(parseError(`${head}-a -t 192.0.2.1:80 -r 192.0.2.10:80 -w -1\n`).message).toContain('weight');
    expect(parseError(`${head}-a -t 192.0.2.1:80\n`).message).toContain('needs -r');
  });
});

test('imported tables print as config that loads back to the same services', () => {
  const { services } = parseIpvsadmSave(
    lines(
      '-A -t 192.0.2.1:80 -s rr -p 300 -M 255.255.255.0',
      '-a -t 192.0.2.1:80 -r 192.0.2.10:80 -g -w 1',
      '-a -t 192.0.2.1:80 -r 192.0.2.11:80 -g -w 0',
      '-A -u [2001:db8::53]:53 -s sh -b sh-port -o',
      '-a -u [2001:db8::53]:53 -r [2001:db8::10]:5353 -m -w 3 -x 10 -y 5',
      '-A -f 7 -6 -s mh -b mh-fallback',
      '-a -f 7 -6 -r 192.0.2.20:0 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum',
    ),
  );
  const r = loadConfigTexts([{ file: 'imported.yaml', text: printConfig({ services }) }]);
  expect(r.ok ? r.state.services!.map(({ name: _name, ...s }) => s) : r.errors.map(String)).toStrictEqual(services);
});
