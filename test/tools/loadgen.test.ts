// The load generator (tools/loadgen): its pure parts exactly (histogram, report merging, stage
// syntax, metrics parsing, key caches), and one short run of the CLI against a real `ztroot root`
// process with a handful of seeded peers: every reply is opened and checked (--verify), nothing is
// lost at these low rates on loopback, and every stage reports answers. No assertion depends on
// how fast anything is beyond "more than zero".

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Identity } from '../../src/identity/identity.ts';
import { IdentityStore } from '../../src/node/identity-store.ts';
import { HOME_FILES } from '../../src/root/home.ts';
import { formatIp } from '../../src/wire/inet-address.ts';
import { LatencyHistogram } from '../../tools/loadgen/histogram.ts';
import { loadOrCreatePeerKeys, loadOrCreatePeers, peerIdentity, seedIdentityDb, type SyntheticPeers } from '../../tools/loadgen/key-material.ts';
import { parseStage } from '../../tools/loadgen/main.ts';
import { emptyReport, mergeReports, summarize, type StageSummary } from '../../tools/loadgen/stages.ts';
import { parseExposition, sumOf } from '../../tools/loadgen/target-stats.ts';
import { tempDir } from '../support/cli.ts';
import { removeDirs, VECTOR_IDENTITIES, writeRootHome } from '../support/root-harness.ts';
import { RootProcess } from '../support/root-process.ts';

const REPO = join(import.meta.dirname, '../..');
const LOADGEN = join(REPO, 'tools/loadgen/main.ts');

describe('latency histogram', () => {
  it('reports percentiles to within one 2 % bucket and merges exactly', () => {
    const a = new LatencyHistogram();
    for (let us = 1; us <= 1000; us++) a.record(us);
    expect(a.total).toBe(1000);
    expect(a.percentile(0.5)).toBeGreaterThanOrEqual(500);
    expect(a.percentile(0.5)).toBeLessThanOrEqual(500 * 1.02);
    expect(a.percentile(0.99)).toBeGreaterThanOrEqual(990);
    expect(a.percentile(0.99)).toBeLessThanOrEqual(990 * 1.02);
    expect(a.percentile(1)).toBe(1000);
    const b = LatencyHistogram.fromJSON(JSON.parse(JSON.stringify(a.toJSON())) as { counts: number[]; maxMicros: number });
    b.merge(a);
    expect(b.total).toBe(2000);
    expect(b.percentile(0.5)).toBe(a.percentile(0.5));
    expect(new LatencyHistogram().percentile(0.5)).toBeNaN();
  });
});

describe('stage reports', () => {
  it('merges shards: sums counts, takes the longest duration, recomputes loss', () => {
    const x = emptyReport('whois');
    Object.assign(x, { seconds: 2, sent: 100, answered: 90, bytesSent: 1000, extra: { expired: 3, firstSendEpochMs: 50, answeredAtEpochMs: 70 } });
    const y = emptyReport('whois');
    Object.assign(y, { seconds: 3, sent: 50, answered: 50, bytesSent: 500, extra: { expired: 1, firstSendEpochMs: 40, answeredAtEpochMs: 60 } });
    const m = mergeReports([x, y]);
    expect(m).toMatchObject({ kind: 'whois', seconds: 3, sent: 150, answered: 140, lost: 10, bytesSent: 1500 });
    expect(m.extra).toEqual({ expired: 4, firstSendEpochMs: 40, answeredAtEpochMs: 70 });
    const s = summarize(m);
    expect(s.answeredPerSecond).toBeCloseTo(140 / 3, 9);
    expect(s.lossPercent).toBeCloseTo((100 * 10) / 150, 9);
  });

  it('parses stage specs', () => {
    expect(parseStage('hello')).toEqual({ kind: 'hello', rate: 'max', seconds: 3 });
    expect(parseStage('relay:2500:1.5')).toEqual({ kind: 'relay', rate: 2500, seconds: 1.5 });
    expect(parseStage('register:20')).toEqual({ kind: 'register', seconds: 20 });
    expect(parseStage('flood-replay:100:2')).toEqual({ kind: 'flood', flood: 'replay', rate: 100, seconds: 2 });
    expect(() => parseStage('bogus')).toThrow(/unknown stage/);
  });
});

