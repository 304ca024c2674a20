/**
 * keepalived.conf as an lvsd config: its virtual_server and
 * virtual_server_group blocks and global_defs' lvs_timeouts are converted;
 * every other block and directive is reported at FILE:LINE with why lvsd has
 * no equivalent (VRRP stays with keepalived). Pure over a ConfigFiles reader.
 */
import type { ConvertedService, Migration } from '../migration.js';
import { Reporter, sorryDefaults } from '../migration.js';
import type { Statement } from './blocks.js';
import { readStatements } from './blocks.js';
import type { ConfigFiles } from './glob.js';
import type { GroupEntry } from './groups.js';
import { readGroup } from './groups.js';
import { servicesOf } from './services.js';
import { syncFromKeepalived } from './sync-daemon.js';
import { readVirtualServer, readVirtualServerId } from './virtual-server.js';

export interface KeepalivedOptions {
  /** keepalived's -i: which `@ID` lines count. keepalived's default is the node name up to its first dot. */
  configId: string;
}

const VRRP = 'VRRP stays with keepalived: keep this block in a keepalived.conf without virtual_server blocks';

const TOP_OMITTED: Record<string, string> = {
  vrrp_instance: VRRP,
  vrrp_sync_group: VRRP,
  vrrp_script: VRRP,
  vrrp_track_process: VRRP,
  vrrp_track_file: VRRP,
  track_file: 'lvsd has no file check kind (a weight read from a file)',
  garp_group: VRRP,
  lvs_sync_daemon: 'a global_defs setting, not a block: write it inside global_defs',
  SSL: 'lvsd https checks present no client certificate and do not verify unless check.http.verify is set',
  static_ipaddress: 'lvsd binds service VIPs with director.bind_vips; other addresses are not its job',
  static_routes: 'lvsd does not manage routes',
  static_rules: 'lvsd does not manage routing rules',
  linkbeat_interfaces: VRRP,
  bfd_instance: 'lvsd has no BFD',
};

const GLOBAL_OMITTED: Record<string, string> = {
  lvs_flush: 'lvsd never flushes: it deletes the services the config does not list, one by one',
  lvs_flush_onstop: 'lvsd leaves the table as it is when it stops',
};

/** The lvsd config for the keepalived.conf at `path` (and its includes), with a report of what was left out. */
export function convertKeepalived(path: string, files: ConfigFiles, opts: KeepalivedOptions): Migration {
  const r = new Reporter();
  const top = readStatements(path, files, opts.configId, r);
  const groups = new Map<string, GroupEntry[]>();
  for (const st of top)
    if (st.keyword === 'virtual_server_group' && st.args[0]) groups.set(st.args[0], readGroup(st, r));
  const converted: ConvertedService[] = [];
  const config: Migration['config'] = { version: 1, services: [] };
  for (const st of top) {
    if (st.keyword === 'virtual_server') {
      const id = readVirtualServerId(st, r);
      if (id) converted.push(...servicesOf(readVirtualServer(st, id, r), groups, r));
    } else if (st.keyword === 'global_defs') globalDefs(st, top, config, r);
    else if (st.keyword === 'virtual_server_group') {
      if (!st.args[0]) r.omit(st, st.keyword, 'has no name');
    } else r.omit(st, st.keyword, TOP_OMITTED[st.keyword] ?? 'not a block lvsd has an equivalent for');
  }
  const forward = sorryDefaults(converted, r);
  if (forward !== undefined) config['defaults'] = { forward };
  config.services = converted.map((c) => c.service);
  return { config, reports: r.reports };
}

/** global_defs: lvs_timeouts becomes `timeouts`, lvs_sync_daemon `director.sync`; everything else is keepalived's own. */
function globalDefs(st: Statement, top: readonly Statement[], config: Migration['config'], r: Reporter): void {
  for (const s of st.block ?? []) {
    if (s.keyword === 'lvs_sync_daemon') {
      const sync = syncFromKeepalived(s, top, r);
      if (sync) config['director'] = { sync };
      continue;
    }
    if (s.keyword !== 'lvs_timeouts') {
      r.omit(
        s,
        s.keyword,
        GLOBAL_OMITTED[s.keyword] ?? "keepalived's own setting (global_defs); lvsd has none like it",
      );
      continue;
    }
    const timeouts: Record<string, number> = {};
    const keys: Record<string, string> = { tcp: 'tcp', tcpfin: 'tcp_fin', udp: 'udp' };
    for (let i = 0; i < s.args.length; i += 2) {
      const key = keys[s.args[i]!];
      const value = Number(s.args[i + 1]);
      if (key !== undefined && Number.isInteger(value) && value > 0) timeouts[key] = value;
      else r.omit(s, `lvs_timeouts ${s.args[i]} ${s.args[i + 1] ?? ''}`.trim(), 'not tcp/tcpfin/udp with seconds');
    }
    if (Object.keys(timeouts).length > 0) config['timeouts'] = timeouts;
  }
}
