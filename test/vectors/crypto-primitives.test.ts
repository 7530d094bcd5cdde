import { describe, expect, it } from 'vitest';
import { Salsa20 } from '../../src/crypto/salsa20.ts';
import { poly1305 } from '../../src/crypto/poly1305.ts';
import { hmacSha384, noble, sha384, sha512 } from '../../src/crypto/sha.ts';
import { fencedAfter, hex, hexAfter, inlineTag, toHex } from '../support/vectors.ts';

const SALSA_KEY = hex('0f62b5085bae0154a7fa4da0f34699ec3f92e5388bde3184d72a7dd02376c91c');
const SALSA_NONCE = hex('288ff65dc42b92f9');

describe('Salsa20 (10-test-vectors.md §2)', () => {
  for (const rounds of [20, 12] as const) {
    it(`${rounds} rounds: first 64 keystream bytes`, () => {
      const expected = hexAfter(`* ${rounds} rounds:`);
      const s = new Salsa20(SALSA_KEY, SALSA_NONCE, rounds);
      const out = new Uint8Array(64);
      s.crypt(new Uint8Array(64), 0, out, 0, 64);
      expect(toHex(out)).toBe(toHex(expected));
      const ks = new Uint8Array(64);
      new Salsa20(SALSA_KEY, SALSA_NONCE, rounds).keystream(ks, 0, 64);
      expect(toHex(ks)).toBe(toHex(expected));
    });
  }

  it('a partial call discards the rest of its block', () => {
    const whole = new Uint8Array(192);
    new Salsa20(SALSA_KEY, SALSA_NONCE, 12).keystream(whole, 0, 192);
    const s = new Salsa20(SALSA_KEY, SALSA_NONCE, 12);
    const a = new Uint8Array(32);
    s.keystream(a, 0, 32); // consumes block 0
    const b = new Uint8Array(100);
    s.keystream(b, 0, 100); // blocks 1 and 2
    expect(toHex(a)).toBe(toHex(whole.subarray(0, 32)));
    expect(toHex(b)).toBe(toHex(whole.subarray(64, 164)));
  });

  it('crypt in place equals crypt to another buffer and is its own inverse', () => {
    const data = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) & 0xff);
    const copy = Uint8Array.from(data);
    const out = new Uint8Array(1000);
    new Salsa20(SALSA_KEY, SALSA_NONCE, 12).crypt(data, 0, out, 0, 1000);
    new Salsa20(SALSA_KEY, SALSA_NONCE, 12).crypt(copy, 0, copy, 0, 1000);
    expect(toHex(copy)).toBe(toHex(out));
    new Salsa20(SALSA_KEY, SALSA_NONCE, 12).crypt(copy, 0, copy, 0, 1000);
    expect(toHex(copy)).toBe(toHex(data));
  });

  it('the 64-bit counter carries into its high word', () => {
    // Block 2^32 of one stream must differ from block 0 (a 32-bit counter would wrap onto it).
    const s = new Salsa20(SALSA_KEY, SALSA_NONCE, 12);
    const state = (s as unknown as { state: Uint32Array }).state;
    state[8] = 0xffffffff;
    const a = new Uint8Array(128);
    s.keystream(a, 0, 128);
    expect(state[8]).toBe(1);
    expect(state[9]).toBe(1);
    const zero = new Uint8Array(64);
    new Salsa20(SALSA_KEY, SALSA_NONCE, 12).keystream(zero, 0, 64);
    expect(toHex(a.subarray(64))).not.toBe(toHex(zero));
  });
});

describe('Poly1305 (10-test-vectors.md §2)', () => {
  const key = new TextEncoder().encode('this is 32-byte key for Poly1305');
  it('32 zero bytes', () => {
    expect(toHex(poly1305(key, new Uint8Array(32)))).toBe(toHex(inlineTag('message = 32 zero bytes')));
  });
  it('"Hello world!"', () => {
    expect(toHex(poly1305(key, new TextEncoder().encode('Hello world!')))).toBe(toHex(inlineTag('message = ASCII `Hello world!`')));
  });
  it('RFC 8439 §2.5.2', () => {
    const k = hex('85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b');
    const msg = new TextEncoder().encode('Cryptographic Forum Research Group');
    expect(toHex(poly1305(k, msg))).toBe('a8061dc1305136c6c22b8baf0c0127a9');
  });
  it('RFC 8439 appendix A.3 edge cases (h ≥ p reduction, carries)', () => {
    // Test vector #8 and #11 from RFC 8439 A.3 exercise the final reduction.
    const k8 = hex('0100000000000000000000000000000000000000000000000000000000000000');
    const m8 = hex('ffffffffffffffffffffffffffffffff' + 'fbfefefefefefefefefefefefefefefe' + '01010101010101010101010101010101');
    expect(toHex(poly1305(k8, m8))).toBe('00000000000000000000000000000000');
    const k2 = hex('0200000000000000000000000000000000000000000000000000000000000000');
    expect(toHex(poly1305(k2, hex('ffffffffffffffffffffffffffffffff')))).toBe('03000000000000000000000000000000');
    const k3 = hex('0200000000000000000000000000000000000000000000000000000000000000');
    const k3pad = Uint8Array.from(k3);
    k3pad.set(hex('ffffffffffffffffffffffffffffffff'), 16);
    expect(toHex(poly1305(k3pad, hex('02000000000000000000000000000000')))).toBe('03000000000000000000000000000000');
  });
});

describe('SHA-2 and HMAC (10-test-vectors.md §2)', () => {
  it('SHA-512 of "supercalifragilisticexpealidocious"', () => {
    const expected = toHex(hexAfter('SHA-512(ASCII `supercalifragilisticexpealidocious`)'));
    const msg = new TextEncoder().encode('supercalifragilisticexpealidocious');
    expect(toHex(sha512(msg))).toBe(expected);
    expect(toHex(noble.sha512(msg))).toBe(expected);
  });
  it('SHA-512 of "hello"', () => {
    const expected = toHex(hexAfter('SHA-512(ASCII `hello`)'));
    expect(toHex(sha512(new TextEncoder().encode('hello')))).toBe(expected);
  });
  it('HMAC-SHA-384 under the A↔B peer key', () => {
    const key = hexAfter('Shared 48-byte peer key');
    const expected = toHex(hexAfter('HMAC-SHA-384(key = the 48-byte A↔B key'));
    const msg = new TextEncoder().encode('hello');
    expect(toHex(hmacSha384(key, msg))).toBe(expected);
    expect(toHex(noble.hmacSha384(key, msg))).toBe(expected);
  });
  it('SHA-384 agrees with noble', () => {
    const msg = new TextEncoder().encode('x'.repeat(300));
    expect(toHex(sha384(msg))).toBe(toHex(noble.sha384(msg)));
    expect(fencedAfter('SHA-384(B.address').trim().length).toBe(96);
  });
});
