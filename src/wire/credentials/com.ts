// Certificate of membership (docs/protocol/07-network-config-controller.md §5.1): qualifiers signed by the
// network controller. Members compare their own COM with a peer's to decide whether the peer
// belongs on the network.

import type { Address } from '../../identity/address.ts';
import type { Identity } from '../../identity/identity.ts';
import { SIGNATURE_LENGTH } from '../../crypto/c25519.ts';
import { ByteReader, ByteWriter, decodeAt } from '../byte-cursor.ts';
import { COM_FORMAT, COM_MAX_QUALIFIERS, COM_QUALIFIER_LENGTH, ComQualifierId } from '../constants.ts';
import type { DecodedAt } from '../decode-result.ts';

const U64_MAX = 0xffff_ffff_ffff_ffffn;

export interface ComQualifier {
  readonly id: bigint;
  readonly value: bigint;
  readonly maxDelta: bigint;
}

export interface CertificateOfMembership {
  /** In non-decreasing ID order, at most 8. */
  readonly qualifiers: readonly ComQualifier[];
  /** The signing controller's address; 0 for an unsigned COM. */
  readonly signedBy: Address;
  /** 96 bytes when signedBy != 0. */
  readonly signature: Uint8Array | undefined;
}

export function writeCom(w: ByteWriter, com: CertificateOfMembership): void {
  w.u8(COM_FORMAT).u16(com.qualifiers.length);
  for (const q of com.qualifiers) w.u64(q.id).u64(q.value).u64(q.maxDelta);
  w.address(com.signedBy);
  if (com.signedBy !== 0) {
    if (com.signature) w.bytes(com.signature.subarray(0, SIGNATURE_LENGTH));
    else w.zeros(SIGNATURE_LENGTH);
  }
}

export function encodeCom(com: CertificateOfMembership): Uint8Array {
  const w = new ByteWriter(3 + COM_QUALIFIER_LENGTH * com.qualifiers.length + 5 + SIGNATURE_LENGTH);
  writeCom(w, com);
  return w.finish();
}

/** CertificateOfMembership::deserialize. On failure the reader carries the error. */
export function readCom(r: ByteReader): CertificateOfMembership {
  const empty: CertificateOfMembership = { qualifiers: [], signedBy: 0, signature: undefined };
  if (r.u8() !== COM_FORMAT) {
    if (!r.failed) r.fail('bad-com-format');
    return empty;
  }
  const count = r.u16();
  const qualifiers: ComQualifier[] = [];
  let lastId = 0n;
  for (let i = 0; i < count && !r.failed; i++) {
    const id = r.u64();
    if (id < lastId) {
      r.fail('com-qualifiers-out-of-order');
      break;
    }
    lastId = id;
    if (qualifiers.length >= COM_MAX_QUALIFIERS) {
      r.fail('too-many-com-qualifiers');
      break;
    }
    qualifiers.push({ id, value: r.u64(), maxDelta: r.u64() });
  }
  const signedBy = r.address();
  const signature = signedBy !== 0 ? r.copy(SIGNATURE_LENGTH) : undefined;
  return r.failed ? empty : { qualifiers, signedBy, signature };
}

export function decodeCom(bytes: Uint8Array, offset = 0): DecodedAt<CertificateOfMembership> {
  return decodeAt(bytes, offset, readCom);
}

/** The signed bytes: the qualifiers exactly as serialized, nothing else. */
export function comSignedBytes(com: CertificateOfMembership): Uint8Array {
  const w = new ByteWriter(COM_QUALIFIER_LENGTH * com.qualifiers.length);
  for (const q of com.qualifiers) w.u64(q.id).u64(q.value).u64(q.maxDelta);
  return w.finish();
}

/** The four u64 qualifier values (IDs 3..6) derived from a member's identity: SHA-384(address ‖ key)[0..32). */
export function publicKeyHashQualifierValues(member: Identity): bigint[] {
  const h = member.publicKeyHash();
  const r = new ByteReader(h);
  return [r.u64(), r.u64(), r.u64(), r.u64()];
}

