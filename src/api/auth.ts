// zerotier-one's local API token scheme, shared by every HTTP surface of ztroot
// (docs/protocol/09-local-api-and-cli.md §2): the token comes from the X-ZT1-Auth header, else
// the `auth` query parameter, else an `Authorization: Bearer` header — only the first present is
// checked — and is compared in constant time. Clients are loopback unless configured otherwise.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

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
