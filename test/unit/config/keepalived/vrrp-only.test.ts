/**
 * `lvsd import --from-keepalived --vrrp-config FILE`: the keepalived.conf
 * that keeps VRRP beside lvsd holds every block but the virtual servers, as
 * written, and none of the global_defs settings that would touch lvsd's table.
 */
import { expect, test } from 'vitest';
import { vrrpOnlyConfig } from '../../../../src/config/keepalived/vrrp-only.js';
import { lines } from '../helpers.js';
import { MAIN, memFiles } from './helpers.js';

test('virtual servers go, VRRP stays as written (@ID lines too), includes flattened, lvs_flush, lvs_timeouts and lvs_sync_daemon dropped', () => {
  const main = lines(
    '$IF=eth0',
    'global_defs {',
    '  router_id lb',
    '  lvs_flush',
    '  lvs_flush_onstop',
    '  lvs_timeouts tcp 900',
    '  lvs_sync_daemon $IF VI_1',
    '}',
    'virtual_server_group g {',
    '  192.0.2.1 80',
    '}',
    'include vrrp.conf',
    'virtual_server 192.0.2.10 80 {',
    '  real_server 198.51.100.1 80 {',
    '  }',
    '}',
  );
  const vrrp = lines('vrrp_instance VI_1 {', '  interface $IF', '  @lb1 priority 150', '  @lb2 priority 100', '}');
  const text = vrrpOnlyConfig(MAIN, memFiles({ [MAIN]: main, '/etc/keepalived/vrrp.conf': vrrp }), 'lb1');
  expect(text.split('\n').slice(1)).toEqual([
    '$IF=eth0',
    '',
    'global_defs {',
    '  router_id lb',
    '}',
    '',
    'vrrp_instance VI_1 {',
    '  interface $IF',
    '  @lb1 priority 150',
    '  @lb2 priority 100',
    '}',
    '',
  ]);
});
