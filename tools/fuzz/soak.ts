// `npm run soak`: mixed load against a spawned `ztroot root` for --minutes (default 30), through
// the load generator (tools/loadgen) — known peers' HELLO, WHOIS and ECHO, relayed pairs (which
// draw RENDEZVOUS), new identities admitted every cycle that then fall silent and expire (churn)
// — with hostile junk from the datagram corpus at a low rate throughout. Samples the root's RSS
// and event-loop lag; passes when RSS after the warm-up grows less than 5 % and nothing was
// logged at error level. Every stage is bounded; the root and load are stopped at the end.

import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { Identity } from '../../src/identity/identity.ts';
import { LoadgenFleet } from '../loadgen/fleet.ts';
import { loadOrCreatePeers, loadOrCreateRootIdentity, loadOrCreateValidIdentities, seedIdentityDb } from '../loadgen/key-material.ts';
import { mergeReports, summarize, formatSummary, type StageReport, type StageSpec } from '../loadgen/stages.ts';
import { Corpus, type Category } from './corpus.ts';
import { endpoint, fixtureCapture, fixtureIdentities, keyBetween } from './peers.ts';
import { Rng } from './rng.ts';
import { counter, dropsByReason, RootTarget } from './target.ts';

export interface SoakOptions {
  minutes: number;
  /** Seconds before RSS is taken as the baseline (default: a fifth of the run, at least 30 s). */
  warmupSeconds?: number;
  /** Known peers seeded into the root's identity cache. */
  peers: number;
  /** Hostile datagrams per second throughout. */
  junkRate: number;
  /** Multiplies the load generator's rates. */
  scale: number;
  sampleSeconds: number;
  seed: number;
  cacheDir?: string;
  /** Extra `ztroot root` flags (e.g. ['--workers', '0'] puts the packet path on the main thread, whose heap /metrics shows). */
  rootArgs?: string[];
  progress?: (line: string) => void;
}

/** heapUsedBytes: the root's main-thread V8 heap in use (the whole packet path with --workers 0). */
export interface SoakSample { t: number; rssBytes: number; lagSeconds: number; heapUsedBytes: number }

export interface SoakReport {
  seconds: number;
  alive: boolean;
  logProblems: string[];
  samples: SoakSample[];
  warmupSeconds: number;
  /** Mean RSS over the first minute (or sample window) after the warm-up, and over the last one. */
  rssBaselineBytes: number;
  rssFinalBytes: number;
  rssGrowth: number;
  lagMaxSeconds: number;
  stages: Record<string, StageReport>;
  junkSent: number;
  drops: Record<string, number>;
  rendezvousSent: number;
  relayed: number;
  peersAtEnd: number;
}

/** One cycle of mixed load (about 30 s at scale 1, plus the re-registration). */
function cycle(scale: number, admit: string[]): StageSpec[] {
  const r = (n: number): number => Math.max(1, Math.round(n * scale));
  return [
    // every peer HELLOs once a cycle, as leaves ping their roots: relay-only peers would
    // otherwise go silent towards the root and be forgotten after 500 s
    { kind: 'register', seconds: 10 },
    { kind: 'hello', rate: r(400), seconds: 6 },
    { kind: 'whois', rate: r(400), seconds: 5 },
    { kind: 'relay', rate: r(2000), seconds: 8 },
    { kind: 'echo', rate: r(200), seconds: 4 },
    { kind: 'admit', seconds: 5, identities: admit, perSourceNetwork: true },
  ];
}

