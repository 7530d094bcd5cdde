// USER_MESSAGE (verb 0x14, docs/protocol/04-verbs.md §16): a typed message for the local application.

import { ByteReader, ByteWriter } from '../byte-cursor.ts';
import type { Decoded } from '../decode-result.ts';
import { result } from './common.ts';

export interface UserMessage {
  /** IDs up to USER_MESSAGE_RESERVED_MAX_TYPE are reserved for ZeroTier. */
  readonly typeId: bigint;
  /** A view into the packet when decoded. */
  readonly data: Uint8Array;
}

export function encodeUserMessage(m: UserMessage): Uint8Array {
  return new ByteWriter(8 + m.data.length).u64(m.typeId).bytes(m.data).finish();
}

/** Payloads shorter than the 8-byte type ID are 'too-short' (1.14 ignores them). */
export function decodeUserMessage(payload: Uint8Array): Decoded<UserMessage> {
  const r = new ByteReader(payload);
  const typeId = r.u64();
  return result(r, { typeId, data: r.rest() });
}
