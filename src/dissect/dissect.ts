// Offline dissection of captured ZeroTier traffic (`ztroot decode`): every UDP datagram
// classified, fragments reassembled, packets dearmored with the keys a Keyring can derive,
// uncompressed, HELLO moon lists revealed (cryptField), verb payloads decoded, and what the
// payloads carry looked into (Ethernet frames, network configs, worlds, request metadata).
//
// Pure over bytes and keys: no files, no clock, no output. Input never makes it throw; every
// problem is a typed failure on the datagram and a count in the summary.

import { formatAddress, type Address } from '../identity/address.ts';
import { deserializeIdentity, type Identity } from '../identity/identity.ts';
import { dearmor } from '../wire/armor.ts';
import type { CapturedDatagram } from '../wire/capture.ts';
import { uncompressPacket } from '../wire/compression.ts';
import { PacketOffset, Verb, VerbFlag, verbName } from '../wire/constants.ts';
import { verifyCom, type CertificateOfMembership } from '../wire/credentials/com.ts';
import { cryptField } from '../wire/crypt-field.ts';
import type { DecodeError } from '../wire/decode-result.ts';
import { Reassembler } from '../wire/fragment.ts';
import type { Keyring } from '../wire/keyring.ts';
import { decodeConfigRequestMetadata, type ConfigRequestMetadata } from '../wire/netconf/metadata.ts';
import { decodeNetworkConfig, type NetworkConfig } from '../wire/netconf/network-config.ts';
import { PeerKey } from '../wire/peer-key.ts';
import {
  createDatagramPeek, isFragmentedHead, packetCipher, packetDestination, packetHops, packetSource, peekDatagram, readPacketId,
  type DatagramKind,
} from '../wire/packet.ts';
import {
  controllerForNetwork, decodeVerbPayload, helloCryptFieldOffset, verifyConfigChunk, type ConfigChunk, type VerbMessage,
} from '../wire/verbs/index.ts';
import { DEFAULT_PLANET } from '../world/default-planet.ts';
import { World } from '../world/world.ts';
import { summarizeEthernetPayload, type EthernetSummary } from './ethernet.ts';

/**
 * Payload offset of the identity in a HELLO, after protocol, major, minor, revision (u16),
 * timestamp (u64) (docs/protocol/04-verbs.md §4).
 */
const HELLO_IDENTITY_OFFSET = 13;
/** Receivers whose fragments are reassembled at once (one Reassembler each); the oldest is dropped beyond this. */
const MAX_REASSEMBLY_ENDPOINTS = 256;
/** Multi-chunk network configs being collected at once; the oldest is dropped beyond this. */
const MAX_CONFIG_ASSEMBLIES = 16;
const MS_PER_SECOND = 1000;

export type DissectFailureReason =
  /** Neither end's secret is known, or the other end's identity is not (docs/protocol/03-packet.md §5). */
  | 'no-key'
  /** The key is known but the MAC / AES-GMAC-SIV tag does not verify. */
  | 'bad-mac'
  /** Cipher 2 (trusted path: no key involved, cannot be checked offline) or 4-7. */
  | 'unsupported-cipher'
  /** Shorter than the packet header, or longer than ZT_PROTO_MAX_PACKET_LENGTH. */
  | 'bad-length'
  /** The compressed flag is set but the LZ4 payload does not decode. */
  | 'bad-compression'
  /** The verb payload does not decode (detail: the verb and the decoder's error). */
  | 'bad-payload'
  /** A fragment or fragmented head the reassembler refused. */
  | 'bad-fragment';

export interface DissectFailure {
  readonly reason: DissectFailureReason;
  readonly detail?: string;
}

export interface PacketHeader {
  /** Wire bytes 0..7 (for cipher 3: the first half of the tag, which OK/ERROR quote). */
  readonly packetId: bigint;
  readonly destination: Address;
  readonly source: Address;
  readonly hops: number;
  readonly cipher: number;
  /** The head announced fragments (0x40). */
  readonly fragmented: boolean;
}

export interface FragmentHeader {
  readonly packetId: bigint;
  readonly destination: Address;
  readonly number: number;
  readonly total: number;
  readonly hops: number;
}

export interface Reassembly {
  readonly state: 'pending' | 'complete' | 'duplicate' | 'rejected';
  /** complete: length of the reassembled packet in bytes. */
  readonly length?: number;
  /** rejected: the reassembler's reason. */
  readonly reason?: string;
}

