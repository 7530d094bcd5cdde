// Multicast subscriptions a root keeps from MULTICAST_LIKE and answers MULTICAST_GATHER from
// (docs/protocol/08-root-behaviour.md §3.4). Bounded: at most maxGroups groups and maxPerGroup subscribers
// each; entries expire after ZT_MULTICAST_LIKE_EXPIRE.

import type { Address } from '../identity/address.ts';
import type { MulticastGroup } from '../wire/mac.ts';

export interface MulticastStoreLimits {
  maxGroups: number;
  maxPerGroup: number;
}

function groupKey(networkId: bigint, g: MulticastGroup): string {
  return `${networkId.toString(16)}/${g.mac.toString(16)}/${g.adi}`;
}

export class MulticastStore {
  /** group key → subscriber → last LIKE time (ms). Maps keep insertion order: oldest first. */
  private readonly groups = new Map<string, Map<Address, number>>();
  private readonly limits: MulticastStoreLimits;
  /** LIKEs refused because a limit was reached. */
  refused = 0;

  constructor(limits: MulticastStoreLimits = { maxGroups: 1_000_000, maxPerGroup: 100_000 }) {
    this.limits = limits;
  }

  get groupCount(): number {
    return this.groups.size;
  }

  like(networkId: bigint, group: MulticastGroup, subscriber: Address, nowMs: number): void {
    const k = groupKey(networkId, group);
    let members = this.groups.get(k);
    if (!members) {
      if (this.groups.size >= this.limits.maxGroups) {
        this.refused++;
        return;
      }
      members = new Map();
      this.groups.set(k, members);
    }
    if (!members.has(subscriber) && members.size >= this.limits.maxPerGroup) {
      this.refused++;
      return;
    }
    members.delete(subscriber); // re-insert so iteration order stays oldest-first
    members.set(subscriber, nowMs);
  }

  /**
   * Subscribers of a group other than `requester`: the total known and up to `limit` addresses,
   * most recently active first.
   */
  gather(networkId: bigint, group: MulticastGroup, requester: Address, limit: number, nowMs: number, maxAgeMs: number): { totalKnown: number; members: Address[] } {
    const members = this.groups.get(groupKey(networkId, group));
    if (!members) return { totalKnown: 0, members: [] };
    const live = [...members].filter(([a, t]) => a !== requester && nowMs - t <= maxAgeMs);
    const out: Address[] = [];
    for (let i = live.length - 1; i >= 0 && out.length < limit; i--) out.push(live[i][0]);
    return { totalKnown: live.length, members: out };
  }

  /** Drop subscriptions older than maxAgeMs; returns how many went. */
  expire(nowMs: number, maxAgeMs: number): number {
    let n = 0;
    for (const [k, members] of this.groups) {
      for (const [a, t] of members) {
        if (nowMs - t > maxAgeMs) {
          members.delete(a);
          n++;
        }
      }
      if (members.size === 0) this.groups.delete(k);
    }
    return n;
  }
}
