// The root's HTTP listener (loopback by default): /health without a token; /metrics and /peers
// with the metrics token as a bearer token (or zerotier-one's X-ZT1-Auth header / auth query).

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RootServer } from '../root/root-server.ts';
import { createRootRegistry } from '../metrics/root-metrics.ts';
import { formatAddress } from '../identity/address.ts';

export interface RootHttpOptions {
  /** "IP:port" or "[IPv6]:port". */
  listen: string;
  metricsToken: string;
}

export interface RootHttp {
  /** The bound "IP:port" (useful when the port was 0). */
  address: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Limits of the listener, each checked by the abuse campaign's HTTP part (tools/fuzz/http.ts): a
 * client must send its request headers within `headersTimeoutMs` and the whole request within
 * `requestTimeoutMs` (slowloris, slow bodies), an idle keep-alive connection is closed after
 * `keepAliveTimeoutMs`, Node checks those timeouts every `checkIntervalMs`, and at most
 * `maxConnections` are open at once (file descriptors). Headers stay capped at Node's 16 KiB
 * (431 beyond). No route takes a body: a request with a method other than GET/HEAD is answered
 * 405 and its connection closed, so its body is never read.
 */
export const HTTP_LIMITS = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 15_000,
  keepAliveTimeoutMs: 5_000,
  checkIntervalMs: 1_000,
  maxConnections: 512,
} as const;

function tokenFrom(req: IncomingMessage, url: URL): string | undefined {
  const h = req.headers['x-zt1-auth'];
  if (typeof h === 'string') return h.trim();
  const auth = req.headers.authorization;
  if (typeof auth === 'string' && /^bearer\s+/i.test(auth)) return auth.replace(/^bearer\s+/i, '').trim();
  return url.searchParams.get('auth') ?? undefined;
}

/**
 * Constant-time token check: both sides are hashed to 32 bytes first, so every guess costs the
 * same whatever its length (checking the length first, as before, told an attacker the token's
 * length from the time a wrong guess took).
 */
export function sameToken(a: string | undefined, b: string): boolean {
  const x = createHash('sha256').update(a ?? '').digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y) && a !== undefined;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

export function parseListen(listen: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(listen);
  if (!m) throw new Error(`bad listen address ${listen}`);
  return { host: m[1], port: Number(m[2]) };
}

export async function startRootHttp(root: RootServer, options: RootHttpOptions): Promise<RootHttp> {
  const registry = createRootRegistry(root);
  const server = createServer({
    headersTimeout: HTTP_LIMITS.headersTimeoutMs,
    requestTimeout: HTTP_LIMITS.requestTimeoutMs,
    keepAliveTimeout: HTTP_LIMITS.keepAliveTimeoutMs,
    connectionsCheckingInterval: HTTP_LIMITS.checkIntervalMs,
  }, (req, res) => {
    try {
      route(req, res);
    } catch {
      // never let one request take the process down
      if (!res.headersSent) json(res, 500, { error: 'internal error' });
      else res.destroy();
    }
  });
  const route = (req: IncomingMessage, res: ServerResponse): void => {
    // a request target that is not a path ("//", "//:99999", absolute forms that do not parse)
    const url = URL.parse(req.url ?? '/', 'http://localhost');
    if (!url) return json(res, 400, { error: 'bad request target' });
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      // no route takes a body: answer and close instead of reading (and discarding) whatever follows
      res.setHeader('connection', 'close');
      return json(res, 405, { error: 'method not allowed' });
    }
    if (url.pathname === '/health') {
      return json(res, 200, {
        ok: true,
        address: formatAddress(root.identity.address),
        uptimeSeconds: Math.round((Date.now() - root.startedMs) / 1000),
        workers: root.runningWorkers,
        peers: root.peerTable.size,
        worlds: root.topology.worlds.map((w) => w.idHex),
        upstreams: root.upstreamStatus().map((u) => ({
          address: formatAddress(u.address),
          role: u.role,
          worlds: u.worlds,
          stableEndpoints: u.stableEndpoints,
          reachable: u.reachable,
          lastHeardSecondsAgo: u.lastHeardMs === undefined ? null : Math.max(0, Math.round((Date.now() - u.lastHeardMs) / 1000)),
          path: u.path ?? null,
        })),
        clock: Date.now(),
      });
    }
    if (url.pathname !== '/metrics' && url.pathname !== '/peers') return json(res, 404, {});
    if (!sameToken(tokenFrom(req, url), options.metricsToken)) return json(res, 401, {});
    if (url.pathname === '/peers') {
      return void root.peers().then((peers) => json(res, 200, peers), (e: unknown) => json(res, 500, { error: (e as Error).message }));
    }
    root.refreshMetrics().then(() => registry.metrics()).then((text) => {
      res.writeHead(200, { 'content-type': registry.contentType });
      res.end(text);
    }, (e: unknown) => json(res, 500, { error: (e as Error).message }));
  };
  server.maxConnections = HTTP_LIMITS.maxConnections;
  const { host, port } = parseListen(options.listen);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new Error(`cannot listen on ${options.listen}: ${e.message}`)));
    server.listen(port, host, () => resolve());
  });
  const addr = server.address();
  const boundPort = typeof addr === 'object' && addr ? addr.port : port;
  return {
    address: `${host.includes(':') ? `[${host}]` : host}:${boundPort}`,
    port: boundPort,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
