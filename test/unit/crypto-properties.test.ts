import { salsa20 as nobleSalsa20 } from '@noble/ciphers/salsa.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Poly1305, poly1305 } from '../../src/crypto/poly1305.ts';
import { Salsa20 } from '../../src/crypto/salsa20.ts';
import { toHex } from '../support/vectors.ts';

/** Poly1305 written directly from RFC 8439 with BigInt: slow, obviously correct. */
function referencePoly1305(key: Uint8Array, msg: Uint8Array): string {
  const le = (b: Uint8Array): bigint => BigInt('0x' + (toHex(Uint8Array.from(b).reverse()) || '0'));
  const p = (1n << 130n) - 5n;
  const r = le(key.subarray(0, 16)) & 0x0ffffffc0ffffffc0ffffffc0fffffffn;
  const s = le(key.subarray(16, 32));
  let acc = 0n;
  for (let i = 0; i < msg.length; i += 16) {
    const block = msg.subarray(i, Math.min(i + 16, msg.length));
    acc = ((acc + le(block) + (1n << BigInt(8 * block.length))) * r) % p;
  }
  const tag = (acc + s) & ((1n << 128n) - 1n);
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = Number((tag >> BigInt(8 * i)) & 0xffn);
  return toHex(out);
}

describe('Poly1305 against a BigInt reference', () => {
  it('random keys and messages of every length', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 300 }), (key, msg) => {
      expect(toHex(poly1305(key, msg))).toBe(referencePoly1305(key, msg));
    }), { numRuns: 500 });
  });
  it('extreme limbs: all-ones keys and messages', () => {
    const key = new Uint8Array(32).fill(0xff);
    for (const len of [0, 1, 15, 16, 17, 64, 255]) {
      const msg = new Uint8Array(len).fill(0xff);
      expect(toHex(poly1305(key, msg))).toBe(referencePoly1305(key, msg));
    }
  });
  it('a sub-range of a larger buffer', () => {
    const buf = Uint8Array.from({ length: 100 }, (_, i) => i * 3);
    const key = Uint8Array.from({ length: 32 }, (_, i) => 255 - i);
    const out = new Uint8Array(20);
    new Poly1305().mac(key, 0, buf, 7, 90, out, 2);
    expect(toHex(out.subarray(2, 18))).toBe(referencePoly1305(key, buf.subarray(7, 90)));
  });
});

describe('Salsa20/20 against @noble/ciphers', () => {
  it('random keys, nonces, lengths and alignments', () => {
    fc.assert(fc.property(
      fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 8, maxLength: 8 }),
      fc.uint8Array({ maxLength: 700 }), fc.integer({ min: 0, max: 7 }),
      (key, nonce, data, shift) => {
        const buf = new Uint8Array(data.length + shift);
        buf.set(data, shift);
        const ours = new Uint8Array(data.length);
        new Salsa20(key, nonce, 20).crypt(buf, shift, ours, 0, data.length);
        expect(toHex(ours)).toBe(toHex(nobleSalsa20(key, nonce, data)));
      }), { numRuns: 300 });
  });
});
