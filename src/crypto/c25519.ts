// ZeroTier's "C25519" key pairs: 64-byte public key = X25519 public ‖ Ed25519 public, 64-byte
// private key = X25519 scalar ‖ Ed25519 seed (docs/protocol/01-identity.md §1), with the key agreement into
// the 48-byte peer key and the 96-byte signature scheme of docs/protocol/02-crypto.md §2–§3.

import { randomBytes, timingSafeEqual } from 'node:crypto';
import { nodeCurves, type CurveBackend } from './curve-backends.ts';
import { sha512 } from './sha.ts';

export const C25519_PUBLIC_KEY_LENGTH = 64;
export const C25519_PRIVATE_KEY_LENGTH = 64;
/** ZT_SYMMETRIC_KEY_SIZE: the agreed peer key (docs/protocol/02-crypto.md §2). */
export const PEER_KEY_LENGTH = 48;
/** ZT_C25519_SIGNATURE_LEN: Ed25519 R‖S plus the signed 32-byte digest (docs/protocol/02-crypto.md §3). */
export const SIGNATURE_LENGTH = 96;

export interface C25519KeyPair {
  readonly publicKey: Uint8Array;
  readonly privateKey: Uint8Array;
}

/** Chosen from tools/bench/crypto.ts: OpenSSL is an order of magnitude faster for every curve operation. */
let curves: CurveBackend = nodeCurves;

/** Swap the curve implementation (tests and benchmarks hold both to the same vectors). */
export function useCurveBackend(backend: CurveBackend): void {
  curves = backend;
}
export function curveBackend(): CurveBackend {
  return curves;
}

/** Complete a private key into a key pair by deriving both public halves. */
export function keyPairFromPrivate(privateKey: Uint8Array): C25519KeyPair {
  if (privateKey.length !== C25519_PRIVATE_KEY_LENGTH) throw new RangeError('C25519 private key must be 64 bytes');
  const publicKey = new Uint8Array(C25519_PUBLIC_KEY_LENGTH);
  publicKey.set(curves.x25519PublicKey(privateKey.subarray(0, 32)), 0);
  publicKey.set(curves.ed25519PublicKey(privateKey.subarray(32, 64)), 32);
  return { publicKey, privateKey: Uint8Array.from(privateKey) };
}

export function generateKeyPair(): C25519KeyPair {
  return keyPairFromPrivate(new Uint8Array(randomBytes(C25519_PRIVATE_KEY_LENGTH)));
}

/** X25519 public key for the agreement half of a private key (used by the generation loop). */
export function agreementPublicKey(privateKey: Uint8Array): Uint8Array {
  return curves.x25519PublicKey(privateKey.subarray(0, 32));
}

/**
 * The 48-byte peer key: first 48 bytes of SHA-512 of the raw X25519 result.
 * Returns null when the curve library refuses the peer's public key (a low-order point whose
 * shared secret would be all zeros); 1.14 does not check, but no honest key produces it.
 */
export function agree(myPrivateKey: Uint8Array, theirPublicKey: Uint8Array, length = PEER_KEY_LENGTH): Uint8Array | null {
  let raw: Uint8Array;
  try {
    raw = curves.x25519(myPrivateKey.subarray(0, 32), theirPublicKey.subarray(0, 32));
  } catch {
    return null;
  }
  // More than 64 bytes is produced by re-hashing the previous digest for each further 64.
  const out = new Uint8Array(length);
  let digest = sha512(raw);
  for (let off = 0; off < length; off += 64) {
    if (off > 0) digest = sha512(digest);
    out.set(digest.subarray(0, Math.min(64, length - off)), off);
  }
  return out;
}

/** The signed digest: first 32 bytes of SHA-512(message). */
function signedDigest(message: Uint8Array): Uint8Array {
  return sha512(message).subarray(0, 32);
}

export function sign(privateKey: Uint8Array, message: Uint8Array): Uint8Array {
  if (privateKey.length !== C25519_PRIVATE_KEY_LENGTH) throw new RangeError('C25519 private key must be 64 bytes');
  const digest = signedDigest(message);
  const sig = new Uint8Array(SIGNATURE_LENGTH);
  sig.set(curves.ed25519Sign(privateKey.subarray(32, 64), digest), 0);
  sig.set(digest, 64);
  return sig;
}

export function verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== SIGNATURE_LENGTH || publicKey.length !== C25519_PUBLIC_KEY_LENGTH) return false;
  const digest = signedDigest(message);
  if (!timingSafeEqual(digest, signature.subarray(64, 96))) return false;
  return curves.ed25519Verify(publicKey.subarray(32, 64), digest, signature.subarray(0, 64));
}
