// The load generator's command line (README.md, "Load generator and root benchmark", has the walkthrough):
//
//   npx node tools/loadgen/main.ts seed --home <root home> --peers 10000      (root stopped)
//   npx node tools/loadgen/main.ts run --home <root home> --target 127.0.0.1/9993 --peers 10000 \
//       --stage register:30 --stage hello:max:3 --stage relay:20000:3 --procs 2
//
// Every stage is bounded in time; the process exits when the last one is done (or on Ctrl-C).

import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { parseAddress } from '../../src/identity/address.ts';
import { parseIdentity, type Identity } from '../../src/identity/identity.ts';
import { HOME_FILES } from '../../src/root/home.ts';
import { parseInetAddress } from '../../src/wire/inet-address.ts';
import { LoadgenFleet } from './fleet.ts';
import { defaultCacheDir, loadOrCreatePeerKeys, loadOrCreatePeers, loadOrCreateValidIdentities, seedIdentityDb } from './key-material.ts';
import { formatSummary, summarize, type StageReport, type StageSpec } from './stages.ts';

const STAGE_HELP = `stages (repeat --stage; run in order):
  register[:seconds]              HELLO every peer until each is answered once (default 60 s)
  hello|whois|echo[:rate[:seconds]]   known-peer requests at rate/s ("max"); HELLO and ECHO are
                                  capped by the root's per-peer reply spacing (250/500 ms)
  relay[:rate[:seconds]]          packets between pairs of peers through the root
  admit[:seconds]                 HELLO from --admit identities with proof of work, new to the root
  flood-unknown|flood-invalid|flood-replay[:rate[:seconds]]
                                  HELLO flood from one extra socket; reports bytes back / bytes in
  attack[:floodRate[:helloRate[:seconds]]]
                                  known-peer HELLOs at helloRate (default 5000/s) while fresh
                                  invalid identities HELLO at floodRate (default 2000/s) from
                                  255 source /24s (127.k.1.1; loopback targets) for 10 s
rate defaults to "max", seconds to 3.`;

function positive(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a non-negative number');
  return n;
}

/** `kind[:rate][:seconds]` → a stage (admit identities are filled in later). */
export function parseStage(text: string): StageSpec {
  const [kind, a, b, c] = text.split(':');
  const rate = (v: string | undefined): number | 'max' => (v === undefined || v === 'max' ? 'max' : positive(v));
  const secs = (v: string | undefined, d: number): number => (v === undefined ? d : positive(v));
  switch (kind) {
    case 'register': return { kind, seconds: secs(a, 60) };
    case 'admit': return { kind, seconds: secs(a, 30), identities: [], perSourceNetwork: true };
    case 'hello': case 'whois': case 'echo': case 'relay': return { kind, rate: rate(a), seconds: secs(b, 3) };
    case 'flood-unknown': case 'flood-invalid': case 'flood-replay': {
      const r = rate(a);
      return { kind: 'flood', flood: kind.slice(6) as 'unknown' | 'invalid' | 'replay', rate: r === 'max' ? 5000 : r, seconds: secs(b, 3) };
    }
    case 'attack': return { kind, floodRate: a === undefined ? 2000 : positive(a), helloRate: b === undefined ? 5000 : positive(b), seconds: secs(c, 10), networks: 255 };
    default: throw new InvalidArgumentError(`unknown stage "${kind}"`);
  }
}

function readRootIdentity(flags: { rootIdentity?: string; home?: string }): Identity {
  let text = flags.rootIdentity;
  if (text && existsSync(text)) text = readFileSync(text, 'utf8');
  if (!text && flags.home) text = readFileSync(join(flags.home, HOME_FILES.identityPublic), 'utf8');
  if (!text) throw new Error('give --root-identity <identity or file> or --home <root home>');
  const id = parseIdentity(text.trim());
  if (!id) throw new Error('the root identity does not parse');
  return id.publicOnly();
}

interface RunFlags {
  target: string; home?: string; rootIdentity?: string; peers: number; stage: StageSpec[]; procs: number; sockets: number;
  relayPeers: number; protocol: number; verify?: boolean; admit: number; moon?: string; whois?: string; cacheDir: string; json?: boolean;
  drainMs: number;
  window?: number;
}

