import { afterAll, describe, expect, it } from 'vitest';
import { agree, keyPairFromPrivate, sign, useCurveBackend, verify } from '../../src/crypto/c25519.ts';
import { nobleCurves, nodeCurves } from '../../src/crypto/curve-backends.ts';
import { c25519Sets, toHex } from '../support/vectors.ts';

const sets = c25519Sets();

it('the vector document holds all 32 C25519 sets', () => {
  expect(sets.length).toBe(32);
});

for (const backend of [nodeCurves, nobleCurves]) {
  describe(`C25519 selftest vectors with ${backend.name} (10-test-vectors.md §3)`, () => {
    afterAll(() => useCurveBackend(nodeCurves));
    it.each(sets.map((s, i) => [i, s] as const))('set %i: public keys, 64-byte agreement, both 96-byte signatures', (_i, s) => {
      useCurveBackend(backend);
      expect(toHex(keyPairFromPrivate(s.priv1).publicKey)).toBe(toHex(s.pub1));
      expect(toHex(keyPairFromPrivate(s.priv2).publicKey)).toBe(toHex(s.pub2));
      expect(toHex(agree(s.priv1, s.pub2, 64)!)).toBe(toHex(s.agreement));
      expect(toHex(agree(s.priv2, s.pub1, 64)!)).toBe(toHex(s.agreement));
      expect(toHex(sign(s.priv1, s.agreement))).toBe(toHex(s.sig1));
      expect(toHex(sign(s.priv2, s.agreement))).toBe(toHex(s.sig2));
      expect(verify(s.pub1, s.agreement, s.sig1)).toBe(true);
      expect(verify(s.pub2, s.agreement, s.sig2)).toBe(true);
      expect(verify(s.pub2, s.agreement, s.sig1)).toBe(false);
      const bad = Uint8Array.from(s.sig1);
      bad[5] ^= 1;
      expect(verify(s.pub1, s.agreement, bad)).toBe(false);
      const badDigest = Uint8Array.from(s.sig1);
      badDigest[95] ^= 1;
      expect(verify(s.pub1, s.agreement, badDigest)).toBe(false);
      expect(verify(s.pub1, s.agreement, s.sig1.subarray(0, 95))).toBe(false);
    });
  });
}

describe('agreement beyond 64 bytes re-hashes the digest', () => {
  it('bytes 64..128 are SHA-512 of the first 64', async () => {
    const { sha512 } = await import('../../src/crypto/sha.ts');
    const s = sets[0];
    const long = agree(s.priv1, s.pub2, 128)!;
    expect(toHex(long.subarray(0, 64))).toBe(toHex(s.agreement));
    expect(toHex(long.subarray(64))).toBe(toHex(sha512(s.agreement)));
  });
});

it('rejects a low-order public key instead of producing a zero key', () => {
  const s = sets[0];
  expect(agree(s.priv1, new Uint8Array(64))).toBeNull();
});
