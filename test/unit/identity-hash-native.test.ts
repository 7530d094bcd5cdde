// The two implementations of the memory-hard identity hash (docs/protocol/01-identity.md §3): TypeScript
// (memory-hard-hash.ts) and the C addon (native/src/identity_hash.c). Both must reproduce the
// reference digests and agree with each other. The native half is skipped (and says why) only
// when the addon is not built here.

import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { sha512 } from '../../src/crypto/sha.ts';
import { parseIdentity } from '../../src/identity/identity.ts';
import {
  identityHash, identityHashImplementation, identityHashJs, identityHashNative, useIdentityHash,
} from '../../src/identity/memory-hard-hash.ts';
import { NATIVE_IDENTITY_HASH_PATH, nativeIdentityHashAvailability, nativeMemoryHardStep } from '../../src/identity/native-identity-hash.ts';
import { skipGroup } from '../support/skips.ts';
import { fencedAfter, hexAfter, readVectorJson, toHex } from '../support/vectors.ts';

interface IdentitiesJson {
  identities: { secret: string; public: string; address: string }[];
  validate: { identity: string; valid: boolean; note?: string }[];
}
const json = readVectorJson<IdentitiesJson>('identities.json');

function publicKeyOf(label: string): Uint8Array {
  const id = parseIdentity(fencedAfter(label).trim());
  if (!id) throw new Error(`did not parse: ${label}`);
  return id.publicKey;
}
const KNOWN = [
  { name: 'A', publicKey: publicKeyOf('Identity A (secret form'), digest: toHex(hexAfter('Memory-hard digest H(A.publicKey)')) },
  { name: 'B', publicKey: publicKeyOf('Identity B (secret form'), digest: toHex(hexAfter('Memory-hard digest H(B.publicKey)')) },
];

// Skipped only when the addon was not built; one that is built but fails to load or to pass its
// self-test fails these tests instead.
const built = existsSync(NATIVE_IDENTITY_HASH_PATH);
const noNative = skipGroup('native identity hash tests', built ? undefined : `addon not built (${NATIVE_IDENTITY_HASH_PATH}); run \`npm run build:native\``);

describe('TypeScript identity hash', () => {
  it.each(KNOWN.map((k) => [k.name, k] as const))('H(%s.publicKey) matches 10-test-vectors.md §1', (_n, k) => {
    expect(toHex(identityHashJs(k.publicKey))).toBe(k.digest);
  });
});

describe.skipIf(noNative)('native identity hash', () => {
  afterAll(() => useIdentityHash('auto'));

  it('loads and passes its known-answer self-test', () => {
    expect(nativeIdentityHashAvailability()).toEqual({ ok: true });
  });

  it.each(KNOWN.map((k) => [k.name, k] as const))('H(%s.publicKey) matches 10-test-vectors.md §1', (_n, k) => {
    expect(toHex(identityHashNative(k.publicKey))).toBe(k.digest);
  });

  it('gives the same digest when called again (the per-thread scratch is fully rewritten)', () => {
    for (const k of [...KNOWN, ...KNOWN]) expect(toHex(identityHashNative(k.publicKey))).toBe(k.digest);
  });

  it('agrees with the TypeScript implementation on random and extreme public keys', () => {
    for (const key of [new Uint8Array(64), new Uint8Array(64).fill(0xff)]) {
      expect(toHex(identityHashNative(key))).toBe(toHex(identityHashJs(key)));
    }
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 64, maxLength: 64 }), (key) => {
        expect(toHex(identityHashNative(key))).toBe(toHex(identityHashJs(key)));
      }),
      { numRuns: 6 },
    );
  });

  it('hashes a 64-byte view into a larger buffer in place and touches nothing around it', () => {
    const big = new Uint8Array(256).fill(0xa5);
    const view = big.subarray(100, 164);
    view.set(sha512(KNOWN[1].publicKey));
    nativeMemoryHardStep(view);
    expect(toHex(view)).toBe(KNOWN[1].digest);
    expect(big.subarray(0, 100).every((b) => b === 0xa5) && big.subarray(164).every((b) => b === 0xa5)).toBe(true);
  });

  it('rejects anything but a 64-byte Uint8Array with a TypeError', () => {
    expect(() => nativeMemoryHardStep(new Uint8Array(63))).toThrow(TypeError);
    expect(() => nativeMemoryHardStep(new Uint8Array(65))).toThrow(TypeError);
    expect(() => nativeMemoryHardStep(new Uint32Array(16) as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => nativeMemoryHardStep('x'.repeat(64) as unknown as Uint8Array)).toThrow(TypeError);
  });

  it('is what identityHash uses by default', () => {
    useIdentityHash('auto');
    expect(identityHashImplementation()).toBe('native');
    expect(toHex(identityHash(KNOWN[0].publicKey))).toBe(KNOWN[0].digest);
  });

  it.each(json.identities.map((i) => [i.address, i] as const))('identities.json %s validates through the native path', (_a, i) => {
    useIdentityHash('native');
    expect(parseIdentity(i.public)!.locallyValidate()).toBe(true);
  });

  it.each(json.validate.map((v, n) => [n, v.note ?? (v.valid ? 'valid' : 'invalid'), v] as const))(
    'identities.json validate case %i (%s) through the native path', (_n, _note, v) => {
      useIdentityHash('native');
      const id = parseIdentity(v.identity);
      expect(id !== null && id.locallyValidate()).toBe(v.valid);
    });

  it('two worker threads hashing at once each pick the addon and get the reference digests', async () => {
    const keys = [KNOWN[0].publicKey, KNOWN[1].publicKey, KNOWN[0].publicKey, KNOWN[1].publicKey];
    const expected = [KNOWN[0].digest, KNOWN[1].digest, KNOWN[0].digest, KNOWN[1].digest];
    const workers = [0, 1].map(() => new Worker(new URL('./identity-hash-native.worker.ts', import.meta.url)));
    try {
      const replies = await Promise.all(workers.map((w) => new Promise<{ implementation: string; digests: Uint8Array[] }>((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
        w.postMessage(keys);
      })));
      for (const r of replies) {
        expect(r.implementation).toBe('native');
        expect(r.digests.map(toHex)).toEqual(expected);
      }
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
  });
});

describe('choosing the implementation', () => {
  afterAll(() => useIdentityHash('auto'));

  it("useIdentityHash('js') pins TypeScript", () => {
    useIdentityHash('js');
    expect(identityHashImplementation()).toBe('js');
    expect(toHex(identityHash(KNOWN[1].publicKey))).toBe(KNOWN[1].digest);
  });

  const addonBuilt = skipGroup('identity hash fallback without the addon', built ? 'the addon is built here (the test needs it absent)' : undefined);
  it.skipIf(addonBuilt)("useIdentityHash('native') throws when the addon is unavailable; 'auto' falls back to TypeScript", () => {
    expect(() => useIdentityHash('native')).toThrow(/unavailable/);
    useIdentityHash('auto');
    expect(identityHashImplementation()).toBe('js');
  });
});
