// GHASH, the universal hash inside GCM/GMAC (NIST SP 800-38D §6.4), in plain JavaScript.
//
// Why not node:crypto: creating an AES-GCM cipher object costs tens of microseconds in Node
// (OpenSSL 3 fetches the algorithm each time), which dwarfed everything else on the cipher-3
// path. GHASH itself is keyed once per peer, so a table-driven software version wins.
//
// Method: Shoup's 8-bit tables. Per key, M[b] = b·H for every byte value b (256 entries of
// 128 bits, 4 KiB); a block is multiplied by H one byte at a time, from the last byte to the
// first, shifting the accumulator right by 8 bits between bytes and folding the bits shifted
// out back in with the key-independent table REDUCE_8BIT.
//
// Values are held as four 32-bit words, word 0 = bytes 0..3 (big-endian); GCM's bit order makes
// "multiply by x" a right shift of that 128-bit big-endian number.

/** Multiply (v0..v3) by x: shift right one bit, reducing by the GCM polynomial. */
function timesX(v: Uint32Array, o: number): void {
  const carry = v[o + 3] & 1;
  v[o + 3] = (v[o + 3] >>> 1) | (v[o + 2] << 31);
  v[o + 2] = (v[o + 2] >>> 1) | (v[o + 1] << 31);
  v[o + 1] = (v[o + 1] >>> 1) | (v[o] << 31);
  v[o] = (v[o] >>> 1) ^ (carry ? 0xe1000000 : 0);
}

/** REDUCE_8BIT[r]: what shifting the byte r out of the bottom adds to word 0. */
const REDUCE_8BIT = (() => {
  const t = new Uint32Array(256);
  const v = new Uint32Array(4);
  for (let r = 0; r < 256; r++) {
    v.fill(0);
    v[3] = r;
    for (let i = 0; i < 8; i++) timesX(v, 0);
    t[r] = v[0];
  }
  return t;
})();

function be32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

export class Ghash {
  /** M[b] = b·H: 256 entries × 4 words. */
  private readonly m = new Uint32Array(1024);
  /** Accumulator Y. */
  private y0 = 0;
  private y1 = 0;
  private y2 = 0;
  private y3 = 0;
  /** Partial block being filled by update(). */
  private readonly pending = new Uint8Array(16);
  private pendingLength = 0;
  private totalLength = 0;

  /** h: the 16-byte hash key (AES_K(0^128) in GCM). */
  constructor(h: Uint8Array) {
    if (h.length !== 16) throw new RangeError('GHASH key must be 16 bytes');
    const m = this.m;
    // M[128] = H, M[64] = H·x, …, M[1] = H·x⁷; the rest by linearity
    m[512] = be32(h, 0); m[513] = be32(h, 4); m[514] = be32(h, 8); m[515] = be32(h, 12);
    for (let n = 64; n >= 1; n >>= 1) {
      m.copyWithin(4 * n, 8 * n, 8 * n + 4);
      timesX(m, 4 * n);
    }
    for (let n = 2; n < 256; n <<= 1) {
      for (let low = 1; low < n; low++) {
        for (let w = 0; w < 4; w++) m[4 * (n + low) + w] = m[4 * n + w] ^ m[4 * low + w];
      }
    }
  }

  reset(): void {
    this.y0 = this.y1 = this.y2 = this.y3 = 0;
    this.pendingLength = 0;
    this.totalLength = 0;
  }

  /** Feed bytes; a final partial block is zero-padded by finish(). */
  update(data: Uint8Array, off: number, len: number): void {
    this.totalLength += len;
    const end = off + len;
    if (this.pendingLength > 0) {
      while (this.pendingLength < 16 && off < end) this.pending[this.pendingLength++] = data[off++];
      if (this.pendingLength < 16) return;
      this.block(this.pending, 0);
      this.pendingLength = 0;
    }
    for (; off + 16 <= end; off += 16) this.block(data, off);
    while (off < end) this.pending[this.pendingLength++] = data[off++];
  }

  /**
   * Finish GMAC-style: pad the last block, then hash the length block with everything fed in
   * counted as AAD (bits, u64) and a zero ciphertext length. Writes 16 bytes to out.
   */
  finishAsAad(out: Uint8Array, outOff: number): void {
    if (this.pendingLength > 0) {
      this.pending.fill(0, this.pendingLength);
      this.block(this.pending, 0);
      this.pendingLength = 0;
    }
    const bits = this.totalLength * 8;
    const p = this.pending;
    p.fill(0);
    const hi = Math.floor(bits / 2 ** 32);
    p[0] = hi >>> 24; p[1] = (hi >>> 16) & 0xff; p[2] = (hi >>> 8) & 0xff; p[3] = hi & 0xff;
    p[4] = bits >>> 24; p[5] = (bits >>> 16) & 0xff; p[6] = (bits >>> 8) & 0xff; p[7] = bits & 0xff;
    this.block(p, 0);
    const ys = [this.y0, this.y1, this.y2, this.y3];
    for (let w = 0; w < 4; w++) {
      out[outOff + 4 * w] = ys[w] >>> 24;
      out[outOff + 4 * w + 1] = (ys[w] >>> 16) & 0xff;
      out[outOff + 4 * w + 2] = (ys[w] >>> 8) & 0xff;
      out[outOff + 4 * w + 3] = ys[w] & 0xff;
    }
  }

  /** Y = (Y XOR block)·H. */
  private block(b: Uint8Array, o: number): void {
    const m = this.m;
    const x0 = this.y0 ^ be32(b, o);
    const x1 = this.y1 ^ be32(b, o + 4);
    const x2 = this.y2 ^ be32(b, o + 8);
    const x3 = this.y3 ^ be32(b, o + 12);
    let i = (x3 & 0xff) << 2;
    let z0 = m[i], z1 = m[i + 1], z2 = m[i + 2], z3 = m[i + 3];
    let rem: number;
    // the remaining 15 bytes, last to first: shift Z right 8 bits, reduce, add M[byte]
    for (let k = 1; k < 16; k++) {
      const x = k < 4 ? x3 : k < 8 ? x2 : k < 12 ? x1 : x0;
      i = ((x >>> ((k & 3) << 3)) & 0xff) << 2;
      rem = z3 & 0xff;
      z3 = ((z3 >>> 8) | (z2 << 24)) ^ m[i + 3];
      z2 = ((z2 >>> 8) | (z1 << 24)) ^ m[i + 2];
      z1 = ((z1 >>> 8) | (z0 << 24)) ^ m[i + 1];
      z0 = (z0 >>> 8) ^ REDUCE_8BIT[rem] ^ m[i];
    }
    this.y0 = z0 >>> 0;
    this.y1 = z1 >>> 0;
    this.y2 = z2 >>> 0;
    this.y3 = z3 >>> 0;
  }
}
