// Packet armor and dearmor (docs/protocol/03-packet.md §5): cipher 0 (Poly1305 only), 1 (Salsa20/12 +
// Poly1305) and 3 (AES-GMAC-SIV). Both work in place on one complete packet (head and
// fragments already reassembled), from byte 0 to the end of the array.
//
// Two implementations do the crypto and give the same bytes: the C addon (native-armor.ts:
// Salsa20/12 and Poly1305 in C, AES-GMAC-SIV on Node's OpenSSL) and the TypeScript below.
// armor/dearmor use the addon when it is built and passes its self-test, else TypeScript;
// ZTROOT_ARMOR=js in the environment, or useArmor('js'), pins TypeScript (tests, benchmarks).
//
// Hot path: the Salsa20, Poly1305 and scratch buffers below are module-owned and reused for
// every packet (JavaScript runs one packet at a time per thread, so sharing is safe).

import { Poly1305 } from '../crypto/poly1305.ts';
import { Salsa20 } from '../crypto/salsa20.ts';
import {
  AAD_LENGTH, AES_GMAC_SIV_MIN_PROTO_VERSION, CIPHER_SHIFT, Cipher, HeaderFlag, MAC_LENGTH, MAX_PACKET_LENGTH,
  MIN_PACKET_LENGTH, PACKET_SALSA20_ROUNDS, PacketOffset, SALSA_KEY_LENGTH, Verb,
} from './constants.ts';
import { nativeArmorAvailability, nativePacketCrypto, type NativeAesContext } from './native-armor.ts';
import type { PeerKey } from './peer-key.ts';

/** The suites this module can armor and dearmor. */
export type ArmorCipher = typeof Cipher.poly1305None | typeof Cipher.poly1305Salsa2012 | typeof Cipher.aesGmacSiv;

export type DearmorError =
  | 'too-short' // below the 28-byte header
  | 'too-long' // above ZT_PROTO_MAX_PACKET_LENGTH
  | 'unsupported-cipher' // 2 (trusted path: needs path knowledge, not a key) or 4-7
  | 'bad-mac'; // authentication failed (packet left unchanged)

export type DearmorResult = { readonly ok: true; readonly cipher: ArmorCipher } | { readonly ok: false; readonly error: DearmorError };

// Results are shared constants so dearmor allocates nothing.
const OK_BY_CIPHER: Record<ArmorCipher, DearmorResult> = {
  0: Object.freeze({ ok: true, cipher: 0 }),
  1: Object.freeze({ ok: true, cipher: 1 }),
  3: Object.freeze({ ok: true, cipher: 3 }),
};
const FAIL: Record<DearmorError, DearmorResult> = {
  'too-short': Object.freeze({ ok: false, error: 'too-short' }),
  'too-long': Object.freeze({ ok: false, error: 'too-long' }),
  'unsupported-cipher': Object.freeze({ ok: false, error: 'unsupported-cipher' }),
  'bad-mac': Object.freeze({ ok: false, error: 'bad-mac' }),
};

/**
 * Which suite 1.14 sends (docs/protocol/03-packet.md §4): HELLO always 0; otherwise 3 to peers that
 * advertised protocol ≥ 12, else 1.
 */
export function cipherFor(verb: number, peerProtocolVersion: number): ArmorCipher {
  if (verb === Verb.HELLO) return Cipher.poly1305None;
  return peerProtocolVersion >= AES_GMAC_SIV_MIN_PROTO_VERSION ? Cipher.aesGmacSiv : Cipher.poly1305Salsa2012;
}

const salsa = new Salsa20(new Uint8Array(32), new Uint8Array(8), PACKET_SALSA20_ROUNDS);
const poly = new Poly1305();
const mangledKey = new Uint8Array(SALSA_KEY_LENGTH);
const polyKey = new Uint8Array(32);
const mac = new Uint8Array(16);
const aad = new Uint8Array(AAD_LENGTH);
const tag = new Uint8Array(16);
const iv = new Uint8Array(8);
const plaintext = new Uint8Array(MAX_PACKET_LENGTH);

/**
 * The per-packet Salsa20 key (docs/protocol/03-packet.md §5.1): peerKey[0..32) XOR packet ID, addresses,
 * flags without hop bits, and the packet length (little-endian) in bytes 19..20.
 */
