// Hostile datagrams, by category. Every generator is a pure function of the seeded Rng and the
// corpus (the real lab capture, opened with its secrets, plus the keys of identities the target
// knows), so a campaign replays exactly from its seed.

import { Identity } from '../../src/identity/identity.ts';
import { writeAddress } from '../../src/identity/address.ts';
import { dearmor, type ArmorCipher } from '../../src/wire/armor.ts';
import { uncompressPacket } from '../../src/wire/compression.ts';
import {
  Cipher, FRAGMENT_HEADER_LENGTH, FRAGMENT_INDICATOR, FragmentOffset, HeaderFlag, MIN_PACKET_LENGTH, PacketOffset, Verb, VerbFlag,
} from '../../src/wire/constants.ts';
import { markFragmentedIfNeeded, splitPacket } from '../../src/wire/fragment.ts';
import type { IpAddress } from '../../src/wire/inet-address.ts';
import { newPacket } from '../../src/wire/packet.ts';
import type { PeerKey } from '../../src/wire/peer-key.ts';
import { encodeEcho } from '../../src/wire/verbs/echo.ts';
import { cryptField } from '../../src/wire/crypt-field.ts';
import { encodeHelloWithCryptFieldOffset } from '../../src/wire/verbs/hello.ts';
import { encodeWhois } from '../../src/wire/verbs/whois.ts';
import { armor } from '../../src/wire/armor.ts';
import { armored, keyBetween } from './peers.ts';
import { LeafCorpus, type NetworkContext } from './leaf-corpus.ts';
import type { Rng } from './rng.ts';

/** Categories of hostile datagrams; `authenticated` ones carry a valid MAC from a known identity. */
export const CATEGORIES = {
  random: { authenticated: false, what: 'pure random bytes, 0-1500 long' },
  'capture-mutated': { authenticated: false, what: 'captured datagrams with bit flips, truncation, extension, splices, byte runs' },
  'header-rewrite': { authenticated: false, what: 'captured datagrams with destination (root, known peer, unknown), source, flags, cipher, hops rewritten' },
  'hello-malformed': { authenticated: false, what: 'HELLOs with malformed identities (type, length, address mismatch, failed proof of work with a valid MAC) and old protocol versions' },
  'hello-worlds': { authenticated: true, what: 'known peers\' HELLOs (valid MAC) with mutated planet/moon sections and lying counts' },
  'hello-native': { authenticated: true, what: 'known peers\' well-formed HELLOs in bursts, as the native HELLO path sees them: any protocol, nil/IPv6 destinations, long moon lists, hop bits, the fragmented flag, a flipped MAC bit' },
  'capture-replay': { authenticated: true, what: 'captured packets from the lab leaves replayed unmodified or with another hop count' },
  'verb-malformed': { authenticated: true, what: 'valid-MAC packets from known identities with mutated verb bodies (captured plaintexts) and any verb code, ciphers 0/1/3' },
  'lz4-hostile': { authenticated: true, what: 'valid-MAC packets with the compressed flag and hostile LZ4 (lying lengths, bad offsets, overruns, truncation)' },
  fragments: { authenticated: true, what: 'fragmented valid packets out of order, duplicated, overlapping, incomplete, with lying counts, random IDs, stray heads' },
  // a leaf joined to a network (leaf-corpus.ts); skipped against a root
  'network-config': { authenticated: true, what: 'NETWORK_CONFIG and OK(NETWORK_CONFIG_REQUEST) chunks: random, for unknown networks, from non-controllers, signed by the wrong key' },
  'network-credentials': { authenticated: true, what: 'NETWORK_CREDENTIALS with forged COMs and revocations, for unknown networks, truncated, random' },
  'network-frames': { authenticated: true, what: 'FRAME, EXT_FRAME, MULTICAST_FRAME for unknown networks, from non-members, over the MTU, cut short' },
  'network-errors': { authenticated: true, what: 'ERROR(NETWORK_CONFIG_REQUEST) from non-controllers and for networks not joined' },
} as const;
/** Categories that need a leaf joined to a network (CorpusInput.network). */
export const NETWORK_CATEGORIES: readonly Category[] = ['network-config', 'network-credentials', 'network-frames', 'network-errors'];
export type Category = keyof typeof CATEGORIES;
export const CATEGORY_NAMES = Object.keys(CATEGORIES) as Category[];

