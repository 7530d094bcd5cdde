// The known-peer HELLO scenario of bench:root run against `ztroot root` (default settings) and a
// zerotier-one binary the operator built (ZEROTIER_ONE) in the same run: each target alone in a
// network namespace, the root of a lab planet, with the same identity; the load generator in a
// third namespace, wired to each by its own veth pair. The simulated leaves are identities with
// real proof of work (tools/loadgen/key-material.ts), so zerotier-one accepts them on their first
// HELLO; ztroot gets them in its identity cache beforehand, as after a restart. Stages alternate
// between the two targets so that load from elsewhere on the machine hits both alike.

import type { ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair } from '../../src/crypto/c25519.ts';
import { formatAddress } from '../../src/identity/address.ts';
import type { Identity } from '../../src/identity/identity.ts';
import { HOME_FILES } from '../../src/root/home.ts';
import { ipv4, parseIpv4 } from '../../src/wire/inet-address.ts';
import { WorldType } from '../../src/world/constants.ts';
import { World } from '../../src/world/world.ts';
import { NODE, ZTROOT_BIN } from '../lab/lab-root.ts';
import { NetnsLab, stopChild } from '../lab/netns.ts';
import { LoadgenFleet } from '../loadgen/fleet.ts';
import { loadOrCreatePeerKeys, loadOrCreatePeers, seedIdentityDb } from '../loadgen/key-material.ts';
import type { StageSummary } from '../loadgen/stages.ts';
import { summarize } from '../loadgen/stages.ts';
import { processCpuSeconds, processRssBytes } from '../loadgen/target-stats.ts';

const PORT = 9993;
/** One /24 per target inside the lab: .1 the target, .2 the load generator. */
const SUBNETS = { ours: '198.18.13', theirs: '198.18.14', other: '198.18.15' } as const;
type TargetKind = keyof typeof SUBNETS;
/**
 * The leaves send from 198.19.k.1, one /24 each (on the load generator's loopback, routed from
 * both targets): zerotier-one checks at most one new identity per source /24 per second.
 */
const SOURCE_NETWORKS = 256;
/** How long the leaves get to be answered once (zerotier-one admits one per source /24 per 2 s). */
const REGISTER_SECONDS = 900;
const SOURCES = Array.from({ length: SOURCE_NETWORKS }, (_, k) => `198.19.${k}.1`);
/** How long an idle target is left alone before its resident memory is read. */
const IDLE_SETTLE_MS = 5000;

export interface ReferenceOptions {
  zerotierOne: string;
  peers: number;
  /** Known-peer HELLOs offered per second (open loop, all load generator processes together). */
  rate: number;
  seconds: number;
  rounds: number;
  procs: number;
  cacheDir: string;
  root: Identity;
  /** Extra arguments for `ztroot root`. */
  rootArgs: string[];
  /**
   * Another checkout's `bin/ztroot.js`, run as a third target beside this checkout's root and
   * zerotier-one with the same arguments, to compare before and after a change in one sitting.
   */
  rootBin?: string;
  log: (m: string) => void;
}

export interface HelloRound {
  answeredPerSecond: number;
  /** Target CPU per OK(HELLO) received by the leaves, µs. */
  cpuMicrosPerAnswer: number;
  /** Target CPU over the stage, fraction of one core. */
  cpu: number;
  lossPercent: number;
  summary: StageSummary;
}

export interface ReferenceTarget {
  label: string;
  idleRssBytes: number;
  rssAfterBytes: number;
  registered: number;
  rounds: HelloRound[];
}

/**
 * zerotier-one checks each new identity's proof of work on its first HELLO, at most one per
 * source /24 per 2 s, tens of milliseconds each on a loaded machine: registering thousands of
 * leaves takes minutes. It writes the peers it knows to `peers.d` when it stops and reads them
 * back on demand, so the benchmark keeps that directory in the key cache (one per leaf set and
 * root identity) and gives it to the next run, which then registers in seconds.
 */
function zerotierPeersCache(o: ReferenceOptions, tag: string): string {
  return join(o.cacheDir, `zerotier-one-peers-${o.peers}-${tag}-${formatAddress(o.root.address)}`);
}

interface Running {
  label: string;
  child: ChildProcess;
  fleet: LoadgenFleet;
  result: ReferenceTarget;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function labPlanet(root: Identity, host: string): World {
  const signer = generateKeyPair();
  return World.make({
    type: WorldType.planet, id: 0x1ab_0000_0000_e713n, timestamp: 1n, updatesMustBeSignedBy: signer.publicKey,
    roots: [{ identity: root.publicOnly(), stableEndpoints: [ipv4(parseIpv4(host)!, PORT)] }],
  }, signer);
}

/** Resolve when the child prints something matching `test`; reject if it exits first. */
function waitForOutput(child: ChildProcess, test: RegExp, what: string, timeoutMs = 60_000): Promise<void> {
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}:\n${out.slice(-2000)}`)), timeoutMs);
    const onData = (c: Buffer): void => {
      out += c.toString('utf8');
      if (test.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${what}: exited (${signal ?? code}):\n${out.slice(-2000)}`));
    });
  });
}

