// `ztroot root` start-up failures end the process with one line and status 1; a root whose UDP
// sockets are up must not run on without its HTTP API.

import { createServer, type AddressInfo } from 'node:net';
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { runZtroot, tempDir } from '../support/cli.ts';

const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

describe('ztroot root start-up failures', () => {
  it('exits 1 with one line when its HTTP address is taken', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    const home = tempDir('ztroot-root-cli-');
    dirs.push(home);
    try {
      // no planet file in the home and none named: the root lives in no planet and contacts nobody
      const r = runZtroot(['root', '--home', home, '--bind', '127.0.0.1', '--port', '0', '--http', `127.0.0.1:${port}`, '--log-level', 'error'], home);
      expect(r.stderr).toBe(`ztroot root: cannot listen on 127.0.0.1:${port}: listen EADDRINUSE: address already in use 127.0.0.1:${port}\n`);
      expect(r.status).toBe(1);
    } finally {
      taken.close();
    }
  });
});
