// Root benchmark (npm run bench:root): in one run on this machine, a minimal Node UDP forwarder
// as the ceiling for pure Node, then `ztroot root` with 1 worker and with one per core, each
// driven by the load generator (tools/loadgen) from separate processes. Prints one table of
// figures, each with its ratio to the baseline measured in the same run; the README (Benchmarks) says
// how each figure is measured.
//
//   npm run bench:root -- [--peers 10000] [--seconds 3] [--procs 1] [--window 128] [--workers 1,2] [--quick]
//                         [--root-args "--native-udp off"] [--attack-flood 2000] [--attack-hello 5000]
//                         [--attack-seconds 10] [--profile] [--json out.json]
//   ZEROTIER_ONE=/path/to/zerotier-one npm run bench:root -- [--reference-only] [--reference-peers 4000]
//                         [--reference-rate 12000] [--reference-rounds 4] [--reference-root-bin other/bin/ztroot.js]
//
// With ZEROTIER_ONE (a binary you built yourself), the known-peer HELLO scenario also runs
// against it and against `ztroot root` with default settings, side by side in network
// namespaces (root-reference.ts; needs root), and prints ours, theirs and the ratio.
//
// Everything it starts is a child process that it stops itself (also on Ctrl-C, on an error,
// and after --max-minutes).

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateKeyPair } from '../../src/crypto/c25519.ts';
import { formatAddress } from '../../src/identity/address.ts';
import type { Identity } from '../../src/identity/identity.ts';
import { HOME_FILES } from '../../src/root/home.ts';
import { parseInetAddress } from '../../src/wire/inet-address.ts';
import { WorldType } from '../../src/world/constants.ts';
import { World } from '../../src/world/world.ts';
import { DEFAULT_WINDOW } from '../loadgen/engine.ts';
import { LoadgenFleet } from '../loadgen/fleet.ts';
import {
  defaultCacheDir, installLargeIdentityDb, loadOrCreatePeerKeys, loadOrCreatePeers, loadOrCreateRootIdentity,
  loadOrCreateValidIdentities, seedIdentityDb, type SyntheticPeers,
} from '../loadgen/key-material.ts';
import type { MemoryProbeResult } from '../loadgen/memory-probe.ts';
import { formatProfileSummary, summarizeProfiles } from '../loadgen/profile-summary.ts';
import { compareWithZerotierOne, formatComparison } from './root-reference.ts';
import { formatMicros, formatSummary, summarize, type FloodKind, type StageReport, type StageSpec, type StageSummary } from '../loadgen/stages.ts';
import { cpuPressure, processCpuSeconds, processRssBytes, scrapeMetrics, sumOf } from '../loadgen/target-stats.ts';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const ZTROOT_BIN = join(REPO, 'bin/ztroot.js');
const FORWARDER = join(REPO, 'tools/bench/forwarder.ts');
const MEMORY_PROBE = join(REPO, 'tools/loadgen/memory-probe.ts');

const { values: flags } = parseArgs({
  options: {
    peers: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '3' },
    procs: { type: 'string', default: '1' },
    sockets: { type: 'string', default: '8' },
    window: { type: 'string' },
    workers: { type: 'string' },
    'root-args': { type: 'string', default: '' },
    admit: { type: 'string', default: '64' },
    'flood-rate': { type: 'string', default: '3000' },
    'attack-flood': { type: 'string', default: '2000' },
    'attack-hello': { type: 'string', default: '5000' },
    'attack-seconds': { type: 'string', default: '10' },
    'relay-size': { type: 'string', default: '128' },
    'restart-identities': { type: 'string' },
    'memory-peers': { type: 'string' },
    quick: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    'cache-dir': { type: 'string', default: defaultCacheDir() },
    json: { type: 'string' },
    'max-minutes': { type: 'string', default: '20' },
    'reference-only': { type: 'boolean', default: false },
    'reference-peers': { type: 'string', default: '4000' },
    'reference-rate': { type: 'string', default: '12000' },
    'reference-rounds': { type: 'string', default: '4' },
    'reference-seconds': { type: 'string', default: '5' },
    'reference-root-bin': { type: 'string' },
  },
});

const CORES = availableParallelism();
const PEERS = Number(flags.peers);
const SECONDS = Number(flags.seconds);
const PROCS = Number(flags.procs);
const CACHE = flags['cache-dir']!;
/** Unanswered packets in the closed-loop ("max") stages; the load generator's default when unset. */
const WINDOW = flags.window !== undefined ? Number(flags.window) : undefined;
/** --quick: a 100k identity cache for the restart and memory at 100k only (the 1M probe takes minutes). */
const RESTART_ROWS = Number(flags['restart-identities'] ?? (flags.quick ? 100_000 : 1_000_000));
const MEMORY_PEERS = (flags['memory-peers'] ?? (flags.quick ? '100000' : '100000,1000000')).split(',').map(Number).filter((n) => n > 0);

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

