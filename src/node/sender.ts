// Sending: which way a packet to a peer goes (a given path, its best direct path, or through an
// upstream that relays it), how it is built (compression, armor, fragments), and which packet IDs
// may be answered with OK.

import { randomBytes } from 'node:crypto';
import type { Address } from '../identity/address.ts';
import { armor, type ArmorCipher } from '../wire/armor.ts';
import { compressPacket } from '../wire/compression.ts';
import {
  AES_GMAC_SIV_MIN_PROTO_VERSION, Cipher, DEFAULT_PHYSICAL_MTU, FRAGMENT_HEADER_LENGTH, MAX_PACKET_FRAGMENTS, MAX_PACKET_LENGTH, PacketOffset, Verb,
} from '../wire/constants.ts';
import { cryptField } from '../wire/crypt-field.ts';
import { markFragmentedIfNeeded, splitPacket } from '../wire/fragment.ts';
import type { IpAddress } from '../wire/inet-address.ts';
import { newPacket, readPacketId, type PacketPayload } from '../wire/packet.ts';
import { encodeHelloWithCryptFieldOffset } from '../wire/verbs/hello.ts';
import type { World } from '../world/world.ts';
import { ExpectedReplies } from './expected-replies.ts';
import { SOFTWARE_VERSION, type Inbound, type Node } from './node.ts';
import type { Path, Peer } from './peer.ts';
import { createPathLookup } from './shared-peer-table.ts';
import type { LocalSocket } from './udp.ts';

/**
 * Verbs sent without trying LZ4. HELLO must not be compressed; Ethernet frames are mostly
 * encrypted or already compressed traffic, where the attempt costs ~65 µs per 1400-byte frame in
 * TypeScript and almost never pays (1.14 tries; receivers take either form).
 */
const UNCOMPRESSED_VERBS: ReadonlySet<number> = new Set([Verb.HELLO, Verb.FRAME, Verb.EXT_FRAME, Verb.MULTICAST_FRAME]);

export class Sender {
  private readonly node: Node;
  private readonly packetIds = new PacketIdSource();
  private readonly expectedReplies: ExpectedReplies;
  private readonly lookup = createPathLookup();

  constructor(node: Node, expectedReplies: ExpectedReplies = new ExpectedReplies()) {
    this.node = node;
    this.expectedReplies = expectedReplies;
  }