export type SignatureCheck = 'valid' | 'invalid' | 'unknown-signer' | 'unsigned';

export interface WorldSummary {
  readonly type: 'planet' | 'moon' | number;
  readonly id: bigint;
  readonly timestamp: bigint;
  readonly roots: readonly Address[];
}

export interface ConfigInsight {
  readonly networkId: bigint;
  /** The controller's signature on this chunk (the controller is nwid >> 24). */
  readonly signature: SignatureCheck;
  /** Dictionary bytes received so far for this config update, and its total. */
  readonly received: number;
  readonly total: number;
  /** Once every chunk is in: the decoded config, or why it does not decode. */
  readonly config?: NetworkConfig;
  readonly configError?: DecodeError;
  /** The config's certificate of membership, checked against the controller. */
  readonly comSignature?: SignatureCheck;
}

export interface PacketDissection {
  readonly compressed: boolean;
  readonly verbCode: number;
  /** Tally name: the verb, with the verb answered for OK and ERROR, e.g. "OK(HELLO)". */
  readonly verb: string;
  readonly message: VerbMessage;
  /** FRAME, EXT_FRAME, MULTICAST_FRAME: what the Ethernet payload is. */
  readonly ethernet?: EthernetSummary;
  /** NETWORK_CONFIG and OK(NETWORK_CONFIG_REQUEST). */
  readonly config?: ConfigInsight;
  /** OK(HELLO): the worlds (planet/moons) the responder sent. */
  readonly worlds?: readonly WorldSummary[];
  readonly worldsError?: string;
  /** NETWORK_CONFIG_REQUEST: the member's metadata dictionary. */
  readonly metadata?: ConfigRequestMetadata;
  /** NETWORK_CREDENTIALS: each COM checked against its signer. */
  readonly comSignatures?: readonly SignatureCheck[];
  /** Addresses whose public identity this packet taught the keyring (HELLO, OK(WHOIS)). */
  readonly learned?: readonly Address[];
}

export type DissectStatus =
  | 'decoded'
  | 'failed'
  /** A piece of a fragmented packet that is not complete yet (or a duplicate piece). */
  | 'incomplete'
  /** Beacons and ignored datagrams: not packets. */
  | 'skipped';

export interface DissectedDatagram {
  /** 1-based position in the capture. */
  readonly index: number;
  /** As captured: seconds since the capture began (JSON) or since the epoch (pcap). */
  readonly t: number;
  readonly src: string;
  readonly dst: string;
  /** UDP payload length, bytes. */
  readonly length: number;
  readonly kind: DatagramKind;
  readonly status: DissectStatus;
  /** Beacons: the address announced. */
  readonly beaconAddress?: Address;
  /** Fragment datagrams. */
  readonly fragment?: FragmentHeader;
  /** Fragmented heads and fragments. */
  readonly reassembly?: Reassembly;
  /** Packets: the (reassembled) packet's header. */
  readonly header?: PacketHeader;
  readonly decoded?: PacketDissection;
  readonly failure?: DissectFailure;
}

export interface DissectSummary {
  datagrams: number;
  kinds: Record<DatagramKind, number>;
  /** Complete packets examined (unfragmented ones plus reassembled ones). */
  packets: number;
  decoded: number;
  failed: number;
  failures: Partial<Record<DissectFailureReason, number>>;
  /** By tally name (see PacketDissection.verb). */
  verbs: Record<string, number>;
  /** By cipher number, of decoded packets. */
  ciphers: Record<number, number>;
  compressed: number;
  fragments: { reassembled: number; duplicates: number; rejected: number; incomplete: number };
  /** Public identities learned from HELLO and OK(WHOIS) packets. */
  learnedIdentities: number;
}

/** The four roots of the planet compiled into 1.14 ("Earth"), public identities. */
export function defaultPlanetRootIdentities(): Identity[] {
  const decoded = World.decode(DEFAULT_PLANET);
  if (typeof decoded === 'string') throw new Error(`built-in default planet does not decode: ${decoded}`);
  return decoded.world.roots.map((r) => r.identity);
}

export function emptySummary(): DissectSummary {
  return {
    datagrams: 0, kinds: { beacon: 0, ignored: 0, fragment: 0, packet: 0 }, packets: 0, decoded: 0, failed: 0, failures: {},
    verbs: {}, ciphers: {}, compressed: 0, fragments: { reassembled: 0, duplicates: 0, rejected: 0, incomplete: 0 }, learnedIdentities: 0,
  };
}