// ---------------------------------------------------------------------------------------------
// Children and temp dirs: all stopped and removed on every way out
// ---------------------------------------------------------------------------------------------

const children = new Set<ChildProcess>();
const fleets = new Set<LoadgenFleet>();
const tempDirs = new Set<string>();

function track(c: ChildProcess): ChildProcess {
  children.add(c);
  c.once('exit', () => children.delete(c));
  return c;
}

function killEverything(): void {
  for (const f of fleets) f.killNow();
  for (const c of children) c.kill('SIGKILL');
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  tempDirs.clear();
}

process.on('exit', killEverything);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    log(`\n${signal}: stopping everything`);
    killEverything();
    process.exit(130);
  });
}
setTimeout(() => {
  log(`bench: over --max-minutes ${flags['max-minutes']}, stopping`);
  killEverything();
  process.exit(2);
}, Number(flags['max-minutes']) * 60_000).unref();

function tempHome(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(d);
  return d;
}

async function freePort(kind: 'udp' | 'tcp'): Promise<number> {
  if (kind === 'udp') {
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    const port = s.address().port;
    await new Promise<void>((r) => s.close(() => r()));
    return port;
  }
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** Resolve once `test` matches the child's accumulated stdout; reject if it exits first. */
function waitForOutput(child: ChildProcess, test: RegExp, what: string, timeoutMs = 60_000): Promise<string> {
  let out = '';
  let err = '';
  child.stderr?.setEncoding('utf8').on('data', (t: string) => { err = (err + t).slice(-4000); });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}\n${err}`)), timeoutMs);
    child.stdout!.setEncoding('utf8').on('data', (t: string) => {
      out += t;
      if (test.test(out)) {
        clearTimeout(timer);
        resolve(out);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${what}: process exited (${signal ?? code})\n${err}`));
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

// ---------------------------------------------------------------------------------------------
// Targets: the forwarder and roots
// ---------------------------------------------------------------------------------------------

interface Target {
  label: string;
  kind: 'forwarder' | 'root';
  workers?: number;
  child: ChildProcess;
  port: number;
  /** Datagrams the target has forwarded for others so far (its own counter). */
  relayed(): Promise<number>;
  stop(): Promise<void>;
}

function spawnForwarder(port: number, root: Identity): ChildProcess {
  return track(spawn(process.execPath, [FORWARDER, '--port', String(port), '--address', formatAddress(root.address)], { stdio: ['ignore', 'pipe', 'pipe'] }));
}

async function forwarderStats(port: number): Promise<{ forwarded: number; paths: number }> {
  const s = createSocket('udp4');
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('forwarder did not answer STATS')), 3000);
      s.on('message', (m) => {
        clearTimeout(timer);
        resolve(JSON.parse(m.toString()) as { forwarded: number; paths: number });
      });
      s.send('STATS', port, '127.0.0.1');
    });
  } finally {
    s.close();
  }
}

async function startForwarder(root: Identity): Promise<Target> {
  const port = await freePort('udp');
  const child = spawnForwarder(port, root);
  await waitForOutput(child, /"listening"/, 'the forwarder');
  return {
    label: 'Node forwarder', kind: 'forwarder', child, port,
    relayed: async () => (await forwarderStats(port)).forwarded,
    stop: () => stopChild(child),
  };
}

let workersFlagSupported: boolean | undefined;

/** Whether this build's `ztroot root` takes --workers (the multi-threaded root). */
async function rootTakesWorkers(): Promise<boolean> {
  if (workersFlagSupported === undefined) {
    const child = track(spawn(process.execPath, [ZTROOT_BIN, 'root', '--help'], { stdio: ['ignore', 'pipe', 'ignore'] }));
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (t: string) => { out += t; });
    await new Promise((r) => child.once('exit', r));
    workersFlagSupported = out.includes('--workers');
  }
  return workersFlagSupported;
}

/** A root home: the benchmark identity, and a moon served by it (replayed HELLOs ask for it). */
function prepareRootHome(root: Identity, port: number): { home: string; moon: World } {
  const home = tempHome('ztroot-bench-root-');
  mkdirSync(join(home, HOME_FILES.moonsDir), { recursive: true });
  writeFileSync(join(home, HOME_FILES.identitySecret), root.toString(true), { mode: 0o600 });
  const endpoint = parseInetAddress(`127.0.0.1/${port}`)!;
  const signer = generateKeyPair();
  const moon = World.make({
    type: WorldType.moon, id: BigInt(root.address), timestamp: BigInt(Date.now()), updatesMustBeSignedBy: signer.publicKey,
    roots: [{ identity: root.publicOnly(), stableEndpoints: [endpoint] }],
  }, signer);
  writeFileSync(join(home, HOME_FILES.moonsDir, moon.fileName), moon.serialize());
  return { home, moon };
}

