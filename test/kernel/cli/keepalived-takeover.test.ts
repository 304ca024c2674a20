// A director whose IPVS table Debian's keepalived built is taken over by
// lvsd from `lvsd import --from-keepalived`: the imported config validates,
// `lvsd plan` shows no change on keepalived's table, keepalived stopped with
// --dont-release-ipvs leaves the table, and `lvsd run` keeps it unchanged and
// checks the real server keepalived checked (quiesced when its port closes,
// back when it opens). keepalived runs in a network namespace of its own; the
// VRRP-only keepalived.conf the import writes passes `keepalived -t`.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CLI, requireKernel, sh, tmpDir } from '../helpers.js';
import { sleep, spawnIn, waitFor } from '../e2e/lan-core.mjs';

const NS = 'kamig';
const CHECKED = '192.0.2.50';

// Every LVS setting keepalived.conf has that lvsd converts; no checks but one, so the table is stable.
const KEEPALIVED_CONF = `
global_defs {
  lvs_timeouts tcp 900 tcpfin 120 udp 300
}
vrrp_instance VI_1 {
  state MASTER
  interface d0
  virtual_router_id 51
  priority 100
  virtual_ipaddress {
    192.0.2.100/32
  }
}
virtual_server_group web {
  192.0.2.1-2 80
}
virtual_server group web {
  protocol TCP
  lb_algo wrr
  lb_kind DR
  real_server 198.51.100.10 80 {
    weight 3
  }
  real_server 198.51.100.11 80 {
    weight 1
    uthreshold 100
    lthreshold 50
  }
}
virtual_server 192.0.2.3 443 {
  protocol TCP
  lvs_sched sh
  sh-port
  sh-fallback
  persistence_timeout 600
  persistence_granularity 255.255.255.0
  lvs_method NAT
  real_server 198.51.100.20 8443 {
    weight 2
  }
}
virtual_server 192.0.2.4 53 {
  protocol UDP
  lvs_sched rr
  ops
  lvs_method DR
  persistence_timeout 60
  persistence_engine sip
  real_server 198.51.100.30 53 {
  }
}
virtual_server fwmark 7 {
  lvs_sched mh
  mh-port
  lvs_method TUN type gue port 6080 csum
  real_server 2001:db8::20 {
  }
}
virtual_server 2001:db8::1 80 {
  protocol TCP
  lvs_sched lc
  lvs_method DR
  real_server 2001:db8::10 80 {
    weight 5
  }
}
virtual_server 192.0.2.5 80 {
  protocol TCP
  lvs_method DR
  delay_loop 1
  inhibit_on_failure
  real_server ${CHECKED} 80 {
    TCP_CHECK {
      connect_timeout 1
      retry 0
    }
  }
}
`;

type Proc = ReturnType<typeof spawnIn>;
let dir: string;
let keepalived: Proc | undefined;
let listener: Proc | undefined;
let daemon: Proc | undefined;

const inNs = (cmd: string, args: string[]) => sh('ip', ['netns', 'exec', NS, cmd, ...args], { timeoutMs: 60_000 });
const lvsdIn = (args: string[]) => inNs(process.execPath, [CLI, ...args]);
const rules = async () => (await inNs('ipvsadm', ['-Sn'])).stdout;
const thresholds = async () => (await inNs('ipvsadm', ['-Ln', '--thresholds'])).stdout;
const checkedWeight = (text: string) => /-a -t 192\.0\.2\.5:80 -r 192\.0\.2\.50:80 -g -w (\d+)/.exec(text)?.[1];

function startListener(): Proc {
  const js = `require('net').createServer((s) => s.end()).listen(80, '${CHECKED}', () => console.log('READY'))`;
  return spawnIn(NS, process.execPath, ['-e', js], 'listener');
}

