// Ethernet MACs of ZeroTier nodes on a network, and multicast groups (03-packet.md §10.2-§10.3).
// A MAC is a 48-bit number; network IDs are u64 bigints.

import type { Address } from '../identity/address.ts';
import { MAC_BROADCAST, MAC_MULTICAST_BIT } from './constants.ts';

const TWO_40 = 2 ** 40;
const TWO_32 = 2 ** 32;

/** First octet of member MACs on a network: locally administered unicast, never 0x52 (03-packet.md §10.2). */
function firstOctetForNetwork(nwid: bigint): number {
  const first = (Number(nwid & 0xffn) & 0xfe) | 0x02;
  return first === 0x52 ? 0x32 : first;
}

/** The 40-bit mask XORed into the address: network-ID bytes 1..5 (counting from the low end), reversed. */
function networkMask(nwid: bigint): number {
  const byte = (shift: bigint): number => Number((nwid >> shift) & 0xffn);
  const low32 = ((byte(16n) << 24) | (byte(24n) << 16) | (byte(32n) << 8) | byte(40n)) >>> 0;
  return byte(8n) * TWO_32 + low32;
}

function xor40(a: number, b: number): number {
  const hi = (Math.floor(a / TWO_32) ^ Math.floor(b / TWO_32)) & 0xff;
  const lo = ((a >>> 0) ^ (b >>> 0)) >>> 0;
  return hi * TWO_32 + lo;
}

/** MAC of the node `address` on network `nwid` (MAC::fromAddress). */
export function macFromAddress(address: Address, nwid: bigint): number {
  return firstOctetForNetwork(nwid) * TWO_40 + xor40(address, networkMask(nwid));
}

/** The ZeroTier address behind a member MAC on network `nwid` (MAC::toAddress). */
export function addressFromMac(mac: number, nwid: bigint): Address {
  return xor40(mac % TWO_40, networkMask(nwid));
}

export function isMulticastMac(mac: number): boolean {
  return Math.floor(mac / MAC_MULTICAST_BIT) % 2 === 1;
}

/** "02:f2:a3:66:88:e4" */
export function formatMac(mac: number): string {
  const hex = mac.toString(16).padStart(12, '0');
  return hex.match(/../g)!.join(':');
}

/** Six colon-separated hex octets; null otherwise. */
export function parseMac(text: string): number | null {
  if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(text)) return null;
  return Number.parseInt(text.replaceAll(':', ''), 16);
}

export function macToBytes(mac: number): Uint8Array {
  const out = new Uint8Array(6);
  writeMac(mac, out, 0);
  return out;
}

/** A MAC's 6 bytes into `out` at `at`. */
export function writeMac(mac: number, out: Uint8Array, at: number): void {
  const hi = Math.floor(mac / TWO_32);
  out[at] = hi >>> 8;
  out[at + 1] = hi & 0xff;
  const lo = mac >>> 0;
  out[at + 2] = lo >>> 24;
  out[at + 3] = (lo >>> 16) & 0xff;
  out[at + 4] = (lo >>> 8) & 0xff;
  out[at + 5] = lo & 0xff;
}

/** Bytes of an Ethernet header: destination MAC, source MAC, EtherType. */
export const ETHERNET_HEADER_LENGTH = 14;

/** An Ethernet header (destination MAC, source MAC, EtherType) into the first 14 bytes of `out`. */
export function writeEthernetHeader(out: Uint8Array, destination: number, source: number, etherType: number): void {
  writeMac(destination, out, 0);
  writeMac(source, out, 6);
  out[12] = etherType >>> 8;
  out[13] = etherType & 0xff;
}

export function macFromBytes(b: Uint8Array, offset = 0): number {
  return ((b[offset] << 8) | b[offset + 1]) * TWO_32 +
    (((b[offset + 2] << 24) | (b[offset + 3] << 16) | (b[offset + 4] << 8) | b[offset + 5]) >>> 0);
}

/** A multicast group: MAC plus the 32-bit "additional distinguishing information" (03-packet.md §10.3). */
export interface MulticastGroup {
  readonly mac: number;
  /** u32 */
  readonly adi: number;
}

/** Plain Ethernet broadcast: ff:ff:ff:ff:ff:ff, ADI 0. */
export const BROADCAST_GROUP: MulticastGroup = Object.freeze({ mac: MAC_BROADCAST, adi: 0 });

/** IPv4 ARP for `ip` (4 bytes): broadcast MAC with the address as a big-endian ADI. */
export function arpGroupFor(ip: Uint8Array): MulticastGroup {
  return { mac: MAC_BROADCAST, adi: ((ip[0] << 24) | (ip[1] << 16) | (ip[2] << 8) | ip[3]) >>> 0 };
}

/** IPv6 NDP solicited-node group for `ip` (16 bytes): 33:33:ff plus the last three bytes, ADI 0. */
export function ndpGroupFor(ip: Uint8Array): MulticastGroup {
  return { mac: 0x3333ff00_0000 + ((ip[13] << 16) | (ip[14] << 8) | ip[15]), adi: 0 };
}
