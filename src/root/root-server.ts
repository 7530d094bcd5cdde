// `ztroot root`: a root server for planets and moons, built on the node core. The core answers
// HELLO (with world updates), ECHO and WHOIS and relays; this role adds the identity cache on
// disk, multicast LIKE/GATHER, RENDEZVOUS for relayed pairs, sibling forwarding, housekeeping
// and world reloads (08-root-behaviour.md §3).

import { join } from 'node:path';
import { formatAddress } from '../identity/address.ts';
import type { Identity } from '../identity/identity.ts';
import { LRUCache } from 'lru-cache';
import { IdentityStore } from '../node/identity-store.ts';
import { Node, type Inbound } from '../node/node.ts';
import type { Peer } from '../node/peer.ts';
import { loadWorldFiles, Topology } from '../node/topology.ts';
import { UdpTransport } from '../node/udp.ts';
import { ValidationPool } from '../node/validation-pool.ts';
import { silentLogger, type Logger } from '../util/log.ts';
import { Verb } from '../wire/constants.ts';
import { formatInetAddress } from '../wire/inet-address.ts';
import { decodeMulticastGather, encodeOkMulticastGather } from '../wire/verbs/multicast-gather.ts';
import { decodeMulticastLike } from '../wire/verbs/multicast-like.ts';
import { encodeRendezvous } from '../wire/verbs/rendezvous.ts';
import type { RootConfig } from './config.ts';
import { ROOT_LIMITS, ROOT_TIMERS } from './constants.ts';
import { ensureHome, HOME_FILES, loadOrCreateIdentity } from './home.ts';
import { MulticastStore } from './multicast.ts';

/** The protocol version a root advertises: 11 keeps leaves on Salsa20/12 (08-root-behaviour.md §2). */
export const ROOT_PROTOCOL_VERSION = 11;

export interface RootServerOptions {
  config: RootConfig;
  log?: Logger;
  clock?: () => number;
}

export class RootServer {
  readonly config: RootConfig;
  readonly identity: Identity;
  readonly identityCreated: boolean;
  readonly node: Node;
  readonly store: IdentityStore;
  readonly multicast = new MulticastStore();
  private readonly transport = new UdpTransport();
  private readonly validation: ValidationPool;
  private readonly log: Logger;
  private readonly rendezvousSent = new LRUCache<string, number>({ max: 1_000_000, ttl: ROOT_TIMERS.rendezvousIntervalMs });
  private housekeepingTimer: NodeJS.Timeout | undefined;
  private nextSibling = 0;
  readonly startedMs: number;

  constructor(options: RootServerOptions) {
    this.config = options.config;
    this.log = options.log ?? silentLogger;
    ensureHome(this.config.home);
    const { identity, created } = loadOrCreateIdentity(this.config.home);
    this.identity = identity;
    this.identityCreated = created;
    this.store = new IdentityStore(join(this.config.home, HOME_FILES.identityCache), { cacheEntries: this.config.identityCacheEntries });
    this.validation = new ValidationPool({
      threads: this.config.validationThreads || undefined,
      maxQueue: ROOT_LIMITS.validationQueue,
    });
    const topology = new Topology(identity.address);
    this.node = new Node({
      identity,
      transport: this.transport,
      topology,
      store: this.store,
      validation: this.validation,
      relayMaxHops: this.config.relayMaxHops,
      protocolVersion: ROOT_PROTOCOL_VERSION,
      pathLearning: 'authenticated',
      helloReplySpacingMs: ROOT_TIMERS.helloReplySpacingMs,
      echoReplySpacingMs: ROOT_TIMERS.echoReplySpacingMs,
      clock: options.clock,
      log: this.log,
      hooks: {
        onVerb: (peer, verb, payload, inbound) => this.onVerb(peer, verb, payload, inbound),
        onRelayed: (source, destination, hops) => this.onRelayed(source, destination, hops),
        onRelayUnknownDestination: (d) => this.toSibling(d),
      },
    });
    this.startedMs = this.node.now();
    this.reloadWorlds();
  }

  /** Bind the UDP sockets and start housekeeping. */
  async start(): Promise<void> {
    await this.transport.open({ bind: this.config.bind, ports: this.config.ports });
    this.housekeepingTimer = setInterval(() => this.housekeeping(), ROOT_TIMERS.housekeepingMs);
    this.housekeepingTimer.unref();
    this.log.info('root started', {
      address: formatAddress(this.identity.address),
      udp: this.transport.sockets.map((s) => `${s.address}/${s.port}`),
      worlds: this.node.topology.worlds.map((w) => ({ id: w.idHex, type: w.isPlanet ? 'planet' : 'moon', timestamp: w.timestamp })),
      knownIdentities: this.store.size,
    });
  }

