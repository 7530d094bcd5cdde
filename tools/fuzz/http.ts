// The HTTP campaign: every route of the one HTTP listener (src/api/http-listener.ts), as each role
// serves it — `ztroot root`, `ztroot leaf`, `ztroot controller` (ROUTES: a role that adds routes
// adds one line each) — with missing and wrong tokens, path tricks, other methods, malformed and
// truncated requests, huge headers and bodies, slow writers (slowloris), idle keep-alive
// connections and many connections at once. Checks: the right status codes, no token-protected
// route answered without its token, no secret in any answer, the listener's timeouts and limits
// enforced, the process alive with bounded memory.

import { request as httpRequest } from 'node:http';
import { HTTP_LIMITS } from '../../src/api/http-listener.ts';
import { rawExchange } from './http-raw.ts';
import { RootTarget, type TargetRole } from './target.ts';
import { Rng } from './rng.ts';

export interface HttpRoute {
  /** Path; `{id}` is replaced by real and tricky identifiers. */
  path: string;
  /** Methods the route answers. */
  methods: string[];
  /** The token the route needs: none, the metrics token, or authtoken.secret. */
  token: 'none' | 'metrics' | 'api';
  /** A valid body for methods that take one. */
  body?: string;
  /** A valid value for `{id}`. */
  id?: string;
  /** What a method answers with the right token, when not any 2xx (a root refuses to join: 403). */
  status?: Record<string, number[]>;
}

const NWID = '8056c2e21c000001';
const CONTROLLER_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'];
const ADDRESS = '00000000ab';

/** The node routes every role serves (docs/protocol/09-local-api-and-cli.md §3). */
const NODE_ROUTES: HttpRoute[] = [
  { path: '/health', methods: ['GET', 'HEAD'], token: 'none' },
  { path: '/metrics', methods: ['GET', 'HEAD'], token: 'metrics' },
  { path: '/status', methods: ['GET', 'HEAD'], token: 'api' },
  { path: '/config', methods: ['GET', 'HEAD'], token: 'api' },
  { path: '/peer', methods: ['GET', 'HEAD'], token: 'api' },
  { path: '/peer/{id}', methods: ['GET', 'HEAD'], token: 'api', id: ADDRESS },
  { path: '/network', methods: ['GET', 'HEAD'], token: 'api' },
  { path: '/moon', methods: ['GET', 'HEAD'], token: 'api' },
];

