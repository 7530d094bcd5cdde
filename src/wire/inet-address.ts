// InetAddress: a physical endpoint (IP + port) as it appears in packets and in text
// (03-packet.md §10.1). When an InetAddress denotes a network, the port carries the prefix bits.

import { strtoull } from '../util/strtoull.ts';
import { ByteReader, ByteWriter, decodeAt } from './byte-cursor.ts';
import {
  INET_ADDRESS_IPV4_LENGTH, INET_ADDRESS_IPV6_LENGTH, INET_ADDRESS_NONE_LENGTH, INET_ADDRESS_RESERVED_FIXED_LENGTH,
  InetAddressType,
} from './constants.ts';
import type { DecodedAt } from './decode-result.ts';

export interface Ipv4Address {
  readonly family: 4;
  /** 4 bytes, network order. */
  readonly ip: Uint8Array;
  readonly port: number;
}
export interface Ipv6Address {
  readonly family: 6;
  /** 16 bytes, network order. */
  readonly ip: Uint8Array;
  readonly port: number;
}
/** "No address": type 0 on the wire, and what the reserved types 1-3 decode to. */
export interface NilAddress {
  readonly family: 0;
}
export type InetAddress = NilAddress | Ipv4Address | Ipv6Address;
export type IpAddress = Ipv4Address | Ipv6Address;

export const NIL_ADDRESS: NilAddress = Object.freeze({ family: 0 });

export function ipv4(ip: Uint8Array | readonly number[], port: number): Ipv4Address {
  return { family: 4, ip: Uint8Array.from(ip), port };
}
export function ipv6(ip: Uint8Array | readonly number[], port: number): Ipv6Address {
  return { family: 6, ip: Uint8Array.from(ip), port };
}

// ---------------------------------------------------------------------------------------------
// Binary form
// ---------------------------------------------------------------------------------------------

export function inetAddressLength(a: InetAddress): number {
  return a.family === 4 ? INET_ADDRESS_IPV4_LENGTH : a.family === 6 ? INET_ADDRESS_IPV6_LENGTH : INET_ADDRESS_NONE_LENGTH;
}

export function writeInetAddress(w: ByteWriter, a: InetAddress): void {
  if (a.family === 4) w.u8(InetAddressType.ipv4).bytes(a.ip).u16(a.port);
  else if (a.family === 6) w.u8(InetAddressType.ipv6).bytes(a.ip).u16(a.port);
  else w.u8(InetAddressType.none);
}

export function encodeInetAddress(a: InetAddress): Uint8Array {
  const w = new ByteWriter(INET_ADDRESS_IPV6_LENGTH);
  writeInetAddress(w, a);
  return w.finish();
}

/**
 * Read one InetAddress. Reserved types are skipped as 1.14 does (1 and 2: 6 more bytes; 3: a u16
 * length and that many bytes) and yield NIL_ADDRESS; any other unknown type fails the reader
 * with 'bad-inet-address-type'. Unlike 1.14 (which skips without checking), a skip that runs
 * past the end fails the reader with 'too-short'.
 */
export function readInetAddress(r: ByteReader): InetAddress {
  const type = r.u8();
  switch (type) {
    case InetAddressType.none:
      return NIL_ADDRESS;
    case InetAddressType.ipv4: {
      const ip = r.copy(4);
      const port = r.u16();
      return r.failed ? NIL_ADDRESS : { family: 4, ip, port };
    }
    case InetAddressType.ipv6: {
      const ip = r.copy(16);
      const port = r.u16();
      return r.failed ? NIL_ADDRESS : { family: 6, ip, port };
    }
    case InetAddressType.ethernet:
    case InetAddressType.bluetooth:
      r.skip(INET_ADDRESS_RESERVED_FIXED_LENGTH - 1);
      return NIL_ADDRESS;
    case InetAddressType.other:
      r.skip(r.u16());
      return NIL_ADDRESS;
    default:
      r.fail('bad-inet-address-type');
      return NIL_ADDRESS;
  }
}

/** Decode the InetAddress at `offset`; `length` is the number of bytes it occupied. */
export function decodeInetAddress(bytes: Uint8Array, offset = 0): DecodedAt<InetAddress> {
  return decodeAt(bytes, offset, readInetAddress);
}

// ---------------------------------------------------------------------------------------------
// Comparison
// ---------------------------------------------------------------------------------------------

export function inetAddressEquals(a: InetAddress, b: InetAddress): boolean {
  if (a.family !== b.family) return false;
  if (a.family === 0 || b.family === 0) return true;
  if (a.port !== b.port) return false;
  for (let i = 0; i < a.ip.length; i++) if (a.ip[i] !== b.ip[i]) return false;
  return true;
}

/** Linux AF_INET / AF_INET6: the family order InetAddress::operator< uses. */
function socketFamily(a: InetAddress): number {
  return a.family === 4 ? 2 : a.family === 6 ? 10 : 0;
}

/** A u16 stored in network order, read back as a little-endian host integer. */
function portAsLittleEndianHost(port: number): number {
  return ((port & 0xff) << 8) | (port >>> 8);
}

function ipv4AsLittleEndianHost(ip: Uint8Array): number {
  return (ip[0] | (ip[1] << 8) | (ip[2] << 16) | (ip[3] << 24)) >>> 0;
}

/**
 * The order of 1.14's InetAddress::operator< on a little-endian host, which genmoon uses to sort
 * stable endpoints (06-idtool.md genmoon): family (none, IPv4, IPv6), then the port and the IPv4
 * address compared as raw network-order memory read as little-endian integers, IPv6 addresses
 * by memcmp. Returns <0, 0 or >0 for Array.prototype.sort.
 */
