// `ztroot root`: the main thread of a root server. It owns the home directory (identity,
// worlds, identity cache), identity validation, the multicast store and the shared peer table.
// The packet path runs in RootCores: by default one on this thread until it is busy, when a
// packet worker takes over on the same SO_REUSEPORT ports and more join while they are busy, up
// to one per core (worker-scaler.ts); with `workers: 0` on this thread alone; with `workers: N`
// in N workers.

import { availableParallelism } from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { getHeapStatistics, type HeapInfo } from 'node:v8';
import type { Worker } from 'node:worker_threads';
import { formatAddress, type Address } from '../identity/address.ts';
import { Identity, parseIdentity } from '../identity/identity.ts';
import { openController, sendToAddress } from '../controller/controller-role.ts';
import type { NetworkController } from '../controller/controller.ts';
import { nativeIdentityHashAvailability } from '../identity/native-identity-hash.ts';
import { IdentityStore } from '../node/identity-store.ts';
import type { Node } from '../node/node.ts';
import { SharedPeerTable } from '../node/shared-peer-table.ts';
import { mergeStats, snapshotStats, type NodeStats, type StatsSnapshot } from '../node/stats.ts';
import { choosePlanet, loadWorldFiles, saveWorldFile, Topology } from '../node/topology.ts';
import { ExpectedReplies } from '../node/expected-replies.ts';
import { upstreamStatus, type UpstreamContact, type UpstreamStatus } from '../node/upstreams.ts';
import { ValidationPool } from '../node/validation-pool.ts';
import { silentLogger, type Logger } from '../util/log.ts';
import { reduceHeap, releaseFilePages } from '../util/memory-release.ts';
import { armorImplementation } from '../wire/armor.ts';
import type { MulticastGroup } from '../wire/mac.ts';
import { World } from '../world/world.ts';
import type { RootConfig } from './config.ts';
import { ROOT_LIMITS, ROOT_TIMERS } from './constants.ts';
import { ensureHome, HOME_FILES, loadOrCreateIdentity, requireWritableHome } from './home.ts';
import { MulticastStore } from './multicast.ts';
import { mergePeerViews, RootCore, type MulticastService, type PeerView } from './root-core.ts';
import type { FromWorker, ToWorker, WorkerInit, WorkerStats, WorldFiles } from './worker-protocol.ts';
import { newWorker } from '../boot/new-worker.ts';
import { WORKER_SCALING, WorkerScaler, type WorkerScalingOptions } from './worker-scaler.ts';

export { ROOT_PROTOCOL_VERSION } from './root-core.ts';

export interface RootServerOptions {
  config: RootConfig;
  log?: Logger;
  /** In-process mode only: the packet thread's clock (tests step it). */
  clock?: () => number;
  /**
   * Tests only: the first packet thread (the main thread's core, or worker 0 with `workers: N`)
   * binds without SO_REUSEPORT, so the kernel refuses the other threads' binds (EADDRINUSE), as on
   * a system without SO_REUSEPORT.
   */
  firstThreadExclusive?: boolean;
  /** Run a network controller on this root (same identity and port; its store in the home). */
  controller?: boolean;
  /** When packet workers start on demand (config `workers` unset); tests lower the thresholds. */
  workerScaling?: Partial<WorkerScalingOptions>;
}

/** Counters and gauges of all packet threads together, refreshed when Prometheus scrapes. */
export interface RootMetricsView {
  stats: NodeStats;
  peers: number;
  reassemblyInFlight: number;
  eventLoopLagSeconds: { worker: string; seconds: number }[];
  /** Each thread's V8 heap: bytes in use and bytes the heap holds (main and packet workers). */
  heapBytes: { worker: string; used: number; total: number }[];
}

function heapBytes(worker: string, h: HeapInfo): { worker: string; used: number; total: number } {
  return { worker, used: h.used_heap_size, total: h.total_heap_size };
}

/** Packet workers replaced at most this often. */
const WORKER_RESTART_SPACING_MS = 1000;

/** How long a scrape waits for a worker's counters before reporting without them. */
const WORKER_REPLY_TIMEOUT_MS = 1000;
/** Members whose packet worker the controller remembers (to answer through the worker that heard them). */
const CONTROLLER_ROUTE_ENTRIES = 100_000;

interface WorkerHandle {
  /** Its place among the packet workers (0 keeps in touch with the upstreams); a replacement takes the same. */
  index: number;
  worker: Worker;
  pending: Map<number, (m: FromWorker) => void>;
}

