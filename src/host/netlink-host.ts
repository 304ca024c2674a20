/**
 * The host adapter: links and addresses through rtnetlink (the `netlink`
 * package's rt module), sysctls through /proc/sys. Addresses lvsd adds carry
 * IFA_PROTO = LVSD_ADDRESS_PROTO (and, for IPv4, a `<dev>:lvsd` label), so
 * lvsd recognises its own after a restart and never removes anyone else's.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { createRtNetlink, FlagsGet, FlagsNew, type RtNetlinkSocket } from 'netlink';
import { LvsdError } from '../errors.js';
import { hostPrefixLength } from '../model/address.js';
import { displaySysctl, type HostAddress, type HostLink, type LiveHost } from '../model/host.js';
import type { HostOp, OpResult } from '../model/ops.js';
import { PERMISSION_DENIED } from '../netlink/errno.js';
import { str } from '../netlink/wire.js';
import type { HostClient } from './client.js';
import {
  decodeAddress,
  encodeAddress,
  encodeAddressDump,
  RTM_DELADDR,
  RTM_GETADDR,
  RTM_NEWADDR,
} from './rtnl-codec.js';

/** lvsd's IFA_PROTO mark on the addresses it adds ('L'; the kernel's own are 0-3). Kernels before 5.18 ignore it; the label still marks IPv4. */
export const LVSD_ADDRESS_PROTO = 0x4c;
const LABEL_SUFFIX = ':lvsd';
/** IFLA_INFO_KIND inside IFLA_LINKINFO (<linux/if_link.h>). */
const IFLA_INFO_KIND = 1;

export function openHost(procSys = '/proc/sys'): HostClient {
  let sock: RtNetlinkSocket;
  try {
    sock = createRtNetlink();
  } catch (e) {
    throw new LvsdError('HOST_KERNEL', `cannot open an rtnetlink socket: ${(e as Error).message}`, { cause: e });
  }
  return new NetlinkHost(sock, procSys);
}

/**
 * The file of a sysctl key under `procSys`, refusing (HOST_SYSCTL_PATH) any
 * key whose path leaves procSys/net. The config already refuses such keys;
 * this keeps a root process from reading or writing any other file whatever
 * the caller passes.
 */
export function sysctlFile(procSys: string, key: string): string {
  const root = resolve(procSys, 'net');
  const file = resolve(procSys, key);
  if (!file.startsWith(root + sep)) {
    throw new LvsdError(
      'HOST_SYSCTL_PATH',
      `sysctl ${JSON.stringify(key)} leads outside ${root}: lvsd sets network settings only`,
    );
  }
  return file;
}

/** The errno name in the netlink package's `Request rejected: CODE` errors. */
function rejectedCode(e: unknown): string | undefined {
  return /Request rejected: (\w+)/.exec(String((e as Error)?.message))?.[1];
}

class NetlinkHost implements HostClient {
  private linkNames = new Map<number, string>();

  constructor(
    private readonly sock: RtNetlinkSocket,
    private readonly procSys: string,
  ) {}

  async links(): Promise<HostLink[]> {
    const msgs = await this.sock.getLinks();
    const links = msgs.map((m) => ({
      name: m.attrs.ifname ?? `if${m.data.index}`,
      index: m.data.index ?? 0,
      up: Boolean(m.data.flags?.up),
    }));
    this.linkNames = new Map(links.map((l) => [l.index, l.name]));
    return links;
  }

  async addresses(): Promise<LiveHost['addresses']> {
    if (this.linkNames.size === 0) await this.links();
    const [msgs] = await this.sock.socket.request(RTM_GETADDR, encodeAddressDump(), { flags: FlagsGet.DUMP });
    const out: LiveHost['addresses'] = [];
    for (const m of msgs) {
      const a = m.type === RTM_NEWADDR ? decodeAddress(m.data) : undefined;
      // Only host routes: lvsd binds /32 and /128, and only those can be its own.
      if (!a || a.prefix !== hostPrefixLength(a.family)) continue;
      const owned = a.proto === LVSD_ADDRESS_PROTO || (a.label?.endsWith(LABEL_SUFFIX) ?? false);
      out.push({
        interface: this.linkNames.get(a.index) ?? `if${a.index}`,
        address: a.address,
        prefix: a.prefix,
        family: a.family,
        owned,
      });
    }
    return out;
  }

