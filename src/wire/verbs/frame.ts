// FRAME (verb 0x06, docs/protocol/04-verbs.md §7): an Ethernet payload between two members; the MACs are
// implied by the two ZeroTier addresses (mac.ts macFromAddress).

import { ByteReader, ByteWriter } from '../byte-cursor.ts';
import type { Decoded } from '../decode-result.ts';
import { result } from './common.ts';

export interface Frame {
  readonly networkId: bigint;
  readonly etherType: number;
  /** Ethernet payload without header (a view into the packet when decoded). */
  readonly payload: Uint8Array;
}

/** Bytes of FRAME's payload before the Ethernet payload: network ID (8) and EtherType (2). */
export const FRAME_HEADER_LENGTH = 10;

/** FRAME's header (network ID, EtherType) into the first 10 bytes of `out`: sent as a part before the Ethernet payload. */
export function writeFrameHeader(out: Uint8Array, networkId: bigint, etherType: number): void {
  new DataView(out.buffer, out.byteOffset, FRAME_HEADER_LENGTH).setBigUint64(0, networkId);
  out[8] = etherType >>> 8;
  out[9] = etherType & 0xff;
}

export function encodeFrame(f: Frame): Uint8Array {
  return new ByteWriter(10 + f.payload.length).u64(f.networkId).u16(f.etherType).bytes(f.payload).finish();
}

export function decodeFrame(payload: Uint8Array): Decoded<Frame> {
  const r = new ByteReader(payload);
  const networkId = r.u64();
  const etherType = r.u16();
  return result(r, { networkId, etherType, payload: r.rest() });
}