export class RootServer {
  readonly config: RootConfig;
  readonly identity: Identity;
  readonly identityCreated: boolean;
  readonly store: IdentityStore;
  readonly multicast = new MulticastStore();
  readonly peerTable: SharedPeerTable;
  /** Sent packet IDs that may be answered, shared by every packet thread. */
  readonly expectedReplies = new ExpectedReplies();
  readonly topology: Topology;
  readonly startedMs = Date.now();
  private readonly validation: ValidationPool;
  private readonly log: Logger;
  private readonly clock: (() => number) | undefined;
  private readonly firstThreadExclusive: boolean;
  private readonly workerScaling: Partial<WorkerScalingOptions>;
  private scaler: WorkerScaler | undefined;
  private stopping = false;
  /** The UDP ports the packet workers share (any port 0 resolved by the first). */
  private boundPorts: number[] = [];
  private lastRestartMs = 0;
  /** Packet workers that exited on their own (a crash, or their heap ceiling) and were replaced. */
  workerRestarts = 0;
  private core: RootCore | undefined;
  /** The main thread's packet counters when a worker took its packet path over. */
  private readonly retiredStats: StatsSnapshot[] = [];
  private readonly workers: WorkerHandle[] = [];
  private boundSockets: { address: string; port: number }[] = [];
  private housekeepingTimer: NodeJS.Timeout | undefined;
  private nextRequest = 1;
  private readonly mainLag = monitorEventLoopDelay({ resolution: 10 });
  private lastMetrics: RootMetricsView | undefined;
  /** The network controller role, when enabled. */
  readonly controller: NetworkController | undefined;
  /** For each member, the worker that last forwarded its config request. */
  private readonly controllerRoutes = new Map<Address, WorkerHandle>();

  constructor(options: RootServerOptions) {
    this.config = options.config;
    this.log = options.log ?? silentLogger;
    this.clock = options.clock;
    this.firstThreadExclusive = options.firstThreadExclusive ?? false;
    this.workerScaling = options.workerScaling ?? {};
    requireWritableHome(this.config.home);
    ensureHome(this.config.home);
    const { identity, created } = loadOrCreateIdentity(this.config.home);
    this.identity = identity;
    this.identityCreated = created;
    this.store = new IdentityStore(join(this.config.home, HOME_FILES.identityCache), { cacheEntries: this.config.identityCacheEntries });
    this.validation = new ValidationPool({
      threads: this.config.validationThreads || undefined, maxQueue: ROOT_LIMITS.validationQueue, heapMb: ROOT_LIMITS.validationWorkerHeapMb,
      // each thread's start touched the binary's pages again, as start-up did
      onAllIdle: () => { releaseFilePages(this.log); },
    });
    this.peerTable = SharedPeerTable.forPeers(this.config.maxPeers);
    this.topology = new Topology(identity.address);
    this.loadWorlds();
    this.mainLag.enable();
    this.controller = options.controller ? openController(this.config.home, identity, (to, verb, payload) => this.controllerSend(to, verb, payload)) : undefined;
  }

  /** Controller output: through the packet thread that heard the member (any thread can reach it via the shared table). */
  private controllerSend(to: Address, verb: number, payload: Uint8Array): void {
    const h = this.controllerRoutes.get(to) ?? (this.core ? undefined : this.workers[0]);
    if (h) h.worker.postMessage({ type: 'controller-send', to, verb, payload } satisfies ToWorker);
    else if (this.core) sendToAddress(this.core.node, to, verb, payload);
  }

  /**
   * Packet threads at most: 0 means the packet path runs on the main thread alone; unset, it
   * starts there and workers join it under load, up to one packet thread per core.
   */
  get workerCount(): number {
    return this.config.workers === 0 ? 0 : this.config.workers ?? availableParallelism();
  }

  /**
   * Packet worker threads running: with `workers` unset, none until load starts some beside the
   * main thread; fewer than asked if they could not share sockets.
   */
  get runningWorkers(): number {
    return this.workers.length;
  }

  /** Threads running the packet path: the workers, and the main thread when its core runs. */
  get packetThreads(): number {
    return this.workers.length + (this.core ? 1 : 0);
  }

  /** The main thread's packet node (`workers` 0 or unset) — for white-box tests. */
  get node(): Node {
    if (!this.core) throw new Error('the node lives in worker threads (workers > 0)');
    return this.core.node;
  }