  async sysctls(keys: readonly string[]): Promise<Map<string, string | undefined>> {
    const out = new Map<string, string | undefined>();
    await Promise.all(
      keys.map(async (key) => {
        try {
          out.set(key, (await readFile(sysctlFile(this.procSys, key), 'utf8')).trim().split(/\s+/).join(' '));
        } catch {
          out.set(key, undefined);
        }
      }),
    );
    return out;
  }

  async execute(ops: readonly HostOp[]): Promise<OpResult[]> {
    const results: OpResult[] = [];
    // Few and cheap: one at a time, in order.
    for (const op of ops)
      results.push(
        await this.one(op).then(
          () => ({ ok: true as const }),
          (e: unknown) => ({ ok: false as const, error: hostError(op, e) }),
        ),
      );
    return results;
  }

  private async one(op: HostOp): Promise<void> {
    switch (op.op) {
      case 'set-sysctl':
        await writeFile(sysctlFile(this.procSys, op.key), op.value + '\n');
        return;
      case 'add-dummy':
        // Created up in one request; EEXIST (someone made it meanwhile) is reported like any failure.
        await this.sock.newLink(
          { flags: { up: true }, change: { up: true } },
          { ifname: op.name, linkinfo: str(IFLA_INFO_KIND, 'dummy') },
          { flags: FlagsNew.CREATE | FlagsNew.EXCL },
        );
        this.linkNames.clear();
        return;
      case 'link-up': {
        const link = (await this.links()).find((l) => l.name === op.name);
        if (!link) throw new LvsdError('HOST_UNSUPPORTED', `${op.name} does not exist`);
        await this.sock.setLink({ index: link.index, flags: { up: true }, change: { up: true } });
        return;
      }
      case 'add-address':
      case 'delete-address': {
        const a = op.address;
        const msg = { family: a.family, prefix: a.prefix, index: await this.indexOf(a.interface), address: a.address };
        if (op.op === 'delete-address') {
          await this.sock.socket.request(RTM_DELADDR, encodeAddress(msg));
          return;
        }
        const label =
          a.family === 'ipv4' && a.interface.length + LABEL_SUFFIX.length <= 15
            ? { label: a.interface + LABEL_SUFFIX }
            : {};
        // nodad: a VIP must work at once, and is unique by design.
        const body = encodeAddress({ ...msg, ...label, proto: LVSD_ADDRESS_PROTO }, a.family === 'ipv6');
        await this.sock.socket.request(RTM_NEWADDR, body, { flags: FlagsNew.CREATE | FlagsNew.EXCL });
        return;
      }
    }
  }

  private async indexOf(name: string): Promise<number> {
    for (const [index, n] of this.linkNames) if (n === name) return index;
    const link = (await this.links()).find((l) => l.name === name);
    if (!link) throw new LvsdError('HOST_UNSUPPORTED', `interface ${name} does not exist`);
    return link.index;
  }

  close(): void {
    this.sock.socket.close();
  }
}

function describe(op: HostOp): string {
  switch (op.op) {
    case 'set-sysctl':
      return `set sysctl ${displaySysctl(op.key)}=${op.value}`;
    case 'link-up':
      return `bring up ${op.name}`;
    case 'add-dummy':
      return `create dummy interface ${op.name}`;
    case 'add-address':
    case 'delete-address':
      return `${op.op === 'add-address' ? 'add' : 'delete'} address ${addressText(op.address)}`;
  }
}

const addressText = (a: HostAddress): string => `${a.address}/${a.prefix} on ${a.interface}`;

function hostError(op: HostOp, e: unknown): LvsdError {
  if (e instanceof LvsdError) return new LvsdError(e.code, `${describe(op)}: ${e.message}`, { cause: e });
  const code = (e as NodeJS.ErrnoException).code ?? rejectedCode(e);
  const what = describe(op);
  if (code === 'EPERM' || code === 'EACCES')
    return new LvsdError('HOST_PERMISSION', `${what}: ${PERMISSION_DENIED}`, { cause: e });
  if (code === 'ENOENT' && op.op === 'set-sysctl')
    return new LvsdError('HOST_UNSUPPORTED', `${what}: this kernel has no such setting`, { cause: e });
  if (code === 'ENODEV') return new LvsdError('HOST_UNSUPPORTED', `${what}: no such interface`, { cause: e });
  return new LvsdError('HOST_KERNEL', `${what}: ${code ?? (e as Error).message}`, {
    cause: e,
    details: { errno: code },
  });
}
