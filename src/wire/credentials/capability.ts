// Capability (07-network-config-controller.md §5.2): a set of rules granted to a member, carried
// through a custody chain of signatures starting at the network controller.

import type { Address } from '../../identity/address.ts';
import type { Identity } from '../../identity/identity.ts';
import { ByteReader, ByteWriter, decodeAt } from '../byte-cursor.ts';
import { MAX_CAPABILITY_CUSTODY_CHAIN_LENGTH, MAX_CAPABILITY_RULES } from '../constants.ts';
import type { DecodedAt } from '../decode-result.ts';
import { readRules, writeRule, type Rule } from '../rules.ts';
import { readSignatureField, skipExtraFields, writeNoExtraFields, writeSignatureField, writeSigningWrap } from './signature-field.ts';

export interface CustodyLink {
  readonly to: Address;
  readonly from: Address;
  readonly signature: Uint8Array | undefined;
}

export interface Capability {
  readonly networkId: bigint;
  readonly timestamp: bigint;
  /** u32 */
  readonly id: number;
  /** At most MAX_CAPABILITY_RULES. */
  readonly rules: readonly Rule[];
  /** 1..7 */
  readonly maxCustodyChainLength: number;
  /** At most maxCustodyChainLength links. */
  readonly custody: readonly CustodyLink[];
}

function writeBody(w: ByteWriter, c: Capability): void {
  w.u64(c.networkId).u64(c.timestamp).u32(c.id).u16(c.rules.length);
  for (const rule of c.rules) writeRule(w, rule);
  w.u8(c.maxCustodyChainLength);
}

export function writeCapability(w: ByteWriter, c: Capability): void {
  writeBody(w, c);
  const links = Math.min(c.maxCustodyChainLength, MAX_CAPABILITY_CUSTODY_CHAIN_LENGTH);
  for (let i = 0; i < links && i < c.custody.length && c.custody[i].to !== 0; i++) {
    w.address(c.custody[i].to).address(c.custody[i].from);
    writeSignatureField(w, c.custody[i].signature);
  }
  w.address(0); // a zero "to" ends the chain
  writeNoExtraFields(w);
}

export function encodeCapability(c: Capability): Uint8Array {
  const w = new ByteWriter(256);
  writeCapability(w, c);
  return w.finish();
}

/** What every custody signature covers: 7f×8 ‖ fields up to maxCustodyChainLength ‖ u16 0 ‖ 7f×8. */
export function capabilitySignedBytes(c: Capability): Uint8Array {
  const w = new ByteWriter(256);
  writeSigningWrap(w);
  writeBody(w, c);
  writeNoExtraFields(w);
  writeSigningWrap(w);
  return w.finish();
}

export function readCapability(r: ByteReader): Capability {
  const networkId = r.u64();
  const timestamp = r.u64();
  const id = r.u32();
  const ruleCount = r.u16();
  if (ruleCount > MAX_CAPABILITY_RULES) r.fail('too-many-rules');
  const rules = readRules(r, ruleCount);
  const maxCustodyChainLength = r.u8();
  if (!r.failed && (maxCustodyChainLength < 1 || maxCustodyChainLength > MAX_CAPABILITY_CUSTODY_CHAIN_LENGTH)) {
    r.fail('bad-custody-chain');
  }
  const custody: CustodyLink[] = [];
  while (!r.failed) {
    const to = r.address();
    if (r.failed || to === 0) break;
    if (custody.length >= maxCustodyChainLength) {
      r.fail('bad-custody-chain');
      break;
    }
    const from = r.address();
    custody.push({ to, from, signature: readSignatureField(r) });
  }
  skipExtraFields(r);
  return { networkId, timestamp, id, rules, maxCustodyChainLength, custody };
}

export function decodeCapability(bytes: Uint8Array, offset = 0): DecodedAt<Capability> {
  return decodeAt(bytes, offset, readCapability);
}

/** Append a custody link signed by `from` handing the capability to `to` (Capability::sign); null if the chain is full. */
export function addCustodyLink(c: Capability, from: Identity, to: Address): Capability | null {
  if (c.custody.length >= Math.min(c.maxCustodyChainLength, MAX_CAPABILITY_CUSTODY_CHAIN_LENGTH)) return null;
  const signature = from.sign(capabilitySignedBytes(c));
  return { ...c, custody: [...c.custody, { to, from: from.address, signature }] };
}

/** Check one link's signature against the identity of its `from` (chain rules are the caller's). */
export function verifyCustodyLink(c: Capability, index: number, from: Identity): boolean {
  const link = c.custody[index];
  return link !== undefined && link.signature !== undefined && link.from === from.address &&
    from.verify(capabilitySignedBytes(c), link.signature);
}
