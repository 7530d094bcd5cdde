// AES-GMAC-SIV as 1.14 uses it for cipher suite 3 (docs/protocol/02-crypto.md §6), built from node:crypto
// AES-256-ECB contexts created once per key pair, plus GHASH in software:
//   * GMAC is standard GCM over an empty plaintext with everything fed in as AAD:
//     tag16 = GHASH_H(aad ‖ pad ‖ data, lengths) XOR AES_K0(nonce12 ‖ 00000001), H = AES_K0(0);
//   * the opaque tag is one AES-256-ECB block under K1;
//   * the payload is AES-256-CTR under K1, done by ECB-encrypting counter blocks.
// No cipher object is created per packet: that costs ~30 µs each in Node (see ghash.ts).
//
// CTR detail: the initial counter block is the tag with the top bit of byte 12 cleared and
// the low 32 bits (bytes 12..15, big-endian) count blocks, wrapping without carry into byte 11.
// Because that top bit starts clear, packets (at most 10024 bytes = 627 blocks) never wrap.

import { createCipheriv, createDecipheriv, type Cipheriv, type Decipheriv } from 'node:crypto';
import { Ghash } from './ghash.ts';

export const AES_KEY_LENGTH = 32;
export const GMAC_SIV_IV_LENGTH = 8;
export const GMAC_SIV_TAG_LENGTH = 16;
const BLOCK = 16;

export class AesGmacSiv {
  /** AES-256-ECB under K0: the GHASH key H and the GMAC mask. */
  private readonly ecbK0: Cipheriv;
  private readonly ghash: Ghash;
  private readonly ecbEncrypt: Cipheriv;
  private readonly ecbDecrypt: Decipheriv;
  /** GCM's first counter block J0 = iv8 ‖ 00 00 00 00 ‖ 00 00 00 01. */
  private readonly j0 = Buffer.alloc(BLOCK);
  private readonly tag16 = new Uint8Array(BLOCK);
  /** One 16-byte block in (iv8 ‖ fold8, or a tag). */
  private readonly block = Buffer.alloc(BLOCK);
  /** AAD copied and zero-padded to a whole number of blocks. */
  private aadScratch = Buffer.alloc(2 * BLOCK);
  /** Counter blocks for CTR; grows to the largest message seen. */
  private counters = Buffer.alloc(64 * BLOCK);

  /** k0: AES-256 key for GMAC; k1: AES-256 key for the tag block and CTR (32 bytes each). */
  constructor(k0: Uint8Array, k1: Uint8Array) {
    if (k0.length !== AES_KEY_LENGTH || k1.length !== AES_KEY_LENGTH) throw new RangeError('AES-GMAC-SIV keys must be 32 bytes');
    this.ecbK0 = createCipheriv('aes-256-ecb', k0, null).setAutoPadding(false);
    this.ghash = new Ghash(this.ecbK0.update(Buffer.alloc(BLOCK)));
    this.j0[15] = 1;
    this.ecbEncrypt = createCipheriv('aes-256-ecb', k1, null).setAutoPadding(false);
    this.ecbDecrypt = createDecipheriv('aes-256-ecb', k1, null).setAutoPadding(false);
  }

  /**
   * Encrypt data[dataOff..+dataLen) in place and write the 16-byte opaque tag T to tagOut.
   * iv: 8 bytes at ivOff; aad: aadLen bytes at aadOff.
   */
  encrypt(
    iv: Uint8Array, ivOff: number,
    aad: Uint8Array, aadOff: number, aadLen: number,
    data: Uint8Array, dataOff: number, dataLen: number,
    tagOut: Uint8Array, tagOff: number,
  ): void {
    const tag16 = this.gmac(iv, ivOff, aad, aadOff, aadLen, data, dataOff, dataLen);
    const b = this.block;
    for (let i = 0; i < 8; i++) {
      b[i] = iv[ivOff + i];
      b[8 + i] = tag16[i] ^ tag16[8 + i];
    }
    const t = this.ecbEncrypt.update(b);
    for (let i = 0; i < BLOCK; i++) tagOut[tagOff + i] = t[i];
    this.ctr(t, 0, data, dataOff, data, dataOff, dataLen);
  }

