// The node core every role is built on. This file holds intake — datagrams in, fragment
// reassembly, dearmor and dispatch by verb — plus peers, paths and housekeeping; the concerns it
// dispatches to live beside it: hello-intake.ts (HELLO and identity admission), answers.ts (ECHO,
// WHOIS), relay.ts, sender.ts (routes, armor, expected replies), upstreams.ts (upstreams, world
// updates, RENDEZVOUS). Roles (root, leaf, controller) add policy through NodeHooks.
//
// Nothing that arrives from the network may throw out of onDatagram: malformed input is counted
// in NodeStats and dropped.

import { LRUCache } from 'lru-cache';
import type { Address } from '../identity/address.ts';
import { readAddress } from '../identity/address.ts';
import type { Identity } from '../identity/identity.ts';
import { dearmor, type ArmorCipher } from '../wire/armor.ts';
import { uncompressPacket } from '../wire/compression.ts';
import { Cipher, ECHO_MIN_PROTO_VERSION, HeaderFlag, PacketOffset, Verb, VerbFlag } from '../wire/constants.ts';
import { hasExtendedArmor, removeExtendedArmor } from '../wire/extended-armor.ts';
import { Reassembler } from '../wire/fragment.ts';
import type { IpAddress } from '../wire/inet-address.ts';
import { createDatagramPeek, packetVerb, peekDatagram, readPacketId, type PacketPayload } from '../wire/packet.ts';
import { encodeEcho } from '../wire/verbs/echo.ts';
import type { Hello } from '../wire/verbs/hello.ts';
import { decodeOkHeader } from '../wire/verbs/ok.ts';
import type { World } from '../world/world.ts';
import { agree } from '../crypto/c25519.ts';
import { silentLogger, type Logger } from '../util/log.ts';
import { answerEcho, answerWhois } from './answers.ts';
import type { NativeUdpTransport } from './batch-udp.ts';
import type { NativeHelloTable } from './native-hello.ts';
import type { ExpectedReplies } from './expected-replies.ts';
import { HelloIntake } from './hello-intake.ts';
import type { IdentityStore } from './identity-store.ts';
import { isUsablePathAddress } from './ip-scope.ts';
import { Peer, type Path } from './peer.ts';
import { Relay } from './relay.ts';
import { Sender } from './sender.ts';
import { createPathLookup, SharedPeerTable } from './shared-peer-table.ts';
import { NodeStats, type DropReason } from './stats.ts';
import type { Topology } from './topology.ts';
import type { DatagramTransport, LocalSocket } from './udp.ts';
import { followRendezvous, takeOkHello } from './upstreams.ts';
import type { IdentityValidator } from './validation-pool.ts';

/** The software version we report in HELLO and OK(HELLO). */
export const SOFTWARE_VERSION = { major: 1, minor: 14, revision: 1 } as const;

/** Where a packet came from, handed to role hooks. */
export interface Inbound {
  readonly from: IpAddress;
  readonly socket: LocalSocket;
  readonly hops: number;
  readonly packetId: bigint;
}

export interface NodeHooks {
  /** A verb without a core handler arrived from a known peer (payload after the verb byte). */
  onVerb?(peer: Peer, verb: number, payload: Uint8Array, inbound: Inbound): void;
  /** An OK whose in-re packet ID we sent arrived (whole payload, in-re header included). */
  onOk?(peer: Peer, inReVerb: number, payload: Uint8Array, inbound: Inbound): void;
  /** An ERROR arrived (whole payload). */
  onError?(peer: Peer, payload: Uint8Array, inbound: Inbound): void;
  /** A valid HELLO was accepted and answered. */
  onHello?(peer: Peer, hello: Hello, inbound: Inbound): void;
  /** A packet to relay has no known destination; return true if the role forwarded it. */
  onRelayUnknownDestination?(datagram: Uint8Array, destination: Address): boolean;
  /** A packet head was relayed from source to destination with this new hop count. */
  onRelayed?(source: Address, destination: Address, hops: number): void;
  /** A packet (not HELLO) came from an address we have no peer for. */
  onUnknownSource?(source: Address, datagram: Uint8Array, inbound: Inbound): void;
  /** An upstream (or a moon's seed) sent a world that the topology took: newer and signed, or a seeded moon. */
  onWorld?(world: World, from: Peer): void;
  /** An upstream introduced a peer we know at this address, and we contacted it there. */
  onRendezvous?(peer: Peer, address: IpAddress): void;
  /** Any authenticated packet from a peer, after its verb was handled (1.14's Peer::received tail). */
  onReceived?(peer: Peer, verb: number, inbound: Inbound): void;
  /**
   * The host's say on a physical address for a peer (1.14's pathCheckFunction): false keeps it
   * from ever being a path — a leaf refuses addresses inside its own virtual networks.
   */
  pathCheck?(peer: Address, at: IpAddress): boolean;
}

