// The two implementations of X25519 and Ed25519 that ztroot can use: OpenSSL through
// node:crypto, and @noble/curves in pure JavaScript. Both take and return raw 32-byte keys
// and are held to the same known-answer vectors (test/vectors/c25519.test.ts);
// tools/bench/crypto.ts measures them side by side.

import { createPrivateKey, createPublicKey, diffieHellman, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';

export interface CurveBackend {
  readonly name: string;
  x25519PublicKey(privateKey: Uint8Array): Uint8Array;
  x25519(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array;
  ed25519PublicKey(seed: Uint8Array): Uint8Array;
  ed25519Sign(seed: Uint8Array, message: Uint8Array): Uint8Array;
  ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
}

// Fixed DER prefixes that wrap a raw 32-byte key as PKCS#8 (private) or SPKI (public).
const X25519_PKCS8 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const X25519_SPKI = Buffer.from('302a300506032b656e032100', 'hex');
const ED25519_PKCS8 = Buffer.from('302e020100300506032b657004220420', 'hex');
const ED25519_SPKI = Buffer.from('302a300506032b6570032100', 'hex');

function der(prefix: Buffer, raw: Uint8Array): Buffer {
  if (raw.length !== 32) throw new RangeError('curve25519 keys are 32 bytes');
  return Buffer.concat([prefix, raw]);
}
function privateKey(prefix: Buffer, raw: Uint8Array): KeyObject {
  return createPrivateKey({ key: der(prefix, raw), format: 'der', type: 'pkcs8' });
}
function publicKey(prefix: Buffer, raw: Uint8Array): KeyObject {
  return createPublicKey({ key: der(prefix, raw), format: 'der', type: 'spki' });
}
function rawPublic(key: KeyObject): Uint8Array {
  return new Uint8Array(key.export({ format: 'der', type: 'spki' }).subarray(12));
}

/**
 * Parsing a private key into an OpenSSL key object costs more than the agreement itself, and a
 * node agrees with its own key again and again: keep the last few.
 */
const privateKeyObjects = new Map<string, KeyObject>();
const PRIVATE_KEY_OBJECTS_KEPT = 8;
function cachedPrivateKey(prefix: Buffer, raw: Uint8Array): KeyObject {
  const k = prefix[11].toString() + Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64');
  let obj = privateKeyObjects.get(k);
  if (!obj) {
    obj = privateKey(prefix, raw);
    if (privateKeyObjects.size >= PRIVATE_KEY_OBJECTS_KEPT) privateKeyObjects.delete(privateKeyObjects.keys().next().value!);
    privateKeyObjects.set(k, obj);
  }
  return obj;
}

export const nodeCurves: CurveBackend = {
  name: 'node:crypto',
  x25519PublicKey: (priv) => rawPublic(createPublicKey(privateKey(X25519_PKCS8, priv))),
  x25519: (priv, pub) =>
    new Uint8Array(diffieHellman({ privateKey: cachedPrivateKey(X25519_PKCS8, priv), publicKey: publicKey(X25519_SPKI, pub) })),
  ed25519PublicKey: (seed) => rawPublic(createPublicKey(privateKey(ED25519_PKCS8, seed))),
  ed25519Sign: (seed, msg) => new Uint8Array(nodeSign(null, msg, cachedPrivateKey(ED25519_PKCS8, seed))),
  ed25519Verify: (pub, msg, sig) => {
    if (sig.length !== 64 || pub.length !== 32) return false;
    try {
      return nodeVerify(null, msg, publicKey(ED25519_SPKI, pub), sig);
    } catch {
      return false; // not a point on the curve
    }
  },
};

export const nobleCurves: CurveBackend = {
  name: '@noble/curves',
  x25519PublicKey: (priv) => x25519.getPublicKey(priv),
  x25519: (priv, pub) => x25519.getSharedSecret(priv, pub),
  ed25519PublicKey: (seed) => ed25519.getPublicKey(seed),
  ed25519Sign: (seed, msg) => ed25519.sign(msg, seed),
  ed25519Verify: (pub, msg, sig) => {
    try {
      return ed25519.verify(sig, msg, pub);
    } catch {
      return false;
    }
  },
};
