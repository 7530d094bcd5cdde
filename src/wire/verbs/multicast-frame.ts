// MULTICAST_FRAME (verb 0x0e) and OK(MULTICAST_FRAME) (docs/protocol/04-verbs.md §14).

import { ByteReader, ByteWriter } from '../byte-cursor.ts';
import { IN_RE_HEADER_LENGTH, MulticastFrameFlag, Verb } from '../constants.ts';
import type { Decoded } from '../decode-result.ts';
import { readCom, writeCom, type CertificateOfMembership } from '../credentials/com.ts';
import type { MulticastGroup } from '../mac.ts';
import { readMulticastGroup, result, writeInRe, writeMulticastGroup } from './common.ts';
import { readGatherResults, writeGatherResults, type GatherResults } from './multicast-gather.ts';

export interface MulticastFrame {
  readonly networkId: bigint;
  /**
   * MulticastFrameFlag bits. The encoder sets or clears the COM, gather-limit and source-MAC bits
   * from the optional fields below; the replicate bit (0x08) is taken as given.
   */
  readonly flags: number;
  /** Deprecated inline COM (0x01). */
  readonly com?: CertificateOfMembership;
  /** Implicit gather limit (0x02). */
  readonly gatherLimit?: number;
  /** Source MAC (0x04); otherwise the sender's own MAC on the network. */
  readonly sourceMac?: number;
  readonly group: MulticastGroup;
  readonly etherType: number;
  /** A view into the packet when decoded. */
  readonly payload: Uint8Array;
}

function effectiveFlags(m: MulticastFrame): number {
  const optional = MulticastFrameFlag.com | MulticastFrameFlag.gatherLimit | MulticastFrameFlag.sourceMac;
  return (m.flags & ~optional) |
    (m.com ? MulticastFrameFlag.com : 0) |
    (m.gatherLimit !== undefined ? MulticastFrameFlag.gatherLimit : 0) |
    (m.sourceMac !== undefined ? MulticastFrameFlag.sourceMac : 0);
}

export function encodeMulticastFrame(m: MulticastFrame): Uint8Array {
  const w = new ByteWriter(48 + m.payload.length);
  w.u64(m.networkId).u8(effectiveFlags(m));
  if (m.com) writeCom(w, m.com);
  if (m.gatherLimit !== undefined) w.u32(m.gatherLimit);
  if (m.sourceMac !== undefined) w.mac(m.sourceMac);
  writeMulticastGroup(w, m.group);
  w.u16(m.etherType).bytes(m.payload);
  return w.finish();
}

/** The optional fields are consecutive, each present one starting where the previous ended. */
export function decodeMulticastFrame(payload: Uint8Array): Decoded<MulticastFrame> {
  const r = new ByteReader(payload);
  const networkId = r.u64();
  const flags = r.u8();
  const com = !r.failed && (flags & MulticastFrameFlag.com) !== 0 ? readCom(r) : undefined;
  const gatherLimit = (flags & MulticastFrameFlag.gatherLimit) !== 0 ? r.u32() : undefined;
  const sourceMac = (flags & MulticastFrameFlag.sourceMac) !== 0 ? r.mac() : undefined;
  const group = readMulticastGroup(r);
  const etherType = r.u16();
  const frame: { -readonly [K in keyof MulticastFrame]: MulticastFrame[K] } = { networkId, flags, group, etherType, payload: r.rest() };
  if (com) frame.com = com;
  if (gatherLimit !== undefined) frame.gatherLimit = gatherLimit;
  if (sourceMac !== undefined) frame.sourceMac = sourceMac;
  return result(r, frame);
}

export interface OkMulticastFrame {
  readonly inRePacketId: bigint;
  readonly networkId: bigint;
  readonly group: MulticastGroup;
  /** Flags byte; 1.14 sends 0x02. The encoder derives the COM and gather bits from the fields. */
  readonly flags: number;
  /** (0x01, deprecated) */
  readonly com?: CertificateOfMembership;
  /** (0x02) implicit gather results */
  readonly gather?: GatherResults;
}

export function encodeOkMulticastFrame(ok: OkMulticastFrame): Uint8Array {
  const w = new ByteWriter(IN_RE_HEADER_LENGTH + 32 + 5 * (ok.gather?.members.length ?? 0));
  writeInRe(w, Verb.MULTICAST_FRAME, ok.inRePacketId);
  w.u64(ok.networkId);
  writeMulticastGroup(w, ok.group);
  const bits = MulticastFrameFlag.com | MulticastFrameFlag.gatherLimit;
  w.u8((ok.flags & ~bits) | (ok.com ? MulticastFrameFlag.com : 0) | (ok.gather ? MulticastFrameFlag.gatherLimit : 0));
  if (ok.com) writeCom(w, ok.com);
  if (ok.gather) writeGatherResults(w, ok.gather);
  return w.finish();
}

export function decodeOkMulticastFrame(payload: Uint8Array): Decoded<OkMulticastFrame> {
  const r = new ByteReader(payload);
  r.skip(1);
  const inRePacketId = r.u64();
  const networkId = r.u64();
  const group = readMulticastGroup(r);
  const flags = r.u8();
  const ok: { -readonly [K in keyof OkMulticastFrame]: OkMulticastFrame[K] } = { inRePacketId, networkId, group, flags };
  if (!r.failed && (flags & MulticastFrameFlag.com) !== 0) ok.com = readCom(r);
  if (!r.failed && (flags & MulticastFrameFlag.gatherLimit) !== 0) ok.gather = readGatherResults(r);
  return result(r, ok);
}