async function helloRound(t: Running, o: ReferenceOptions): Promise<HelloRound> {
  const pid = t.child.pid!;
  const cpu0 = processCpuSeconds(pid);
  const wall0 = performance.now();
  const summary = summarize(await t.fleet.run({ kind: 'hello', rate: o.rate / t.fleet.shards, seconds: o.seconds }));
  const cpuSeconds = processCpuSeconds(pid) - cpu0;
  const wall = (performance.now() - wall0) / 1000;
  const round: HelloRound = {
    answeredPerSecond: summary.answeredPerSecond, cpuMicrosPerAnswer: (1e6 * cpuSeconds) / Math.max(1, summary.answered),
    cpu: cpuSeconds / wall, lossPercent: summary.lossPercent, summary,
  };
  o.log(`  ${t.label}: ${summary.answered} of ${summary.sent} HELLOs answered (${round.answeredPerSecond.toFixed(0)}/s), ` +
    `${round.cpuMicrosPerAnswer.toFixed(1)} µs CPU each, target at ${(100 * round.cpu).toFixed(0)} % of a core`);
  return round;
}

export interface Comparison {
  ours: ReferenceTarget;
  theirs: ReferenceTarget;
  /** The other checkout's root (--reference-root-bin), when given. */
  other?: ReferenceTarget;
}

