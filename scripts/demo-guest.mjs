#!/usr/bin/env node
// The demo's guest side: runs inside the User-Mode Linux kernel started by
// scripts/demo.mjs (`npm start`), as root, with IPVS loaded. Builds the
// classic LVS-DR LAN out of network namespaces (test/kernel/e2e/lan-core.mjs),
// lets lvsd configure every host from config/demo/, sends requests through
// the VIP, then edits the director's file under a running `lvsd run`.
//
// Everything LVS here is done by lvsd: the VIP on the director's eth0, the
// IPVS table, the VIP on each real server's lo and their ARP settings. The
// demo itself only builds the LAN and sends traffic.
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CLI,
  REPO_ROOT,
  VIP,
  countServers,
  createLan,
  parseIpvsStats,
  sleep,
  spawnIn,
  waitFor,
} from '../test/kernel/e2e/lan-core.mjs';

const DEMO = join(REPO_ROOT, 'config', 'demo');
const t0 = Date.now();
// the guest writes to a file the host streams: demo.mjs says whether its terminal takes colours
const color = process.env.LVSD_DEMO_COLOR === '1';
const bold = (s) => (color ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s) => (color ? `\x1b[2m${s}\x1b[0m` : s);
const say = (s = '') => process.stdout.write(`${s}\n`);
const step = (s) => say(`\n${bold(`== ${s}`)} ${dim(`(${((Date.now() - t0) / 1000).toFixed(1)} s)`)}`);
const indent = (text, prefix = '   ') =>
  text
    .trimEnd()
    .split('\n')
    .map((l) => prefix + l)
    .join('\n');
const rel = (p) => (p.startsWith(REPO_ROOT + '/') ? p.slice(REPO_ROOT.length + 1) : p);

if (process.env.LVSD_UML_GUEST !== '1') {
  process.stderr.write(
    'scripts/demo-guest.mjs runs inside the User-Mode Linux kernel; start the demo with `npm start`\n',
  );
  process.exit(2);
}

