// ZeroTier identities (type 0, C25519): parse and format the text forms, the binary form used
// in packets and worlds, local validation and generation (docs/protocol/01-identity.md).

import {
  agree, agreementPublicKey, C25519_PRIVATE_KEY_LENGTH, C25519_PUBLIC_KEY_LENGTH, generateKeyPair,
  sign, verify,
} from '../crypto/c25519.ts';
import { sha384 } from '../crypto/sha.ts';
import { ADDRESS_MASK, addressBytes, formatAddress, isReservedAddress, readAddress, writeAddress, type Address } from './address.ts';
import {
  IDENTITY_HASH_FIRST_BYTE_LESS_THAN, IDENTITY_PUBLIC_BINARY_LENGTH, IDENTITY_STRING_BUFFER_LENGTH, IDENTITY_TYPE_C25519,
} from './constants.ts';
import { identityHash } from './memory-hard-hash.ts';
import { toHex, unhexExact } from '../util/hex.ts';
import { strtoull } from '../util/strtoull.ts';

export class Identity {
  readonly address: Address;
  readonly publicKey: Uint8Array;
  readonly privateKey: Uint8Array | undefined;

  constructor(address: Address, publicKey: Uint8Array, privateKey?: Uint8Array) {
    if (publicKey.length !== C25519_PUBLIC_KEY_LENGTH) throw new RangeError('identity public key must be 64 bytes');
    if (privateKey && privateKey.length !== C25519_PRIVATE_KEY_LENGTH) throw new RangeError('identity private key must be 64 bytes');
    this.address = address;
    this.publicKey = publicKey;
    this.privateKey = privateKey;
  }

  get hasPrivate(): boolean {
    return this.privateKey !== undefined;
  }

  /** `addr:0:pub` or, with includePrivate and a private key, `addr:0:pub:priv` (no newline). */
  toString(includePrivate = false): string {
    const base = `${formatAddress(this.address)}:0:${toHex(this.publicKey)}`;
    return includePrivate && this.privateKey ? `${base}:${toHex(this.privateKey)}` : base;
  }

  /** The same identity without its private key. */
  publicOnly(): Identity {
    return this.privateKey ? new Identity(this.address, this.publicKey) : this;
  }

  equals(other: Identity): boolean {
    return this.address === other.address && publicKeysEqual(this.publicKey, 0, other.publicKey);
  }

  /** Whether the binary public identity at `off` in `b` is this identity (no allocation). */
  isSerializedAt(b: Uint8Array, off: number): boolean {
    return b.length - off >= IDENTITY_PUBLIC_BINARY_LENGTH && b[off + 5] === IDENTITY_TYPE_C25519 &&
      readAddress(b, off) === this.address && publicKeysEqual(b, off + 6, this.publicKey);
  }

  /** Binary form (docs/protocol/01-identity.md §6): 71 bytes, or 135 with the private key. */
  serialize(includePrivate = false): Uint8Array {
    const withPrivate = includePrivate && this.privateKey !== undefined;
    const out = new Uint8Array(IDENTITY_PUBLIC_BINARY_LENGTH + (withPrivate ? C25519_PRIVATE_KEY_LENGTH : 0));
    writeAddress(this.address, out, 0);
    out[5] = IDENTITY_TYPE_C25519;
    out.set(this.publicKey, 6);
    if (withPrivate) {
      out[70] = C25519_PRIVATE_KEY_LENGTH;
      out.set(this.privateKey!, 71);
    }
    return out;
  }

  /** Identity::locallyValidate: unreserved address derived from the key by the memory-hard hash. */
  locallyValidate(): boolean {
    if (isReservedAddress(this.address)) return false;
    const digest = identityHash(this.publicKey);
    return digest[0] < IDENTITY_HASH_FIRST_BYTE_LESS_THAN && readAddress(digest, 59) === this.address;
  }

  /** The 48-byte key shared with another identity (02-crypto.md §2); null if their key is unusable. */
  agree(other: Identity): Uint8Array | null {
    if (!this.privateKey) throw new Error('identity has no private key');
    return agree(this.privateKey, other.publicKey);
  }

  sign(message: Uint8Array): Uint8Array {
    if (!this.privateKey) throw new Error('identity has no private key');
    return sign(this.privateKey, message);
  }

  verify(message: Uint8Array, signature: Uint8Array): boolean {
    return verify(this.publicKey, message, signature);
  }

  /** SHA-384(address ‖ public key), used by certificates of membership (docs/protocol/01-identity.md §8). */
  publicKeyHash(): Uint8Array {
    return sha384(addressBytes(this.address), this.publicKey);
  }
}