  get sockets(): readonly { address: string; port: number }[] {
    return this.boundSockets;
  }

  /** The upstream contact of the main thread's packet node (`workers` 0 or unset) — for white-box tests. */
  get upstreamContact(): UpstreamContact | undefined {
    if (!this.core) throw new Error('the node lives in worker threads (workers > 0)');
    return this.core.upstreams;
  }

  async start(): Promise<void> {
    const n = this.workerCount;
    const onDemand = this.config.workers === undefined;
    if (n === 0 || onDemand) {
      await this.startCore(onDemand && !this.firstThreadExclusive);
      this.boundPorts = [...new Set(this.boundSockets.map((s) => s.port))];
      if (onDemand && n > 1) {
        this.scaler = new WorkerScaler({ ...WORKER_SCALING, ...this.workerScaling, max: this.workerScaling.max ?? n },
          () => this.core ? [performance] : this.workers.map((h) => h.worker.performance),
          () => this.core ? this.handOverToWorker() : this.addWorker(this.boundPorts));
        this.scaler.start();
      }
    } else {
      // the first worker resolves any port 0; the others bind the very same ports
      const first = await this.startWorker(0, this.config.ports);
      const ports = [...new Set(first.map((s) => s.port))];
      this.boundPorts = ports;
      this.boundSockets = first;
      const more = await Promise.allSettled(Array.from({ length: n - 1 }, (_, i) => this.startWorker(i + 1, ports)));
      const failed = more.filter((r) => r.status === 'rejected');
      if (failed.length > 0) {
        // without SO_REUSEPORT the other workers cannot share the sockets: keep the first one
        this.log.warn('packet workers could not share the UDP sockets (SO_REUSEPORT unavailable?); running with one worker', {
          error: String((failed[0] as PromiseRejectedResult).reason),
        });
        for (const h of this.workers.splice(1)) await h.worker.terminate();
      }
    }
    this.housekeepingTimer = setInterval(() => {
      if (!this.core) this.peerTable.expire(Math.floor((Date.now() - ROOT_TIMERS.peerActivityTimeoutMs) / 1000));
      this.multicast.expire(Date.now(), ROOT_TIMERS.multicastLikeExpireMs);
    }, ROOT_TIMERS.housekeepingMs);
    this.housekeepingTimer.unref();
    this.log.info('root started', {
      address: formatAddress(this.identity.address),
      workers: this.runningWorkers,
      packetThreads: this.packetThreads,
      udp: this.boundSockets.map((s) => `${s.address}/${s.port}`),
      worlds: this.topology.worlds.map((w) => ({ id: w.idHex, type: w.isPlanet ? 'planet' : 'moon', timestamp: w.timestamp })),
      knownIdentities: this.store.size,
      identityHash: nativeIdentityHashAvailability().ok ? 'native' : 'typescript',
      armor: armorImplementation() === 'native' ? 'native' : 'typescript',
    });
  }

  /** The packet path on this thread: alone (`workers: 0`), or first of the packet threads (on demand). */
  private async startCore(reusePort: boolean): Promise<void> {
    this.core = new RootCore({
      config: this.config, identity: this.identity, store: this.store, validation: this.validation,
      multicast: this.localMulticast(), peerTable: this.peerTable, reusePort, expiresPeerTable: true,
      expectedReplies: this.expectedReplies, contactsUpstreams: true, onWorld: (w) => this.worldFromUpstream(w),
      log: this.log, clock: this.clock,
      onConfigRequest: this.controller
        ? (peer, payload, inbound) => { this.controller!.requestFromPayload(peer.identity, inbound.packetId, payload); }
        : undefined,
    });
    this.core.setWorlds(this.topology.planet, this.topology.moons);
    await this.core.start();
    this.boundSockets = [...this.core.sockets];
  }

