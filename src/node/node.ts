// The node core every role is built on: datagrams in and out, fragment reassembly, relaying,
// HELLO and identity admission, peers and paths, armor, ECHO and WHOIS answers, expected-reply
// matching and housekeeping. Roles (root, leaf, controller) add policy through NodeHooks.
//
// Nothing that arrives from the network may throw out of onDatagram: malformed input is counted
// in NodeStats and dropped.

import { randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Address } from '../identity/address.ts';
import { formatAddress, readAddress } from '../identity/address.ts';
import { deserializeIdentity, type Identity } from '../identity/identity.ts';
import { armor, dearmor, type ArmorCipher } from '../wire/armor.ts';
import { compressPacket, uncompressPacket } from '../wire/compression.ts';
import {
  AES_GMAC_SIV_MIN_PROTO_VERSION, Cipher, ECHO_MIN_PROTO_VERSION, ErrorCode, HeaderFlag, PacketOffset, PROTO_VERSION_MIN, Verb, VerbFlag,
} from '../wire/constants.ts';
import { cryptField } from '../wire/crypt-field.ts';
import { hasExtendedArmor, removeExtendedArmor } from '../wire/extended-armor.ts';
import { Reassembler, splitPacket } from '../wire/fragment.ts';
import type { IpAddress } from '../wire/inet-address.ts';
import { createDatagramPeek, incrementHopsForRelay, newPacket, packetVerb, peekDatagram, readPacketId } from '../wire/packet.ts';
import { decodeEcho, encodeEcho, encodeOkEcho } from '../wire/verbs/echo.ts';
import { encodeError } from '../wire/verbs/error.ts';
import { decodeHello, decodeOkHello, HELLO_IDENTITY_OFFSET, encodeHelloWithCryptFieldOffset, encodeOkHello, helloCryptFieldOffset, type Hello } from '../wire/verbs/hello.ts';
import { decodeOkHeader } from '../wire/verbs/ok.ts';
import { decodeRendezvous } from '../wire/verbs/rendezvous.ts';
import { decodeWhois, encodeOkWhois } from '../wire/verbs/whois.ts';
import { World } from '../world/world.ts';
import { agree } from '../crypto/c25519.ts';
import { silentLogger, type Logger } from '../util/log.ts';
import type { IdentityStore } from './identity-store.ts';
import { isUsablePathAddress, socketToward, sourceBucket } from './ip-scope.ts';
import { Peer, type Path } from './peer.ts';
import { NodeStats, type DropReason } from './stats.ts';
import type { Topology } from './topology.ts';
import type { DatagramTransport, LocalSocket } from './udp.ts';
import type { NativeUdpTransport, RawSource } from './batch-udp.ts';
import type { IdentityValidator } from './validation-pool.ts';
import { createPathLookup, ip4Text, ip6Text, SharedPeerTable } from './shared-peer-table.ts';
import { ExpectedReplies } from './expected-replies.ts';

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
   * at their stable endpoints — what a 1.14 leaf does (08-root-behaviour.md §1.3).
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
  echoReplySpacingMs?: number;
  mtu?: number;
  clock?: () => number;
  log?: Logger;
  hooks?: NodeHooks;
}

/**
 * New identities one thread may have waiting for validation. Beyond it a new identity is refused
 * before its key agreement: under a flood of fresh identities the thread spends at most what the
 * validation pool can absorb, and known peers keep their CPU.
 */
export const DEFAULT_VALIDATION_BACKLOG = 64;
/** Identities that failed validation, remembered so a repeat costs nothing. */
const FAILED_IDENTITY_MEMORY = 16384;
/** Slots of the table a node makes for itself when it is not given a shared one. */
const PRIVATE_PEER_TABLE_SLOTS = 4096;
/** A path may be probed with HELLO at most this often when an unexpected packet arrives on it. */
const UNKNOWN_PATH_HELLO_SPACING_MS = 1000;

interface AdmissionBucket { tokens: number; updatedMs: number }
/** How a new identity's validation ended for the HELLOs waiting on it: admitted, or a drop reason. */
type AdmissionOutcome = 'admitted' | 'validation-queue-full' | 'invalid-identity' | 'identity-collision' | 'internal-error';

