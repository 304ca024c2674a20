/**
 * keepalived's `lvs_sync_daemon IFACE [INSTANCE] [id N] [maxlen N] [port N]
 * [ttl N] [group ADDR]` (global_defs) as lvsd's director.sync. keepalived
 * runs one daemon and swaps it between master and backup with the VRRP
 * instance's state, so a director that comes back has no connection state;
 * lvsd runs both roles at all times instead (role both). Pure.
 */
import type { Reporter } from '../migration.js';
import type { Statement } from './blocks.js';

const KEYS = new Set(['id', 'maxlen', 'port', 'ttl', 'group']);

/** Why the converted block has role both, reported at the directive. */
export const ROLE_BOTH_NOTE =
  'role: both: keepalived swaps one daemon between master and backup with the VRRP state, so a director that returns has no connection state; lvsd runs both at all times, and VRRP moves only the VIP';

/** The director.sync block for an lvs_sync_daemon statement, or undefined (reported) when it cannot be one. */
export function syncFromKeepalived(
  s: Statement,
  top: readonly Statement[],
  r: Reporter,
): Record<string, unknown> | undefined {
  const [iface, ...rest] = s.args;
  if (!iface) {
    r.omit(s, 'lvs_sync_daemon', 'names no interface');
    return undefined;
  }
  const instance = rest[0] !== undefined && !KEYS.has(rest[0]) ? rest.shift() : undefined;
  const sync: Record<string, unknown> = { interface: iface };
  for (let i = 0; i < rest.length; i += 2) {
    const key = rest[i]!;
    const value = rest[i + 1];
    if (!KEYS.has(key) || value === undefined) {
      r.omit(s, `lvs_sync_daemon ${key} ${value ?? ''}`.trim(), 'not id, maxlen, port, ttl or group with a value');
      continue;
    }
    sync[key] = key === 'group' ? value : Number(value);
  }
  if (sync['id'] === undefined) {
    // keepalived's default: the virtual_router_id of the VRRP instance named.
    const vrid = top
      .find((t) => t.keyword === 'vrrp_instance' && t.args[0] === instance)
      ?.block?.find((b) => b.keyword === 'virtual_router_id')?.args[0];
    if (vrid === undefined) {
      r.omit(
        s,
        'lvs_sync_daemon',
        `has no id, and no vrrp_instance ${instance ?? '(none named)'} with a virtual_router_id to take it from (keepalived's default): add id N`,
      );
      return undefined;
    }
    sync['id'] = Number(vrid);
    r.note(
      s,
      'lvs_sync_daemon',
      `id ${vrid}: the virtual_router_id of vrrp_instance ${instance}, keepalived's default`,
    );
  }
  sync['role'] = 'both';
  r.note(s, 'lvs_sync_daemon', ROLE_BOTH_NOTE);
  return sync;
}
