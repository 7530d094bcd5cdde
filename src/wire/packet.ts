// Datagram classification and packet-header access (docs/protocol/03-packet.md §1, §2, §7.1, §8).
//
// Everything here reads or writes the datagram bytes in place: the relay path peeks at the
// header, bumps the hop count and forwards the same buffer, with no allocation.

import { readAddress, writeAddress, type Address } from '../identity/address.ts';
import { readU64, writeU64 } from './byte-cursor.ts';
import {
  BEACON_LENGTH, CIPHER_SHIFT, FRAGMENT_INDICATOR, FragmentOffset, HeaderFlag,
  IGNORED_MAX_LENGTH, MIN_PACKET_LENGTH, PACKET_ID_LENGTH, PacketOffset, VerbFlag,
} from './constants.ts';

/** What one received UDP datagram is (docs/protocol/03-packet.md §1). */
export type DatagramKind = 'beacon' | 'ignored' | 'fragment' | 'packet';

/**
 * Classify a datagram in 1.14's order: 13 bytes → beacon; ≤ 16 → ignored (NAT-punch junk);
 * byte 13 == 0xff → fragment; ≥ 28 → packet head (complete or first piece); else ignored.
 */
export function classifyDatagram(d: Uint8Array): DatagramKind {
  const n = d.length;
  if (n === BEACON_LENGTH) return 'beacon';
  if (n <= IGNORED_MAX_LENGTH) return 'ignored';
  if (d[FragmentOffset.indicator] === FRAGMENT_INDICATOR) return 'fragment';
  if (n >= MIN_PACKET_LENGTH) return 'packet';
  return 'ignored';
}

/** Reusable result of peekDatagram; fields not meaningful for a kind are 0/false. */
export interface DatagramPeek {
  kind: DatagramKind;
  /** Heads and fragments: destination address. */
  destination: Address;
  /** Heads: source address. Beacons: the address they announce (bytes 8..12). */
  source: Address;
  /** Heads and fragments: hop count (0-7). */
  hops: number;
  /** Heads: cipher suite (0-7). */
  cipher: number;
  /** Heads: the fragmented flag (0x40) is set. */
  fragmented: boolean;
  /** Heads and fragments: packet ID as two unsigned 32-bit halves (wire bytes 0..3 and 4..7). */
  idHigh: number;
  idLow: number;
  /** Fragments: this piece's number (high nibble of byte 14 is fragmentTotal). */
  fragmentNumber: number;
  fragmentTotal: number;
}

export function createDatagramPeek(): DatagramPeek {
  return {
    kind: 'ignored', destination: 0, source: 0, hops: 0, cipher: 0, fragmented: false,
    idHigh: 0, idLow: 0, fragmentNumber: 0, fragmentTotal: 0,
  };
}

function readU32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

/**
 * Classify a datagram and fill `out` with its routing fields, without copying or allocating.
 * Returns the kind (also stored in out.kind).
 */
export function peekDatagram(d: Uint8Array, out: DatagramPeek): DatagramKind {
  const kind = classifyDatagram(d);
  out.kind = kind;
  out.destination = 0;
  out.source = 0;
  out.hops = 0;
  out.cipher = 0;
  out.fragmented = false;
  out.idHigh = 0;
  out.idLow = 0;
  out.fragmentNumber = 0;
  out.fragmentTotal = 0;
  switch (kind) {
    case 'beacon':
      out.source = readAddress(d, PacketOffset.destination);
      break;
    case 'fragment': {
      out.idHigh = readU32(d, 0);
      out.idLow = readU32(d, 4);
      out.destination = readAddress(d, FragmentOffset.destination);
      const counts = d[FragmentOffset.counts];
      out.fragmentTotal = counts >>> 4;
      out.fragmentNumber = counts & 0x0f;
      out.hops = d[FragmentOffset.hops] & HeaderFlag.hopsMask;
      break;
    }
    case 'packet': {
      out.idHigh = readU32(d, 0);
      out.idLow = readU32(d, 4);
      out.destination = readAddress(d, PacketOffset.destination);
      out.source = readAddress(d, PacketOffset.source);
      const flags = d[PacketOffset.flags];
      out.hops = flags & HeaderFlag.hopsMask;
      out.cipher = (flags & HeaderFlag.cipherMask) >>> CIPHER_SHIFT;
      out.fragmented = (flags & HeaderFlag.fragmented) !== 0;
      break;
    }
    case 'ignored':
      break;
  }
  return kind;
}

/**
 * Relay hop handling (docs/protocol/03-packet.md §8): if the datagram's hop count is below `maxHops`,
 * increment it in place (byte 18 for heads, byte 15 for fragments) and return true; otherwise
 * leave it untouched and return false (drop). Beacons and ignored datagrams return false.
 * With maxHops = 3 this is 1.14's rule; root.cpp's "drop when the incremented value exceeds
 * the limit" is the same test.
 */
