// The real `ztroot root` daemon started inside a lab namespace, and its HTTP endpoints read from
// inside that namespace (the host cannot route into the lab). Shared by the end-to-end tests.

import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import type { NetnsLab } from './netns.ts';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const ZTROOT_BIN = join(REPO, 'bin/ztroot.js');
export const LEAF_RUNNER = join(REPO, 'tools/lab/leaf-runner.ts');
/** The Node that runs TypeScript directly (24+): this process's own, else the pinned npm one. */
export const NODE = Number(process.versions.node.split('.')[0]) >= 24 ? process.execPath : join(REPO, 'node_modules/.bin/node');

export interface LabRoot {
  child: ChildProcess;
  home: string;
  /** TCP "IP:port" of its HTTP listener, inside its namespace. */
  http: string;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** GET an endpoint (the metrics token is sent). */
  get(path: string): string;
}

/**
 * Start `ztroot root --home HOME …args` in `ns` and wait until it prints that it is running.
 * The home must already hold identity.secret (and any worlds).
 */
export async function startLabRoot(lab: NetnsLab, ns: string, home: string, args: readonly string[], http = '127.0.0.1:9993', startupMs = 30_000): Promise<LabRoot> {
  const child = lab.spawn(ns, NODE, [ZTROOT_BIN, 'root', '--home', home, '--http', http, '--validation-threads', '1', ...args]);
  let out = '';
  await new Promise<void>((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`root in ${ns} did not start within ${startupMs} ms:\n${out}`)), startupMs);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      if (/ztroot root [0-9a-f]{10} is running/.test(out)) {
        clearTimeout(timer);
        resolvePromise();
      }
    });
    child.stderr!.on('data', (c: Buffer) => { out += c.toString('utf8'); });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`root in ${ns} exited with ${code} before it was ready:\n${out}`));
    });
  });
  const token = readFileSync(join(home, 'metricstoken.secret'), 'utf8').trim();
  return {
    child, home, http,
    output: () => out,
    get(path: string): string {
      const script = `fetch(${JSON.stringify(`http://${http}${path}`)}, { headers: { authorization: 'Bearer ' + process.env.ZT_TOKEN } })` +
        '.then(async (r) => { if (!r.ok) throw new Error("HTTP " + r.status); process.stdout.write(await r.text()); })' +
        '.catch((e) => { console.error(e.message); process.exit(1); })';
      return lab.exec(ns, 'env', [`ZT_TOKEN=${token}`, NODE, '-e', script]);
    },
  };
}
