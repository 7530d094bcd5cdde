// IPv6 addresses a controller derives for a member from the network ID and member address
// (docs/protocol/07-network-config-controller.md §9 step 10; InetAddress::makeIpv6rfc4193 / makeIpv66plane).

import type { Address } from '../../identity/address.ts';
import { writeAddress } from '../../identity/address.ts';
import type { Ipv6Address } from '../inet-address.ts';

/** Prefix lengths of the two schemes, bits. */
export const RFC4193_PREFIX_BITS = 88;
export const SIX_PLANE_PREFIX_BITS = 40;

/** fd ‖ nwid (8 bytes) ‖ 99 93 ‖ address (5 bytes), /88. */
export function rfc4193Address(networkId: bigint, member: Address): Ipv6Address {
  const ip = new Uint8Array(16);
  ip[0] = 0xfd;
  for (let i = 0; i < 8; i++) ip[1 + i] = Number((networkId >> BigInt(56 - 8 * i)) & 0xffn);
  ip[9] = 0x99;
  ip[10] = 0x93;
  writeAddress(member, ip, 11);
  return { family: 6, ip, port: RFC4193_PREFIX_BITS };
}

/** fc ‖ low 32 bits of (nwid XOR nwid >> 32) ‖ address (5 bytes) ‖ zeros ‖ 01, /40. */
export function sixPlaneAddress(networkId: bigint, member: Address): Ipv6Address {
  const ip = new Uint8Array(16);
  const folded = Number((networkId ^ (networkId >> 32n)) & 0xffff_ffffn);
  ip[0] = 0xfc;
  ip[1] = folded >>> 24;
  ip[2] = (folded >>> 16) & 0xff;
  ip[3] = (folded >>> 8) & 0xff;
  ip[4] = folded & 0xff;
  writeAddress(member, ip, 5);
  ip[15] = 0x01;
  return { family: 6, ip, port: SIX_PLANE_PREFIX_BITS };
}
