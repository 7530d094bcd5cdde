// The one HTTP listener of a ztroot process, whatever its roles (docs/protocol/09-local-api-and-cli.md §2):
// zerotier-one's local API conventions — loopback clients plus `allowManagementFrom`, the token
// scheme of auth.ts, JSON bodies — with the limits the abuse campaign (tools/fuzz/http.ts) holds it
// to. Roles bring their routes as route providers (node routes, controller routes, metrics routes,
// the root's own); the listener decides who may call what, reads bounded bodies and sends replies
// zerotier-cli can read (a Content-Length body; it sends no Host header).

import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { allowedFrom, requestToken, tokensEqual, type ManagementNetwork } from './auth.ts';

import type { Json } from '../util/json.ts';

export type { Json };

/**
 * Limits of the listener, each checked by the abuse campaign: a client must send its request
 * headers within `headersTimeoutMs` and the whole request within `requestTimeoutMs` (slowloris,
 * slow bodies), an idle keep-alive connection is closed after `keepAliveTimeoutMs`, Node checks
 * those timeouts every `checkIntervalMs`, and at most `maxConnections` are open at once (file
 * descriptors). Headers stay capped at Node's 16 KiB (431 beyond). Only a POST or PUT to a route
 * that takes it has its body read, up to the route's cap (`bodyBytes` unless it says more; 413 and
 * the connection closed beyond); any other request with a body is answered and its connection
 * closed without reading it (a method no route takes gets 405 first).
 */
export const HTTP_LIMITS = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 15_000,
  keepAliveTimeoutMs: 5_000,
  checkIntervalMs: 1_000,
  maxConnections: 512,
  bodyBytes: 64 * 1024,
} as const;

/**
 * Who may call a route:
 * - `open`: anyone, no token (`/health`: probes and load balancers call it);
 * - `metrics`: anyone with the metrics token (Prometheus scrapes from elsewhere; 1.14 does not
 *   check the client address for `/metrics` either);
 * - `api`: loopback and `allowManagementFrom` clients with authtoken.secret, as 1.14's other routes.
 */
export type Access = 'open' | 'metrics' | 'api';

export interface ApiRequest {
  method: string;
  pathname: string;
  url: URL;
  /** The groups of the route's path pattern. */
  match: RegExpExecArray;
  /** The request body ('' when there is none). */
  body: string;
}

export interface Reply {
  status: number;
  /** JSON to serialise, or the exact text to send ('' sends an empty body without a content type). */
  body: Json | string;
  contentType?: string;
}

export interface Route {
  /** Full-match pattern of the path. */
  path: RegExp;
  /** Methods the route takes (GET also takes HEAD). */
  methods: readonly string[];
  access: Access;
  /** Largest body the route reads (default HTTP_LIMITS.bodyBytes). */
  maxBodyBytes?: number;
  handle(req: ApiRequest): Reply | Promise<Reply>;
}

/** A role's routes. The first route whose path matches answers, in the order providers are given. */
export interface RouteProvider {
  name: string;
  routes: readonly Route[];
}

export interface HttpListenerOptions {
  /** "IP:port" or "[IPv6]:port". */
  listen: string;
  providers: readonly RouteProvider[];
  /** authtoken.secret, for `api` routes. */
  authToken: string;
  /** The token of `metrics` routes. */
  metricsToken: string;
  /** Networks besides loopback whose clients may call `api` routes. */
  allowManagementFrom?: readonly ManagementNetwork[];
}

export interface HttpListener {
  /** The bound "IP:port" (useful when the port was 0). */
  address: string;
  port: number;
  close(): Promise<void>;
}

export function parseListen(listen: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(listen);
  if (!m) throw new Error(`bad listen address ${listen}`);
  return { host: m[1], port: Number(m[2]) };
}

const EMPTY: Reply = { status: 401, body: {} };
const jsonError = (status: number, description: string): Reply => ({ status, body: { error: status, description } });

function send(res: ServerResponse, r: Reply, close = false): void {
  const text = typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
  const headers: Record<string, string | number> = { 'content-length': Buffer.byteLength(text) };
  const type = r.contentType ?? (text === '' ? undefined : 'application/json');
  if (type) headers['content-type'] = type;
  // a body we did not read would otherwise be read (and thrown away) to reach the next request
  if (close) headers.connection = 'close';
  res.writeHead(r.status, headers);
  res.end(text);
}

const hasBody = (req: IncomingMessage): boolean => req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;

