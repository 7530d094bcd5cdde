// The root's HTTP listener (loopback by default): /health without a token; /metrics and /peers
// with the metrics token as a bearer token (or zerotier-one's X-ZT1-Auth header / auth query).

import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import { requestToken, tokensEqual } from './auth.ts';
import type { RootServer } from '../root/root-server.ts';
import { createRootRegistry } from '../metrics/root-metrics.ts';
import { registerControllerMetrics } from '../metrics/controller-metrics.ts';
import { formatAddress } from '../identity/address.ts';
import { isControllerPath, rootNodeInfo, serveControllerApi, type ManagementNetwork } from './controller-routes.ts';

export interface RootHttpOptions {
  /** "IP:port" or "[IPv6]:port". */
  listen: string;
  metricsToken: string;
  /** authtoken.secret, for the controller API (when the root runs a controller). */
  authToken?: string;
  /** Networks besides loopback that may use the controller API. */
  allowManagementFrom?: readonly ManagementNetwork[];
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
  if (root.controller) registerControllerMetrics(registry, root.controller);
  const serverOptions = {
    headersTimeout: HTTP_LIMITS.headersTimeoutMs,
    requestTimeout: HTTP_LIMITS.requestTimeoutMs,
    keepAliveTimeout: HTTP_LIMITS.keepAliveTimeoutMs,
    connectionsCheckingInterval: HTTP_LIMITS.checkIntervalMs,
  };
  const server = createServer(serverOptions, (req, res) => {
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
    if (root.controller && options.authToken && isControllerPath(url.pathname)) {
      return serveControllerApi(root.controller, options.authToken, req, res, url, rootNodeInfo(root), options.allowManagementFrom);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      // no other route takes a body: answer and close instead of reading (and discarding) whatever follows
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
    if (!tokensEqual(requestToken(req, url), options.metricsToken)) return json(res, 401, {});
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
  // IPv4 loopback also answers on IPv6 loopback: newer Node resolves "localhost" to ::1 first,
  // and the UIs reach the API as localhost (12-controller-ui-compat.md §4). Best effort.
  const servers = [server];
  if (host === '127.0.0.1') {
    const v6 = createServer(serverOptions, server.listeners('request')[0] as RequestListener);
    v6.maxConnections = HTTP_LIMITS.maxConnections;
    const ok = await new Promise<boolean>((resolve) => {
      v6.once('error', () => resolve(false));
      v6.listen(boundPort, '::1', () => resolve(true));
    });
    if (ok) servers.push(v6);
  }
  return {
    address: `${host.includes(':') ? `[${host}]` : host}:${boundPort}`,
    port: boundPort,
    close: () => Promise.all(servers.map((x) => new Promise<void>((r) => { x.closeAllConnections(); x.close(() => r()); }))).then(() => {}),
  };
}