  /**
   * The main thread's packet path is busy: worker 0 takes it over on the same ports and the main
   * thread's core stops. Its counters are kept (Prometheus counters never go back); what was
   * queued on its sockets is lost, as for any datagram (peers resend); peers, paths and keys live
   * on in the shared table. The main thread then hands back the heap the packet path grew: with no
   * ceiling of its own (a worker's is ROOT_LIMITS), V8 let it hold hundreds of MiB at 1M peers.
   */
  private async handOverToWorker(): Promise<boolean> {
    try {
      await this.startWorker(0, this.boundPorts);
    } catch (e) {
      this.log.warn('no more packet workers: one could not share the UDP sockets', { error: (e as Error).message });
      return false;
    }
    const core = this.core;
    if (this.stopping || !core) return false; // the root stopped meanwhile: stop() ends them all
    await core.stop();
    this.retiredStats.push(snapshotStats(core.node.stats));
    this.core = undefined;
    reduceHeap();
    this.log.info('packet path handed over to a worker for load', { workers: this.workers.length });
    return true;
  }

  /** One more packet worker on the bound ports, when load asks for it (src/root/worker-scaler.ts). */
  private async addWorker(ports: number[]): Promise<boolean> {
    // index 0 keeps in touch with the upstreams: the main thread does while its core runs
    let index = this.core ? 1 : 0;
    while (this.workers.some((h) => h.index === index)) index++;
    try {
      await this.startWorker(index, ports);
      this.log.info('packet worker started for load', { workers: this.workers.length });
      return true;
    } catch (e) {
      this.log.warn('no more packet workers: one could not share the UDP sockets', { error: (e as Error).message });
      return false;
    }
  }

  private localMulticast(): MulticastService {
    return {
      like: (networkId, group, subscriber, nowMs) => this.multicast.like(networkId, group, subscriber, nowMs),
      gather: async (networkId, group, requester, limit, nowMs) =>
        this.multicast.gather(networkId, group, requester, limit, nowMs, ROOT_TIMERS.multicastLikeExpireMs),
    };
  }

  private worldFiles(): WorldFiles {
    return { planet: this.topology.planet?.serialize(), moons: this.topology.moons.map((m) => m.serialize()) };
  }

  private startWorker(index: number, ports: number[]): Promise<{ address: string; port: number }[]> {
    const worker = newWorker(new URL('./root-worker.ts', import.meta.url), {
      resourceLimits: { maxOldGenerationSizeMb: ROOT_LIMITS.packetWorkerHeapMb, maxYoungGenerationSizeMb: ROOT_LIMITS.packetWorkerYoungMb },
      workerData: {
        index, config: this.config, identitySecret: this.identity.toString(true), peerTable: this.peerTable.buffer,
        expectedReplies: this.expectedReplies.buffer,
        ports, worlds: this.worldFiles(), reusePort: !(index === 0 && this.firstThreadExclusive),
        controller: this.controller !== undefined,
      } satisfies WorkerInit,
    });
    const handle: WorkerHandle = { index, worker, pending: new Map() };
    this.workers.push(handle);
    return new Promise((resolve, reject) => {
      let ready = false;
      // a worker that never became ready is dropped here; one that did is replaced when it exits
      const failed = (e: Error): void => {
        if (ready) return;
        const i = this.workers.indexOf(handle);
        if (i >= 0) this.workers.splice(i, 1);
        void worker.terminate();
        reject(e);
      };
      worker.on('error', (e) => {
        this.log.error('root worker failed', { worker: index, error: e.message });
        failed(e);
      });
      worker.on('message', (m: FromWorker) => {
        switch (m.type) {
          case 'ready':
            ready = true;
            worker.once('exit', (code) => this.workerExited(handle, index, code));
            return resolve(m.sockets);
          case 'failed': return failed(new Error(m.message));
          default: this.fromWorker(handle, m);
        }
      });
    });
  }

  /**
   * A packet worker that ends while the root runs (a crash, or its heap ceiling reached) is
   * replaced on the same ports, under the same index (index 0 keeps in touch with the upstreams);
   * at most one replacement a second, so a worker that keeps dying cannot spin the main thread.
   */
  private workerExited(handle: WorkerHandle, index: number, code: number): void {
    if (this.stopping) return;
    const i = this.workers.indexOf(handle);
    if (i < 0) return;
    this.workers.splice(i, 1);
    for (const [address, h] of this.controllerRoutes) if (h === handle) this.controllerRoutes.delete(address);
    this.workerRestarts++;
    this.log.error('packet worker exited; starting a replacement', { worker: index, code });
    const delayMs = Math.max(0, this.lastRestartMs + WORKER_RESTART_SPACING_MS - Date.now());
    this.lastRestartMs = Date.now() + delayMs;
    setTimeout(() => {
      if (this.stopping) return;
      this.startWorker(index, this.boundPorts).then(
        () => this.log.info('packet worker replaced', { worker: index, workers: this.workers.length }),
        (e: unknown) => this.log.error('packet worker could not be replaced', { worker: index, error: (e as Error).message }),
      );
    }, delayMs).unref();
  }

