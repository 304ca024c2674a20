// Two directors (network namespaces pd1, pd2) with the same file reached by
// different histories: `lvsd peers` names the real-server order difference,
// `lvsd apply --reorder` mends it, and flows sent through each director map
// to the same real server before (some differ) and after (none differ).
//
// Each director has a client namespace of its own (pc1, pc2) with the same
// address, so a flow (source address and port) can be sent through each. The
// real servers are neighbour entries on the client link: a SYN is enough for
// IPVS to schedule it, and the choice is read from the connection table.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Daemon, sleep } from '../daemon/daemon-harness.js';
import { flushIpvs, LVSD, requireKernel, sh, type ShResult, tmpDir } from '../helpers.js';

const NAMESPACES = ['pd1', 'pd2', 'pc1', 'pc2'];
const CLIENT = '192.0.2.10';
const REALSERVERS = [11, 12, 13, 14, 15, 16].map((n) => `192.0.2.${n}`);
const MH_VIP = '198.51.100.1';
const SH_VIP = '198.51.100.2';
const LISTEN = { pd1: '203.0.113.1:9588', pd2: '203.0.113.2:9588' } as const;

/** The file both directors run, real servers listed in no particular order; weights differ, as in production. */
function config(realservers: string[]): string {
  const list = realservers.map((a) => `{ address: ${a}, weight: ${(Number(a.split('.')[3]) % 3) + 1} }`).join(', ');
  return `version: 1
services:
  - { vip: ${MH_VIP}, port: 80, scheduler: mh, flags: [mh-port], realservers: [${list}] }
  - { vip: ${SH_VIP}, port: 80, scheduler: sh, flags: [sh-port], realservers: [${list}] }
`;
}

