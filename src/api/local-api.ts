// zerotier-one's local HTTP API for a node (docs/protocol/09-local-api-and-cli.md §2–§4): loopback only,
// authtoken.secret sent as X-ZT1-Auth, ?auth= or a Bearer token (the first one present is the
// one checked), JSON answers, 401 {} without the token. The node routes — /status, /health,
// /config, /peer, /network, /moon — answer from a NodeApiView, so every role that is a node
// (the leaf today) serves the same routes; a role adds its own through `extra`.

import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { isLoopbackClient, requestToken, tokensEqual } from './auth.ts';
import { parseListen } from './root-http.ts';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** What the node routes read and change. */
export interface NodeApiView {
  statusJson(): Json;
  online: boolean;
  peersJson(): Json[];
  networksJson(): Json[];
  networkJson(nwid: bigint): Json | undefined;
  join(nwid: bigint, settings: Partial<Record<'allowManaged' | 'allowGlobal' | 'allowDefault' | 'allowDNS', boolean>>): Json;
  leave(nwid: bigint): boolean;
  moonsJson(): Json[];
  orbit(moonId: bigint, seed: number): Json;
  deorbit(moonId: bigint): void;
}

export interface Reply { status: number; body: Json | string }

/** Another role's routes: a reply, or undefined when the path is not theirs. */
export type ExtraRoutes = (method: string, pathname: string, body: string) => Reply | undefined | Promise<Reply | undefined>;

export interface LocalApiOptions {
  /** "IP:port"; zerotier-one listens on the primary UDP port number. */
  listen: string;
  authToken: string;
  node: NodeApiView;
  extra?: ExtraRoutes;
  /** Which client addresses may use the API (default: loopback only, as zerotier-one). */
  allowFrom?: (remoteAddress: string | undefined) => boolean;
}

/** Request bodies on node routes are small JSON objects. */
const MAX_BODY_BYTES = 64 * 1024;
/** A request that has not arrived whole in this long is dropped (slow clients cannot hold sockets). */
const REQUEST_TIMEOUT_MS = 10_000;

const HEX16 = /^[0-9a-fA-F]{16}$/;
const HEX10 = /^[0-9a-fA-F]{10}$/;


function bodyObject(text: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? v as Record<string, unknown> : {};
  } catch {
    return {};
  }
}

/** The node routes (docs/protocol/09-local-api-and-cli.md §3). Undefined when the path is not one of them. */
export function nodeRoutes(node: NodeApiView, method: string, pathname: string, body: string): Reply | undefined {
  const write = method === 'POST' || method === 'PUT';
  const parts = pathname.split('/').filter(Boolean);
  if (parts.length === 1 && method === 'GET') {
    switch (parts[0]) {
      case 'status': return { status: 200, body: node.statusJson() };
      case 'config': return { status: 200, body: {} };
      case 'peer': return { status: 200, body: node.peersJson() };
      case 'network': return { status: 200, body: node.networksJson() };
      case 'moon': return { status: 200, body: node.moonsJson() };
    }
  }
  if (parts.length !== 2) return undefined;
  const [kind, id] = parts;
  if (kind === 'peer' && HEX10.test(id) && method === 'GET') {
    const want = id.toLowerCase();
    return { status: 200, body: node.peersJson().find((p) => (p as { address?: string }).address === want) ?? {} };
  }
  if (kind === 'network' && HEX16.test(id)) {
    const nwid = BigInt(`0x${id}`);
    if (method === 'GET') {
      const n = node.networkJson(nwid);
      return n ? { status: 200, body: n } : { status: 404, body: {} };
    }
    if (write) {
      const b = bodyObject(body);
      const settings: Record<string, boolean> = {};
      for (const k of ['allowManaged', 'allowGlobal', 'allowDefault', 'allowDNS']) if (typeof b[k] === 'boolean') settings[k] = b[k] as boolean;
      return { status: 200, body: node.join(nwid, settings) };
    }
    if (method === 'DELETE') return { status: 200, body: node.leave(nwid) ? { result: true } : {} };
  }
  if (kind === 'moon' && HEX10.test(id)) {
    const moonId = BigInt(`0x${id}`);
    if (method === 'GET') return { status: 200, body: node.moonsJson().find((m) => (m as { id?: string }).id === moonId.toString(16).padStart(16, '0')) ?? {} };
    if (write) {
      const seed = bodyObject(body).seed;
      const seedAddress = typeof seed === 'string' && /^[0-9a-fA-F]{1,10}$/.test(seed) ? Number.parseInt(seed, 16) : 0;
      return { status: 200, body: node.orbit(moonId, seedAddress) };
    }
    if (method === 'DELETE') {
      node.deorbit(moonId);
      return { status: 200, body: { result: true } };
    }
  }
  return undefined;
}

