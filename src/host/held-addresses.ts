/**
 * Which addresses this host holds now, from an rtnetlink dump and the
 * RTM_NEWADDR / RTM_DELADDR notifications after it. Pure: the socket is in
 * address-watch.ts.
 *
 * An address counts once per link: the same VIP on two links is held until
 * the last goes. Notifications that arrive while a dump is under way are
 * kept and applied after the dump replaced the set, so that a deletion
 * racing the dump is not undone by it.
 */
import { canonicalAddress } from '../model/address.js';

/** One address on one link, as rtnetlink reports it. */
export interface AddressEvent {
  kind: 'new' | 'del';
  index: number;
  address: string;
}

export class HeldAddresses {
  /** `index address` of every address held. */
  private readonly entries = new Set<string>();
  /** Address -> how many links hold it. */
  private readonly counts = new Map<string, number>();
  private pending: AddressEvent[] | undefined;

  /** Starts a dump: notifications from now on wait for `replace`. */
  beginDump(): void {
    this.pending ??= [];
  }

  /** The dump's result: the set becomes it, then the notifications that came meanwhile apply. */
  replace(held: readonly { index: number; address: string }[]): void {
    this.entries.clear();
    this.counts.clear();
    const pending = this.pending ?? [];
    this.pending = undefined;
    for (const a of held) this.add(a.index, a.address);
    for (const e of pending) this.apply(e);
  }

  /** A notification; true when an address became held or stopped being held. */
  apply(e: AddressEvent): boolean {
    if (this.pending) {
      this.pending.push(e);
      return false;
    }
    return e.kind === 'new' ? this.add(e.index, e.address) : this.remove(e.index, e.address);
  }

  /** Whether any link holds `address` (any textual form). */
  holds(address: string): boolean {
    return (this.counts.get(canonicalAddress(address)) ?? 0) > 0;
  }

  private add(index: number, address: string): boolean {
    const canon = canonicalAddress(address);
    const key = `${index} ${canon}`;
    if (this.entries.has(key)) return false;
    this.entries.add(key);
    const n = this.counts.get(canon) ?? 0;
    this.counts.set(canon, n + 1);
    return n === 0;
  }

  private remove(index: number, address: string): boolean {
    const canon = canonicalAddress(address);
    if (!this.entries.delete(`${index} ${canon}`)) return false;
    const n = (this.counts.get(canon) ?? 1) - 1;
    if (n > 0) this.counts.set(canon, n);
    else this.counts.delete(canon);
    return n === 0;
  }
}
