// The HTTP campaign: every route of the root's HTTP listener (ROUTES — a role that adds routes
// adds one line each) with missing and wrong tokens, path tricks, other methods, malformed and
// truncated requests, huge headers and bodies, slow writers (slowloris), idle keep-alive
// connections and many connections at once. Checks: the right status codes, no token-protected
// route answered without its token, no secret in any answer, the listener's timeouts and limits
// enforced, the process alive with bounded memory.

import { request as httpRequest } from 'node:http';
import { HTTP_LIMITS } from '../../src/api/http-listener.ts';
import { rawExchange } from './http-raw.ts';
import { RootTarget } from './target.ts';
import { Rng } from './rng.ts';

export interface HttpRoute {
  /** Path; `{id}` is replaced by real and tricky identifiers. */
  path: string;
  /** Methods the route answers. */
  methods: string[];
  /** Whether the route needs the token. */
  token: boolean;
  /** A valid body for methods that take one. */
  body?: string;
  /** A valid value for `{id}`. */
  id?: string;
}

/** Every route of the listener. The controller's /controller routes join here, one line each. */
export const ROUTES: HttpRoute[] = [
  { path: '/health', methods: ['GET', 'HEAD'], token: false },
  { path: '/metrics', methods: ['GET', 'HEAD'], token: true },
  { path: '/peers', methods: ['GET', 'HEAD'], token: true },
];

/** Identifiers with tricks in them (for `{id}` routes). */
const TRICKY_IDS = ['..', '%2e%2e', '../../metrics', '%2F..%2Fmetrics', '', '0', 'ffffffffffffffffffffffff', '-1', 'zz', '%00', 'a'.repeat(5000), '%ff%fe', '\u00e9', '*'];

export interface HttpCheck { name: string; ok: boolean; detail: string }
export interface HttpReport {
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
  seed: number;
  /** Connections of the slowloris check (each one slow writer). */
  slowConnections: number;
  /** Requests of the many-connections check, all at once. */
  concurrent: number;
  progress?: (line: string) => void;
}