  /** The running packet workers' threads (white-box tests). */
  get packetWorkerThreads(): readonly Worker[] {
    return this.workers.map((h) => h.worker);
  }

  private send(h: WorkerHandle, m: ToWorker): void {
    h.worker.postMessage(m);
  }

  private fromWorker(h: WorkerHandle, m: FromWorker): void {
    switch (m.type) {
      case 'validate':
        void this.validate(m.address, m.publicKey).then(
          (r) => this.send(h, { type: 'validated', id: m.id, ...r }),
          (e: unknown) => {
            this.log.error('identity admission failed', { error: (e as Error).message });
            this.send(h, { type: 'validated', id: m.id, valid: false, micros: 0 });
          },
        );
        return;
      case 'world': {
        const d = World.decode(m.world);
        if (typeof d !== 'string') this.worldFromUpstream(d.world);
        return;
      }
      case 'like':
        this.multicast.like(m.networkId, { mac: m.mac, adi: m.adi } as MulticastGroup, m.subscriber, m.nowMs);
        return;
      case 'gather': {
        const found = this.multicast.gather(m.networkId, { mac: m.mac, adi: m.adi } as MulticastGroup, m.requester, m.limit, m.nowMs, ROOT_TIMERS.multicastLikeExpireMs);
        this.send(h, { type: 'gathered', id: m.id, ...found });
        return;
      }
      case 'config-request': {
        const identity = this.controller ? parseIdentity(m.identity) : null;
        if (!identity) return;
        this.controllerRoutes.delete(identity.address);
        if (this.controllerRoutes.size >= CONTROLLER_ROUTE_ENTRIES) this.controllerRoutes.delete(this.controllerRoutes.keys().next().value!);
        this.controllerRoutes.set(identity.address, h);
        this.controller!.requestFromPayload(identity, m.packetId, m.payload);
        return;
      }
      case 'stats':
      case 'peers':
      case 'stopped': {
        const id = m.type === 'stopped' ? 0 : m.id;
        const resolve = h.pending.get(id);
        h.pending.delete(id);
        resolve?.(m);
      }
    }
  }

  /** Validate for a worker; a valid identity is written to the cache here, the single writer. */
  private async validate(address: Address, publicKey: Uint8Array): Promise<{ valid: boolean; micros: number; refused?: 'queue-full' | 'closed' | 'store-failed' }> {
    const identity = new Identity(address, publicKey);
    const outcome = await this.validation.submit(identity);
    if (outcome === 'queue-full' || outcome === 'closed') return { valid: false, micros: 0, refused: outcome };
    if (outcome.valid) {
      try {
        this.store.put(identity);
      } catch (e) {
        // full disk, read-only home: refuse the identity for now, but it is not invalid (the
        // worker must not remember it as a failed identity, nor count it as one)
        this.log.error('identity cache write failed', { error: (e as Error).message });
        return { valid: false, micros: outcome.micros, refused: 'store-failed' };
      }
    }
    return outcome;
  }

