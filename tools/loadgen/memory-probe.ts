// Memory per known peer, measured in one process (run with --expose-gc):
//
//   npx node --expose-gc tools/loadgen/memory-probe.ts --peers 1000000 --mode root
//
// mode root: the node core's state for N known peers, built through the node core itself —
//   each identity fetched from a seeded identity cache (SQLite + its in-memory LRU, as a HELLO
//   from a cached identity does), a Peer with its key material added to the node, and one IPv4
//   path remembered (in the peer and in the peer table, sized as RootServer sizes it). What it
//   skips is the key agreement (a random 48-byte key stands in: same size, ~0.3 ms less per peer).
// mode forwarder: what tools/bench/forwarder.ts keeps per address (a Map entry and an endpoint).
//
// Prints one JSON line: heap+external bytes per peer after a full GC, RSS delta per peer, time.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { agreementPublicKey } from '../../src/crypto/c25519.ts';
import { Identity } from '../../src/identity/identity.ts';
import { IdentityStore } from '../../src/node/identity-store.ts';
import { Node } from '../../src/node/node.ts';
import { Peer } from '../../src/node/peer.ts';
import { SharedPeerTable } from '../../src/node/shared-peer-table.ts';
import { Topology } from '../../src/node/topology.ts';
import { UdpTransport, type LocalSocket } from '../../src/node/udp.ts';
import type { IdentityValidator } from '../../src/node/validation-pool.ts';
import { defaultConfig } from '../../src/root/config.ts';
import { HOME_FILES } from '../../src/root/home.ts';
import { ipv4 } from '../../src/wire/inet-address.ts';
import { randomAddresses, seedIdentityDb, type SyntheticPeers } from './key-material.ts';

export interface MemoryProbeResult {
  mode: 'root' | 'forwarder';
  peers: number;
  heapBytesPerPeer: number;
  rssBytesPerPeer: number;
  buildSeconds: number;
  /** The peer table's whole reservation (64-byte slots) divided by the peers, bytes. */
  peerTableBytesPerPeer?: number;
}

const gc = (globalThis as { gc?: () => void }).gc;

function settle(): NodeJS.MemoryUsage {
  if (!gc) throw new Error('run with node --expose-gc');
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage();
}

/** The IPv4 endpoint of peer i: distinct for every peer, as real leaves' addresses are. */
function endpointOf(i: number): { ip: Uint8Array; port: number } {
  return { ip: Uint8Array.of(10, (i >>> 16) & 0xff, (i >>> 8) & 0xff, i & 0xff), port: 1024 + (i >>> 24) };
}

function probeForwarder(n: number): MemoryProbeResult {
  const paths = new Map<number, { address: string; port: number }>();
  const addresses = randomAddresses(n);
  const m0 = settle();
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    const e = endpointOf(i);
    paths.set(addresses[i], { address: `${e.ip[0]}.${e.ip[1]}.${e.ip[2]}.${e.ip[3]}`, port: e.port });
  }
  const buildSeconds = (performance.now() - started) / 1000;
  const m1 = settle();
  if (paths.size !== n) throw new Error('probe: map lost entries');
  return {
    mode: 'forwarder', peers: n, buildSeconds,
    heapBytesPerPeer: (m1.heapUsed + m1.external - m0.heapUsed - m0.external) / n,
    rssBytesPerPeer: (m1.rss - m0.rss) / n,
  };
}

function probeRoot(n: number): MemoryProbeResult {
  const dir = mkdtempSync(join(tmpdir(), 'ztroot-memory-probe-'));
  try {
    const addresses = randomAddresses(n + 1);
    const selfAddress = addresses.pop()!;
    // identities in the cache: only their public keys matter here (no key agreement is done)
    const peers: SyntheticPeers = { count: n, tag: '0', addresses, privates: new Uint8Array(0), publics: new Uint8Array(randomBytes(64 * n)) };
    seedIdentityDb(dir, peers);
    const priv = new Uint8Array(randomBytes(64));
    const pub = new Uint8Array(64);
    pub.set(agreementPublicKey(priv), 0);
    const self = new Identity(selfAddress, pub, priv);
    const config = defaultConfig();
    const store = new IdentityStore(join(dir, HOME_FILES.identityCache), { cacheEntries: config.identityCacheEntries });
    const validation: IdentityValidator = {
      submit: () => Promise.resolve('closed'), queueDepth: 0, inFlight: 0, close: () => Promise.resolve(),
    };
    // sized as RootServer sizes the table it shares between workers
    const peerTable = SharedPeerTable.forPeers(Math.max(config.maxPeers, n));
    const node = new Node({
      identity: self, transport: new UdpTransport(), topology: new Topology(self.address), store, validation, peerTable,
      relayMaxHops: 3, protocolVersion: 11, pathLearning: 'authenticated', peerCacheEntries: config.peerCacheEntries,
    });
    const socket: LocalSocket = { index: 0, address: '0.0.0.0', port: 9993, family: 4 };
    const keys = new Uint8Array(randomBytes(48 * Math.min(n, 65536)));
    const m0 = settle();
    const started = performance.now();
    const now = Date.now();
    for (let i = 0; i < n; i++) {
      const identity = store.get(addresses[i]);
      if (!identity) throw new Error('probe: seeded identity missing');
      const j = i % 65536;
      const peer = node.addPeer(identity, new Peer(identity, keys.subarray(48 * j, 48 * j + 48)));
      if (!peer) throw new Error('probe: addPeer refused');
      const e = endpointOf(i);
      node.rememberPath(peer, ipv4(e.ip, e.port), socket, now);
    }
    const buildSeconds = (performance.now() - started) / 1000;
    const m1 = settle();
    // every peer is in the shared table; the thread keeps at most peerCacheEntries peer objects
    if (peerTable.size !== n) throw new Error('probe: peers lost');
    if (node.peers.size !== Math.min(n, config.peerCacheEntries)) throw new Error('probe: peer cache not bounded as configured');
    store.close();
    return {
      mode: 'root', peers: n, buildSeconds, peerTableBytesPerPeer: peerTable.buffer.byteLength / n,
      heapBytesPerPeer: (m1.heapUsed + m1.external - m0.heapUsed - m0.external) / n,
      rssBytesPerPeer: (m1.rss - m0.rss) / n,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { peers: { type: 'string', default: '100000' }, mode: { type: 'string', default: 'root' } } });
  const n = Number(values.peers);
  const result = values.mode === 'forwarder' ? probeForwarder(n) : probeRoot(n);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
