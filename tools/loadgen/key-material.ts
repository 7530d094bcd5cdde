// Key material for the load generator, generated once and cached in files (default
// $TMPDIR/ztroot-loadgen/), because the curve and proof-of-work operations behind it are slow:
//
// - synthetic peers: random 40-bit addresses with X25519 key pairs and no proof of work. A root
//   accepts them as known peers only because they are pre-seeded into its identity cache
//   (seedIdentityDb), the way it trusts every identity it validated before a restart.
// - the 48-byte keys those peers share with one root identity (one file per root identity).
// - identities with valid proof of work (~1 s each to make), for measuring admission of new ones.
// - a root identity for benchmarks, so that the two caches above stay valid from run to run.
//
// Files are written atomically (temp file + rename), so an interrupted run leaves no half file.

import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { formatAddress, isReservedAddress, readAddress, writeAddress, type Address } from '../../src/identity/address.ts';
import { Identity, parseIdentity } from '../../src/identity/identity.ts';
import { IdentityStore } from '../../src/node/identity-store.ts';
import { HOME_FILES } from '../../src/root/home.ts';
import { toHex } from '../../src/util/hex.ts';
import type { KeygenRequest, KeygenResponse, KeygenTask } from './keygen-worker.ts';
import { newWorker } from '../../src/boot/new-worker.ts';

export type Progress = (message: string) => void;

/** Where caches live unless a directory is given: $TMPDIR/ztroot-loadgen. */
export function defaultCacheDir(): string {
  return join(tmpdir(), 'ztroot-loadgen');
}

