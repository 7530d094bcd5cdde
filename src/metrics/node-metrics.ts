// A leaf's (and a controller node's) Prometheus metrics: the node core's series (packets, datagrams,
// bytes, drops by reason — the same names as the root's), and what a leaf operator watches: peers
// and their paths, whether it is online, its networks by status, and the Ethernet frames it moves.
// Read at scrape time; no per-peer or per-network labels.

import type client from 'prom-client';
import type { LeafNode } from '../leaf/leaf-node.ts';
import { gauge, mirroredCounter, newRegistry, registerNodeStats } from './registry.ts';

export function createNodeRegistry(leaf: LeafNode): client.Registry {
  const registry = newRegistry();
  const node = leaf.leaf.node;
  registerNodeStats(registry, () => node.stats);
  gauge(registry, 'ztroot_online', '1 while an upstream (a root of the planet or a moon) was heard within the last 500 s.', () => (leaf.online ? 1 : 0));
  gauge(registry, 'ztroot_peers', 'Peers currently known.', () => node.peers.size);
  gauge(registry, 'ztroot_paths', 'Physical paths (remote IP/port) to known peers.', () => {
    let n = 0;
    for (const p of node.peers.values()) n += p.paths.size;
    return n;
  });
  gauge(registry, 'ztroot_worlds', 'Worlds (planet and moons) this node lives in.', () => node.topology.worlds.length);
  gauge(registry, 'ztroot_networks', 'Joined networks, by status (OK, REQUESTING_CONFIGURATION, ACCESS_DENIED, NOT_FOUND).', () => {
    const byStatus = new Map<string, number>();
    for (const n of leaf.member.networks.values()) byStatus.set(n.status, (byStatus.get(n.status) ?? 0) + 1);
    return [...byStatus].map(([status, count]) => [[status], count]);
  }, ['status']);
  mirroredCounter(registry, 'ztroot_frames_total', 'Ethernet frames moved, over every network (out: from this host to the network; in: delivered to this host).',
    ['direction'], function* () {
      yield [['in'], leaf.frames.in];
      yield [['out'], leaf.frames.out];
    });
  mirroredCounter(registry, 'ztroot_frames_dropped_total', "Ethernet frames the networks' rules dropped, by direction.", ['direction'], function* () {
    yield [['in'], leaf.frames.dropped.inbound];
    yield [['out'], leaf.frames.dropped.outbound];
  });
  return registry;
}
