// ECHO (verb 0x08) and OK(ECHO) (04-verbs.md §9): the reply carries a verbatim copy of the request.

import { ByteReader, ByteWriter } from '../byte-cursor.ts';
import { IN_RE_HEADER_LENGTH, Verb } from '../constants.ts';
import type { Decoded } from '../decode-result.ts';
import { result, writeInRe } from './common.ts';

export interface Echo {
  /** Arbitrary; 1.14 sends it empty (a view into the packet when decoded). */
  readonly payload: Uint8Array;
}

export function encodeEcho(m: Echo): Uint8Array {
  return m.payload.slice();
}

export function decodeEcho(payload: Uint8Array): Decoded<Echo> {
  return { ok: true, value: { payload } };
}

export interface OkEcho {
  readonly inRePacketId: bigint;
  readonly payload: Uint8Array;
}

export function encodeOkEcho(ok: OkEcho): Uint8Array {
  const w = new ByteWriter(IN_RE_HEADER_LENGTH + ok.payload.length);
  writeInRe(w, Verb.ECHO, ok.inRePacketId);
  return w.bytes(ok.payload).finish();
}

export function decodeOkEcho(payload: Uint8Array): Decoded<OkEcho> {
  const r = new ByteReader(payload);
  r.skip(1);
  const inRePacketId = r.u64();
  return result(r, { inRePacketId, payload: r.rest() });
}
