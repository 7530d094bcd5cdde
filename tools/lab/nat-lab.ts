// The root-and-NATs topology used by the end-to-end tests:
//
//                      WAN namespace: bridge br0 (198.18.0.0/24)
//            ┌───────────────────┼──────────────────────┐
//   root ns: eth0 198.18.0.1   NAT i ns: wan 198.18.0.(2+i)   …
//                                        lan 10.(1+i).0.1/24  (MASQUERADE on wan)
//                                          │
//                              leaf i ns: eth0 10.(1+i).0.2/24, default via 10.(1+i).0.1
//
// The root sits on a benchmarking address (198.18.0.0/15) as real roots sit on public ones;
// each leaf is alone behind its own home-router-like NAT on a private LAN.

import { NetnsLab } from './netns.ts';

export interface NatSite {
  /** Namespace of the NAT router. */
  nat: string;
  /** The router's address on the WAN: what the root and the other leaves see. */
  publicIp: string;
  /** Namespace of the leaf behind it. */
  leaf: string;
  leafIp: string;
}

export interface NatLab {
  lab: NetnsLab;
  wan: string;
  root: { ns: string; ip: string };
  sites: NatSite[];
}

const WAN_PREFIX = '198.18.0';

/** Build the topology with `leaves` NAT sites inside `lab` (which destroy() removes). */
export function buildNatLab(lab: NetnsLab, leaves: number): NatLab {
  if (leaves < 1 || leaves > 200) throw new RangeError('between 1 and 200 NAT sites');
  const wan = lab.namespace('wan');
  lab.bridge(wan, 'br0');

  const rootNs = lab.namespace('root');
  const rootIp = `${WAN_PREFIX}.1`;
  lab.veth({ ns: wan, ifname: 'w-root' }, { ns: rootNs, ifname: 'eth0' });
  lab.attach(wan, 'w-root', 'br0');
  lab.address(rootNs, 'eth0', `${rootIp}/24`);

  const sites: NatSite[] = [];
  for (let i = 0; i < leaves; i++) {
    const nat = lab.namespace(`nat${i}`);
    const leaf = lab.namespace(`leaf${i}`);
    const publicIp = `${WAN_PREFIX}.${2 + i}`;
    const lan = `10.${1 + i}.0`;
    lab.veth({ ns: wan, ifname: `w-nat${i}` }, { ns: nat, ifname: 'wan' });
    lab.attach(wan, `w-nat${i}`, 'br0');
    lab.address(nat, 'wan', `${publicIp}/24`);
    lab.veth({ ns: nat, ifname: 'lan' }, { ns: leaf, ifname: 'eth0' });
    lab.address(nat, 'lan', `${lan}.1/24`);
    lab.address(leaf, 'eth0', `${lan}.2/24`);
    lab.defaultRoute(leaf, `${lan}.1`);
    lab.natRouter(nat, 'wan');
    sites.push({ nat, publicIp, leaf, leafIp: `${lan}.2` });
  }
  return { lab, wan, root: { ns: rootNs, ip: rootIp }, sites };
}

export interface SharedLanSite {
  /** Namespace of the NAT router. */
  nat: string;
  /** The router's address on the WAN. */
  publicIp: string;
  /** The hosts on its LAN: namespace, IPv4 address and (when asked for) IPv6 address. */
  hosts: { ns: string; ip: string; ip6?: string }[];
}

/**
 * One more home router on an existing WAN bridge, with `hosts` namespaces on one LAN behind it
 * (a bridge inside the router's namespace). `lanPrefix` is three octets ("198.19.3"): the router
 * is .1, hosts .2 upwards. With `lan6Prefix` ("2001:2:0:3", a /64 of the 2001:2::/48 benchmarking
 * range) the hosts also get IPv6 addresses that stay on the LAN (IPv6 is not routed out).
 */
export function addSharedLanSite(lab: NetnsLab, wan: { ns: string; bridge: string }, name: string, publicCidr: string, lanPrefix: string,
  hosts: number, lan6Prefix?: string): SharedLanSite {
  const nat = lab.namespace(name);
  lab.veth({ ns: wan.ns, ifname: `w-${name}` }, { ns: nat, ifname: 'wan' });
  lab.attach(wan.ns, `w-${name}`, wan.bridge);
  lab.address(nat, 'wan', publicCidr);
  lab.bridge(nat, 'lan');
  lab.address(nat, 'lan', `${lanPrefix}.1/24`);
  lab.natRouter(nat, 'wan');
  const out: SharedLanSite = { nat, publicIp: publicCidr.split('/')[0], hosts: [] };
  for (let i = 0; i < hosts; i++) {
    const ns = lab.namespace(`${name}h${i}`);
    lab.veth({ ns: nat, ifname: `l${i}` }, { ns, ifname: 'eth0' });
    lab.attach(nat, `l${i}`, 'lan');
    const ip = `${lanPrefix}.${2 + i}`;
    lab.address(ns, 'eth0', `${ip}/24`);
    lab.defaultRoute(ns, `${lanPrefix}.1`);
    const ip6 = lan6Prefix ? `${lan6Prefix}::${2 + i}` : undefined;
    if (ip6) lab.ip(ns, 'addr', 'add', `${ip6}/64`, 'dev', 'eth0', 'nodad'); // usable at once, no duplicate detection wait
    out.hosts.push({ ns, ip, ip6 });
  }
  return out;
}