export class Node {
  readonly identity: Identity;
  readonly transport: DatagramTransport;
  /** The batch transport's sendToPath, when the transport has one (no address text per packet). */
  private readonly sendToPath: NativeUdpTransport['sendToPath'] | undefined;
  readonly topology: Topology;
  readonly store: IdentityStore;
  readonly validation: IdentityValidator;
  readonly peerTable: SharedPeerTable;
  private readonly lookupScratch = createPathLookup();
  private readonly packetIds = new PacketIdSource();
  readonly stats = new NodeStats();
  /** Peers this thread holds; bounded (least recently used go) when peerCacheEntries is set. */
  readonly peers: PeerMap;
  private readonly keyScratch = new Uint8Array(48);
  readonly reassembler = new Reassembler();
  hooks: NodeHooks;
  relayMaxHops: number;
  readonly protocolVersion: number;
  private readonly options: NodeOptions;
  private readonly clock: () => number;
  private readonly log: Logger;
  private readonly peek = createDatagramPeek();
  private readonly expectedReplies: ExpectedReplies;
  private readonly failedIdentities = new LRUCache<string, true>({ max: FAILED_IDENTITY_MEMORY });
  private readonly pendingValidations = new Map<Address, { peer: Peer; done: Promise<AdmissionOutcome> }>();
  private readonly validationBacklog: number;
  private readonly admission = new Map<string, AdmissionBucket>();
  private readonly unknownPathHellos = new LRUCache<string, number>({ max: 4096 });

  constructor(options: NodeOptions) {
    if (!options.identity.privateKey) throw new Error('node identity needs its private key');
    this.options = options;
    this.identity = options.identity;
    this.transport = options.transport;
    this.topology = options.topology;
    this.store = options.store;
    this.validation = options.validation;
    this.validationBacklog = options.validationBacklog ?? DEFAULT_VALIDATION_BACKLOG;
    this.peerTable = options.peerTable ?? SharedPeerTable.create(PRIVATE_PEER_TABLE_SLOTS);
    this.expectedReplies = options.expectedReplies ?? new ExpectedReplies();
    this.peers = options.peerCacheEntries ? new LRUCache<Address, Peer>({ max: options.peerCacheEntries }) : new Map<Address, Peer>();
    this.relayMaxHops = options.relayMaxHops;
    this.protocolVersion = options.protocolVersion;
    this.clock = options.clock ?? Date.now;
    this.log = options.log ?? silentLogger;
    this.hooks = options.hooks ?? {};
    this.transport.onDatagram((d, from, socket) => this.receive(d, from, socket));
    const native = this.transport as Partial<NativeUdpTransport>;
    this.sendToPath = native.sendToPath?.bind(this.transport);
    // With the batch transport, datagrams for other nodes are relayed straight from its receive
    // ring: no copy, no address object. Everything else takes the ordinary path.
    native.onRawDatagram?.((view, source, socket) => this.relayFromRing(view, source, socket));
  }