  /**
   * Decrypt src[srcOff..+len) into dst[dstOff..] (may be the same range) and check the tag
   * (16 bytes at tagOff). Returns false if the message is not authentic; dst then holds garbage.
   */
  decrypt(
    tag: Uint8Array, tagOff: number,
    aad: Uint8Array, aadOff: number, aadLen: number,
    src: Uint8Array, srcOff: number, len: number,
    dst: Uint8Array, dstOff: number,
  ): boolean {
    this.ctr(tag, tagOff, src, srcOff, dst, dstOff, len);
    const d = this.decryptTagBlock(tag, tagOff);
    // d[0..8) is the sender's iv, d[8..16) the folded GMAC it computed
    const tag16 = this.gmac(d, 0, aad, aadOff, aadLen, dst, dstOff, len);
    let diff = 0;
    for (let i = 0; i < 8; i++) diff |= (tag16[i] ^ tag16[8 + i]) ^ d[8 + i];
    return diff === 0;
  }

  /** The 8-byte iv the sender used, recovered from a tag (the first half of ECB⁻¹(T)). */
  recoverIv(tag: Uint8Array, tagOff: number, out: Uint8Array, outOff: number): void {
    const d = this.decryptTagBlock(tag, tagOff);
    for (let i = 0; i < 8; i++) out[outOff + i] = d[i];
  }

  private decryptTagBlock(tag: Uint8Array, tagOff: number): Buffer {
    const b = this.block;
    for (let i = 0; i < BLOCK; i++) b[i] = tag[tagOff + i];
    return this.ecbDecrypt.update(b);
  }

  /** Standard GMAC (GCM, empty plaintext) of aad ‖ zero pad to 16 ‖ data, nonce iv8 ‖ 0^4. */
  private gmac(
    iv: Uint8Array, ivOff: number,
    aad: Uint8Array, aadOff: number, aadLen: number,
    data: Uint8Array, dataOff: number, dataLen: number,
  ): Uint8Array {
    const g = this.ghash;
    g.reset();
    if (aadLen > 0) {
      const padded = Math.ceil(aadLen / BLOCK) * BLOCK;
      if (this.aadScratch.length < padded) this.aadScratch = Buffer.alloc(padded);
      const a = this.aadScratch;
      a.set(aad.subarray(aadOff, aadOff + aadLen), 0);
      a.fill(0, aadLen, padded);
      g.update(a, 0, padded);
    }
    g.update(data, dataOff, dataLen);
    const t = this.tag16;
    g.finishAsAad(t, 0);
    for (let i = 0; i < 8; i++) this.j0[i] = iv[ivOff + i];
    const mask = this.ecbK0.update(this.j0);
    for (let i = 0; i < BLOCK; i++) t[i] ^= mask[i];
    return t;
  }

  /** dst = src XOR AES-CTR keystream starting at counter block (tag with byte 12 & 0x7f). */
  private ctr(tag: Uint8Array, tagOff: number, src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number, len: number): void {
    if (len === 0) return;
    const blocks = Math.ceil(len / BLOCK);
    if (this.counters.length < blocks * BLOCK) this.counters = Buffer.alloc(blocks * BLOCK);
    const c = this.counters;
    let counter = ((tag[tagOff + 12] & 0x7f) * 2 ** 24 + (tag[tagOff + 13] << 16) + (tag[tagOff + 14] << 8) + tag[tagOff + 15]) >>> 0;
    for (let b = 0, o = 0; b < blocks; b++, o += BLOCK) {
      for (let i = 0; i < 12; i++) c[o + i] = tag[tagOff + i];
      c.writeUInt32BE(counter, o + 12);
      counter = (counter + 1) >>> 0;
    }
    const ks = this.ecbEncrypt.update(c.subarray(0, blocks * BLOCK));
    for (let i = 0; i < len; i++) dst[dstOff + i] = src[srcOff + i] ^ ks[i];
  }
}
