// The C implementation of the memory-hard identity hash (native/src/identity_hash.c), loaded
// when `npm ci` / `npm run build:native` built it. Without it (build failed, other platform)
// memory-hard-hash.ts uses the TypeScript implementation; both give the same digests.
//
// Before first use the addon must reproduce one known answer (identity A of
// docs/protocol/10-test-vectors.md §1), so a miscompiled build falls back to TypeScript instead of
// misjudging identities.

import { sha512 } from '../crypto/sha.ts';
import { IDENTITY_HASH_MEMORY } from './constants.ts';
import { nativeAddonPath, requireNativeAddon } from '../util/native-addon.ts';

interface IdentityHashBinding {
  /** Replace a 64-byte SHA-512 digest of a public key with its memory-hard digest, in place. */
  hash(digest: Uint8Array): void;
  readonly memoryBytes: number;
}

export type NativeIdentityHashAvailability = { ok: true } | { ok: false; reason: string };

/** Where `npm run build:native` puts the addon. */
export const NATIVE_IDENTITY_HASH_PATH = nativeAddonPath('identity_hash');

/** Identity A's public key and memory-hard digest (10-test-vectors.md §1), the load-time self-test. */
const SELF_TEST_PUBLIC_KEY = Buffer.from(
  'ac3d46abe0c21f3cfe7a6c8d6a85cfcffcb82fbd55af6a4d6350657c68200843fa2e16f9418bbd9702cae365f2af5fb4c420908b803a681d4daef6114d78a2d7',
  'hex',
);
const SELF_TEST_DIGEST =
  '10b1afd388c4c1561f184ed54cd5bd012a1c8edf5a5975200bb15608dba0b5ebb9faa360a0c6bf99cf684e015bf5bda9d347a4867a5515fa48c6c58e4df28b72';

let loaded: { binding: IdentityHashBinding } | { reason: string } | undefined;

function load(): { binding: IdentityHashBinding } | { reason: string } {
  if (loaded) return loaded;
  const r = requireNativeAddon<IdentityHashBinding>('identity_hash');
  if (!('binding' in r)) return (loaded = r);
  const { binding } = r;
  if (binding.memoryBytes !== IDENTITY_HASH_MEMORY || typeof binding.hash !== 'function') {
    return (loaded = { reason: `addon mismatch (memoryBytes ${binding.memoryBytes}): rebuild native/` });
  }
  const digest = sha512(SELF_TEST_PUBLIC_KEY);
  binding.hash(digest);
  if (Buffer.from(digest).toString('hex') !== SELF_TEST_DIGEST) {
    return (loaded = { reason: 'addon failed its known-answer self-test: rebuild native/' });
  }
  return (loaded = { binding });
}

/** Whether the native identity hash is built, loads and passes its self-test here (and why not). */
export function nativeIdentityHashAvailability(): NativeIdentityHashAvailability {
  const l = load();
  return 'binding' in l ? { ok: true } : { ok: false, reason: l.reason };
}

/**
 * The native memory-hard step: turns the SHA-512 digest of a public key into the memory-hard
 * digest in place. Throws when the addon is unavailable (see nativeIdentityHashAvailability).
 */
export function nativeMemoryHardStep(digest: Uint8Array): void {
  const l = load();
  if (!('binding' in l)) throw new Error(`native identity hash unavailable: ${l.reason}`);
  l.binding.hash(digest);
}
