/**
 * `ipvsadm -Sn` (ipvsadm-save -n) output to service entries, for
 * `lvsd import`. The format is ipvsadm's restore input: one command per line,
 *
 *   -A -t 192.0.2.1:80 -s rr -p 300 -M 255.255.255.0 -b sh-port -o --pe sip
 *   -a -t 192.0.2.1:80 -r 192.0.2.10:80 -g -w 1
 *   -a -t 192.0.2.1:80 -r 192.0.2.11:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum
 *   -A -f 7 -6 -s sh
 *
 * with -u for UDP, --sctp-service for SCTP, `[v6]:port` for IPv6. Long
 * options (--tcp-service, --weight=1...) and a leading `ipvsadm` are accepted
 * too, as are the ` pe NAME` and ` ops` that old ipvsadm versions print, and
 * -x/-y and the tunnel options that only some versions print. Anything else
 * is an IMPORT_PARSE error naming its line and column. Pure.
 */
import { LvsdError } from '../errors.js';
import { parseAddressPort } from '../model/address.js';
import { defaultNetmask, schedFlagNames, serviceKey } from '../model/keys.js';
import type {
  Family,
  Forward,
  Protocol,
  RealServer,
  ServiceEntry,
  ServiceId,
  TunnelChecksum,
  TunnelType,
} from '../model/types.js';
import { DEFAULT_PERSISTENCE, parseNetmask } from './values.js';

interface Token {
  text: string;
  column: number;
}

/** Options that take a value, by every name ipvsadm knows them by. */
const WITH_VALUE: Record<string, string> = {
  '-t': 'tcp',
  '--tcp-service': 'tcp',
  '-u': 'udp',
  '--udp-service': 'udp',
  '--sctp-service': 'sctp',
  '-f': 'fwmark',
  '--fwmark-service': 'fwmark',
  '-s': 'scheduler',
  '--scheduler': 'scheduler',
  '-M': 'netmask',
  '--netmask': 'netmask',
  '-b': 'flags',
  '--sched-flags': 'flags',
  '--pe': 'pe',
  pe: 'pe',
  '-r': 'server',
  '--real-server': 'server',
  '-w': 'weight',
  '--weight': 'weight',
  '-x': 'upper',
  '--u-threshold': 'upper',
  '-y': 'lower',
  '--l-threshold': 'lower',
  '--tun-type': 'tunType',
  '--tun-port': 'tunPort',
};

/** Options without a value. */
const FLAGS: Record<string, string> = {
  '-6': 'ipv6',
  '--ipv6': 'ipv6',
  '-o': 'ops',
  '--ops': 'ops',
  ops: 'ops',
  '-g': 'dr',
  '--gatewaying': 'dr',
  '-i': 'tunnel',
  '--ipip': 'tunnel',
  '-m': 'nat',
  '--masquerading': 'nat',
  '--tun-nocsum': 'none',
  '--tun-csum': 'csum',
  '--tun-remcsum': 'remcsum',
};

const COMMANDS: Record<string, 'service' | 'server'> = {
  '-A': 'service',
  '--add-service': 'service',
  '-a': 'server',
  '--add-server': 'server',
};

/**
 * The services (with real servers, in the order given) of `ipvsadm -Sn`
 * output. Throws an LvsdError IMPORT_PARSE at the first line it cannot read;
 * `source` names the input in its position.
 */
