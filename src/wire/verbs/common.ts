// Small pieces shared by the verb codecs.

import { IDENTITY_PUBLIC_BINARY_LENGTH } from '../../identity/constants.ts';
import { deserializeIdentity, type Identity } from '../../identity/identity.ts';
import type { ByteReader, ByteWriter } from '../byte-cursor.ts';
import type { Decoded } from '../decode-result.ts';
import type { MulticastGroup } from '../mac.ts';

/** Finish a decode: the value if every read succeeded, else the reader's error. */
export function result<T>(r: ByteReader, value: T): Decoded<T> {
  return r.error ? { ok: false, error: r.error } : { ok: true, value };
}

/**
 * A binary identity (docs/protocol/01-identity.md §6; 71 bytes, or 135 with a private key, which is consumed
 * like 1.14 does but never kept: the result is always public only). When the caller already
 * holds the identity it expects (`known`) and the bytes are exactly its public form, that
 * object is returned without decoding.
 */
export function readIdentity(r: ByteReader, known?: Identity): Identity | undefined {
  if (r.failed) return undefined;
  if (known && r.remaining >= IDENTITY_PUBLIC_BINARY_LENGTH && r.bytes[r.offset + IDENTITY_PUBLIC_BINARY_LENGTH - 1] === 0 &&
    known.isSerializedAt(r.bytes, r.offset)) {
    r.skip(IDENTITY_PUBLIC_BINARY_LENGTH);
    return known.publicOnly();
  }
  const d = deserializeIdentity(r.bytes.subarray(0, r.end), r.offset);
  if (typeof d === 'string') {
    r.fail(d === 'too-short' ? 'too-short' : 'bad-identity');
    return undefined;
  }
  r.skip(d.length);
  return d.identity.publicOnly();
}

export function readMulticastGroup(r: ByteReader): MulticastGroup {
  const mac = r.mac();
  const adi = r.u32();
  return { mac, adi };
}

export function writeMulticastGroup(w: ByteWriter, g: MulticastGroup): void {
  w.mac(g.mac).u32(g.adi);
}

/** OK and ERROR start with the verb and packet ID they answer (docs/protocol/04-verbs.md §3). */
export function writeInRe(w: ByteWriter, inReVerb: number, inRePacketId: bigint): void {
  w.u8(inReVerb).u64(inRePacketId);
}