describe('metrics scraping', () => {
  it('sums samples whose labels match, whatever other labels they carry', () => {
    const samples = parseExposition([
      '# HELP ztroot_relay_total x',
      'ztroot_relay_total{outcome="forwarded"} 10',
      'ztroot_relay_total{outcome="forwarded",worker="1"} 5',
      'ztroot_relay_total{outcome="hop-limit"} 2',
      'ztroot_peers 7',
    ].join('\n'));
    expect(sumOf(samples, 'ztroot_relay_total', { outcome: 'forwarded' })).toBe(15);
    expect(sumOf(samples, 'ztroot_relay_total')).toBe(17);
    expect(sumOf(samples, 'ztroot_peers')).toBe(7);
  });
});

// ---------------------------------------------------------------------------------------------
// A short run against a real root
// ---------------------------------------------------------------------------------------------

const PEERS = 8;
const rootId = VECTOR_IDENTITIES[0];
let cacheDir: string;
let home: string;
let peers: SyntheticPeers;
let root: RootProcess | undefined;

beforeAll(async () => {
  cacheDir = tempDir('ztroot-loadgen-cache-');
  home = tempDir('ztroot-loadgen-root-');
  writeRootHome(home, rootId);
  peers = await loadOrCreatePeers(PEERS, cacheDir);
  seedIdentityDb(home, peers);
  root = await RootProcess.start(home);
});

afterAll(async () => {
  await root?.stop();
  removeDirs([cacheDir, home].filter(Boolean));
});

describe('key material', () => {
  it('caches peers and their keys, and seeds them into the identity cache', async () => {
    expect(existsSync(join(cacheDir, `peers-${PEERS}.bin`))).toBe(true);
    const again = await loadOrCreatePeers(PEERS, cacheDir);
    expect(again.tag).toBe(peers.tag);
    expect(again.addresses).toEqual(peers.addresses);
    const keys = await loadOrCreatePeerKeys(peers, rootId.publicOnly(), cacheDir);
    // the cached key is the one the root computes from its side
    expect(Buffer.from(keys.subarray(0, 48))).toEqual(Buffer.from(rootId.agree(peerIdentity(peers, 0))!));
    const store = new IdentityStore(join(home, HOME_FILES.identityCache));
    try {
      expect(store.size).toBe(PEERS);
      const stored = store.get(peers.addresses[3]);
      expect(stored).toBeInstanceOf(Identity);
      expect(stored!.equals(peerIdentity(peers, 3))).toBe(true);
    } finally {
      store.close();
    }
  });
});

function runLoadgen(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [LOADGEN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => { stdout += t; });
    child.stderr.setEncoding('utf8').on('data', (t: string) => { stderr += t; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 100_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('loadgen run against ztroot root', () => {
  it('registers every peer and gets verified answers to HELLO, WHOIS, ECHO and relayed packets without loss', async () => {
    const endpoint = root!.udpEndpoint;
    const r = await runLoadgen([
      'run', '--target', `${formatIp(endpoint)}/${endpoint.port}`, '--root-identity', rootId.toString(false),
      '--peers', String(PEERS), '--relay-peers', '4', '--sockets', '2', '--procs', '1', '--cache-dir', cacheDir,
      '--verify', '--json', '--drain-ms', '5000',
      // 4 request peers: HELLO 8/s and ECHO 4/s stay well inside the root's per-peer reply spacing
      '--stage', 'register:30', '--stage', 'hello:8:1', '--stage', 'whois:20:1', '--stage', 'echo:4:1', '--stage', 'relay:40:1',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const { stages } = JSON.parse(r.stdout) as { stages: StageSummary[] };
    expect(stages.map((s) => s.kind)).toEqual(['register', 'hello', 'whois', 'echo', 'relay']);
    const [register, ...rest] = stages;
    // registration retries a HELLO that went unanswered for a second, so only the outcome is exact
    expect(register.answered).toBe(PEERS);
    expect(register.extra.registered).toBe(PEERS);
    expect(register.invalid).toBe(0);
    for (const s of rest) {
      expect(s.invalid, s.kind).toBe(0);
      expect(s.sent, s.kind).toBeGreaterThan(0);
      expect(s.answered, s.kind).toBe(s.sent);
      expect(s.lossPercent, s.kind).toBe(0);
      expect(s.p50Micros, s.kind).toBeGreaterThan(0);
      expect(s.bytesReceived, s.kind).toBeGreaterThan(0);
    }
    const relay = stages[4];
    expect(relay.extra.pairs).toBe(2);
    expect(relay.extra.stale).toBe(0);
  });
});
