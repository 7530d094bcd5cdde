// Revocation (docs/protocol/07-network-config-controller.md §5.5): withdraws a credential; for COMs it sets a
// timestamp threshold below which the target's COMs are refused.

import type { Address } from '../../identity/address.ts';
import type { Identity } from '../../identity/identity.ts';
import { ByteReader, ByteWriter, decodeAt } from '../byte-cursor.ts';
import type { DecodedAt } from '../decode-result.ts';
import { readSignatureField, skipExtraFields, writeNoExtraFields, writeSignatureField, writeSigningWrap } from './signature-field.ts';

export interface Revocation {
  /** u32 */
  readonly id: number;
  readonly networkId: bigint;
  /** u32: ID of the revoked credential (0 for COMs) */
  readonly credentialId: number;
  /** u64 (signed in 1.14): for COMs, the timestamp threshold */
  readonly threshold: bigint;
  /** RevocationFlag bits */
  readonly flags: bigint;
  readonly target: Address;
  readonly signedBy: Address;
  /** CredentialType of what is revoked */
  readonly credentialType: number;
  readonly signature: Uint8Array | undefined;
}

function writeBody(w: ByteWriter, v: Revocation): void {
  w.u32(0).u32(v.id).u64(v.networkId).u32(0).u32(v.credentialId).u64(v.threshold).u64(v.flags);
  w.address(v.target).address(v.signedBy).u8(v.credentialType);
}

export function writeRevocation(w: ByteWriter, v: Revocation): void {
  writeBody(w, v);
  writeSignatureField(w, v.signature);
  writeNoExtraFields(w);
}

export function encodeRevocation(v: Revocation): Uint8Array {
  const w = new ByteWriter(152);
  writeRevocation(w, v);
  return w.finish();
}

/** The bytes the signature covers: 7f×8 ‖ fields ‖ u16 0 ‖ 7f×8. */
export function revocationSignedBytes(v: Revocation): Uint8Array {
  const w = new ByteWriter(70);
  writeSigningWrap(w);
  writeBody(w, v);
  writeNoExtraFields(w);
  writeSigningWrap(w);
  return w.finish();
}

export function readRevocation(r: ByteReader): Revocation {
  r.skip(4); // unused, 0
  const id = r.u32();
  const networkId = r.u64();
  r.skip(4); // unused, 0
  const credentialId = r.u32();
  const threshold = r.u64();
  const flags = r.u64();
  const target = r.address();
  const signedBy = r.address();
  const credentialType = r.u8();
  const signature = readSignatureField(r);
  skipExtraFields(r);
  return { id, networkId, credentialId, threshold, flags, target, signedBy, credentialType, signature };
}

export function decodeRevocation(bytes: Uint8Array, offset = 0): DecodedAt<Revocation> {
  return decodeAt(bytes, offset, readRevocation);
}

export function signRevocation(v: Omit<Revocation, 'signedBy' | 'signature'>, signer: Identity): Revocation {
  const unsigned: Revocation = { ...v, signedBy: signer.address, signature: undefined };
  return { ...unsigned, signature: signer.sign(revocationSignedBytes(unsigned)) };
}

export function verifyRevocation(v: Revocation, signer: Identity): boolean {
  return v.signature !== undefined && v.signedBy === signer.address && signer.verify(revocationSignedBytes(v), v.signature);
}
