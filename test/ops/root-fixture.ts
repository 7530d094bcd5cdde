// An in-process root on loopback with its HTTP listener, and leaves that talk through it: what
// the operations tests scrape. Everything binds 127.0.0.1 on ephemeral ports.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '../../src/root/config.ts';
import { RootServer } from '../../src/root/root-server.ts';
import type { HttpListener } from '../../src/api/http-listener.ts';
import { startRootApi } from '../../src/root/root-api.ts';
import { SimpleLeaf } from '../../src/leaf/simple-leaf.ts';
import type { Address } from '../../src/identity/address.ts';
import { makeMoon } from '../../deploy/docker-entrypoint.ts';
import type { World } from '../../src/world/world.ts';
import type { Frame } from '../../src/wire/verbs/frame.ts';

export const METRICS_TOKEN = 'opstesttoken0123456789ab';

export interface RootFixture {
  root: RootServer;
  http: HttpListener;
  moon: World;
  /** http://127.0.0.1:port */
  baseUrl: string;
  scrape(): Promise<string>;
  stop(): Promise<void>;
}

export async function startRootFixture(): Promise<RootFixture> {
  const home = mkdtempSync(join(tmpdir(), 'ztroot-ops-'));
  const config = { ...defaultConfig(), home, bind: ['127.0.0.1'], ports: [0], validationThreads: 1, httpListen: '' };
  const root = new RootServer({ config });
  await root.start();
  const port = root.sockets[0].port;
  const { world: moon } = makeMoon([{ identity: root.identity, endpoints: [`127.0.0.1/${port}`] }]);
  const http = await startRootApi(root, { listen: '127.0.0.1:0', metricsToken: METRICS_TOKEN });
  const baseUrl = `http://127.0.0.1:${http.port}`;
  return {
    root, http, moon, baseUrl,
    async scrape() {
      const r = await fetch(`${baseUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` }, signal: AbortSignal.timeout(10_000) });
      if (!r.ok) throw new Error(`/metrics answered ${r.status}`);
      return r.text();
    },
    async stop() {
      await http.close();
      await root.stop();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** Resolve when `emitter` emits `event` with arguments passing `match`, or reject after `ms`. */
export function waitForEvent<A extends unknown[]>(
  on: (listener: (...args: A) => void) => () => void, ms: number, what: string, match: (...args: A) => boolean = () => true,
): Promise<A> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { off(); reject(new Error(`timed out after ${ms} ms waiting for ${what}`)); }, ms);
    const off = on((...args: A) => {
      if (!match(...args)) return;
      clearTimeout(timer);
      off();
      resolve(args);
    });
  });
}

export function onFrame(leaf: SimpleLeaf): (l: (source: Address, frame: Frame, relayed: boolean) => void) => () => void {
  return (l) => { leaf.on('frame', l); return () => leaf.off('frame', l); };
}

export async function waitOnline(leaf: SimpleLeaf, ms: number): Promise<void> {
  if (leaf.online) return;
  await waitForEvent<[]>((l) => { leaf.on('online', l); return () => leaf.off('online', l); }, ms, `leaf ${leaf.address.toString(16)} online`);
}

/**
 * Two leaves of `moon` exchange a frame through the root (WHOIS, relay) and the root
 * introduces them (RENDEZVOUS). Returns the leaves, still running.
 */
export async function relayThroughRoot(moon: World, bind: string, options: { allowLoopbackPaths?: boolean } = {}): Promise<{ a: SimpleLeaf; b: SimpleLeaf; relayed: boolean }> {
  const leafOptions = { moons: [moon], bind: [bind], pingIntervalMs: 500, helloIntervalMs: 1000, allowLoopbackPaths: options.allowLoopbackPaths };
  const a = new SimpleLeaf(leafOptions);
  const b = new SimpleLeaf(leafOptions);
  await a.start();
  await b.start();
  try {
    await Promise.all([waitOnline(a, 20_000), waitOnline(b, 20_000)]);
    const frame: Frame = { networkId: 0x8056c2e21c000001n, etherType: 0x0800, payload: new TextEncoder().encode('through the root') };
    const received = waitForEvent<[Address, Frame, boolean]>(onFrame(b), 20_000, 'the frame at leaf b', (source) => source === a.address);
    const how = await a.sendFrame(b.address, frame);
    if (how === 'unreachable') throw new Error('leaf a could not reach leaf b');
    const [, got, relayed] = await received;
    if (new TextDecoder().decode(got.payload) !== 'through the root') throw new Error('frame payload changed on the way');
    return { a, b, relayed };
  } catch (e) {
    await a.stop();
    await b.stop();
    throw e;
  }
}
