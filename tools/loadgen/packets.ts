// Packets the load generator sends, built once with the wire layer and resent as they are (the
// root keeps no replay state for these verbs, so a resent HELLO or WHOIS costs it exactly what
// a fresh one would), and the little it reads from what comes back.

import { randomBytes } from 'node:crypto';
import { readAddress, type Address } from '../../src/identity/address.ts';
import type { Identity } from '../../src/identity/identity.ts';
import { armor, dearmor, type ArmorCipher } from '../../src/wire/armor.ts';
import { uncompressPacket } from '../../src/wire/compression.ts';
import { Cipher, HeaderFlag, MIN_PACKET_LENGTH, PacketOffset, Verb, VerbFlag } from '../../src/wire/constants.ts';
import { cryptField } from '../../src/wire/crypt-field.ts';
import type { IpAddress } from '../../src/wire/inet-address.ts';
import { newPacket, readPacketId } from '../../src/wire/packet.ts';
import type { PeerKey } from '../../src/wire/peer-key.ts';
import { encodeEcho } from '../../src/wire/verbs/echo.ts';
import { encodeHelloWithCryptFieldOffset, type HelloMoon } from '../../src/wire/verbs/hello.ts';
import { decodeOkHeader } from '../../src/wire/verbs/ok.ts';
import { encodeWhois } from '../../src/wire/verbs/whois.ts';

/** An armored packet ready to send and the packet ID a reply will quote. */
export interface Prepared {
  readonly bytes: Buffer;
  readonly packetId: bigint;
}

function newId(): Uint8Array {
  return new Uint8Array(randomBytes(8));
}

export interface HelloSpec {
  /** The sender's public identity (the address in the header must be its own). */
  identity: Identity;
  key: PeerKey;
  /** The root's address. */
  to: Address;
  /** Where the HELLO is sent (HELLO names the physical destination). */
  via: IpAddress;
  /** Advertised protocol version: 12 (1.14) makes a root answer with AES-GMAC-SIV, 11 with Salsa20/12. */
  protocolVersion: number;
  moons?: HelloMoon[];
}

/** A HELLO as 1.14 sends it: cipher 0, the moon list obscured with cryptField. */
export function helloPacket(h: HelloSpec): Prepared {
  const { payload, cryptFieldOffset } = encodeHelloWithCryptFieldOffset({
    protocolVersion: h.protocolVersion, majorVersion: 1, minorVersion: 14, revision: 1,
    timestamp: BigInt(Date.now()),
    identity: h.identity.publicOnly(),
    destination: h.via,
    planet: { id: 0n, timestamp: 0n },
    moons: h.moons ?? [],
  });
  const p = newPacket({ id: newId(), destination: h.to, source: h.identity.address, verb: Verb.HELLO, payload });
  if (cryptFieldOffset !== undefined) cryptField(p, PacketOffset.payload + cryptFieldOffset, p.length, h.key.salsaKey);
  armor(p, h.key, Cipher.poly1305None);
  return { bytes: Buffer.from(p.buffer, p.byteOffset, p.length), packetId: readPacketId(p) };
}

/** Any verb from `source` to `to`, armored (Salsa20/12 by default, as 1.14 sends to a root). */
export function requestPacket(source: Address, to: Address, key: PeerKey, verb: number, payload: Uint8Array, cipher: ArmorCipher = Cipher.poly1305Salsa2012): Prepared {
  const p = newPacket({ id: newId(), destination: to, source, verb, payload });
  armor(p, key, cipher);
  return { bytes: Buffer.from(p.buffer, p.byteOffset, p.length), packetId: readPacketId(p) };
}

export function whoisPacket(source: Address, to: Address, key: PeerKey, asked: Address): Prepared {
  return requestPacket(source, to, key, Verb.WHOIS, encodeWhois({ addresses: [asked] }));
}

export function echoPacket(source: Address, to: Address, key: PeerKey): Prepared {
  return requestPacket(source, to, key, Verb.ECHO, encodeEcho({ payload: new Uint8Array(randomBytes(8)) }));
}

// ---------------------------------------------------------------------------------------------
// Relayed packets
// ---------------------------------------------------------------------------------------------

/**
 * Payload layout of a relayed probe (cleartext: a root never opens packets it relays, and the
 * receiving simulated leaf reads it without a key): stage number (u32), sequence (u32), send time
 * (f64, performance.now() in the sending process).
 */
export const RELAY_STAGE_OFFSET = PacketOffset.payload;
export const RELAY_SEQ_OFFSET = PacketOffset.payload + 4;
export const RELAY_TIME_OFFSET = PacketOffset.payload + 8;
export const RELAY_MIN_LENGTH = PacketOffset.payload + 16;

/**
 * A FRAME-sized packet from `source` to `destination` with hops 0 and the cipher bits of a
 * Salsa20/12 packet; its MAC is not valid (nothing on the relay path checks it). Each send copies
 * it and stamps stage, sequence and time.
 */
export function relayTemplate(source: Address, destination: Address, length: number): Buffer {
  const p = newPacket({ id: newId(), destination, source, verb: Verb.FRAME, payload: new Uint8Array(Math.max(RELAY_MIN_LENGTH, length) - MIN_PACKET_LENGTH) });
  p[PacketOffset.flags] = (Cipher.poly1305Salsa2012 << 3) | HeaderFlag.encrypted;
  return Buffer.from(p.buffer, p.byteOffset, p.length);
}

// ---------------------------------------------------------------------------------------------
// Reading what comes back
// ---------------------------------------------------------------------------------------------

/** Header fields of a received datagram, or undefined for fragments and junk. */
export function headerOf(d: Uint8Array): { destination: Address; source: Address; hops: number } | undefined {
  if (d.length < MIN_PACKET_LENGTH || d[13] === 0xff) return undefined;
  return {
    destination: readAddress(d, PacketOffset.destination),
    source: readAddress(d, PacketOffset.source),
    hops: d[PacketOffset.flags] & HeaderFlag.hopsMask,
  };
}

/**
 * Open a reply with the peer's key and check that it is an OK for `inReVerb` quoting
 * `packetId` (the verify mode: it costs the load generator a dearmor per reply).
 */
export function isOkFor(d: Uint8Array, key: PeerKey, inReVerb: number, packetId: bigint): boolean {
  const p = Uint8Array.from(d);
  if (!dearmor(p, key).ok) return false;
  const u = uncompressPacket(p);
  if (!u.ok) return false;
  if ((u.packet[PacketOffset.verb] & VerbFlag.verbMask) !== Verb.OK) return false;
  const h = decodeOkHeader(u.packet.subarray(PacketOffset.payload));
  return h.ok && h.value.inReVerb === inReVerb && h.value.inRePacketId === packetId;
}