export interface NodeOptions {
  identity: Identity;
  transport: DatagramTransport;
  topology: Topology;
  store: IdentityStore;
  validation: IdentityValidator;
  /**
   * Where learned paths are recorded and relays look destinations up; shared by every worker
   * thread of a root. A small private table is made when none is given.
   */
  peerTable?: SharedPeerTable;
  /** Which sent packet IDs may be answered; shared by a root's packet threads (a private one otherwise). */
  expectedReplies?: ExpectedReplies;
  /** Relay while hops are below this; 0 disables relaying (a plain leaf). */
  relayMaxHops: number;
  /** Protocol version we advertise: 11 keeps peers on Salsa20/12, 12 lets them use AES-GMAC-SIV. */
  protocolVersion: number;
  /**
   * 'authenticated': learn a path from any authenticated packet received directly (a root).
   * 'ok-only': learn paths only from a direct OK, never loopback or link-local, and roots only
   * at their stable endpoints — what a 1.14 leaf does (docs/protocol/08-root-behaviour.md §1.3).
   */
  pathLearning: 'authenticated' | 'ok-only';
  /** Accept loopback paths under 'ok-only' (loopback tests only; 1.14 never does). */
  allowLoopbackPaths?: boolean;
  /** New identities admitted per source /24 or /48: burst size and refill interval. */
  admission?: { burst: number; refillMs: number };
  /** New identities this thread may have waiting for validation (default DEFAULT_VALIDATION_BACKLOG). */
  validationBacklog?: number;
  /**
   * Bound the peers this thread keeps in memory (a root): an evicted peer is rebuilt on demand from
   * the identity cache and the key in the shared peer table, with no new key agreement. Unset,
   * every peer stays until it expires (a leaf, whose peers carry its own path state).
   */
  peerCacheEntries?: number;
  /**
   * Send Salsa20/12 (cipher 1) even to peers that could take AES-GMAC-SIV. 1.14 accepts cipher 1
   * from anyone, and in JavaScript Salsa20/12 + Poly1305 is several times cheaper than AES-GMAC-SIV.
   */
  alwaysSalsa?: boolean;
  /** Minimum spacing of OK(HELLO) and OK(ECHO) replies to one peer. */
  helloReplySpacingMs?: number;
  /**
   * Let the batch UDP addon answer known peers' HELLOs itself (native/src/hello_fast.h; a root's
   * fast path): taken only with the addon's transport, alwaysSalsa, 'authenticated' path learning,
   * the system clock and no onHello hook; otherwise every HELLO takes the TypeScript path.
   */
  nativeHello?: boolean;
  echoReplySpacingMs?: number;
  mtu?: number;
  clock?: () => number;
  log?: Logger;
  hooks?: NodeHooks;
}

/** Slots of the table a node makes for itself when it is not given a shared one. */
const PRIVATE_PEER_TABLE_SLOTS = 4096;
/** Verbs that count as real traffic (Peer::received's _lastNontrivialReceive): their peers are kept alive. */
const NONTRIVIAL_VERBS: ReadonlySet<number> = new Set([Verb.FRAME, Verb.EXT_FRAME, Verb.NETWORK_CONFIG_REQUEST, Verb.NETWORK_CONFIG, Verb.MULTICAST_FRAME]);
/** A path may be probed with HELLO at most this often when an unexpected packet arrives on it. */
const UNKNOWN_PATH_HELLO_SPACING_MS = 1000;