function rootArgs(home: string, port: number, httpPort: number, workers: number | undefined, profileDir?: string): string[] {
  return [
    ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []),
    ZTROOT_BIN, 'root', '--home', home, '--bind', '127.0.0.1', '--port', String(port), '--http', `127.0.0.1:${httpPort}`,
    '--log-level', 'warn', ...(workers !== undefined ? ['--workers', String(workers)] : []),
    ...flags['root-args']!.split(' ').filter(Boolean),
  ];
}

function rootLabel(workers: number | undefined): string {
  return workers === undefined ? 'ztroot root' : `root, ${workers} worker${workers === 1 ? '' : 's'}`;
}

async function startRoot(home: string, port: number, workers: number | undefined, profileDir?: string): Promise<Target> {
  const httpPort = await freePort('tcp');
  const child = track(spawn(process.execPath, rootArgs(home, port, httpPort, workers, profileDir), { stdio: ['ignore', 'pipe', 'pipe'] }));
  await waitForOutput(child, /is running/, 'the root');
  const token = readFileSync(join(home, HOME_FILES.metricsToken), 'utf8').trim();
  const url = `http://127.0.0.1:${httpPort}/metrics`;
  return {
    label: rootLabel(workers), kind: 'root', workers, child, port,
    relayed: async () => sumOf(await scrapeMetrics(url, token), 'ztroot_relay_total', { outcome: 'forwarded' }),
    stop: () => stopChild(child),
  };
}

// ---------------------------------------------------------------------------------------------
// Measuring one stage: the load generator's report plus the target's CPU and relay counter
// ---------------------------------------------------------------------------------------------

interface Measured {
  summary: StageSummary;
  /** Target CPU seconds over the stage (drain included). */
  cpuSeconds: number;
  wallSeconds: number;
  /** Datagrams the target forwarded for others during the stage. */
  relayed: number;
}

async function measured(t: Target, fleet: LoadgenFleet, spec: StageSpec | ((shard: number) => StageSpec | undefined)): Promise<Measured> {
  const pid = t.child.pid!;
  const relayed0 = await t.relayed();
  const cpu0 = processCpuSeconds(pid);
  const wall0 = performance.now();
  const report: StageReport = await fleet.run(spec);
  const cpuSeconds = processCpuSeconds(pid) - cpu0;
  const wallSeconds = (performance.now() - wall0) / 1000;
  const relayed = (await t.relayed()) - relayed0;
  const m: Measured = { summary: summarize(report), cpuSeconds, wallSeconds, relayed };
  log(`  ${formatSummary(m.summary)}\n      target CPU ${(100 * cpuSeconds / wallSeconds).toFixed(0)} % of a core` +
    `${relayed ? `, relayed ${relayed} (${(relayed / m.summary.seconds).toFixed(0)}/s, ${(1e6 * cpuSeconds / relayed).toFixed(2)} µs CPU each)` : ''}`);
  return m;
}

interface TargetResult {
  label: string;
  kind: 'forwarder' | 'root';
  workers?: number;
  register: Measured;
  /** RSS growth of the target per registered peer (black box). */
  rssPerPeer: number;
  relayMax: Measured;
  relayHalf: Measured;
  hello: Measured;
  whois: Measured;
  echo: Measured;
  admit?: Measured;
  floods: Partial<Record<FloodKind, Measured>>;
  /** Known-peer HELLOs at a fixed rate alone, then under the invalid-identity flood (roots). */
  attackQuiet: Measured;
  attack?: Measured;
}

