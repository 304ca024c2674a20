/**
 * The keepalived.conf that pairs with an imported lvsd config: every
 * top-level block but `virtual_server` and `virtual_server_group`, as
 * written (its `@ID` lines kept for keepalived to evaluate), the includes
 * flattened, the `$NAME=VALUE` definitions first. From `global_defs` it drops
 * what would touch the table lvsd now owns: `lvs_flush` (flushes it at
 * start), `lvs_flush_onstop` (at stop), `lvs_timeouts` (lvsd's `timeouts`)
 * and `lvs_sync_daemon` (lvsd's `director.sync`: keepalived would stop and
 * start the daemons lvsd runs at each VRRP change). keepalived then runs
 * VRRP only and never changes a service or a sync daemon. Pure over a ConfigFiles reader.
 */
import { Reporter } from '../migration.js';
import type { Statement } from './blocks.js';
import { readStatements } from './blocks.js';
import type { ConfigFiles } from './glob.js';

const LVS_BLOCKS = new Set(['virtual_server', 'virtual_server_group']);
const DROPPED_GLOBALS = new Set(['lvs_flush', 'lvs_flush_onstop', 'lvs_timeouts', 'lvs_sync_daemon']);

/** The VRRP-only keepalived.conf text for the keepalived.conf at `path`. */
export function vrrpOnlyConfig(path: string, files: ConfigFiles, configId: string): string {
  const definitions: string[] = [];
  const top = readStatements(path, files, configId, new Reporter(), definitions);
  const out = [
    `# keepalived.conf without the virtual servers lvsd now manages; made by lvsd import from ${path}`,
    ...definitions,
  ];
  const texts = new Map<string, string[]>();
  const source = (file: string): string[] => {
    let t = texts.get(file);
    if (!t) texts.set(file, (t = files.read(file).split('\n')));
    return t;
  };
  for (const st of top) {
    if (LVS_BLOCKS.has(st.keyword)) continue;
    const end = st.end && st.end.file === st.file ? st.end.line : st.line;
    const dropped = new Set(
      st.keyword === 'global_defs' ? (st.block ?? []).filter((s) => DROPPED_GLOBALS.has(s.keyword)).map(lineKey) : [],
    );
    out.push('');
    for (let n = st.line; n <= end; n++) {
      if (!dropped.has(`${st.file}:${n}`)) out.push(source(st.file)[n - 1]!);
    }
  }
  return `${out.join('\n')}\n`;
}

function lineKey(s: Statement): string {
  return `${s.file}:${s.line}`;
}
