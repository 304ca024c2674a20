/**
 * director.announce: which VIPs are on the announce interface (a BGP
 * speaker exports them), and the changes that put them there or take them
 * off. A VIP is announced after its services are in the kernel (phase
 * `announce`) and withdrawn before anything else changes (phase
 * `withdraw`). Pure.
 */
import { familyOf, hostPrefixLength } from '../model/address.js';
import { type Announce, type HostAddress, hostAddressKey, type LiveHost } from '../model/host.js';
import { realServerKey, serviceKey } from '../model/keys.js';
import type { DesiredService, LiveService } from '../model/types.js';
import type { HostChange } from './change.js';

/** Why a VIP is not announced. */
export type WithdrawReason = 'drain' | 'no real server up';

/** One VIP of the services and whether it is announced now. */
export interface AnnounceDecision {
  address: HostAddress;
  /** serviceKeys of the services on this VIP: its announce waits for them. */
  services: string[];
  announce: boolean;
  /** Set when not announced. */
  reason?: WithdrawReason;
}

/**
 * True when a real server of the service takes new connections: weight above
 * 0 as health checks left it (effective.ts). A sorry server does not count:
 * while it serves, another director with real servers up should get the flows.
 */
function hasRealServerUp(s: DesiredService): boolean {
  const sorry = s.sorryServer ? realServerKey(s.sorryServer) : undefined;
  return s.realservers.some((r) => r.weight > 0 && realServerKey(r) !== sorry);
}

/**
 * The VIPs of `services` (fwmark services have none) in first-seen order,
 * each announced or withdrawn: all withdrawn under drain; with `healthy`, a
 * VIP is announced while one of its services has a real server up; with
 * `always`, whenever it has services. `services` is the effective state (health
 * verdicts applied); one-shot commands pass the file's, so configured weights
 * are the verdict.
 */
export function announceDecisions(
  announce: Announce,
  services: readonly DesiredService[] | undefined,
): AnnounceDecision[] {
  const byVip = new Map<string, AnnounceDecision>();
  for (const s of services ?? []) {
    if (s.address === undefined) continue;
    let d = byVip.get(s.address);
    if (!d) {
      const family = familyOf(s.address) ?? 'ipv4';
      const address = { interface: announce.interface, address: s.address, prefix: hostPrefixLength(family), family };
      d = { address, services: [], announce: false };
      byVip.set(s.address, d);
    }
    d.services.push(serviceKey(s));
    if (announce.when === 'always' || hasRealServerUp(s)) d.announce = true;
  }
  for (const d of byVip.values()) {
    if (announce.drain) d.announce = false;
    if (!d.announce) d.reason = announce.drain ? 'drain' : 'no real server up';
  }
  return [...byVip.values()];
}

const WITHDRAW_NOTE: Record<WithdrawReason | 'gone', string> = {
  drain: 'withdrawn: director.announce.drain',
  'no real server up': 'withdrawn: no real server of its services is up',
  gone: 'withdrawn: no service has this VIP',
};

/**
 * The changes that make the announce interface hold exactly the announced
 * VIPs: the dummy interface created or brought up (phase `host`), VIPs added
 * once their services are in (phase `announce`, needing those services), and
 * lvsd's own addresses on it that are not announced removed first (phase
 * `withdraw`). Addresses someone else put there are left alone.
 */
export function diffAnnounce(announce: Announce, decisions: readonly AnnounceDecision[], live: LiveHost): HostChange[] {
  const changes: HostChange[] = [];
  const link = live.links.find((l) => l.name === announce.interface);
  if (!link) {
    changes.push({
      action: 'add',
      kind: 'link',
      phase: 'host',
      target: announce.interface,
      fields: { type: { new: 'dummy' }, state: { new: 'up' } },
      op: { op: 'add-dummy', name: announce.interface },
    });
  } else if (!link.up) {
    changes.push({
      action: 'edit',
      kind: 'link',
      phase: 'host',
      target: announce.interface,
      fields: { state: { old: 'down', new: 'up' } },
      op: { op: 'link-up', name: announce.interface },
    });
  }
  const have = new Map(
    live.addresses.filter((a) => a.interface === announce.interface).map((a) => [hostAddressKey(a), a]),
  );
  const byKey = new Map(decisions.map((d) => [hostAddressKey(d.address), d]));
  for (const [key, d] of byKey) {
    if (!d.announce || have.has(key)) continue;
    const a = d.address;
    changes.push({
      action: 'add',
      kind: 'announce',
      phase: 'announce',
      target: key,
      fields: { address: { new: `${a.address}/${a.prefix}` }, interface: { new: a.interface } },
      op: { op: 'add-address', address: a },
      needs: d.services,
    });
  }
  for (const [key, a] of have) {
    const d = byKey.get(key);
    if (!a.owned || d?.announce) continue;
    const { owned: _owned, ...address } = a;
    changes.push({
      action: 'delete',
      kind: 'announce',
      phase: 'withdraw',
      target: key,
      fields: { address: { old: `${a.address}/${a.prefix}` }, interface: { old: a.interface } },
      op: { op: 'delete-address', address },
      note: WITHDRAW_NOTE[d?.reason ?? 'gone'],
    });
  }
  return changes;
}

/** director.announce and its VIPs as `lvsd show` reads them from the status file. */
export interface AnnounceSummary {
  interface: string;
  when: string;
  drain: boolean;
  vips: { address: string; announced: boolean; reason?: string }[];
}

/** The summary of the last decisions, or undefined without announce. */
export function announceStatus(
  announce: Announce | undefined,
  decisions: readonly AnnounceDecision[] | undefined,
): AnnounceSummary | undefined {
  if (!announce) return undefined;
  return {
    interface: announce.interface,
    when: announce.when,
    drain: announce.drain,
    vips: (decisions ?? []).map((d) => ({
      address: d.address.address,
      announced: d.announce,
      ...(d.reason ? { reason: d.reason } : {}),
    })),
  };
}

/** Whether a drained director still gets new connections. */
export interface DrainState {
  state: 'draining' | 'drained';
  /** New connections per second on the announced VIPs' services (the kernel's rate estimate). */
  cps: number;
}

/**
 * Under drain, whether new connections still arrive: the kernel's estimate
 * of new connections per second (IPVS's rate estimator, averaged over a few
 * seconds) summed over the services on `vips`. "draining" while it is above
 * 0, "drained" once it has decayed to 0: no new connection for several
 * seconds (about 20 s after a stream of 10/s stops).
 */
export function drainState(vips: readonly string[], services: readonly LiveService[]): DrainState {
  const on = new Set(vips);
  let cps = 0n;
  for (const s of services) if (s.address !== undefined && on.has(s.address)) cps += s.stats?.cps ?? 0n;
  return { state: cps > 0n ? 'draining' : 'drained', cps: Number(cps) };
}
