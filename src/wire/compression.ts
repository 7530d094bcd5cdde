// Payload compression of plaintext packets (02-crypto.md §9, 03-packet.md §6): the LZ4 block
// replaces bytes 28..end and bit 0x80 of the verb byte says so.
//   sender:   compress only payloads of more than 64 bytes, and only if strictly shorter;
//   receiver: after dearmor, decompress when flagged, output limit 10024 − 28 bytes.

import {
  COMPRESS_MIN_PAYLOAD_EXCLUSIVE, MAX_PACKET_LENGTH, MAX_UNCOMPRESSED_PAYLOAD, MIN_PACKET_LENGTH, PacketOffset, VerbFlag,
} from './constants.ts';
import { lz4CompressBlock, lz4DecompressBlock, type Lz4Error } from './lz4.ts';

const scratch = new Uint8Array(MAX_PACKET_LENGTH);

/**
 * Packet::compress: returns a new, shorter packet with the compressed flag set, or the same
 * array with the flag cleared when compression does not pay (payload ≤ 64 bytes or no gain).
 * Apply before armor.
 */
export function compressPacket(p: Uint8Array): Uint8Array {
  const payloadLength = p.length - PacketOffset.payload;
  if (p.length >= MIN_PACKET_LENGTH && payloadLength > COMPRESS_MIN_PAYLOAD_EXCLUSIVE && (p[PacketOffset.verb] & VerbFlag.compressed) === 0) {
    // a capacity of payloadLength − 1 asks for "strictly shorter or nothing"
    const n = lz4CompressBlock(p, PacketOffset.payload, p.length, scratch, 0, Math.min(scratch.length, payloadLength - 1));
    if (n > 0) {
      const out = new Uint8Array(PacketOffset.payload + n);
      out.set(p.subarray(0, PacketOffset.payload), 0);
      out.set(scratch.subarray(0, n), PacketOffset.payload);
      out[PacketOffset.verb] |= VerbFlag.compressed;
      return out;
    }
  }
  if (p.length > PacketOffset.verb) p[PacketOffset.verb] &= ~VerbFlag.compressed;
  return p;
}

export type UncompressError = 'too-short' | 'empty-output' | Lz4Error;
export type UncompressResult = { ok: true; packet: Uint8Array } | { ok: false; error: UncompressError };

/**
 * Packet::uncompress, for a dearmored packet: if the compressed flag is set, decode the LZ4
 * payload into a new packet with the flag cleared; otherwise return the packet as is.
 * A compressed flag with no payload bytes is accepted (flag cleared in place); a payload that
 * decodes to zero bytes or more than 10024 − 28 is rejected. Never throws.
 */
export function uncompressPacket(p: Uint8Array): UncompressResult {
  if (p.length < MIN_PACKET_LENGTH) return { ok: false, error: 'too-short' };
  if ((p[PacketOffset.verb] & VerbFlag.compressed) === 0) return { ok: true, packet: p };
  if (p.length === PacketOffset.payload) {
    p[PacketOffset.verb] &= ~VerbFlag.compressed;
    return { ok: true, packet: p };
  }
  const r = lz4DecompressBlock(p, PacketOffset.payload, p.length, scratch, 0, MAX_UNCOMPRESSED_PAYLOAD);
  if (!r.ok) return r;
  if (r.length === 0) return { ok: false, error: 'empty-output' };
  const out = new Uint8Array(PacketOffset.payload + r.length);
  out.set(p.subarray(0, PacketOffset.payload), 0);
  out.set(scratch.subarray(0, r.length), PacketOffset.payload);
  out[PacketOffset.verb] &= ~VerbFlag.compressed;
  return { ok: true, packet: out };
}
