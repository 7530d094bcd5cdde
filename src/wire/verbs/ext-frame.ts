// EXT_FRAME (verb 0x07, docs/protocol/04-verbs.md §8): a frame with explicit MACs (bridging, rule-engine
// TEE/REDIRECT/WATCH), optionally acknowledged with OK(EXT_FRAME).

import { ByteReader, ByteWriter } from '../byte-cursor.ts';
import { ExtFrameFlag, IN_RE_HEADER_LENGTH, Verb } from '../constants.ts';
import type { Decoded } from '../decode-result.ts';
import { readCom, writeCom, type CertificateOfMembership } from '../credentials/com.ts';
import { result, writeInRe } from './common.ts';

export interface ExtFrame {
  readonly networkId: bigint;
  /** ExtFrameFlag bits; the COM bit is set by the encoder from `com`. */
  readonly flags: number;
  /** Deprecated inline COM (flag 0x01). */
  readonly com?: CertificateOfMembership;
  readonly destinationMac: number;
  readonly sourceMac: number;
  readonly etherType: number;
  /** A view into the packet when decoded. */
  readonly payload: Uint8Array;
}

/** Subtype in bits 1-3 of the flags: 0 normal, 1-3 TEE/REDIRECT/WATCH outbound, 4-6 inbound. */
export function extFrameSubtype(flags: number): number {
  return (flags & ExtFrameFlag.subtypeMask) >>> 1;
}

export function encodeExtFrame(f: ExtFrame): Uint8Array {
  const w = new ByteWriter(64 + f.payload.length);
  const flags = f.com ? f.flags | ExtFrameFlag.com : f.flags & ~ExtFrameFlag.com;
  w.u64(f.networkId).u8(flags);
  if (f.com) writeCom(w, f.com);
  w.mac(f.destinationMac).mac(f.sourceMac).u16(f.etherType).bytes(f.payload);
  return w.finish();
}

export function decodeExtFrame(payload: Uint8Array): Decoded<ExtFrame> {
  const r = new ByteReader(payload);
  const networkId = r.u64();
  const flags = r.u8();
  const com = !r.failed && (flags & ExtFrameFlag.com) !== 0 ? readCom(r) : undefined;
  const destinationMac = r.mac();
  const sourceMac = r.mac();
  const etherType = r.u16();
  const frame: ExtFrame = { networkId, flags, destinationMac, sourceMac, etherType, payload: r.rest() };
  return result(r, com ? { ...frame, com } : frame);
}

export interface OkExtFrame {
  readonly inRePacketId: bigint;
  readonly networkId: bigint;
}

export function encodeOkExtFrame(ok: OkExtFrame): Uint8Array {
  const w = new ByteWriter(IN_RE_HEADER_LENGTH + 8);
  writeInRe(w, Verb.EXT_FRAME, ok.inRePacketId);
  return w.u64(ok.networkId).finish();
}

export function decodeOkExtFrame(payload: Uint8Array): Decoded<OkExtFrame> {
  const r = new ByteReader(payload);
  r.skip(1);
  const inRePacketId = r.u64();
  const networkId = r.u64();
  return result(r, { inRePacketId, networkId });
}
