// ERROR (verb 0x02, docs/protocol/04-verbs.md §2-§3): in-re verb, in-re packet ID, error code, and a payload
// that depends on the code.

import { ByteReader, ByteWriter } from '../byte-cursor.ts';
import { ErrorCode } from '../constants.ts';
import type { Decoded } from '../decode-result.ts';
import type { MulticastGroup } from '../mac.ts';
import { readMulticastGroup, result, writeInRe, writeMulticastGroup } from './common.ts';

export interface ErrorMessage {
  readonly inReVerb: number;
  /** Exactly as seen on the wire. */
  readonly inRePacketId: bigint;
  /** ErrorCode value (unknown codes are kept as numbers). */
  readonly errorCode: number;
  /**
   * The u64 network ID that follows most codes (OBJ_NOT_FOUND, UNSUPPORTED_OPERATION,
   * NEED_MEMBERSHIP_CERTIFICATE, NETWORK_ACCESS_DENIED, UNWANTED_MULTICAST,
   * NETWORK_AUTHENTICATION_REQUIRED); absent when the payload stops before it.
   */
  readonly networkId?: bigint;
  /** UNWANTED_MULTICAST: the group (MAC + ADI) after the network ID. */
  readonly group?: MulticastGroup;
  /**
   * NETWORK_AUTHENTICATION_REQUIRED: the auth-info dictionary bytes (07-network-config-controller.md §8) after the network ID,
   * present only where 1.14 would read them (a view when decoded).
   */
  readonly authInfo?: Uint8Array;
}

export function encodeError(e: ErrorMessage): Uint8Array {
  const w = new ByteWriter(64 + (e.authInfo?.length ?? 0));
  writeInRe(w, e.inReVerb, e.inRePacketId);
  w.u8(e.errorCode);
  if (e.networkId !== undefined) {
    w.u64(e.networkId);
    if (e.errorCode === ErrorCode.UNWANTED_MULTICAST && e.group) writeMulticastGroup(w, e.group);
    // 1.14 controllers append the dictionary only when there is one (Node::ncSendError).
    if (e.errorCode === ErrorCode.NETWORK_AUTHENTICATION_REQUIRED && e.authInfo && e.authInfo.length > 0) {
      w.u16(e.authInfo.length).bytes(e.authInfo);
    }
  }
  return w.finish();
}

/**
 * Decode an ERROR payload. The code-specific fields are optional here (1.14 reads them only when
 * it acts on the code); the auth-info dictionary is returned only if more than 2 bytes follow the
 * network ID and the announced length fits, as _doERROR requires.
 */
export function decodeError(payload: Uint8Array): Decoded<ErrorMessage> {
  const r = new ByteReader(payload);
  const inReVerb = r.u8();
  const inRePacketId = r.u64();
  const errorCode = r.u8();
  const e: { -readonly [K in keyof ErrorMessage]: ErrorMessage[K] } = { inReVerb, inRePacketId, errorCode };
  if (!r.failed && r.remaining >= 8) {
    e.networkId = r.u64();
    if (errorCode === ErrorCode.UNWANTED_MULTICAST && r.remaining >= 10) e.group = readMulticastGroup(r);
    if (errorCode === ErrorCode.NETWORK_AUTHENTICATION_REQUIRED && r.remaining > 2) {
      const length = r.u16();
      if (r.remaining >= length) e.authInfo = r.view(length);
    }
  }
  return result(r, e);
}
