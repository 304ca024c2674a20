/**
 * The host part of a plan: addresses to bind or remove, sysctls to set, the
 * tunnel device to bring up. Pure. Only addresses lvsd added are ever removed.
 */
import {
  type DesiredHost,
  displaySysctl,
  hostAddressKey,
  type LiveHost,
  TUNNEL_DEVICE,
  wantedSysctls,
} from '../model/host.js';
import type { DesiredService } from '../model/types.js';
import { announceDecisions, diffAnnounce } from './announce.js';
import type { HostChange } from './change.js';

/**
 * Changes that make the host match, in phase order: settings, the tunnel
 * device and new addresses go ahead of the IPVS changes (phase `host`: ready
 * before traffic comes), addresses whose services are gone behind them
 * (phase `address-deletes`). A change that cannot work (an interface or
 * setting this host lacks) carries a `problem`.
 */
export function diffHost(
  host: DesiredHost | undefined,
  live: LiveHost,
  services?: readonly DesiredService[],
): HostChange[] {
  const changes: HostChange[] = [];
  if (!host) return changes;
  if (host.announce) changes.push(...diffAnnounce(host.announce, announceDecisions(host.announce, services), live));
  const links = new Map(live.links.map((l) => [l.name, l]));
  const linkNames = live.links.map((l) => l.name).join(', ');

  changes.push(...diffSysctls(host, live));

  if (host.tunnel) {
    const tun = links.get(TUNNEL_DEVICE);
    if (!tun?.up) {
      const change: HostChange = {
        action: 'edit',
        kind: 'link',
        phase: 'host',
        target: TUNNEL_DEVICE,
        fields: { state: { old: tun ? 'down' : 'absent', new: 'up' } },
        op: { op: 'link-up', name: TUNNEL_DEVICE },
      };
      if (!tun)
        change.problem = `${TUNNEL_DEVICE} does not exist: load the ipip module (modprobe ipip, or list it in /etc/modules-load.d/)`;
      changes.push(change);
    }
  }

  const have = new Map(live.addresses.map((a) => [hostAddressKey(a), a]));
  const want = new Set<string>();
  for (const a of host.addresses) {
    const key = hostAddressKey(a);
    want.add(key);
    // Present already, lvsd's or someone else's: nothing to do, and nothing taken over.
    if (have.has(key)) continue;
    const change: HostChange = {
      action: 'add',
      kind: 'address',
      phase: 'host',
      target: key,
      fields: { address: { new: `${a.address}/${a.prefix}` }, interface: { new: a.interface } },
      op: { op: 'add-address', address: a },
    };
    if (!links.has(a.interface))
      change.problem = `interface ${a.interface} does not exist (this host has: ${linkNames || 'none'})`;
    changes.push(change);
  }
  for (const [key, a] of have) {
    // The announce interface's addresses are diffAnnounce's.
    if (!a.owned || want.has(key) || a.interface === host.announce?.interface) continue;
    const { owned: _owned, ...address } = a;
    // Last: phase address-deletes follows every other.
    changes.push({
      action: 'delete',
      kind: 'address',
      phase: 'address-deletes',
      target: key,
      fields: { address: { old: `${a.address}/${a.prefix}` }, interface: { old: a.interface } },
      op: { op: 'delete-address', address },
    });
  }
  return changes;
}

/** The settings that differ from what the host wants; one this kernel lacks carries a problem. */
function diffSysctls(host: DesiredHost, live: LiveHost): HostChange[] {
  const changes: HostChange[] = [];
  for (const s of wantedSysctls(host, live.links)) {
    const have = live.sysctls.get(s.key);
    if (have === s.value) continue;
    const change: HostChange = {
      action: 'edit',
      kind: 'sysctl',
      phase: 'host',
      target: displaySysctl(s.key),
      fields: { value: have === undefined ? { new: s.value } : { old: have, new: s.value } },
      op: { op: 'set-sysctl', key: s.key, value: s.value },
    };
    if (have === undefined) change.problem = `this kernel has no setting ${displaySysctl(s.key)} (/proc/sys/${s.key})`;
    changes.push(change);
  }
  return changes;
}