export function mangleKey(key: Uint8Array, p: Uint8Array, out: Uint8Array): void {
  for (let i = 0; i < PacketOffset.flags; i++) out[i] = key[i] ^ p[i];
  out[18] = key[18] ^ (p[PacketOffset.flags] & ~HeaderFlag.hopsMask & 0xff);
  const len = p.length;
  out[19] = key[19] ^ (len & 0xff);
  out[20] = key[20] ^ ((len >>> 8) & 0xff);
  for (let i = 21; i < SALSA_KEY_LENGTH; i++) out[i] = key[i];
}

/** Key Salsa20/12 for this packet and take block 0's first 32 bytes as the Poly1305 key. */
function startSalsa(key: PeerKey, p: Uint8Array): void {
  mangleKey(key.key, p, mangledKey);
  salsa.init(mangledKey, 0, p, PacketOffset.id);
  salsa.keystream(polyKey, 0, 32); // consumes all of block 0; payload uses blocks 1..
}

function computeMac(p: Uint8Array): void {
  poly.mac(polyKey, 0, p, PacketOffset.verb, p.length, mac, 0);
}

/** Copy header bytes 8..18 (dest, source, flags) with the hop bits cleared into `aad`. */
function loadAad(p: Uint8Array): void {
  for (let i = 0; i < AAD_LENGTH; i++) aad[i] = p[PacketOffset.destination + i];
  aad[AAD_LENGTH - 1] &= ~HeaderFlag.hopsMask;
}

/**
 * The crypto of armor/dearmor on a packet whose length is checked and whose flag byte is final.
 * Armoring returns true; dearmoring returns whether the packet is authentic, and leaves it
 * unchanged when it is not.
 */
interface ArmorCore {
  /** Ciphers 0 (encrypted false) and 1 (docs/protocol/03-packet.md §5.2). */
  salsaPoly(p: Uint8Array, key: PeerKey, encrypted: boolean, armoring: boolean): boolean;
  /** Cipher 3 (docs/protocol/03-packet.md §5.3). */
  aesGmacSiv(p: Uint8Array, key: PeerKey, armoring: boolean): boolean;
}

const typescriptCore: ArmorCore = {
  salsaPoly(p, key, encrypted, armoring) {
    startSalsa(key, p);
    if (armoring) {
      if (encrypted) salsa.crypt(p, PacketOffset.verb, p, PacketOffset.verb, p.length - PacketOffset.verb);
      computeMac(p);
      for (let i = 0; i < MAC_LENGTH; i++) p[PacketOffset.mac + i] = mac[i];
      return true;
    }
    computeMac(p);
    let diff = 0;
    for (let i = 0; i < MAC_LENGTH; i++) diff |= mac[i] ^ p[PacketOffset.mac + i];
    if (diff !== 0) return false;
    if (encrypted) salsa.crypt(p, PacketOffset.verb, p, PacketOffset.verb, p.length - PacketOffset.verb);
    return true;
  },
  aesGmacSiv(p, key, armoring) {
    loadAad(p);
    const n = p.length - PacketOffset.verb;
    if (armoring) {
      for (let i = 0; i < 8; i++) iv[i] = p[i];
      key.aes.encrypt(iv, 0, aad, 0, AAD_LENGTH, p, PacketOffset.verb, n, tag, 0);
      for (let i = 0; i < 8; i++) {
        p[PacketOffset.id + i] = tag[i];
        p[PacketOffset.mac + i] = tag[8 + i];
      }
      return true;
    }
    for (let i = 0; i < 8; i++) {
      tag[i] = p[PacketOffset.id + i];
      tag[8 + i] = p[PacketOffset.mac + i];
    }
    if (!key.aes.decrypt(tag, 0, aad, 0, AAD_LENGTH, p, PacketOffset.verb, n, plaintext, 0)) return false;
    p.set(plaintext.subarray(0, n), PacketOffset.verb);
    return true;
  },
};

/** The C addon's core (native-armor.ts); each peer key's AES state is made on first use. */
function nativeCore(): ArmorCore {
  const b = nativePacketCrypto();
  const aesOf = (key: PeerKey): NativeAesContext => (key.nativeAes ??= b.aesContext(key.k0, key.k1));
  return {
    salsaPoly: (p, key, encrypted, armoring) => b.salsaPoly(p, key.salsaKey, encrypted, armoring),
    aesGmacSiv: (p, key, armoring) => b.aesGmacSiv(aesOf(key), p, armoring),
  };
}

