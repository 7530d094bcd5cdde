// MULTICAST_GATHER (verb 0x0d) and OK(MULTICAST_GATHER) (docs/protocol/04-verbs.md §13): ask who subscribes
// to a multicast group.

import type { Address } from '../../identity/address.ts';
import { ByteReader, ByteWriter } from '../byte-cursor.ts';
import { IN_RE_HEADER_LENGTH, MulticastGatherFlag, Verb } from '../constants.ts';
import type { Decoded } from '../decode-result.ts';
import { readCom, writeCom, type CertificateOfMembership } from '../credentials/com.ts';
import type { MulticastGroup } from '../mac.ts';
import { readMulticastGroup, result, writeInRe, writeMulticastGroup } from './common.ts';

export interface MulticastGather {
  readonly networkId: bigint;
  /** MulticastGatherFlag bits; the COM bit is set by the encoder from `com`. */
  readonly flags: number;
  readonly group: MulticastGroup;
  /** Maximum number of member addresses wanted (u32). */
  readonly gatherLimit: number;
  /** Sender's COM (flag 0x01). */
  readonly com?: CertificateOfMembership;
}

export function encodeMulticastGather(m: MulticastGather): Uint8Array {
  const w = new ByteWriter(24 + (m.com ? 300 : 0));
  const flags = m.com ? m.flags | MulticastGatherFlag.com : m.flags & ~MulticastGatherFlag.com;
  w.u64(m.networkId).u8(flags);
  writeMulticastGroup(w, m.group);
  w.u32(m.gatherLimit);
  if (m.com) writeCom(w, m.com);
  return w.finish();
}

/** A COM that does not parse is dropped, not an error (1.14 discards invalid COMs here). */
export function decodeMulticastGather(payload: Uint8Array): Decoded<MulticastGather> {
  const r = new ByteReader(payload);
  const networkId = r.u64();
  const flags = r.u8();
  const group = readMulticastGroup(r);
  const gatherLimit = r.u32();
  const m: MulticastGather = { networkId, flags, group, gatherLimit };
  if (!r.failed && (flags & MulticastGatherFlag.com) !== 0) {
    const comReader = new ByteReader(r.bytes, r.offset, r.end);
    const com = readCom(comReader);
    if (!comReader.failed) return result(r, { ...m, com });
  }
  return result(r, m);
}

/** The gather results shared by OK(MULTICAST_GATHER) and OK(MULTICAST_FRAME). */
export interface GatherResults {
  /** Total subscribers the responder knows (u32). */
  readonly totalKnown: number;
  /** Member addresses in this packet (at most 65535). */
  readonly members: readonly Address[];
}

export function writeGatherResults(w: ByteWriter, g: GatherResults): void {
  w.u32(g.totalKnown).u16(g.members.length);
  for (const a of g.members) w.address(a);
}

export function readGatherResults(r: ByteReader): GatherResults {
  const totalKnown = r.u32();
  const count = r.u16();
  const members: Address[] = [];
  if (count * 5 > r.remaining) r.fail('too-short');
  for (let i = 0; i < count && !r.failed; i++) members.push(r.address());
  return { totalKnown, members };
}

export interface OkMulticastGather extends GatherResults {
  readonly inRePacketId: bigint;
  readonly networkId: bigint;
  readonly group: MulticastGroup;
}

export function encodeOkMulticastGather(ok: OkMulticastGather): Uint8Array {
  const w = new ByteWriter(IN_RE_HEADER_LENGTH + 24 + 5 * ok.members.length);
  writeInRe(w, Verb.MULTICAST_GATHER, ok.inRePacketId);
  w.u64(ok.networkId);
  writeMulticastGroup(w, ok.group);
  writeGatherResults(w, ok);
  return w.finish();
}

export function decodeOkMulticastGather(payload: Uint8Array): Decoded<OkMulticastGather> {
  const r = new ByteReader(payload);
  r.skip(1);
  const inRePacketId = r.u64();
  const networkId = r.u64();
  const group = readMulticastGroup(r);
  const { totalKnown, members } = readGatherResults(r);
  return result(r, { inRePacketId, networkId, group, totalKnown, members });
}