async function run(cmd: string, args: string[]): Promise<string> {
  const r = await sh(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

const inNs = (ns: string, cmd: string, ...args: string[]) => run('ip', ['netns', 'exec', ns, cmd, ...args]);
const lvsdIn = (ns: string, args: string[]): Promise<ShResult> =>
  sh('ip', ['netns', 'exec', ns, ...LVSD, ...args], { timeoutMs: 60_000 });

async function cleanup(): Promise<void> {
  const have = (await run('ip', ['netns', 'list'])).split('\n').map((l) => l.split(' ')[0]);
  for (const ns of NAMESPACES) if (have.includes(ns)) await run('ip', ['netns', 'del', ns]);
}

/** pcN -- pdN (client link, 192.0.2.0/24), pd1 -- pd2 (director link, 203.0.113.0/24). */
async function buildNetwork(): Promise<void> {
  for (const ns of NAMESPACES) {
    await run('ip', ['netns', 'add', ns]);
    await inNs(ns, 'ip', 'link', 'set', 'lo', 'up');
  }
  for (const n of [1, 2]) {
    const [c, d] = [`pc${n}`, `pd${n}`];
    await run('ip', ['link', 'add', 'cv', 'netns', c, 'type', 'veth', 'peer', 'name', 'dv', 'netns', d]);
    await inNs(c, 'ip', 'addr', 'add', `${CLIENT}/24`, 'dev', 'cv');
    await inNs(c, 'ip', 'link', 'set', 'cv', 'up');
    await inNs(c, 'ip', 'route', 'add', '198.51.100.0/24', 'via', '192.0.2.1');
    await inNs(d, 'ip', 'addr', 'add', '192.0.2.1/24', 'dev', 'dv');
    await inNs(d, 'ip', 'link', 'set', 'dv', 'up');
    for (const vip of [MH_VIP, SH_VIP]) await inNs(d, 'ip', 'addr', 'add', `${vip}/32`, 'dev', 'lo');
    for (const [i, rs] of REALSERVERS.entries()) {
      await inNs(d, 'ip', 'neigh', 'add', rs, 'lladdr', `02:00:00:00:00:${10 + i}`, 'dev', 'dv');
    }
  }
  await run('ip', ['link', 'add', 'pv', 'netns', 'pd1', 'type', 'veth', 'peer', 'name', 'pv', 'netns', 'pd2']);
  for (const ns of ['pd1', 'pd2'] as const) {
    await inNs(ns, 'ip', 'addr', 'add', `${LISTEN[ns].split(':')[0]}/24`, 'dev', 'pv');
    await inNs(ns, 'ip', 'link', 'set', 'pv', 'up');
  }
}

// One SYN per source port (non-blocking connect), held open until all are sent.
const SYN_PY = `
import socket, sys, time
vip, base, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
socks = []
for p in range(base, base + n):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", p))
    s.setblocking(False)
    try:
        s.connect((vip, 80))
    except BlockingIOError:
        pass
    socks.append(s)
time.sleep(0.5)
`;

/** Sends `n` flows from source ports base.. to vip:80 through director N; returns source port -> real server. */
async function sendFlows(n: 1 | 2, vip: string, base: number, count: number): Promise<Map<number, string>> {
  await inNs(`pc${n}`, 'python3', '-c', SYN_PY, vip, String(base), String(count));
  const out = new Map<number, string>();
  for (const line of (await inNs(`pd${n}`, 'ipvsadm', '-Lnc')).split('\n')) {
    // pro expire state source virtual destination
    const f = line.trim().split(/\s+/);
    if (f.length < 6 || f[4] !== `${vip}:80`) continue;
    const port = Number(f[3]!.split(':')[1]);
    if (port >= base && port < base + count) out.set(port, f[5]!.split(':')[0]!);
  }
  return out;
}

/** How many of the flows (same source ports) the two directors send to different real servers. */
async function differingFlows(vip: string, base: number, count: number): Promise<{ compared: number; differ: number }> {
  const [a, b] = await Promise.all([sendFlows(1, vip, base, count), sendFlows(2, vip, base, count)]);
  let compared = 0;
  let differ = 0;
  for (const [port, rs] of a) {
    const other = b.get(port);
    if (other === undefined) continue;
    compared++;
    if (other !== rs) differ++;
  }
  return { compared, differ };
}

/** `ipvsadm -Ln --nosort`: the real servers of `vip` in kernel order. */
async function kernelOrder(ns: string, vip: string): Promise<string[]> {
  const out: string[] = [];
  let inService = false;
  for (const line of (await inNs(ns, 'ipvsadm', '-Ln', '--nosort')).split('\n')) {
    if (/^(TCP|UDP|SCTP|FWM) /.test(line)) inService = line.includes(`${vip}:80`);
    else if (inService && line.startsWith('  -> ') && !line.includes('RemoteAddress'))
      out.push(line.slice(5).trim().split(/\s+/)[0]!.split(':')[0]!);
  }
  return out;
}

let dir: string;
const daemons: Daemon[] = [];
// mh moves few flows when the order differs (about 2 in 1000 here: only contested table slots change hands), so
// many are sampled; the kernel's mh hash has fixed keys, so the same flows give the same count on every run.
const MH_FLOWS = 4000;
const SH_FLOWS = 1000;

beforeAll(async () => {
  requireKernel();
  dir = tmpDir();
  await flushIpvs();
  await cleanup();
  await buildNetwork();
});

afterAll(async () => {
  await Promise.all(daemons.map((d) => d.stop()));
  await cleanup();
});

describe('two directors, one file, two histories', () => {
  test('peers names the order difference; apply --reorder mends it; sampled flows then map identically', async () => {
    // The file lists the real servers shuffled: the order lvsd adds them in must not depend on it.
    const full = join(dir, 'full.yaml');
    writeFileSync(full, config([14, 11, 16, 13, 12, 15].map((n) => `192.0.2.${n}`)));
    const fewer = join(dir, 'fewer.yaml');
    writeFileSync(fewer, config(REALSERVERS.filter((a) => a !== '192.0.2.13')));

    // pd1 from empty; pd2 first without 192.0.2.13, which then goes to the head of its list.
    expect((await lvsdIn('pd1', ['apply', '-c', full])).code).toBe(0);
    expect(await kernelOrder('pd1', MH_VIP)).toEqual(REALSERVERS);
    expect(await kernelOrder('pd1', SH_VIP)).toEqual(REALSERVERS);
    expect((await lvsdIn('pd2', ['apply', '-c', fewer])).code).toBe(0);
    const a2 = await lvsdIn('pd2', ['apply', '-c', full]);
    expect(a2.code).toBe(0);
    expect(a2.stdout).toContain(`! order drift: service tcp/${MH_VIP}:80 (mh)`);
    const drifted = ['192.0.2.13', ...REALSERVERS.filter((a) => a !== '192.0.2.13')];
    expect(await kernelOrder('pd2', MH_VIP)).toEqual(drifted);

    // plan: nothing for a plain apply to do, the drift spelled out with its fix.
    const plan = await lvsdIn('pd2', ['plan', '-c', full]);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('No changes.');
    expect(plan.stdout).toContain(
      'fix: lvsd apply --reorder deletes and adds again 2 real servers (192.0.2.11:80, 192.0.2.12:80)',
    );

    const planJson = JSON.parse((await lvsdIn('pd2', ['plan', '-c', full, '--json'])).stdout) as {
      changes: unknown[];
      orderDrift: { service: string; readd: string[] }[];
    };
    expect(planJson.changes).toEqual([]);
    expect(planJson.orderDrift).toEqual([
      expect.objectContaining({ service: `tcp/${MH_VIP}:80`, readd: ['192.0.2.11:80', '192.0.2.12:80'] }),
      expect.objectContaining({ service: `tcp/${SH_VIP}:80`, readd: ['192.0.2.11:80', '192.0.2.12:80'] }),
    ]);

    // show needs no file: the live order itself is not canonical.
    const shown = await lvsdIn('pd2', ['show', '--status-file', join(dir, 'none.json')]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`# ! order drift: service tcp/${MH_VIP}:80 (mh)`);
    expect((await lvsdIn('pd1', ['show', '--status-file', join(dir, 'none.json')])).stdout).not.toContain('drift');

    for (const ns of ['pd1', 'pd2'] as const) {
      const peer = `http://${LISTEN[ns === 'pd1' ? 'pd2' : 'pd1']}`;
      const args = [
        '-c',
        full,
        '--listen',
        LISTEN[ns],
        '--peer',
        peer,
        '--peer-interval',
        '1s',
        '--resync-interval',
        '0',
      ];
      const d = await Daemon.start(args, {}, ['ip', 'netns', 'exec', ns]);
      daemons.push(d);
      await d.waitLog((r) => r.event === 'started');
    }
    const metrics = async () => (await inNsHttp('pd1', `http://${LISTEN.pd1}/metrics`)).body;
    await waitFor(async () => /lvsd_peer_table_agrees\{peer="[^"]+"\} 0/.test(await metrics()));
    expect(await metrics()).toMatch(/lvsd_peer_differences\{peer="http:\/\/203\.0\.113\.2:9588\/v1\/table"\} 2/);

    const before = await lvsdIn('pd1', ['peers', `http://${LISTEN.pd2}`]);
    expect(before.stderr).toBe('');
    expect(before.code).toBe(2);
    // The tables come from GET_DEST dumps: they list the real servers in the kernel's order, as ipvsadm --nosort does.
    const listed = (l: string[]) => l.map((a) => `${a}:80`).join(', ');
    expect(before.stdout).toContain(
      `service tcp/${MH_VIP}:80: real-server order: here ${listed(REALSERVERS)}; there ${listed(drifted)}\n`,
    );
    expect(before.stdout).toContain(`service tcp/${SH_VIP}:80: real-server order`);

    const mhBefore = await differingFlows(MH_VIP, 20000, MH_FLOWS);
    const shBefore = await differingFlows(SH_VIP, 40000, SH_FLOWS);
    console.log(
      `before --reorder: mh ${mhBefore.differ}/${mhBefore.compared} flows map differently, sh ${shBefore.differ}/${shBefore.compared}`,
    );
    expect(mhBefore.compared).toBe(MH_FLOWS);
    expect(mhBefore.differ).toBeGreaterThan(0);
    expect(shBefore.differ).toBeGreaterThan(0);

    const planned = await lvsdIn('pd2', ['plan', '-c', full, '--reorder']);
    expect(planned.code).toBe(2);
    expect(planned.stdout).toContain(`- realserver tcp/${MH_VIP}:80 -> 192.0.2.12:80 (re-added`);
    const reorder = await lvsdIn('pd2', ['apply', '-c', full, '--reorder']);
    expect(reorder.stderr).toBe('');
    expect(reorder.code).toBe(0);
    expect(reorder.stdout).toContain('Applied 8 changes, 0 failed, 0 skipped.');
    expect(await kernelOrder('pd2', MH_VIP)).toEqual(REALSERVERS);
    expect(await kernelOrder('pd2', SH_VIP)).toEqual(REALSERVERS);

    const after = await lvsdIn('pd1', ['peers', `http://${LISTEN.pd2}`]);
    expect(after.stdout).toBe(`http://${LISTEN.pd2}/v1/table: agrees\n`);
    expect(after.code).toBe(0);
    await waitFor(async () => /lvsd_peer_table_agrees\{peer="[^"]+"\} 1/.test(await metrics()));

    const mhAfter = await differingFlows(MH_VIP, 25000, MH_FLOWS);
    const shAfter = await differingFlows(SH_VIP, 42000, SH_FLOWS);
    console.log(
      `after --reorder: mh ${mhAfter.differ}/${mhAfter.compared} flows map differently, sh ${shAfter.differ}/${shAfter.compared}`,
    );
    expect(mhAfter.compared).toBe(MH_FLOWS);
    expect(shAfter.compared).toBe(SH_FLOWS);
    expect(mhAfter.differ).toBe(0);
    expect(shAfter.differ).toBe(0);
  }, 180_000);

  test('a peer that does not answer is named, exit 1', async () => {
    const r = await lvsdIn('pd1', ['peers', '--timeout', '2s', `http://${LISTEN.pd2}`, 'http://203.0.113.9:9588']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/PEER_UNREACHABLE: http:\/\/203\.0\.113\.9:9588\/v1\/table: /);
    expect(r.stdout).toContain(`http://${LISTEN.pd2}/v1/table: agrees`);
  });
});

/** GET from inside a namespace (the listeners are on the director link). */
async function inNsHttp(ns: string, url: string): Promise<{ status: number; body: string }> {
  const js = `fetch(${JSON.stringify(url)}).then(async (r) => process.stdout.write(r.status + '\\n' + (await r.text())))`;
  const out = await inNs(ns, process.execPath, '-e', js);
  const nl = out.indexOf('\n');
  return { status: Number(out.slice(0, nl)), body: out.slice(nl + 1) };
}

async function waitFor(pred: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const t0 = Date.now();
  while (!(await pred())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(250);
  }
}
