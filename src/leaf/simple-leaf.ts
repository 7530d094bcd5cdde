// A simple leaf on the node core, good enough to exercise a root the way a 1.14 leaf does:
// it HELLOs its roots at their stable endpoints until they answer, learns paths only from a
// direct OK (never loopback unless told to, roots only at their stable endpoints), looks peers
// up with WHOIS, sends frames through the root, follows RENDEZVOUS to a direct path and keeps
// paths alive. Networks, Ethernet taps and the local API belong to the full leaf role.

import { createSocket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import type { Address } from '../identity/address.ts';
import { generateIdentity, type Identity } from '../identity/identity.ts';
import { IdentityStore } from '../node/identity-store.ts';
import { DirectPaths, type DirectPathsPolicy } from '../node/direct-paths.ts';
import { Node, type Inbound } from '../node/node.ts';
import { isActivePeer, pingAndKeepalive } from '../node/path-keepalive.ts';
import { PATH_EXPIRATION_MS, type Peer, type Path } from '../node/peer.ts';
import { Topology } from '../node/topology.ts';
import { UpstreamContact } from '../node/upstreams.ts';
import { createUdpTransport, type NativeUdpMode } from '../node/batch-udp.ts';
import { UDP_DESIRED_BUFFER_BYTES, type DatagramTransport } from '../node/udp.ts';
import { ValidationPool } from '../node/validation-pool.ts';
import { PROTO_VERSION, Verb } from '../wire/constants.ts';
import type { IpAddress } from '../wire/inet-address.ts';
import type { PacketPayload } from '../wire/packet.ts';
import { decodeOkHello } from '../wire/verbs/hello.ts';
import { decodeOkEcho, encodeEcho } from '../wire/verbs/echo.ts';
import { decodeFrame, encodeFrame, type Frame } from '../wire/verbs/frame.ts';
import { decodeOkWhois, encodeWhois } from '../wire/verbs/whois.ts';
import type { World } from '../world/world.ts';
import { silentLogger } from '../util/log.ts';
import { releaseFilePages } from '../util/memory-release.ts';

export interface SimpleLeafOptions {
  identity?: Identity;
  planet?: World;
  moons?: World[];
  /** Moons to fetch from a seed (orbit <id> <seed>). */
  seeds?: { moonId: bigint; seed: Address }[];
  bind: string[];
  port?: number;
  /**
   * A second port bound on every address, as zerotier-one's allowSecondaryPort: a port number, 0
   * for a random one from 1.14's range (20000–65535), undefined for none.
   */
  secondaryPort?: number;
  /** Loopback paths are refused by 1.14; loopback tests turn this on. */
  allowLoopbackPaths?: boolean;
  /** Ping check period (1.14: 5 s). */
  pingIntervalMs?: number;
  /** Full HELLO to upstreams with a live path at least this often (1.14: 224 s). */
  helloIntervalMs?: number;
  /** Shared validation pool (tests with many leaves share one). */
  validation?: ValidationPool;
  protocolVersion?: number;
  /** UDP through the batch addon (recvmmsg/sendmmsg): 'auto' (default) when it loads, 'on', or 'off' (dgram). */
  nativeUdp?: NativeUdpMode;
}

export interface LeafEvents {
  frame: [source: Address, frame: Frame, relayed: boolean, packetId: bigint];
  rendezvous: [peer: Address, address: IpAddress];
  world: [world: World];
  online: [];
  /** A verb, OK or ERROR this leaf does not handle itself (for roles built on it: network membership). */
  packet: [peer: Peer, verb: number, payload: Uint8Array, inbound: Inbound];
}

/** Until a role says otherwise (NetworkMember does), no peer is trusted with pushes and no address is virtual. */
const NO_NETWORKS: DirectPathsPolicy = { acceptsPushFrom: () => false, insideOurNetworks: () => false };

/** Where 1.14 picks a random secondary port (OneService::_getRandomPort: 20000 + random % 45500). */
const SECONDARY_PORT_RANGE = { first: 20000, count: 45500 } as const;
/** Secondary ports tried before going without one. */
const SECONDARY_PORT_ATTEMPTS = 20;

/** A random port from 1.14's secondary-port range that UDP can bind on IPv4 and IPv6 now (0: none found). */
async function randomFreePort(): Promise<number> {
  let candidate = SECONDARY_PORT_RANGE.first + Math.floor(Math.random() * SECONDARY_PORT_RANGE.count);
  for (let attempt = 0; attempt < SECONDARY_PORT_ATTEMPTS; attempt++) {
    if (await canBind(candidate)) return candidate;
    candidate = candidate + 1 >= 65536 ? SECONDARY_PORT_RANGE.first : candidate + 1;
  }
  return 0;
}

async function canBind(port: number): Promise<boolean> {
  for (const type of ['udp4', 'udp6'] as const) {
    const s = createSocket({ type, ipv6Only: type === 'udp6' });
    const ok = await new Promise<boolean>((resolve) => {
      s.once('error', () => resolve(false));
      s.bind(port, () => resolve(true));
    });
    await new Promise<void>((r) => { try { s.close(() => r()); } catch { r(); } });
    // a host without IPv6 cannot bind udp6 at all: only a taken IPv4 port rules the port out
    if (!ok && type === 'udp4') return false;
  }
  return true;
}

/** How a packet to a node left: straight to it, through an upstream, or not at all. */
export interface SendOutcome { how: 'direct' | 'relayed' | 'unreachable'; packetId?: bigint }

/** Packets from unknown senders held while their WHOIS is out (1.14: ZT_RX_QUEUE_SIZE). */
const UNKNOWN_SOURCE_QUEUE = 32;
/**
 * Lookups waiting at once. Frames to unknown members each start one; past this bound a
 * lookup fails at once (counted whois-limited) instead of piling up timers and WHOIS traffic.
 */
const MAX_PENDING_WHOIS = 256;

interface Waiter<T> { resolve: (v: T) => void; timer: NodeJS.Timeout }

export class SimpleLeaf extends EventEmitter<LeafEvents> {
  readonly node: Node;
  readonly identity: Identity;
  private readonly transport: DatagramTransport;
  private readonly ownsValidation: boolean;
  private readonly options: SimpleLeafOptions;
  private pingTimer: NodeJS.Timeout | undefined;
  private readonly whoisWaiters = new Map<Address, Waiter<Identity | undefined>[]>();
  private readonly echoWaiters = new Map<bigint, Waiter<number>>();
  private readonly lastHelloMs = new Map<Address, number>();
  private readonly upstreams: UpstreamContact;
  /** PUSH_DIRECT_PATHS both ways; the role that knows the networks sets `networks`. */
  readonly directPaths: DirectPaths;
  networks: DirectPathsPolicy = NO_NETWORKS;
  private wasOnline = false;
  /** Packets from senders being looked up, by sender, in arrival order (1.14: the RX queue). */
  private readonly awaitingIdentity = new Map<Address, { datagram: Uint8Array; inbound: Inbound }[]>();
  private pendingUnknown = 0;
  /** Lookups waiting for an answer (bounded by MAX_PENDING_WHOIS). */
  private pendingWhois = 0;

  constructor(options: SimpleLeafOptions) {
    super();
    this.options = options;
    this.identity = options.identity ?? generateIdentity();
    this.ownsValidation = !options.validation;
    this.transport = createUdpTransport({ native: options.nativeUdp });
    const topology = new Topology(this.identity.address);
    if (options.planet) topology.setPlanet(options.planet);
    for (const m of options.moons ?? []) topology.setMoon(m);
    for (const s of options.seeds ?? []) topology.addSeed(s.moonId, s.seed);
    this.node = new Node({
      identity: this.identity,
      transport: this.transport,
      topology,
      store: new IdentityStore(':memory:'),
      // a validation thread's start touches the binary's pages again: hand them back when it exits
      validation: options.validation ?? new ValidationPool({ threads: 1, onAllIdle: () => { releaseFilePages(silentLogger); } }),
      relayMaxHops: 0,
      protocolVersion: options.protocolVersion ?? PROTO_VERSION,
      pathLearning: 'ok-only',
      allowLoopbackPaths: options.allowLoopbackPaths,
      hooks: {
        onOk: (peer, inReVerb, payload, inbound) => this.onOk(peer, inReVerb, payload, inbound),
        onVerb: (peer, verb, payload, inbound) => this.onVerb(peer, verb, payload, inbound),
        onUnknownSource: (source, datagram, inbound) => this.onUnknownSource(source, datagram, inbound),
        onWorld: (world) => {
          this.ensureUpstreamPeers();
          this.emit('world', world);
        },
        onRendezvous: (peer, address) => this.emit('rendezvous', peer.address, address),
        onError: (peer, payload, inbound) => this.emit('packet', peer, Verb.ERROR, payload, inbound),
        onReceived: (peer, _verb, inbound) => this.directPaths.received(peer, inbound),
        pathCheck: (_peer, at) => !this.networks.insideOurNetworks(at),
      },
    });
    this.directPaths = new DirectPaths(this.node, {
      acceptsPushFrom: (peer) => this.networks.acceptsPushFrom(peer),
      insideOurNetworks: (at) => this.networks.insideOurNetworks(at),
    });
    this.upstreams = new UpstreamContact(this.node, {
      pingCheckMs: options.pingIntervalMs,
      upstreamHelloIntervalMs: options.helloIntervalMs,
    });
  }

  get address(): Address {
    return this.identity.address;
  }

  async start(): Promise<void> {
    await this.openSockets();
    this.ensureUpstreamPeers();
    this.ping();
    this.pingTimer = setInterval(() => this.ping(), this.options.pingIntervalMs ?? 5000);
    this.pingTimer.unref();
  }

  /**
   * Bind the primary port and, when asked, the secondary one. A random secondary port is first
   * tried on the wildcard addresses and replaced by the next when taken, as
   * OneService::_getRandomPort does.
   */
  private async openSockets(): Promise<void> {
    const { bind, port = 0, secondaryPort } = this.options;
    const ports = [port];
    const second = secondaryPort === 0 ? await randomFreePort() : secondaryPort;
    if (second) ports.push(second);
    await this.transport.open({ bind, ports, bufferBytes: UDP_DESIRED_BUFFER_BYTES });
  }

  /** The secondary port bound (0: none). */
  get secondaryPort(): number {
    return this.transport.sockets.find((s) => s.port !== this.transport.sockets[0]?.port)?.port ?? 0;
  }

  async stop(): Promise<void> {
    if (this.pingTimer) clearInterval(this.pingTimer);
    for (const list of this.whoisWaiters.values()) for (const w of list) { clearTimeout(w.timer); w.resolve(undefined); }
    for (const w of this.echoWaiters.values()) { clearTimeout(w.timer); w.resolve(-1); }
    await this.transport.close();
    if (this.ownsValidation) await this.node.validation.close();
    this.node.store.close();
  }

  /** The local UDP endpoints (for tests). */
  get sockets(): readonly { address: string; port: number }[] {
    return this.transport.sockets;
  }

  /** Online like 1.14: something received from an upstream within 500 s. */
  get online(): boolean {
    const now = this.node.now();
    for (const a of this.node.topology.upstreams().keys()) {
      const p = this.node.peers.get(a);
      if (p && p.paths.size > 0 && now - p.lastReceiveMs < 500_000) return true;
    }
    return false;
  }

  /** Upstream peers come straight from the worlds (their identities are trusted). */
  private ensureUpstreamPeers(): void {
    for (const up of this.node.topology.upstreams().values()) this.node.addPeer(up.identity);
  }

  /**
   * The 5-s ping check: upstreams on 1.14's schedule (the core's UpstreamContact), seeds, and
   * the paths of peers with recent real traffic kept open (path-keepalive.ts).
   */
  ping(): void {
    const now = this.node.now();
    this.ensureUpstreamPeers();
    this.upstreams.tick();
    const upstreams = this.node.topology.upstreams();
    // seeded moons: HELLO the seed through the best upstream until the moon arrives
    for (const seed of new Set(this.node.topology.pendingSeeds.values())) {
      const peer = this.node.peers.get(seed);
      if (peer) this.helloVia(peer, now);
      else void this.whois(seed);
    }
    for (const peer of this.node.peers.values()) {
      if (upstreams.has(peer.address)) continue;
      if (isActivePeer(peer, now)) pingAndKeepalive(this.node, peer, now);
      else peer.expirePaths(now, PATH_EXPIRATION_MS);
    }
  }

  private helloVia(peer: Peer, now: number): void {
    if (now - (this.lastHelloMs.get(peer.address) ?? 0) < (this.options.pingIntervalMs ?? 5000)) return;
    const relay = this.bestUpstreamPath();
    if (!relay) return;
    this.lastHelloMs.set(peer.address, now);
    this.node.sendHello(peer, relay.socket, relay.remote);
  }

  /** The path to the most recently heard upstream: where traffic without a direct path goes. */
  bestUpstreamPath(): Path | undefined {
    let best: Path | undefined;
    for (const a of this.node.topology.upstreams().keys()) {
      const p = this.node.peers.get(a)?.bestPath();
      if (p && (!best || p.lastReceiveMs > best.lastReceiveMs)) best = p;
    }
    return best;
  }

  /** Ask the best upstream for an identity (retrying every 500 ms), resolving undefined on timeout. */
  whois(address: Address, timeoutMs = 5000): Promise<Identity | undefined> {
    const known = this.node.peers.get(address);
    if (known) return Promise.resolve(known.identity);
    if (this.pendingWhois >= MAX_PENDING_WHOIS) {
      this.node.stats.drop('whois-limited');
      return Promise.resolve(undefined);
    }
    this.pendingWhois++;
    return new Promise((resolve) => {
      const list = this.whoisWaiters.get(address) ?? [];
      const retry = setInterval(() => this.sendWhois(address), 500);
      const done = (v: Identity | undefined): void => {
        clearInterval(retry);
        this.pendingWhois--;
        resolve(v);
      };
      const timer = setTimeout(() => {
        const rest = (this.whoisWaiters.get(address) ?? []).filter((w) => w.timer !== timer);
        if (rest.length > 0) this.whoisWaiters.set(address, rest);
        else this.whoisWaiters.delete(address);
        done(undefined);
      }, timeoutMs);
      list.push({ resolve: done, timer });
      this.whoisWaiters.set(address, list);
      this.sendWhois(address);
    });
  }


  private sendWhois(address: Address): void {
    const relay = this.bestUpstreamPath();
    if (!relay) return;
    for (const a of this.node.topology.upstreams().keys()) {
      const up = this.node.peers.get(a);
      if (up && up.bestPath() === relay) {
        this.node.send(up, Verb.WHOIS, encodeWhois({ addresses: [address] }), { path: relay });
        return;
      }
    }
  }

  /** Send a FRAME: directly if we have a path to the peer, otherwise through the best upstream. */
  async sendFrame(to: Address, frame: Frame): Promise<'direct' | 'relayed' | 'unreachable'> {
    return (await this.sendVerb(to, Verb.FRAME, encodeFrame(frame))).how;
  }

  /** Send any verb to a node: directly if we have a path to it, otherwise through the best upstream. */
  async sendVerb(to: Address, verb: number, payload: PacketPayload): Promise<SendOutcome> {
    const now = this.sendVerbNow(to, verb, payload);
    if (now) return now;
    const id = await this.whois(to);
    if (!id) return { how: 'unreachable' };
    const peer = this.node.addPeer(id);
    if (!peer) return { how: 'unreachable' };
    return this.sendToPeer(peer, verb, payload);
  }

  /**
   * sendVerb without waiting, for a node whose identity we hold: the packet is built (the payload
   * copied) before this returns. Undefined when the node is not known yet (sendVerb asks WHOIS).
   */
  sendVerbNow(to: Address, verb: number, payload: PacketPayload): SendOutcome | undefined {
    const peer = this.node.peers.get(to);
    return peer ? this.sendToPeer(peer, verb, payload) : undefined;
  }

  private sendToPeer(peer: Peer, verb: number, payload: PacketPayload): SendOutcome {
    const best = peer.bestPath();
    const path = best ?? this.bestUpstreamPath();
    if (!path) return { how: 'unreachable' };
    const packetId = this.node.sendTo(peer, path.socket, path.remote, verb, payload);
    path.lastSendMs = this.node.now();
    if (verb === Verb.NETWORK_CREDENTIALS) peer.push.credentialsSentMs = path.lastSendMs; // we talk to it as a member
    return { how: path === best ? 'direct' : 'relayed', packetId };
  }

  /** ECHO a peer over its best path and resolve with the round trip in ms (-1 on timeout). */
  echo(to: Address, timeoutMs = 2000): Promise<number> {
    const peer = this.node.peers.get(to);
    const path = peer?.bestPath() ?? this.bestUpstreamPath();
    if (!peer || !path) return Promise.resolve(-1);
    const start = this.node.now();
    return new Promise((resolve) => {
      const id = this.node.sendTo(peer, path.socket, path.remote, Verb.ECHO, encodeEcho({ payload: new Uint8Array(0) }));
      const timer = setTimeout(() => { this.echoWaiters.delete(id); resolve(-1); }, timeoutMs);
      this.echoWaiters.set(id, { resolve: () => resolve(this.node.now() - start), timer });
    });
  }

  private onOk(peer: Peer, inReVerb: number, payload: Uint8Array, inbound: Inbound): void {
    switch (inReVerb) {
      case Verb.HELLO: {
        const ok = decodeOkHello(payload);
        if (!ok.ok) return;
        if (ok.value.externalAddress) this.directPaths.noteSurface(peer, inbound, ok.value.externalAddress);
        // worlds it carries were taken by the core (the onWorld hook)
        if (!this.wasOnline && this.online) {
          this.wasOnline = true;
          this.emit('online');
        }
        return;
      }
      case Verb.WHOIS: {
        if (!this.node.topology.isUpstream(peer.address)) return; // answers only from upstreams
        const ok = decodeOkWhois(payload);
        if (!ok.ok) return;
        const id = ok.value.identities[0]; // 1.14 reads only the first
        const added = this.node.addPeer(id);
        this.replayAwaiting(id.address);
        const waiters = this.whoisWaiters.get(id.address) ?? [];
        this.whoisWaiters.delete(id.address);
        for (const w of waiters) { clearTimeout(w.timer); w.resolve(added?.identity); }
        return;
      }
      case Verb.ECHO: {
        const ok = decodeOkEcho(payload);
        if (!ok.ok) return;
        const w = this.echoWaiters.get(ok.value.inRePacketId);
        if (w) { clearTimeout(w.timer); this.echoWaiters.delete(ok.value.inRePacketId); w.resolve(0); }
        return;
      }
      default:
        this.emit('packet', peer, Verb.OK, payload, inbound);
    }
  }

  /** Like 1.14: look the sender up with WHOIS and process the packet once its identity is known. */
  private onUnknownSource(source: Address, datagram: Uint8Array, inbound: Inbound): void {
    if (this.pendingUnknown >= UNKNOWN_SOURCE_QUEUE) return;
    this.pendingUnknown++;
    let queue = this.awaitingIdentity.get(source);
    if (!queue) {
      queue = [];
      this.awaitingIdentity.set(source, queue);
      // answered: replayed already (onOk); unanswered: dropped here
      void this.whois(source).then(() => this.replayAwaiting(source));
    }
    queue.push({ datagram: Uint8Array.from(datagram), inbound });
  }

  /**
   * The packets held for a sender, in the order they came, once its identity is known (else
   * dropped). Called as the WHOIS answer is handled, like 1.14's Switch::doAnythingWaitingForPeer,
   * so they come before any later packet from that sender — one receive batch may hold the answer
   * and the sender's next packet, and a promise would run only after both.
   */
  private replayAwaiting(source: Address): void {
    const queue = this.awaitingIdentity.get(source);
    if (!queue) return;
    this.awaitingIdentity.delete(source);
    this.pendingUnknown -= queue.length;
    if (!this.node.peers.has(source)) return;
    for (const { datagram, inbound } of queue) this.node.receive(datagram, inbound.from, inbound.socket);
  }

  private onVerb(peer: Peer, verb: number, payload: Uint8Array, inbound: Inbound): void {
    switch (verb) {
      case Verb.FRAME: {
        const f = decodeFrame(payload);
        if (f.ok) this.emit('frame', peer.address, f.value, inbound.hops > 0, inbound.packetId);
        else this.node.stats.drop('bad-payload');
        return;
      }
      case Verb.PUSH_DIRECT_PATHS:
        return this.directPaths.receive(peer, payload, inbound);
      default:
        this.emit('packet', peer, verb, payload, inbound);
    }
  }
}