/**
 * Parse the text form with Identity::fromString's rules (docs/protocol/01-identity.md §5). Returns null for
 * anything it would reject. Does not validate the proof of work.
 */
export function parseIdentity(text: string): Identity | null {
  // The C parser sees bytes and stops at the first NUL: work on one character per UTF-8 byte.
  text = Buffer.from(text, 'utf8').toString('latin1');
  const nul = text.indexOf('\0');
  if (nul >= 0) text = text.slice(0, nul);
  if (text.length >= IDENTITY_STRING_BUFFER_LENGTH) return null;
  const fields = text.split(':').filter((f) => f.length > 0); // strtok skips empty fields
  if (fields.length < 3 || fields.length > 4) return null;
  const address = Number(strtoull(fields[0], 16) & BigInt(ADDRESS_MASK)); // truncated to 40 bits, as 1.14 does
  if (isReservedAddress(address)) return null;
  if (fields[1] !== '0') return null;
  const publicKey = unhexExact(fields[2], C25519_PUBLIC_KEY_LENGTH);
  if (!publicKey) return null;
  let privateKey: Uint8Array | undefined;
  if (fields.length === 4) {
    privateKey = unhexExact(fields[3], C25519_PRIVATE_KEY_LENGTH) ?? undefined;
    if (!privateKey) return null;
  }
  return new Identity(address, publicKey, privateKey);
}

export type IdentityDecodeError = 'too-short' | 'bad-type' | 'bad-private-length';

export interface DecodedIdentity {
  identity: Identity;
  /** bytes consumed */
  length: number;
}

/** Public keys are not secret, so a plain comparison (no constant-time call into C++) will do. */
function publicKeysEqual(a: Uint8Array, aOff: number, b: Uint8Array): boolean {
  if (b.length !== C25519_PUBLIC_KEY_LENGTH || a.length - aOff < C25519_PUBLIC_KEY_LENGTH) return false;
  for (let i = 0; i < C25519_PUBLIC_KEY_LENGTH; i++) if (a[aOff + i] !== b[i]) return false;
  return true;
}

/** Read a binary identity at `off` (docs/protocol/01-identity.md §6). Never throws on bad input. */
export function deserializeIdentity(b: Uint8Array, off = 0): DecodedIdentity | IdentityDecodeError {
  if (b.length - off < IDENTITY_PUBLIC_BINARY_LENGTH) return 'too-short';
  if (b[off + 5] !== IDENTITY_TYPE_C25519) return 'bad-type';
  const address = readAddress(b, off);
  const publicKey = b.slice(off + 6, off + 70);
  const privLen = b[off + 70];
  if (privLen === 0) return { identity: new Identity(address, publicKey), length: IDENTITY_PUBLIC_BINARY_LENGTH };
  if (privLen !== C25519_PRIVATE_KEY_LENGTH) return 'bad-private-length';
  if (b.length - off < IDENTITY_PUBLIC_BINARY_LENGTH + privLen) return 'too-short';
  const privateKey = b.slice(off + 71, off + 71 + privLen);
  return { identity: new Identity(address, publicKey, privateKey), length: IDENTITY_PUBLIC_BINARY_LENGTH + privLen };
}

/**
 * Search for a new identity (docs/protocol/01-identity.md §4): vary the agreement half of a random private
 * key until the memory-hard digest's first byte is below 17; retry from scratch if the derived
 * address is reserved. About 15 hash evaluations on average.
 */
export function generateIdentity(): Identity {
  for (;;) {
    const base = generateKeyPair();
    const priv = Uint8Array.from(base.privateKey);
    const pub = Uint8Array.from(base.publicKey);
    const words = new DataView(priv.buffer);
    for (;;) {
      // Same walk as 1.14 (little-endian hosts): ++word[1], --word[2] of the private key.
      words.setBigUint64(8, (words.getBigUint64(8, true) + 1n) & 0xffff_ffff_ffff_ffffn, true);
      words.setBigUint64(16, (words.getBigUint64(16, true) - 1n) & 0xffff_ffff_ffff_ffffn, true);
      pub.set(agreementPublicKey(priv), 0);
      const digest = identityHash(pub);
      if (digest[0] < IDENTITY_HASH_FIRST_BYTE_LESS_THAN) {
        const address = readAddress(digest, 59);
        if (isReservedAddress(address)) break;
        return new Identity(address, pub, priv);
      }
    }
  }
}
