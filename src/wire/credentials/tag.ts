// Tag (docs/protocol/07-network-config-controller.md §5.3): a (id, value) pair the controller issues to a
// member, used by the rules engine.

import type { Address } from '../../identity/address.ts';
import type { Identity } from '../../identity/identity.ts';
import { ByteReader, ByteWriter, decodeAt } from '../byte-cursor.ts';
import type { DecodedAt } from '../decode-result.ts';
import { readSignatureField, skipExtraFields, writeNoExtraFields, writeSignatureField, writeSigningWrap } from './signature-field.ts';

export interface Tag {
  readonly networkId: bigint;
  readonly timestamp: bigint;
  /** u32 */
  readonly id: number;
  /** u32 */
  readonly value: number;
  readonly issuedTo: Address;
  readonly signedBy: Address;
  /** 96 bytes, or undefined when the credential carried no type-1 signature. */
  readonly signature: Uint8Array | undefined;
}

function writeBody(w: ByteWriter, t: Tag): void {
  w.u64(t.networkId).u64(t.timestamp).u32(t.id).u32(t.value).address(t.issuedTo).address(t.signedBy);
}

export function writeTag(w: ByteWriter, t: Tag): void {
  writeBody(w, t);
  writeSignatureField(w, t.signature);
  writeNoExtraFields(w);
}

export function encodeTag(t: Tag): Uint8Array {
  const w = new ByteWriter(135);
  writeTag(w, t);
  return w.finish();
}

/** The bytes the signature covers: 7f×8 ‖ fields ‖ u16 0 ‖ 7f×8. */
export function tagSignedBytes(t: Tag): Uint8Array {
  const w = new ByteWriter(60);
  writeSigningWrap(w);
  writeBody(w, t);
  writeNoExtraFields(w);
  writeSigningWrap(w);
  return w.finish();
}

export function readTag(r: ByteReader): Tag {
  const networkId = r.u64();
  const timestamp = r.u64();
  const id = r.u32();
  const value = r.u32();
  const issuedTo = r.address();
  const signedBy = r.address();
  const signature = readSignatureField(r);
  skipExtraFields(r);
  return { networkId, timestamp, id, value, issuedTo, signedBy, signature };
}

export function decodeTag(bytes: Uint8Array, offset = 0): DecodedAt<Tag> {
  return decodeAt(bytes, offset, readTag);
}

/** Sign as `signer` (sets signedBy to its address first, as Tag::sign does). */
export function signTag(t: Omit<Tag, 'signedBy' | 'signature'>, signer: Identity): Tag {
  const unsigned: Tag = { ...t, signedBy: signer.address, signature: undefined };
  return { ...unsigned, signature: signer.sign(tagSignedBytes(unsigned)) };
}

/** Signature check against the identity of `signedBy` (the caller resolves it). */
export function verifyTag(t: Tag, signer: Identity): boolean {
  return t.signature !== undefined && t.signedBy === signer.address && signer.verify(tagSignedBytes(t), t.signature);
}