export interface Keyed {
  identity: Identity;
  key: PeerKey;
}

export interface CorpusInput {
  root: Identity;
  /** The root's UDP endpoint (HELLO names it). */
  via: IpAddress;
  /** Datagrams of the capture (UDP payloads). */
  captured: Uint8Array[];
  /** Identities the root knows, with their keys, that hostile valid-MAC packets come from. */
  keyed: Keyed[];
  /** Capture hosts (identities with secrets) whose captured packets the corpus opens. */
  captureHosts: Identity[];
  /** The network the target (a leaf) has joined: enables NETWORK_CATEGORIES. */
  network?: NetworkContext;
}

/** A captured packet opened: verb byte (compression cleared) and plaintext payload. */
interface Plain { verb: number; payload: Uint8Array }

export class Corpus {
  readonly root: Identity;
  readonly via: IpAddress;
  readonly captured: Uint8Array[];
  /** Captured packets addressed to the root, complete and authentic (for replays). */
  readonly toRoot: Uint8Array[];
  readonly plains: Plain[];
  readonly keyed: Keyed[];
  readonly knownAddresses: number[];
  /** An X25519 key pair of ours, put into identities that fail proof of work (their HELLOs carry a valid MAC). */
  private readonly attacker: Identity;
  private readonly attackerKey: PeerKey;
  readonly leaf: LeafCorpus | undefined;

  constructor(c: CorpusInput) {
    this.leaf = c.network ? new LeafCorpus(c.root, c.network) : undefined;
    this.root = c.root;
    this.via = c.via;
    this.captured = c.captured.filter((d) => d.length > 0);
    this.keyed = c.keyed;
    this.knownAddresses = [...c.keyed.map((k) => k.identity.address), ...c.captureHosts.map((h) => h.address)];
    const keys = new Map<string, PeerKey>();
    const byAddr = new Map(c.captureHosts.map((h) => [h.address, h]));
    this.toRoot = [];
    this.plains = [];
    for (const d of this.captured) {
      if (d.length < MIN_PACKET_LENGTH || d[13] === FRAGMENT_INDICATOR) continue;
      const dst = byAddr.get(readAddr(d, PacketOffset.destination));
      const src = byAddr.get(readAddr(d, PacketOffset.source));
      if (!dst || !src) continue;
      const k = `${src.address}>${dst.address}`;
      let key = keys.get(k);
      if (!key) keys.set(k, key = keyBetween(src, dst));
      const p = Uint8Array.from(d);
      if (!dearmor(p, key).ok) continue;
      if (dst.address === c.root.address && (d[PacketOffset.flags] & HeaderFlag.fragmented) === 0) this.toRoot.push(d);
      const u = uncompressPacket(p);
      if (!u.ok) continue;
      this.plains.push({ verb: u.packet[PacketOffset.verb] & VerbFlag.verbMask, payload: Uint8Array.from(u.packet.subarray(PacketOffset.payload)) });
    }
    // our own key pair inside an identity whose address it does not derive
    const donor = c.keyed[0].identity;
    this.attacker = new Identity(donor.address, donor.publicKey, donor.privateKey);
    this.attackerKey = c.keyed[0].key;
  }

