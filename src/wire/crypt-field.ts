// cryptField: the XOR obscuring of HELLO's moon list (02-crypto.md §8, 04-verbs.md §4).
// Salsa20/12 keyed with the unmangled peerKey[0..32), nonce = packet ID with the low 3 bits of
// its last byte cleared, keystream from offset 0. The same call obscures and reveals. The
// sender applies it before armor; the receiver after a successful dearmor.

import { Salsa20 } from '../crypto/salsa20.ts';
import { PACKET_SALSA20_ROUNDS, PacketOffset } from './constants.ts';

const salsa = new Salsa20(new Uint8Array(32), new Uint8Array(8), PACKET_SALSA20_ROUNDS);
const nonce = new Uint8Array(8);

/**
 * XOR packet[start..end) with the cryptField keystream. `key` is the peer key (48 or 32 bytes;
 * its first 32 are used). Out-of-range bounds are clamped to the packet.
 */
export function cryptField(packet: Uint8Array, start: number, end: number, key: Uint8Array): void {
  for (let i = 0; i < 8; i++) nonce[i] = packet[PacketOffset.id + i];
  nonce[7] &= 0xf8;
  const from = Math.max(0, start);
  const to = Math.min(packet.length, end);
  if (to <= from) return;
  salsa.init(key, 0, nonce, 0);
  salsa.crypt(packet, from, packet, from, to - from);
}
