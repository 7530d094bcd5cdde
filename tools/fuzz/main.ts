// `npm run fuzz` — the abuse campaign against a `ztroot root` it starts itself on loopback
// (README.md, "Abuse and failure campaign"):
//
//   npm run fuzz -- [--packets N] [--seed S] [--rate R] [--transports on,off] [--json FILE]
//   npm run fuzz -- --target HOST:PORT --target-identity FILE|IDENTITY [--metrics-url URL --metrics-token T]
//   npm run fuzz -- http [--roles root,leaf,controller] [--seed S] [--json FILE]
//   npm run fuzz -- leaf [--packets N] [--ethernet N] [--seed S] [--json FILE]
//
// Every run is bounded (packets at a bounded rate, then a fixed drain); the root it starts is
// killed on exit. Exit status 1 when a campaign fails (process died, errors logged, known peers
// not answered, amplification, HTTP expectations).

import { writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { formatSoakReport, runSoak, soakFailures } from './soak.ts';
import { formatKill9Report, kill9Failures, runKill9Campaign } from './kill9.ts';
import { formatHttpReport, httpFailures, runHttpCampaign } from './http.ts';
import type { TargetRole } from './target.ts';
import { formatLeafReport, leafFailures, runLeafCampaign } from './leaf.ts';
import { datagramFailures, formatDatagramReport, runDatagramCampaign, runLiveDatagramCampaign, type DatagramReport } from './datagrams.ts';

function int(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
}

const program = new Command('fuzz');

program
  .command('datagrams', { isDefault: true })
  .description('hostile datagrams against a spawned root, in each UDP transport, or against a running one (--target)')
  .option('--packets <n>', 'hostile datagrams in all (split evenly between transports)', int, 200_000)
  .option('--seed <n>', 'PRNG seed (same seed, same datagrams)', int, 1)
  .option('--rate <n>', 'datagrams per second, at most', int, 20_000)
  .option('--transports <list>', 'root --native-udp modes to run, comma-separated (on, off, auto)', 'on,off')
  .option('--workers <n>', 'packet workers of the root (default: its own: one, more up to one per core while busy)', int)
  .option('--sockets <n>', 'source sockets per category, each on its own 127.c.k.1', int, 16)
  .option('--target <host:port>', 'a root already running there instead of a spawned one (its UDP endpoint)')
  .option('--target-identity <file|identity>', 'with --target: its identity.public (a file, or the identity itself)')
  .option('--metrics-url <url>', 'with --target: its /metrics, for drop counters and RSS')
  .option('--metrics-token <token>', 'with --metrics-url: the bearer token')
  .option('--json <file>', 'also write the reports as JSON')
  .action(async (flags: {
    packets: number; seed: number; rate: number; transports: string; workers?: number; sockets: number; json?: string;
    target?: string; targetIdentity?: string; metricsUrl?: string; metricsToken?: string;
  }) => {
    if (flags.target && !flags.targetIdentity) program.error('--target needs --target-identity');
    const modes = flags.target ? ['live'] : flags.transports.split(',').map((s) => s.trim()).filter(Boolean) as ('on' | 'off' | 'auto')[];
    const reports: DatagramReport[] = [];
    let failed = false;
    for (const [i, mode] of modes.entries()) {
      const common = {
        packets: Math.ceil(flags.packets / modes.length), seed: flags.seed + i, rate: flags.rate, nativeUdp: 'auto' as const,
        workers: flags.workers, socketsPerCategory: flags.sockets, progress: (l: string) => console.error(`[${mode}] ${l}`),
      };
      const r = mode === 'live'
        ? await runLiveDatagramCampaign({ ...common, target: flags.target!, targetIdentity: flags.targetIdentity!, metricsUrl: flags.metricsUrl, metricsToken: flags.metricsToken })
        : await runDatagramCampaign({ ...common, nativeUdp: mode as 'on' | 'off' | 'auto' });
      reports.push(r);
      console.log(formatDatagramReport(r));
      const f = datagramFailures(r);
      for (const x of f) console.log(`  FAIL: ${x}`);
      console.log(f.length === 0 ? '  PASS' : '');
      failed ||= f.length > 0;
    }
    if (flags.json) writeFileSync(flags.json, JSON.stringify(reports, null, 2));
    process.exitCode = failed ? 1 : 0;
  });

program
  .command('http')
  .description('every route of the one HTTP listener, as each role serves it: tokens, path tricks, methods, malformed and slow requests, many connections')
  .option('--roles <list>', 'comma-separated: root, leaf, controller', 'root,leaf,controller')
  .option('--seed <n>', 'PRNG seed', int, 1)
  .option('--slow <n>', 'slowloris connections', int, 200)
  .option('--concurrent <n>', 'requests at once', int, 400)
  .option('--json <file>', 'also write the reports as JSON')
  .action(async (flags: { roles: string; seed: number; slow: number; concurrent: number; json?: string }) => {
    const roles = flags.roles.split(',').map((x) => x.trim()).filter(Boolean);
    const bad = roles.filter((r) => !['root', 'leaf', 'controller'].includes(r));
    if (bad.length > 0) throw new InvalidArgumentError(`--roles: not a role: ${bad.join(', ')}`);
    const reports = [];
    let failed = false;
    for (const role of roles as TargetRole[]) {
      const r = await runHttpCampaign({ role, seed: flags.seed, slowConnections: flags.slow, concurrent: flags.concurrent, progress: (l) => console.error(`[http ${role}] ${l}`) });
      reports.push(r);
      console.log(formatHttpReport(r));
      const f = httpFailures(r);
      console.log(f.length === 0 ? '  PASS' : f.map((x) => `  FAIL: ${x}`).join('\n'));
      failed ||= f.length > 0;
    }
    if (flags.json) writeFileSync(flags.json, JSON.stringify(reports, null, 2));
    process.exitCode = failed ? 1 : 0;
  });

program
  .command('leaf')
  .description('a leaf joined to a network: hostile datagrams (network configs, credentials, frames too) and junk on its Ethernet side')
  .option('--packets <n>', 'hostile datagrams', int, 100_000)
  .option('--ethernet <n>', 'junk frames into its Ethernet side', int, 20_000)
  .option('--seed <n>', 'PRNG seed', int, 1)
  .option('--rate <n>', 'datagrams per second, at most', int, 5000)
  .option('--sockets <n>', 'source sockets per category', int, 8)
  .option('--json <file>', 'also write the report as JSON')
  .action(async (flags: { packets: number; ethernet: number; seed: number; rate: number; sockets: number; json?: string }) => {
    const r = await runLeafCampaign({ packets: flags.packets, ethernetFrames: flags.ethernet, seed: flags.seed, rate: flags.rate, socketsPerCategory: flags.sockets, progress: (l) => console.error(`[leaf] ${l}`) });
    console.log(formatLeafReport(r));
    const f = leafFailures(r);
    console.log(f.length === 0 ? '  PASS' : f.map((x) => `  FAIL: ${x}`).join('\n'));
    if (flags.json) writeFileSync(flags.json, JSON.stringify(r, null, 2));
    process.exitCode = f.length === 0 ? 0 : 1;
  });

program
  .command('kill9')
  .description('rounds of kill -9 while new identities are validated and written; the identity cache must stay whole')
  .option('--rounds <n>', 'rounds', int, 100)
  .option('--seed <n>', 'PRNG seed (kill moments)', int, 1)
  .option('--peers <n>', 'new identities registering in each round', int, 24)
  .option('--kill-within <ms>', 'the kill lands in [0, ms) after registration starts', int, 400)
  .option('--json <file>', 'also write the report as JSON')
  .action(async (flags: { rounds: number; seed: number; peers: number; killWithin: number; json?: string }) => {
    const r = await runKill9Campaign({ rounds: flags.rounds, seed: flags.seed, peersPerRound: flags.peers, killWithinMs: flags.killWithin, progress: (l) => console.error(`[kill9] ${l}`) });
    console.log(formatKill9Report(r));
    const f = kill9Failures(r);
    console.log(f.length === 0 ? '  PASS' : f.map((x) => `  FAIL: ${x}`).join('\n'));
    if (flags.json) writeFileSync(flags.json, JSON.stringify(r, null, 2));
    process.exitCode = f.length === 0 ? 0 : 1;
  });

program
  .command('soak')
  .description('mixed load (HELLO churn, WHOIS, ECHO, relay with RENDEZVOUS, junk) with RSS and event-loop lag sampled')
  .option('--minutes <n>', 'duration', Number, 30)
  .option('--warmup <s>', 'seconds before the RSS baseline (default: a fifth of the run, at least 30)', Number)
  .option('--peers <n>', 'known peers', int, 2000)
  .option('--junk-rate <n>', 'hostile datagrams per second throughout', int, 200)
  .option('--scale <x>', 'multiplies the load rates', Number, 1)
  .option('--sample <s>', 'seconds between samples', Number, 5)
  .option('--seed <n>', 'PRNG seed', int, 1)
  .option('--root-args <args>', 'extra ztroot root flags, space-separated (e.g. "--workers 0")')
  .option('--json <file>', 'also write the report (with every sample) as JSON')
  .action(async (flags: { minutes: number; warmup?: number; peers: number; junkRate: number; scale: number; sample: number; seed: number; rootArgs?: string; json?: string }) => {
    const r = await runSoak({
      minutes: flags.minutes, warmupSeconds: flags.warmup, peers: flags.peers, junkRate: flags.junkRate, scale: flags.scale,
      sampleSeconds: flags.sample, seed: flags.seed, rootArgs: flags.rootArgs?.split(/\s+/).filter(Boolean), progress: (l) => console.error(`[soak] ${l}`),
    });
    console.log(formatSoakReport(r));
    const f = soakFailures(r);
    console.log(f.length === 0 ? '  PASS' : f.map((x) => `  FAIL: ${x}`).join('\n'));
    if (flags.json) writeFileSync(flags.json, JSON.stringify(r, null, 2));
    process.exitCode = f.length === 0 ? 0 : 1;
  });

await program.parseAsync();