/** Every target measured in one lab; the lab and every process in it are gone when this returns. */
export async function compareWithZerotierOne(o: ReferenceOptions): Promise<Comparison> {
  const peers = await loadOrCreatePeers(o.peers, o.cacheDir, o.log, 'proof-of-work');
  await loadOrCreatePeerKeys(peers, o.root.publicOnly(), o.cacheDir, o.log);
  const lab = new NetnsLab();
  const homes: string[] = [];
  const running: Running[] = [];
  try {
    const gen = lab.namespace('efgen');
    for (const a of SOURCES) lab.ip(gen, 'addr', 'add', `${a}/32`, 'dev', 'lo');
    const start = async (which: TargetKind): Promise<Running> => {
      const net = SUBNETS[which];
      const ns = lab.namespace(`ef${which}`);
      lab.veth({ ns, ifname: 'eth0' }, { ns: gen, ifname: `to-${which}` });
      lab.address(ns, 'eth0', `${net}.1/24`);
      lab.address(gen, `to-${which}`, `${net}.2/24`);
      lab.ip(ns, 'route', 'add', '198.19.0.0/16', 'via', `${net}.2`);
      const home = mkdtempSync(join(tmpdir(), `ztroot-bench-ref-${which}-`));
      homes.push(home);
      mkdirSync(join(home, HOME_FILES.moonsDir));
      writeFileSync(join(home, HOME_FILES.identitySecret), o.root.toString(true), { mode: 0o600 });
      writeFileSync(join(home, 'planet'), labPlanet(o.root, `${net}.1`).serialize());
      let child: ChildProcess;
      let label: string;
      if (which !== 'theirs') {
        seedIdentityDb(home, peers);
        label = which === 'ours' ? 'ztroot root' : 'ztroot root (other)';
        child = lab.spawn(ns, NODE, [which === 'ours' ? ZTROOT_BIN : o.rootBin!, 'root', '--home', home, '--bind', `${net}.1`, '--port', String(PORT), '--log-level', 'warn', ...o.rootArgs]);
        await waitForOutput(child, /is running/, label);
      } else {
        // No port mapping and no secondary ports: the one UDP socket, as a root is usually run.
        writeFileSync(join(home, 'local.conf'), JSON.stringify({ settings: { portMappingEnabled: false, allowSecondaryPort: false } }));
        if (existsSync(zerotierPeersCache(o, peers.tag))) cpSync(zerotierPeersCache(o, peers.tag), join(home, 'peers.d'), { recursive: true });
        label = 'zerotier-one';
        child = lab.spawn(ns, o.zerotierOne, ['-U', `-p${PORT}`, home]);
        child.stdout!.resume();
        child.stderr!.resume();
        await sleep(2000);
        if (child.exitCode !== null) throw new Error(`zerotier-one exited (${child.exitCode}) at start`);
      }
      const fleet = await LoadgenFleet.start({
        processes: o.procs, cacheDir: o.cacheDir, peerCount: peers.count, root: o.root.publicOnly(), host: `${net}.1`, port: PORT,
        engine: { sources: SOURCES, relayPeers: 0, verify: true }, peerKind: 'proof-of-work', netns: gen,
      });
      const r: Running = { label, child, fleet, result: { label, idleRssBytes: 0, rssAfterBytes: 0, registered: 0, rounds: [] } };
      running.push(r);
      return r;
    };
    const targets = [await start('ours'), await start('theirs')];
    if (o.rootBin) targets.push(await start('other'));
    await sleep(IDLE_SETTLE_MS);
    for (const t of targets) {
      t.result.idleRssBytes = processRssBytes(t.child.pid!);
      o.log(`  ${t.label}: idle RSS ${(t.result.idleRssBytes / 2 ** 20).toFixed(1)} MiB (pid ${t.child.pid})`);
    }
    for (const t of targets) {
      const reg = summarize(await t.fleet.run({ kind: 'register', seconds: REGISTER_SECONDS, window: SOURCE_NETWORKS / t.fleet.shards }));
      t.result.registered = reg.answered;
      o.log(`  ${t.label}: ${reg.answered} of ${peers.count} leaves registered in ${reg.seconds.toFixed(1)} s`);
    }
    for (let round = 0; round < o.rounds; round++) {
      const order = round % 2 === 0 ? targets : [...targets].reverse(); // no target always runs first
      for (const t of order) t.result.rounds.push(await helloRound(t, o));
    }
    for (const t of targets) t.result.rssAfterBytes = processRssBytes(t.child.pid!);
    return { ours: targets[0].result, theirs: targets[1].result, other: targets[2]?.result };
  } finally {
    for (const t of running) await t.fleet.close();
    for (const t of running) await stopChild(t.child, 20_000);
    const theirs = running.find((t) => t.label === 'zerotier-one');
    const cache = zerotierPeersCache(o, peers.tag);
    if (theirs && theirs.result.registered === peers.count && !existsSync(cache) && existsSync(join(homes[1], 'peers.d'))) {
      cpSync(join(homes[1], 'peers.d'), `${cache}.tmp`, { recursive: true });
      renameSync(`${cache}.tmp`, cache);
    }
    await lab.destroy();
    for (const h of homes) rmSync(h, { recursive: true, force: true });
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * The comparison as a small table: each ztroot target, zerotier-one, and each ztroot target's
 * ratio to zerotier-one (median of the rounds, range beside).
 */
export function formatComparison(c: Comparison, o: Pick<ReferenceOptions, 'peers' | 'rate' | 'seconds' | 'rootBin'>): string {
  const range = (xs: number[], f: (v: number) => string): string => `${f(median(xs))} (${f(Math.min(...xs))}–${f(Math.max(...xs))})`;
  const us = (v: number): string => `${v.toFixed(1)} µs`;
  const rate = (v: number): string => `${(v / 1000).toFixed(1)}k/s`;
  const mib = (v: number): string => `${(v / 2 ** 20).toFixed(1)} MiB`;
  const ours = [c.ours, ...(c.other ? [c.other] : [])], theirs = c.theirs;
  const cpu = (t: ReferenceTarget): number[] => t.rounds.map((r) => r.cpuMicrosPerAnswer);
  const ratios = (f: (t: ReferenceTarget) => number): string[] => ours.map((t) => `×${(f(t) / f(theirs)).toFixed(2)}`);
  const row = (label: string, f: (t: ReferenceTarget) => string, ratio: string[]): string[] =>
    [label, ...ours.map(f), f(theirs), ...(ratio.length ? ratio : ours.map(() => ''))];
  const rows: string[][] = [
    ['', ...ours.map((t) => t.label), theirs.label, ...ours.map((t) => (ours.length === 1 ? 'ratio' : t === c.ours ? 'ratio, this' : 'ratio, other'))],
    row('CPU per answered HELLO', (t) => range(cpu(t), us), ratios((t) => median(cpu(t)))),
    row('HELLOs answered', (t) => range(t.rounds.map((r) => r.answeredPerSecond), rate), []),
    row('idle RSS', (t) => mib(t.idleRssBytes), ratios((t) => t.idleRssBytes)),
    row(`RSS after, ${o.peers} peers`, (t) => mib(t.rssAfterBytes), ratios((t) => t.rssAfterBytes)),
  ];
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const lines = rows.map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(w[i]) : cell.padStart(w[i]))).join('  '));
  lines.splice(1, 0, '-'.repeat(lines[0].length));
  return `Known-peer HELLO against zerotier-one (ZEROTIER_ONE), ${o.peers} leaves with proof of work offering ${o.rate}/s, ` +
    `${c.ours.rounds.length} alternating rounds of ${o.seconds} s (median, range)` +
    `${c.other ? `; "other" is ${o.rootBin}` : ''}:\n${lines.join('\n')}`;
}
