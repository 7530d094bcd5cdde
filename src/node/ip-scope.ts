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

/** InetAddress::IpScope of 1.14 (node/InetAddress.hpp): the numbers are the wire-independent enum values. */
export const IpScope = {
  none: 0, multicast: 1, loopback: 2, pseudoPrivate: 3, global: 4, linkLocal: 5, shared: 6, private: 7,
} as const;
export type IpScope = (typeof IpScope)[keyof typeof IpScope];

/** IPv4 /8 blocks 1.14 calls pseudo-private (unrouted blocks that are often borrowed). */
const PSEUDO_PRIVATE_V4 = new Set([6, 11, 21, 22, 25, 26, 28, 29, 30, 51, 55, 56]);

/** The scope 1.14 gives an address (InetAddress::ipScope), which decides where a path may go. */
export function ipScope(a: IpAddress): IpScope {
  const ip = a.ip;
  if (a.family === 4) {
    const [b0, b1, b2] = ip as unknown as [number, number, number];
    if (b0 === 0 || b0 === 255) return IpScope.none;
    if (b0 === 127) return IpScope.loopback;
    if (b0 === 10) return IpScope.private;
    if (PSEUDO_PRIVATE_V4.has(b0)) return IpScope.pseudoPrivate;
    if (b0 === 100 && (b1 & 0xc0) === 64) return IpScope.private; // 100.64/10
    if (b0 === 169 && b1 === 254) return IpScope.linkLocal;
    if (b0 === 172 && (b1 & 0xf0) === 16) return IpScope.private;
    if (b0 === 192 && (b1 === 168 || (b1 === 0 && b2 === 2))) return IpScope.private;
    if (b0 === 198 && ((b1 & 0xfe) === 18 || (b1 === 51 && b2 === 100))) return IpScope.private; // 198.18/15, 198.51.100/24
    if (b0 === 203 && b1 === 0 && b2 === 113) return IpScope.private;
    if (b0 >> 4 === 0xe) return IpScope.multicast;
    if (b0 >> 4 === 0xf) return IpScope.pseudoPrivate;
    return IpScope.global;
  }
  if (ip[0] === 0xff) return IpScope.multicast;
  if (ip[0] === 0xfe && (ip[1] & 0xc0) === 0x80) {
    return ip.subarray(2, 15).every((b) => b === 0) && ip[15] === 1 ? IpScope.loopback : IpScope.linkLocal;
  }
  if ((ip[0] & 0xfe) === 0xfc) return IpScope.private;
  // 1.14 looks at the first nine bytes only
  if (ip.subarray(0, 9).every((b) => b === 0) && ip[10] === 0xff && ip[11] === 0xff && ip[12] === 127) return IpScope.loopback;
  if (ip.subarray(0, 15).every((b) => b === 0)) {
    if (ip[15] === 1) return IpScope.loopback;
    if (ip[15] === 0) return IpScope.none;
  }
  return IpScope.global;
}

/**
 * Path::isAddressValidForPath: private, pseudo-private, shared or global scope, and not an
 * he.net tunnel. What 1.14 learns paths at, binds to and pushes in PUSH_DIRECT_PATHS.
 */
export function isAddressValidForPath(a: IpAddress): boolean {
  const s = ipScope(a);
  if (s !== IpScope.private && s !== IpScope.pseudoPrivate && s !== IpScope.shared && s !== IpScope.global) return false;
  return !isHeNetTunnel(a);
}

/** shouldUsePathForZeroTierTraffic's address-scope part (loopback only when a loopback test allows it). */
export function isUsablePathAddress(a: IpAddress, allowLoopback = false): boolean {
  if (isLoopback(a)) return allowLoopback;
  return isAddressValidForPath(a);
}

/**
 * Every socket of ours that can reach `to`: same family, and loopback exactly when `to` is. Where
 * 1.14 sends a first contact with no socket given (Binder::udpSendAll: each bound socket of the family).
 */
export function socketsToward<S extends { family: 4 | 6; address: string }>(sockets: readonly S[], to: IpAddress): S[] {
  const loopback = isLoopback(to);
  return sockets.filter((s) => {
    if (s.family !== to.family) return false;
    const local = s.family === 4 ? parseIpv4(s.address) : parseIpv6(s.address);
    return !local || local.every((b) => b === 0) || isLoopback({ family: s.family, ip: local, port: 0 } as IpAddress) === loopback;
  });
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

/**
 * InetAddress::containsAddress: whether `ip` lies in `net`, whose port holds its prefix length
 * (a network's static IPs and routes). As in 1.14, IPv6 compares the masked `ip` with `net`
 * unmasked, so an IPv6 net with host bits set (a static IP like fd00::5/88) contains only itself
 * at /128 — what 1.14 refuses as a path is exactly this.
 */
export function containsAddress(net: IpAddress, ip: IpAddress): boolean {
  if (net.family !== ip.family) return false;
  const bits = net.port;
  if (net.family === 4) {
    if (bits === 0) return true;
    const shift = 32 - Math.min(bits, 32);
    const v = (b: Uint8Array): number => ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
    return Math.floor(v(ip.ip) / 2 ** shift) === Math.floor(v(net.ip) / 2 ** shift);
  }
  for (let i = 0; i < 16; i++) {
    const maskBits = Math.max(0, Math.min(8, bits - 8 * i));
    const m = (0xff << (8 - maskBits)) & 0xff;
    if ((ip.ip[i] & m) !== net.ip[i]) return false;
  }
  return true;
}
