// MULTICAST_LIKE (verb 0x09, docs/protocol/04-verbs.md §10): the sender subscribes to multicast groups.

import { ByteReader, ByteWriter } from '../byte-cursor.ts';
import { MULTICAST_LIKE_ENTRY_LENGTH } from '../constants.ts';
import type { Decoded } from '../decode-result.ts';
import type { MulticastGroup } from '../mac.ts';
import { readMulticastGroup, result, writeMulticastGroup } from './common.ts';

export interface MulticastSubscription {
  readonly networkId: bigint;
  readonly group: MulticastGroup;
}

export interface MulticastLike {
  readonly subscriptions: readonly MulticastSubscription[];
}

export function encodeMulticastLike(m: MulticastLike): Uint8Array {
  const w = new ByteWriter(MULTICAST_LIKE_ENTRY_LENGTH * m.subscriptions.length);
  for (const s of m.subscriptions) {
    w.u64(s.networkId);
    writeMulticastGroup(w, s.group);
  }
  return w.finish();
}

/** 18-byte tuples to the end; a partial tuple at the end is 'too-short' (1.14 throws there). */
export function decodeMulticastLike(payload: Uint8Array): Decoded<MulticastLike> {
  const r = new ByteReader(payload);
  const subscriptions: MulticastSubscription[] = [];
  while (r.remaining > 0 && !r.failed) {
    const networkId = r.u64();
    const group = readMulticastGroup(r);
    if (!r.failed) subscriptions.push({ networkId, group });
  }
  return result(r, { subscriptions });
}