export function compareInetAddressLikeZeroTier(a: InetAddress, b: InetAddress): number {
  const fa = socketFamily(a);
  const fb = socketFamily(b);
  if (fa !== fb) return fa - fb;
  if (a.family === 0 || b.family === 0) return 0;
  const pa = portAsLittleEndianHost(a.port);
  const pb = portAsLittleEndianHost(b.port);
  if (pa !== pb) return pa - pb;
  if (a.family === 4) return ipv4AsLittleEndianHost(a.ip) - ipv4AsLittleEndianHost(b.ip);
  for (let i = 0; i < 16; i++) if (a.ip[i] !== b.ip[i]) return a.ip[i] - b.ip[i];
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Text form "IP/port"
// ---------------------------------------------------------------------------------------------

/** Dotted quad, as inet_pton(AF_INET) accepts it: exactly 4 decimal parts 0-255, no leading zeros. */
export function parseIpv4(text: string): Uint8Array | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return null;
    const v = Number(p);
    if (v > 255) return null;
    out[i] = v;
  }
  return out;
}

/** RFC 4291 text form (with "::" and an optional trailing dotted quad), as inet_pton(AF_INET6) accepts it. */
export function parseIpv6(text: string): Uint8Array | null {
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const parseGroups = (s: string, allowV4Tail: boolean): number[] | null => {
    if (s === '') return [];
    const groups = s.split(':');
    const words: number[] = [];
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i];
      if (allowV4Tail && i === groups.length - 1 && g.includes('.')) {
        const v4 = parseIpv4(g);
        if (!v4) return null;
        words.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
        words.push(Number.parseInt(g, 16));
      }
    }
    return words;
  };
  let words: number[];
  if (halves.length === 2) {
    const head = parseGroups(halves[0], false);
    const tail = parseGroups(halves[1], true);
    if (!head || !tail || head.length + tail.length > 7) return null;
    words = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    const all = parseGroups(halves[0], true);
    if (!all || all.length !== 8) return null;
    words = all;
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = words[i] >>> 8;
    out[2 * i + 1] = words[i] & 0xff;
  }
  return out;
}

export function formatIpv4(ip: Uint8Array): string {
  return `${ip[0]}.${ip[1]}.${ip[2]}.${ip[3]}`;
}

/** inet_ntop(AF_INET6) style: lowercase, longest run (>= 2) of zero groups as "::", IPv4-mapped/compatible tails dotted. */
export function formatIpv6(ip: Uint8Array): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((ip[2 * i] << 8) | ip[2 * i + 1]);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) bestStart = -1;
  const dottedTail = bestStart === 0 && (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff));
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (bestStart >= 0 && i >= bestStart && i < bestStart + bestLen) {
      if (i === bestStart) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    if (dottedTail && i === 6) {
      out += formatIpv4(ip.subarray(12, 16));
      break;
    }
    out += words[i].toString(16);
  }
  if (bestStart >= 0 && bestStart + bestLen === 8) out += ':';
  return out;
}

export function formatIp(a: IpAddress): string {
  return a.family === 4 ? formatIpv4(a.ip) : formatIpv6(a.ip);
}

/** "IP/port" as 1.14 prints it; the nil address prints as "" (like InetAddress::toString). */
export function formatInetAddress(a: InetAddress): string {
  return a.family === 0 ? '' : `${formatIp(a)}/${a.port}`;
}

/** strtoul(s, NULL, 10) reduced to 16 bits, as InetAddress::fromString reads the port. */
function portLikeStrtoul(text: string): number {
  return Number(strtoull(text, 10) & 0xffffn);
}

/**
 * Strict parse of "IP/port" or "IP" (port 0): null unless the IP is valid and the port is a
 * decimal number 0-65535.
 */
export function parseInetAddress(text: string): IpAddress | null {
  const slash = text.indexOf('/');
  const ipText = slash < 0 ? text : text.slice(0, slash);
  let port = 0;
  if (slash >= 0) {
    const portText = text.slice(slash + 1);
    if (!/^[0-9]{1,5}$/.test(portText)) return null;
    port = Number(portText);
    if (port > 0xffff) return null;
  }
  if (ipText.includes(':')) {
    const ip = parseIpv6(ipText);
    return ip ? { family: 6, ip, port } : null;
  }
  const ip = parseIpv4(ipText);
  return ip ? { family: 4, ip, port } : null;
}

/** InetAddress::fromString's text buffer, bytes incl. the NUL; longer input is refused. */
const FROM_STRING_BUFFER_LENGTH = 64;

/**
 * InetAddress::fromString exactly: "" is the nil address; text with ':' is IPv6 and text with '.'
 * is IPv4 — an unparsable IP still yields that family with an all-zero address; the port is
 * strtoul of whatever follows the first '/', truncated to 16 bits. Returns null where 1.14's
 * parser reports failure (no ':' or '.', or 64 bytes or more).
 */
export function parseInetAddressLikeZeroTier(text: string): InetAddress | null {
  if (text === '') return NIL_ADDRESS;
  if (Buffer.byteLength(text, 'utf8') >= FROM_STRING_BUFFER_LENGTH) return null;
  const nul = text.indexOf('\0');
  if (nul >= 0) text = text.slice(0, nul);
  const slash = text.indexOf('/');
  const ipText = slash < 0 ? text : text.slice(0, slash);
  const port = slash < 0 ? 0 : portLikeStrtoul(text.slice(slash + 1));
  if (ipText.includes(':')) return { family: 6, ip: parseIpv6(ipText) ?? new Uint8Array(16), port };
  if (ipText.includes('.')) return { family: 4, ip: parseIpv4(ipText) ?? new Uint8Array(4), port };
  return null;
}