export class Node {
  readonly identity: Identity;
  readonly transport: DatagramTransport;
  readonly topology: Topology;
  readonly store: IdentityStore;
  readonly validation: IdentityValidator;
  readonly peerTable: SharedPeerTable;
  private readonly lookupScratch = createPathLookup();
  readonly stats = new NodeStats();
  /** Peers this thread holds; bounded (least recently used go) when peerCacheEntries is set. */
  readonly peers: PeerMap;
  private readonly keyScratch = new Uint8Array(48);
  readonly reassembler = new Reassembler();
  hooks: NodeHooks;
  relayMaxHops: number;
  readonly protocolVersion: number;
  readonly options: NodeOptions;
  readonly log: Logger;
  private readonly clock: () => number;
  private readonly peek = createDatagramPeek();
  private readonly hellos: HelloIntake;
  private readonly relay: Relay;
  private readonly sender: Sender;
  private readonly unknownPathHellos = new LRUCache<string, number>({ max: 4096 });

  constructor(options: NodeOptions) {
    if (!options.identity.privateKey) throw new Error('node identity needs its private key');
    this.options = options;
    this.identity = options.identity;
    this.transport = options.transport;
    this.topology = options.topology;
    this.store = options.store;
    this.validation = options.validation;
    this.peerTable = options.peerTable ?? SharedPeerTable.create(PRIVATE_PEER_TABLE_SLOTS);
    this.peers = options.peerCacheEntries ? new LRUCache<Address, Peer>({ max: options.peerCacheEntries }) : new Map<Address, Peer>();
    this.relayMaxHops = options.relayMaxHops;
    this.protocolVersion = options.protocolVersion;
    this.clock = options.clock ?? Date.now;
    this.log = options.log ?? silentLogger;
    this.hooks = options.hooks ?? {};
    this.hellos = new HelloIntake(this);
    this.relay = new Relay(this);
    this.sender = new Sender(this, options.expectedReplies);
    this.transport.onDatagram((d, from, socket) => this.receive(d, from, socket));
    // With the batch transport, datagrams for other nodes are relayed straight from its receive
    // ring: no copy, no address object. Everything else takes the ordinary path.
    (this.transport as Partial<NativeUdpTransport>).onRawDatagram?.((view, source, socket) => this.relay.fromRing(view, source, socket));
  }

  get address(): Address {
    return this.identity.address;
  }

  /** The batch UDP addon's known-peer HELLO table, when the native path answers HELLOs (hello-intake.ts). */
  get nativeHello(): NativeHelloTable | undefined {
    return this.hellos.native;
  }

  now(): number {
    return this.clock();
  }

  // ------------------------------------------------------------------------------------------
  // Receiving
  // ------------------------------------------------------------------------------------------

  /** Entry point for every datagram. Never throws. */
  receive(d: Uint8Array, from: IpAddress, socket: LocalSocket): void {
    this.stats.datagramsIn++;
    this.stats.bytesIn += d.length;
    try {
      this.receiveUnsafe(d, from, socket);
    } catch (e) {
      this.stats.drop('internal-error');
      this.log.error('datagram handling failed', { error: (e as Error).message, from: `${from.family}` });
    }
  }

  private receiveUnsafe(d: Uint8Array, from: IpAddress, socket: LocalSocket): void {
    const peek = this.peek;
    const kind = peekDatagram(d, peek);
    if (kind === 'beacon') return this.stats.drop('beacon');
    if (kind === 'ignored') return this.stats.drop('too-short');
    if (peek.destination !== this.address) return this.relay.forward(d, kind === 'fragment', peek.destination, peek.source);
    if (kind === 'fragment') {
      const r = this.reassembler.addFragment(d, this.now());
      if (r.status === 'complete') this.handlePacket(r.packet, from, socket);
      else if (r.status === 'rejected') this.stats.drop('fragment-rejected');
      return;
    }
    if (peek.fragmented) {
      const r = this.reassembler.addHead(d, this.now());
      if (r.status === 'complete') this.handlePacket(r.packet, from, socket);
      else if (r.status === 'rejected') this.stats.drop('fragment-rejected');
      return;
    }
    this.handlePacket(d, from, socket);
  }

