// The memory-hard hash that turns a 64-byte public key into a 64-byte digest; the address is
// its last five bytes and an identity is valid only if its first byte is below 17
// (docs/protocol/01-identity.md §3).
//
// Two implementations give the same digests: the C addon (native-identity-hash.ts, several
// times faster) and the TypeScript one below. identityHash uses the addon when it is built and
// passes its self-test, else TypeScript; useIdentityHash pins one (benchmarks, tests).

import { Salsa20 } from '../crypto/salsa20.ts';
import { sha512 } from '../crypto/sha.ts';
import { IDENTITY_HASH_MEMORY } from './constants.ts';
import { nativeIdentityHashAvailability, nativeMemoryHardStep } from './native-identity-hash.ts';

const WORDS64 = IDENTITY_HASH_MEMORY / 8;

/** One 2 MiB scratch area per thread, reused by every call (calls never overlap in one thread). */
let scratch: { bytes: Uint8Array; words: Uint32Array } | undefined;

export type IdentityHashImplementation = 'native' | 'js';

let chosen: ((publicKey: Uint8Array) => Uint8Array) | undefined;
let chosenName: IdentityHashImplementation | undefined;

/**
 * Pick the implementation identityHash uses in this thread: 'auto' (the default) the addon
 * when available, else TypeScript; 'native' throws if the addon is unavailable.
 */
export function useIdentityHash(which: IdentityHashImplementation | 'auto'): void {
  let name: IdentityHashImplementation = 'js';
  if (which !== 'js') {
    const native = nativeIdentityHashAvailability();
    if (native.ok) name = 'native';
    else if (which === 'native') throw new Error(`native identity hash unavailable: ${native.reason}`);
  }
  chosenName = name;
  chosen = name === 'native' ? identityHashNative : identityHashJs;
}

/** The implementation identityHash uses in this thread (chosen on first use). */
export function identityHashImplementation(): IdentityHashImplementation {
  if (!chosenName) useIdentityHash('auto');
  return chosenName!;
}

/** H(publicKey) of docs/protocol/01-identity.md §3, by the implementation chosen for this thread. */
export function identityHash(publicKey: Uint8Array): Uint8Array {
  if (!chosen) useIdentityHash('auto');
  return chosen!(publicKey);
}

/** H(publicKey) by the C addon; throws if it is unavailable. */
export function identityHashNative(publicKey: Uint8Array): Uint8Array {
  const digest = sha512(publicKey);
  nativeMemoryHardStep(digest);
  return digest;
}

/** H(publicKey) in TypeScript. */
export function identityHashJs(publicKey: Uint8Array): Uint8Array {
  scratch ??= (() => {
    const buf = new ArrayBuffer(IDENTITY_HASH_MEMORY);
    return { bytes: new Uint8Array(buf), words: new Uint32Array(buf) };
  })();
  const { bytes: gen, words: gen32 } = scratch;

  const digest = new Uint8Array(64);
  digest.set(sha512(publicKey));
  const dig32 = new Uint32Array(digest.buffer);
  const s20 = new Salsa20(digest.subarray(0, 32), digest.subarray(32, 40), 20);

  // Phase 1: each 64-byte block is the previous block XOR the next keystream block.
  gen32.fill(0, 0, 16);
  s20.cryptBlockWords(gen32, 0);
  for (let w = 16; w < gen32.length; w += 16) s20.cryptBlockWordsFrom(gen32, w - 16, gen32, w);

  // Phase 2: data-dependent swaps. Indices are big-endian 64-bit words reduced by a power of
  // two, so only their low-order (last) bytes matter.
  for (let w = 0; w < WORDS64; w += 2) {
    const idx1 = gen[8 * w + 7] & 7;
    const o2 = 8 * (w + 1);
    const idx2 = ((gen[o2 + 5] & 3) << 16) | (gen[o2 + 6] << 8) | gen[o2 + 7];
    const g = 2 * idx2, d = 2 * idx1;
    const t0 = gen32[g], t1 = gen32[g + 1];
    gen32[g] = dig32[d];
    gen32[g + 1] = dig32[d + 1];
    dig32[d] = t0;
    dig32[d + 1] = t1;
    s20.cryptBlockWords(dig32, 0);
  }
  return digest;
}
