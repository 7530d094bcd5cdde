// WHOIS (verb 0x04) and OK(WHOIS) (docs/protocol/04-verbs.md §5).

import type { Address } from '../../identity/address.ts';
import type { Identity } from '../../identity/identity.ts';
import { ADDRESS_LENGTH } from '../../identity/constants.ts';
import { ByteReader, ByteWriter } from '../byte-cursor.ts';
import { IN_RE_HEADER_LENGTH, Verb } from '../constants.ts';
import type { Decoded } from '../decode-result.ts';
import { readIdentity, result, writeInRe } from './common.ts';

export interface Whois {
  /** 1.14 asks for exactly one address per WHOIS; more are allowed. */
  readonly addresses: readonly Address[];
}

export function encodeWhois(m: Whois): Uint8Array {
  const w = new ByteWriter(ADDRESS_LENGTH * m.addresses.length);
  for (const a of m.addresses) w.address(a);
  return w.finish();
}

/** Addresses back to back; trailing bytes that do not make a whole address are ignored (as in 1.14). */
export function decodeWhois(payload: Uint8Array): Decoded<Whois> {
  const r = new ByteReader(payload);
  const addresses: Address[] = [];
  while (r.remaining >= ADDRESS_LENGTH) addresses.push(r.address());
  return result(r, { addresses });
}

export interface OkWhois {
  readonly inRePacketId: bigint;
  /** Public identities of the addresses found, in request order. */
  readonly identities: readonly Identity[];
}

export function encodeOkWhois(ok: OkWhois): Uint8Array {
  const w = new ByteWriter(IN_RE_HEADER_LENGTH + 71 * ok.identities.length);
  writeInRe(w, Verb.WHOIS, ok.inRePacketId);
  for (const id of ok.identities) w.bytes(id.serialize(false));
  return w.finish();
}

/**
 * Decode a whole OK(WHOIS) payload. The first identity must be there and valid (1.14 reads only
 * that one); further identities are collected while they parse, and anything after the last
 * complete one is ignored.
 */
export function decodeOkWhois(payload: Uint8Array): Decoded<OkWhois> {
  const r = new ByteReader(payload);
  r.skip(1);
  const inRePacketId = r.u64();
  const first = readIdentity(r);
  if (r.failed || !first) return { ok: false, error: r.error ?? 'too-short' };
  const identities = [first];
  while (r.remaining > 0) {
    const probe = new ByteReader(r.bytes, r.offset, r.end);
    const next = readIdentity(probe);
    if (probe.failed || !next) break;
    identities.push(next);
    r.offset = probe.offset;
  }
  return result(r, { inRePacketId, identities });
}
