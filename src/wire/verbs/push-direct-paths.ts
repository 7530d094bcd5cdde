// PUSH_DIRECT_PATHS (verb 0x10, 04-verbs.md §15): a peer lists addresses where it may be reached.

import { ByteReader, ByteWriter } from '../byte-cursor.ts';
import {
  PUSH_DIRECT_PATHS_IPV4_LENGTH, PUSH_DIRECT_PATHS_IPV6_LENGTH, PUSH_DIRECT_PATHS_TYPE_IPV4, PUSH_DIRECT_PATHS_TYPE_IPV6,
} from '../constants.ts';
import type { Decoded } from '../decode-result.ts';
import type { IpAddress } from '../inet-address.ts';
import { result } from './common.ts';

export interface PushedPath {
  /** PushDirectPathsFlag bits. */
  readonly flags: number;
  /** Extension data (1.14 sends none and ignores it); a view when decoded. */
  readonly extension: Uint8Array;
  /** The address for types 4 and 6; undefined for other address types (skipped by 1.14). */
  readonly address: IpAddress | undefined;
  /** Address type byte as sent (4, 6 or something unknown). */
  readonly addressType: number;
}

export interface PushDirectPaths {
  readonly paths: readonly PushedPath[];
}

/** A path to announce: what the encoder needs. */
export interface PathToPush {
  readonly flags: number;
  readonly address: IpAddress;
  readonly extension?: Uint8Array;
}

export function encodePushDirectPaths(m: { readonly paths: readonly PathToPush[] }): Uint8Array {
  const w = new ByteWriter(2 + 24 * m.paths.length);
  w.u16(m.paths.length);
  for (const p of m.paths) {
    const a = p.address;
    const extension = p.extension ?? new Uint8Array(0);
    w.u8(p.flags).u16(extension.length).bytes(extension);
    if (a.family === 4) w.u8(PUSH_DIRECT_PATHS_TYPE_IPV4).u8(PUSH_DIRECT_PATHS_IPV4_LENGTH);
    else w.u8(PUSH_DIRECT_PATHS_TYPE_IPV6).u8(PUSH_DIRECT_PATHS_IPV6_LENGTH);
    w.bytes(a.ip).u16(a.port);
  }
  return w.finish();
}

/**
 * As _doPUSH_DIRECT_PATHS reads it: for types 4 and 6 the IP and port are read where the address
 * starts, and the cursor then moves by the length byte whatever it says; other types are skipped
 * by their length byte. Every record the count announces must be there.
 */
export function decodePushDirectPaths(payload: Uint8Array): Decoded<PushDirectPaths> {
  const r = new ByteReader(payload);
  const count = r.u16();
  const paths: PushedPath[] = [];
  for (let i = 0; i < count && !r.failed; i++) {
    const flags = r.u8();
    const extension = r.view(r.u16());
    const addressType = r.u8();
    const addressLength = r.u8();
    const at = r.offset;
    let address: IpAddress | undefined;
    if (addressType === PUSH_DIRECT_PATHS_TYPE_IPV4) address = { family: 4, ip: r.copy(4), port: r.u16() };
    else if (addressType === PUSH_DIRECT_PATHS_TYPE_IPV6) address = { family: 6, ip: r.copy(16), port: r.u16() };
    if (r.failed) break;
    r.offset = at;
    if (addressLength > r.remaining) r.offset = r.end; // 1.14 moves past the end; a further record would fail
    else r.skip(addressLength);
    paths.push({ flags, extension, address, addressType });
  }
  return result(r, { paths });
}
