// The benchmark's table: N services x R real servers, as an lvsd config file
// and as the `ipvsadm -R` text of the same table. Documentation addresses
// only (198.51.100.0/24 VIPs, 203.0.113.0/24 real servers).

/** Service i: VIP 198.51.100.(1 + i % 250), port 1000 + floor(i / 250). */
export function serviceAt(i) {
  return { vip: `198.51.100.${1 + (i % 250)}`, port: 1000 + Math.floor(i / 250) };
}

/** Real server j of a service: 203.0.113.(10 + j), weight 1 + j (the port follows the service: DR). */
export function realServerAt(j) {
  return { address: `203.0.113.${10 + j}`, weight: 1 + j };
}

/**
 * The config text. `weightOf(i, j)` may change one real server's weight
 * (the "one line changed" case). One service per line with flow-style real
 * servers: 10,000 services are 10,000 lines.
 */
export function configText(n, r, weightOf = (_i, j) => realServerAt(j).weight) {
  const out = ['version: 1', 'services:'];
  for (let i = 0; i < n; i++) {
    const s = serviceAt(i);
    const rs = Array.from(
      { length: r },
      (_, j) => `{ address: ${realServerAt(j).address}, weight: ${weightOf(i, j)} }`,
    );
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