  /** One hostile datagram (or a few, for fragment scenarios) of `category`. */
  generate(rng: Rng, category: Category): Uint8Array[] {
    switch (category) {
      case 'random': return [rng.bytes(rng.chance(0.1) ? rng.int(40) : rng.int(1501))];
      case 'capture-mutated': return [this.mutate(rng, Uint8Array.from(rng.pick(this.captured)))];
      case 'header-rewrite': return [this.rewriteHeader(rng)];
      case 'hello-malformed': return [this.malformedHello(rng, rng.pick([0, 1, 2, 3, 4, 6]))];
      case 'hello-worlds': return [this.malformedHello(rng, 5)];
      case 'hello-native': return this.nativeHello(rng);
      case 'capture-replay': return [this.replay(rng)];
      case 'verb-malformed': return [this.malformedVerb(rng)];
      case 'lz4-hostile': return [this.hostileLz4(rng)];
      case 'fragments': return this.fragments(rng);
      case 'network-config': return this.networkCorpus().config(rng, rng.pick(this.keyed));
      case 'network-credentials': return this.networkCorpus().credentials(rng, rng.pick(this.keyed));
      case 'network-frames': return this.networkCorpus().frames(rng, rng.pick(this.keyed));
      case 'network-errors': return this.networkCorpus().errors(rng, rng.pick(this.keyed));
    }
  }

  private networkCorpus(): LeafCorpus {
    if (!this.leaf) throw new Error('network categories need CorpusInput.network');
    return this.leaf;
  }

  // ---- mutations -------------------------------------------------------------------------

  mutate(rng: Rng, d: Uint8Array): Uint8Array {
    let out = d;
    const n = rng.range(1, 4);
    for (let i = 0; i < n; i++) {
      switch (rng.int(8)) {
        case 0: case 1: { // bit flips
          const flips = rng.range(1, 8);
          for (let f = 0; f < flips && out.length > 0; f++) out[rng.int(out.length)] ^= 1 << rng.int(8);
          break;
        }
        case 2: out = out.subarray(0, rng.int(out.length + 1)); break; // truncation
        case 3: { // extension with random bytes
          const e = new Uint8Array(out.length + rng.range(1, 200));
          e.set(out);
          e.set(rng.bytes(e.length - out.length), out.length);
          out = e;
          break;
        }
        case 4: { // splice: head of this one, tail of another captured datagram
          const other = rng.pick(this.captured);
          const cut = rng.int(out.length + 1);
          const at = rng.int(other.length + 1);
          const s = new Uint8Array(cut + other.length - at);
          s.set(out.subarray(0, cut));
          s.set(other.subarray(at), cut);
          out = s;
          break;
        }
        case 5: { // a run of one byte value (0x00, 0xff, random)
          if (out.length === 0) break;
          const at = rng.int(out.length);
          out.fill(rng.pick([0, 0xff, rng.int(256)]), at, Math.min(out.length, at + rng.range(1, 64)));
          break;
        }
        case 6: { // interesting values at a random offset (lengths and counts live in the payload)
          if (out.length < 2) break;
          const at = rng.int(out.length - 1);
          const v = rng.pick([0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x8000, 0x7fff]);
          out[at] = v >>> 8;
          out[at + 1] = v;
          break;
        }
        case 7: { // duplicate a slice in place
          if (out.length < 2) break;
          const a = rng.int(out.length);
          const len = rng.range(1, Math.min(256, out.length - a));
          const s = new Uint8Array(out.length + len);
          s.set(out.subarray(0, a + len));
          s.set(out.subarray(a, a + len), a + len);
          s.set(out.subarray(a + len), a + 2 * len);
          out = s;
          break;
        }
      }
    }
    return out;
  }

