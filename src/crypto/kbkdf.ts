// KBKDF in counter mode with HMAC-SHA-384 (NIST SP 800-108), the way 1.14 derives the two
// AES-256 keys of AES-GMAC-SIV from a peer's 48-byte key (docs/protocol/02-crypto.md §5).

import { hmacSha384 } from './sha.ts';

/** Output length field of the KBKDF message: 384 bits (docs/protocol/02-crypto.md §5). */
const KBKDF_OUTPUT_BITS = 384;

/**
 * One KBKDF-HMAC-SHA-384 block (iteration counter 0, context 0) for a one-byte label.
 * Message: u32 counter 0 ‖ 'Z' 'T' ‖ label ‖ 0x00 separator ‖ context 0x00 ‖ u32 output bits.
 * Returns 48 bytes.
 */
export function kbkdfHmacSha384(key: Uint8Array, label: number): Uint8Array {
  const msg = new Uint8Array(13);
  // bytes 0..3: counter 0 (already zero)
  msg[4] = 0x5a; // 'Z'
  msg[5] = 0x54; // 'T'
  msg[6] = label;
  // msg[7] = 0x00 separator, msg[8] = 0x00 context
  new DataView(msg.buffer).setUint32(9, KBKDF_OUTPUT_BITS);
  return hmacSha384(key, msg);
}
