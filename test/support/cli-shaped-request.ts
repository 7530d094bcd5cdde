// One HTTP exchange in the shape zerotier-cli 1.14 makes it (its osdep/Http.cpp): the request line,
// its own headers only — no Host, no Connection — and a response read to the end of the message
// by its Content-Length, after which the client closes. A server that needs a Host header, or
// whose body has no Content-Length, fails here as it would fail the real zerotier-cli.

import { connect } from 'node:net';

export interface CliExchange { status: number; head: string; body: string }

export function cliShapedRequest(port: number, target: string, headers: Record<string, string>, timeoutMs = 10_000): Promise<CliExchange> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1', () => {
      sock.write(`GET ${target} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);
    });
    let got = Buffer.alloc(0);
    const timer = setTimeout(() => { sock.destroy(); reject(new Error(`no complete answer to GET ${target} within ${timeoutMs} ms`)); }, timeoutMs);
    sock.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      const end = got.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = got.subarray(0, end).toString('latin1');
      const length = /^content-length:\s*(\d+)$/im.exec(head);
      if (!length) {
        sock.destroy();
        clearTimeout(timer);
        return reject(new Error(`answer without Content-Length:\n${head}`));
      }
      if (got.length - end - 4 < Number(length[1])) return;
      clearTimeout(timer);
      sock.end();
      resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0), head, body: got.subarray(end + 4, end + 4 + Number(length[1])).toString('utf8') });
    });
    sock.on('error', (e) => { clearTimeout(timer); reject(e); });
  });
}