interface ConfigAssembly {
  total: number;
  chunks: Map<number, Uint8Array>;
  received: number;
}

/**
 * Dissects datagrams one at a time, in capture order. Keeps reassembly and config-chunk state
 * between calls, and adds the public identities it meets (a HELLO whose MAC verifies with the
 * identity it carries, the identities of an OK(WHOIS)) to the keyring it was given, so later
 * packets of those peers can be dearmored too.
 */
export class Dissector {
  private readonly keyring: Keyring;
  private readonly summaryCounts = emptySummary();
  private readonly peek = createDatagramPeek();
  /** Per receiving endpoint (`ip/port`): a relayed packet appears once per hop. */
  private readonly reassemblers = new Map<string, Reassembler>();
  private readonly configs = new Map<string, ConfigAssembly>();
  private count = 0;

  constructor(keyring: Keyring) {
    this.keyring = keyring;
  }

  next(d: CapturedDatagram): DissectedDatagram {
    const s = this.summaryCounts;
    const base = { index: ++this.count, t: d.t, src: d.src, dst: d.dst, length: d.data.length };
    const kind = peekDatagram(d.data, this.peek);
    s.datagrams++;
    s.kinds[kind]++;
    const now = d.t * MS_PER_SECOND;

    if (kind === 'beacon') return { ...base, kind, status: 'skipped', beaconAddress: this.peek.source };
    if (kind === 'ignored') return { ...base, kind, status: 'skipped' };

    if (kind === 'fragment') {
      const fragment: FragmentHeader = {
        packetId: readPacketId(d.data), destination: this.peek.destination,
        number: this.peek.fragmentNumber, total: this.peek.fragmentTotal, hops: this.peek.hops,
      };
      const r = this.reassemblerFor(d.dst).addFragment(d.data, now);
      return this.afterReassembly({ ...base, kind, fragment }, r.status === 'complete' ? r.packet : undefined, r);
    }

    if (this.peek.fragmented) {
      const r = this.reassemblerFor(d.dst).addHead(d.data, now);
      return this.afterReassembly({ ...base, kind, header: headerOf(d.data) }, r.status === 'complete' ? r.packet : undefined, r);
    }
    return { ...base, kind, ...this.packet(Uint8Array.from(d.data)) };
  }

  /** Counts so far; `incomplete` counts packets still waiting for pieces. */
  summary(): DissectSummary {
    let incomplete = 0;
    for (const r of this.reassemblers.values()) incomplete += r.inFlight;
    return { ...this.summaryCounts, fragments: { ...this.summaryCounts.fragments, incomplete } };
  }

  private afterReassembly(
    base: Omit<DissectedDatagram, 'status'>,
    packet: Uint8Array | undefined,
    r: { status: Reassembly['state']; reason?: string },
  ): DissectedDatagram {
    const f = this.summaryCounts.fragments;
    if (packet) {
      f.reassembled++;
      return { ...base, reassembly: { state: 'complete', length: packet.length }, ...this.packet(packet) };
    }
    if (r.status === 'rejected') {
      f.rejected++;
      this.fail('bad-fragment');
      return { ...base, status: 'failed', reassembly: { state: 'rejected', reason: r.reason }, failure: { reason: 'bad-fragment', detail: r.reason } };
    }
    if (r.status === 'duplicate') f.duplicates++;
    return { ...base, status: 'incomplete', reassembly: { state: r.status } };
  }

  private reassemblerFor(endpoint: string): Reassembler {
    let r = this.reassemblers.get(endpoint);
    if (!r) {
      if (this.reassemblers.size >= MAX_REASSEMBLY_ENDPOINTS) this.reassemblers.delete(this.reassemblers.keys().next().value as string);
      r = new Reassembler();
      this.reassemblers.set(endpoint, r);
    }
    return r;
  }

  private fail(reason: DissectFailureReason): void {
    const s = this.summaryCounts;
    s.failed++;
    s.failures[reason] = (s.failures[reason] ?? 0) + 1;
  }

