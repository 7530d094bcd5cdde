// RENDEZVOUS (verb 0x05, docs/protocol/04-verbs.md §6): a relay tells a peer where to reach another peer.

import type { Address } from '../../identity/address.ts';
import { ByteReader, ByteWriter } from '../byte-cursor.ts';
import { RENDEZVOUS_IPV4_LENGTH, RENDEZVOUS_IPV6_LENGTH } from '../constants.ts';
import type { Decoded } from '../decode-result.ts';
import type { IpAddress } from '../inet-address.ts';
import { result } from './common.ts';

export interface Rendezvous {
  /** 0 in 1.14 */
  readonly flags: number;
  /** The other peer. */
  readonly peer: Address;
  /**
   * Where to reach it. Undefined when the address length byte is neither 4 nor 16 (1.14 then
   * ignores the packet, as it does for port 0).
   */
  readonly address: IpAddress | undefined;
}

export function encodeRendezvous(m: { flags?: number; peer: Address; address: IpAddress }): Uint8Array {
  const w = new ByteWriter(37);
  w.u8(m.flags ?? 0).address(m.peer).u16(m.address.port).u8(m.address.ip.length).bytes(m.address.ip);
  return w.finish();
}

export function decodeRendezvous(payload: Uint8Array): Decoded<Rendezvous> {
  const r = new ByteReader(payload);
  const flags = r.u8();
  const peer = r.address();
  const port = r.u16();
  const length = r.u8();
  let address: IpAddress | undefined;
  if (length === RENDEZVOUS_IPV4_LENGTH) address = { family: 4, ip: r.copy(4), port };
  else if (length === RENDEZVOUS_IPV6_LENGTH) address = { family: 6, ip: r.copy(16), port };
  return result(r, { flags, peer, address });
}