/** The body as text, or undefined (after answering 413 and closing) when it is over `max` bytes. */
function readBody(req: IncomingMessage, res: ServerResponse, max: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (v: string | undefined): void => {
      if (!done) resolve(v);
      done = true;
    };
    req.on('data', (c: Buffer) => {
      if (done) return;
      size += c.length;
      if (size > max) {
        send(res, jsonError(413, `request body over ${max} bytes`), true);
        req.destroy();
        finish(undefined);
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => finish(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => finish(undefined));
  });
}

function findRoute(providers: readonly RouteProvider[], pathname: string): { route: Route; match: RegExpExecArray } | undefined {
  for (const p of providers) {
    for (const route of p.routes) {
      const match = route.path.exec(pathname);
      if (match) return { route, match };
    }
  }
  return undefined;
}

export async function startHttpListener(options: HttpListenerOptions): Promise<HttpListener> {
  const managers = options.allowManagementFrom ?? [];
  const mayManage = (req: IncomingMessage, url: URL): boolean =>
    allowedFrom(req.socket.remoteAddress, managers) && tokensEqual(requestToken(req, url), options.authToken);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // a request target that is not a path ("//", "//:99999", absolute forms that do not parse)
    const url = URL.parse(req.url ?? '/', 'http://localhost');
    if (!url) return send(res, jsonError(400, 'bad request target'), hasBody(req));
    const found = findRoute(options.providers, url.pathname);
    // 1.14 checks the client and the token before routing: a stranger learns nothing from a 404
    if (!found) return send(res, mayManage(req, url) ? { status: 404, body: {} } : EMPTY, hasBody(req));
    const { route, match } = found;
    const method = req.method === 'HEAD' && route.methods.includes('GET') ? 'GET' : req.method ?? 'GET';
    if (!route.methods.includes(method)) {
      res.setHeader('allow', route.methods.includes('GET') ? [...route.methods, 'HEAD'].join(', ') : route.methods.join(', '));
      return send(res, jsonError(405, 'method not allowed'), true);
    }
    const allowed = route.access === 'open' ? true
      : route.access === 'metrics' ? tokensEqual(requestToken(req, url), options.metricsToken)
      : mayManage(req, url);
    if (!allowed) return send(res, EMPTY, hasBody(req));
    // only writes carry a body; another method's is left unread and its connection closed
    const takesBody = method === 'POST' || method === 'PUT';
    const body = takesBody && hasBody(req) ? await readBody(req, res, route.maxBodyBytes ?? HTTP_LIMITS.bodyBytes) : '';
    if (body === undefined) return;
    send(res, await route.handle({ method, pathname: url.pathname, url, match, body }), !takesBody && hasBody(req));
  };

  const listener: RequestListener = (req, res) => {
    handle(req, res).catch((e: unknown) => {
      // nothing a client sends may end the process
      if (!res.headersSent) send(res, jsonError(500, (e as Error).message), true);
      else res.destroy();
    });
  };
  const serverOptions = {
    headersTimeout: HTTP_LIMITS.headersTimeoutMs,
    requestTimeout: HTTP_LIMITS.requestTimeoutMs,
    keepAliveTimeout: HTTP_LIMITS.keepAliveTimeoutMs,
    connectionsCheckingInterval: HTTP_LIMITS.checkIntervalMs,
    // zerotier-cli sends no Host header
    requireHostHeader: false,
  };
  const newServer = (): Server => {
    const s = createServer(serverOptions, listener);
    s.maxConnections = HTTP_LIMITS.maxConnections;
    return s;
  };

  const { host, port } = parseListen(options.listen);
  const server = newServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new Error(`cannot listen on ${options.listen}: ${e.message}`)));
    server.listen(port, host, () => resolve());
  });
  const bound = server.address();
  const boundPort = typeof bound === 'object' && bound ? bound.port : port;
  const servers = [server];
  if (host === '127.0.0.1') {
    // IPv4 loopback also answers on IPv6 loopback: newer Node resolves "localhost" to ::1 first, and
    // the UIs reach the API as localhost (docs/protocol/12-controller-ui-compat.md §4). Best effort.
    const v6 = newServer();
    const ok = await new Promise<boolean>((resolve) => {
      v6.once('error', () => resolve(false));
      v6.listen(boundPort, '::1', () => resolve(true));
    });
    if (ok) servers.push(v6);
  }
  return {
    address: `${host.includes(':') ? `[${host}]` : host}:${boundPort}`,
    port: boundPort,
    close: () => Promise.all(servers.map((s) => new Promise<void>((resolve) => { s.closeAllConnections(); s.close(() => resolve()); }))).then(() => {}),
  };
}