async function measureTarget(t: Target, root: Identity, peers: SyntheticPeers, admitSecrets: string[], moonId: bigint | undefined): Promise<TargetResult> {
  log(`\n== ${t.label} (pid ${t.child.pid}, UDP 127.0.0.1/${t.port})`);
  const fleet = await LoadgenFleet.start({
    processes: PROCS, cacheDir: CACHE, peerCount: peers.count, root: root.publicOnly(), host: '127.0.0.1', port: t.port,
    engine: { sockets: Number(flags.sockets), moonId },
  });
  fleets.add(fleet);
  try {
    const pid = t.child.pid!;
    const rss0 = processRssBytes(pid);
    const register = await measured(t, fleet, { kind: 'register', seconds: 180, window: 64 });
    const rssPerPeer = (processRssBytes(pid) - rss0) / Math.max(1, register.summary.answered);
    const size = Number(flags['relay-size']);
    const relayMax = await measured(t, fleet, { kind: 'relay', rate: 'max', seconds: SECONDS, size, window: WINDOW });
    const half = Math.max(100, Math.round(0.5 * (relayMax.relayed / relayMax.summary.seconds)));
    const relayHalf = await measured(t, fleet, { kind: 'relay', rate: half / fleet.shards, seconds: SECONDS, size });
    const hello = await measured(t, fleet, { kind: 'hello', rate: 'max', seconds: SECONDS, window: WINDOW });
    const whois = await measured(t, fleet, { kind: 'whois', rate: 'max', seconds: SECONDS, window: WINDOW });
    const echo = await measured(t, fleet, { kind: 'echo', rate: 'max', seconds: SECONDS, window: WINDOW });
    const attackSpec = (floodRate: number) => (shard: number): StageSpec | undefined => (shard === 0 ? {
      kind: 'attack', floodRate, helloRate: Number(flags['attack-hello']), seconds: Number(flags['attack-seconds']), networks: 255,
    } : undefined);
    const attackQuiet = await measured(t, fleet, attackSpec(0));
    const attack = t.kind === 'root' ? await measured(t, fleet, attackSpec(Number(flags['attack-flood']))) : undefined;
    const result: TargetResult = {
      label: t.label, kind: t.kind, workers: t.workers, register, rssPerPeer, relayMax, relayHalf, hello, whois, echo, floods: {}, attackQuiet, attack,
    };
    if (t.kind === 'root' && admitSecrets.length > 0) {
      result.admit = await measured(t, fleet, (shard) => ({
        kind: 'admit', seconds: 60, perSourceNetwork: true, identities: admitSecrets.filter((_, k) => k % fleet.shards === shard),
      }));
    }
    const floodRate = Number(flags['flood-rate']);
    for (const flood of (t.kind === 'root' ? ['unknown', 'invalid', 'replay'] : ['replay']) as FloodKind[]) {
      result.floods[flood] = await measured(t, fleet, (shard) => (shard === 0 ? { kind: 'flood', flood, rate: floodRate, seconds: SECONDS } : undefined));
    }
    return result;
  } finally {
    await fleet.close();
    fleets.delete(fleet);
  }
}

// ---------------------------------------------------------------------------------------------
// Time to serve WHOIS after a restart with a large identity cache
// ---------------------------------------------------------------------------------------------

interface RestartResult {
  /** Spawn → first OK(WHOIS) for a cached identity (forwarder: first reflected packet), ms. */
  firstAnswerMs: number;
  /** Spawn → startup banner, ms (roots). */
  bannerMs?: number;
}