export function incrementHopsForRelay(d: Uint8Array, maxHops: number): boolean {
  const kind = classifyDatagram(d);
  let at: number;
  if (kind === 'packet') at = PacketOffset.flags;
  else if (kind === 'fragment') at = FragmentOffset.hops;
  else return false;
  const hops = d[at] & HeaderFlag.hopsMask;
  if (hops >= maxHops || hops >= HeaderFlag.hopsMask) return false;
  d[at] = (d[at] & ~HeaderFlag.hopsMask) | (hops + 1);
  return true;
}

// ---------------------------------------------------------------------------------------------
// Header field access for complete packets (callers check length ≥ MIN_PACKET_LENGTH first).
// ---------------------------------------------------------------------------------------------

export function readPacketId(p: Uint8Array, off = PacketOffset.id): bigint {
  return readU64(p, off);
}

export function writePacketId(p: Uint8Array, id: bigint, off = PacketOffset.id): void {
  writeU64(p, off, id);
}

export function packetDestination(p: Uint8Array): Address {
  return readAddress(p, PacketOffset.destination);
}

export function packetSource(p: Uint8Array): Address {
  return readAddress(p, PacketOffset.source);
}

export function packetCipher(p: Uint8Array): number {
  return (p[PacketOffset.flags] & HeaderFlag.cipherMask) >>> CIPHER_SHIFT;
}

export function packetHops(p: Uint8Array): number {
  return p[PacketOffset.flags] & HeaderFlag.hopsMask;
}

export function isFragmentedHead(p: Uint8Array): boolean {
  return (p[PacketOffset.flags] & HeaderFlag.fragmented) !== 0;
}

/** Verb code (low 5 bits of byte 27); meaningful only on a dearmored packet. */
export function packetVerb(p: Uint8Array): number {
  return p[PacketOffset.verb] & VerbFlag.verbMask;
}

/** Compressed flag of byte 27; meaningful only on a dearmored packet. */
export function isPayloadCompressed(p: Uint8Array): boolean {
  return (p[PacketOffset.verb] & VerbFlag.compressed) !== 0;
}

export interface PacketFields {
  /** 8-byte packet ID: a bigint, or 8 bytes. */
  id: bigint | Uint8Array;
  destination: Address;
  source: Address;
  /** Verb code (0..0x1f); the compressed flag is set by compressPacket, not here. */
  verb: number;
  payload?: PacketPayload;
}

/**
 * A payload as one array, or as parts laid end to end (a verb header and the bytes it carries:
 * the packet is then built with one copy of each, without concatenating them first).
 */
export type PacketPayload = Uint8Array | readonly Uint8Array[];

/** The payload's length in bytes. */
export function payloadLength(payload: PacketPayload): number {
  if (payload instanceof Uint8Array) return payload.length;
  let n = 0;
  for (const part of payload) n += part.length;
  return n;
}

/** The payload's bytes into `out` at `at`. */
function writePayload(payload: PacketPayload, out: Uint8Array, at: number): void {
  if (payload instanceof Uint8Array) return out.set(payload, at);
  for (const part of payload) {
    out.set(part, at);
    at += part.length;
  }
}

/** A copy of the payload as one array. */
export function copyPayload(payload: PacketPayload): Uint8Array {
  const out = new Uint8Array(payloadLength(payload));
  writePayload(payload, out, 0);
  return out;
}

/**
 * A new plaintext packet: header with flags and MAC zeroed, verb byte, payload copied after it.
 * Ready for compressPacket / armor.
 */
export function newPacket(fields: PacketFields): Uint8Array {
  const payload = fields.payload ?? new Uint8Array(0);
  const p = new Uint8Array(MIN_PACKET_LENGTH + payloadLength(payload));
  writeHeader(p, fields.id, fields.destination, fields.source, fields.verb);
  writePayload(payload, p, PacketOffset.payload);
  return p;
}

/** Write bytes 0..27 (ID, addresses, flags 0, MAC 0, verb) of a plaintext packet. */
export function writeHeader(p: Uint8Array, id: bigint | Uint8Array, destination: Address, source: Address, verb: number): void {
  if (typeof id === 'bigint') writePacketId(p, id);
  else {
    if (id.length !== PACKET_ID_LENGTH) throw new RangeError('packet ID must be 8 bytes');
    p.set(id, PacketOffset.id);
  }
  writeAddress(destination, p, PacketOffset.destination);
  writeAddress(source, p, PacketOffset.source);
  p.fill(0, PacketOffset.flags, PacketOffset.verb);
  p[PacketOffset.verb] = verb & VerbFlag.verbMask;
}