  /** A complete packet addressed to us (still armored). */
  private handlePacket(p: Uint8Array, from: IpAddress, socket: LocalSocket): void {
    if (hasExtendedArmor(p)) {
      // an encrypted HELLO (root.cpp's extended armor): unwrap it, then it is an ordinary cipher-0 packet
      const inner = removeExtendedArmor(p, this.identity.privateKey!);
      if (!inner) return this.stats.drop('bad-mac');
      p = inner;
    }
    const hops = p[PacketOffset.flags] & HeaderFlag.hopsMask;
    const cipher = (p[PacketOffset.flags] & HeaderFlag.cipherMask) >>> 3;
    const source = readAddress(p, PacketOffset.source);
    const inbound: Inbound = { from, socket, hops, packetId: readPacketId(p) };
    if (cipher === Cipher.poly1305None && (p[PacketOffset.verb] & VerbFlag.verbMask) === Verb.HELLO) {
      this.hellos.receive(p, source, inbound);
      return;
    }
    const peer = this.peerFor(source);
    if (!peer) {
      this.stats.drop('unknown-peer');
      this.hooks.onUnknownSource?.(source, p, inbound);
      return;
    }
    const plain = this.open(p, peer);
    if (!plain) return;
    this.accepted(peer, plain, inbound);
  }

  /** Dearmor and decompress in place; null (counted) when the packet is not authentic. */
  private open(p: Uint8Array, peer: Peer): Uint8Array | null {
    const r = dearmor(p, peer.key);
    if (!r.ok) {
      this.stats.drop(r.error === 'bad-mac' ? 'bad-mac' : 'bad-cipher');
      return null;
    }
    if ((p[PacketOffset.verb] & VerbFlag.compressed) !== 0) {
      const u = uncompressPacket(p);
      if (!u.ok) {
        this.stats.drop('decompress-failed');
        return null;
      }
      return u.packet;
    }
    return p;
  }

  /** An authenticated packet from a known peer. */
  private accepted(peer: Peer, p: Uint8Array, inbound: Inbound): void {
    const now = this.now();
    const verb = packetVerb(p);
    this.stats.verbIn(verb);
    peer.lastReceiveMs = now;
    if (NONTRIVIAL_VERBS.has(verb)) peer.lastNontrivialReceiveMs = now;
    if (!this.notePath(peer, verb, inbound, now)) return;
    this.dispatch(peer, verb, p.subarray(PacketOffset.payload), inbound, now);
    this.hooks.onReceived?.(peer, verb, inbound);
  }

  private dispatch(peer: Peer, verb: number, payload: Uint8Array, inbound: Inbound, now: number): void {
    switch (verb) {
      case Verb.ECHO:
        return answerEcho(this, peer, payload, inbound, now);
      case Verb.WHOIS:
        return answerWhois(this, peer, payload, inbound);
      case Verb.OK: {
        const ok = decodeOkHeader(payload);
        if (!ok.ok) return this.stats.drop('bad-payload');
        if (!this.sender.wasExpected(ok.value.inRePacketId)) return this.stats.drop('unexpected-ok');
        if (ok.value.inReVerb === Verb.HELLO) takeOkHello(this, peer, payload, inbound, now);
        this.hooks.onOk?.(peer, ok.value.inReVerb, payload, inbound);
        return;
      }
      case Verb.RENDEZVOUS:
        return followRendezvous(this, peer, payload, inbound);
      case Verb.ERROR:
        this.hooks.onError?.(peer, payload, inbound);
        return;
      default:
        this.hooks.onVerb?.(peer, verb, payload, inbound);
    }
  }

