// The EXT_FRAMEs a rules verdict asks for (Network::filterOutgoingPacket / filterIncomingPacket in
// 1.14.1; docs/protocol/04-verbs.md §8): a TEE or WATCH copy of the frame's first bytes, and the
// whole frame to a REDIRECT target, flagged with the subtype for the direction we saw the frame
// in; a WATCH copy also asks its receiver for an OK.

import type { Address } from '../identity/address.ts';
import { ExtFrameFlag, ExtFrameSubtype } from '../wire/constants.ts';
import { encodeExtFrame } from '../wire/verbs/ext-frame.ts';
import type { FilteredFrame, FilterVerdict } from './rules-filter.ts';

export interface ForwardedFrame {
  to: Address;
  /** An EXT_FRAME payload. */
  payload: Uint8Array;
}

function flags(subtype: number, ack: boolean): number {
  return (subtype << 1) | (ack ? ExtFrameFlag.ackRequested : 0);
}

/** The copies (always) and the redirected frame (when `verdict.redirectTo` is set), for network `nwid`. */
export function forwardedFrames(nwid: bigint, f: FilteredFrame, verdict: FilterVerdict, withCopies = true): ForwardedFrame[] {
  const out: ForwardedFrame[] = [];
  const frame = (fl: number, payload: Uint8Array): Uint8Array =>
    encodeExtFrame({ networkId: nwid, flags: fl, destinationMac: f.macDest, sourceMac: f.macSource, etherType: f.etherType, payload });
  if (withCopies) {
    for (const c of verdict.copies) {
      const subtype = c.watch
        ? f.inbound ? ExtFrameSubtype.watchInbound : ExtFrameSubtype.watchOutbound
        : f.inbound ? ExtFrameSubtype.teeInbound : ExtFrameSubtype.teeOutbound;
      out.push({ to: c.to, payload: frame(flags(subtype, c.watch), f.data.subarray(0, c.length)) });
    }
  }
  if (verdict.redirectTo !== undefined) {
    const subtype = f.inbound ? ExtFrameSubtype.redirectInbound : ExtFrameSubtype.redirectOutbound;
    out.push({ to: verdict.redirectTo, payload: frame(flags(subtype, false), f.data) });
  }
  return out;
}
