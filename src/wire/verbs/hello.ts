// HELLO (verb 0x01, docs/protocol/04-verbs.md §4): identity announcement.
//
// The moon list at the end (from the moon count on) is obscured with cryptField by the packet
// layer. encodeHello returns it in plaintext and reports where it starts; decodeHello expects it
// already de-obscured. helloCryptFieldOffset finds the region in a received payload (everything
// before it is cleartext).

import type { Identity } from '../../identity/identity.ts';
import { ByteReader, ByteWriter } from '../byte-cursor.ts';
import { HELLO_MOON_ENTRY_LENGTH, PacketOffset, Verb, WorldType } from '../constants.ts';
import { cryptField } from '../crypt-field.ts';
import type { Decoded } from '../decode-result.ts';
import { readInetAddress, writeInetAddress, type InetAddress } from '../inet-address.ts';
import { readIdentity, result } from './common.ts';

/** Payload offset of the sender's identity (after version bytes and timestamp). */
export const HELLO_IDENTITY_OFFSET = 13;
/** Planet world ID + timestamp, bytes. */
const PLANET_FIELDS_LENGTH = 16;

export interface HelloMoon {
  /** World type; 1.14 only acts on WorldType.moon (127). */
  readonly worldType: number;
  readonly id: bigint;
  /** 0 for a moon the sender wants but does not have yet. */
  readonly timestamp: bigint;
}

export interface Hello {
  readonly protocolVersion: number;
  readonly majorVersion: number;
  readonly minorVersion: number;
  /** u16 */
  readonly revision: number;
  /** Sender's clock in ms, echoed in OK(HELLO). */
  readonly timestamp: bigint;
  readonly identity: Identity;
  /** The physical address the sender sent to; absent in HELLOs from old senders. */
  readonly destination?: InetAddress;
  /** Present only with `destination`. */
  readonly planet?: { readonly id: bigint; readonly timestamp: bigint };
  /**
   * Present only with `planet`; 1.14 always sends the list (possibly empty). Decoding keeps the
   * moon (type 127) entries only; entries of other types are skipped, as 1.14 does.
   */
  readonly moons?: readonly HelloMoon[];
}

export interface EncodedHello {
  readonly payload: Uint8Array;
  /** Payload offset where the cryptField region (the moon count) starts; undefined without a moon list. */
  readonly cryptFieldOffset: number | undefined;
}

export function encodeHelloWithCryptFieldOffset(h: Hello): EncodedHello {
  const w = new ByteWriter(128 + HELLO_MOON_ENTRY_LENGTH * (h.moons?.length ?? 0));
  w.u8(h.protocolVersion).u8(h.majorVersion).u8(h.minorVersion).u16(h.revision).u64(h.timestamp);
  w.bytes(h.identity.serialize(false));
  let cryptFieldOffset: number | undefined;
  if (h.destination) {
    writeInetAddress(w, h.destination);
    if (h.planet) {
      w.u64(h.planet.id).u64(h.planet.timestamp);
      if (h.moons) {
        cryptFieldOffset = w.length;
        w.u16(h.moons.length);
        for (const m of h.moons) w.u8(m.worldType).u64(m.id).u64(m.timestamp);
      }
    }
  }
  return { payload: w.finish(), cryptFieldOffset };
}

export function encodeHello(h: Hello): Uint8Array {
  return encodeHelloWithCryptFieldOffset(h).payload;
}

/**
 * Payload offset of the obscured region of a received HELLO, or undefined if nothing follows the
 * planet fields (or the payload is malformed before that point). Reads only cleartext fields.
 */
export function helloCryptFieldOffset(payload: Uint8Array, sender?: Identity): number | undefined {
  const r = new ByteReader(payload, HELLO_IDENTITY_OFFSET);
  readIdentity(r, sender);
  if (r.failed || r.remaining === 0) return undefined;
  readInetAddress(r);
  if (r.failed || r.remaining < PLANET_FIELDS_LENGTH) return undefined;
  r.skip(PLANET_FIELDS_LENGTH);
  return r.remaining > 0 ? r.offset : undefined;
}

/** Where a received HELLO's obscured moon region is revealed: its packet and the peer key. */
export interface HelloReveal {
  /** The whole dearmored packet; the payload decoded is its view from PacketOffset.payload. */
  packet: Uint8Array;
  /** The peer key (its first 32 bytes key cryptField). */
  key: Uint8Array;
}