function send(res: ServerResponse, r: Reply): void {
  const text = typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
  // zerotier-cli's HTTP client reads a Content-Length body (not chunked) and expects the close
  res.writeHead(r.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), connection: 'close' });
  res.end(text);
}

export interface LocalApi {
  port: number;
  close(): Promise<void>;
}

export async function startLocalApi(options: LocalApiOptions): Promise<LocalApi> {
  // zerotier-cli sends no Host header
  const server: Server = createServer({ requestTimeout: REQUEST_TIMEOUT_MS, headersTimeout: REQUEST_TIMEOUT_MS, requireHostHeader: false }, (req, res) => {
    try {
      handle(req, res);
    } catch (e) {
      // nothing a client sends may end the process
      if (!res.headersSent) send(res, { status: 500, body: { error: (e as Error).message } });
    }
  });
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      return send(res, { status: 400, body: {} });
    }
    if (!(options.allowFrom ?? isLoopbackClient)(req.socket.remoteAddress)) return send(res, { status: 401, body: {} });
    const method = req.method ?? 'GET';
    if (url.pathname === '/health' && method === 'GET') {
      return send(res, { status: 200, body: {
        clock: Date.now(), online: options.node.online, version: '1.14.1', versionBuild: 0, versionMajor: 1, versionMinor: 14, versionRev: 1,
      } });
    }
    if (!tokensEqual(requestToken(req, url), options.authToken)) return send(res, { status: 401, body: {} });
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        send(res, { status: 413, body: {} });
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (res.headersSent) return;
      const body = Buffer.concat(chunks).toString('utf8');
      void (async () => {
        try {
          const r = nodeRoutes(options.node, method, url.pathname, body) ?? await options.extra?.(method, url.pathname, body);
          send(res, r ?? { status: 404, body: {} });
        } catch (e) {
          send(res, { status: 500, body: { error: (e as Error).message } });
        }
      })();
    });
  };
  const { host, port } = parseListen(options.listen);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new Error(`cannot listen on ${options.listen}: ${e.message}`)));
    server.listen(port, host, () => resolve());
  });
  const bound = server.address();
  const boundPort = typeof bound === 'object' && bound ? bound.port : port;
  const servers = [server];
  if (host === '127.0.0.1') {
    // also IPv6 loopback, where newer clients send "localhost" (best effort)
    const v6 = createServer({ requestTimeout: REQUEST_TIMEOUT_MS, headersTimeout: REQUEST_TIMEOUT_MS, requireHostHeader: false }, server.listeners('request')[0] as RequestListener);
    const ok = await new Promise<boolean>((resolve) => {
      v6.once('error', () => resolve(false));
      v6.listen(boundPort, '::1', () => resolve(true));
    });
    if (ok) servers.push(v6);
  }
  return {
    port: boundPort,
    close: () => Promise.all(servers.map((s) => new Promise<void>((resolve) => { s.closeAllConnections(); s.close(() => resolve()); }))).then(() => {}),
  };
}