async function measureRestart(kind: 'forwarder' | 'root', workers: number | undefined, root: Identity, peers: SyntheticPeers): Promise<RestartResult> {
  const port = await freePort('udp');
  let home = '';
  let asked = peers.addresses[0];
  if (kind === 'root') {
    home = prepareRootHome(root, port).home;
    asked = installLargeIdentityDb(home, peers, RESTART_ROWS, CACHE, log).fillerSample[7];
  }
  const fleet = await LoadgenFleet.start({
    processes: 1, cacheDir: CACHE, peerCount: peers.count, root: root.publicOnly(), host: '127.0.0.1', port,
    engine: { sockets: 1, relayPeers: 0, verify: kind === 'root' },
  });
  fleets.add(fleet);
  let target: Target | undefined;
  try {
    const t0 = performance.timeOrigin + performance.now();
    const probe = fleet.run({ kind: 'restart-probe', seconds: 120, whois: asked, intervalMs: 2 });
    let bannerMs: number | undefined;
    if (kind === 'root') {
      target = await startRoot(home, port, workers);
      bannerMs = performance.timeOrigin + performance.now() - t0;
    } else {
      const child = spawnForwarder(port, root);
      target = { label: 'forwarder', kind, child, port, relayed: () => Promise.resolve(0), stop: () => stopChild(child) };
    }
    const r = await probe;
    if (!r.answered) throw new Error(`${kind}: WHOIS not answered within 120 s of the start`);
    const result = { firstAnswerMs: r.extra.answeredAtEpochMs - t0, bannerMs };
    log(`  ${kind === 'root' ? rootLabel(workers) : 'Node forwarder'}: first answer ${result.firstAnswerMs.toFixed(0)} ms after spawn` +
      `${bannerMs !== undefined ? ` (startup banner at ${bannerMs.toFixed(0)} ms)` : ''}`);
    return result;
  } finally {
    await fleet.close();
    fleets.delete(fleet);
    await target?.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Memory probes and the validation ceiling
// ---------------------------------------------------------------------------------------------

async function memoryProbe(mode: 'root' | 'forwarder', peers: number): Promise<MemoryProbeResult> {
  const child = track(spawn(process.execPath, ['--expose-gc', '--max-old-space-size=8192', MEMORY_PROBE, '--peers', String(peers), '--mode', mode], { stdio: ['ignore', 'pipe', 'pipe'] }));
  const out = await waitForOutput(child, /\}\s*$/, `memory probe (${mode}, ${peers})`, 15 * 60_000);
  const result = JSON.parse(out.trim().split('\n').pop()!) as MemoryProbeResult;
  log(`  ${mode} ${peers} peers: ${result.rssBytesPerPeer.toFixed(0)} B RSS, ${result.heapBytesPerPeer.toFixed(0)} B heap per peer (built in ${result.buildSeconds.toFixed(1)} s)`);
  return result;
}

/** Cores ÷ the time one proof-of-work check takes here: the most new identities a root could admit per second. */
function validationCeiling(ids: Identity[]): { perSecond: number; millis: number } {
  const times: number[] = [];
  for (const id of ids.slice(0, 5)) {
    const t = performance.now();
    if (!id.locallyValidate()) throw new Error('a cached valid identity failed validation');
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const millis = times[Math.floor(times.length / 2)];
  return { perSecond: (CORES * 1000) / millis, millis };
}

// ---------------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------------

/** A figure; `cpu`: the target's CPU during that stage (fraction of one core); `lowerBound`: capped by the generator. */
type Cell = { value: number; lowerBound?: boolean; cpu?: number } | undefined;

interface Row {
  label: string;
  unit: (v: number) => string;
  /** The baseline: the forwarder's figure, or another reference named in the label. */
  base: Cell;
  roots: Cell[];
}

const perSecond = (v: number): string => (v >= 1e4 ? `${(v / 1e3).toFixed(1)}k/s` : `${v.toFixed(v >= 100 ? 0 : 1)}/s`);
const micros = (v: number): string => formatMicros(v);
const bytes = (v: number): string => (v >= 10_240 ? `${(v / 1024).toFixed(1)} KiB` : `${v.toFixed(0)} B`);
const millis = (v: number): string => `${v.toFixed(0)} ms`;
const ratio = (v: number): string => `${v.toFixed(2)}`;
const percent = (v: number): string => `${v.toFixed(2)} %`;

/**
 * A closed-loop rate with the target's CPU share during the stage. When the rate reached the
 * cap set by the root's per-peer reply spacing over the peers, the target kept up with all
 * that was asked: its capacity is at least this ("≥").
 */
function rateCell(m: Measured | undefined): Cell {
  if (!m) return undefined;
  const capped = m.summary.targetRate > 0 && m.summary.answeredPerSecond >= 0.95 * m.summary.targetRate;
  return { value: m.summary.answeredPerSecond, lowerBound: capped, cpu: m.cpuSeconds / m.wallSeconds };
}

function printTable(rows: Row[], rootLabels: string[]): string {
  const header = ['', 'Node forwarder', ...rootLabels.flatMap((l) => [l, 'ratio'])];
  const lines: string[][] = [header];
  for (const r of rows) {
    const show = (c: Cell): string => (c ? `${c.lowerBound ? '≥' : ''}${r.unit(c.value)}${c.cpu !== undefined ? ` @${(100 * c.cpu).toFixed(0)}%` : ''}` : '—');
    const line = [r.label, show(r.base)];
    for (const c of r.roots) {
      line.push(show(c));
      line.push(c && r.base && r.base.value > 0 ? `×${(c.value / r.base.value).toFixed(2)}` : '');
    }
    lines.push(line);
  }
  const widths = header.map((_, i) => Math.max(...lines.map((l) => (l[i] ?? '').length)));
  const text = lines.map((l, li) => {
    const cells = l.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])));
    const row = cells.join('  ');
    return li === 0 ? `${row}\n${'-'.repeat(row.length)}` : row;
  }).join('\n');
  return text;
}

