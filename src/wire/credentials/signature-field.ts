// Pieces shared by the signed credentials (docs/protocol/07-network-config-controller.md §5.2-§5.5): the
// "signature type, length, signature" triple, the trailing extra-fields length, and the 7f×8
// wrapping of the bytes that get signed.

import { SIGNATURE_LENGTH } from '../../crypto/c25519.ts';
import type { ByteReader, ByteWriter } from '../byte-cursor.ts';
import { CREDENTIAL_SIGNING_WRAP_BYTE, CREDENTIAL_SIGNING_WRAP_LENGTH, SIGNATURE_TYPE_ED25519 } from '../constants.ts';

/**
 * Read `u8 type` then, for type 1, `u16 96` and the 96-byte signature (another length is an
 * error); for any other type skip `u16 length` bytes and return undefined.
 */
export function readSignatureField(r: ByteReader): Uint8Array | undefined {
  const type = r.u8();
  const length = r.u16();
  if (r.failed) return undefined;
  if (type !== SIGNATURE_TYPE_ED25519) {
    r.skip(length);
    return undefined;
  }
  if (length !== SIGNATURE_LENGTH) {
    r.fail('bad-signature-length');
    return undefined;
  }
  return r.copy(SIGNATURE_LENGTH);
}

/** Writes type 1 and the signature; an unsigned credential gets 96 zero bytes, as 1.14 sends it. */
export function writeSignatureField(w: ByteWriter, signature: Uint8Array | undefined): void {
  w.u8(SIGNATURE_TYPE_ED25519).u16(SIGNATURE_LENGTH);
  if (signature) w.bytes(signature.subarray(0, SIGNATURE_LENGTH));
  else w.zeros(SIGNATURE_LENGTH);
}

/** Skip the trailing `u16 length` + extra fields (1.14 writes length 0). */
export function skipExtraFields(r: ByteReader): void {
  r.skip(r.u16());
}

export function writeNoExtraFields(w: ByteWriter): void {
  w.u16(0);
}

export function writeSigningWrap(w: ByteWriter): void {
  for (let i = 0; i < CREDENTIAL_SIGNING_WRAP_LENGTH; i++) w.u8(CREDENTIAL_SIGNING_WRAP_BYTE);
}