/**
 * Decode a HELLO payload. Fields after the identity are optional, as _doHELLO reads them: the
 * address if any byte remains, the planet fields if 16 bytes remain, the moon list if 2 bytes
 * remain. A moon entry is read while its type byte is there; a moon (type 127) entry also needs
 * its 16 bytes, other entries are skipped even if cut short at the end. `sender`: the identity
 * the caller expects (not decoded again when it is that). The moon region must be de-obscured
 * already, unless `reveal` is given: then it is revealed in place when reached (the region
 * helloCryptFieldOffset finds), saving a second pass over the payload.
 */
export function decodeHello(payload: Uint8Array, sender?: Identity, reveal?: HelloReveal): Decoded<Hello> {
  const r = new ByteReader(payload);
  const protocolVersion = r.u8();
  const majorVersion = r.u8();
  const minorVersion = r.u8();
  const revision = r.u16();
  const timestamp = r.u64();
  const identity = readIdentity(r, sender);
  if (r.failed || !identity) return { ok: false, error: r.error ?? 'too-short' };
  const hello: { -readonly [K in keyof Hello]: Hello[K] } = { protocolVersion, majorVersion, minorVersion, revision, timestamp, identity };
  if (r.remaining > 0) {
    hello.destination = readInetAddress(r);
    if (r.remaining >= PLANET_FIELDS_LENGTH) {
      hello.planet = { id: r.u64(), timestamp: r.u64() };
      if (reveal && r.remaining > 0) cryptField(reveal.packet, PacketOffset.payload + r.offset, reveal.packet.length, reveal.key);
      if (r.remaining >= 2) {
        const count = r.u16();
        const moons: HelloMoon[] = [];
        for (let i = 0; i < count && !r.failed; i++) {
          const worldType = r.u8();
          if (worldType === WorldType.moon) {
            const id = r.u64();
            const ts = r.u64();
            if (!r.failed) moons.push({ worldType, id, timestamp: ts });
          } else {
            r.offset = Math.min(r.end, r.offset + HELLO_MOON_ENTRY_LENGTH - 1);
          }
        }
        hello.moons = moons;
      }
    }
  }
  return result(r, hello);
}

// ---------------------------------------------------------------------------------------------
// OK(HELLO) (docs/protocol/04-verbs.md §4.1)
// ---------------------------------------------------------------------------------------------

export interface OkHello {
  /** The HELLO's packet ID, exactly as seen on the wire. */
  readonly inRePacketId: bigint;
  /** Timestamp copied from the HELLO. */
  readonly timestamp: bigint;
  readonly protocolVersion: number;
  readonly majorVersion: number;
  readonly minorVersion: number;
  /** u16 */
  readonly revision: number;
  /** The physical source address the HELLO came from (optional for old responders). */
  readonly externalAddress?: InetAddress;
  /**
   * Concatenated serialized worlds (docs/protocol/05-world-moons.md), as raw bytes (a view into the payload
   * when decoded). Present (possibly empty) when the responder sent the length field.
   */
  readonly worlds?: Uint8Array;
}

export function encodeOkHello(ok: OkHello): Uint8Array {
  const w = new ByteWriter(64 + (ok.worlds?.length ?? 0));
  w.u8(Verb.HELLO).u64(ok.inRePacketId);
  w.u64(ok.timestamp).u8(ok.protocolVersion).u8(ok.majorVersion).u8(ok.minorVersion).u16(ok.revision);
  if (ok.externalAddress) {
    writeInetAddress(w, ok.externalAddress);
    if (ok.worlds) w.u16(ok.worlds.length).bytes(ok.worlds);
  }
  return w.finishInPlace();
}

/**
 * Decode a whole OK(HELLO) payload (in-re header included). As in _doOK the address is read if
 * any byte remains and the world section if its length field is there; a world section longer
 * than the packet is 'too-short'.
 */
export function decodeOkHello(payload: Uint8Array): Decoded<OkHello> {
  const r = new ByteReader(payload);
  r.skip(1); // in-re verb
  const inRePacketId = r.u64();
  const timestamp = r.u64();
  const protocolVersion = r.u8();
  const majorVersion = r.u8();
  const minorVersion = r.u8();
  const revision = r.u16();
  const ok: { -readonly [K in keyof OkHello]: OkHello[K] } = { inRePacketId, timestamp, protocolVersion, majorVersion, minorVersion, revision };
  if (!r.failed && r.remaining > 0) {
    ok.externalAddress = readInetAddress(r);
    if (r.remaining >= 2) ok.worlds = r.view(r.u16());
  }
  return result(r, ok);
}
