// What a root does with its packets, for one packet thread: the node core (HELLO with world
// updates, ECHO, WHOIS, relaying) plus multicast LIKE/GATHER, RENDEZVOUS for relayed pairs and
// sibling forwarding (docs/protocol/08-root-behaviour.md §3). A root runs one RootCore per worker thread (or
// one in its main thread); they share the peer table, the identity cache on disk, identity
// validation and the multicast store through the services they are given.

import { RecentKeys } from '../util/recent-keys.ts';
import { formatAddress, type Address } from '../identity/address.ts';
import type { Identity } from '../identity/identity.ts';
import type { IdentityStore } from '../node/identity-store.ts';
import { Node, type Inbound } from '../node/node.ts';
import type { Peer } from '../node/peer.ts';
import type { ExpectedReplies } from '../node/expected-replies.ts';
import type { SharedPeerTable } from '../node/shared-peer-table.ts';
import { UpstreamContact } from '../node/upstreams.ts';
import { Topology } from '../node/topology.ts';
import type { DatagramTransport } from '../node/udp.ts';
import { createUdpTransport } from '../node/batch-udp.ts';
import type { IdentityValidator } from '../node/validation-pool.ts';
import { silentLogger, type Logger } from '../util/log.ts';
import { Verb } from '../wire/constants.ts';
import { formatInetAddress } from '../wire/inet-address.ts';
import type { MulticastGroup } from '../wire/mac.ts';
import { decodeMulticastGather, encodeOkMulticastGather } from '../wire/verbs/multicast-gather.ts';
import { decodeMulticastLike } from '../wire/verbs/multicast-like.ts';
import { encodeRendezvous } from '../wire/verbs/rendezvous.ts';
import type { World } from '../world/world.ts';
import type { RootConfig } from './config.ts';
import { ROOT_LIMITS, ROOT_TIMERS } from './constants.ts';

/** The protocol version a root advertises: 11 keeps leaves on Salsa20/12 (08-root-behaviour.md §2). */
export const ROOT_PROTOCOL_VERSION = 11;

/** The multicast subscriptions of the whole root (kept by one thread). */
export interface MulticastService {
  like(networkId: bigint, group: MulticastGroup, subscriber: Address, nowMs: number): void;
  gather(networkId: bigint, group: MulticastGroup, requester: Address, limit: number, nowMs: number): Promise<{ totalKnown: number; members: Address[] }>;
}

export interface RootCoreOptions {
  config: RootConfig;
  identity: Identity;
  store: IdentityStore;
  validation: IdentityValidator;
  multicast: MulticastService;
  peerTable: SharedPeerTable;
  /** Bind with SO_REUSEPORT (several threads on one port). */
  reusePort: boolean;
  /** Explicit ports (workers after the first bind the ports the first one got). */
  ports?: number[];
  /** This thread expires the shared peer table during housekeeping. */
  expiresPeerTable: boolean;
  /** Sent packet IDs that may be answered, shared by every packet thread (an OK may reach any of them). */
  expectedReplies: ExpectedReplies;
  /** This thread HELLOs the upstreams (one thread does, for the whole root). */
  contactsUpstreams: boolean;
  /** An upstream sent a newer world that this thread's topology took (the main thread saves it). */
  onWorld?: (world: World) => void;
  log?: Logger;
  clock?: () => number;
  /** A network controller role on this root gets NETWORK_CONFIG_REQUEST (src/controller/). */
  onConfigRequest?: (peer: Peer, payload: Uint8Array, inbound: Inbound) => void;
}

export class RootCore {
  readonly node: Node;
  private readonly options: RootCoreOptions;
  private readonly transport: DatagramTransport;
  private readonly log: Logger;
  /** Pairs introduced recently (each generation holds at most ROOT_LIMITS.rendezvousPairsPerGeneration; nothing allocated up front). */
  private readonly rendezvousSent = new RecentKeys(ROOT_TIMERS.rendezvousIntervalMs, ROOT_LIMITS.rendezvousPairsPerGeneration);
  private housekeepingTimer: NodeJS.Timeout | undefined;
  private nextSibling = 0;
  /** Keeps this root known to the roots of the worlds it lives in (one thread per root does it). */
  readonly upstreams: UpstreamContact | undefined;

