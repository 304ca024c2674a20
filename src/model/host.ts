/**
 * The host side of an LVS setup in the user's nouns: addresses lvsd binds,
 * kernel settings (sysctls), and the ipip tunnel device of a TUN real server.
 */
import type { Family } from './address.js';

/** An address lvsd binds: always a host route, /32 or /128. */
export interface HostAddress {
  interface: string;
  address: string;
  prefix: number;
  family: Family;
}

export interface Sysctl {
  /** Path under /proc/sys, e.g. net/ipv4/conf/all/arp_ignore (slashes: interface names may hold dots). */
  key: string;
  value: string;
}

/** When an announced VIP is on the announce interface (director.announce.when). */
export type AnnounceWhen = 'healthy' | 'always';

/** director.announce: VIPs as addresses on a dummy interface that a BGP speaker exports. */
export interface Announce {
  /** The dummy interface (default lvs0). */
  interface: string;
  when: AnnounceWhen;
  /** Withdraw every VIP, keep the services. */
  drain: boolean;
}

/** The default announce interface. */
export const DEFAULT_ANNOUNCE_INTERFACE = 'lvs0';

/** What the config asks of this host. */
export interface DesiredHost {
  /** director.announce, when set: the announced addresses follow the services (plan/announce.ts). */
  announce?: Announce;
  /** Addresses lvsd owns that must exist. */
  addresses: HostAddress[];
  /** Settings given outright (ip_forward, director.sysctl, realserver.sysctl). */
  sysctls: Sysctl[];
  /** arp_ignore=1, arp_announce=2 on all and each interface (expanded against the live links). */
  arpStrict: boolean;
  /** tunl0 up with reverse-path filtering off (LVS-TUN real server). */
  tunnel: boolean;
  /** director.vrrp: keepalived moves the VIPs; lvsd follows who holds them and keeps the track file. */
  vrrp?: VrrpSettings;
}

/** director.vrrp as lvsd run uses it. */
export interface VrrpSettings {
  /** Where lvsd run keeps keepalived's track file; undefined: none is written. */
  trackFile?: string;
}

export interface HostLink {
  name: string;
  index: number;
  up: boolean;
}

/** The host as read. */
export interface LiveHost {
  links: HostLink[];
  /** Every host-route address on every link; `owned` when lvsd added it. */
  addresses: (HostAddress & { owned: boolean })[];
  /** Values of the sysctls asked for; undefined when the setting does not exist. */
  sysctls: Map<string, string | undefined>;
}

/** The ipip fallback device LVS-TUN real servers decapsulate on. */
export const TUNNEL_DEVICE = 'tunl0';

/** `eth0 198.51.100.200/32` */
export function hostAddressKey(a: HostAddress): string {
  return `${a.interface} ${a.address}/${a.prefix}`;
}

/** A sysctl key (slash path under /proc/sys) as people write it: dotted unless a part has a dot. */
export function displaySysctl(key: string): string {
  const parts = key.split('/');
  return parts.some((p) => p.includes('.')) ? key : parts.join('.');
}

/**
 * Every setting the desired host needs, with `arp: strict` expanded over
 * conf/all and each live link but lo (the kernel uses the larger of all and
 * the link's own value). Later entries win over earlier ones.
 */
export function wantedSysctls(host: DesiredHost, links: readonly HostLink[]): Sysctl[] {
  const out = new Map<string, string>();
  if (host.arpStrict) {
    for (const dev of ['all', ...links.map((l) => l.name).filter((n) => n !== 'lo')]) {
      out.set(`net/ipv4/conf/${dev}/arp_ignore`, '1');
      out.set(`net/ipv4/conf/${dev}/arp_announce`, '2');
    }
  }
  for (const s of host.sysctls) out.set(s.key, s.value);
  return [...out].map(([key, value]) => ({ key, value }));
}
