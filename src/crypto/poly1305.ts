// Poly1305 one-time authenticator (RFC 8439 §2.5). ZeroTier keeps the first 8 bytes of the tag
// (02-crypto.md §7); this module always produces the full 16.
//
// Arithmetic uses ten 13-bit limbs so every intermediate product stays exact in a double and
// every carry fits in 32 bits. One instance owns its scratch arrays: no allocation per message.

export class Poly1305 {
  private readonly r = new Uint16Array(10);
  private readonly h = new Uint16Array(10);
  private readonly pad = new Uint16Array(8);
  private readonly d = new Uint32Array(10);
  private readonly g = new Uint16Array(10);
  private readonly last = new Uint8Array(16);

  /** Compute the 16-byte tag of msg[start..end) under a 32-byte one-time key into out[outOff..]. */
  mac(key: Uint8Array, keyOff: number, msg: Uint8Array, start: number, end: number, out: Uint8Array, outOff: number): void {
    this.setKey(key, keyOff);
    let p = start;
    for (; p + 16 <= end; p += 16) this.block(msg, p, 1 << 11);
    if (p < end) {
      const last = this.last;
      last.fill(0);
      for (let i = 0; p + i < end; i++) last[i] = msg[p + i];
      last[end - p] = 1;
      this.block(last, 0, 0);
    }
    this.finish(out, outOff);
  }

  private setKey(k: Uint8Array, o: number): void {
    const t0 = k[o] | (k[o + 1] << 8), t1 = k[o + 2] | (k[o + 3] << 8);
    const t2 = k[o + 4] | (k[o + 5] << 8), t3 = k[o + 6] | (k[o + 7] << 8);
    const t4 = k[o + 8] | (k[o + 9] << 8), t5 = k[o + 10] | (k[o + 11] << 8);
    const t6 = k[o + 12] | (k[o + 13] << 8), t7 = k[o + 14] | (k[o + 15] << 8);
    const r = this.r;
    // r is clamped as the RFC requires; the masks below fold the clamp into the limb split.
    r[0] = t0 & 0x1fff;
    r[1] = ((t0 >>> 13) | (t1 << 3)) & 0x1fff;
    r[2] = ((t1 >>> 10) | (t2 << 6)) & 0x1f03;
    r[3] = ((t2 >>> 7) | (t3 << 9)) & 0x1fff;
    r[4] = ((t3 >>> 4) | (t4 << 12)) & 0x00ff;
    r[5] = (t4 >>> 1) & 0x1ffe;
    r[6] = ((t4 >>> 14) | (t5 << 2)) & 0x1fff;
    r[7] = ((t5 >>> 11) | (t6 << 5)) & 0x1f81;
    r[8] = ((t6 >>> 8) | (t7 << 8)) & 0x1fff;
    r[9] = (t7 >>> 5) & 0x007f;
    for (let i = 0; i < 8; i++) this.pad[i] = k[o + 16 + 2 * i] | (k[o + 17 + 2 * i] << 8);
    this.h.fill(0);
  }

  private block(m: Uint8Array, o: number, hibit: number): void {
    const h = this.h, r = this.r, d = this.d;
    const t0 = m[o] | (m[o + 1] << 8), t1 = m[o + 2] | (m[o + 3] << 8);
    const t2 = m[o + 4] | (m[o + 5] << 8), t3 = m[o + 6] | (m[o + 7] << 8);
    const t4 = m[o + 8] | (m[o + 9] << 8), t5 = m[o + 10] | (m[o + 11] << 8);
    const t6 = m[o + 12] | (m[o + 13] << 8), t7 = m[o + 14] | (m[o + 15] << 8);
    h[0] += t0 & 0x1fff;
    h[1] += ((t0 >>> 13) | (t1 << 3)) & 0x1fff;
    h[2] += ((t1 >>> 10) | (t2 << 6)) & 0x1fff;
    h[3] += ((t2 >>> 7) | (t3 << 9)) & 0x1fff;
    h[4] += ((t3 >>> 4) | (t4 << 12)) & 0x1fff;
    h[5] += (t4 >>> 1) & 0x1fff;
    h[6] += ((t4 >>> 14) | (t5 << 2)) & 0x1fff;
    h[7] += ((t5 >>> 11) | (t6 << 5)) & 0x1fff;
    h[8] += ((t6 >>> 8) | (t7 << 8)) & 0x1fff;
    h[9] += (t7 >>> 5) | hibit;

    let c = 0;
    for (let i = 0; i < 10; i++) {
      let di = c;
      for (let j = 0; j < 10; j++) {
        di += h[j] * (j <= i ? r[i - j] : 5 * r[i + 10 - j]);
        if (j === 4) {
          c = di >>> 13;
          di &= 0x1fff;
        }
      }
      c += di >>> 13;
      d[i] = di & 0x1fff;
    }
    c = c * 5 + d[0];
    d[0] = c & 0x1fff;
    d[1] += c >>> 13;
    for (let i = 0; i < 10; i++) h[i] = d[i];
  }

  private finish(out: Uint8Array, o: number): void {
    const h = this.h, g = this.g;
    let c = h[1] >>> 13;
    h[1] &= 0x1fff;
    for (let i = 2; i < 10; i++) {
      h[i] += c;
      c = h[i] >>> 13;
      h[i] &= 0x1fff;
    }
    h[0] += c * 5;
    c = h[0] >>> 13;
    h[0] &= 0x1fff;
    h[1] += c;
    c = h[1] >>> 13;
    h[1] &= 0x1fff;
    h[2] += c;

    // g = h + 5 - 2^130 (the 2^130 drops out with the top limb's mask); keep g when h >= p
    g[0] = h[0] + 5;
    c = g[0] >>> 13;
    g[0] &= 0x1fff;
    for (let i = 1; i < 10; i++) {
      g[i] = h[i] + c;
      c = g[i] >>> 13;
      g[i] &= 0x1fff;
    }
    // the carry out of the top limb is 1 exactly when h + 5 >= 2^130, i.e. h >= p
    let mask = ((c ^ 1) - 1) & 0xffff;
    for (let i = 0; i < 10; i++) g[i] &= mask;
    mask = ~mask & 0xffff;
    for (let i = 0; i < 10; i++) h[i] = (h[i] & mask) | g[i];

    // h mod 2^128 as eight 16-bit words (reusing g), then add pad
    const w = g;
    w[0] = h[0] | (h[1] << 13);
    w[1] = (h[1] >>> 3) | (h[2] << 10);
    w[2] = (h[2] >>> 6) | (h[3] << 7);
    w[3] = (h[3] >>> 9) | (h[4] << 4);
    w[4] = (h[4] >>> 12) | (h[5] << 1) | (h[6] << 14);
    w[5] = (h[6] >>> 2) | (h[7] << 11);
    w[6] = (h[7] >>> 5) | (h[8] << 8);
    w[7] = (h[8] >>> 8) | (h[9] << 5);
    let f = 0;
    for (let i = 0; i < 8; i++) {
      f = w[i] + this.pad[i] + (f >>> 16);
      out[o + 2 * i] = f & 0xff;
      out[o + 2 * i + 1] = (f >>> 8) & 0xff;
    }
  }
}

const shared = new Poly1305();

/** Convenience one-shot (allocates the 16-byte result). */
export function poly1305(key: Uint8Array, msg: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  shared.mac(key, 0, msg, 0, msg.length, out, 0);
  return out;
}