  /**
   * Send a packet to a peer over a given path, else its best direct path, else through the
   * freshest upstream, which relays it (docs/protocol/08-root-behaviour.md §1.4). False when there is no way.
   */
  send(peer: Peer, verb: number, payload: Uint8Array, options: { path?: Path; cipher?: ArmorCipher } = {}): boolean {
    const path = options.path ?? peer.bestPath();
    if (path) {
      this.sendTo(peer, path.socket, path.remote, verb, payload, options.cipher);
      path.lastSendMs = this.node.now();
      return true;
    }
    const via = this.node.tablePath(peer.address) ?? this.upstreamRoute(peer.address);
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
      const direct = best ? { socket: best.socket, remote: best.remote } : this.node.tablePath(peer.address);
      if (direct) return this.sendTo(peer, direct.socket, direct.remote, verb, payload);
    }
    return this.sendTo(peer, inbound.socket, inbound.from, verb, payload);
  }

  /** The path to the most recently heard upstream other than `except` (where relayed traffic goes). */
  upstreamRoute(except?: Address): { socket: LocalSocket; remote: IpAddress } | undefined {
    let best: Address | undefined, bestSeen = -1;
    for (const a of this.node.topology.upstreams().keys()) {
      if (a === except) continue;
      const l = this.node.peerTable.lookup(a, this.lookup);
      if (l.found && l.seen > bestSeen) {
        best = a;
        bestSeen = l.seen;
      }
    }
    return best === undefined ? undefined : this.node.tablePath(best);
  }

  /**
   * Build, compress where it helps, armor, fragment and send a packet to one physical address.
   * A packet longer than the MTU is marked fragmented before armor (the flag is under the MAC)
   * and leaves as a head and fragments; one that does not fit in ZT_PROTO_MAX_PACKET_LENGTH or
   * in ZT_MAX_PACKET_FRAGMENTS pieces at this MTU (the OK(ECHO) of a maximal ECHO is 9 bytes
   * longer than the ECHO) cannot be sent and is dropped and counted.
   */
  sendTo(peer: Peer, socket: LocalSocket, to: IpAddress, verb: number, payload: PacketPayload, cipher?: ArmorCipher): bigint {
    let p = newPacket({ id: this.packetIds.next(), destination: peer.address, source: this.node.address, verb, payload });
    if (!UNCOMPRESSED_VERBS.has(verb)) p = compressPacket(p);
    const mtu = this.node.options.mtu ?? DEFAULT_PHYSICAL_MTU;
    if (p.length > Math.min(MAX_PACKET_LENGTH, mtu + (MAX_PACKET_FRAGMENTS - 1) * (mtu - FRAGMENT_HEADER_LENGTH))) {
      this.node.stats.drop('too-long-to-send');
      return readPacketId(p);
    }
    markFragmentedIfNeeded(p, mtu);
    const suite = cipher ?? (verb === Verb.HELLO ? Cipher.poly1305None
      : peer.version.protocol >= AES_GMAC_SIV_MIN_PROTO_VERSION && !this.node.options.alwaysSalsa ? Cipher.aesGmacSiv : Cipher.poly1305Salsa2012);
    armor(p, peer.key, suite);
    const wireId = readPacketId(p);
    if (verb === Verb.HELLO || verb === Verb.WHOIS || verb === Verb.ECHO || verb === Verb.NETWORK_CONFIG_REQUEST || verb === Verb.MULTICAST_GATHER) {
      this.expectReply(wireId);
    }
    this.node.stats.verbOut(verb);
    for (const piece of splitPacket(p, mtu)) this.transmitTo(socket, to, piece);
    return wireId;
  }

  /** HELLO (cipher 0, moon list under cryptField) to a peer at a physical address. */
  sendHello(peer: Peer, socket: LocalSocket, to: IpAddress): bigint {
    const planet = this.node.topology.planet;
    const { payload, cryptFieldOffset } = encodeHelloForNode(this.node, to, planet);
    const p = newPacket({ id: this.packetIds.next(), destination: peer.address, source: this.node.address, verb: Verb.HELLO, payload });
    if (cryptFieldOffset !== undefined) cryptField(p, PacketOffset.payload + cryptFieldOffset, p.length, peer.key.salsaKey);
    armor(p, peer.key, Cipher.poly1305None);
    const wireId = readPacketId(p);
    this.expectReply(wireId);
    this.node.stats.verbOut(Verb.HELLO);
    this.transmitTo(socket, to, p);
    return wireId;
  }

  private transmitTo(socket: LocalSocket, to: IpAddress, d: Uint8Array): void {
    this.node.stats.datagramsOut++;
    this.node.stats.bytesOut += d.length;
    this.node.transport.send(socket, to, d);
  }

  /** Send raw bytes (a relayed datagram) to a physical address from the first socket of its family. */
  forwardRaw(d: Uint8Array, to: IpAddress): boolean {
    const socket = this.node.transport.socketFor(to.family);
    if (!socket) return false;
    this.transmitTo(socket, to, d);
    return true;
  }

  expectReply(wireId: bigint): void {
    this.expectedReplies.add(wireId, this.node.now());
  }

  /** Whether an OK quoting this packet ID answers something this root or node sent. */
  wasExpected(inReId: bigint): boolean {
    return this.expectedReplies.has(inReId, this.node.now());
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

const NO_WORLDS = new Uint8Array(0);

/** Worlds one after the other, as OK(HELLO) carries them (nearly always none: a shared empty array). */
export function concatWorlds(worlds: World[]): Uint8Array {
  if (worlds.length === 0) return NO_WORLDS;
  const parts = worlds.map((w) => w.serialize());
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Our HELLO to `to`: versions, identity, the planet we have and the moons we have or want. */
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
