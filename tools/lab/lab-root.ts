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
 * An HTTP request made from inside a lab namespace (where 127.0.0.1 is that namespace's own);
 * `token` goes in X-ZT1-Auth. Returns the body; throws on a non-2xx status.
 */
export function labHttp(lab: NetnsLab, ns: string, method: string, url: string, token: string, body?: unknown): string {
  const script = `fetch(process.env.ZT_URL, { method: process.env.ZT_METHOD, headers: { 'X-ZT1-Auth': process.env.ZT_TOKEN }, body: process.env.ZT_BODY || undefined })` +
    '.then(async (r) => { const t = await r.text(); if (!r.ok) throw new Error("HTTP " + r.status + " " + t); process.stdout.write(t); })' +
    '.catch((e) => { console.error(e.message); process.exit(1); })';
  return lab.exec(ns, 'env', [`ZT_URL=${url}`, `ZT_METHOD=${method}`, `ZT_TOKEN=${token}`, `ZT_BODY=${body === undefined ? '' : JSON.stringify(body)}`, NODE, '-e', script]);
}

/** A JSON API inside a namespace: `call(method, path, body?)` returns the parsed body (null when empty). */
export function labJsonApi(lab: NetnsLab, ns: string, base: string, token: string): (method: string, path: string, body?: unknown) => any {
  return (method, path, body) => JSON.parse(labHttp(lab, ns, method, `${base}${path}`, token, body) || 'null');
}

/**
 * Spawn `ztroot …args` in `ns` and wait until its stdout matches `ready`; rejects with what it
 * printed when it exits first or does not get there within `startupMs`.
 */
async function spawnUntilReady(lab: NetnsLab, ns: string, args: readonly string[], ready: RegExp, startupMs: number): Promise<{ child: ChildProcess; output: () => string }> {
  const child = lab.spawn(ns, NODE, [ZTROOT_BIN, ...args]);
  const what = `ztroot ${args[0]} in ${ns}`;
  let out = '';
  await new Promise<void>((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start within ${startupMs} ms:\n${out}`)), startupMs);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      if (ready.test(out)) {
        clearTimeout(timer);
        resolvePromise();
      }
    });
    child.stderr!.on('data', (c: Buffer) => { out += c.toString('utf8'); });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code} before it was ready:\n${out}`));
    });
  });
  return { child, output: () => out };
}

/**
 * Start `ztroot root --home HOME …args` in `ns` and wait until it prints that it is running.
 * The home must already hold identity.secret (and any worlds).
 */
export async function startLabRoot(lab: NetnsLab, ns: string, home: string, args: readonly string[], http = '127.0.0.1:9993', startupMs = 30_000): Promise<LabRoot> {
  const { child, output } = await spawnUntilReady(lab, ns, ['root', '--home', home, '--http', http, '--validation-threads', '1', ...args],
    /ztroot root [0-9a-f]{10} is running/, startupMs);
  const token = readFileSync(join(home, 'metricstoken.secret'), 'utf8').trim();
  return {
    child, home, http, output,
    get: (path: string): string => labHttp(lab, ns, 'GET', `http://${http}${path}`, token),
  };
}

export interface LabLeaf {
  child: ChildProcess;
  home: string;
  /** Its authtoken.secret, for its local API. */
  token: string;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
}

/** Start `ztroot leaf --home HOME …args` in `ns` and wait until it prints that it is running. */
export async function startLabLeaf(lab: NetnsLab, ns: string, home: string, args: readonly string[], startupMs = 30_000): Promise<LabLeaf> {
  const { child, output } = await spawnUntilReady(lab, ns, ['leaf', '--home', home, ...args], /is running/, startupMs);
  return { child, home, output, token: readFileSync(join(home, 'authtoken.secret'), 'utf8').trim() };
}
