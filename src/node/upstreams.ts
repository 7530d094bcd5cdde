// A node's upstreams: the roots of every world it knows, except itself (docs/protocol/05-world-moons.md §5).
// Every role is a node of the worlds it lives in, as a 1.14 node is — a moon root included, so
// that its planet's roots can answer WHOIS for it, relay to it and introduce it:
// - contact each upstream at its stable endpoints on 1.14's schedule (08-root-behaviour.md §1.2):
//   every ping check while there is no live path to it, then one full HELLO per live path about
//   every 224 s, plus a stable endpoint of any family without a path;
// - the status each role reports (whether an upstream answered, and when).
// - the world updates they send in OK(HELLO) (docs/protocol/05-world-moons.md §3) and the RENDEZVOUS they
//   send (docs/protocol/04-verbs.md §6): any packet thread may receive these, not only the one that contacts.

import { formatAddress, type Address } from '../identity/address.ts';
import type { IpAddress } from '../wire/inet-address.ts';
import { formatInetAddress } from '../wire/inet-address.ts';
import { decodeOkHello } from '../wire/verbs/hello.ts';
import { decodeRendezvous } from '../wire/verbs/rendezvous.ts';
import { World } from '../world/world.ts';
import { socketToward } from './ip-scope.ts';
import type { Inbound, Node } from './node.ts';
import { updatePathLatency, type Peer } from './peer.ts';
import { createPathLookup, type PathLookup, type SharedPeerTable } from './shared-peer-table.ts';
import type { Topology } from './topology.ts';

const second = 1000;

/** 1.14's timers for contacting upstreams (docs/protocol/11-constants.md). */
export const UPSTREAM_TIMERS = {
  /** ZT_PING_CHECK_INTERVAL: how often a node looks at who needs contacting. */
  pingCheckMs: 5 * second,
  /**
   * An upstream with a live path gets a full HELLO once this long has passed since the last one:
   * ZT_PATH_HEARTBEAT_PERIOD (14 s) × 16, the role-based scale 1.14 applies to upstreams.
   */
  upstreamHelloIntervalMs: 16 * 14 * second,
  /** ZT_PEER_PATH_EXPIRATION: a path heard on within this is live. */
  pathExpirationMs: 243 * second,
} as const;

export interface UpstreamContactOptions {
  pingCheckMs?: number;
  upstreamHelloIntervalMs?: number;
  /** Random index below n, for choosing among stable endpoints (tests fix it). */
  pick?: (n: number) => number;
}

/** Sends the HELLOs that keep a node known to its upstreams. The role calls tick() every ping check. */
export class UpstreamContact {
  private readonly node: Node;
  private readonly helloIntervalMs: number;
  private readonly pick: (n: number) => number;
  private readonly lastFullHelloMs = new Map<Address, number>();
  private readonly lookup = createPathLookup();
  readonly pingCheckMs: number;
  private timer: NodeJS.Timeout | undefined;
  /** HELLOs sent to upstreams (for tests and logs). */
  hellosSent = 0;

  constructor(node: Node, options: UpstreamContactOptions = {}) {
    this.node = node;
    this.pingCheckMs = options.pingCheckMs ?? UPSTREAM_TIMERS.pingCheckMs;
    this.helloIntervalMs = options.upstreamHelloIntervalMs ?? UPSTREAM_TIMERS.upstreamHelloIntervalMs;
    this.pick = options.pick ?? ((n) => Math.floor(Math.random() * n));
  }

