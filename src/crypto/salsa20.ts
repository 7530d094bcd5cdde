// Salsa20 with a 64-bit nonce and a 64-bit block counter (Bernstein's original layout), in the
// two round counts ZeroTier uses: 20 for the identity hash, 12 for packets (docs/protocol/02-crypto.md §4).
//
// Stream-position rule (docs/protocol/02-crypto.md §4): every call consumes whole 64-byte blocks; the unused
// tail of a partial final block is discarded, so the next call starts at a fresh block.
//
// Hot path: no allocation after construction. The 16-word state and the keystream block live in
// typed arrays owned by the instance; the byte view of the keystream relies on a little-endian
// host (checked once below), which is what Salsa20's word encoding is.

import { endianness } from 'node:os';

if (endianness() !== 'LE') throw new Error('ztroot crypto requires a little-endian host');

export type SalsaRounds = 12 | 20;

const SIGMA0 = 0x61707865; // "expa"
const SIGMA1 = 0x3320646e; // "nd 3"
const SIGMA2 = 0x79622d32; // "2-by"
const SIGMA3 = 0x6b206574; // "te k"

function le32(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}

export class Salsa20 {
  private readonly rounds: SalsaRounds;
  private readonly state = new Uint32Array(16);
  private readonly block = new Uint32Array(16);
  private readonly blockBytes = new Uint8Array(this.block.buffer);

  constructor(key: Uint8Array, nonce: Uint8Array, rounds: SalsaRounds) {
    this.rounds = rounds;
    this.init(key, 0, nonce, 0);
  }

  /** Re-key in place (key: 32 bytes at keyOff, nonce: 8 bytes at nonceOff); counter back to 0. */
  init(key: Uint8Array, keyOff: number, nonce: Uint8Array, nonceOff: number): void {
    if (key.length - keyOff < 32 || nonce.length - nonceOff < 8) throw new RangeError('salsa20: key must be 32 bytes and nonce 8 bytes');
    const s = this.state;
    s[0] = SIGMA0;
    s[1] = le32(key, keyOff);
    s[2] = le32(key, keyOff + 4);
    s[3] = le32(key, keyOff + 8);
    s[4] = le32(key, keyOff + 12);
    s[5] = SIGMA1;
    s[6] = le32(nonce, nonceOff);
    s[7] = le32(nonce, nonceOff + 4);
    s[8] = 0;
    s[9] = 0;
    s[10] = SIGMA2;
    s[11] = le32(key, keyOff + 16);
    s[12] = le32(key, keyOff + 20);
    s[13] = le32(key, keyOff + 24);
    s[14] = le32(key, keyOff + 28);
    s[15] = SIGMA3;
  }

  /**
   * XOR `length` bytes of `src` (from srcOff) with the keystream into `dst` (from dstOff).
   * src and dst may be the same array at the same offset. Consumes ceil(length/64) blocks.
   */
  crypt(src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number, length: number): void {
    const ks = this.blockBytes;
    if (length >= 64 && ((src.byteOffset + srcOff) & 3) === 0 && ((dst.byteOffset + dstOff) & 3) === 0) {
      // aligned: whole blocks a word at a time
      const whole = length & ~63;
      const s32 = new Uint32Array(src.buffer, src.byteOffset + srcOff, whole >>> 2);
      const d32 = new Uint32Array(dst.buffer, dst.byteOffset + dstOff, whole >>> 2);
      for (let w = 0; w < s32.length; w += 16) this.cryptBlockWordsFrom(s32, w, d32, w);
      srcOff += whole;
      dstOff += whole;
      length -= whole;
    }
    while (length > 0) {
      this.nextBlock();
      const n = length < 64 ? length : 64;
      for (let i = 0; i < n; i++) dst[dstOff + i] = src[srcOff + i] ^ ks[i];
      srcOff += n;
      dstOff += n;
      length -= n;
    }
  }

  /** Write `length` bytes of raw keystream into dst (same block accounting as crypt). */
  keystream(dst: Uint8Array, dstOff: number, length: number): void {
    const ks = this.blockBytes;
    while (length > 0) {
      this.nextBlock();
      const n = length < 64 ? length : 64;
      for (let i = 0; i < n; i++) dst[dstOff + i] = ks[i];
      dstOff += n;
      length -= n;
    }
  }

  /**
   * XOR exactly one keystream block into the 64 bytes at `off` of a 32-bit word view.
   * `words` must view the same buffer as the data being transformed and `off` must be a
   * word index; used by the identity hash where every operation is one aligned block.
   */
  cryptBlockWords(words: Uint32Array, off: number): void {
    this.cryptBlockWordsFrom(words, off, words, off);
  }

