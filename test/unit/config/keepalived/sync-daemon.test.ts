/** keepalived's global_defs lvs_sync_daemon becomes director.sync with role both. */
import { describe, expect, test } from 'vitest';
import { ROLE_BOTH_NOTE } from '../../../../src/config/keepalived/sync-daemon.js';
import { lines } from '../helpers.js';
import { keepalived, printedState, reportsAt } from './helpers.js';

const VS = ['virtual_server 192.0.2.10 80 {', '  real_server 198.51.100.1 80 {', '  }', '}'];
const VRRP = ['vrrp_instance VI_1 {', '  interface eth0', '  virtual_router_id 51', '}'];

describe('lvs_sync_daemon', () => {
  test('every parameter: director.sync with role both, and a note at its line saying why both', () => {
    const m = keepalived(
      lines(
        'global_defs {',
        '  lvs_sync_daemon eth1 VI_1 id 7 maxlen 1400 port 9000 ttl 2 group 239.1.2.3',
        '}',
        ...VS,
      ),
    );
    expect(m.config['director']).toEqual({
      sync: { interface: 'eth1', id: 7, maxlen: 1400, port: 9000, ttl: 2, group: '239.1.2.3', role: 'both' },
    });
    expect(reportsAt(m, 2)).toEqual(['note lvs_sync_daemon']);
    expect(m.reports.find((r) => r.line === 2)!.reason).toBe(ROLE_BOTH_NOTE);
    expect(printedState(m).sync).toEqual([
      { role: 'master', interface: 'eth1', id: 7, group: '239.1.2.3', port: 9000, ttl: 2, maxlen: 1400 },
      { role: 'backup', interface: 'eth1', id: 7, group: '239.1.2.3', port: 9000, ttl: 2, maxlen: 1400 },
    ]);
  });

  test('no id: the VRRP instance’s virtual_router_id, as keepalived does, with a note', () => {
    const m = keepalived(lines('global_defs {', '  lvs_sync_daemon eth1 VI_1', '}', ...VRRP, ...VS));
    expect(m.config['director']).toEqual({ sync: { interface: 'eth1', id: 51, role: 'both' } });
    expect(m.reports.filter((r) => r.line === 2).map((r) => r.reason)).toEqual([
      "id 51: the virtual_router_id of vrrp_instance VI_1, keepalived's default",
      ROLE_BOTH_NOTE,
    ]);
  });

  test('no instance named: the options follow the interface', () => {
    const m = keepalived(lines('global_defs {', '  lvs_sync_daemon eth1 id 0', '}', ...VS));
    expect(m.config['director']).toEqual({ sync: { interface: 'eth1', id: 0, role: 'both' } });
  });

  test('no id and no instance to take it from: reported as not converted', () => {
    const m = keepalived(lines('global_defs {', '  lvs_sync_daemon eth1 VI_9', '}', ...VS));
    expect(m.config['director']).toBeUndefined();
    expect(reportsAt(m, 2)).toEqual(['omitted lvs_sync_daemon']);
  });

  test('an unknown option is reported, the rest converted', () => {
    const m = keepalived(lines('global_defs {', '  lvs_sync_daemon eth1 VI_1 id 3 color blue', '}', ...VS));
    expect(m.config['director']).toEqual({ sync: { interface: 'eth1', id: 3, role: 'both' } });
    expect(reportsAt(m, 2)).toEqual(['omitted lvs_sync_daemon color blue', 'note lvs_sync_daemon']);
  });
});