beforeAll(async () => {
  requireKernel();
  dir = tmpDir();
  await sh('ip', ['netns', 'del', NS]);
  for (const args of [
    ['netns', 'add', NS],
    ['-n', NS, 'link', 'set', 'lo', 'up'],
    ['-n', NS, 'link', 'add', 'd0', 'type', 'dummy'],
    ['-n', NS, 'addr', 'add', `${CHECKED}/32`, 'dev', 'd0'],
    ['-n', NS, 'link', 'set', 'd0', 'multicast', 'on', 'up'],
  ]) {
    const r = await sh('ip', args);
    if (r.code !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
  }
  listener = startListener();
  await listener.waitLine((l: string) => l === 'READY');
  writeFileSync(join(dir, 'keepalived.conf'), KEEPALIVED_CONF);
  // -C: the LVS checker process only (no VRRP); -I: leave the IPVS table when it stops.
  keepalived = spawnIn(
    NS,
    'keepalived',
    [
      '-n',
      '-l',
      '-C',
      '-I',
      '-f',
      join(dir, 'keepalived.conf'),
      '-p',
      join(dir, 'ka.pid'),
      '-c',
      join(dir, 'ka-checker.pid'),
      '-r',
      join(dir, 'ka-vrrp.pid'),
    ],
    'keepalived',
  );
  await waitFor(async () => (await rules()).split('\n').filter((l) => l.startsWith('-A')).length === 7, {
    timeoutMs: 30_000,
    what: async () =>
      `keepalived's 7 services; table:\n${await rules()}\nkeepalived stderr:\n${keepalived!.stderr}\nstdout:\n${keepalived!.lines.join('\n')}`,
  });
}, 60_000);

afterAll(async () => {
  await daemon?.stop();
  await keepalived?.stop();
  await listener?.stop();
  await sh('ip', ['netns', 'del', NS]);
});

describe('taking over from keepalived', () => {
  let config: string;

  test('the import converts everything but VRRP (exit 3, one report), validates, and writes a VRRP-only config', async () => {
    const conf = join(dir, 'keepalived.conf');
    const vrrp = join(dir, 'vrrp.conf');
    const r = await lvsdIn(['import', '--from-keepalived', conf, '--vrrp-config', vrrp]);
    expect(r.stderr).toBe(
      `${conf}:5: omitted: vrrp_instance: VRRP stays with keepalived: keep this block in a keepalived.conf without virtual_server blocks\n`,
    );
    expect(r.code).toBe(3);
    const t = await inNs('keepalived', ['-t', '-f', vrrp]);
    expect(t.stderr + t.stdout).toBe('');
    expect(t.code).toBe(0);
    expect(readFileSync(vrrp, 'utf8')).not.toMatch(/virtual_server|lvs_timeouts/);
    config = join(dir, 'lvsd.yaml');
    writeFileSync(config, r.stdout);
    const v = await lvsdIn(['validate', '-c', config]);
    expect(v.stderr).toBe('');
    expect(v.code).toBe(0);
  });

  test("lvsd plan shows no change on keepalived's table", async () => {
    const p = await lvsdIn(['plan', '-c', config]);
    expect(p.stdout).toContain('No changes.');
    expect(p.code).toBe(0);
  });

  test('keepalived stopped with -I leaves the table; lvsd run keeps it and checks the real server', async () => {
    const before = await rules();
    const beforeThresholds = await thresholds();
    expect(await keepalived!.stop()).toBe(0);
    expect(await rules()).toBe(before);
    daemon = spawnIn(
      NS,
      process.execPath,
      [CLI, 'run', '-c', config, '--resync-interval', '1s', '--log-format', 'json'],
      'lvsd run',
    );
    await sleep(4000);
    expect(daemon.exitCode).toBeUndefined();
    expect(await rules()).toBe(before);
    expect(await thresholds()).toBe(beforeThresholds);
    // keepalived's TCP_CHECK with inhibit_on_failure: lvsd's tcp check, on_failure quiesce.
    await listener!.stop();
    await waitFor(async () => checkedWeight(await rules()) === '0', {
      timeoutMs: 15_000,
      what: 'the weight of the closed real server to drop to 0',
    });
    listener = startListener();
    await listener.waitLine((l: string) => l === 'READY');
    await waitFor(async () => checkedWeight(await rules()) === '1', {
      timeoutMs: 15_000,
      what: 'the real server to come back at weight 1',
    });
    expect(await rules()).toBe(before);
  }, 60_000);
});