  constructor(options: RootCoreOptions) {
    this.options = options;
    this.log = options.log ?? silentLogger;
    this.transport = createUdpTransport({
      native: options.config.nativeUdp, nativeOptions: { coalesceMicros: options.config.udpCoalesceMicros }, log: this.log,
    });
    this.node = new Node({
      identity: options.identity,
      transport: this.transport,
      topology: new Topology(options.identity.address),
      store: options.store,
      validation: options.validation,
      peerTable: options.peerTable,
      expectedReplies: options.expectedReplies,
      relayMaxHops: options.config.relayMaxHops,
      protocolVersion: ROOT_PROTOCOL_VERSION,
      pathLearning: 'authenticated',
      alwaysSalsa: true,
      peerCacheEntries: options.config.peerCacheEntries,
      helloReplySpacingMs: ROOT_TIMERS.helloReplySpacingMs,
      nativeHello: options.config.nativeHello === 'on',
      echoReplySpacingMs: ROOT_TIMERS.echoReplySpacingMs,
      clock: options.clock,
      log: this.log,
      hooks: {
        onVerb: (peer, verb, payload, inbound) => this.onVerb(peer, verb, payload, inbound),
        onRelayed: (source, destination, hops) => this.onRelayed(source, destination, hops),
        onRelayUnknownDestination: (d) => this.toSibling(d),
        onWorld: (world) => options.onWorld?.(world),
      },
    });
    if (options.contactsUpstreams) this.upstreams = new UpstreamContact(this.node);
  }

  async start(): Promise<void> {
    await this.transport.open({
      bind: this.options.config.bind,
      ports: this.options.ports ?? this.options.config.ports,
      reusePort: this.options.reusePort,
    });
    this.housekeepingTimer = setInterval(() => this.housekeeping(), ROOT_TIMERS.housekeepingMs);
    this.housekeepingTimer.unref();
    this.upstreams?.start();
  }

  get sockets(): readonly { address: string; port: number }[] {
    return this.transport.sockets;
  }

  /** Serve exactly these worlds from now on. */
  setWorlds(planet: World | undefined, moons: readonly World[]): void {
    this.node.topology.replaceWorlds(planet, moons);
  }

  private onVerb(peer: Peer, verb: number, payload: Uint8Array, inbound: Inbound): void {
    const now = this.node.now();
    switch (verb) {
      case Verb.MULTICAST_LIKE: {
        const like = decodeMulticastLike(payload);
        if (!like.ok) return this.node.countDrop('bad-payload');
        for (const s of like.value.subscriptions) this.options.multicast.like(s.networkId, s.group, peer.address, now);
        return;
      }
      case Verb.MULTICAST_GATHER: {
        const g = decodeMulticastGather(payload);
        if (!g.ok) return this.node.countDrop('bad-payload');
        const { networkId, group } = g.value;
        const limit = Math.min(g.value.gatherLimit, ROOT_LIMITS.gatherMaxResults);
        void this.options.multicast.gather(networkId, group, peer.address, limit, now).then((found) => {
          if (found.members.length === 0) return;
          this.node.reply(peer, inbound, Verb.OK, encodeOkMulticastGather({
            inRePacketId: inbound.packetId, networkId, group, ...found,
          }));
        });
        return;
      }
      case Verb.NETWORK_CONFIG_REQUEST:
        if (this.options.onConfigRequest) return this.options.onConfigRequest(peer, payload, inbound);
        return this.node.countDrop('not-for-us');
      default:
        // NETWORK_CONFIG_REQUEST for foreign networks and everything else: silently ignored,
        // as the stock service does (docs/protocol/08-root-behaviour.md §3.4).
        this.node.countDrop('not-for-us');
    }
  }