export async function runSoak(o: SoakOptions): Promise<SoakReport> {
  const log = o.progress ?? (() => {});
  const cacheDir = o.cacheDir ?? join(tmpdir(), 'ztroot-fuzz-cache');
  const rootId = await loadOrCreateRootIdentity(cacheDir, log);
  const peers = await loadOrCreatePeers(o.peers, cacheDir, log);
  const cycleSeconds = 30;
  const cycles = Math.max(1, Math.ceil((o.minutes * 60) / cycleSeconds));
  const perCycleNew = 4;
  // identities with proof of work, new to this root's fresh home (the kill -9 campaign's cached pool)
  const newcomers = await loadOrCreateValidIdentities(cycles * perCycleNew, cacheDir, log);
  const home = mkdtempSync(join(tmpdir(), 'ztroot-soak-'));
  mkdirSync(join(home, 'moons.d'), { recursive: true });
  writeFileSync(join(home, 'identity.secret'), rootId.toString(true), { mode: 0o600 });
  seedIdentityDb(home, peers);
  const target = await RootTarget.spawn({ home, args: ['--validation-threads', '1', ...(o.rootArgs ?? [])] });
  let fleet: LoadgenFleet | undefined;
  const junk = createSocket('udp4');
  try {
    fleet = await LoadgenFleet.start({
      processes: 0, cacheDir, peerCount: o.peers, root: rootId.publicOnly(), host: target.udp.host, port: target.udp.port,
      engine: { sockets: 4, relayPeers: Math.min(200, o.peers / 2), protocolVersion: 12, drainMs: 500 }, progress: log,
    });
    log(`root pid ${target.pid}; registering ${o.peers} known peers`);
    const stages: Record<string, StageReport[]> = {};
    const note = (r: StageReport): void => { (stages[r.kind] ??= []).push(r); };
    note(await fleet.run({ kind: 'register', seconds: 60 }));

    // junk from the corpus's unauthenticated categories, at a low rate, all along
    const via = endpoint(target.udp.host, target.udp.port);
    const ids = fixtureIdentities();
    const corpus = new Corpus({
      root: rootId, via, captured: fixtureCapture().datagrams.map((d) => d.data), captureHosts: [],
      keyed: [{ identity: ids[0], key: keyBetween(ids[0], rootId) }],
    });
    await new Promise<void>((res) => junk.bind(0, '127.0.0.1', () => res()));
    junk.on('error', () => {});
    const rng = new Rng(o.seed);
    const junkCategories: Category[] = ['random', 'capture-mutated', 'header-rewrite', 'hello-malformed'];
    let junkSent = 0;
    const junkTimer = setInterval(() => {
      for (let i = 0; i < o.junkRate / 10; i++) {
        for (const d of corpus.generate(rng, rng.pick(junkCategories))) {
          junk.send(d, target.udp.port, '127.0.0.1');
          junkSent++;
        }
      }
    }, 100);

    const started = Date.now();
    const samples: SoakSample[] = [];
    const sample = async (): Promise<void> => {
      if (!target.running) return;
      const m = await target.metrics().catch(() => []);
      const lag = m.filter((s) => s.name === 'ztroot_event_loop_lag_seconds').reduce((x, s) => Math.max(x, s.value), 0);
      const heap = m.find((s) => s.name === 'ztroot_process_nodejs_heap_size_used_bytes')?.value ?? Number.NaN;
      samples.push({ t: (Date.now() - started) / 1000, rssBytes: target.rssBytes(), lagSeconds: lag, heapUsedBytes: heap });
    };
    const sampler = setInterval(() => void sample(), o.sampleSeconds * 1000);
    const endAt = started + o.minutes * 60_000;
    let c = 0;
    try {
      while (Date.now() < endAt && target.running) {
        for (const spec of cycle(o.scale, newcomers.slice(c * perCycleNew, (c + 1) * perCycleNew).map((i: Identity) => i.toString(true)))) {
          if (Date.now() >= endAt || !target.running) break;
          note(await fleet.run(spec));
        }
        c++;
        const last = samples.at(-1);
        if (last) log(`${((Date.now() - started) / 60_000).toFixed(1)} min: RSS ${(last.rssBytes / 2 ** 20).toFixed(1)} MiB, main heap ${(last.heapUsedBytes / 2 ** 20).toFixed(1)} MiB, lag p99 ${(last.lagSeconds * 1000).toFixed(1)} ms, junk ${junkSent}`);
      }
    } finally {
      clearInterval(sampler);
      clearInterval(junkTimer);
    }
    await sample();
    const seconds = (Date.now() - started) / 1000;
    const warmup = o.warmupSeconds ?? Math.max(30, seconds / 5);
    const window = Math.max(o.sampleSeconds * 3, Math.min(60, seconds / 10));
    const mean = (xs: SoakSample[]): number => xs.reduce((n, s) => n + s.rssBytes, 0) / Math.max(1, xs.length);
    const baseline = mean(samples.filter((s) => s.t >= warmup && s.t < warmup + window));
    const final = mean(samples.filter((s) => s.t >= seconds - window));
    const m = target.running ? await target.metrics() : [];
    return {
      seconds, alive: target.running, logProblems: target.logProblems(), samples, warmupSeconds: warmup,
      rssBaselineBytes: baseline, rssFinalBytes: final, rssGrowth: baseline > 0 ? final / baseline - 1 : Number.NaN,
      lagMaxSeconds: samples.reduce((x, s) => Math.max(x, s.lagSeconds), 0),
      // the cycles ran one after another: totals add up, and so do the seconds (mergeReports is for shards running at once)
      stages: Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, { ...mergeReports(v), seconds: v.reduce((n, r) => n + r.seconds, 0) }])),
      junkSent, drops: dropsByReason(m), rendezvousSent: counter(m, 'ztroot_rendezvous_sent_total'),
      relayed: counter(m, 'ztroot_relay_total', { outcome: 'forwarded' }), peersAtEnd: counter(m, 'ztroot_peers'),
    };
  } finally {
    junk.close();
    await fleet?.close();
    await target.dispose();
    rmSync(home, { recursive: true, force: true });
  }
}

export function soakFailures(r: SoakReport): string[] {
  const f: string[] = [];
  if (!r.alive) f.push('the root process exited');
  if (r.logProblems.length) f.push(`${r.logProblems.length} problem lines in the root's log: ${r.logProblems[0].slice(0, 300)}`);
  if (!(r.rssGrowth < 0.05)) f.push(`RSS grew ${(r.rssGrowth * 100).toFixed(1)} % after the warm-up (limit 5 %)`);
  return f;
}

export function formatSoakReport(r: SoakReport): string {
  const MiB = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MiB`;
  return [
    `soak — ${(r.seconds / 60).toFixed(1)} min; process alive: ${r.alive ? 'yes' : 'NO'}; log problems: ${r.logProblems.length}`,
    `  RSS after ${Math.round(r.warmupSeconds)} s warm-up ${MiB(r.rssBaselineBytes)}, at the end ${MiB(r.rssFinalBytes)}: ${(r.rssGrowth * 100).toFixed(2)} % (limit 5 %)`,
    `  RSS min/max over the run ${MiB(Math.min(...r.samples.map((s) => s.rssBytes)))} / ${MiB(Math.max(...r.samples.map((s) => s.rssBytes)))}; event-loop lag p99, worst sample ${(r.lagMaxSeconds * 1000).toFixed(1)} ms; ${r.samples.length} samples`,
    `  junk datagrams ${r.junkSent}; RENDEZVOUS sent ${r.rendezvousSent}; relayed ${r.relayed}; peers at the end ${r.peersAtEnd}`,
    ...Object.values(r.stages).map((s) => `  ${formatSummary(summarize(s))}`),
    `  drops by reason: ${Object.entries(r.drops).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`,
  ].join('\n');
}
