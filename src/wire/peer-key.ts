// The per-peer symmetric key material, computed once when a peer becomes known and cached by
// the caller: the 48-byte agreed key (docs/protocol/02-crypto.md §2), its first 32 bytes for
// Salsa20/Poly1305 and cryptField, and the AES-GMAC-SIV keys K0/K1 derived from all 48 bytes
// (docs/protocol/02-crypto.md §5).

import { AES_KEY_LENGTH, AesGmacSiv } from '../crypto/aes-gmac-siv.ts';
import { kbkdfHmacSha384 } from '../crypto/kbkdf.ts';
import { KBKDF_LABEL_K0, KBKDF_LABEL_K1, SALSA_KEY_LENGTH, SYMMETRIC_KEY_LENGTH } from './constants.ts';

export class PeerKey {
  /** The 48-byte agreed key. */
  readonly key: Uint8Array;
  /** key[0..32): Salsa20/12 + Poly1305 armor and HELLO cryptField. */
  readonly salsaKey: Uint8Array;
  private k0Bytes: Uint8Array | undefined;
  private k1Bytes: Uint8Array | undefined;
  private aesInstance: AesGmacSiv | undefined;
  /** The native AES-GMAC-SIV state for K0/K1 (native-armor.ts), made by armor.ts on first use. */
  nativeAes: object | undefined = undefined;

  constructor(key: Uint8Array) {
    if (key.length !== SYMMETRIC_KEY_LENGTH) throw new RangeError(`peer key must be ${SYMMETRIC_KEY_LENGTH} bytes`);
    this.key = Uint8Array.from(key);
    this.salsaKey = this.key.subarray(0, SALSA_KEY_LENGTH);
  }

  /** K0 (GMAC) and K1 (tag block, CTR), 32 bytes each; derived on first use (two HMACs). */
  get k0(): Uint8Array {
    this.k0Bytes ??= kbkdfHmacSha384(this.key, KBKDF_LABEL_K0).slice(0, AES_KEY_LENGTH);
    return this.k0Bytes;
  }
  get k1(): Uint8Array {
    this.k1Bytes ??= kbkdfHmacSha384(this.key, KBKDF_LABEL_K1).slice(0, AES_KEY_LENGTH);
    return this.k1Bytes;
  }

  /**
   * Keyed AES-GMAC-SIV for cipher 3, created on first use: it holds three AES-ECB contexts and a
   * 4 KiB GHASH table, which peers that only ever use ciphers 0/1 never need.
   */
  get aes(): AesGmacSiv {
    this.aesInstance ??= new AesGmacSiv(this.k0, this.k1);
    return this.aesInstance;
  }
}
