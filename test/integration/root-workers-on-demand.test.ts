// Packet workers on demand (config `workers` unset, the default): a root runs its packet path on
// the main thread until it is busy, then a packet worker takes it over on the same ports, and more
// join, up to the maximum, only while the running ones are busy (src/root/worker-scaler.ts).
// The thresholds are lowered or raised here so that "busy" does not depend on this machine's speed.

import { afterEach, describe, expect, it } from 'vitest';
import { defaultConfig, type RootConfig } from '../../src/root/config.ts';
import { RootServer, type RootServerOptions } from '../../src/root/root-server.ts';
import { ScalingDecision } from '../../src/root/worker-scaler.ts';
import { tempDir } from '../support/cli.ts';
import {
  endpointOf, RawPeer, recordingLogger, removeDirs, sortedAddresses, VECTOR_IDENTITIES, waitUntil, whoisFromEveryPeer, writeRootHome, type LogEntry,
} from '../support/root-harness.ts';

const [rootId, ...leafIds] = VECTOR_IDENTITIES;

describe('the scaling decision', () => {
  it('asks for a worker after enough consecutive busy samples, and starts counting again after', () => {
    const d = new ScalingDecision({ max: 4, busyAbove: 0.5, busySamples: 3 });
    expect([0.9, 0.9].map((u) => d.sample([u]))).toEqual([false, false]);
    expect(d.sample([0.9])).toBe(true);
    expect([0.9, 0.9].map((u) => d.sample([u, u]))).toEqual([false, false]);
  });

  it('uses the mean of the running workers, and an idle sample resets the run', () => {
    const d = new ScalingDecision({ max: 4, busyAbove: 0.5, busySamples: 2 });
    expect(d.sample([0.9, 0.05])).toBe(false); // mean 0.475
    expect(d.sample([0.9, 0.3])).toBe(false);
    expect(d.sample([0.1, 0.1])).toBe(false);
    expect(d.sample([0.9, 0.3])).toBe(false);
    expect(d.sample([0.7, 0.5])).toBe(true);
  });

  it('never asks beyond the maximum', () => {
    const d = new ScalingDecision({ max: 2, busyAbove: 0.5, busySamples: 1 });
    expect(d.sample([1, 1])).toBe(false);
    expect(d.sample([1, 1, 1])).toBe(false);
    expect(d.sample([1])).toBe(true);
  });
});

describe('a root with packet workers on demand', () => {
  let home: string | undefined;
  let root: RootServer | undefined;
  let peers: RawPeer[] = [];
  const logged: LogEntry[] = [];
  const log = recordingLogger(logged);

  async function start(options: Omit<RootServerOptions, 'config'>): Promise<RootServer> {
    home = tempDir('ztroot-on-demand-');
    writeRootHome(home, rootId);
    logged.length = 0;
    const config: RootConfig = { ...defaultConfig(), home, bind: ['127.0.0.1'], ports: [0], validationThreads: 1, httpListen: '', logLevel: 'warn' };
    expect(config.workers).toBeUndefined();
    root = new RootServer({ config, log, ...options });
    await root.start();
    return root;
  }

  afterEach(async () => {
    for (const p of peers) await p.close();
    peers = [];
    await root?.stop();
    root = undefined;
    if (home) removeDirs([home]);
  });

  /** `count` peers register, then each asks by WHOIS for all of them and hears of every one. */
  async function servesPeers(r: RootServer, count: number): Promise<void> {
    const endpoint = endpointOf(r.sockets[0]);
    peers = await Promise.all(leafIds.slice(0, count).map((id) => RawPeer.open(id)));
    expect(peers).toHaveLength(count);
    for (const p of peers) await p.register(endpoint, rootId);
    expect(await whoisFromEveryPeer(endpoint, rootId, peers)).toEqual(peers.map(() => sortedAddresses(peers)));
  }

  it('runs the packet path on the main thread alone while it is not busy', async () => {
    const r = await start({ workerScaling: { max: 3, busyAbove: 2, sampleMs: 20, busySamples: 1 } });
    await servesPeers(r, 6);
    await new Promise((res) => setTimeout(res, 300));
    expect(r.workerCount).toBeGreaterThanOrEqual(1);
    expect(r.runningWorkers).toBe(0);
    expect(r.packetThreads).toBe(1);
    expect(r.node.peers.size).toBe(6);
  });

  it('hands the packet path to a worker, adds workers on the same ports up to the maximum while busy, and every peer is served', async () => {
    const r = await start({ workerScaling: { max: 3, busyAbove: -1, sampleMs: 20, busySamples: 2 } });
    const sockets = [...r.sockets];
    await waitUntil(() => logged.filter((e) => e.msg === 'packet worker started for load').length === 2, 'two workers started for load');
    await new Promise((res) => setTimeout(res, 300));
    expect(logged.filter((e) => e.msg === 'packet path handed over to a worker for load')).toHaveLength(1);
    expect(r.runningWorkers).toBe(3);
    expect(r.packetThreads).toBe(3);
    expect(() => r.node).toThrow();
    expect(r.sockets).toEqual(sockets);
    expect(logged.filter((e) => e.msg === 'packet worker started for load')).toHaveLength(2);
    await servesPeers(r, 7);
  });

  it('hands over when the main thread itself is busy, keeping its counters', async () => {
    // busy enough only with the loop below: registering a few peers never holds the thread 85 % for 200 ms
    const r = await start({ workerScaling: { max: 2, busyAbove: 0.85, sampleMs: 50, busySamples: 4 } });
    await servesPeers(r, 5);
    expect(r.runningWorkers).toBe(0);
    const hellosBefore = (await r.refreshMetrics()).stats.verbsIn.get('HELLO') ?? 0;
    expect(hellosBefore).toBeGreaterThanOrEqual(5);
    // keep this thread (the root's main thread) about 95 % busy until the handover
    const busy = setInterval(() => { const until = performance.now() + 19; while (performance.now() < until); }, 20);
    try {
      await waitUntil(() => logged.some((e) => e.msg === 'packet path handed over to a worker for load'), 'the handover');
    } finally {
      clearInterval(busy);
    }
    expect(r.runningWorkers).toBe(1);
    expect(r.packetThreads).toBe(1);
    expect((await r.refreshMetrics()).stats.verbsIn.get('HELLO')).toBeGreaterThanOrEqual(hellosBefore);
    const endpoint = endpointOf(r.sockets[0]);
    expect(await whoisFromEveryPeer(endpoint, rootId, peers)).toEqual(peers.map(() => sortedAddresses(peers)));
  });

  it('stops adding, and says so once, when a new worker cannot share the sockets', async () => {
    const r = await start({ firstThreadExclusive: true, workerScaling: { max: 3, busyAbove: -1, sampleMs: 20, busySamples: 1 } });
    await waitUntil(() => logged.some((e) => e.msg.startsWith('no more packet workers')), 'the failed attempt logged');
    await new Promise((res) => setTimeout(res, 300));
    expect(r.runningWorkers).toBe(0);
    expect(r.packetThreads).toBe(1);
    expect(logged.filter((e) => e.level === 'warn')).toHaveLength(1);
    await servesPeers(r, 4);
  });
});
