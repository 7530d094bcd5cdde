// SHA-512, SHA-384 and HMAC-SHA-384 (docs/protocol/02-crypto.md §1). node:crypto (OpenSSL) is the default;
// the noble versions exist so the benchmarks and vector tests can hold both to the same answers.

import { createHash, createHmac } from 'node:crypto';
import { sha384 as nobleSha384, sha512 as nobleSha512 } from '@noble/hashes/sha2.js';
import { hmac as nobleHmac } from '@noble/hashes/hmac.js';

export function sha512(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

export function sha384(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha384');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

export function hmacSha384(key: Uint8Array, msg: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac('sha384', key).update(msg).digest());
}

export const noble = {
  sha512: (msg: Uint8Array): Uint8Array => nobleSha512(msg),
  sha384: (msg: Uint8Array): Uint8Array => nobleSha384(msg),
  hmacSha384: (key: Uint8Array, msg: Uint8Array): Uint8Array => nobleHmac(nobleSha384, key, msg),
};