  private rewriteHeader(rng: Rng): Uint8Array {
    const original = rng.pick(this.captured);
    const d = Uint8Array.from(original);
    if (d.length < MIN_PACKET_LENGTH) return d;
    const isFragment = d[13] === FRAGMENT_INDICATOR;
    const destinations = [this.root.address, rng.pick(this.knownAddresses), rng.u32() * 256 + rng.int(256), 0, 0xff_ffff_ffff];
    writeAddress(rng.pick(destinations) % 2 ** 40, d, PacketOffset.destination);
    if (!isFragment) {
      if (rng.chance(0.7)) writeAddress((rng.chance(0.5) ? rng.pick(this.knownAddresses) : rng.u32() * 256 + rng.int(256)) % 2 ** 40, d, PacketOffset.source);
      const flags = rng.int(4);
      if (flags === 0) d[PacketOffset.flags] = rng.int(256);
      else if (flags === 1) d[PacketOffset.flags] = (d[PacketOffset.flags] & ~HeaderFlag.cipherMask) | (rng.int(8) << 3);
      else if (flags === 2) d[PacketOffset.flags] ^= HeaderFlag.fragmented;
      d[PacketOffset.flags] = (d[PacketOffset.flags] & ~HeaderFlag.hopsMask) | rng.int(8);
      if (rng.chance(0.3)) d[PacketOffset.verb] = rng.int(256);
      // never an authentic packet with only its hop count changed (that is a replay, counted apart)
      if (d.subarray(0, PacketOffset.flags).every((v, i) => v === original[i]) && ((d[PacketOffset.flags] ^ original[PacketOffset.flags]) & ~HeaderFlag.hopsMask) === 0 &&
        d[PacketOffset.verb] === original[PacketOffset.verb]) d[PacketOffset.source + 4] ^= 1;
    } else {
      d[FragmentOffset.hops] = rng.int(256);
      if (rng.chance(0.5)) d[FragmentOffset.counts] = rng.int(256);
    }
    return rng.chance(0.3) ? this.mutate(rng, d) : d;
  }

  private replay(rng: Rng): Uint8Array {
    const d = Uint8Array.from(rng.pick(this.toRoot));
    if (rng.chance(0.5)) d[PacketOffset.flags] = (d[PacketOffset.flags] & ~HeaderFlag.hopsMask) | rng.int(8);
    return d;
  }

  // ---- HELLO ------------------------------------------------------------------------------

  private malformedHello(rng: Rng, kind: number): Uint8Array {
    const known = rng.pick(this.keyed);
    // an identity that is not valid: our key pair under a random address (proof of work fails)
    const fake = new Identity((rng.u32() * 256 + rng.int(256)) % 2 ** 40 || 1, this.attacker.publicKey, this.attacker.privateKey);
    const sender = kind === 3 || kind === 6 ? fake : known.identity;
    const key = sender === fake ? this.attackerKey : known.key;
    const { payload } = encodeHelloWithCryptFieldOffset({
      protocolVersion: kind === 4 ? rng.int(4) : 12, majorVersion: 1, minorVersion: 14, revision: 1, timestamp: BigInt(Date.now()),
      identity: sender.publicOnly(), destination: this.via, planet: { id: rng.chance(0.5) ? 0n : BigInt(rng.u32()), timestamp: BigInt(rng.u32()) },
      moons: Array.from({ length: rng.int(3) }, () => ({ worldType: rng.pick([127, 1, rng.int(256)]), id: BigInt(rng.u32()), timestamp: BigInt(rng.u32()) })),
    });
    let body: Uint8Array = Uint8Array.from(payload);
    const idAt = 13; // HELLO_IDENTITY_OFFSET
    switch (kind) {
      case 0: body[idAt + 5] = rng.range(1, 255); break; // identity type
      case 1: body = body.subarray(0, idAt + rng.int(71)); break; // identity cut short
      case 2: body[idAt + 70] = rng.range(1, 255); break; // a "private key length" inside a public identity
      case 3: break; // failed proof of work, valid MAC (validated, then refused)
      case 4: break; // protocol version below the minimum
      case 5: { // lying world section after the identity (known peer, valid MAC)
        const head = body.subarray(0, idAt + 71);
        const tail = this.mutate(rng, Uint8Array.from(body.subarray(idAt + 71)));
        if (tail.length > 0 && rng.chance(0.5)) tail[rng.int(tail.length)] = 0xff; // a count that lies
        body = new Uint8Array(head.length + tail.length);
        body.set(head);
        body.set(tail, head.length);
        break;
      }
      case 6: { // address in the header is not the identity's
        const h = newPacket({ id: rng.bytes(8), destination: this.root.address, source: (fake.address ^ 1) % 2 ** 40, verb: Verb.HELLO, payload: body });
        armor(h, key, Cipher.poly1305None);
        return h;
      }
    }
    return armored(rng.bytes(8), this.root.address, sender.address, Verb.HELLO, body, key, Cipher.poly1305None);
  }