  private ask<T extends FromWorker>(h: WorkerHandle, build: (id: number) => ToWorker, timeoutMs = WORKER_REPLY_TIMEOUT_MS): Promise<T | undefined> {
    const id = this.nextRequest++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => { h.pending.delete(id); resolve(undefined); }, timeoutMs);
      h.pending.set(id, (m) => { clearTimeout(timer); resolve(m as T); });
      this.send(h, build(id));
    });
  }

  /** Collect every packet thread's counters (what /metrics shows). */
  async refreshMetrics(): Promise<RootMetricsView> {
    const handles = [...this.workers]; // as asked: a worker may be replaced while they answer
    const replies = await Promise.all(handles.map((h) => this.ask<{ type: 'stats'; id: number; value: WorkerStats }>(h, (id) => ({ type: 'stats', id }))));
    const heaps = await Promise.all(handles.map((h) => h.worker.getHeapStatistics().then((v) => heapBytes(String(h.index), v), () => undefined)));
    const got = replies.map((r) => r?.value).filter((v): v is WorkerStats => v !== undefined);
    const node = this.core?.node; // the main thread's packet path, while it runs one
    this.lastMetrics = {
      stats: mergeStats([...this.retiredStats, ...(node ? [snapshotStats(node.stats)] : []), ...got.map((v) => v.stats)]),
      peers: this.peerTable.size,
      reassemblyInFlight: got.reduce((n, v) => n + v.reassemblyInFlight, node?.reassembler.inFlight ?? 0),
      eventLoopLagSeconds: [
        { worker: 'main', seconds: this.mainLag.percentile(99) / 1e9 },
        ...replies.map((r, i) => ({ worker: String(handles[i].index), seconds: r?.value.eventLoopLagSeconds ?? 0 })),
      ],
      heapBytes: [heapBytes('main', getHeapStatistics()), ...heaps.filter((h) => h !== undefined)],
    };
    this.mainLag.reset();
    return this.lastMetrics;
  }

  /** The last collected metrics (refreshMetrics fills it; empty before the first scrape). */
  get metrics(): RootMetricsView {
    return this.lastMetrics ?? { stats: mergeStats([]), peers: 0, reassemblyInFlight: 0, eventLoopLagSeconds: [], heapBytes: [] };
  }

  get validationQueueDepth(): number {
    return this.validation.queueDepth;
  }
  get validationInFlight(): number {
    return this.validation.inFlight;
  }

  /** Known peers across every packet thread (for /peers). */
  async peers(): Promise<PeerView[]> {
    const replies = await Promise.all(this.workers.map((h) => this.ask<{ type: 'peers'; id: number; value: PeerView[] }>(h, (id) => ({ type: 'peers', id }))));
    return mergePeerViews([...(this.core ? [this.core.peersView()] : []), ...replies.map((r) => r?.value ?? [])]);
  }

  private loadWorlds(): void {
    const loaded = loadWorldFiles(this.config.home);
    for (const p of loaded.problems) this.log.warn('world file ignored', { problem: p });
    const t = this.topology;
    t.replaceWorlds(choosePlanet(this.config.planet, loaded.planet), loaded.moons);
    const mine = t.worlds.filter((w) => w.roots.some((r) => r.identity.address === this.identity.address));
    if (t.worlds.length > 0 && mine.length === 0) {
      this.log.warn('this root is not listed in any of its worlds; leaves will not treat it as a root', { address: formatAddress(this.identity.address) });
    }
  }

  /**
   * A packet thread took a newer revision of a world from an upstream: take it here too, save it
   * where a restart finds it (`planet`, `moons.d/<id>.moon`, as 1.14 does) and hand it to the
   * other packet threads.
   */
  private worldFromUpstream(world: World): void {
    if (this.topology.consider(world) !== 'accepted') return;
    let file: string | undefined;
    try {
      file = saveWorldFile(this.config.home, world);
    } catch (e) {
      this.log.error('could not save a world update', { world: world.idHex, error: (e as Error).message });
    }
    this.log.info('world updated by an upstream', { world: world.idHex, timestamp: String(world.timestamp), file });
    this.core?.setWorlds(this.topology.planet, this.topology.moons);
    for (const h of this.workers) this.send(h, { type: 'worlds', worlds: this.worldFiles() });
  }

  /** Each upstream (a root of a world this root lives in, or a sibling root): whether and when it answered. */
  upstreamStatus(): UpstreamStatus[] {
    return upstreamStatus(this.topology, this.peerTable, this.clock?.() ?? Date.now());
  }

  /** (Re)read planet and moons.d from the home directory and hand them to the packet threads (SIGHUP). */
  reloadWorlds(): World[] {
    this.loadWorlds();
    this.core?.setWorlds(this.topology.planet, this.topology.moons);
    for (const h of this.workers) this.send(h, { type: 'worlds', worlds: this.worldFiles() });
    return this.topology.worlds;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.housekeepingTimer) clearInterval(this.housekeepingTimer);
    this.scaler?.stop();
    await this.core?.stop();
    await Promise.all(this.workers.map(async (h) => {
      await Promise.race([
        new Promise<void>((resolve) => { h.pending.set(0, () => resolve()); this.send(h, { type: 'stop' }); }),
        new Promise<void>((resolve) => setTimeout(resolve, 3000)),
      ]);
      await h.worker.terminate();
    }));
    this.workers.length = 0;
    await this.validation.close();
    this.store.close();
    this.controller?.store.close();
    this.mainLag.disable();
    this.log.info('root stopped', { knownIdentities: this.store.size });
  }
}
