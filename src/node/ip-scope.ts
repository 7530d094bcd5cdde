// IP address facts a node needs when deciding whether a physical path is usable
// (docs/protocol/08-root-behaviour.md §1.3: never loopback or link-local, never he.net tunnel space).

import { parseIpv4, parseIpv6, type InetAddress, type IpAddress } from '../wire/inet-address.ts';

/** Same family and address bytes; ports ignored. */
export function sameIp(a: InetAddress, b: InetAddress): boolean {
  if (a.family === 0 || b.family === 0 || a.family !== b.family) return false;
  for (let i = 0; i < a.ip.length; i++) if (a.ip[i] !== b.ip[i]) return false;
  return true;
}

export function isLoopback(a: IpAddress): boolean {
  if (a.family === 4) return a.ip[0] === 127;
  return a.ip.every((b, i) => (i === 15 ? b === 1 : b === 0));
}

export function isLinkLocal(a: IpAddress): boolean {
  if (a.family === 4) return a.ip[0] === 169 && a.ip[1] === 254;
  return a.ip[0] === 0xfe && (a.ip[1] & 0xc0) === 0x80;
}

/** 2001:470::/32, Hurricane Electric tunnels, which 1.14 refuses as paths. */
export function isHeNetTunnel(a: IpAddress): boolean {
  return a.family === 6 && a.ip[0] === 0x20 && a.ip[1] === 0x01 && a.ip[2] === 0x04 && a.ip[3] === 0x70;
}

/** shouldUsePathForZeroTierTraffic's address-scope part. */
export function isUsablePathAddress(a: IpAddress, allowLoopback = false): boolean {
  if (isLoopback(a)) return allowLoopback;
  return !isLinkLocal(a) && !isHeNetTunnel(a);
}

/**
 * Which of our sockets to send from to reach `to` when no packet told us (a first contact): one
 * of the same family whose address is loopback exactly when `to` is — a socket bound to 127.0.0.1
 * cannot reach another host — else the first of that family.
 */
export function socketToward<S extends { family: 4 | 6; address: string }>(sockets: readonly S[], to: IpAddress): S | undefined {
  const loopback = isLoopback(to);
  let first: S | undefined;
  for (const s of sockets) {
    if (s.family !== to.family) continue;
    first ??= s;
    const local = s.family === 4 ? parseIpv4(s.address) : parseIpv6(s.address);
    if (local && isLoopback({ family: s.family, ip: local, port: 0 } as IpAddress) === loopback) return s;
  }
  return first;
}

/** The /24 (IPv4) or /48 (IPv6) a source belongs to: the bucket for per-source admission limits. */
export function sourceBucket(a: IpAddress): string {
  return a.family === 4 ? `${a.ip[0]}.${a.ip[1]}.${a.ip[2]}` : Buffer.from(a.ip.subarray(0, 6)).toString('hex');
}

/** InetAddress::IpScope of 1.14: what kind of network an address belongs to. */
export type IpScope = 'none' | 'multicast' | 'loopback' | 'pseudoprivate' | 'global' | 'link-local' | 'private';

/** IPv4 /8 blocks 1.14 calls pseudo-private: large military and government allocations never routed publicly. */
const PSEUDOPRIVATE_V4_BLOCKS = new Set([6, 11, 21, 22, 25, 26, 28, 29, 30, 51, 55, 56]);

/** 1.14's scope of an address (InetAddress::ipScope), prefix bits ignored. */
export function ipScope(a: InetAddress): IpScope {
  if (a.family === 4) {
    const [b0, b1, b2] = a.ip;
    if (b0 === 0 || b0 === 255) return 'none';
    if (b0 === 127) return 'loopback';
    if (PSEUDOPRIVATE_V4_BLOCKS.has(b0)) return 'pseudoprivate';
    if (b0 === 10) return 'private';
    if (b0 === 100 && (b1 & 0xc0) === 64) return 'private';
    if (b0 === 169 && b1 === 254) return 'link-local';
    if (b0 === 172 && (b1 & 0xf0) === 16) return 'private';
    if (b0 === 192 && (b1 === 168 || (b1 === 0 && b2 === 2))) return 'private';
    if (b0 === 198 && ((b1 & 0xfe) === 18 || (b1 === 51 && b2 === 100))) return 'private';
    if (b0 === 203 && b1 === 0 && b2 === 113) return 'private';
    if ((b0 & 0xf0) === 0xe0) return 'multicast';
    if ((b0 & 0xf0) === 0xf0) return 'pseudoprivate';
    return 'global';
  }
  if (a.family === 6) {
    const ip = a.ip;
    if (ip[0] === 0xff) return 'multicast';
    if (ip[0] === 0xfe && (ip[1] & 0xc0) === 0x80) {
      // fe80::1 is loopback in 1.14's table
      return ip.subarray(2, 15).every((b) => b === 0) && ip[15] === 1 ? 'loopback' : 'link-local';
    }
    if ((ip[0] & 0xfe) === 0xfc) return 'private';
    if (ip.subarray(0, 9).every((b) => b === 0) && ip[10] === 0xff && ip[11] === 0xff && ip[12] === 0x7f) return 'loopback';
    if (ip.subarray(0, 15).every((b) => b === 0)) {
      if (ip[15] === 1) return 'loopback';
      if (ip[15] === 0) return 'none';
    }
    return 'global';
  }
  return 'none';
}
