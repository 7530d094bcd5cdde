// Certificate of ownership (07-network-config-controller.md §5.4): the controller's statement that
// a member owns some MACs / IP addresses on the network.

import type { Address } from '../../identity/address.ts';
import type { Identity } from '../../identity/identity.ts';
import { ByteReader, ByteWriter, decodeAt } from '../byte-cursor.ts';
import { COO_MAX_THINGS, COO_THING_VALUE_LENGTH, CooThingType } from '../constants.ts';
import type { DecodedAt } from '../decode-result.ts';
import type { IpAddress } from '../inet-address.ts';
import { macToBytes } from '../mac.ts';
import { readSignatureField, skipExtraFields, writeNoExtraFields, writeSignatureField, writeSigningWrap } from './signature-field.ts';

export interface OwnedThing {
  /** CooThingType */
  readonly type: number;
  /** 16 bytes, zero padded (MAC: 6 used, IPv4: 4, IPv6: 16). */
  readonly value: Uint8Array;
}

export interface CertificateOfOwnership {
  readonly networkId: bigint;
  readonly timestamp: bigint;
  readonly flags: bigint;
  /** u32 */
  readonly id: number;
  /** At most COO_MAX_THINGS. */
  readonly things: readonly OwnedThing[];
  readonly issuedTo: Address;
  readonly signedBy: Address;
  readonly signature: Uint8Array | undefined;
}

function padded(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(COO_THING_VALUE_LENGTH);
  out.set(bytes.subarray(0, COO_THING_VALUE_LENGTH));
  return out;
}

/** The thing entry for an IP address (CertificateOfOwnership::addThing). */
export function ownedIp(ip: IpAddress): OwnedThing {
  return { type: ip.family === 4 ? CooThingType.ipv4 : CooThingType.ipv6, value: padded(ip.ip) };
}

export function ownedMac(mac: number): OwnedThing {
  return { type: CooThingType.mac, value: padded(macToBytes(mac)) };
}

function writeBody(w: ByteWriter, c: CertificateOfOwnership): void {
  w.u64(c.networkId).u64(c.timestamp).u64(c.flags).u32(c.id).u16(c.things.length);
  for (const t of c.things) w.u8(t.type).bytes(padded(t.value));
  w.address(c.issuedTo).address(c.signedBy);
}

export function writeCoo(w: ByteWriter, c: CertificateOfOwnership): void {
  writeBody(w, c);
  writeSignatureField(w, c.signature);
  writeNoExtraFields(w);
}

export function encodeCoo(c: CertificateOfOwnership): Uint8Array {
  const w = new ByteWriter(150 + 17 * c.things.length);
  writeCoo(w, c);
  return w.finish();
}

/** The bytes the signature covers: 7f×8 ‖ fields ‖ u16 0 ‖ 7f×8. */
export function cooSignedBytes(c: CertificateOfOwnership): Uint8Array {
  const w = new ByteWriter(70 + 17 * c.things.length);
  writeSigningWrap(w);
  writeBody(w, c);
  writeNoExtraFields(w);
  writeSigningWrap(w);
  return w.finish();
}

/**
 * CertificateOfOwnership::deserialize. More than 16 things is refused ('too-many-things'): 1.14
 * would silently stop consuming thing bytes after the 16th and misread the rest.
 */
export function readCoo(r: ByteReader): CertificateOfOwnership {
  const networkId = r.u64();
  const timestamp = r.u64();
  const flags = r.u64();
  const id = r.u32();
  const count = r.u16();
  if (count > COO_MAX_THINGS) r.fail('too-many-things');
  const things: OwnedThing[] = [];
  for (let i = 0; i < count && !r.failed; i++) things.push({ type: r.u8(), value: r.copy(COO_THING_VALUE_LENGTH) });
  const issuedTo = r.address();
  const signedBy = r.address();
  const signature = readSignatureField(r);
  skipExtraFields(r);
  return { networkId, timestamp, flags, id, things, issuedTo, signedBy, signature };
}

export function decodeCoo(bytes: Uint8Array, offset = 0): DecodedAt<CertificateOfOwnership> {
  return decodeAt(bytes, offset, readCoo);
}

export function signCoo(c: Omit<CertificateOfOwnership, 'signedBy' | 'signature'>, signer: Identity): CertificateOfOwnership {
  const unsigned: CertificateOfOwnership = { ...c, signedBy: signer.address, signature: undefined };
  return { ...unsigned, signature: signer.sign(cooSignedBytes(unsigned)) };
}

export function verifyCoo(c: CertificateOfOwnership, signer: Identity): boolean {
  return c.signature !== undefined && c.signedBy === signer.address && signer.verify(cooSignedBytes(c), c.signature);
}