  /** A complete packet (a copy we may modify): dearmor, uncompress, decode. */
  private packet(p: Uint8Array): Pick<DissectedDatagram, 'status' | 'header' | 'decoded' | 'failure'> {
    const s = this.summaryCounts;
    s.packets++;
    const header = headerOf(p);
    const failed = (reason: DissectFailureReason, detail?: string) => {
      this.fail(reason);
      return { status: 'failed' as const, header, failure: detail === undefined ? { reason } : { reason, detail } };
    };

    const { key, learnedFromHello } = this.keyFor(p, header);
    if (!key) return failed('no-key', `no key for ${formatAddress(header.source)} / ${formatAddress(header.destination)}`);
    const r = dearmor(p, key);
    if (!r.ok) return failed(r.error === 'too-short' || r.error === 'too-long' ? 'bad-length' : r.error);
    const learned: Address[] = [];
    if (learnedFromHello) {
      this.keyring.add(learnedFromHello);
      learned.push(learnedFromHello.address);
    }

    const compressed = (p[PacketOffset.verb] & VerbFlag.compressed) !== 0;
    const u = uncompressPacket(p);
    if (!u.ok) return failed('bad-compression', u.error);
    const packet = u.packet;
    const verbCode = packet[PacketOffset.verb] & VerbFlag.verbMask;
    if (verbCode === Verb.HELLO) {
      const at = helloCryptFieldOffset(packet.subarray(PacketOffset.payload));
      if (at !== undefined) cryptField(packet, PacketOffset.payload + at, packet.length, key.salsaKey);
    }
    const m = decodeVerbPayload(verbCode, packet.subarray(PacketOffset.payload));
    if (!m.ok) return failed('bad-payload', `${verbName(verbCode) ?? `verb 0x${verbCode.toString(16)}`}: ${m.error}`);

    const message = m.value;
    const verb = tallyName(message);
    s.decoded++;
    s.verbs[verb] = (s.verbs[verb] ?? 0) + 1;
    s.ciphers[r.cipher] = (s.ciphers[r.cipher] ?? 0) + 1;
    if (compressed) s.compressed++;
    if (message.verb === 'OK' && message.value.inRe === 'WHOIS') {
      for (const id of message.value.value.identities) {
        if (!this.keyring.get(id.address)) {
          this.keyring.add(id);
          learned.push(id.address);
        }
      }
    }
    s.learnedIdentities += learned.length;
    const insight = this.insight(message, header);
    const decoded: PacketDissection = { compressed, verbCode, verb, message, ...insight, ...(learned.length > 0 ? { learned } : {}) };
    return { status: 'decoded', header, decoded };
  }

  /**
   * The key for a packet's pair. When the keyring lacks the sender's identity but knows the
   * receiver's secret, a HELLO (cipher 0, so its identity is readable before the MAC check)
   * offers the sender's identity: it is used, and kept by the caller only if the MAC verifies.
   */
  private keyFor(p: Uint8Array, h: PacketHeader): { key: PeerKey | undefined; learnedFromHello?: Identity } {
    const key = this.keyring.keyFor(h.source, h.destination);
    if (key || this.keyring.get(h.source)) return { key };
    const receiver = this.keyring.get(h.destination);
    const verbByte = p[PacketOffset.verb];
    if (!receiver?.hasPrivate || h.cipher !== 0 || verbByte !== Verb.HELLO) return { key: undefined };
    const d = deserializeIdentity(p, PacketOffset.payload + HELLO_IDENTITY_OFFSET);
    if (typeof d === 'string' || d.identity.address !== h.source) return { key: undefined };
    const raw = receiver.agree(d.identity);
    return raw ? { key: new PeerKey(raw), learnedFromHello: d.identity.publicOnly() } : { key: undefined };
  }

  /** What the payload carries, beyond the verb's own fields. */
  private insight(m: VerbMessage, h: PacketHeader): Partial<PacketDissection> {
    switch (m.verb) {
      case 'FRAME':
      case 'EXT_FRAME':
      case 'MULTICAST_FRAME':
        return { ethernet: summarizeEthernetPayload(m.value.etherType, m.value.payload) };
      case 'NETWORK_CONFIG':
        return { config: this.configChunk(m.value, h) };
      case 'NETWORK_CONFIG_REQUEST':
        return { metadata: decodeConfigRequestMetadata(m.value.metadata) };
      case 'NETWORK_CREDENTIALS':
        return m.value.coms.length > 0 ? { comSignatures: m.value.coms.map((c) => this.checkCom(c)) } : {};
      case 'OK':
        if (m.value.inRe === 'NETWORK_CONFIG_REQUEST') return { config: this.configChunk(m.value.value.chunk, h) };
        if (m.value.inRe === 'HELLO' && m.value.value.worlds && m.value.value.worlds.length > 0) return decodeWorlds(m.value.value.worlds);
        return {};
      default:
        return {};
    }
  }

