// Several load-generator processes driven as one: each child process (child.ts) owns a
// contiguous share of the synthetic peers and its own sockets; a stage is sent to all of them
// at once and their reports are merged. One process may not saturate a root (a Node process
// sends and receives on one thread), hence the fleet; processes = 0 runs the engine here.

import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Address } from '../../src/identity/address.ts';
import type { Identity } from '../../src/identity/identity.ts';
import { parseIdentity } from '../../src/identity/identity.ts';
import { LoadEngine, type EngineOptions } from './engine.ts';
import { loadOrCreatePeerKeys, loadOrCreatePeers, type PeerKind, type Progress } from './key-material.ts';
import { mergeReports, type StageReport, type StageSpec } from './stages.ts';

/** Engine settings that are the same for every process of a fleet. */
export type SharedEngineOptions = Pick<EngineOptions, 'sockets' | 'bind' | 'sources' | 'relayPeers' | 'protocolVersion' | 'verify' | 'moonId' | 'drainMs'> & {
  whoisAddresses?: Address[];
};

export interface FleetOptions {
  /** Child processes; 0 runs one engine in this process. */
  processes: number;
  cacheDir: string;
  peerCount: number;
  /** The root's public identity. */
  root: Identity;
  host: string;
  port: number;
  engine: SharedEngineOptions;
  progress?: Progress;
  /** Which simulated leaves (default synthetic). */
  peerKind?: PeerKind;
  /** Run the child processes inside this network namespace (`ip netns exec`; needs root). */
  netns?: string;
}

/** What the parent tells a child at start. */
export interface ChildInit {
  type: 'init';
  cacheDir: string;
  peerCount: number;
  rootIdentity: string;
  host: string;
  port: number;
  shard: number;
  shards: number;
  engine: SharedEngineOptions;
  peerKind?: PeerKind;
}

export type ToChild = ChildInit | { type: 'stage'; id: number; spec: StageSpec } | { type: 'close' };
export type FromChild =
  | { type: 'ready'; peers: number }
  | { type: 'report'; id: number; report: StageReport }
  | { type: 'error'; id: number; message: string };

/** Peers [from, to) of shard `shard` out of `shards`. */
export function shardRange(count: number, shard: number, shards: number): { from: number; to: number } {
  return { from: Math.floor((count * shard) / shards), to: Math.floor((count * (shard + 1)) / shards) };
}

/** Build the engine of one shard (in a child, or here for processes = 0). */
export async function openShardEngine(init: Omit<ChildInit, 'type'>): Promise<LoadEngine> {
  const root = parseIdentity(init.rootIdentity);
  if (!root) throw new Error('bad root identity');
  const peers = await loadOrCreatePeers(init.peerCount, init.cacheDir, undefined, init.peerKind);
  const keys = await loadOrCreatePeerKeys(peers, root, init.cacheDir);
  const { from, to } = shardRange(peers.count, init.shard, init.shards);
  // each process its own share of the source addresses, so no two send from the same one
  const sources = init.engine.sources?.filter((_, k) => k % init.shards === init.shard);
  return LoadEngine.open({ ...init.engine, sources, target: { host: init.host, port: init.port, identity: root }, peers, keys, from, to });
}

interface Child {
  process: ChildProcess;
  waiting: Map<number, { resolve: (r: StageReport) => void; reject: (e: Error) => void }>;
}

export class LoadgenFleet {
  private readonly children: Child[] = [];
  private local: LoadEngine | undefined;
  private nextId = 1;
  private closed = false;

  private constructor() {}

  get shards(): number {
    return this.local ? 1 : this.children.length;
  }

  /** Make sure the key caches exist (once, here), then start the shards. */
  static async start(o: FleetOptions): Promise<LoadgenFleet> {
    const peers = await loadOrCreatePeers(o.peerCount, o.cacheDir, o.progress, o.peerKind);
    await loadOrCreatePeerKeys(peers, o.root, o.cacheDir, o.progress);
    const fleet = new LoadgenFleet();
    const init = (shard: number, shards: number): Omit<ChildInit, 'type'> => ({
      cacheDir: o.cacheDir, peerCount: o.peerCount, rootIdentity: o.root.toString(false), host: o.host, port: o.port,
      shard, shards, engine: o.engine, peerKind: o.peerKind,
    });
    if (o.processes === 0) {
      fleet.local = await openShardEngine(init(0, 1));
      return fleet;
    }
    try {
      await Promise.all(Array.from({ length: o.processes }, (_, shard) => fleet.startChild(init(shard, o.processes), o.netns)));
    } catch (e) {
      await fleet.close();
      throw e;
    }
    return fleet;
  }

  private startChild(init: Omit<ChildInit, 'type'>, netns: string | undefined): Promise<void> {
    // `ip netns exec` execs Node in place, so the child keeps its PID and the IPC channel.
    const inNamespace = netns ? { execPath: 'ip', execArgv: ['netns', 'exec', netns, process.execPath] } : { execArgv: [] };
    const child = fork(fileURLToPath(new URL('./child.ts', import.meta.url)), [], {
      serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'], ...inNamespace,
    });
    const c: Child = { process: child, waiting: new Map() };
    this.children.push(c);
    return new Promise<void>((resolve, reject) => {
      child.on('message', (m: FromChild) => {
        if (m.type === 'ready') return resolve();
        const w = c.waiting.get(m.id);
        if (!w) return;
        c.waiting.delete(m.id);
        if (m.type === 'report') w.resolve(m.report);
        else w.reject(new Error(`load generator shard ${init.shard}: ${m.message}`));
      });
      child.once('exit', (code, signal) => {
        const e = new Error(`load generator shard ${init.shard} exited (${signal ?? code})`);
        for (const w of c.waiting.values()) w.reject(e);
        c.waiting.clear();
        reject(e);
      });
      child.send({ type: 'init', ...init } satisfies ToChild);
    });
  }

  /**
   * Run a stage on every shard at once (or, given a function, the spec it returns for each
   * shard; undefined leaves that shard out) and merge the reports.
   */
  async run(spec: StageSpec | ((shard: number) => StageSpec | undefined)): Promise<StageReport> {
    const specFor = typeof spec === 'function' ? spec : () => spec;
    if (this.local) {
      const s = specFor(0);
      if (!s) throw new Error('no stage for the only shard');
      return this.local.run(s);
    }
    const runs: Promise<StageReport>[] = [];
    this.children.forEach((c, shard) => {
      const s = specFor(shard);
      if (!s) return;
      const id = this.nextId++;
      runs.push(new Promise<StageReport>((resolve, reject) => {
        c.waiting.set(id, { resolve, reject });
        c.process.send({ type: 'stage', id, spec: s } satisfies ToChild);
      }));
    });
    if (runs.length === 0) throw new Error('no shard was given a stage');
    return mergeReports(await Promise.all(runs));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.local?.close();
    await Promise.all(this.children.map((c) => new Promise<void>((resolve) => {
      if (c.process.exitCode !== null || c.process.signalCode !== null) return resolve();
      const timer = setTimeout(() => c.process.kill('SIGKILL'), 3000);
      c.process.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      try {
        c.process.send({ type: 'close' } satisfies ToChild);
      } catch {
        c.process.kill('SIGTERM');
      }
    })));
  }

  /** Kill every child at once (exit handlers: no waiting). */
  killNow(): void {
    for (const c of this.children) c.process.kill('SIGKILL');
  }
}