export function parseIpvsadmSave(text: string, source = 'ipvsadm -Sn'): { services: ServiceEntry[] } {
  const services = new Map<string, ServiceEntry>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const tokens = tokenize(raw);
    if (tokens.length === 0 || tokens[0]!.text.startsWith('#')) return;
    if (/(^|\/)ipvsadm$/.test(tokens[0]!.text)) tokens.shift();
    const start = tokens[0];
    // Errors about the line as a whole point at its command.
    const fail = (message: string, at: Token | undefined = start): never => {
      throw new LvsdError('IMPORT_PARSE', message, {
        pos: { file: source, line, column: at?.column ?? 1 },
        details: { text: raw },
      });
    };
    const cmdToken = tokens.shift();
    if (!cmdToken) return;
    const command = COMMANDS[cmdToken.text];
    if (!command) fail(`expected -A (add service) or -a (add real server), got "${cmdToken.text}"`, cmdToken);

    const opts = readOptions(tokens, fail);
    const id = serviceId(opts, fail);
    const key = serviceKey(id);
    if (command === 'service') {
      if (services.has(key)) fail(`service ${key} is added twice`);
      for (const o of [
        'server',
        'weight',
        'upper',
        'lower',
        'tunType',
        'tunPort',
        'dr',
        'nat',
        'tunnel',
        'none',
        'csum',
        'remcsum',
      ]) {
        if (opts.has(o))
          fail(`option ${opts.get(o)!.option.text} belongs on a real server line (-a)`, opts.get(o)!.option);
      }
      services.set(key, service(id, opts, fail));
    } else {
      const svc = services.get(key);
      if (!svc) fail(`real server for service ${key}, which no -A line added before`);
      for (const o of ['scheduler', 'persistent', 'netmask', 'flags', 'pe', 'ops']) {
        if (opts.has(o)) fail(`option ${opts.get(o)!.option.text} belongs on a service line (-A)`, opts.get(o)!.option);
      }
      svc!.realservers.push(realServer(svc!, opts, fail));
    }
  });
  return { services: [...services.values()] };
}

type Fail = (message: string, at?: Token) => never;
type Options = Map<string, { option: Token; value?: Token }>;

function tokenize(line: string): Token[] {
  const out: Token[] = [];
  const re = /\S+/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push({ text: m[0], column: m.index + 1 });
  return out;
}

function readOptions(tokens: Token[], fail: Fail): Options {
  const opts: Options = new Map();
  for (let i = 0; i < tokens.length; i++) {
    let option = tokens[i]!;
    let value: Token | undefined;
    const eq = option.text.startsWith('--') ? option.text.indexOf('=') : -1;
    if (eq > 0) {
      value = { text: option.text.slice(eq + 1), column: option.column + eq + 1 };
      option = { text: option.text.slice(0, eq), column: option.column };
    }
    let name: string | undefined;
    if (option.text === '-p' || option.text === '--persistent') {
      // The timeout is optional: ipvsadm's default is 300 seconds.
      name = 'persistent';
      if (!value && /^\d+$/.test(tokens[i + 1]?.text ?? '')) value = tokens[++i];
    } else if (WITH_VALUE[option.text]) {
      name = WITH_VALUE[option.text]!;
      if (!value) {
        value = tokens[++i];
        if (!value) fail(`option ${option.text} needs a value`, option);
      }
    } else if (FLAGS[option.text] && !value) {
      name = FLAGS[option.text]!;
    } else {
      fail(`unknown option "${option.text}"`, option);
    }
    if (opts.has(name!)) fail(`option ${option.text} given twice`, option);
    opts.set(name!, value ? { option, value } : { option });
  }
  const forwards = ['dr', 'nat', 'tunnel'].filter((f) => opts.has(f));
  if (forwards.length > 1) fail('more than one forwarding method (-g, -m, -i)', opts.get(forwards[1]!)!.option);
  const checksums = ['none', 'csum', 'remcsum'].filter((f) => opts.has(f));
  if (checksums.length > 1) fail('more than one tunnel checksum option', opts.get(checksums[1]!)!.option);
  return opts;
}

function serviceId(opts: Options, fail: Fail): ServiceId {
  const selectors = ['tcp', 'udp', 'sctp', 'fwmark'].filter((s) => opts.has(s));
  if (selectors.length !== 1) fail('expected exactly one of -t, -u, --sctp-service or -f');
  const kind = selectors[0]!;
  const { value } = opts.get(kind)!;
  if (kind === 'fwmark') {
    const mark = integer(value!, 1, 0xffffffff, 'a firewall mark', fail);
    return { family: opts.has('ipv6') ? 'ipv6' : 'ipv4', fwmark: mark };
  }
  if (opts.has('ipv6')) fail('-6 goes with -f only', opts.get('ipv6')!.option);
  const hp = hostPort(value!, fail);
  return { family: hp.family, protocol: kind as Protocol, address: hp.address, port: hp.port ?? 0 };
}