  private checkCom(com: CertificateOfMembership): SignatureCheck {
    if (com.signedBy === 0) return 'unsigned';
    const signer = this.keyring.get(com.signedBy);
    if (!signer) return 'unknown-signer';
    return verifyCom(com, signer) ? 'valid' : 'invalid';
  }

  /** Check a config chunk's signature and collect chunks until the config is whole. */
  private configChunk(chunk: ConfigChunk, h: PacketHeader): ConfigInsight {
    const controller = this.keyring.get(controllerForNetwork(chunk.networkId));
    const signature: SignatureCheck = !chunk.signed ? 'unsigned' : !controller ? 'unknown-signer'
      : verifyConfigChunk(chunk, controller) ? 'valid' : 'invalid';
    const s = chunk.signed;
    const base = { networkId: chunk.networkId, signature };
    let whole: Uint8Array | undefined;
    let received = chunk.data.length;
    let total = chunk.data.length;
    if (s && !(s.chunkIndex === 0 && s.totalLength === chunk.data.length)) {
      total = s.totalLength;
      const id = `${formatAddress(h.destination)}/${chunk.networkId.toString(16)}/${s.updateId.toString(16)}`;
      let a = this.configs.get(id);
      if (!a) {
        if (this.configs.size >= MAX_CONFIG_ASSEMBLIES) this.configs.delete(this.configs.keys().next().value as string);
        a = { total: s.totalLength, chunks: new Map(), received: 0 };
        this.configs.set(id, a);
      }
      if (!a.chunks.has(s.chunkIndex) && a.total === s.totalLength) {
        a.chunks.set(s.chunkIndex, chunk.data.slice());
        a.received += chunk.data.length;
      }
      received = a.received;
      if (a.received >= a.total) {
        whole = assemble(a);
        this.configs.delete(id);
      }
    } else {
      whole = chunk.data;
    }
    if (!whole) return { ...base, received, total };
    const config = decodeNetworkConfig(whole);
    if (!config.ok) return { ...base, received, total, configError: config.error };
    const com = config.value.com;
    return { ...base, received, total, config: config.value, ...(com ? { comSignature: this.checkCom(com) } : {}) };
  }
}

/** Chunks keyed by their byte offset; overlapping or missing pieces leave zeros (the decoder then complains). */
function assemble(a: ConfigAssembly): Uint8Array {
  const out = new Uint8Array(a.total);
  for (const [at, data] of a.chunks) out.set(data.subarray(0, Math.max(0, a.total - at)), at);
  return out;
}

function decodeWorlds(bytes: Uint8Array): Pick<PacketDissection, 'worlds' | 'worldsError'> {
  const worlds: WorldSummary[] = [];
  let at = 0;
  while (at < bytes.length) {
    const d = World.decode(bytes.subarray(at));
    if (typeof d === 'string') return { worlds, worldsError: d };
    const w = d.world;
    worlds.push({
      type: w.isPlanet ? 'planet' : w.isMoon ? 'moon' : w.type, id: w.id, timestamp: w.timestamp,
      roots: w.roots.map((r) => r.identity.address),
    });
    at += d.length;
  }
  return { worlds };
}

function headerOf(p: Uint8Array): PacketHeader {
  return {
    packetId: readPacketId(p), destination: packetDestination(p), source: packetSource(p),
    hops: packetHops(p), cipher: packetCipher(p), fragmented: isFragmentedHead(p),
  };
}

/** "HELLO", "OK(HELLO)", "ERROR(NETWORK_CONFIG_REQUEST)", "OTHER(0x12)". */
export function tallyName(m: VerbMessage): string {
  switch (m.verb) {
    case 'OK': {
      if (m.value.inRe !== 'OTHER') return `OK(${m.value.inRe})`;
      return `OK(${codeName(m.value.value.inReVerb)})`;
    }
    case 'ERROR': return `ERROR(${codeName(m.value.inReVerb)})`;
    case 'OTHER': return codeName(m.code);
    default: return m.verb;
  }
}

function codeName(code: number): string {
  return verbName(code) ?? `0x${code.toString(16).padStart(2, '0')}`;
}

/** Dissect a whole capture. The keyring gains the identities met on the way (see Dissector). */
export function dissect(datagrams: Iterable<CapturedDatagram>, keyring: Keyring): { datagrams: DissectedDatagram[]; summary: DissectSummary } {
  const dissector = new Dissector(keyring);
  const out: DissectedDatagram[] = [];
  for (const d of datagrams) out.push(dissector.next(d));
  return { datagrams: out, summary: dissector.summary() };
}
