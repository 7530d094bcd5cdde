// NETWORK_CREDENTIALS (verb 0x0a, docs/protocol/04-verbs.md §11): COMs, capabilities, tags, revocations and
// certificates of ownership pushed between members or from the controller.

import { ByteReader, ByteWriter } from '../byte-cursor.ts';
import type { Decoded } from '../decode-result.ts';
import { readCapability, writeCapability, type Capability } from '../credentials/capability.ts';
import { readCom, writeCom, type CertificateOfMembership } from '../credentials/com.ts';
import { readCoo, writeCoo, type CertificateOfOwnership } from '../credentials/coo.ts';
import { readRevocation, writeRevocation, type Revocation } from '../credentials/revocation.ts';
import { readTag, writeTag, type Tag } from '../credentials/tag.ts';
import { result } from './common.ts';

export interface NetworkCredentials {
  readonly coms: readonly CertificateOfMembership[];
  readonly capabilities: readonly Capability[];
  readonly tags: readonly Tag[];
  readonly revocations: readonly Revocation[];
  readonly certificatesOfOwnership: readonly CertificateOfOwnership[];
}

/** All five sections, as 1.14 writes them (the COM list ends with a 0x00 byte). */
export function encodeNetworkCredentials(m: Partial<NetworkCredentials>): Uint8Array {
  const w = new ByteWriter(512);
  for (const com of m.coms ?? []) writeCom(w, com);
  w.u8(0);
  const section = <T>(items: readonly T[] | undefined, write: (w: ByteWriter, item: T) => void): void => {
    w.u16(items?.length ?? 0);
    for (const item of items ?? []) write(w, item);
  };
  section(m.capabilities, writeCapability);
  section(m.tags, writeTag);
  section(m.revocations, writeRevocation);
  section(m.certificatesOfOwnership, writeCoo);
  return w.finish();
}

/**
 * As _doNETWORK_CREDENTIALS reads it: COMs while the next byte is not 0, skip the 0, then each
 * later section only if bytes remain (older senders stop early). Every credential a count
 * announces must parse.
 */
export function decodeNetworkCredentials(payload: Uint8Array): Decoded<NetworkCredentials> {
  const r = new ByteReader(payload);
  const coms: CertificateOfMembership[] = [];
  while (r.remaining > 0 && r.bytes[r.offset] !== 0 && !r.failed) {
    const com = readCom(r);
    if (!r.failed) coms.push(com);
  }
  if (r.remaining > 0) r.skip(1);
  const section = <T>(read: (r: ByteReader) => T): T[] => {
    const items: T[] = [];
    if (r.failed || r.remaining === 0) return items;
    const count = r.u16();
    for (let i = 0; i < count && !r.failed; i++) {
      const item = read(r);
      if (!r.failed) items.push(item);
    }
    return items;
  };
  const capabilities = section(readCapability);
  const tags = section(readTag);
  const revocations = section(readRevocation);
  const certificatesOfOwnership = section(readCoo);
  return result(r, { coms, capabilities, tags, revocations, certificatesOfOwnership });
}
