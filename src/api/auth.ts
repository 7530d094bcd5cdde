// zerotier-one's local API access scheme, for ztroot's one HTTP listener
// (docs/protocol/09-local-api-and-cli.md §2): the token comes from the X-ZT1-Auth header, else
// the `auth` query parameter, else an `Authorization: Bearer` header — only the first present is
// checked — and is compared in constant time. Management clients are loopback, plus the networks
// of `allowManagementFrom`.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { routeContains } from '../controller/config-builder.ts';
import { parseInetAddress, type IpAddress } from '../wire/inet-address.ts';

/** The token a request carries, by zerotier-one's order of precedence. */
export function requestToken(req: IncomingMessage, url: URL): string | undefined {
  const header = req.headers['x-zt1-auth'];
  if (typeof header === 'string') return header.trim();
  const query = url.searchParams.get('auth');
  if (query !== null) return query.trim();
  const bearer = /^bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
  return bearer ? bearer[1].trim() : undefined;
}

/**
 * Constant-time token check: both sides are hashed to 32 bytes first, so every guess costs the
 * same whatever its length (comparing lengths first tells an attacker the token's length from the
 * time a wrong guess takes).
 */
export function tokensEqual(given: string | undefined, expected: string): boolean {
  const a = createHash('sha256').update(given ?? '').digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) && given !== undefined;
}

export function isLoopbackClient(address: string | undefined): boolean {
  return address === '::1' || address?.startsWith('127.') === true || address?.startsWith('::ffff:127.') === true;
}

/** A network clients may manage the node from (zerotier-one's allowManagementFrom). */
export interface ManagementNetwork { readonly ip: IpAddress; readonly bits: number }

/** "IP/bits" (or a bare IP) as a management network; null if it does not parse. */
export function parseManagementNetwork(text: string): ManagementNetwork | null {
  const a = parseInetAddress(text.includes('/') ? text : `${text}/${text.includes(':') ? 128 : 32}`);
  if (!a || a.port > (a.family === 4 ? 32 : 128)) return null;
  return { ip: a, bits: a.port };
}

/** Whether a client address may manage the node: loopback always, others only inside a management network. */
export function allowedFrom(address: string | undefined, networks: readonly ManagementNetwork[]): boolean {
  if (isLoopbackClient(address)) return true;
  if (!address || networks.length === 0) return false;
  const text = address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
  const ip = parseInetAddress(text);
  return ip !== null && networks.some((n) => routeContains({ ...n.ip, port: n.bits }, ip));
}