  /**
   * Path bookkeeping for an authenticated packet. Returns false if processing should stop.
   * Relayed packets (hops > 0) never create paths.
   */
  notePath(peer: Peer, verb: number, inbound: Inbound, now: number): boolean {
    if (inbound.hops !== 0) return true;
    const { from, socket } = inbound;
    if (peer.hasPath(from, socket)) {
      this.rememberPath(peer, from, socket, now);
      return true;
    }
    if (this.options.pathLearning === 'authenticated') {
      // any authenticated direct packet teaches a path, but an upstream only at its stable endpoints
      if (!this.topology.isProhibitedEndpoint(peer.address, from)) this.rememberPath(peer, from, socket, now);
      return true;
    }
    // 1.14 leaf rules: nothing new while an alive path to the same IP exists on this socket;
    // learn only from a direct OK on a usable, permitted address; otherwise confirm the unknown
    // path with a HELLO (at most once a second per path).
    if (peer.hasAlivePathToIp(from, socket, now)) return true;
    const usable = this.mayLearnPath(peer, from);
    if (verb === Verb.OK && usable) {
      this.rememberPath(peer, from, socket, now);
      return true;
    }
    if (usable) {
      const k = `${peer.address}|${socket.index}|${from.family}|${Buffer.from(from.ip).toString('hex')}|${from.port}`;
      const last = this.unknownPathHellos.get(k) ?? -Infinity;
      if (now - last >= UNKNOWN_PATH_HELLO_SPACING_MS) {
        this.unknownPathHellos.set(k, now);
        this.sendHello(peer, socket, from);
      }
    }
    return true;
  }

  /** Record a path on the peer and in the shared table (which relays use). */
  rememberPath(peer: Peer, from: IpAddress, socket: LocalSocket, now: number): void {
    const path = peer.learnPath(from, socket, now);
    // the table keeps seconds: one write per path per second is enough
    const sec = Math.floor(now / 1000);
    if (path.tableSec === sec) return;
    path.tableSec = sec;
    this.peerTable.notePath(peer.address, from.ip, from.port, socket.index, sec);
  }

  /**
   * The freshest path the shared table knows for an address (any worker may have learned it),
   * as a socket of ours and a remote endpoint; undefined if unknown.
   */
  tablePath(address: Address, family?: 4 | 6): { socket: LocalSocket; remote: IpAddress } | undefined {
    const out = this.peerTable.lookup(address, this.lookupScratch, family);
    const socket = out.found ? this.transport.sockets[out.socket] : undefined;
    if (!socket) return undefined;
    const ip = new Uint8Array(out.family === 4 ? 4 : 16);
    const dv = new DataView(ip.buffer);
    if (out.family === 4) dv.setUint32(0, out.ip4);
    else for (let k = 0; k < 4; k++) dv.setUint32(4 * k, out.ip6[k]);
    return { socket, remote: { family: out.family, ip, port: out.port } as IpAddress };
  }

  /** A peer for an address whose identity is already validated (in the cache), built on demand. */
  peerFor(address: Address): Peer | undefined {
    const known = this.peers.get(address);
    if (known) return known;
    const identity = this.store.get(address) ?? this.topology.upstreams().get(address)?.identity;
    return identity ? this.restorePeer(identity) : undefined;
  }

  /**
   * The peer of a trusted identity this thread does not hold (its peer cache let it go): with the
   * key the shared table kept, so no key agreement; a new agreement only if the table has none.
   */
  restorePeer(identity: Identity): Peer | undefined {
    if (!this.peerTable.loadKey(identity.address, this.keyScratch)) return this.addPeer(identity);
    const peer = new Peer(identity, this.keyScratch);
    this.peers.set(identity.address, peer);
    return peer;
  }

  /** Whether a path to this peer may be learned or used at this address (08-root-behaviour.md §1.3). */
  mayLearnPath(peer: Peer, at: IpAddress): boolean {
    if (this.topology.isProhibitedEndpoint(peer.address, at)) return false;
    if (this.options.pathLearning === 'authenticated') return true;
    return isUsablePathAddress(at, this.options.allowLoopbackPaths === true) && this.hooks.pathCheck?.(peer.address, at) !== false;
  }

  /**
   * Peer::attemptToContactAt: an ECHO when the peer's version is known (its OK teaches the path),
   * a HELLO otherwise or when `fullHello`.
   */
  contactAt(peer: Peer, socket: LocalSocket, at: IpAddress, fullHello = false): void {
    if (!fullHello && peer.version.protocol >= ECHO_MIN_PROTO_VERSION) this.sendTo(peer, socket, at, Verb.ECHO, encodeEcho({ payload: new Uint8Array(0) }));
    else this.sendHello(peer, socket, at);
  }

