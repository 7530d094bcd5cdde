// What a network's config puts on the host, as zerotier-one 1.14 decides it on Linux
// (docs/protocol/09-local-api-and-cli.md §6): the managed addresses and routes the
// member's settings allow. An address or route target is allowed when allowManaged is on and
// - it is a default route (0.0.0.0/0, ::/0): only with allowDefault;
// - its scope is global: only with allowGlobal;
// - its scope is none, multicast, loopback or link-local: never;
// - otherwise (private, pseudo-private): yes.
// A route is skipped when its gateway is one of the member's own addresses (a router would route
// to itself), when no address of its family can be its source, and when an address already
// implies it (same prefix length, inside the target). A default route is split into two /1
// routes so that it wins over the host's own default without replacing it. Routes through a
// gateway get metric 5000 (ZT_RTE_METRIC).

import { IpScope, ipScope } from '../node/ip-scope.ts';
import { compareInetAddressLikeZeroTier, formatIp, type InetAddress, type IpAddress } from '../wire/inet-address.ts';
import type { Route } from '../wire/netconf/network-config.ts';
import type { NetworkSettings } from './leaf-home.ts';

export interface ManagedRoute {
  /** "IP/bits" */
  target: string;
  /** Gateway IP, absent for a route straight onto the device. */
  via?: string;
  /**
   * "IP/bits": the member's address sharing the most leading bits with the target. 1.14 gives
   * it to the kernel only on a route without a gateway (as the route's source prefix).
   */
  src: string;
}

export interface ManagedPlan {
  /** "IP/bits", sorted, no duplicates. */
  addresses: string[];
  routes: ManagedRoute[];
}

function isIp(a: InetAddress): a is IpAddress {
  return a.family === 4 || a.family === 6;
}

export function isDefaultRoute(a: IpAddress): boolean {
  return a.port === 0 && a.ip.every((b) => b === 0);
}

/** checkIfManagedIsAllowed of 1.14's service. */
export function managedAllowed(settings: NetworkSettings, target: IpAddress): boolean {
  if (!settings.allowManaged) return false;
  if (isDefaultRoute(target)) return settings.allowDefault;
  switch (ipScope(target)) {
    case IpScope.none: case IpScope.multicast: case IpScope.loopback: case IpScope.linkLocal: return false;
    case IpScope.global: return settings.allowGlobal;
    default: return true;
  }
}

/** Leading bits two addresses of one family share. */
function matchingPrefixBits(a: IpAddress, b: IpAddress): number {
  let bits = 0;
  for (let i = 0; i < a.ip.length; i++) {
    const x = a.ip[i] ^ b.ip[i];
    if (x === 0) {
      bits += 8;
      continue;
    }
    return bits + Math.clz32(x) - 24;
  }
  return bits;
}

/** Whether the network `net` (prefix bits in its port) contains `ip`. */
function contains(net: IpAddress, ip: IpAddress): boolean {
  return net.family === ip.family && matchingPrefixBits(net, ip) >= net.port;
}

const text = (a: IpAddress): string => `${formatIp(a)}/${a.port}`;

/** 0.0.0.0/0 → 0.0.0.0/1 and 128.0.0.0/1 (and the same for ::/0); any other target as it is. */
function splitDefault(target: IpAddress): IpAddress[] {
  if (!isDefaultRoute(target)) return [target];
  const high = Uint8Array.from(target.ip);
  high[0] = 0x80;
  return [{ ...target, port: 1 }, { ...target, ip: high, port: 1 }];
}

export function managedPlan(config: { readonly staticIps: readonly InetAddress[]; readonly routes: readonly Route[] }, settings: NetworkSettings): ManagedPlan {
  const assigned = config.staticIps.filter(isIp);
  const managed = assigned.filter((a) => managedAllowed(settings, a));
  const addresses = [...new Set(managed.map(text))].sort();
  // std::set order, so that ties in the source choice fall as in 1.14 (the last one wins)
  const mine = [...assigned].sort(compareInetAddressLikeZeroTier);
  const routes: ManagedRoute[] = [];
  for (const { target, via } of config.routes) {
    if (!isIp(target) || !managedAllowed(settings, target)) continue;
    if (isIp(via) && via.family === target.family && mine.some((m) => m.family === via.family && matchingPrefixBits(m, via) === m.ip.length * 8)) continue;
    let src: IpAddress | undefined;
    let most = 0;
    for (const m of mine) {
      if (m.family !== target.family) continue;
      const bits = matchingPrefixBits(m, target);
      if (bits >= most) {
        most = bits;
        src = m;
      }
    }
    // the source must be on the device: a route from an address the settings kept off would fail
    if (!src || !addresses.includes(text(src))) continue;
    if (managed.some((m) => m.port === target.port && contains(target, m))) continue;
    for (const t of splitDefault(target)) routes.push({ target: text(t), ...(isIp(via) ? { via: formatIp(via) } : {}), src: text(src) });
  }
  return { addresses, routes };
}