  get address(): Address {
    return this.identity.address;
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
    if (peek.destination !== this.address) return this.relay(d, kind === 'fragment', peek.destination, peek.source);
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
      this.receiveHello(p, source, inbound);
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
    if (!this.notePath(peer, verb, inbound, now)) return;
    const payload = p.subarray(PacketOffset.payload);
    switch (verb) {
      case Verb.ECHO:
        return this.answerEcho(peer, payload, inbound, now);
      case Verb.WHOIS:
        return this.answerWhois(peer, payload, inbound);
      case Verb.OK: {
        const ok = decodeOkHeader(payload);
        if (!ok.ok) return this.stats.drop('bad-payload');
        if (!this.wasExpected(ok.value.inRePacketId)) return this.stats.drop('unexpected-ok');
        if (ok.value.inReVerb === Verb.HELLO) this.takeOkHello(peer, payload);
        this.hooks.onOk?.(peer, ok.value.inReVerb, payload, inbound);
        return;
      }
      case Verb.RENDEZVOUS:
        return this.followRendezvous(peer, payload, inbound);
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
  private notePath(peer: Peer, verb: number, inbound: Inbound, now: number): boolean {
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
    // 1.14 leaf rules: learn only from a direct OK on a usable, permitted address; otherwise
    // confirm the unknown path with a HELLO (at most once a second per path).
    const usable = isUsablePathAddress(from, this.options.allowLoopbackPaths === true) &&
      !this.topology.isProhibitedEndpoint(peer.address, from);
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
    if (!identity) return undefined;
    if (this.peerTable.loadKey(address, this.keyScratch)) {
      const peer = new Peer(identity, this.keyScratch);
      this.peers.set(address, peer);
      return peer;
    }
    return this.addPeer(identity);
  }

  /**
   * OK(HELLO): the peer's version, and the worlds it carries when the peer may update them — an
   * upstream, or the seed of a moon we are fetching (05-world-moons.md §3, §6.2).
   */
  private takeOkHello(peer: Peer, payload: Uint8Array): void {
    const ok = decodeOkHello(payload);
    if (!ok.ok) return this.stats.drop('bad-payload');
    const v = ok.value;
    peer.version = { protocol: v.protocolVersion, major: v.majorVersion, minor: v.minorVersion, revision: v.revision };
    if (!v.worlds || v.worlds.length === 0) return;
    const t = this.topology;
    if (!t.isUpstream(peer.address) && ![...t.pendingSeeds.values()].includes(peer.address)) return;
    for (let off = 0; off < v.worlds.length;) {
      const d = World.decode(v.worlds.subarray(off));
      if (typeof d === 'string') return this.stats.drop('bad-payload');
      off += d.length;
      const outcome = t.consider(d.world);
      if (outcome === 'accepted') {
        this.log.info('world update accepted', { world: d.world.idHex, timestamp: String(d.world.timestamp), from: formatAddress(peer.address) });
        this.hooks.onWorld?.(d.world, peer);
      } else if (outcome === 'bad-signature') {
        this.log.warn('world update refused: bad signature', { world: d.world.idHex, from: formatAddress(peer.address) });
      }
    }
  }

  /**
   * RENDEZVOUS: an upstream tells us where a peer we know can be reached. As 1.14 does, contact
   * it there: ECHO when its version is known (its OK teaches the path), HELLO otherwise.
   * (1.14 also sends a 4-byte low-TTL datagram first to open a NAT in front of us; without
   * per-packet TTL control we rely on the ECHO/HELLO itself.)
   */
  private followRendezvous(from: Peer, payload: Uint8Array, inbound: Inbound): void {
    if (!this.topology.isUpstream(from.address)) return this.stats.drop('not-for-us');
    const r = decodeRendezvous(payload);
    if (!r.ok || !r.value.address || r.value.address.port === 0) return this.stats.drop('bad-payload');
    const at = r.value.address;
    const other = this.peerFor(r.value.peer);
    if (!other || other === from || !this.mayLearnPath(other, at)) return this.stats.drop('not-for-us');
    const socket = at.family === inbound.from.family ? inbound.socket : socketToward(this.transport.sockets, at);
    if (!socket) return this.stats.drop('not-for-us');
    if (other.version.protocol >= ECHO_MIN_PROTO_VERSION) this.sendTo(other, socket, at, Verb.ECHO, encodeEcho({ payload: new Uint8Array(0) }));
    else this.sendHello(other, socket, at);
    this.hooks.onRendezvous?.(other, at);
  }

  /** Whether a path to this peer may be learned or used at this address (08-root-behaviour.md §1.3). */
  private mayLearnPath(peer: Peer, at: IpAddress): boolean {
    if (this.topology.isProhibitedEndpoint(peer.address, at)) return false;
    return this.options.pathLearning === 'authenticated' || isUsablePathAddress(at, this.options.allowLoopbackPaths === true);
  }

  // ------------------------------------------------------------------------------------------
  // HELLO and identity admission (04-verbs.md §4, 08-root-behaviour.md §3.3)
  // ------------------------------------------------------------------------------------------

  private receiveHello(p: Uint8Array, source: Address, inbound: Inbound): void {
    const payload = p.subarray(PacketOffset.payload);
    if (payload.length < 5 || payload[0] < PROTO_VERSION_MIN) return this.stats.drop('old-protocol');
    // the common case, a known peer's HELLO, needs no identity decoded
    const cached = this.peers.get(source);
    if (cached && cached.identity.isSerializedAt(payload, HELLO_IDENTITY_OFFSET)) return this.finishHello(cached, p, inbound);
    const decodedId = deserializeIdentity(payload, HELLO_IDENTITY_OFFSET);
    if (typeof decodedId === 'string') return this.stats.drop('bad-payload');
    const identity = decodedId.identity;
    if (identity.address !== source) return this.stats.drop('hello-address-mismatch');

    const known = this.peers.get(source);
    if (known) {
      if (known.identity.equals(identity)) return this.finishHello(known, p, inbound);
      return this.identityCollision(identity, p, inbound);
    }
    const stored = this.store.get(source) ?? this.topology.upstreams().get(source)?.identity;
    if (stored) {
      if (!stored.equals(identity)) return this.identityCollision(identity, p, inbound);
      const peer = this.addPeer(stored);
      if (peer) this.finishHello(peer, p, inbound);
      return;
    }
    this.admitNewIdentity(identity, p, inbound);
  }

  /** A different key claims a known address: if that key really sent it, say so; the first keeps it. */
  private identityCollision(identity: Identity, p: Uint8Array, inbound: Inbound): void {
    this.stats.drop('identity-collision');
    const key = agree(this.identity.privateKey!, identity.publicKey);
    if (!key) return;
    const claimant = new Peer(identity, key);
    const copy = Uint8Array.from(p);
    if (!dearmor(copy, claimant.key).ok) return;
    this.sendTo(claimant, inbound.socket, inbound.from, Verb.ERROR, encodeError({
      inReVerb: Verb.HELLO, inRePacketId: inbound.packetId, errorCode: ErrorCode.IDENTITY_COLLISION,
    }), Cipher.poly1305Salsa2012);
  }

  /**
   * A HELLO from an identity we have never accepted. Cheapest checks first: remembered failures,
   * the per-source admission gate and this thread's validation backlog, then key agreement and
   * the MAC, and only then the memory-hard validation (off this thread). Repeats while it runs
   * share one validation; each HELLO refused is counted once, by reason.
   */
  private admitNewIdentity(identity: Identity, p: Uint8Array, inbound: Inbound): void {
    const fingerprint = `${identity.address}:${Buffer.from(identity.publicKey).toString('hex')}`;
    if (this.failedIdentities.has(fingerprint)) return this.stats.drop('invalid-identity');
    let pending = this.pendingValidations.get(identity.address);
    if (pending && !pending.peer.identity.equals(identity)) return this.stats.drop('identity-collision');
    if (!pending) {
      if (!this.admit(inbound.from)) return this.stats.drop('admission-limited');
      if (this.pendingValidations.size >= this.validationBacklog) return this.stats.drop('validation-queue-full');
      const key = agree(this.identity.privateKey!, identity.publicKey);
      if (!key) return this.stats.drop('invalid-identity');
      const peer = new Peer(identity, key);
      if (!dearmor(Uint8Array.from(p), peer.key).ok) return this.stats.drop('bad-mac');
      const done = this.validation.submit(identity).then((outcome): AdmissionOutcome => {
        this.pendingValidations.delete(identity.address);
        if (outcome === 'queue-full' || outcome === 'closed') return 'validation-queue-full';
        this.stats.validation(outcome.valid, outcome.micros);
        if (!outcome.valid) {
          this.failedIdentities.set(fingerprint, true);
          this.log.debug('identity failed validation', { address: formatAddress(identity.address) });
          return 'invalid-identity';
        }
        return this.store.put(identity, this.now()) === 'collision' ? 'identity-collision' : 'admitted';
      }).catch((e: unknown): AdmissionOutcome => {
        // the cache could not be written (disk full, read-only home): refuse, never crash
        this.pendingValidations.delete(identity.address);
        this.log.error('identity admission failed', { error: (e as Error).message });
        return 'internal-error';
      });
      pending = { peer, done };
      this.pendingValidations.set(identity.address, pending);
    } else if (!dearmor(Uint8Array.from(p), pending.peer.key).ok) {
      return this.stats.drop('bad-mac');
    }
    const candidate = pending.peer;
    void pending.done.then((outcome) => {
      if (outcome !== 'admitted') return void this.stats.drop(outcome);
      try {
        const peer = this.peers.get(identity.address) ?? this.addPeer(identity, candidate);
        if (peer && peer.identity.equals(identity)) this.finishHello(peer, p, inbound);
      } catch (e) {
        this.stats.drop('internal-error');
        this.log.error('HELLO after validation failed', { error: (e as Error).message });
      }
    });
  }

  /** Token bucket per source /24 or /48 for identities we have never seen. */
  private admit(from: IpAddress): boolean {
    const cfg = this.options.admission ?? { burst: 16, refillMs: 500 };
    const now = this.now();
    const k = sourceBucket(from);
    let b = this.admission.get(k);
    if (!b) {
      if (this.admission.size > 65536) this.admission.clear(); // bounded: a flood of sources resets it
      b = { tokens: cfg.burst, updatedMs: now };
      this.admission.set(k, b);
    }
    b.tokens = Math.min(cfg.burst, b.tokens + (now - b.updatedMs) / cfg.refillMs);
    b.updatedMs = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

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

  /** Verify, decode and answer a HELLO from a peer whose identity is settled. */
  private finishHello(peer: Peer, p: Uint8Array, inbound: Inbound): void {
    if (!dearmor(p, peer.key).ok) return this.stats.drop('bad-mac');
    const payload = p.subarray(PacketOffset.payload);
    const region = helloCryptFieldOffset(payload, peer.identity);
    if (region !== undefined) cryptField(p, PacketOffset.payload + region, p.length, peer.key.salsaKey);
    const decoded = decodeHello(payload, peer.identity);
    if (!decoded.ok) return this.stats.drop('bad-payload');
    const hello = decoded.value;
    const now = this.now();
    this.stats.verbIn(Verb.HELLO);
    peer.lastReceiveMs = now;
    if (now - peer.lastHelloReplyMs >= (this.options.helloReplySpacingMs ?? 0)) {
      peer.lastHelloReplyMs = now;
      const worlds = this.topology.updatesFor(hello.planet, hello.moons);
      this.reply(peer, inbound, Verb.OK, encodeOkHello({
        inRePacketId: inbound.packetId,
        timestamp: hello.timestamp,
        protocolVersion: this.protocolVersion,
        majorVersion: SOFTWARE_VERSION.major,
        minorVersion: SOFTWARE_VERSION.minor,
        revision: SOFTWARE_VERSION.revision,
        externalAddress: hello.protocolVersion < 5 ? { ...inbound.from, port: 0 } : inbound.from,
        worlds: concatWorlds(worlds),
      }));
    } else {
      this.stats.drop('rate-limited');
    }
    // After the reply, as 1.14 does: a root learns the path; under 'ok-only' an unknown path is
    // not learned from a HELLO but confirmed with a HELLO of our own (its OK teaches it).
    this.notePath(peer, Verb.HELLO, inbound, now);
    // recorded after the reply, so the first OK(HELLO) to a new peer is Salsa20 as in 1.14
    peer.version = { protocol: hello.protocolVersion, major: hello.majorVersion, minor: hello.minorVersion, revision: hello.revision };
    this.hooks.onHello?.(peer, hello, inbound);
  }

  // ------------------------------------------------------------------------------------------
  // ECHO and WHOIS
  // ------------------------------------------------------------------------------------------

  private answerEcho(peer: Peer, payload: Uint8Array, inbound: Inbound, now: number): void {
    if (now - peer.lastEchoReplyMs < (this.options.echoReplySpacingMs ?? 0)) return this.stats.drop('rate-limited');
    peer.lastEchoReplyMs = now;
    const echo = decodeEcho(payload);
    if (!echo.ok) return this.stats.drop('bad-payload');
    this.reply(peer, inbound, Verb.OK, encodeOkEcho({ inRePacketId: inbound.packetId, payload: echo.value.payload }));
  }

  /** Every requested identity we hold — peers, the cache and ourselves — in one OK(WHOIS). */
  private answerWhois(peer: Peer, payload: Uint8Array, inbound: Inbound, maxAddresses = 64): void {
    const req = decodeWhois(payload);
    if (!req.ok) return this.stats.drop('bad-payload');
    const found: Identity[] = [];
    for (const a of req.value.addresses.slice(0, maxAddresses)) {
      const id = a === this.address ? this.identity.publicOnly() : (this.peers.get(a)?.identity ?? this.store.get(a));
      if (id) found.push(id);
    }
    if (found.length === 0) return;
    this.reply(peer, inbound, Verb.OK, encodeOkWhois({ inRePacketId: inbound.packetId, identities: found }));
  }

  // ------------------------------------------------------------------------------------------
  // Relaying (03-packet.md §8, 08-root-behaviour.md §3.5)
  // ------------------------------------------------------------------------------------------

  /**
   * The batch transport's fast path: relay a datagram for another node in place in the receive
   * ring (the view is valid only during this call; sending copies it). Returns false to hand
   * anything else — packets for us, beacons, junk — to receive().
   */
  private relayFromRing(view: Uint8Array, _source: RawSource, _socket: LocalSocket): boolean {
    const peek = this.peek;
    const kind = peekDatagram(view, peek);
    if ((kind !== 'packet' && kind !== 'fragment') || peek.destination === this.address) return false;
    this.stats.datagramsIn++;
    this.stats.bytesIn += view.length;
    try {
      this.relay(view, kind === 'fragment', peek.destination, peek.source);
    } catch (e) {
      this.stats.drop('internal-error');
      this.log.error('relay failed', { error: (e as Error).message });
    }
    return true;
  }

  private relay(d: Uint8Array, fragment: boolean, destination: Address, source: Address): void {
    if (this.relayMaxHops === 0) {
      this.stats.relayed('not-relaying');
      return this.stats.drop('not-relaying');
    }
    if (!incrementHopsForRelay(d, this.relayMaxHops)) {
      this.stats.relayed('hop-limit');
      return this.stats.drop('hop-limit');
    }
    const path = this.peerTable.lookup(destination, this.lookupScratch);
    if (!path.found || !this.transport.sockets[path.socket]) {
      if (this.hooks.onRelayUnknownDestination?.(d, destination)) return void this.stats.relayed('to-sibling');
      this.stats.relayed('unknown-destination');
      return this.stats.drop('relay-unknown-destination');
    }
    this.stats.datagramsOut++;
    this.stats.bytesOut += d.length;
    if (this.sendToPath) this.sendToPath(path.socket, path, d);
    else this.transport.sendToHost(path.socket, path.family === 4 ? ip4Text(path.ip4) : ip6Text(path.ip6), path.port, d);
    this.stats.relayed('forwarded');
    this.stats.relayedBytes += d.length;
    if (!fragment) this.hooks.onRelayed?.(source, destination, d[PacketOffset.flags] & HeaderFlag.hopsMask);
  }

  // ------------------------------------------------------------------------------------------
  // Sending
  // ------------------------------------------------------------------------------------------

  /**
   * Send a packet to a peer over a given path, else its best direct path, else through the
   * freshest upstream, which relays it (08-root-behaviour.md §1.4). False when there is no way.
   */
  send(peer: Peer, verb: number, payload: Uint8Array, options: { path?: Path; cipher?: ArmorCipher } = {}): boolean {
    const path = options.path ?? peer.bestPath();
    if (path) {
      this.sendTo(peer, path.socket, path.remote, verb, payload, options.cipher);
      path.lastSendMs = this.now();
      return true;
    }
    const via = this.tablePath(peer.address) ?? this.upstreamRoute(peer.address);
    if (!via) return false;
    this.sendTo(peer, via.socket, via.remote, verb, payload, options.cipher);
    return true;
  }

  /**
   * Answer a request: back where it came from when it came directly; when it was relayed, over a
   * direct path of ours to the sender if there is one, else back through the relay.
   */
  reply(peer: Peer, inbound: Inbound, verb: number, payload: Uint8Array): bigint {
    if (inbound.hops !== 0) {
      const best = peer.bestPath();
      const direct = best ? { socket: best.socket, remote: best.remote } : this.tablePath(peer.address);
      if (direct) return this.sendTo(peer, direct.socket, direct.remote, verb, payload);
    }
    return this.sendTo(peer, inbound.socket, inbound.from, verb, payload);
  }

  /** The path to the most recently heard upstream other than `except` (where relayed traffic goes). */
  upstreamRoute(except?: Address): { socket: LocalSocket; remote: IpAddress } | undefined {
    let best: Address | undefined, bestSeen = -1;
    for (const a of this.topology.upstreams().keys()) {
      if (a === except) continue;
      const l = this.peerTable.lookup(a, this.lookupScratch);
      if (l.found && l.seen > bestSeen) {
        best = a;
        bestSeen = l.seen;
      }
    }
    return best === undefined ? undefined : this.tablePath(best);
  }

  /** Build, compress where it helps, armor, fragment and send a packet to one physical address. */
  sendTo(peer: Peer, socket: LocalSocket, to: IpAddress, verb: number, payload: Uint8Array, cipher?: ArmorCipher): bigint {
    let p = newPacket({ id: this.packetIds.next(), destination: peer.address, source: this.address, verb, payload });
    if (verb !== Verb.HELLO) p = compressPacket(p);
    const suite = cipher ?? (verb === Verb.HELLO ? Cipher.poly1305None
      : peer.version.protocol >= AES_GMAC_SIV_MIN_PROTO_VERSION && !this.options.alwaysSalsa ? Cipher.aesGmacSiv : Cipher.poly1305Salsa2012);
    armor(p, peer.key, suite);
    const wireId = readPacketId(p);
    if (verb === Verb.HELLO || verb === Verb.WHOIS || verb === Verb.ECHO || verb === Verb.NETWORK_CONFIG_REQUEST || verb === Verb.MULTICAST_GATHER) {
      this.expectReply(wireId);
    }
    this.stats.verbOut(verb);
    for (const piece of splitPacket(p, this.options.mtu)) this.transmitTo(socket, to, piece);
    return wireId;
  }

  /** HELLO (cipher 0, moon list under cryptField) to a peer at a physical address. */
  sendHello(peer: Peer, socket: LocalSocket, to: IpAddress): bigint {
    const planet = this.topology.planet;
    const { payload, cryptFieldOffset } = encodeHelloForNode(this, to, planet);
    const p = newPacket({ id: this.packetIds.next(), destination: peer.address, source: this.address, verb: Verb.HELLO, payload });
    if (cryptFieldOffset !== undefined) cryptField(p, PacketOffset.payload + cryptFieldOffset, p.length, peer.key.salsaKey);
    armor(p, peer.key, Cipher.poly1305None);
    const wireId = readPacketId(p);
    this.expectReply(wireId);
    this.stats.verbOut(Verb.HELLO);
    this.transmitTo(socket, to, p);
    return wireId;
  }

  private transmitTo(socket: LocalSocket, to: IpAddress, d: Uint8Array): void {
    this.stats.datagramsOut++;
    this.stats.bytesOut += d.length;
    this.transport.send(socket, to, d);
  }

  /** Send raw bytes (a relayed datagram) to a physical address from the first socket of its family. */
  forwardRaw(d: Uint8Array, to: IpAddress): boolean {
    const socket = this.transport.socketFor(to.family);
    if (!socket) return false;
    this.transmitTo(socket, to, d);
    return true;
  }

  private expectReply(wireId: bigint): void {
    this.expectedReplies.add(wireId, this.now());
  }

  private wasExpected(inReId: bigint): boolean {
    return this.expectedReplies.has(inReId, this.now());
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

/** Random 8-byte packet IDs, drawn from a secure random pool refilled 512 IDs at a time. */
class PacketIdSource {
  private pool = new Uint8Array(0);
  private at = 0;
  next(): Uint8Array {
    if (this.at + 8 > this.pool.length) {
      this.pool = new Uint8Array(randomBytes(4096));
      this.at = 0;
    }
    const id = this.pool.subarray(this.at, this.at + 8);
    this.at += 8;
    return id;
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

function concatWorlds(worlds: World[]): Uint8Array {
  const parts = worlds.map((w) => w.serialize());
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function encodeHelloForNode(node: Node, to: IpAddress, planet: World | undefined): { payload: Uint8Array; cryptFieldOffset: number | undefined } {
  return encodeHelloWithCryptFieldOffset({
    protocolVersion: node.protocolVersion,
    majorVersion: SOFTWARE_VERSION.major,
    minorVersion: SOFTWARE_VERSION.minor,
    revision: SOFTWARE_VERSION.revision,
    timestamp: BigInt(node.now()),
    identity: node.identity.publicOnly(),
    destination: to,
    planet: { id: planet?.id ?? 0n, timestamp: planet?.timestamp ?? 0n },
    moons: node.topology.helloMoons(),
  });
}
