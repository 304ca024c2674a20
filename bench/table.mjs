// The benchmark's table: N services x R real servers, as an lvsd config file
// (in two styles) and as the `ipvsadm -R` text of the same table.
// Documentation addresses only (198.51.100.0/24 VIPs, 203.0.113.0/24 real servers).

/** Service i: VIP 198.51.100.(1 + i % 250), port 1000 + floor(i / 250). */
export function serviceAt(i) {
  return { vip: `198.51.100.${1 + (i % 250)}`, port: 1000 + Math.floor(i / 250) };
}

/** Real server j of a service: 203.0.113.(10 + j), weight 1 + j (the port follows the service: DR). */
export function realServerAt(j) {
  return { address: `203.0.113.${10 + j}`, weight: 1 + j };
}

/** The file styles the bench measures: one service per line, or one key per line as docs/config.md writes. */
export const STYLES = ['flow', 'block'];

/**
 * The config text.
 * - `style`: `flow` (one service per line, its real servers in a flow
 *   sequence: 10,000 services are 10,000 lines) or `block` (one key per
 *   line, as docs/config.md writes configs).
 * - `weightOf(i, j)` may change one real server's weight (the "one line
 *   changed" case).
 * - `checked`: { service, realserver, port }: that one real server gets a
 *   TCP health check on `port` every second (rise 1, fall 1), the bench's
 *   health flip. A check changes nothing in `apply` or `plan`.
 */
export function configText(n, r, weightOf = (_i, j) => realServerAt(j).weight, style = 'flow', checked) {
  const out = ['version: 1', 'services:'];
  const check = (port) => `{ type: tcp, port: ${port}, interval: 1s, timeout: 1s, rise: 1, fall: 1 }`;
  for (let i = 0; i < n; i++) {
    const s = serviceAt(i);
    const checkOf = (j) => (checked && checked.service === i && checked.realserver === j ? check(checked.port) : '');
    if (style === 'block') {
      out.push(`  - name: s${i}`, `    vip: ${s.vip}`, `    port: ${s.port}`, '    scheduler: wrr', '    realservers:');
      for (let j = 0; j < r; j++) {
        out.push(`      - address: ${realServerAt(j).address}`, `        weight: ${weightOf(i, j)}`);
        if (checkOf(j)) out.push(`        check: ${checkOf(j)}`);
      }
      continue;
    }
    const rs = Array.from({ length: r }, (_, j) => {
      const c = checkOf(j);
      return `{ address: ${realServerAt(j).address}, weight: ${weightOf(i, j)}${c ? `, check: ${c}` : ''} }`;
    });
    out.push(`  - { name: s${i}, vip: ${s.vip}, port: ${s.port}, scheduler: wrr, realservers: [${rs.join(', ')}] }`);
  }
  return out.join('\n') + '\n';
}

/** The same table as `ipvsadm -R` input (what `ipvsadm -Sn` prints for it). */
export function ipvsadmText(n, r) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const s = serviceAt(i);
    out.push(`-A -t ${s.vip}:${s.port} -s wrr`);
    for (let j = 0; j < r; j++) {
      const x = realServerAt(j);
      out.push(`-a -t ${s.vip}:${s.port} -r ${x.address}:${s.port} -g -w ${x.weight}`);
    }
  }
  return out.join('\n') + '\n';
}
