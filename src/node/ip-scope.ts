// IP address facts a node needs when deciding whether a physical path is usable
// (08-root-behaviour.md §1.3: never loopback or link-local, never he.net tunnel space).

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