async function run(flags: RunFlags): Promise<void> {
  const target = parseInetAddress(flags.target);
  if (!target) throw new Error(`--target must be IP/port, got ${flags.target}`);
  const host = flags.target.slice(0, flags.target.lastIndexOf('/'));
  const root = readRootIdentity(flags);
  const stages = (flags.stage.length > 0 ? flags.stage : ['register', 'hello', 'whois', 'echo', 'relay'].map(parseStage))
    .map((s) => (flags.window !== undefined && 'rate' in s && s.kind !== 'flood' ? { ...s, window: flags.window } : s));
  const progress = (m: string): void => void process.stderr.write(`${m}\n`);
  const admitting = stages.find((s) => s.kind === 'admit');
  const admitIdentities = admitting ? (await loadOrCreateValidIdentities(flags.admit, flags.cacheDir, progress)).map((i) => i.toString(true)) : [];
  const fleet = await LoadgenFleet.start({
    processes: flags.procs, cacheDir: flags.cacheDir, peerCount: flags.peers, root, host, port: target.port, progress,
    engine: {
      sockets: flags.sockets, relayPeers: flags.relayPeers, protocolVersion: flags.protocol, verify: flags.verify === true, drainMs: flags.drainMs,
      moonId: flags.moon ? BigInt(`0x${flags.moon}`) : undefined,
      whoisAddresses: flags.whois?.split(',').map((a) => {
        const p = parseAddress(a.trim());
        if (p === null) throw new Error(`--whois: not an address: ${a}`);
        return p;
      }),
    },
  });
  const stop = (): void => {
    fleet.killNow();
    process.exit(130);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const reports: StageReport[] = [];
  try {
    for (const s of stages) {
      const report = await fleet.run((shard) => (s.kind === 'admit'
        ? { ...s, identities: admitIdentities.filter((_, k) => k % fleet.shards === shard) }
        : (s.kind === 'flood' || s.kind === 'attack') && shard > 0 ? undefined : s));
      reports.push(report);
      if (!flags.json) process.stdout.write(`${formatSummary(summarize(report))}\n`);
    }
  } finally {
    await fleet.close();
  }
  if (flags.json) process.stdout.write(`${JSON.stringify({ stages: reports.map(summarize) }, null, 2)}\n`);
}

async function seed(flags: { home: string; peers: number; filler: number; cacheDir: string }): Promise<void> {
  const progress = (m: string): void => void process.stderr.write(`${m}\n`);
  const peers = await loadOrCreatePeers(flags.peers, flags.cacheDir, progress);
  const started = performance.now();
  seedIdentityDb(flags.home, peers, flags.filler);
  process.stdout.write(`seeded ${peers.count} peers and ${flags.filler} other identities into ${join(flags.home, HOME_FILES.identityCache)} in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
}

async function keys(flags: { home?: string; rootIdentity?: string; peers: number; cacheDir: string }): Promise<void> {
  const progress = (m: string): void => void process.stderr.write(`${m}\n`);
  const peers = await loadOrCreatePeers(flags.peers, flags.cacheDir, progress);
  await loadOrCreatePeerKeys(peers, readRootIdentity(flags), flags.cacheDir, progress);
  process.stdout.write(`key material for ${peers.count} peers is cached in ${flags.cacheDir}\n`);
}

export function buildProgram(): Command {
  const program = new Command('loadgen').description('simulate many ZeroTier leaves against a ztroot root (or any 1.14 root)');
  const collect = (v: string, prev: StageSpec[]): StageSpec[] => [...prev, parseStage(v)];
  program.command('run')
    .description('drive a root through stages and report achieved rates, loss and latency')
    .option('--target <ip/port>', 'root UDP endpoint', '127.0.0.1/9993')
    .option('--home <dir>', "the root's home (its identity.public names the root)")
    .option('--root-identity <identity|file>', "the root's public identity (instead of --home)")
    .option('--peers <n>', 'synthetic known peers (seed them into the root first: loadgen seed)', positive, 1000)
    .option('--stage <spec>', 'a stage, repeatable (see below)', collect, [])
    .option('--procs <n>', 'load generator processes (0: this one)', positive, 1)
    .option('--sockets <n>', 'UDP sockets per process (a root with SO_REUSEPORT workers spreads by flow)', positive, 8)
    .option('--relay-peers <n>', 'peers per process that carry relayed traffic (pairs); the rest send requests', positive, 64)
    .option('--protocol <v>', 'protocol version our HELLOs advertise (12: replies use AES-GMAC-SIV; 11: Salsa20/12)', positive, 12)
    .option('--verify', 'open every reply and check it is the expected OK (costs the generator a dearmor per reply)')
    .option('--admit <n>', 'identities with proof of work for the admit stage (generated once, ~1 s each)', positive, 64)
    .option('--moon <id>', 'moon ID (hex) the replay flood asks for with timestamp 0, so OK(HELLO) carries the moon')
    .option('--whois <addresses>', 'comma-separated addresses WHOIS asks about (default: the synthetic peers)')
    .option('--window <n>', 'unanswered packets per process in "max" stages (default 128: fits a default socket buffer)', positive)
    .option('--drain-ms <ms>', 'after a stage stops sending, wait at most this long for the last answers', positive, 1000)
    .option('--cache-dir <dir>', 'where generated key material is cached', defaultCacheDir())
    .option('--json', 'print the stage summaries as JSON')
    .addHelpText('after', `\n${STAGE_HELP}`)
    .action((flags: RunFlags) => run(flags));
  program.command('seed')
    .description("insert the synthetic peers into a root home's identities.db (stop the root first)")
    .requiredOption('--home <dir>', "the root's home")
    .option('--peers <n>', 'synthetic peers', positive, 1000)
    .option('--filler <n>', 'further random identities (a large identity cache)', positive, 0)
    .option('--cache-dir <dir>', 'where generated key material is cached', defaultCacheDir())
    .action((flags: { home: string; peers: number; filler: number; cacheDir: string }) => seed(flags));
  program.command('keys')
    .description('generate and cache the key material for a root ahead of time')
    .option('--home <dir>', "the root's home")
    .option('--root-identity <identity|file>', "the root's public identity")
    .option('--peers <n>', 'synthetic peers', positive, 1000)
    .option('--cache-dir <dir>', 'where generated key material is cached', defaultCacheDir())
    .action((flags: { home?: string; rootIdentity?: string; peers: number; cacheDir: string }) => keys(flags));
  return program;
}

if (import.meta.main) {
  buildProgram().parseAsync(process.argv).catch((e: unknown) => {
    process.stderr.write(`loadgen: ${(e as Error).message}\n`);
    process.exitCode = 1;
  });
}