  /**
   * A known peer's well-formed HELLO, 1-3 copies at once (inside the root's reply spacing), in the
   * shapes the batch UDP addon's native path must answer or leave to TypeScript.
   */
  private nativeHello(rng: Rng): Uint8Array[] {
    const k = rng.pick(this.keyed);
    const destination: IpAddress | undefined = rng.pick([this.via, undefined, { family: 6 as const, ip: rng.bytes(16), port: rng.int(65536) }]);
    const { payload, cryptFieldOffset } = encodeHelloWithCryptFieldOffset({
      protocolVersion: rng.pick([4, 5, 11, 12, 13, rng.int(256)]), majorVersion: 1, minorVersion: 14, revision: rng.int(65536), timestamp: BigInt(Date.now()),
      identity: k.identity.publicOnly(), destination,
      planet: rng.chance(0.8) ? { id: rng.chance(0.5) ? 0n : BigInt(rng.u32()), timestamp: BigInt(rng.u32()) } : undefined,
      moons: Array.from({ length: rng.chance(0.1) ? 20 : rng.int(3) }, () => ({ worldType: rng.pick([127, 1, rng.int(256)]), id: BigInt(rng.u32()), timestamp: BigInt(rng.u32()) })),
    });
    return Array.from({ length: 1 + rng.int(3) }, () => {
      const p = newPacket({ id: rng.bytes(8), destination: this.root.address, source: k.identity.address, verb: Verb.HELLO, payload });
      if (rng.chance(0.1)) p[PacketOffset.flags] |= 1 + rng.int(7); // relayed
      if (rng.chance(0.05)) p[PacketOffset.flags] |= HeaderFlag.fragmented;
      if (cryptFieldOffset !== undefined) cryptField(p, PacketOffset.payload + cryptFieldOffset, p.length, k.key.salsaKey);
      armor(p, k.key, Cipher.poly1305None);
      if (rng.chance(0.05)) p[PacketOffset.mac + rng.int(8)] ^= 1 << rng.int(8);
      return p;
    });
  }

  // ---- valid MAC, malformed body ------------------------------------------------------------

  private malformedVerb(rng: Rng): Uint8Array {
    const k = rng.pick(this.keyed);
    const plain = rng.pick(this.plains);
    let verb = rng.chance(0.8) ? plain.verb : rng.int(32);
    if (verb === Verb.HELLO && rng.chance(0.5)) verb = Verb.WHOIS;
    const body = rng.chance(0.15) ? rng.bytes(rng.int(300)) : this.mutate(rng, Uint8Array.from(plain.payload));
    const cipher = rng.pick([Cipher.poly1305None, Cipher.poly1305Salsa2012, Cipher.poly1305Salsa2012, Cipher.aesGmacSiv] as ArmorCipher[]);
    return armored(rng.bytes(8), this.root.address, k.identity.address, verb, body.subarray(0, 1400), k.key, cipher, rng.chance(0.1) ? rng.int(8) : 0);
  }

  private hostileLz4(rng: Rng): Uint8Array {
    const k = rng.pick(this.keyed);
    const verb = rng.pick([Verb.WHOIS, Verb.ECHO, Verb.MULTICAST_LIKE, Verb.MULTICAST_GATHER, Verb.FRAME, Verb.HELLO, rng.int(32)]);
    const block: number[] = [];
    switch (rng.int(7)) {
      case 0: // literal length extended by a long run of 255s, past the end of the input
        block.push(0xf0, ...new Array<number>(rng.range(1, 600)).fill(255), rng.int(256));
        break;
      case 1: // match offset 0
        block.push(0x4f, 1, 2, 3, 4, 0, 0, 255, 255, 255, 10);
        break;
      case 2: // match offset beyond what was written
        block.push(0x1f, 0x41, 0xff, 0xff, 255, 255, 255, 255, 20);
        break;
      case 3: // a match that expands far beyond the 10 KiB output limit
        block.push(0x1f, 0x41, 0x01, 0x00, ...new Array<number>(60).fill(255), 0x10);
        break;
      case 4: // truncated in a sequence
        block.push(0x5f, 1, 2);
        break;
      case 5: // valid-looking sequences, then random bytes
        block.push(0x40, 1, 2, 3, 4, ...rng.bytes(rng.range(1, 300)));
        break;
      case 6: // no last-literals, just a token
        block.push(rng.int(256));
        break;
    }
    const payload = Uint8Array.from(block.slice(0, 1400));
    return armored(rng.bytes(8), this.root.address, k.identity.address, verb | VerbFlag.compressed, payload, k.key, rng.chance(0.8) ? Cipher.poly1305Salsa2012 : Cipher.poly1305None);
  }