  /**
   * RENDEZVOUS to both sides of a relayed pair, at most once per pair per 30 s
   * (docs/protocol/08-root-behaviour.md §3.6).
   */
  private onRelayed(a: Address, b: Address, hops: number): void {
    if (hops !== 1) return;
    const pair = pairKey(a, b);
    if (this.rendezvousSent.has(pair, this.node.now())) return;
    const source = this.node.peerFor(a), destination = this.node.peerFor(b);
    if (!source || !destination) return;
    let sent = false;
    for (const family of [6, 4] as const) {
      const pa = this.node.tablePath(a, family), pb = this.node.tablePath(b, family);
      if (!pa || !pb) continue;
      this.node.sendTo(destination, pb.socket, pb.remote, Verb.RENDEZVOUS, encodeRendezvous({ peer: a, address: pa.remote }));
      this.node.sendTo(source, pa.socket, pa.remote, Verb.RENDEZVOUS, encodeRendezvous({ peer: b, address: pb.remote }));
      this.node.stats.rendezvousSent += 2;
      sent = true;
    }
    if (sent) this.rendezvousSent.add(pair, this.node.now());
  }

  /** Packets for destinations we do not know go to a sibling root, round robin. */
  private toSibling(d: Uint8Array): boolean {
    const siblings = this.options.config.siblings;
    if (siblings.length === 0) return false;
    const to = siblings[this.nextSibling++ % siblings.length];
    return this.node.forwardRaw(d, to);
  }

  housekeeping(): void {
    const { peersExpired } = this.node.housekeeping(ROOT_TIMERS.peerActivityTimeoutMs, ROOT_TIMERS.pathExpirationMs, this.options.expiresPeerTable);
    if (peersExpired) this.log.debug('housekeeping', { peersExpired, peers: this.node.peers.size });
  }

  /** JSON view of the peers this thread holds (for /peers). */
  peersView(): PeerView[] {
    const now = this.node.now();
    return [...this.node.peers.values()].map((p) => ({
      address: formatAddress(p.address),
      version: `${p.version.major}.${p.version.minor}.${p.version.revision}`,
      protocolVersion: p.version.protocol,
      role: this.node.topology.upstreams().get(p.address)?.role ?? 'LEAF',
      lastReceiveAgoMs: now - p.lastReceiveMs,
      paths: [...p.paths.values()].map((x) => ({
        address: formatInetAddress(x.remote),
        localSocket: `${x.socket.address}/${x.socket.port}`,
        lastReceiveAgoMs: now - x.lastReceiveMs,
        lastSendAgoMs: x.lastSendMs === 0 ? null : now - x.lastSendMs,
      })),
    }));
  }

  async stop(): Promise<void> {
    if (this.housekeepingTimer) clearInterval(this.housekeepingTimer);
    this.upstreams?.stop();
    await this.transport.close();
  }
}

/**
 * A number that stands for the unordered pair {a, b} (53 bits from both 40-bit addresses; a
 * collision only delays one introduction by the rate-limit interval). Cheaper than a string
 * key on the relay path, where this runs for every relayed packet.
 */
function pairKey(a: Address, b: Address): number {
  const lo = a < b ? a : b, hi = a < b ? b : a;
  const h = Math.imul((lo >>> 0) ^ Math.floor(lo / 2 ** 32) * 0x9e3779b1, 0x85ebca6b) >>> 0;
  return (h & 0x1fffff) * 2 ** 32 + ((Math.imul((hi >>> 0) ^ Math.floor(hi / 2 ** 32) * 0xc2b2ae35, 0x27d4eb2f) ^ h) >>> 0);
}

export interface PeerView {
  address: string;
  version: string;
  protocolVersion: number;
  role: string;
  lastReceiveAgoMs: number;
  /** lastSendAgoMs: null until something was sent on the path. */
  paths: { address: string; localSocket: string; lastReceiveAgoMs: number; lastSendAgoMs: number | null }[];
}

/** Merge per-thread peer views: one entry per address, paths combined, the freshest receipt kept. */
export function mergePeerViews(views: readonly PeerView[][]): PeerView[] {
  const byAddress = new Map<string, PeerView>();
  for (const list of views) {
    for (const v of list) {
      const seen = byAddress.get(v.address);
      if (!seen) {
        byAddress.set(v.address, { ...v, paths: [...v.paths] });
        continue;
      }
      seen.lastReceiveAgoMs = Math.min(seen.lastReceiveAgoMs, v.lastReceiveAgoMs);
      for (const p of v.paths) if (!seen.paths.some((q) => q.address === p.address && q.localSocket === p.localSocket)) seen.paths.push(p);
      if (v.protocolVersion > seen.protocolVersion) Object.assign(seen, { version: v.version, protocolVersion: v.protocolVersion });
    }
  }
  return [...byAddress.values()];
}