  // ------------------------------------------------------------------------------------------
  // Peers and sending (the work itself is in hello-intake.ts, answers.ts, relay.ts, sender.ts)
  // ------------------------------------------------------------------------------------------

  /** Create (or return) the peer for a trusted identity: validated, or listed in a world. */
  addPeer(identity: Identity, prepared?: Peer): Peer | undefined {
    const existing = this.peers.get(identity.address);
    if (existing) return existing.identity.equals(identity) ? existing : undefined;
    let peer = prepared;
    if (!peer) {
      const key = agree(this.identity.privateKey!, identity.publicKey);
      if (!key) return undefined;
      peer = new Peer(identity, key);
    }
    this.peers.set(identity.address, peer);
    this.peerTable.storeKey(identity.address, peer.key.key);
    return peer;
  }

  /**
   * Send a packet to a peer over a given path, else its best direct path, else through the
   * freshest upstream, which relays it (docs/protocol/08-root-behaviour.md §1.4). False when there is no way.
   */
  send(peer: Peer, verb: number, payload: Uint8Array, options: { path?: Path; cipher?: ArmorCipher } = {}): boolean {
    return this.sender.send(peer, verb, payload, options);
  }

  /** Answer a request: where it came from, or over a direct path when it came relayed. */
  reply(peer: Peer, inbound: Inbound, verb: number, payload: Uint8Array): bigint {
    return this.sender.reply(peer, inbound, verb, payload);
  }

  /** Build, compress, armor, fragment and send a packet to one physical address; returns its wire ID. */
  sendTo(peer: Peer, socket: LocalSocket, to: IpAddress, verb: number, payload: PacketPayload, cipher?: ArmorCipher): bigint {
    return this.sender.sendTo(peer, socket, to, verb, payload, cipher);
  }

  /** HELLO (cipher 0, moon list under cryptField) to a peer at a physical address. */
  sendHello(peer: Peer, socket: LocalSocket, to: IpAddress): bigint {
    return this.sender.sendHello(peer, socket, to);
  }

  /** Send raw bytes (a relayed datagram) to a physical address. */
  forwardRaw(d: Uint8Array, to: IpAddress): boolean {
    return this.sender.forwardRaw(d, to);
  }

  /** The path to the most recently heard upstream other than `except` (where relayed traffic goes). */
  upstreamRoute(except?: Address): { socket: LocalSocket; remote: IpAddress } | undefined {
    return this.sender.upstreamRoute(except);
  }

  // ------------------------------------------------------------------------------------------
  // Housekeeping
  // ------------------------------------------------------------------------------------------

  /**
   * Expire silent peers and paths, old expected replies and stale reassembly; also the peer
   * table unless `expireTable` is false (with many workers, one thread does that).
   */
  housekeeping(peerTimeoutMs: number, pathTimeoutMs: number, expireTable = true): { peersExpired: number } {
    const now = this.now();
    let peersExpired = 0;
    const upstreams = this.topology.upstreams();
    const silent: Address[] = [];
    for (const [a, peer] of this.peers) {
      peer.expirePaths(now, pathTimeoutMs);
      if (!upstreams.has(a) && now - peer.lastReceiveMs > peerTimeoutMs) silent.push(a);
    }
    for (const a of silent) this.peers.delete(a);
    peersExpired = silent.length;
    this.reassembler.expire(now);
    if (expireTable) this.peerTable.expire(Math.floor((now - peerTimeoutMs) / 1000));
    return { peersExpired };
  }

  countDrop(reason: DropReason): void {
    this.stats.drop(reason);
  }
}

/** What Node needs of its peer map: a Map, or an LRU cache with the same calls. */
export interface PeerMap extends Iterable<[Address, Peer]> {
  get(a: Address): Peer | undefined;
  set(a: Address, p: Peer): unknown;
  has(a: Address): boolean;
  delete(a: Address): boolean;
  values(): IterableIterator<Peer> | Generator<Peer>;
  readonly size: number;
}
