// The C implementation of packet armor (native/src/packet_crypto.c: Salsa20/12 + Poly1305 for
// ciphers 0/1, AES-GMAC-SIV on Node's own OpenSSL for cipher 3), loaded when `npm ci` /
// `npm run build:native` built it. Without it armor.ts uses the TypeScript implementation;
// both give the same bytes.
//
// Before first use the addon must reproduce the OK(ECHO) packet of
// docs/protocol/10-test-vectors.md §5.3 with ciphers 1 and 3 and dearmor both back, so a
// miscompiled build falls back to TypeScript instead of corrupting traffic.

import { CIPHER_SHIFT, Cipher, HeaderFlag, PacketOffset } from './constants.ts';
import { PeerKey } from './peer-key.ts';
import { nativeAddonPath, requireNativeAddon } from '../util/native-addon.ts';

/** An opaque handle to one peer's keyed AES-GMAC-SIV state; freed when it is collected. */
export type NativeAesContext = object & { readonly __nativeAes?: never };

export interface PacketCryptoBinding {
  /**
   * Ciphers 0/1 on a whole packet whose flag byte is final: armor (writes the MAC, encrypts if
   * `encrypted`; returns true) or dearmor (returns whether the MAC matched, then decrypts).
   * key: the peer key's first 32 bytes.
   */
  salsaPoly(packet: Uint8Array, key: Uint8Array, encrypted: boolean, armoring: boolean): boolean;
  aesContext(k0: Uint8Array, k1: Uint8Array): NativeAesContext;
  /** Cipher 3 in place; dearmor returns whether the packet is authentic (else it is unchanged). */
  aesGmacSiv(context: NativeAesContext, packet: Uint8Array, armoring: boolean): boolean;
  /**
   * The bare construction over any AAD (tests: the generic vectors). Encrypting: 8-byte iv in,
   * data encrypted in place, returns T. Decrypting: T in, returns whether authentic (data
   * decrypted in place, or unchanged when not).
   */
  aesGmacSivRaw(context: NativeAesContext, encrypting: true, iv: Uint8Array, aad: Uint8Array, data: Uint8Array): Uint8Array;
  aesGmacSivRaw(context: NativeAesContext, encrypting: false, tag: Uint8Array, aad: Uint8Array, data: Uint8Array): boolean;
  /** The OpenSSL the addon runs on (Node's own). */
  readonly openssl: string;
}

export type NativeArmorAvailability = { ok: true; openssl: string } | { ok: false; reason: string };

/** Where `npm run build:native` puts the addon. */
export const NATIVE_PACKET_CRYPTO_PATH = nativeAddonPath('packet_crypto');

/** 10-test-vectors.md: the A/B peer key, and §5.3's OK(ECHO) plaintext and its cipher 1 and 3 armor. */
const SELF_TEST = {
  peerKey: '3ff7065f955cf0b34dcbb83d225f0c58a84c8fe841569fd356918c1943b255c7b46d65bba329705e2b5b7dc1ede9138c',
  plaintext: 'fedcba9876543210f2a31403168e4df28b720000000000000000000308111111111111111170696e67',
  cipher1: 'fedcba9876543210f2a31403168e4df28b7288ddcb522628358fb25b807319f1fbce339d3f1b320ccf',
  cipher3: '1f4836a3c9e5528af2a31403168e4df28b72185c9de23a458d9abd5a4435bb7e8add01cc30ba58c612',
};

let loaded: { binding: PacketCryptoBinding } | { reason: string } | undefined;

function selfTest(b: PacketCryptoBinding): boolean {
  const key = new PeerKey(Buffer.from(SELF_TEST.peerKey, 'hex'));
  const aes = b.aesContext(key.k0, key.k1);
  const hex = (p: Uint8Array): string => Buffer.from(p).toString('hex');
  const plain = (flags: number): Uint8Array => {
    const p = Buffer.from(SELF_TEST.plaintext, 'hex');
    p[PacketOffset.flags] = flags;
    return p;
  };
  const p1 = plain((Cipher.poly1305Salsa2012 << CIPHER_SHIFT) | HeaderFlag.encrypted);
  b.salsaPoly(p1, key.salsaKey, true, true);
  const p3 = plain(Cipher.aesGmacSiv << CIPHER_SHIFT);
  b.aesGmacSiv(aes, p3, true);
  if (hex(p1) !== SELF_TEST.cipher1 || hex(p3) !== SELF_TEST.cipher3) return false;
  const tampered = Uint8Array.from(p3);
  tampered[tampered.length - 1] ^= 1;
  const ok = b.salsaPoly(p1, key.salsaKey, true, false) && b.aesGmacSiv(aes, p3, false) && !b.aesGmacSiv(aes, tampered, false);
  const payload = SELF_TEST.plaintext.slice(2 * PacketOffset.verb);
  return ok && hex(p1.subarray(PacketOffset.verb)) === payload && hex(p3.subarray(PacketOffset.verb)) === payload;
}

function load(): { binding: PacketCryptoBinding } | { reason: string } {
  if (loaded) return loaded;
  const r = requireNativeAddon<PacketCryptoBinding>('packet_crypto');
  if (!('binding' in r)) return (loaded = r);
  const { binding } = r;
  if (typeof binding.salsaPoly !== 'function' || typeof binding.aesGmacSiv !== 'function' || typeof binding.aesContext !== 'function') {
    return (loaded = { reason: 'addon mismatch: rebuild native/' });
  }
  try {
    if (!selfTest(binding)) return (loaded = { reason: 'addon failed its known-answer self-test: rebuild native/' });
  } catch (e) {
    return (loaded = { reason: `addon self-test threw: ${(e as Error).message}` });
  }
  return (loaded = { binding });
}

/** Whether the native packet crypto is built, loads and passes its self-test here (and why not). */
export function nativeArmorAvailability(): NativeArmorAvailability {
  const l = load();
  return 'binding' in l ? { ok: true, openssl: l.binding.openssl } : { ok: false, reason: l.reason };
}

/** The binding after its self-test; throws when it is unavailable (see nativeArmorAvailability). */
export function nativePacketCrypto(): PacketCryptoBinding {
  const l = load();
  if (!('binding' in l)) throw new Error(`native packet crypto unavailable: ${l.reason}`);
  return l.binding;
}