  // ---- fragments -----------------------------------------------------------------------------

  /** A valid packet split into pieces (WHOIS of many addresses, or a big ECHO) from a known identity. */
  private pieces(rng: Rng): Uint8Array[] {
    const k = rng.pick(this.keyed);
    const payload = rng.chance(0.5)
      ? encodeWhois({ addresses: Array.from({ length: rng.range(60, 400) }, () => rng.pick(this.knownAddresses)) })
      : encodeEcho({ payload: rng.bytes(rng.range(400, 6000)) });
    const p = newPacket({ id: rng.bytes(8), destination: this.root.address, source: k.identity.address, verb: rng.chance(0.5) ? Verb.WHOIS : Verb.ECHO, payload });
    const mtu = rng.pick([1432, 1000, 600, 1432]);
    if (!markFragmentedIfNeeded(p, mtu)) return [p];
    armor(p, k.key, Cipher.poly1305Salsa2012);
    try {
      return splitPacket(p, mtu).map((d) => Uint8Array.from(d));
    } catch {
      return [p]; // more than 7 pieces at this MTU: send it whole (oversized for UDP is fine on loopback)
    }
  }

  private fragments(rng: Rng): Uint8Array[] {
    const pieces = this.pieces(rng);
    if (pieces.length < 2) return pieces;
    const frags = pieces.slice(1);
    switch (rng.int(9)) {
      case 0: return pieces; // in order, complete
      case 1: return rng.shuffle([...pieces]); // out of order
      case 2: return rng.shuffle([...pieces, ...pieces.filter(() => rng.chance(0.5))]); // duplicated
      case 3: { // overlapping: a piece number sent twice, the second with other data
        const f = Uint8Array.from(rng.pick(frags));
        for (let i = FRAGMENT_HEADER_LENGTH; i < f.length; i += 7) f[i] ^= 0x5a;
        return rng.shuffle([...pieces, f]);
      }
      case 4: { // never completed: one piece missing
        const drop = rng.int(pieces.length);
        return pieces.filter((_, i) => i !== drop);
      }
      case 5: { // lying counts: total 0, 1, 15, fewer than this piece's number, or a number past the total
        return pieces.map((d, i) => {
          if (i === 0) return d;
          const f = Uint8Array.from(d);
          f[FragmentOffset.counts] = rng.pick([0x00, 0x11, 0xf1, 0x21 + (rng.int(14) << 4) + rng.int(16), 0xff, (pieces.length << 4) | 0x0f]);
          return f;
        });
      }
      case 6: { // fragments with random packet IDs (fills the reassembly table)
        return frags.map((d) => {
          const f = Uint8Array.from(d);
          f.set(rng.bytes(8), FragmentOffset.id);
          return f;
        });
      }
      case 7: return [pieces[0]]; // a head marked fragmented whose fragments never come
      default: { // fragments for another destination (the relay path), hop counts anywhere
        return pieces.map((d) => {
          const f = Uint8Array.from(d);
          writeAddress(rng.pick([rng.pick(this.knownAddresses), rng.u32() * 256]) % 2 ** 40, f, FragmentOffset.destination);
          if (f[FragmentOffset.indicator] === FRAGMENT_INDICATOR) f[FragmentOffset.hops] = rng.int(8);
          return f;
        });
      }
    }
  }
}

function readAddr(b: Uint8Array, off: number): number {
  return b[off] * 2 ** 32 + ((b[off + 1] << 24) >>> 0) + (b[off + 2] << 16) + (b[off + 3] << 8) + b[off + 4];
}
