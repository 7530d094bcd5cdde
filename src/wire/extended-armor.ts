// "Extended armor": the encrypted HELLO that root/root.cpp (root branch) understands but 1.14
// never sends (docs/protocol/03-packet.md §4). A cipher-0 packet with header flag 0x80 carries a 32-byte
// ephemeral X25519 public key at its end; bytes 19..end-32 (MAC, verb, payload) are AES-256-CTR
// encrypted under SHA-512(X25519(ephemeral, recipient))[0..32), with the initial counter block
// = packet bytes 0..11 followed by four zero bytes. Removing it leaves an ordinary cipher-0
// packet whose MAC was computed with the 0x80 flag set.

import { createCipheriv } from 'node:crypto';
import { agree, generateKeyPair } from '../crypto/c25519.ts';
import { Poly1305 } from '../crypto/poly1305.ts';
import { Salsa20 } from '../crypto/salsa20.ts';
import { mangleKey } from './armor.ts';
import { Cipher, CIPHER_SHIFT, HeaderFlag, MAC_LENGTH, MIN_PACKET_LENGTH, PacketOffset, PACKET_SALSA20_ROUNDS } from './constants.ts';
import type { PeerKey } from './peer-key.ts';

/** Length of the ephemeral public key appended to the packet. */
export const EXTENDED_ARMOR_KEY_LENGTH = 32;
/** The encrypted region starts at the MAC. */
const ENCRYPTED_START = PacketOffset.mac;
/** Bytes of the packet that start the CTR counter block (the rest is zero). */
const COUNTER_PREFIX_LENGTH = 12;

/** Cipher 0 with the 0x80 flag: the shape of an extended-armor packet. */
export function hasExtendedArmor(p: Uint8Array): boolean {
  const flags = p[PacketOffset.flags];
  return (flags & HeaderFlag.encrypted) !== 0 && ((flags & HeaderFlag.cipherMask) >>> CIPHER_SHIFT) === Cipher.poly1305None;
}

function aesCtr(key: Uint8Array, p: Uint8Array, start: number, end: number): void {
  const iv = new Uint8Array(16);
  iv.set(p.subarray(0, COUNTER_PREFIX_LENGTH));
  const c = createCipheriv('aes-256-ctr', key, iv);
  const out = c.update(p.subarray(start, end));
  p.set(out, start);
}

function ephemeralKey(myPrivateKey: Uint8Array, theirPublicX25519: Uint8Array): Uint8Array | null {
  const pub = new Uint8Array(64);
  pub.set(theirPublicX25519, 0);
  const k = agree(myPrivateKey, pub, 32);
  return k;
}

/**
 * Strip extended armor with our private key: returns the inner cipher-0 packet (a new array,
 * 32 bytes shorter), or null if the packet is too short or the key is unusable. Whether it was
 * genuine shows when the inner packet's MAC is checked.
 */
export function removeExtendedArmor(p: Uint8Array, myPrivateKey: Uint8Array): Uint8Array | null {
  if (p.length < MIN_PACKET_LENGTH + EXTENDED_ARMOR_KEY_LENGTH) return null;
  const end = p.length - EXTENDED_ARMOR_KEY_LENGTH;
  const key = ephemeralKey(myPrivateKey, p.subarray(end));
  if (!key) return null;
  const inner = p.slice(0, end);
  aesCtr(key, inner, ENCRYPTED_START, end);
  return inner;
}

/**
 * Armor a plaintext HELLO the way an extended-armor sender does (for tests and tools): cipher 0
 * with the 0x80 flag in the MAC, then the AES-CTR pass and the ephemeral key appended.
 */
export function applyExtendedArmor(p: Uint8Array, key: PeerKey, recipientPublicKey: Uint8Array): Uint8Array {
  p[PacketOffset.flags] = (p[PacketOffset.flags] & (HeaderFlag.hopsMask | HeaderFlag.fragmented)) | HeaderFlag.encrypted;
  const mangled = new Uint8Array(32);
  mangleKey(key.key, p, mangled);
  const polyKey = new Uint8Array(32);
  new Salsa20(mangled, p.subarray(PacketOffset.id, PacketOffset.id + 8), PACKET_SALSA20_ROUNDS).keystream(polyKey, 0, 32);
  const tag = new Uint8Array(16);
  new Poly1305().mac(polyKey, 0, p, PacketOffset.verb, p.length, tag, 0);
  p.set(tag.subarray(0, MAC_LENGTH), PacketOffset.mac);

  const eph = generateKeyPair();
  const k = ephemeralKey(eph.privateKey, recipientPublicKey.subarray(0, 32));
  if (!k) throw new Error('recipient key unusable');
  const out = new Uint8Array(p.length + EXTENDED_ARMOR_KEY_LENGTH);
  out.set(p);
  aesCtr(k, out, ENCRYPTED_START, p.length);
  out.set(eph.publicKey.subarray(0, 32), p.length);
  return out;
}