/** The commit the run measured (read-only git), for the record. */
function commitOf(): string {
  try {
    return execFileSync('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

function pressureNote(before: number | undefined, after: number | undefined): string {
  if (before === undefined || after === undefined) return '';
  return `; some task waited for a CPU ${(100 * before).toFixed(0)} % of the minute before the start, ${(100 * after).toFixed(0)} % before the end (/proc/pressure/cpu)`;
}

/** With ZEROTIER_ONE set: the known-peer HELLO comparison (root-reference.ts), as printable text. */
async function measureAgainstZerotierOne(root: Identity): Promise<string | undefined> {
  const zerotierOne = process.env.ZEROTIER_ONE;
  if (!zerotierOne) {
    log('(set ZEROTIER_ONE=/path/to/zerotier-one to measure known-peer HELLO against zerotier-one in the same run)');
    return undefined;
  }
  const o = {
    zerotierOne, peers: Number(flags['reference-peers']), rate: Number(flags['reference-rate']), seconds: Number(flags['reference-seconds']),
    rounds: Number(flags['reference-rounds']), procs: Math.max(2, PROCS), cacheDir: CACHE, root,
    rootArgs: flags['root-args']!.split(' ').filter(Boolean), rootBin: flags['reference-root-bin'], log,
  };
  log(`\n== known-peer HELLO, ztroot root${o.rootBin ? `, ${o.rootBin}` : ''} and zerotier-one (${zerotierOne}) in network namespaces`);
  return formatComparison(await compareWithZerotierOne(o), o);
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = performance.now();
  const loadBefore = loadavg()[0];
  const pressureBefore = cpuPressure();
  const commitBefore = commitOf();
  log(`root benchmark: ${CORES} cores, ${PEERS} known peers, ${SECONDS} s stages, ${PROCS} load generator process(es); cache ${CACHE}` +
    `${flags['root-args'] ? `; root arguments: ${flags['root-args']}` : ''}`);
  const root = await loadOrCreateRootIdentity(CACHE, log);
  const reference = await measureAgainstZerotierOne(root);
  if (flags['reference-only']) {
    if (!reference) throw new Error('--reference-only needs ZEROTIER_ONE=/path/to/zerotier-one');
    process.stdout.write(`\n${reference}\n`);
    return;
  }
  const peers = await loadOrCreatePeers(PEERS, CACHE, log);
  await loadOrCreatePeerKeys(peers, root.publicOnly(), CACHE, log);
  const valid = await loadOrCreateValidIdentities(Number(flags.admit), CACHE, log);
  const ceiling = validationCeiling(valid);
  log(`identity validation here: ${ceiling.millis.toFixed(0)} ms each → at most ${ceiling.perSecond.toFixed(1)} new identities/s on ${CORES} cores`);

  const takesWorkers = await rootTakesWorkers();
  const workerCounts: (number | undefined)[] = flags.workers
    ? flags.workers.split(',').map(Number)
    : takesWorkers ? [...new Set([1, CORES])] : [undefined];
  if (!takesWorkers) log('this build of `ztroot root` has no --workers flag: measuring the root as it is (one column)');
  const profileDir = flags.profile ? tempHome('ztroot-bench-profile-') : undefined;
  if (profileDir) tempDirs.delete(profileDir); // keep the profiles

  // 1. the forwarder baseline
  const forwarder = await startForwarder(root);
  let base: TargetResult;
  try {
    base = await measureTarget(forwarder, root, peers, [], undefined);
  } finally {
    await forwarder.stop();
  }

  // 2. roots
  const roots: TargetResult[] = [];
  for (const workers of workerCounts) {
    const port = await freePort('udp');
    const { home, moon } = prepareRootHome(root, port);
    seedIdentityDb(home, peers);
    const t = await startRoot(home, port, workers, profileDir);
    try {
      roots.push(await measureTarget(t, root, peers, valid.map((i) => i.toString(true)), moon.id));
    } finally {
      await t.stop();
      rmSync(home, { recursive: true, force: true });
      tempDirs.delete(home);
    }
  }

  // 3. restart with a large identity cache
  log(`\n== time to answer WHOIS after a restart with ${RESTART_ROWS} cached identities`);
  const restartBase = await measureRestart('forwarder', undefined, root, peers);
  const restarts: RestartResult[] = [];
  for (const workers of workerCounts) restarts.push(await measureRestart('root', workers, root, peers));

  // 4. memory per peer
  log('\n== memory per known peer (in-process probes, see the README, Benchmarks)');
  const memory: { peers: number; root: MemoryProbeResult; forwarder: MemoryProbeResult }[] = [];
  for (const n of MEMORY_PEERS) memory.push({ peers: n, forwarder: await memoryProbe('forwarder', n), root: await memoryProbe('root', n) });

  // 5. the table
  const each = <T>(f: (r: TargetResult, i: number) => T): T[] => roots.map(f);
  const cpuPerRelay = (m: Measured): Cell => (m.relayed > 0 ? { value: (1e6 * m.cpuSeconds) / m.relayed } : undefined);
  const relayRate = (m: Measured): Cell => ({ value: m.relayed / m.summary.seconds, cpu: m.cpuSeconds / m.wallSeconds });
  const registerRate = (r: TargetResult): Cell => ({ value: r.register.summary.answered / r.register.summary.seconds, cpu: r.register.cpuSeconds / r.register.wallSeconds });
  const floodRatio = (m: Measured | undefined): Cell => (m && m.summary.bytesSent > 0 ? { value: m.summary.bytesReceived / m.summary.bytesSent } : undefined);
  const answeredPercent = (m: Measured | undefined): Cell => (m && m.summary.sent > 0 ? { value: (100 * m.summary.answered) / m.summary.sent, cpu: m.cpuSeconds / m.wallSeconds } : undefined);
  const attackHello = flags['attack-hello'], attackFlood = flags['attack-flood'];
  const floodCpu = (m: Measured | undefined): Cell => (m && m.summary.sent > 0 ? { value: (1e6 * m.cpuSeconds) / m.summary.sent } : undefined);
  const rows: Row[] = [
    { label: 'relayed packets/s (max)', unit: perSecond, base: relayRate(base.relayMax), roots: each((r) => relayRate(r.relayMax)) },
    { label: 'CPU per relayed packet', unit: micros, base: cpuPerRelay(base.relayMax), roots: each((r) => cpuPerRelay(r.relayMax)) },
    { label: `relay latency p50 at half load`, unit: micros, base: { value: base.relayHalf.summary.p50Micros }, roots: each((r) => ({ value: r.relayHalf.summary.p50Micros })) },
    { label: `relay latency p99 at half load`, unit: micros, base: { value: base.relayHalf.summary.p99Micros }, roots: each((r) => ({ value: r.relayHalf.summary.p99Micros })) },
    { label: 'relay loss at half load (%)', unit: (v) => v.toFixed(2), base: { value: base.relayHalf.summary.lossPercent }, roots: each((r) => ({ value: r.relayHalf.summary.lossPercent })) },
    { label: 'known-peer HELLO/s (OK received)', unit: perSecond, base: rateCell(base.hello), roots: each((r) => rateCell(r.hello)) },
    { label: 'WHOIS/s (OK received)', unit: perSecond, base: rateCell(base.whois), roots: each((r) => rateCell(r.whois)) },
    { label: 'ECHO/s (OK received)', unit: perSecond, base: rateCell(base.echo), roots: each((r) => rateCell(r.echo)) },
    { label: 'first HELLO of cached identities/s (window 64)', unit: perSecond, base: registerRate(base), roots: each(registerRate) },
    { label: 'new identities admitted/s [base: validation ceiling]', unit: perSecond, base: { value: ceiling.perSecond }, roots: each((r) => (r.admit ? { value: r.admit.summary.answered / r.admit.summary.seconds } : undefined)) },
    { label: `memory per peer, RSS Δ at ${peers.count} registered`, unit: bytes, base: { value: base.rssPerPeer }, roots: each((r) => ({ value: r.rssPerPeer })) },
    ...memory.flatMap((m) => [
      { label: `memory per peer at ${m.peers / 1000}k (probe, RSS)`, unit: bytes, base: { value: m.forwarder.rssBytesPerPeer }, roots: each(() => ({ value: m.root.rssBytesPerPeer })) },
      { label: `memory per peer at ${m.peers / 1000}k (probe, heap)`, unit: bytes, base: { value: m.forwarder.heapBytesPerPeer }, roots: each(() => ({ value: m.root.heapBytesPerPeer })) },
    ] satisfies Row[]),
    { label: `WHOIS answered after restart, ${RESTART_ROWS / 1000}k cached`, unit: millis, base: { value: restartBase.firstAnswerMs }, roots: restarts.map((r) => ({ value: r.firstAnswerMs })) },
    { label: `known peers answered, HELLO ${attackHello}/s alone (%)`, unit: percent, base: answeredPercent(base.attackQuiet), roots: each((r) => answeredPercent(r.attackQuiet)) },
    { label: `  its latency p99`, unit: micros, base: { value: base.attackQuiet.summary.p99Micros }, roots: each((r) => ({ value: r.attackQuiet.summary.p99Micros })) },
    { label: `known peers answered under ${attackFlood}/s invalid identities (%)`, unit: percent, base: answeredPercent(base.attackQuiet), roots: each((r) => answeredPercent(r.attack)) },
    { label: `  its latency p50`, unit: micros, base: { value: base.attackQuiet.summary.p50Micros }, roots: each((r) => (r.attack ? { value: r.attack.summary.p50Micros } : undefined)) },
    { label: `  its latency p99`, unit: micros, base: { value: base.attackQuiet.summary.p99Micros }, roots: each((r) => (r.attack ? { value: r.attack.summary.p99Micros } : undefined)) },
    { label: `  invalid-identity HELLOs answered (of the flood)`, unit: (v) => v.toFixed(0), base: undefined, roots: each((r) => (r.attack ? { value: r.attack.summary.extra.floodAnswered ?? 0 } : undefined)) },
    { label: 'amplification, unknown-identity HELLOs', unit: ratio, base: floodRatio(base.floods.replay), roots: each((r) => floodRatio(r.floods.unknown)) },
    { label: 'amplification, malformed HELLOs', unit: ratio, base: floodRatio(base.floods.replay), roots: each((r) => floodRatio(r.floods.invalid)) },
    { label: 'amplification, replayed HELLOs (+moon)', unit: ratio, base: floodRatio(base.floods.replay), roots: each((r) => floodRatio(r.floods.replay)) },
    { label: 'CPU per unknown-identity HELLO', unit: micros, base: floodCpu(base.floods.replay), roots: each((r) => floodCpu(r.floods.unknown)) },
    { label: 'CPU per malformed HELLO', unit: micros, base: floodCpu(base.floods.replay), roots: each((r) => floodCpu(r.floods.invalid)) },
    { label: 'CPU per replayed HELLO', unit: micros, base: floodCpu(base.floods.replay), roots: each((r) => floodCpu(r.floods.replay)) },
  ];
  const labels = roots.map((r) => r.label);
  const table = printTable(rows, labels);
  const cpuLine = [base, ...roots].map((r) => `${r.label} ${formatMicros((1e6 * r.relayMax.cpuSeconds) / Math.max(1, r.relayMax.relayed))}`).join(', ');
  const loadAfter = loadavg()[0];
  const commitAfter = commitOf();
  const notes = [
    `Ratios: each root figure ÷ the Node forwarder's figure in the same row (same run, same load generator).`,
    `Rates are closed loop (${WINDOW ?? DEFAULT_WINDOW} unanswered at most per load generator process); "@N%" is the target's CPU during that stage, % of one`,
    `  core (all its threads): well below 100 % per busy thread means something else (the load generator, the machine) set the pace.`,
    `"≥": the rate reached the cap set by the root's per-peer reply spacing (HELLO 250 ms, ECHO 500 ms) over ${peers.count} peers.`,
    `CPU per relayed packet, anchors on this kind of machine: zerotier-one 1.14 moon 6.5–7.5 µs (up to ~150k packets/s),`,
    `  root.cpp 7.2–7.5 µs, bare Node 24 dgram forwarder ~9.3 µs. Measured here: ${cpuLine}.`,
    `Admission baseline: ${CORES} cores ÷ ${ceiling.millis.toFixed(0)} ms per proof-of-work check (measured in this process).`,
    `Flood: known-peer HELLOs at ${attackHello}/s for ${flags['attack-seconds']} s, alone and then while HELLOs with fresh identities that fail proof of work`,
    `  (valid MACs) arrive at ${attackFlood}/s from 255 source /24s (127.k.1.1); the forwarder column is its run without the flood.`,
    `Amplification baseline: the forwarder reflects every datagram (1.00 by construction); flood rate ${flags['flood-rate']}/s from one source.`,
    `Memory probes build the node core's per-peer state in one process; the same figure applies to any worker count.`,
    `Machine: ${CORES} cores, shared by the load generator and the target; 1-minute load average ${loadBefore.toFixed(1)} at the start,`,
    `  ${loadAfter.toFixed(1)} at the end${Math.max(loadBefore, loadAfter) > CORES ? ' (above the core count: other work was competing)' : ''}${pressureNote(pressureBefore, cpuPressure())}.`,
    `Commit ${commitBefore}${commitAfter !== commitBefore ? ` at the start, ${commitAfter} at the end` : ''} (plus any uncommitted changes in the tree); total run ${((performance.now() - started) / 1000).toFixed(0)} s.`,
  ];
  process.stdout.write(`\n${table}\n\n${notes.join('\n')}\n`);
  if (reference) process.stdout.write(`\n${reference}\n`);

  if (profileDir) {
    process.stdout.write(`\nCPU profiles of the roots (node --cpu-prof) in ${profileDir}:\n`);
    for (const s of summarizeProfiles(profileDir, 15)) process.stdout.write(`${formatProfileSummary(s)}\n`);
  }
  if (flags.json) {
    writeFileSync(flags.json, JSON.stringify({ cores: CORES, peers: peers.count, seconds: SECONDS, validationCeiling: ceiling, forwarder: base, roots, restartBase, restarts, memory }, null, 2));
    log(`results written to ${flags.json}`);
  }
}

main().then(() => {
  killEverything();
  process.exit(0);
}, (e: unknown) => {
  log(`bench: ${(e as Error).stack ?? String(e)}`);
  killEverything();
  process.exit(1);
});
