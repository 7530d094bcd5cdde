// kill -9 during a stream of API writes: every write the API acknowledged is in the database
// afterwards, and the database opens. (A process kill cannot lose what SQLite committed; what
// this catches is an answer sent before the commit.)

import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ControllerStore } from '../../src/controller/store.ts';
import { ZTROOT_BIN, tempDir } from '../support/cli.ts';
import { captureExchange } from './capture-exchange.ts';
import { writeRootHome } from './harness.ts';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe('controller database under kill -9', () => {
  it('keeps every acknowledged write', async () => {
    const home = tempDir('ztroot-ctl-kill-');
    dirs.push(home);
    const x = captureExchange();
    writeRootHome(home, x.controller);
    const port = await freePort();
    const child = spawn(process.execPath, [ZTROOT_BIN, 'root', '--controller', '--home', home, '--workers', '0', '--bind', '127.0.0.1', '--port', '0', '--http', `127.0.0.1:${port}`],
      { stdio: ['ignore', 'ignore', 'pipe'] });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      await new Promise<void>((resolve, reject) => {
        let err = '';
        child.stderr!.on('data', (d: Buffer) => {
          err += d.toString();
          if (err.includes('http listening')) resolve();
        });
        child.once('exit', () => reject(new Error(`root exited: ${err}`)));
      });
      const token = readFileSync(join(home, 'authtoken.secret'), 'utf8');
      const api = (method: string, path: string, body: unknown) => fetch(`http://127.0.0.1:${port}${path}`, {
        method, headers: { 'X-ZT1-Auth': token }, body: JSON.stringify(body),
      });
      const nw = await (await api('POST', '/controller/network', { name: 'durable' })).json() as { id: string };
      const acked: string[] = [];
      let stop = false;
      const writers = Array.from({ length: 4 }, async (_, w) => {
        for (let i = 0; !stop; i++) {
          const addr = (w * 1_000_000 + i + 1).toString(16).padStart(10, '0');
          try {
            const r = await api('POST', `/controller/network/${nw.id}/member/${addr}`, { authorized: true, name: `w${w}-${i}` });
            if (r.status === 200) acked.push(addr);
          } catch { return; } // the process died under us
        }
      });
      while (acked.length < 200) await new Promise((r) => setTimeout(r, 5));
      child.kill('SIGKILL');
      stop = true;
      await Promise.all(writers);
      await exited;

      const store = new ControllerStore(join(home, 'controller.db'));
      const nwid = BigInt('0x' + nw.id);
      const missing = acked.filter((a) => store.member(nwid, Number.parseInt(a, 16))?.authorized !== true);
      expect(missing).toEqual([]);
      expect(store.members(nwid).length).toBeGreaterThanOrEqual(acked.length);
      store.close();
    } finally {
      child.kill('SIGKILL');
    }
  });
});