/** Every route of the listener, by role. */
export const ROUTES: Record<TargetRole, HttpRoute[]> = {
  root: [
    ...NODE_ROUTES,
    { path: '/peers', methods: ['GET', 'HEAD'], token: 'metrics' },
    // a root joins no network and takes its moons from its home
    { path: '/network/{id}', methods: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'], token: 'api', id: NWID, body: '{}', status: { GET: [404], HEAD: [404], POST: [403], PUT: [403] } },
    { path: '/moon/{id}', methods: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'], token: 'api', id: ADDRESS, body: `{"seed":"${ADDRESS}"}`, status: { POST: [403], PUT: [403], DELETE: [403] } },
  ],
  leaf: [
    ...NODE_ROUTES,
    // join first, so GET finds the network; DELETE leaves it (then {} with 200)
    { path: '/network/{id}', methods: ['POST', 'PUT', 'GET', 'HEAD', 'DELETE'], token: 'api', id: NWID, body: '{"allowDNS":false}' },
    { path: '/moon/{id}', methods: ['POST', 'PUT', 'GET', 'HEAD', 'DELETE'], token: 'api', id: ADDRESS, body: `{"seed":"${ADDRESS}"}` },
  ],
  controller: [
    ...NODE_ROUTES,
    { path: '/network/{id}', methods: ['POST', 'PUT', 'GET', 'HEAD', 'DELETE'], token: 'api', id: NWID, body: '{}' },
    { path: '/moon/{id}', methods: ['POST', 'PUT', 'GET', 'HEAD', 'DELETE'], token: 'api', id: ADDRESS, body: `{"seed":"${ADDRESS}"}` },
    // everything under /controller is one route of the listener (every method); 1.14 answers an empty 404 where it has no handler
    { path: '/controller', methods: CONTROLLER_METHODS, token: 'api', body: '{}', status: { POST: [404], PUT: [404], DELETE: [404] } },
    { path: '/controller/network', methods: CONTROLLER_METHODS, token: 'api', body: '{"name":"fuzz"}', status: { DELETE: [404] } },
    { path: '/unstable/controller/network', methods: CONTROLLER_METHODS, token: 'api', body: '{}', status: { POST: [404], PUT: [404], DELETE: [404] } },
    // POST makes the network, the first DELETE removes it (200), the next ones find none (404)
    { path: '/controller/network/{id}', methods: ['POST', 'PUT', 'GET', 'HEAD', 'DELETE'], token: 'api', id: NWID, body: '{"name":"fuzz"}',
      status: { DELETE: [200, 404] } },
  ],
};

/** Identifiers with tricks in them (for `{id}` routes). */
const TRICKY_IDS = ['..', '%2e%2e', '../../metrics', '%2F..%2Fmetrics', '', '0', 'ffffffffffffffffffffffff', '-1', 'zz', '%00', 'a'.repeat(5000), '%ff%fe', '\u00e9', '*'];

export interface HttpCheck { name: string; ok: boolean; detail: string }
export interface HttpReport {
  role: TargetRole;
  checks: HttpCheck[];
  requests: number;
  alive: boolean;
  logProblems: string[];
  rssStartBytes: number;
  rssEndBytes: number;
  rssMaxBytes: number;
  seconds: number;
}

interface Answer { status: number | undefined; body: string; error?: string }

function send(http: string, method: string, path: string, headers: Record<string, string> = {}, body?: string | Uint8Array): Promise<Answer> {
  const [host, port] = [http.slice(0, http.lastIndexOf(':')), Number(http.slice(http.lastIndexOf(':') + 1))];
  return new Promise((resolve) => {
    const req = httpRequest({ host, port, method, path, headers: { connection: 'close', ...headers }, timeout: 20_000, insecureHTTPParser: false }, (res) => {
      let text = '';
      res.setEncoding('latin1');
      res.on('data', (d: string) => { if (text.length < 1 << 20) text += d; });
      res.on('end', () => resolve({ status: res.statusCode, body: text }));
      res.on('error', (e) => resolve({ status: res.statusCode, body: text, error: e.message }));
    });
    req.on('error', (e) => resolve({ status: undefined, body: '', error: e.message }));
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

function pathsOf(route: HttpRoute): string[] {
  if (!route.path.includes('{id}')) return [route.path];
  return [route.path.replace('{id}', route.id ?? '0'), ...TRICKY_IDS.map((i) => route.path.replace('{id}', i))];
}

/** Spellings of a path that must reach the same route, or none, but never skip its token check. */
function pathTricks(path: string): string[] {
  const p = path.slice(1);
  return [
    `${path}/`, `/${path}`, `//${p}`, `${path}/.`, `${path}/..`, `/./${p}`, `/health/../${p}`, `/x/../${p}`,
    `/%2e/${p}`, `/${encodeURIComponent(p[0])}${p.slice(1)}`.replace(/^\/([a-z])/, (_m, c: string) => `/%${c.charCodeAt(0).toString(16)}`),
    `${path}%00`, `${path};x=1`, `${path}?auth=`, `${path}?auth=%00`, `${path}#frag`, `${path.toUpperCase()}`,
    `${path}%2f`, `${path}\\`, `http://localhost${path}`, `http://evil.example${path}`, `${path}?`, `${path}?x=${'a'.repeat(8000)}`,
  ];
}

export interface HttpCampaignOptions {
  /** Which `ztroot` command serves the listener (default root). */
  role?: TargetRole;
  seed: number;
  /** Connections of the slowloris check (each one slow writer). */
  slowConnections: number;
  /** Requests of the many-connections check, all at once. */
  concurrent: number;
  progress?: (line: string) => void;
}

export async function runHttpCampaign(o: HttpCampaignOptions): Promise<HttpReport> {
  const role = o.role ?? 'root';
  // a small peer table: the whole table turns resident at the root's first expiry scan (30 s after start), which would hide the listener's memory
  const rootArgs = ['--workers', '1', '--validation-threads', '1', '--max-peers', '10000'];
  const target = await RootTarget.spawn({ role, args: role === 'root' ? rootArgs : [] });
  try {
    return await campaign(o, target);
  } finally {
    await target.dispose();
  }
}

async function campaign(o: HttpCampaignOptions, target: RootTarget): Promise<HttpReport> {
  const log = o.progress ?? (() => {});
  const rng = new Rng(o.seed);
  const http = target.http;
  const [host, port] = [http.slice(0, http.lastIndexOf(':')), Number(http.slice(http.lastIndexOf(':') + 1))];
  const routes = ROUTES[target.role];
  const token = target.metricsToken;
  const apiToken = target.authToken;
  const tokenFor = (route: HttpRoute): string => (route.token === 'api' ? apiToken : token);
  const checks: HttpCheck[] = [];
  let requests = 0;
  const started = Date.now();
  const rssStart = target.rssBytes();
  let rssMax = rssStart;
  const rssTimer = setInterval(() => { rssMax = Math.max(rssMax, target.rssBytes() || 0); }, 250);
  const check = (name: string, ok: boolean, detail: string): void => {
    checks.push({ name, ok, detail });
    if (!ok) log(`FAIL ${name}: ${detail}`);
  };
  const answers: Answer[] = [];
  const ask = async (method: string, path: string, headers: Record<string, string> = {}, body?: string | Uint8Array): Promise<Answer> => {
    requests++;
    const a = await send(http, method, path, headers, body);
    answers.push(a);
    return a;
  };
  const stillUp = async (section: string): Promise<void> => {
    const a = await send(http, 'GET', '/health');
    requests++;
    check(`listener still answers /health after ${section}`, a.status === 200, `got ${a.status} ${a.error ?? ''}`);
    log(`after ${section}: RSS ${(target.rssBytes() / 2 ** 20).toFixed(1)} MiB`);
  };
  // the other token is a wrong one too: the metrics token opens no API route and the API token no metrics route
  const wrongTokensFor = (t: string): string[] => ['', ' ', t.slice(0, -1), `${t}x`, t.toUpperCase(), `${t} ${t}`, 'x'.repeat(t.length),
    '\u00e9'.repeat(8), t.slice(1), 'null', 'undefined', `${t}%00`, t === apiToken ? token : apiToken];

  // ---- A: tokens, on every route and method ------------------------------------------------
  for (const route of routes) {
    const routeToken = tokenFor(route);
    const wrongTokens = wrongTokensFor(routeToken);
    for (const [pathIndex, path] of pathsOf(route).entries()) {
      for (const method of route.methods) {
        // Node's client frames a body only for POST and PUT (another method's would arrive as the next request)
        const body = method === 'POST' || method === 'PUT' ? route.body : undefined;
        const none = await ask(method, path, {}, body);
        if (route.token !== 'none') {
          // a tricky ID may land on no route, on another one (`/moon/../../metrics`: 401 or 405) or be refused by the parser (400): never served
          const denied = (st: number | undefined): boolean => (pathIndex === 0 ? st === 401 : st !== undefined && (st < 200 || st >= 300) && st < 500);
          const deniedName = pathIndex === 0 ? '401' : 'not 2xx, not 5xx';
          check(`${method} ${path.slice(0, 60)} without a token → ${deniedName}`, denied(none.status), `got ${none.status}`);
          // tricky IDs get fewer wrong tokens (and not the other token: `/peer/../../metrics` is /metrics, where the metrics token is right)
          for (const w of pathIndex > 0 ? wrongTokens.slice(0, 4) : wrongTokens) {
            for (const h of [{ authorization: `Bearer ${w}` }, { 'x-zt1-auth': w }] as Record<string, string>[]) {
              let a: Answer;
              try { a = await ask(method, path, h, body); } catch { continue; } // a header Node itself refuses to send
              check(`${method} ${path.slice(0, 60)} wrong token (${Object.keys(h)[0]}, ${w.length} chars) → ${deniedName}`, denied(a.status) || a.status === 400, `got ${a.status}`);
            }
            const q = await ask(method, `${path}${path.includes('?') ? '&' : '?'}auth=${encodeURIComponent(w)}`, {}, body);
            check(`${method} ${path.slice(0, 60)} wrong ?auth= → ${deniedName}`, denied(q.status), `got ${q.status}`);
          }
          // a wrong X-ZT1-Auth wins over a right bearer token: never let one good header excuse a bad one
          const both = await ask(method, path, { 'x-zt1-auth': 'wrong', authorization: `Bearer ${routeToken}` }, body);
          check(`${method} ${path.slice(0, 60)} wrong X-ZT1-Auth with a right bearer → ${deniedName}`, denied(both.status), `got ${both.status}`);
          // with the right token: the route's answer for the real ID; a tricky one is no route (404) or the route's own answer
          const want = route.status?.[method];
          const right = (s: number | undefined): boolean => s !== undefined && (pathIndex > 0 ? s < 500 : want !== undefined ? want.includes(s) : s >= 200 && s < 300);
          const wanted = pathIndex > 0 ? 'not 5xx' : want?.join(' or ') ?? '2xx';
          for (const h of [{ authorization: `Bearer ${routeToken}` }, { authorization: `bearer   ${routeToken}` }, { 'x-zt1-auth': routeToken }] as Record<string, string>[]) {
            const a = await ask(method, path, h, body);
            check(`${method} ${path.slice(0, 60)} right token (${Object.keys(h)[0]}) → ${wanted}`, right(a.status), `got ${a.status}`);
          }
          const q = await ask(method, `${path}?auth=${routeToken}`, {}, body);
          check(`${method} ${path.slice(0, 60)} right ?auth= → ${wanted}`, right(q.status), `got ${q.status}`);
        } else {
          check(`${method} ${path} without a token → 2xx`, none.status !== undefined && none.status >= 200 && none.status < 300, `got ${none.status}`);
        }
      }
    }
  }
  log(`tokens: ${requests} requests`);
  await stillUp('tokens');

  // ---- B: path tricks never reach a token route without its token ----------------------------
  for (const route of routes.filter((r) => r.token !== 'none')) {
    for (const path of pathsOf(route).slice(0, 1).flatMap(pathTricks)) {
      const r = await rawExchange(host, port, [`GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`]);
      requests++;
      check(`GET ${JSON.stringify(path.slice(0, 60))} without a token: not 2xx, not 5xx`, r.status !== undefined && (r.status < 200 || r.status >= 300) && r.status < 500, `got ${r.status}`);
    }
  }
  log(`path tricks: ${requests} requests`);
  await stillUp('path tricks');

  // ---- C: other methods ----------------------------------------------------------------------
  for (const route of routes) {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'PROPFIND', 'FOO'].filter((m) => !route.methods.includes(m))) {
      for (const auth of [{}, { authorization: `Bearer ${tokenFor(route)}` }] as Record<string, string>[]) {
        const a = await ask(method, pathsOf(route)[0], { 'content-type': 'application/json', ...auth }, '{"x":1}');
        // Node's parser refuses a method it does not know (FOO) with 400 before any route sees it
        const want = method === 'FOO' ? [400, 405] : [405];
        check(`${method} ${route.path} → ${want.join(' or ')}`, a.status !== undefined && want.includes(a.status), `got ${a.status}`);
      }
    }
  }

  await stillUp('other methods');

  // ---- D: malformed requests, byte for byte --------------------------------------------------
  const malformed: [string, string | Uint8Array][] = [
    ['garbage request line', 'HELLO\r\n\r\n'],
    ['no version', 'GET /metrics\r\n\r\n'],
    ['HTTP/0.9', 'GET /metrics\n'],
    ['HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'],
    ['NUL in the path', 'GET /met\0rics HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['bad header name', 'GET /health HTTP/1.1\r\nHo st: x\r\n\r\n'],
    ['header without colon', 'GET /health HTTP/1.1\r\nHost x\r\n\r\n'],
    ['obs-fold header', 'GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer\r\n x\r\n\r\n'],
    ['CL and TE both', 'POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
    ['two Content-Lengths', 'POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab'],
    ['negative Content-Length', 'POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n'],
    ['huge Content-Length', 'POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n'],
    ['bad chunk size', 'POST /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'],
    ['smuggled second request', `GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n\r\nGET /metrics HTTP/1.1\r\nHost: x\r\n\r\n`],
    ['pipelined token-less request after a good one', `GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\nGET /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`],
    ['absolute-form', 'GET http://localhost/metrics HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['asterisk-form', 'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['CONNECT', 'CONNECT localhost:22 HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['random bytes', Buffer.from(rng.bytes(2048))],
    ['Upgrade: websocket', 'GET /metrics HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'],
    ['Expect: 100-continue', 'POST /metrics HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n'],
  ];
  // all at once: the ones the server keeps open end with its keep-alive or request timeout
  const results = await Promise.all(malformed.map(([, bytes]) => rawExchange(host, port, [bytes], { waitMs: HTTP_LIMITS.requestTimeoutMs + 5000 })));
  for (const [i, [name]] of malformed.entries()) {
    const r = results[i];
    requests++;
    // every response in the stream: a token route may only ever answer 2xx to the request that carried the token
    const statuses = [...r.response.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1]));
    const okCount = statuses.filter((s) => s >= 200 && s < 300).length;
    const allowedOk = name.startsWith('pipelined') || name === 'smuggled second request' ? 1 : 0;
    check(`malformed: ${name} → 4xx or closed, nothing served without the token`, okCount <= allowedOk && !statuses.some((s) => s >= 500) && (statuses.length > 0 || r.closedByServer),
      `statuses ${JSON.stringify(statuses)}, closed by server ${r.closedByServer}`);
  }
  log(`malformed: ${requests} requests`);
  await stillUp('malformed requests');

  // ---- E: huge headers, many headers, a huge body --------------------------------------------
  {
    const big = await rawExchange(host, port, [`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(1 << 20)}\r\n\r\n`]);
    check('1 MiB header → 431 or closed', big.status === 431 || (big.status === undefined && big.closedByServer), `got ${big.status}`);
    const many = await rawExchange(host, port, [`GET /health HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 5000 }, (_, i) => `X-H${i}: v`).join('\r\n')}\r\n\r\n`]);
    check('5000 headers → 431 or closed', many.status === 431 || (many.status === undefined && many.closedByServer), `got ${many.status}`);
    await stillUp('huge headers');
    const longToken = await ask('GET', '/metrics', { authorization: `Bearer ${'t'.repeat(15_000)}` });
    check('a 15 kB bearer token → 401', longToken.status === 401, `got ${longToken.status}`);
    // 64 MiB streamed as fast as the server takes it: the server must answer and stop reading
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const bodyChunks: (string | Uint8Array)[] = [`POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: ${64 * 1024 * 1024}\r\n\r\n`, ...Array.from({ length: 1024 }, () => chunk)];
    const huge = await rawExchange(host, port, bodyChunks, { waitMs: 5000 });
    // the server answers 405 and closes; our writes then meet a reset, which may swallow the 405
    check('64 MiB body to a GET-only route → 405 and closed, not read to the end', (huge.status === 405 || huge.status === undefined) && huge.closedByServer && huge.written < 64 * 1024 * 1024,
      `status ${huge.status}, closed ${huge.closedByServer} after ${huge.ms} ms, ${(huge.written / 2 ** 20).toFixed(1)} MiB of 64 written`);
    await stillUp('a huge body');
  }

  // ---- F/G/I: slow writers and idle connections (run together; each bounded) ----------------
  {
    const deadlineSlack = 3 * HTTP_LIMITS.checkIntervalMs + 5000;
    log(`slowloris: ${o.slowConnections} connections, slow body, idle keep-alive (up to ${Math.round((HTTP_LIMITS.requestTimeoutMs + deadlineSlack) / 1000)} s)`);
    const slowHeaders = Array.from({ length: o.slowConnections }, () =>
      rawExchange(host, port, ['GET /health HTTP/1.1\r\n', ...Array.from({ length: 200 }, (_, i) => `X-${i}: y\r\n`)], { gapMs: 1000, waitMs: 1000 }));
    const slowBody = rawExchange(host, port, ['POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n', ...Array.from({ length: 200 }, () => 'a')], { gapMs: 1000, waitMs: 1000 });
    const truncatedBody = rawExchange(host, port, ['GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789'], { waitMs: HTTP_LIMITS.requestTimeoutMs + deadlineSlack });
    const idle = rawExchange(host, port, ['GET /health HTTP/1.1\r\nHost: x\r\n\r\n'], { waitMs: HTTP_LIMITS.keepAliveTimeoutMs + deadlineSlack });
    // while the slow ones hang on, the listener still answers
    await new Promise((r) => setTimeout(r, 2000));
    const during = await ask('GET', '/health');
    check(`/health answered while ${o.slowConnections} slowloris connections are open`, during.status === 200, `got ${during.status} ${during.error ?? ''}`);
    const slow = await Promise.all(slowHeaders);
    const slowest = Math.max(...slow.map((r) => r.ms));
    check(`slowloris: the server closes every slow-header connection (headers timeout ${HTTP_LIMITS.headersTimeoutMs} ms)`,
      slow.every((r) => r.closedByServer) && slowest <= HTTP_LIMITS.headersTimeoutMs + deadlineSlack, `${slow.filter((r) => r.closedByServer).length}/${slow.length} closed, slowest ${slowest} ms`);
    const sb = await slowBody;
    check(`slow body: closed by the server (request timeout ${HTTP_LIMITS.requestTimeoutMs} ms)`, sb.closedByServer && sb.ms <= HTTP_LIMITS.requestTimeoutMs + deadlineSlack, `closed ${sb.closedByServer} after ${sb.ms} ms, status ${sb.status}`);
    const tb = await truncatedBody;
    check('truncated body (Content-Length 100, 10 sent): closed by the server', tb.closedByServer, `closed ${tb.closedByServer} after ${tb.ms} ms, status ${tb.status}`);
    const ka = await idle;
    check(`idle keep-alive connection closed (keep-alive timeout ${HTTP_LIMITS.keepAliveTimeoutMs} ms)`, ka.status === 200 && ka.closedByServer, `status ${ka.status}, closed ${ka.closedByServer} after ${ka.ms} ms`);
    requests += o.slowConnections + 3;
  }

  // ---- H: many connections at once -------------------------------------------------------------
  {
    log(`before ${o.concurrent} at once: RSS ${(target.rssBytes() / 2 ** 20).toFixed(1)} MiB`);
    const all = await Promise.all(Array.from({ length: o.concurrent }, (_, i) =>
      ask('GET', ['/health', '/metrics', '/status'][i % 3], [{}, { authorization: `Bearer ${token}` }, { 'x-zt1-auth': apiToken }][i % 3])));
    const ok = all.filter((a) => a.status === 200).length;
    const refused = all.filter((a) => a.status === undefined).length;
    check(`${o.concurrent} requests at once: each answered 200 or refused at the connection limit, none 5xx`,
      ok + refused === all.length && ok >= Math.min(all.length, HTTP_LIMITS.maxConnections) / 2, `${ok} answered, ${refused} refused`);
  }

  // ---- secrets never in an answer or the log ---------------------------------------------------
  {
    const denied = answers.filter((a) => a.status === 401 || a.status === 404 || a.status === 405 || a.status === 400);
    check('no answer without the token contains a token', denied.every((a) => !a.body.includes(token) && !a.body.includes(apiToken)), `${denied.length} answers looked at`);
    const secretHex = (await import('node:fs')).readFileSync(`${target.home}/identity.secret`, 'utf8').trim().split(':')[3];
    const bodies = [(await ask('GET', '/metrics', { authorization: `Bearer ${token}` })).body];
    for (const path of ['/status', '/peer', '/config', '/moon']) bodies.push((await ask('GET', path, { 'x-zt1-auth': apiToken })).body);
    if (target.role === 'root') bodies.push((await ask('GET', '/peers', { authorization: `Bearer ${token}` })).body);
    check('/metrics and the node routes hold neither token nor the identity secret', bodies.every((b) => !b.includes(token) && !b.includes(apiToken) && !b.includes(secretHex)), 'scanned');
    const logs = target.stderr + target.stdout;
    check('the log holds neither token nor the identity secret', !logs.includes(token) && !logs.includes(apiToken) && !logs.includes(secretHex), 'scanned');
  }

  clearInterval(rssTimer);
  const alive = target.running;
  const health = alive ? await ask('GET', '/health') : { status: undefined };
  check('still answering /health at the end', health.status === 200, `got ${health.status}`);
  return {
    role: target.role, checks, requests, alive, logProblems: target.logProblems(), rssStartBytes: rssStart, rssEndBytes: target.rssBytes(), rssMaxBytes: rssMax,
    seconds: (Date.now() - started) / 1000,
  };
}

export function httpFailures(r: HttpReport): string[] {
  const f = r.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
  if (!r.alive) f.push(`the ${r.role} process exited`);
  if (r.logProblems.length > 0) f.push(`${r.logProblems.length} problem lines in the ${r.role}'s log: ${r.logProblems.slice(0, 3).join(' | ')}`);
  // memory: what a burst of connections may take, not growth without bound
  if (r.rssMaxBytes - r.rssStartBytes > 200 * 2 ** 20) f.push(`RSS grew by ${((r.rssMaxBytes - r.rssStartBytes) / 2 ** 20).toFixed(0)} MiB`);
  return f;
}

export function formatHttpReport(r: HttpReport): string {
  const passed = r.checks.filter((c) => c.ok).length;
  const lines = [
    `HTTP campaign (${r.role}) — routes ${ROUTES[r.role].map((x) => x.path).join(', ')}`,
    `  ${r.requests} requests in ${r.seconds.toFixed(1)} s; checks passed ${passed}/${r.checks.length}`,
    `  process alive: ${r.alive ? 'yes' : 'NO'}; log problems: ${r.logProblems.length}`,
    `  RSS start ${(r.rssStartBytes / 2 ** 20).toFixed(1)} MiB, max ${(r.rssMaxBytes / 2 ** 20).toFixed(1)} MiB, end ${(r.rssEndBytes / 2 ** 20).toFixed(1)} MiB`,
  ];
  for (const c of r.checks.filter((x) => !x.ok)) lines.push(`  FAILED ${c.name}: ${c.detail}`);
  return lines.join('\n');
}
