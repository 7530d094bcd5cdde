// Regression (found by the HTTP campaign): a request target that is not a path — "GET //",
// "GET //:99999" — made `new URL()` throw inside the request handler, an uncaught exception that
// ended the root process. The listener now answers 400 and keeps serving.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawExchange } from '../../tools/fuzz/http-raw.ts';
import { RootTarget } from '../../tools/fuzz/target.ts';

let target: RootTarget;
let host: string;
let port: number;

beforeAll(async () => {
  target = await RootTarget.spawn({ args: ['--workers', '1', '--validation-threads', '1'] });
  [host, port] = [target.http.split(':')[0], Number(target.http.split(':')[1])];
});

afterAll(async () => {
  await target?.dispose();
});

describe('request targets that do not parse as a URL path', () => {
  it.each(['//', '//:99999', '//a%20b:0', 'http://[::1', '//[zz]/metrics'])('GET %s is answered 400 and the root keeps running', async (path) => {
    const r = await rawExchange(host, port, [`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`]);
    expect(r.status).toBe(400);
    expect(target.running).toBe(true);
    const health = await fetch(`http://${target.http}/health`);
    expect(health.status).toBe(200);
  });
});