function writeAtomic(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

// ---------------------------------------------------------------------------------------------
// A small pool of worker threads for the batches
// ---------------------------------------------------------------------------------------------

async function runBatches(requests: KeygenTask[], onDone?: (done: number) => void): Promise<KeygenResponse[]> {
  const threads = Math.max(1, Math.min(availableParallelism(), requests.length));
  const results = new Array<KeygenResponse>(requests.length);
  let next = 0;
  let done = 0;
  const workers = Array.from({ length: threads }, () => newWorker(new URL('./keygen-worker.ts', import.meta.url)));
  try {
    await Promise.all(workers.map((w) => new Promise<void>((resolve, reject) => {
      const feed = (): void => {
        if (next >= requests.length) return resolve();
        const id = next++;
        w.postMessage({ ...requests[id], id } as KeygenRequest);
      };
      w.on('message', (res: KeygenResponse) => {
        results[res.id] = res;
        onDone?.(++done);
        feed();
      });
      w.on('error', reject);
      feed();
    })));
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results;
}

// ---------------------------------------------------------------------------------------------
// Synthetic peers
// ---------------------------------------------------------------------------------------------

/** `count` synthetic peers in flat arrays (index i = peer i). */
export interface SyntheticPeers {
  readonly count: number;
  /** Random tag of the cache file; caches derived from these peers record it. */
  readonly tag: string;
  readonly addresses: readonly Address[];
  /** 32-byte X25519 private keys, back to back. */
  readonly privates: Uint8Array;
  /** 64-byte public keys (X25519 ‖ 32 random bytes), back to back. */
  readonly publics: Uint8Array;
}

const PEERS_MAGIC = 'ZTLGPER1';
const KEYS_MAGIC = 'ZTLGKEY1';
const BATCH = 250;

/** Unique random addresses that are not reserved, avoiding `taken`. */
export function randomAddresses(count: number, taken: ReadonlySet<Address> = new Set()): Address[] {
  const seen = new Set<Address>(taken);
  const out: Address[] = [];
  while (out.length < count) {
    const bytes = randomBytes(5 * Math.max(64, count - out.length));
    for (let o = 0; o + 5 <= bytes.length && out.length < count; o += 5) {
      const a = readAddress(bytes, o);
      if (isReservedAddress(a) || seen.has(a)) continue;
      seen.add(a);
      out.push(a);
    }
  }
  return out;
}

function encodePeers(p: SyntheticPeers): Uint8Array {
  const out = new Uint8Array(24 + p.count * (5 + 32 + 64));
  out.set(Buffer.from(PEERS_MAGIC, 'latin1'), 0);
  new DataView(out.buffer).setUint32(8, p.count);
  out.set(Buffer.from(p.tag, 'hex'), 16);
  let o = 24;
  for (const a of p.addresses) {
    writeAddress(a, out, o);
    o += 5;
  }
  out.set(p.privates, o);
  out.set(p.publics, o + 32 * p.count);
  return out;
}

function decodePeers(b: Uint8Array): SyntheticPeers | undefined {
  if (b.length < 24 || Buffer.from(b.subarray(0, 8)).toString('latin1') !== PEERS_MAGIC) return undefined;
  const count = new DataView(b.buffer, b.byteOffset).getUint32(8);
  if (b.length !== 24 + count * (5 + 32 + 64)) return undefined;
  const addresses: Address[] = [];
  let o = 24;
  for (let i = 0; i < count; i++, o += 5) addresses.push(readAddress(b, o));
  return {
    count, tag: toHex(b.subarray(16, 24)), addresses,
    privates: b.slice(o, o + 32 * count), publics: b.slice(o + 32 * count, o + 96 * count),
  };
}

/**
 * What the simulated leaves are: `synthetic` key pairs without proof of work (a root takes them
 * only from a seeded identity cache), or `proof-of-work` identities any ZeroTier root accepts
 * on their first HELLO (made from `valid-identities.txt`; what zerotier-one is measured with).
 */
export type PeerKind = 'synthetic' | 'proof-of-work';

/** Load `peers-<count>.bin` (`peers-pow-<count>.bin`) from the cache, or generate (on every core) and save it. */
export async function loadOrCreatePeers(count: number, dir = defaultCacheDir(), progress: Progress = () => {}, kind: PeerKind = 'synthetic'): Promise<SyntheticPeers> {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, kind === 'synthetic' ? `peers-${count}.bin` : `peers-pow-${count}.bin`);
  if (existsSync(path)) {
    const p = decodePeers(new Uint8Array(readFileSync(path)));
    if (p && p.count === count) return p;
  }
  if (kind === 'proof-of-work') {
    const ids = await loadOrCreateValidIdentities(count, dir, progress);
    const peers: SyntheticPeers = {
      count, tag: toHex(randomBytes(8)), addresses: ids.map((id) => id.address),
      privates: concatBytes(ids.map((id) => id.privateKey!.subarray(0, 32))), publics: concatBytes(ids.map((id) => id.publicKey)),
    };
    writeAtomic(path, encodePeers(peers));
    return peers;
  }
  progress(`generating ${count} synthetic peer key pairs (cached in ${path}) …`);
  const started = performance.now();
  const sizes: number[] = [];
  for (let left = count; left > 0; left -= BATCH) sizes.push(Math.min(BATCH, left));
  const res = await runBatches(sizes.map((n) => ({ task: 'pairs' as const, count: n })));
  const privates = new Uint8Array(32 * count);
  const publics = new Uint8Array(64 * count);
  let i = 0;
  for (const r of res) {
    if (r.task !== 'pairs') throw new Error('keygen: unexpected answer');
    privates.set(r.privates, 32 * i);
    publics.set(r.publics, 64 * i);
    i += r.privates.length / 32;
  }
  const peers: SyntheticPeers = { count, tag: toHex(randomBytes(8)), addresses: randomAddresses(count), privates, publics };
  writeAtomic(path, encodePeers(peers));
  progress(`  done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return peers;
}

function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Peer i's public identity (what a root stores and hands out in OK(WHOIS)). */
export function peerIdentity(peers: SyntheticPeers, i: number): Identity {
  return new Identity(peers.addresses[i], peers.publics.slice(64 * i, 64 * i + 64));
}

/** Peer i's 64-byte private key as the curve code expects it (X25519 half first). */
export function peerPrivateKey(peers: SyntheticPeers, i: number): Uint8Array {
  const k = new Uint8Array(64);
  k.set(peers.privates.subarray(32 * i, 32 * i + 32), 0);
  return k;
}

/**
 * The 48-byte keys peers share with `root` (index i = peer i, back to back), from
 * `keys-<count>-<tag>-<root address>.bin` or computed on every core and saved.
 */
export async function loadOrCreatePeerKeys(peers: SyntheticPeers, root: Identity, dir = defaultCacheDir(), progress: Progress = () => {}): Promise<Uint8Array> {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `keys-${peers.count}-${peers.tag}-${formatAddress(root.address)}.bin`);
  const headerLength = 8 + 4 + 8 + 64;
  if (existsSync(path)) {
    const b = new Uint8Array(readFileSync(path));
    const ok = b.length === headerLength + 48 * peers.count &&
      Buffer.from(b.subarray(0, 8)).toString('latin1') === KEYS_MAGIC &&
      toHex(b.subarray(12, 20)) === peers.tag &&
      Buffer.compare(b.subarray(20, 84), root.publicKey) === 0;
    if (ok) return b.slice(headerLength);
  }
  progress(`agreeing keys of ${peers.count} synthetic peers with root ${formatAddress(root.address)} (cached in ${path}) …`);
  const started = performance.now();
  const requests: KeygenTask[] = [];
  for (let i = 0; i < peers.count; i += BATCH) {
    requests.push({ task: 'agree', privates: peers.privates.slice(32 * i, 32 * Math.min(peers.count, i + BATCH)), peerPublic: root.publicKey });
  }
  const res = await runBatches(requests);
  const keys = new Uint8Array(48 * peers.count);
  let o = 0;
  for (const r of res) {
    if (r.task !== 'agree') throw new Error('keygen: unexpected answer');
    keys.set(r.keys, o);
    o += r.keys.length;
  }
  const file = new Uint8Array(headerLength + keys.length);
  file.set(Buffer.from(KEYS_MAGIC, 'latin1'), 0);
  new DataView(file.buffer).setUint32(8, peers.count);
  file.set(Buffer.from(peers.tag, 'hex'), 12);
  file.set(root.publicKey, 20);
  file.set(keys, headerLength);
  writeAtomic(path, file);
  progress(`  done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return keys;
}

// ---------------------------------------------------------------------------------------------
// Identities with valid proof of work
// ---------------------------------------------------------------------------------------------

async function generateIdentities(count: number, progress: Progress, what: string): Promise<Identity[]> {
  const started = performance.now();
  let last = 0;
  const res = await runBatches(Array.from({ length: count }, () => ({ task: 'identities' as const, count: 1 })), (done) => {
    if (done === count || performance.now() - last > 5000) {
      last = performance.now();
      progress(`  ${what}: ${done}/${count} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
    }
  });
  return res.flatMap((r) => (r.task === 'identities' ? r.secrets : [])).map((s) => {
    const id = parseIdentity(s);
    if (!id) throw new Error('keygen: generated identity does not parse');
    return id;
  });
}

/** `count` identities with valid proof of work (secrets included), from `valid-identities.txt`, topped up as needed. */
export async function loadOrCreateValidIdentities(count: number, dir = defaultCacheDir(), progress: Progress = () => {}): Promise<Identity[]> {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'valid-identities.txt');
  const have = existsSync(path)
    ? readFileSync(path, 'utf8').split('\n').map((l) => parseIdentity(l.trim())).filter((i): i is Identity => i !== null && i.hasPrivate)
    : [];
  if (have.length < count) {
    progress(`generating ${count - have.length} identities with proof of work (about a second each per core; cached in ${path}) …`);
    have.push(...await generateIdentities(count - have.length, progress, 'identities'));
    writeAtomic(path, have.map((i) => i.toString(true)).join('\n') + '\n');
  }
  return have.slice(0, count);
}

/** The benchmark root's identity (secret), from `bench-root-identity.secret` or made once. */
export async function loadOrCreateRootIdentity(dir = defaultCacheDir(), progress: Progress = () => {}): Promise<Identity> {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'bench-root-identity.secret');
  if (existsSync(path)) {
    const id = parseIdentity(readFileSync(path, 'utf8').trim());
    if (id?.hasPrivate) return id;
  }
  progress(`generating the benchmark root identity (cached in ${path}) …`);
  const [id] = await generateIdentities(1, progress, 'root identity');
  writeAtomic(path, id.toString(true));
  return id;
}

// ---------------------------------------------------------------------------------------------
// Seeding a root's identity cache
// ---------------------------------------------------------------------------------------------

/**
 * Put the synthetic peers (and `filler` further random identities) into `<home>/identities.db`
 * in one transaction, so the root treats them as already validated. The root must not be
 * running. Returns the filler addresses (for WHOIS of cached identities that are not peers).
 */
export function seedIdentityDb(home: string, peers: SyntheticPeers, filler = 0): Address[] {
  mkdirSync(home, { recursive: true });
  const path = join(home, HOME_FILES.identityCache);
  new IdentityStore(path).close(); // the store owns its schema: let it create the table
  const db = new DatabaseSync(path);
  const fillerAddresses = randomAddresses(filler, new Set(peers.addresses));
  try {
    const insert = db.prepare('INSERT OR IGNORE INTO identities (address, identity, added_ms) VALUES (?, ?, ?)');
    const now = Date.now();
    db.exec('BEGIN');
    for (let i = 0; i < peers.count; i++) insert.run(peers.addresses[i], peerIdentity(peers, i).serialize(), now);
    const keys = randomBytes(64 * Math.min(filler, 65536));
    for (let i = 0; i < filler; i++) {
      const j = i % 65536;
      if (j === 0 && i > 0) randomBytes(keys.length).copy(keys);
      insert.run(fillerAddresses[i], new Identity(fillerAddresses[i], keys.subarray(64 * j, 64 * j + 64)).serialize(), now);
    }
    db.exec('COMMIT');
  } finally {
    db.close();
  }
  return fillerAddresses;
}

/**
 * A cached identities.db holding the peers plus filler rows up to `total` rows
 * (`identities-<total>-<tag>.db`), copied into `home`. Returns some filler addresses.
 */
export function installLargeIdentityDb(home: string, peers: SyntheticPeers, total: number, dir = defaultCacheDir(), progress: Progress = () => {}): { fillerSample: Address[]; built: boolean } {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `identities-${total}-${peers.tag}.db`);
  const samplePath = `${path}.sample`;
  let built = false;
  if (!existsSync(path) || !existsSync(samplePath)) {
    progress(`building an identity cache of ${total} rows (cached in ${path}) …`);
    const started = performance.now();
    const staging = join(dir, `staging-${process.pid}`);
    rmSync(staging, { recursive: true, force: true });
    const filler = seedIdentityDb(staging, peers, Math.max(0, total - peers.count));
    renameSync(join(staging, HOME_FILES.identityCache), path);
    writeAtomic(samplePath, filler.slice(0, 1024).map(formatAddress).join('\n'));
    rmSync(staging, { recursive: true, force: true });
    progress(`  done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    built = true;
  }
  mkdirSync(home, { recursive: true });
  copyFileSync(path, join(home, HOME_FILES.identityCache));
  const fillerSample = readFileSync(samplePath, 'utf8').split('\n').filter(Boolean).map((h) => Number.parseInt(h, 16));
  return { fillerSample, built };
}