function service(id: ServiceId, opts: Options, fail: Fail): ServiceEntry {
  const scheduler = opts.get('scheduler')?.value?.text ?? 'wlc';
  const out: ServiceEntry = { ...id, scheduler, flags: [], onePacket: opts.has('ops'), realservers: [] };
  const flags = opts.get('flags')?.value;
  if (flags) {
    let bits = 0;
    for (const f of flags.text.split(',')) {
      const bit = (
        { 'sh-fallback': 1, 'mh-fallback': 1, 'flag-1': 1, 'sh-port': 2, 'mh-port': 2, 'flag-2': 2 } as Record<
          string,
          number
        >
      )[f];
      if (bit === undefined) fail(`unknown scheduler flag "${f}"`, flags);
      bits |= bit!;
    }
    out.flags = schedFlagNames(bits, scheduler);
  }
  const persistent = opts.get('persistent');
  const netmask = opts.get('netmask')?.value;
  if (persistent) {
    const timeout = persistent.value
      ? integer(persistent.value, 1, 0xffffffff, 'a persistence timeout', fail)
      : DEFAULT_PERSISTENCE;
    let mask = defaultNetmask(id.family);
    if (netmask) {
      const m = parseNetmask(/^\d+$/.test(netmask.text) ? Number(netmask.text) : netmask.text, id.family);
      if (m === undefined) fail(`bad netmask "${netmask.text}" for an ${id.family} service`, netmask);
      mask = m!;
    }
    out.persistence = { timeout, netmask: mask };
  } else if (netmask) {
    fail('-M (netmask) without -p (persistent)', opts.get('netmask')!.option);
  }
  const pe = opts.get('pe')?.value;
  if (pe) out.pe = pe.text;
  return out;
}

function realServer(svc: ServiceEntry, opts: Options, fail: Fail): RealServer {
  const server = opts.get('server')?.value;
  if (!server) fail('a real server line needs -r ADDRESS[:PORT]');
  const hp = hostPort(server!, fail);
  const forward: Forward = opts.has('nat') ? 'nat' : opts.has('tunnel') ? 'tunnel' : 'dr';
  const num = (name: string, what: string) => {
    const v = opts.get(name)?.value;
    return v ? integer(v, 0, 2147483647, what, fail) : undefined;
  };
  const out: RealServer = {
    family: hp.family,
    address: hp.address,
    port: hp.port ?? (svc.fwmark === undefined ? svc.port : 0),
    forward,
    weight: num('weight', 'a weight') ?? 1,
    upperThreshold: num('upper', 'a threshold') ?? 0,
    lowerThreshold: num('lower', 'a threshold') ?? 0,
  };
  const tunnelOpts = ['tunType', 'tunPort', 'none', 'csum', 'remcsum'].filter((o) => opts.has(o));
  if (forward === 'tunnel') {
    const typeText = opts.get('tunType')?.value;
    if (typeText && !['ipip', 'gue', 'gre'].includes(typeText.text))
      fail(`unknown tunnel type "${typeText.text}" (ipip, gue or gre)`, typeText);
    const portText = opts.get('tunPort')?.value;
    out.tunnel = {
      type: (typeText?.text as TunnelType | undefined) ?? 'ipip',
      port: portText ? integer(portText, 0, 65535, 'a port', fail) : 0,
      checksum: (['csum', 'remcsum'].find((c) => opts.has(c)) as TunnelChecksum | undefined) ?? 'none',
    };
  } else if (tunnelOpts.length > 0) {
    fail(`option ${opts.get(tunnelOpts[0]!)!.option.text} needs -i (tunnel)`, opts.get(tunnelOpts[0]!)!.option);
  }
  return out;
}

/** `192.0.2.1`, `192.0.2.1:80`, `[2001:db8::1]:80`: numeric only (ipvsadm -n). */
function hostPort(t: Token, fail: Fail): { family: Family; address: string; port?: number } {
  const hp = parseAddressPort(t.text);
  if (hp.ok) return hp;
  const colon = t.text.lastIndexOf(':');
  // The address read, the port did not: name the port.
  if (colon > 0 && parseAddressPort(t.text.slice(0, colon)).ok) {
    integer({ text: t.text.slice(colon + 1), column: t.column }, 0, 65535, 'a numeric port (use ipvsadm -Sn)', fail);
  }
  return fail(`"${t.text}" is not a numeric address (use ipvsadm -Sn, with -n)`, t);
}

function integer(t: Token, min: number, max: number, what: string, fail: Fail): number {
  if (!/^\d+$/.test(t.text) || Number(t.text) < min || Number(t.text) > max)
    fail(`"${t.text}" is not ${what} (${min} to ${max})`, t);
  return Number(t.text);
}