export type ArmorImplementation = 'native' | 'js';

/** Environment variable that pins the TypeScript implementation in every thread when set to `js`. */
export const ARMOR_ENV = 'ZTROOT_ARMOR';

let chosenName: ArmorImplementation | undefined;
/** Until one is chosen, the first call picks it and replaces this placeholder. */
let core: ArmorCore = {
  salsaPoly: (...a) => (chooseDefault(), core.salsaPoly(...a)),
  aesGmacSiv: (...a) => (chooseDefault(), core.aesGmacSiv(...a)),
};

function chooseDefault(): void {
  useArmor(process.env[ARMOR_ENV] === 'js' ? 'js' : 'auto');
}

/**
 * Pick the implementation armor/dearmor use in this thread: 'auto' (the default) the addon
 * when available, else TypeScript; 'native' throws if the addon is unavailable.
 */
export function useArmor(which: ArmorImplementation | 'auto'): void {
  let name: ArmorImplementation = 'js';
  if (which !== 'js') {
    const native = nativeArmorAvailability();
    if (native.ok) name = 'native';
    else if (which === 'native') throw new Error(`native packet crypto unavailable: ${native.reason}`);
  }
  chosenName = name;
  core = name === 'native' ? nativeCore() : typescriptCore;
}

/** The implementation armor/dearmor use in this thread (chosen on first use). */
export function armorImplementation(): ArmorImplementation {
  if (!chosenName) chooseDefault();
  return chosenName!;
}

/**
 * Armor a complete plaintext packet in place (docs/protocol/03-packet.md §5.2, §5.3). Sets the cipher bits
 * (and the legacy 0x80 flag iff cipher 1) and keeps the fragmented flag and hop bits, so set
 * the fragmented flag first if the packet will be split. For cipher 3, bytes 0..7 become the
 * first half of the tag (the on-wire packet ID).
 */
export function armor(p: Uint8Array, key: PeerKey, cipher: ArmorCipher): void {
  if (p.length < MIN_PACKET_LENGTH || p.length > MAX_PACKET_LENGTH) throw new RangeError(`packet length ${p.length} out of range`);
  const keep = p[PacketOffset.flags] & (HeaderFlag.fragmented | HeaderFlag.hopsMask);
  p[PacketOffset.flags] = keep | (cipher << CIPHER_SHIFT) | (cipher === Cipher.poly1305Salsa2012 ? HeaderFlag.encrypted : 0);
  if (cipher === Cipher.aesGmacSiv) core.aesGmacSiv(p, key, true);
  else core.salsaPoly(p, key, cipher === Cipher.poly1305Salsa2012, true);
}

/**
 * Authenticate and decrypt a complete packet in place. On success bytes 27..end hold the
 * plaintext verb byte and payload (header bytes are left as received: for cipher 3 the packet
 * ID stays the on-wire value that replies must quote). On failure the packet is unchanged.
 * Never throws.
 */
export function dearmor(p: Uint8Array, key: PeerKey): DearmorResult {
  const len = p.length;
  if (len < MIN_PACKET_LENGTH) return FAIL['too-short'];
  if (len > MAX_PACKET_LENGTH) return FAIL['too-long'];
  const cipher = (p[PacketOffset.flags] & HeaderFlag.cipherMask) >>> CIPHER_SHIFT;
  if (cipher === Cipher.aesGmacSiv) return core.aesGmacSiv(p, key, false) ? OK_BY_CIPHER[3] : FAIL['bad-mac'];
  if (cipher !== Cipher.poly1305None && cipher !== Cipher.poly1305Salsa2012) return FAIL['unsupported-cipher'];
  return core.salsaPoly(p, key, cipher === Cipher.poly1305Salsa2012, false) ? OK_BY_CIPHER[cipher] : FAIL['bad-mac'];
}

/**
 * For a cipher-3 packet, the packet ID its sender chose before armoring (recovered from the
 * tag with K1). Diagnostic and test use: re-armoring the dearmored packet under this ID
 * reproduces the received bytes.
 */
export function recoverAesGmacSivPacketId(p: Uint8Array, key: PeerKey, out: Uint8Array = new Uint8Array(8)): Uint8Array {
  for (let i = 0; i < 8; i++) {
    tag[i] = p[PacketOffset.id + i];
    tag[8 + i] = p[PacketOffset.mac + i];
  }
  key.aes.recoverIv(tag, 0, out, 0);
  return out;
}