  /** dst[dstOff..+16) = src[srcOff..+16) XOR the next keystream block (word views, as above). */
  cryptBlockWordsFrom(src: Uint32Array, srcOff: number, dst: Uint32Array, dstOff: number): void {
    this.nextBlock();
    const b = this.block;
    for (let i = 0; i < 16; i++) dst[dstOff + i] = src[srcOff + i] ^ b[i];
  }

  /** Generate the next keystream block into this.block and advance the 64-bit counter. */
  private nextBlock(): void {
    const s = this.state;
    let x0 = s[0], x1 = s[1], x2 = s[2], x3 = s[3], x4 = s[4], x5 = s[5], x6 = s[6], x7 = s[7];
    let x8 = s[8], x9 = s[9], x10 = s[10], x11 = s[11], x12 = s[12], x13 = s[13], x14 = s[14], x15 = s[15];
    let u: number;
    for (let i = this.rounds; i > 0; i -= 2) {
      // column round
      u = (x0 + x12) | 0; x4 ^= (u << 7) | (u >>> 25);
      u = (x4 + x0) | 0; x8 ^= (u << 9) | (u >>> 23);
      u = (x8 + x4) | 0; x12 ^= (u << 13) | (u >>> 19);
      u = (x12 + x8) | 0; x0 ^= (u << 18) | (u >>> 14);
      u = (x5 + x1) | 0; x9 ^= (u << 7) | (u >>> 25);
      u = (x9 + x5) | 0; x13 ^= (u << 9) | (u >>> 23);
      u = (x13 + x9) | 0; x1 ^= (u << 13) | (u >>> 19);
      u = (x1 + x13) | 0; x5 ^= (u << 18) | (u >>> 14);
      u = (x10 + x6) | 0; x14 ^= (u << 7) | (u >>> 25);
      u = (x14 + x10) | 0; x2 ^= (u << 9) | (u >>> 23);
      u = (x2 + x14) | 0; x6 ^= (u << 13) | (u >>> 19);
      u = (x6 + x2) | 0; x10 ^= (u << 18) | (u >>> 14);
      u = (x15 + x11) | 0; x3 ^= (u << 7) | (u >>> 25);
      u = (x3 + x15) | 0; x7 ^= (u << 9) | (u >>> 23);
      u = (x7 + x3) | 0; x11 ^= (u << 13) | (u >>> 19);
      u = (x11 + x7) | 0; x15 ^= (u << 18) | (u >>> 14);
      // row round
      u = (x0 + x3) | 0; x1 ^= (u << 7) | (u >>> 25);
      u = (x1 + x0) | 0; x2 ^= (u << 9) | (u >>> 23);
      u = (x2 + x1) | 0; x3 ^= (u << 13) | (u >>> 19);
      u = (x3 + x2) | 0; x0 ^= (u << 18) | (u >>> 14);
      u = (x5 + x4) | 0; x6 ^= (u << 7) | (u >>> 25);
      u = (x6 + x5) | 0; x7 ^= (u << 9) | (u >>> 23);
      u = (x7 + x6) | 0; x4 ^= (u << 13) | (u >>> 19);
      u = (x4 + x7) | 0; x5 ^= (u << 18) | (u >>> 14);
      u = (x10 + x9) | 0; x11 ^= (u << 7) | (u >>> 25);
      u = (x11 + x10) | 0; x8 ^= (u << 9) | (u >>> 23);
      u = (x8 + x11) | 0; x9 ^= (u << 13) | (u >>> 19);
      u = (x9 + x8) | 0; x10 ^= (u << 18) | (u >>> 14);
      u = (x15 + x14) | 0; x12 ^= (u << 7) | (u >>> 25);
      u = (x12 + x15) | 0; x13 ^= (u << 9) | (u >>> 23);
      u = (x13 + x12) | 0; x14 ^= (u << 13) | (u >>> 19);
      u = (x14 + x13) | 0; x15 ^= (u << 18) | (u >>> 14);
    }
    const b = this.block;
    b[0] = x0 + s[0]; b[1] = x1 + s[1]; b[2] = x2 + s[2]; b[3] = x3 + s[3];
    b[4] = x4 + s[4]; b[5] = x5 + s[5]; b[6] = x6 + s[6]; b[7] = x7 + s[7];
    b[8] = x8 + s[8]; b[9] = x9 + s[9]; b[10] = x10 + s[10]; b[11] = x11 + s[11];
    b[12] = x12 + s[12]; b[13] = x13 + s[13]; b[14] = x14 + s[14]; b[15] = x15 + s[15];
    // 64-bit block counter in words 8 (low) and 9 (high)
    s[8] = (s[8] + 1) >>> 0;
    if (s[8] === 0) s[9] = (s[9] + 1) >>> 0;
  }
}
