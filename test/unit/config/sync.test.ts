import { describe, expect, test } from 'vitest';
import { errorsOf, lines, posOf, stateOf } from './helpers.js';

const svc = '  - { vip: 198.51.100.200, port: 80, realservers: [198.51.100.193] }';

describe('director.sync: normalization', () => {
  test('role both (default) is a master and a backup with the kernel defaults; the backup maxlen is left to the kernel', () => {
    const s = stateOf(lines('version: 1', 'director:', '  sync: { interface: eth1, id: 7 }', 'services:', svc));
    expect(s.sync).toEqual([
      { role: 'master', interface: 'eth1', id: 7, group: '224.0.0.81', port: 8848, ttl: 1, maxlen: 1472 },
      { role: 'backup', interface: 'eth1', id: 7, group: '224.0.0.81', port: 8848, ttl: 1 },
    ]);
  });

  test('an IPv6 group: canonical text, the master default maxlen takes the IPv6 headers off', () => {
    const s = stateOf(
      lines('version: 1', 'director:', '  sync: { interface: eth1, id: 0, role: master, group: "FF02::1:81" }'),
    );
    expect(s.sync).toEqual([
      { role: 'master', interface: 'eth1', id: 0, group: 'ff02::1:81', port: 8848, ttl: 1, maxlen: 1452 },
    ]);
  });

  test('every value given is kept, for each role', () => {
    const s = stateOf(
      lines(
        'version: 1',
        'director:',
        '  sync: { interface: eth1, id: 255, role: backup, group: 239.1.2.3, port: 9000, ttl: 3, maxlen: 8000 }',
      ),
    );
    expect(s.sync).toEqual([
      { role: 'backup', interface: 'eth1', id: 255, group: '239.1.2.3', port: 9000, ttl: 3, maxlen: 8000 },
    ]);
  });

  test('no director.sync: no sync state', () => {
    expect(stateOf(lines('version: 1', 'director: { ip_forward: true }', 'services:', svc)).sync).toBeUndefined();
  });
});

describe('director.sync: validation', () => {
  const errs = (...ls: string[]) => errorsOf(lines(...ls)).map((e) => ({ code: e.code, pos: e.pos, msg: e.message }));

  test('interface and id are required', () => {
    expect(errs('version: 1', 'director:', '  sync: { id: 7 }').map((e) => e.code)).toEqual(['CONFIG_MISSING']);
    expect(errs('version: 1', 'director:', '  sync: { interface: eth1 }').map((e) => e.code)).toEqual([
      'CONFIG_MISSING',
    ]);
  });

  test.each([
    ['id: 256', 'CONFIG_RANGE'],
    ['id: -1', 'CONFIG_RANGE'],
    ['port: 0', 'CONFIG_RANGE'],
    ['port: 65536', 'CONFIG_RANGE'],
    ['ttl: 0', 'CONFIG_RANGE'],
    ['ttl: 256', 'CONFIG_RANGE'],
    ['role: primary', 'CONFIG_SCHEMA'],
  ])('%s is refused (%s)', (kv, code) => {
    const base = kv.startsWith('id:') ? 'interface: eth1' : 'interface: eth1, id: 7';
    const e = errs('version: 1', 'director:', `  sync: { ${base}, ${kv} }`);
    expect(e.map((x) => x.code)).toContain(code);
  });

  test('a group that is not multicast is refused at its value, naming it', () => {
    const text = lines(
      'version: 1',
      'director:',
      '  sync:',
      '    interface: eth1',
      '    id: 7',
      '    group: 192.0.2.1',
    );
    const [e, ...rest] = errorsOf(text);
    expect(rest).toEqual([]);
    expect(e).toMatchObject({ code: 'CONFIG_ADDRESS', pos: { line: 6, column: 12 } });
    expect(e!.message).toContain('192.0.2.1 is not a multicast address');
  });

  test('a group that is no address at all is refused', () => {
    expect(errs('version: 1', 'director:', '  sync: { interface: eth1, id: 7, group: nowhere }')[0]).toMatchObject({
      code: 'CONFIG_ADDRESS',
    });
  });

  test('IPv6 multicast is a group', () => {
    expect(errs('version: 1', 'director:', '  sync: { interface: eth1, id: 7, group: "ff02::81" }')).toEqual([]);
  });

  test('maxlen: a backup (or both) needs at least 1024, a master 1; the top is 65535 minus the headers', () => {
    const m = (role: string, maxlen: number, group = '224.0.0.81') =>
      errs(
        'version: 1',
        'director:',
        `  sync: { interface: eth1, id: 7, role: ${role}, maxlen: ${maxlen}, group: "${group}" }`,
      );
    expect(m('master', 1)).toEqual([]);
    expect(m('backup', 1023)[0]).toMatchObject({ code: 'CONFIG_RANGE' });
    expect(m('both', 1023)[0]!.msg).toContain('1024..65507');
    expect(m('both', 1024)).toEqual([]);
    expect(m('master', 65507)).toEqual([]);
    expect(m('master', 65488, 'ff02::81')[0]!.msg).toContain('1..65487');
  });

  test('mixed-family real servers with sync: an error at the real server that names the service', () => {
    const text = lines(
      'version: 1',
      'director:',
      '  sync: { interface: eth1, id: 7 }',
      'defaults: { forward: tunnel }',
      'services:',
      '  - vip: 198.51.100.200',
      '    port: 80',
      '    realservers: [198.51.100.193, "2001:db8::10"]',
    );
    const errors = errorsOf(text);
    expect(errors.map((e) => e.code)).toEqual(['CONFIG_SYNC']);
    expect(errors[0]!.message).toContain('tcp/198.51.100.200:80');
    expect(errors[0]!.message).toContain('a.yaml:3:3');
    expect(errors[0]!.pos).toMatchObject(posOf(text, '"2001:db8::10"'));
  });

  test('the same mixed-family service without sync loads', () => {
    const text = lines(
      'version: 1',
      'defaults: { forward: tunnel }',
      'services:',
      '  - { vip: 198.51.100.200, port: 80, realservers: [198.51.100.193, "2001:db8::10"] }',
    );
    expect(errorsOf(text)).toEqual([]);
  });
});

describe('director.sync: a sorry server of the other family', () => {
  test('is refused with sync (it becomes a real server while none is up), at the sorry server', () => {
    const text = lines(
      'version: 1',
      'director:',
      '  sync: { interface: eth1, id: 7 }',
      'defaults: { forward: tunnel }',
      'services:',
      '  - vip: 198.51.100.200',
      '    port: 80',
      '    sorry_server: "2001:db8::99"',
      '    realservers: [198.51.100.193]',
    );
    const errors = errorsOf(text);
    expect(errors.map((e) => e.code)).toEqual(['CONFIG_SYNC']);
    expect(errors[0]!.message).toContain('IPv6 sorry server 2001:db8::99 in an IPv4 service');
    expect(errors[0]!.pos).toMatchObject({ line: 8 });
  });
});
