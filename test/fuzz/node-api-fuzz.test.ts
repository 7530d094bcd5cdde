// The node API of `ztroot leaf` / `ztroot controller` (src/api/http-listener.ts with the node and /controller
// routes) under hostile requests, the HTTP part of the abuse campaign for that listener: seeded
// random methods, paths (real routes, tricky IDs, junk), tokens (none, wrong, right) and bodies
// (JSON, junk, truncated, oversized). Nothing answers 2xx without the token but /health, nothing
// crashes the process, and the API and the controller's store still work afterwards.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControllerNode } from '../../src/controller/controller-node.ts';
import { Rng } from '../../tools/fuzz/rng.ts';

const REQUESTS = 1500;
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'PATCH', 'OPTIONS'];
const IDS10 = ['0000000000', 'ffffffffff', '..', '%2e%2e', 'zz', '', 'a'.repeat(3000)];
const IDS16 = ['0000000000000000', 'ffffffffffffffff', '../status', '%00', '-1', 'x'.repeat(17)];

describe('node API of a controller node under hostile requests', () => {
  let node: ControllerNode;
  let home: string;
  let token: string;
  let base: string;

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'ztroot-api-fuzz-'));
    node = new ControllerNode({ home, bind: ['127.0.0.1'], port: 0, httpListen: '127.0.0.1:0', allowLoopbackPaths: true });
    await node.start();
    token = readFileSync(join(home, 'authtoken.secret'), 'utf8').trim();
    base = `http://127.0.0.1:${node.httpPort}`;
  });

  afterAll(async () => {
    await node?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it(`${REQUESTS} seeded random requests: no 2xx without the token, no crash, the API still works`, async () => {
    const rng = new Rng(20261206);
    const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)];
    const addr = node.address;
    const paths = (): string => pick([
      '/status', '/health', '/config', '/peer', `/peer/${pick(IDS10)}`, '/network', `/network/${pick(IDS16)}`, '/moon', `/moon/${pick(IDS10)}`,
      '/controller', '/controller/network', `/controller/network/${addr}______`, `/controller/network/${addr}${pick(['000001', 'zzzzzz', '......'])}`,
      `/controller/network/${pick(IDS16)}/member`, `/controller/network/${pick(IDS16)}/member/${pick(IDS10)}`, '/unstable/controller/network',
      `/${Buffer.from(rng.bytes(rng.int(40))).toString('base64url')}`, '//', '/status/../controller',
    ]);
    const bodies = (): string | undefined => pick([
      undefined, '{}', '{"authorized":true,"name":"x"}', '{"rules":[{"type":"ACTION_DROP"}]}', '{"seed":"ffffffffff"}', '[1,2', 'null', '"x"',
      '{"ipAssignmentPools":[{"ipRangeStart":"10.0.0.1","ipRangeEnd":"9.0.0.0"}],"routes":[{"target":"300.1.1.1/99"}]}',
      Buffer.from(rng.bytes(rng.int(2000))).toString('latin1'), 'a'.repeat(70_000),
    ]);
    let unauthorizedOk = 0;
    const statuses = new Map<number, number>();
    for (let i = 0; i < REQUESTS; i++) {
      const method = pick(METHODS);
      const path = paths();
      const tokenKind = pick(['none', 'wrong', 'right', 'right'] as const);
      const headers: Record<string, string> = tokenKind === 'none' ? {} : { 'X-ZT1-Auth': tokenKind === 'right' ? token : `${token.slice(1)}x` };
      const body = method === 'GET' || method === 'HEAD' ? undefined : bodies();
      let status = 0;
      try {
        const r = await fetch(base + path, { method, headers, body });
        status = r.status;
        await r.arrayBuffer();
      } catch {
        status = -1; // the server closed the connection (an oversized body is cut off)
      }
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      const pathname = URL.parse(path, base)?.pathname;
      if (tokenKind !== 'right' && status >= 200 && status < 300 && pathname !== '/health') unauthorizedOk++;
    }
    expect(unauthorizedOk).toBe(0);
    expect([...statuses.keys()].every((s) => [-1, 200, 400, 401, 403, 404, 405, 413, 500].includes(s)), JSON.stringify([...statuses])).toBe(true);
    // still serving, and the store still takes writes
    const status = await fetch(`${base}/status`, { headers: { 'X-ZT1-Auth': token } });
    expect(status.status).toBe(200);
    const created = await fetch(`${base}/controller/network/${addr}______`, { method: 'POST', headers: { 'X-ZT1-Auth': token }, body: '{"name":"after"}' });
    expect(created.status).toBe(200);
    expect(((await created.json()) as { name: string }).name).toBe('after');
  }, 120_000);
});