  get sockets(): readonly { address: string; port: number }[] {
    return this.transport.sockets;
  }

  /** (Re)read planet and moons.d from the home directory; also used for SIGHUP. */
  reloadWorlds(): void {
    const loaded = loadWorldFiles(this.config.home);
    for (const p of loaded.problems) this.log.warn('world file ignored', { problem: p });
    const t = this.node.topology;
    t.setPlanet(loaded.planet);
    for (const m of t.moons) if (!loaded.moons.some((n) => n.id === m.id)) t.removeMoon(m.id);
    for (const m of loaded.moons) t.setMoon(m);
    const mine = t.worlds.filter((w) => w.roots.some((r) => r.identity.address === this.identity.address));
    if (t.worlds.length > 0 && mine.length === 0) {
      this.log.warn('this root is not listed in any of its worlds; leaves will not treat it as a root', { address: formatAddress(this.identity.address) });
    }
  }

  private onVerb(peer: Peer, verb: number, payload: Uint8Array, inbound: Inbound): void {
    const now = this.node.now();
    switch (verb) {
      case Verb.MULTICAST_LIKE: {
        const like = decodeMulticastLike(payload);
        if (!like.ok) return this.node.countDrop('bad-payload');
        for (const s of like.value.subscriptions) this.multicast.like(s.networkId, s.group, peer.address, now);
        return;
      }
      case Verb.MULTICAST_GATHER: {
        const g = decodeMulticastGather(payload);
        if (!g.ok) return this.node.countDrop('bad-payload');
        const limit = Math.min(g.value.gatherLimit, ROOT_LIMITS.gatherMaxResults);
        const found = this.multicast.gather(g.value.networkId, g.value.group, peer.address, limit, now, ROOT_TIMERS.multicastLikeExpireMs);
        if (found.members.length === 0) return;
        this.node.sendTo(peer, inbound.socket, inbound.from, Verb.OK, encodeOkMulticastGather({
          inRePacketId: inbound.packetId, networkId: g.value.networkId, group: g.value.group, ...found,
        }));
        return;
      }
      default:
        // NETWORK_CONFIG_REQUEST for foreign networks and everything else: silently ignored,
        // as the stock service does (08-root-behaviour.md §3.4).
        this.node.countDrop('not-for-us');
    }
  }

  /** RENDEZVOUS to both sides of a relayed pair, at most once per pair per 30 s (08 §3.6). */
  private onRelayed(source: Peer | undefined, destination: Peer, hops: number): void {
    if (!source || hops !== 1) return;
    const a = source.address, b = destination.address;
    const pair = a < b ? `${a}:${b}` : `${b}:${a}`;
    if (this.rendezvousSent.has(pair)) return;
    let sent = false;
    for (const family of [6, 4] as const) {
      const pa = source.bestPath(family), pb = destination.bestPath(family);
      if (!pa || !pb) continue;
      this.node.send(destination, Verb.RENDEZVOUS, encodeRendezvous({ peer: a, address: pa.remote }), { path: pb });
      this.node.send(source, Verb.RENDEZVOUS, encodeRendezvous({ peer: b, address: pb.remote }), { path: pa });
      this.node.stats.rendezvousSent += 2;
      sent = true;
    }
    if (sent) this.rendezvousSent.set(pair, this.node.now());
  }

  /** Packets for destinations we do not know go to a sibling root, round robin. */
  private toSibling(d: Uint8Array): boolean {
    const siblings = this.config.siblings;
    if (siblings.length === 0) return false;
    const to = siblings[this.nextSibling++ % siblings.length];
    return this.node.forwardRaw(d, to);
  }

  housekeeping(): void {
    const now = this.node.now();
    const { peersExpired } = this.node.housekeeping(ROOT_TIMERS.peerActivityTimeoutMs, ROOT_TIMERS.pathExpirationMs);
    const likesExpired = this.multicast.expire(now, ROOT_TIMERS.multicastLikeExpireMs);
    this.rendezvousSent.purgeStale();
    if (peersExpired || likesExpired) this.log.debug('housekeeping', { peersExpired, likesExpired, peers: this.node.peers.size });
  }

  /** A JSON view of known peers (for /peers). */
  peersView(): object[] {
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
      })),
    }));
  }

  async stop(): Promise<void> {
    if (this.housekeepingTimer) clearInterval(this.housekeepingTimer);
    await this.transport.close();
    await this.validation.close();
    this.store.close();
    this.log.info('root stopped', { knownIdentities: this.store.size });
  }
}