/** The 7 qualifiers a 1.14 controller issues (07-network-config-controller.md §5.1), unsigned. */
export function createCom(timestamp: bigint, timestampMaxDelta: bigint, networkId: bigint, member: Identity): CertificateOfMembership {
  const hash = publicKeyHashQualifierValues(member);
  return {
    qualifiers: [
      { id: ComQualifierId.timestamp, value: timestamp, maxDelta: timestampMaxDelta },
      { id: ComQualifierId.networkId, value: networkId, maxDelta: 0n },
      { id: ComQualifierId.issuedTo, value: BigInt(member.address), maxDelta: U64_MAX },
      ...hash.map((value, i) => ({ id: ComQualifierId.publicKeyHashFirst + BigInt(i), value, maxDelta: U64_MAX })),
    ],
    signedBy: 0,
    signature: undefined,
  };
}

/** Sign with the controller identity (it must hold its private key). */
export function signCom(com: CertificateOfMembership, signer: Identity): CertificateOfMembership {
  return { qualifiers: com.qualifiers, signedBy: signer.address, signature: signer.sign(comSignedBytes(com)) };
}

/**
 * The signature check of CertificateOfMembership::verify given the signer's identity: signed,
 * signed by `signer`, and the signature valid. The rule that the signer must be the network's
 * controller (nwid >> 24) is checked by comIsSignedByController.
 */
export function verifyCom(com: CertificateOfMembership, signer: Identity): boolean {
  if (com.signedBy === 0 || com.signedBy !== signer.address || !com.signature) return false;
  if (com.qualifiers.length > COM_MAX_QUALIFIERS) return false;
  return signer.verify(comSignedBytes(com), com.signature);
}

export function comQualifier(com: CertificateOfMembership, id: bigint): ComQualifier | undefined {
  return com.qualifiers.find((q) => q.id === id);
}

export function comTimestamp(com: CertificateOfMembership): bigint | undefined {
  return comQualifier(com, ComQualifierId.timestamp)?.value;
}

export function comNetworkId(com: CertificateOfMembership): bigint | undefined {
  return comQualifier(com, ComQualifierId.networkId)?.value;
}

export function comIssuedTo(com: CertificateOfMembership): Address | undefined {
  const v = comQualifier(com, ComQualifierId.issuedTo)?.value;
  return v === undefined ? undefined : Number(v & 0xff_ffff_ffffn);
}

/** Whether the COM is signed by the network's controller (address = nwid >> 24). */
export function comIsSignedByController(com: CertificateOfMembership): boolean {
  const nwid = comNetworkId(com);
  return nwid !== undefined && com.signedBy !== 0 && BigInt(com.signedBy) === ((nwid >> 24n) & 0xff_ffff_ffffn);
}

/**
 * CertificateOfMembership::agreesWith, run by the receiver with its own COM (`mine`) against the
 * sender's COM (`theirs`) and the sender's identity: every qualifier of mine must appear in
 * theirs within my maxDelta, and if mine has any of IDs 3..6, theirs must carry IDs 3..6 equal to
 * the hash of the sender's actual identity.
 */
export function comAgreesWith(mine: CertificateOfMembership, theirs: CertificateOfMembership, theirIdentity: Identity): boolean {
  if (mine.qualifiers.length === 0 || theirs.qualifiers.length === 0) return false;
  // A later qualifier with the same ID overrides an earlier one, as in 1.14's std::map.
  const other = new Map<bigint, bigint>();
  for (const q of theirs.qualifiers) other.set(q.id, q.value);
  let fullIdentityCheck = false;
  for (const q of mine.qualifiers) {
    if (q.id >= ComQualifierId.publicKeyHashFirst && q.id <= ComQualifierId.publicKeyHashLast) fullIdentityCheck = true;
    const v = other.get(q.id);
    if (v === undefined) return false;
    const delta = q.value >= v ? q.value - v : v - q.value;
    if (delta > q.maxDelta) return false;
  }
  if (fullIdentityCheck) {
    const hash = publicKeyHashQualifierValues(theirIdentity);
    for (let i = 0; i < 4; i++) {
      if (other.get(ComQualifierId.publicKeyHashFirst + BigInt(i)) !== hash[i]) return false;
    }
  }
  return true;
}