  /** Contact now, then every ping check, until stop(). */
  start(): void {
    this.tick();
    this.timer = setInterval(() => this.tick(), this.pingCheckMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One ping check (docs/protocol/08-root-behaviour.md §1.2). */
  tick(): void {
    const node = this.node;
    const now = node.now();
    const upstreams = node.topology.upstreams();
    for (const a of this.lastFullHelloMs.keys()) if (!upstreams.has(a)) this.lastFullHelloMs.delete(a);
    for (const [address, up] of upstreams) {
      const peer = node.peerFor(address) ?? node.addPeer(up.identity);
      if (!peer) continue;
      const live4 = this.livePath(address, 4, now), live6 = this.livePath(address, 6, now);
      const last = this.lastFullHelloMs.get(address) ?? -Infinity;
      if ((live4 || live6) && now - last <= this.helloIntervalMs) continue;
      this.lastFullHelloMs.set(address, now);
      for (const family of [4, 6] as const) {
        const live = family === 4 ? live4 : live6;
        if (live) {
          node.sendHello(peer, live.socket, live.remote);
          this.hellosSent++;
          continue;
        }
        const endpoints = up.stableEndpoints.filter((e) => e.family === family);
        if (endpoints.length === 0) continue;
        const endpoint = endpoints[this.pick(endpoints.length)] as IpAddress;
        const socket = socketToward(node.transport.sockets, endpoint);
        if (!socket) continue;
        node.sendHello(peer, socket, endpoint);
        this.hellosSent++;
      }
    }
  }

  private livePath(address: Address, family: 4 | 6, now: number): ReturnType<Node['tablePath']> {
    const l = this.node.peerTable.lookup(address, this.lookup, family);
    if (!l.found || now / 1000 - l.seen > UPSTREAM_TIMERS.pathExpirationMs / 1000) return undefined;
    return this.node.tablePath(address, family);
  }
}

/**
 * OK(HELLO): the round trip on the path it came back on, the peer's version, and the worlds it
 * carries when the peer may update them — an upstream, or the seed of a moon we are fetching
 * (docs/protocol/05-world-moons.md §3, §6.2).
 */
export function takeOkHello(node: Node, peer: Peer, payload: Uint8Array, inbound: Inbound, now: number): void {
  const ok = decodeOkHello(payload);
  if (!ok.ok) return node.stats.drop('bad-payload');
  const v = ok.value;
  // the HELLO's timestamp comes back: a round trip on the path it came back on (direct answers only)
  const path = inbound.hops === 0 ? peer.knownPath(inbound.from, inbound.socket) : undefined;
  if (path) updatePathLatency(path, now - Number(v.timestamp));
  peer.noteVersion(v.protocolVersion, v.majorVersion, v.minorVersion, v.revision);
  if (!v.worlds || v.worlds.length === 0) return;
  const t = node.topology;
  if (!t.isUpstream(peer.address) && ![...t.pendingSeeds.values()].includes(peer.address)) return;
  for (let off = 0; off < v.worlds.length;) {
    const d = World.decode(v.worlds.subarray(off));
    if (typeof d === 'string') return node.stats.drop('bad-payload');
    off += d.length;
    const outcome = t.consider(d.world);
    if (outcome === 'accepted') {
      node.log.info('world update accepted', { world: d.world.idHex, timestamp: String(d.world.timestamp), from: formatAddress(peer.address) });
      node.hooks.onWorld?.(d.world, peer);
    } else if (outcome === 'bad-signature') {
      node.log.warn('world update refused: bad signature', { world: d.world.idHex, from: formatAddress(peer.address) });
    }
  }
}

/**
 * RENDEZVOUS: an upstream tells us where a peer we know can be reached. As 1.14 does, contact
 * it there: ECHO when its version is known (its OK teaches the path), HELLO otherwise.
 * (1.14 also sends a 4-byte low-TTL datagram first to open a NAT in front of us; without
 * per-packet TTL control we rely on the ECHO/HELLO itself.)
 */
export function followRendezvous(node: Node, from: Peer, payload: Uint8Array, inbound: Inbound): void {
  if (!node.topology.isUpstream(from.address)) return node.stats.drop('not-for-us');
  const r = decodeRendezvous(payload);
  if (!r.ok || !r.value.address || r.value.address.port === 0) return node.stats.drop('bad-payload');
  const at = r.value.address;
  const other = node.peerFor(r.value.peer);
  if (!other || other === from || !node.mayLearnPath(other, at)) return node.stats.drop('not-for-us');
  const socket = at.family === inbound.from.family ? inbound.socket : socketToward(node.transport.sockets, at);
  if (!socket) return node.stats.drop('not-for-us');
  node.contactAt(other, socket, at);
  node.hooks.onRendezvous?.(other, at);
}

/** Whether a path to this peer may be learned or used at this address (08-root-behaviour.md §1.3). */

/** What /health and /metrics say about one upstream. */
export interface UpstreamStatus {
  address: Address;
  role: 'PLANET' | 'MOON';
  /** IDs of the worlds that list it (16 hex digits). */
  worlds: string[];
  stableEndpoints: string[];
  /** Whether it was heard on a live path (an authenticated packet within the path expiry). */
  reachable: boolean;
  /** When it was last heard (Unix ms), if ever since this node started. */
  lastHeardMs: number | undefined;
  /** The path it was last heard on. */
  path: string | undefined;
}

/** Status of every upstream, read from the peer table (any packet thread may have heard it). */
export function upstreamStatus(topology: Topology, table: SharedPeerTable, nowMs: number): UpstreamStatus[] {
  const lookup: PathLookup = createPathLookup();
  const out: UpstreamStatus[] = [];
  for (const [address, up] of topology.upstreams()) {
    table.lookup(address, lookup);
    const heardMs = lookup.found ? lookup.seen * 1000 : undefined;
    out.push({
      address,
      role: up.role,
      worlds: topology.worlds.filter((w) => w.roots.some((r) => r.identity.address === address)).map((w) => w.idHex),
      stableEndpoints: up.stableEndpoints.map(formatInetAddress),
      reachable: heardMs !== undefined && nowMs - heardMs <= UPSTREAM_TIMERS.pathExpirationMs,
      lastHeardMs: heardMs,
      path: lookup.found ? pathText(lookup) : undefined,
    });
  }
  return out;
}

function pathText(l: PathLookup): string {
  const ip = new Uint8Array(l.family === 4 ? 4 : 16);
  const dv = new DataView(ip.buffer);
  if (l.family === 4) dv.setUint32(0, l.ip4);
  else for (let k = 0; k < 4; k++) dv.setUint32(4 * k, l.ip6[k]);
  return formatInetAddress({ family: l.family, ip, port: l.port } as IpAddress);
}