export async function runHttpCampaign(o: HttpCampaignOptions): Promise<HttpReport> {
  const target = await RootTarget.spawn({ args: ['--workers', '1', '--validation-threads', '1'] });
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
  const token = target.metricsToken;
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
  const wrongTokens = ['', ' ', token.slice(0, -1), `${token}x`, token.toUpperCase(), `${token} ${token}`, 'x'.repeat(token.length), '\u00e9'.repeat(8), token.slice(1), 'null', 'undefined', `${token}%00`];

  // ---- A: tokens, on every route and method ------------------------------------------------
  for (const route of ROUTES) {
    for (const path of pathsOf(route)) {
      for (const method of route.methods) {
        const body = method === 'GET' || method === 'HEAD' ? undefined : route.body;
        const none = await ask(method, path, {}, body);
        if (route.token) {
          check(`${method} ${path.slice(0, 60)} without a token → 401`, none.status === 401, `got ${none.status}`);
          for (const w of wrongTokens) {
            for (const h of [{ authorization: `Bearer ${w}` }, { 'x-zt1-auth': w }] as Record<string, string>[]) {
              let a: Answer;
              try { a = await ask(method, path, h, body); } catch { continue; } // a header Node itself refuses to send
              check(`${method} ${path.slice(0, 60)} wrong token (${Object.keys(h)[0]}, ${w.length} chars) → 401`, a.status === 401 || a.status === 400, `got ${a.status}`);
            }
            const q = await ask(method, `${path}${path.includes('?') ? '&' : '?'}auth=${encodeURIComponent(w)}`, {}, body);
            check(`${method} ${path.slice(0, 60)} wrong ?auth= → 401`, q.status === 401, `got ${q.status}`);
          }
          // a wrong X-ZT1-Auth wins over a right bearer token: never let one good header excuse a bad one
          const both = await ask(method, path, { 'x-zt1-auth': 'wrong', authorization: `Bearer ${token}` }, body);
          check(`${method} ${path.slice(0, 60)} wrong X-ZT1-Auth with a right bearer → 401`, both.status === 401, `got ${both.status}`);
          for (const h of [{ authorization: `Bearer ${token}` }, { authorization: `bearer   ${token}` }, { 'x-zt1-auth': token }] as Record<string, string>[]) {
            const a = await ask(method, path, h, body);
            check(`${method} ${path.slice(0, 60)} right token (${Object.keys(h)[0]}) → 2xx`, a.status !== undefined && a.status >= 200 && a.status < 300, `got ${a.status}`);
          }
          const q = await ask(method, `${path}?auth=${token}`, {}, body);
          check(`${method} ${path.slice(0, 60)} right ?auth= → 2xx`, q.status !== undefined && q.status >= 200 && q.status < 300, `got ${q.status}`);
        } else {
          check(`${method} ${path} without a token → 2xx`, none.status !== undefined && none.status >= 200 && none.status < 300, `got ${none.status}`);
        }
      }
    }
  }
  log(`tokens: ${requests} requests`);
  await stillUp('tokens');

  // ---- B: path tricks never reach a token route without its token ----------------------------
  for (const route of ROUTES.filter((r) => r.token)) {
    for (const path of pathsOf(route).flatMap(pathTricks)) {
      const r = await rawExchange(host, port, [`GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`]);
      requests++;
      check(`GET ${JSON.stringify(path.slice(0, 60))} without a token: not 2xx, not 5xx`, r.status !== undefined && (r.status < 200 || r.status >= 300) && r.status < 500, `got ${r.status}`);
    }
  }
  log(`path tricks: ${requests} requests`);
  await stillUp('path tricks');

  // ---- C: other methods ----------------------------------------------------------------------
  for (const route of ROUTES) {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'PROPFIND', 'FOO'].filter((m) => !route.methods.includes(m))) {
      for (const auth of [{}, { authorization: `Bearer ${token}` }] as Record<string, string>[]) {
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
    ['pipelined token-less request after a good one', `GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\nGET /peers HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`],
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
      ask('GET', i % 3 === 0 ? '/health' : i % 3 === 1 ? '/metrics' : '/peers', i % 3 === 0 ? {} : { authorization: `Bearer ${token}` })));
    const ok = all.filter((a) => a.status === 200).length;
    const refused = all.filter((a) => a.status === undefined).length;
    check(`${o.concurrent} requests at once: each answered 200 or refused at the connection limit, none 5xx`,
      ok + refused === all.length && ok >= Math.min(all.length, HTTP_LIMITS.maxConnections) / 2, `${ok} answered, ${refused} refused`);
  }

  // ---- secrets never in an answer or the log ---------------------------------------------------
  {
    const denied = answers.filter((a) => a.status === 401 || a.status === 404 || a.status === 405 || a.status === 400);
    check('no answer without the token contains the token', denied.every((a) => !a.body.includes(token)), `${denied.length} answers looked at`);
    const metrics = await ask('GET', '/metrics', { authorization: `Bearer ${token}` });
    const secretHex = (await import('node:fs')).readFileSync(`${target.home}/identity.secret`, 'utf8').trim().split(':')[3];
    check('/metrics and /peers hold neither the token nor the identity secret', !metrics.body.includes(token) && !metrics.body.includes(secretHex) &&
      !(await ask('GET', '/peers', { authorization: `Bearer ${token}` })).body.includes(secretHex), 'scanned');
    check('the log holds neither the token nor the identity secret', !target.stderr.includes(token) && !target.stderr.includes(secretHex) && !target.stdout.includes(secretHex), 'scanned');
  }

  clearInterval(rssTimer);
  const alive = target.running;
  const health = alive ? await ask('GET', '/health') : { status: undefined };
  check('still answering /health at the end', health.status === 200, `got ${health.status}`);
  return {
    checks, requests, alive, logProblems: target.logProblems(), rssStartBytes: rssStart, rssEndBytes: target.rssBytes(), rssMaxBytes: rssMax,
    seconds: (Date.now() - started) / 1000,
  };
}

export function httpFailures(r: HttpReport): string[] {
  const f = r.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
  if (!r.alive) f.push('the root process exited');
  if (r.logProblems.length > 0) f.push(`${r.logProblems.length} problem lines in the root's log`);
  // memory: what a burst of connections may take, not growth without bound
  if (r.rssMaxBytes - r.rssStartBytes > 200 * 2 ** 20) f.push(`RSS grew by ${((r.rssMaxBytes - r.rssStartBytes) / 2 ** 20).toFixed(0)} MiB`);
  return f;
}

export function formatHttpReport(r: HttpReport): string {
  const passed = r.checks.filter((c) => c.ok).length;
  const lines = [
    `HTTP campaign — routes ${ROUTES.map((x) => x.path).join(', ')}`,
    `  ${r.requests} requests in ${r.seconds.toFixed(1)} s; checks passed ${passed}/${r.checks.length}`,
    `  process alive: ${r.alive ? 'yes' : 'NO'}; log problems: ${r.logProblems.length}`,
    `  RSS start ${(r.rssStartBytes / 2 ** 20).toFixed(1)} MiB, max ${(r.rssMaxBytes / 2 ** 20).toFixed(1)} MiB, end ${(r.rssEndBytes / 2 ** 20).toFixed(1)} MiB`,
  ];
  for (const c of r.checks.filter((x) => !x.ok)) lines.push(`  FAILED ${c.name}: ${c.detail}`);
  return lines.join('\n');
}