/** `lvsd ...` in a namespace, echoed as the command a user would type. */
async function lvsd(lan, ns, args) {
  say(`${dim(`[${ns}]#`)} lvsd ${args.map(rel).join(' ')}`);
  const r = await lan.lvsd(ns, args);
  const out = (r.stdout + r.stderr).trim();
  if (out) say(indent(out));
  if (r.code !== 0) throw new Error(`lvsd ${args.join(' ')} in ${ns} exited with ${r.code}`);
  return r.stdout;
}

/** Sends `n` requests through the VIP (each a new connection) and prints who answered. */
async function requests(lan, n) {
  const replies = await lan.client.get(`http://${VIP}/`, { count: n });
  say(`${dim('[client]#')} ${n} requests to http://${VIP}/, each on a new connection:`);
  say(indent(replies.map((r) => (r.ok ? r.server : `FAILED (${r.error})`)).join(' ')));
  const counts = countServers(replies);
  say(
    `   split: ${Object.entries(counts)
      .sort()
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  return replies;
}

/** The director's IPVS counters for the VIP, once the kernel's 2-second stats timer has counted `conns` connections. */
async function counters(lan, conns) {
  const svc = await waitFor(
    async () => {
      const s = parseIpvsStats(await lan.run('director', 'ipvsadm', ['-Ln', '--stats', '--exact'])).find(
        (x) => x.service === `${VIP}:80`,
      );
      return s && s.conns >= conns ? s : undefined;
    },
    { timeoutMs: 8000, intervalMs: 250, what: 'the IPVS counters' },
  );
  say(
    `   director's IPVS counters for ${VIP}:80: ${svc.conns} connections, InPkts ${svc.inpkts}, OutPkts ${bold(String(svc.outpkts))}`,
  );
  if (svc.outpkts === 0)
    say('   OutPkts 0: the replies went straight from the real servers to the client (direct routing).');
}

let lan;
let daemon;
let status = 0;
try {
  say(bold('lvsd demo: LVS-DR end to end, inside a Linux 6.1 kernel with IPVS (User-Mode Linux)'));
  say(`
   client 198.51.100.10 ----+
   director .196 (eth0) ----+---- bridge 198.51.100.0/24        VIP ${VIP}, port 80
   rs1 .193 (web server) ---+
   rs2 .195 (web server) ---+
   (each host is a network namespace; each web server answers with its name)`);

  step('1. Build the LAN (network namespaces, veth, a bridge; nothing LVS yet)');
  lan = await createLan({ realservers: ['rs1', 'rs2'], log: (l) => say(`   ${l}`) });

  step('2. The real servers: lvsd puts the VIP on lo and sets the ARP rules (config/demo/realserver-rs*.yaml)');
  for (const rs of ['rs1', 'rs2']) await lvsd(lan, rs, ['apply', '-c', join(DEMO, `realserver-${rs}.yaml`)]);

  step('3. The director: `lvsd run` binds the VIP to eth0 and builds the IPVS table (config/demo/director.yaml)');
  // lvsd run watches its file with inotify, which needs the guest's own tmpfs
  const dir = lan.configDir('lvsd-demo-');
  const file = join(dir, 'director.yaml');
  copyFileSync(join(DEMO, 'director.yaml'), file);
  say(`${dim('[director]#')} cp config/demo/director.yaml ${file}`);
  say(`${dim('[director]#')} lvsd run -c ${file} --log-format text &`);
  daemon = spawnIn('director', process.execPath, [CLI, 'run', '-c', file, '--log-format', 'text'], 'lvsd run');
  lan.procs.push(daemon);
  daemon.listeners.push((line) => say(`   ${dim('lvsd run |')} ${line}`));
  daemon.child.stderr.on('data', (d) => process.stdout.write(indent(String(d), `   ${dim('lvsd run |')} `) + '\n'));
  await waitFor(async () => /-r 198\.51\.100\.195:80 -g -w 1\b/.test(await lan.run('director', 'ipvsadm', ['-Sn'])), {
    timeoutMs: 30_000,
    what: 'lvsd run to build the table',
  });
  await sleep(300);
  await lvsd(lan, 'director', ['show', '--format', 'ipvsadm']);

  step('4. Requests through the VIP: round robin over rs1 and rs2');
  const first = await requests(lan, 10);
  await counters(lan, first.length);
  const mac = await lan.neighbour('client', VIP);
  say(
    `   the client's ARP entry for ${VIP}: ${mac} = ${mac === lan.host('director').mac ? 'the director' : 'NOT the director!'} ` +
      `(rs1 is ${lan.host('rs1').mac}, rs2 ${lan.host('rs2').mac})`,
  );

  step("5. Edit the director's file: rs1 weight 1 -> 3; `lvsd run` changes just that, in place");
  const before = readFileSync(file, 'utf8');
  const after = before.replace(/(address: 198\.51\.100\.193[^\n]*\n\s*weight: )1/, '$13');
  if (after === before) throw new Error(`cannot find rs1's weight in ${file}`);
  writeFileSync(file, after);
  say(`${dim('[director]#')} (edit ${file})`);
  const a = before.split('\n');
  const b = after.split('\n');
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) say(indent(`- ${a[i]}\n+ ${b[i]}`));
  await waitFor(async () => /-r 198\.51\.100\.193:80 -g -w 3\b/.test(await lan.run('director', 'ipvsadm', ['-Sn'])), {
    timeoutMs: 30_000,
    what: 'lvsd run to apply the new weight',
  });
  await sleep(300);
  await lvsd(lan, 'director', ['show', '--format', 'ipvsadm']);

  step('6. Requests again: rs1 now gets 3 of every 4 connections');
  const second = await requests(lan, 20);
  await counters(lan, first.length + second.length);

  step(`Done: LVS-DR configured by lvsd alone, on every host, in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  say(
    '   Files: config/demo/. Tests of all this and more (NAT, TUN, IPv6, UDP, fwmark, live changes): test/kernel/e2e/, docs/e2e.md',
  );
} catch (e) {
  status = 1;
  say(`\ndemo failed: ${e instanceof Error ? e.message : String(e)}`);
} finally {
  if (daemon) await daemon.stop('SIGTERM');
  await lan?.destroy();
}
process.exit(status);
