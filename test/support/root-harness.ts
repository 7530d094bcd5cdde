// Loopback harness for root integration tests: an in-process RootServer on 127.0.0.x with
// ephemeral ports and a steerable clock, worlds built with World.make, and RawPeer — a plain
// dgram socket that crafts packets with the wire layer (HELLO with a cryptField moon list, any
// verb with any cipher or hop count, fragments) and opens what comes back.
//
// Nothing here is timing-based: "nothing arrived" is shown with a barrier (a WHOIS for the root's
// own address, which is always answered, sent after the packet under test from the same socket:
// the root handles one socket's datagrams in order and answers in order), and waits are bounded.

import { sleepUntilWoken } from './wakers.ts';
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { agree, generateKeyPair, type C25519KeyPair } from '../../src/crypto/c25519.ts';
import { readAddress, type Address } from '../../src/identity/address.ts';
import { parseIdentity, type Identity } from '../../src/identity/identity.ts';
import { defaultConfig, type RootConfig } from '../../src/root/config.ts';
import { HOME_FILES } from '../../src/root/home.ts';
import { RootServer } from '../../src/root/root-server.ts';
import { armor, dearmor, type ArmorCipher } from '../../src/wire/armor.ts';
import { uncompressPacket } from '../../src/wire/compression.ts';
import { Cipher, HeaderFlag, PacketOffset, Verb, WorldType as WireWorldType } from '../../src/wire/constants.ts';
import { cryptField } from '../../src/wire/crypt-field.ts';
import { markFragmentedIfNeeded, splitPacket } from '../../src/wire/fragment.ts';
import { formatIp, parseInetAddress, type IpAddress } from '../../src/wire/inet-address.ts';
import { newPacket, readPacketId } from '../../src/wire/packet.ts';
import { PeerKey } from '../../src/wire/peer-key.ts';
import { encodeHelloWithCryptFieldOffset, type HelloMoon } from '../../src/wire/verbs/hello.ts';
import { decodeOkHeader } from '../../src/wire/verbs/ok.ts';
import { decodeOkWhois, encodeWhois } from '../../src/wire/verbs/whois.ts';
import { WorldType } from '../../src/world/constants.ts';
import { World } from '../../src/world/world.ts';
import { tempDir } from './cli.ts';
import { readVectorJson } from './vectors.ts';
import type { Logger } from '../../src/util/log.ts';
import { until } from '../../tools/lab/until.ts';

// ---------------------------------------------------------------------------------------------
// Identities, worlds, time
// ---------------------------------------------------------------------------------------------

/**
 * The eight identities made by zerotier-idtool 1.14.1 (vectors/identities.json), secrets
 * included. Generating one costs over a second, so tests take these.
 */
export const VECTOR_IDENTITIES: readonly Identity[] = readVectorJson<{ identities: { secret: string }[] }>('identities.json')
  .identities.map((i) => {
    const id = parseIdentity(i.secret);
    if (!id) throw new Error('identities.json: unparsable secret');
    return id;
  });

export function endpointOf(s: { address: string; port: number }): IpAddress {
  const a = parseInetAddress(`${s.address}/${s.port}`);
  if (!a) throw new Error(`not an endpoint: ${s.address}/${s.port}`);
  return a;
}

export interface WorldSpec {
  type: 'planet' | 'moon';
  id: bigint;
  timestamp: bigint;
  roots: { identity: Identity; endpoints: IpAddress[] }[];
  signer?: C25519KeyPair;
}

/** A signed world (World.make). */
export function makeWorld(spec: WorldSpec): World {
  const signer = spec.signer ?? generateKeyPair();
  return World.make({
    type: spec.type === 'planet' ? WorldType.planet : WorldType.moon,
    id: spec.id,
    timestamp: spec.timestamp,
    updatesMustBeSignedBy: signer.publicKey,
    roots: spec.roots.map((r) => ({ identity: r.identity.publicOnly(), stableEndpoints: r.endpoints })),
  }, signer);
}

/** Real time plus an offset the test moves forward (to step over per-peer reply spacing). */
export class TestClock {
  private offsetMs = 0;
  readonly now = (): number => Date.now() + this.offsetMs;
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

/** Poll `condition` every 5 ms; reject after `timeoutMs` naming `what`. */
export async function waitUntil(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  await until(what, condition, timeoutMs, 5);
}

// ---------------------------------------------------------------------------------------------
// In-process root
// ---------------------------------------------------------------------------------------------

/** Lay out a root home: identity.secret, planet, moons.d/<id>.moon. */
export function writeRootHome(home: string, identity: Identity, planet?: World, moons: World[] = []): void {
  mkdirSync(join(home, HOME_FILES.moonsDir), { recursive: true });
  writeFileSync(join(home, HOME_FILES.identitySecret), identity.toString(true), { mode: 0o600 });
  if (planet) writeFileSync(join(home, HOME_FILES.planet), planet.serialize());
  for (const m of moons) writeFileSync(join(home, HOME_FILES.moonsDir, m.fileName), m.serialize());
}

export interface TestRootOptions {
  identity: Identity;
  /** Reuse a home (restart tests); a new temp dir otherwise. */
  home?: string;
  planet?: World;
  moons?: World[];
  bind?: string[];
  ports?: number[];
  relayMaxHops?: number;
  siblings?: IpAddress[];
  /** Packet worker threads (default 0: the node on this thread, so tests can inspect it). */
  workers?: number;
  /** UDP transport: the batch addon when built ('auto', the default) or plain dgram ('off'). */
  nativeUdp?: 'auto' | 'on' | 'off';
  /** Peer objects the packet thread keeps (RootConfig.peerCacheEntries). */
  peerCacheEntries?: number;
  /** Known peers' HELLOs answered in the batch UDP addon (RootConfig.nativeHello; default on). */
  nativeHello?: 'on' | 'off';
  /**
   * Run the root on the system clock instead of `clock` (which then steers nothing): the native
   * HELLO path keeps the system's time, so it is taken only then.
   */
  systemClock?: boolean;
}

export interface TestRoot {
  readonly root: RootServer;
  readonly home: string;
  readonly clock: TestClock;
  /** Every bound socket as an endpoint, in RootServer.sockets order. */
  readonly endpoints: IpAddress[];
  /** The first socket. */
  readonly endpoint: IpAddress;
  readonly identity: Identity;
  stop(): Promise<void>;
}

export async function startTestRoot(o: TestRootOptions): Promise<TestRoot> {
  const home = o.home ?? tempDir('ztroot-root-');
  writeRootHome(home, o.identity, o.planet, o.moons);
  const clock = new TestClock();
  const config: RootConfig = {
    ...defaultConfig(),
    home,
    bind: o.bind ?? ['127.0.0.1'],
    ports: o.ports ?? [0],
    relayMaxHops: o.relayMaxHops ?? defaultConfig().relayMaxHops,
    siblings: o.siblings ?? [],
    validationThreads: 1,
    // white-box tests read the packet thread's node directly, so it runs on this thread; the
    // multi-worker default is covered by the spawned-process and multi-worker tests
    workers: o.workers ?? 0,
    nativeUdp: o.nativeUdp ?? 'auto',
    peerCacheEntries: o.peerCacheEntries ?? defaultConfig().peerCacheEntries,
    nativeHello: o.nativeHello ?? 'on',
    httpListen: '',
  };
  const root = new RootServer({ config, clock: o.systemClock ? undefined : clock.now });
  await root.start();
  const endpoints = root.sockets.map(endpointOf);
  let stopped = false;
  return {
    root, home, clock, endpoints, endpoint: endpoints[0], identity: o.identity,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await root.stop();
    },
  };
}

/** A log line a RootServer wrote, kept by recordingLogger. */
export interface LogEntry { level: string; msg: string; fields?: Record<string, unknown> }

/** A Logger that appends every line to `into`. */
export function recordingLogger(into: LogEntry[]): Logger {
  const at = (level: string) => (msg: string, fields?: Record<string, unknown>): void => { into.push({ level, msg, fields }); };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** A test root and raw peers, each on its own socket and registered with it by HELLO. */
export interface TestRootWithPeers {
  readonly t: TestRoot;
  readonly peers: RawPeer[];
  /** Close the peers, stop the root, remove its home. */
  stop(): Promise<void>;
}

export async function startTestRootWithPeers(o: TestRootOptions, identities: readonly Identity[]): Promise<TestRootWithPeers> {
  const t = await startTestRoot(o);
  const peers = await Promise.all(identities.map((id) => RawPeer.open(id)));
  for (const p of peers) await p.register(t.endpoint, o.identity);
  return {
    t, peers,
    stop: async () => {
      for (const p of peers) await p.close();
      await t.stop();
      removeDirs([t.home]);
    },
  };
}

/**
 * Each peer in turn asks the root by WHOIS for all of them; per peer, the addresses the answer
 * names, sorted (a multi-worker root answers each from whichever worker gets that peer's flow).
 */
export async function whoisFromEveryPeer(via: IpAddress, root: Identity, peers: readonly RawPeer[]): Promise<Address[][]> {
  const answers: Address[][] = [];
  for (const asker of peers) {
    const id = asker.send(via, root, Verb.WHOIS, encodeWhois({ addresses: peers.map((p) => p.address) }));
    const ok = decodeOkWhois((await asker.reply(root, id)).payload);
    answers.push(ok.ok ? ok.value.identities.map((i) => i.address).sort((a, b) => a - b) : []);
  }
  return answers;
}

/** Every peer's address, sorted: what whoisFromEveryPeer should get back from each. */
export function sortedAddresses(peers: readonly RawPeer[]): Address[] {
  return peers.map((p) => p.address).sort((a, b) => a - b);
}

/** Remove temp dirs made by tests (ignores ones already gone). */
export function removeDirs(dirs: Iterable<string>): void {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------
// Raw peer
// ---------------------------------------------------------------------------------------------

export interface Datagram {
  readonly data: Uint8Array;
  readonly from: { readonly address: string; readonly port: number };
}

/** A packet opened with a key: header fields plus the plaintext verb and payload. */
export interface Opened {
  readonly packetId: bigint;
  readonly destination: Address;
  readonly source: Address;
  readonly hops: number;
  readonly cipher: number;
  readonly verb: number;
  /** Bytes after the verb byte (decompressed). */
  readonly payload: Uint8Array;
}

/** Dearmor (and decompress) a copy of a complete packet; null if the key does not open it. */
export function openPacket(data: Uint8Array, key: PeerKey): Opened | null {
  if (data.length < PacketOffset.payload || data[13] === 0xff) return null;
  const p = Uint8Array.from(data);
  if (!dearmor(p, key).ok) return null;
  const u = uncompressPacket(p);
  if (!u.ok) return null;
  const q = u.packet;
  return {
    packetId: readPacketId(q),
    destination: readAddress(q, PacketOffset.destination),
    source: readAddress(q, PacketOffset.source),
    hops: q[PacketOffset.flags] & HeaderFlag.hopsMask,
    cipher: (q[PacketOffset.flags] & HeaderFlag.cipherMask) >>> 3,
    verb: q[PacketOffset.verb] & 0x1f,
    payload: q.subarray(PacketOffset.payload),
  };
}

export interface PacketOptions {
  cipher?: ArmorCipher;
  hops?: number;
  /** Sign as this identity (default: the peer's own). */
  as?: Identity;
}

export interface HelloOptions {
  /** Claim and sign as this identity (it needs its private key). */
  as?: Identity;
  planet?: { id: bigint; timestamp: bigint };
  moons?: HelloMoon[];
  timestamp?: bigint;
  protocolVersion?: number;
  /** Hop count in the header (a HELLO a relay forwarded). */
  hops?: number;
}

/** A moon entry for a HELLO's moon list. */
export function helloMoon(id: bigint, timestamp: bigint, worldType: number = WireWorldType.moon): HelloMoon {
  return { worldType, id, timestamp };
}

export class RawPeer {
  readonly identity: Identity;
  readonly socket: Socket;
  readonly endpoint: IpAddress;
  /** Datagrams received and not yet taken by next(). */
  readonly inbox: Datagram[] = [];
  private readonly keys = new Map<string, PeerKey>();
  private readonly wakers = new Set<() => void>();

  private constructor(identity: Identity, socket: Socket) {
    this.identity = identity;
    this.socket = socket;
    this.endpoint = endpointOf(socket.address());
    socket.on('message', (msg, rinfo) => {
      this.inbox.push({ data: Uint8Array.from(msg), from: { address: rinfo.address, port: rinfo.port } });
      for (const w of [...this.wakers]) w();
    });
  }

  static async open(identity: Identity, address = '127.0.0.1'): Promise<RawPeer> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, address, () => resolve());
    });
    return new RawPeer(identity, socket);
  }

  get address(): Address {
    return this.identity.address;
  }

  /** The key `me` (default: this peer's identity) shares with `other`. */
  keyWith(other: Identity, me: Identity = this.identity): PeerKey {
    const k = `${me.address}:${Buffer.from(me.publicKey).toString('hex')}>${Buffer.from(other.publicKey).toString('hex')}`;
    let key = this.keys.get(k);
    if (!key) {
      const raw = agree(me.privateKey!, other.publicKey);
      if (!raw) throw new Error('key agreement failed');
      key = new PeerKey(raw);
      this.keys.set(k, key);
    }
    return key;
  }

  sendRaw(to: IpAddress, d: Uint8Array): void {
    this.socket.send(d, to.port, formatIp(to));
  }

  /** A complete armored packet from this peer (or `as`) to `to`. */
  packet(to: Identity, verb: number, payload: Uint8Array, o: PacketOptions = {}): Uint8Array {
    const me = o.as ?? this.identity;
    const p = newPacket({ id: new Uint8Array(randomBytes(8)), destination: to.address, source: me.address, verb, payload });
    p[PacketOffset.flags] |= (o.hops ?? 0) & HeaderFlag.hopsMask;
    armor(p, this.keyWith(to, me), o.cipher ?? Cipher.poly1305Salsa2012);
    return p;
  }

  /** Send a packet; returns its wire packet ID (what replies quote). */
  send(via: IpAddress, to: Identity, verb: number, payload: Uint8Array, o: PacketOptions = {}): bigint {
    const p = this.packet(to, verb, payload, o);
    this.sendRaw(via, p);
    return readPacketId(p);
  }

  /**
   * A packet longer than the MTU, marked fragmented, armored and split into a head and fragments
   * (as a 1.14 sender does). Returns the datagrams and the whole armored packet.
   */
  fragmentedPacket(to: Identity, verb: number, payload: Uint8Array, mtu = 1432): { pieces: Uint8Array[]; whole: Uint8Array } {
    const p = newPacket({ id: new Uint8Array(randomBytes(8)), destination: to.address, source: this.address, verb, payload });
    if (!markFragmentedIfNeeded(p, mtu)) throw new Error('payload too small to fragment');
    armor(p, this.keyWith(to), Cipher.poly1305Salsa2012);
    return { pieces: splitPacket(p, mtu).map((d) => Uint8Array.from(d)), whole: p };
  }

  /** HELLO (cipher 0, moon list obscured with cryptField) to `root` at `via`; returns its packet ID. */
  hello(via: IpAddress, root: Identity, o: HelloOptions = {}): bigint {
    const me = o.as ?? this.identity;
    const key = this.keyWith(root, me);
    const { payload, cryptFieldOffset } = encodeHelloWithCryptFieldOffset({
      protocolVersion: o.protocolVersion ?? 12, majorVersion: 1, minorVersion: 14, revision: 1,
      timestamp: o.timestamp ?? BigInt(Date.now()),
      identity: me.publicOnly(),
      destination: via,
      planet: o.planet ?? { id: 0n, timestamp: 0n },
      moons: o.moons ?? [],
    });
    const p = newPacket({ id: new Uint8Array(randomBytes(8)), destination: root.address, source: me.address, verb: Verb.HELLO, payload });
    p[PacketOffset.flags] |= (o.hops ?? 0) & HeaderFlag.hopsMask;
    if (cryptFieldOffset !== undefined) cryptField(p, PacketOffset.payload + cryptFieldOffset, p.length, key.salsaKey);
    armor(p, key, Cipher.poly1305None);
    this.sendRaw(via, p);
    return readPacketId(p);
  }

  /** Take the first received datagram matching `match` (waiting up to timeoutMs). */
  async next(match: (d: Datagram) => boolean, what: string, timeoutMs = 10_000): Promise<Datagram> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.inbox.findIndex(match);
      if (i >= 0) return this.inbox.splice(i, 1)[0];
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${formatPeer(this)}: nothing matching "${what}" within ${timeoutMs} ms`);
      await sleepUntilWoken(this.wakers, left);
    }
  }

  /** Wait for a packet from `from` (opened with our key, or `as`'s) that satisfies `match`. */
  async nextFrom(from: Identity, match: (o: Opened) => boolean, what: string, o: { as?: Identity; timeoutMs?: number } = {}): Promise<Opened & { datagram: Datagram }> {
    const key = this.keyWith(from, o.as);
    let opened: Opened | null = null;
    const d = await this.next((x) => {
      const p = openPacket(x.data, key);
      if (p && match(p)) {
        opened = p;
        return true;
      }
      return false;
    }, what, o.timeoutMs);
    return { ...(opened as unknown as Opened), datagram: d };
  }

  /** Wait for the OK or ERROR that quotes `packetId`, from `from`. */
  reply(from: Identity, packetId: bigint, o: { as?: Identity; timeoutMs?: number } = {}): Promise<Opened & { datagram: Datagram }> {
    return this.nextFrom(from, (p) => {
      if (p.verb !== Verb.OK && p.verb !== Verb.ERROR) return false;
      const h = decodeOkHeader(p.payload);
      return h.ok && h.value.inRePacketId === packetId;
    }, `reply to ${packetId.toString(16)}`, o);
  }

  /** Packets in the inbox that `from`'s key opens (not taken). */
  pendingFrom(from: Identity, as?: Identity): Opened[] {
    const key = this.keyWith(from, as);
    return this.inbox.map((d) => openPacket(d.data, key)).filter((p): p is Opened => p !== null);
  }

  /**
   * Barrier: WHOIS the root's own address and wait for the answer. Everything the root sent this
   * peer before handling the WHOIS is in the inbox when this resolves.
   */
  async barrier(via: IpAddress, root: Identity): Promise<void> {
    const id = this.send(via, root, Verb.WHOIS, encodeWhois({ addresses: [root.address] }));
    const r = await this.reply(root, id);
    const ok = decodeOkWhois(r.payload);
    if (!ok.ok || ok.value.identities[0].address !== root.address) throw new Error('barrier WHOIS answered wrongly');
  }

  /**
   * HELLO the root every 300 ms until it answers one of them (a new identity is validated
   * asynchronously; a root spaces its OK(HELLO)s to one peer). Returns the first answer.
   */
  async register(via: IpAddress, root: Identity, o: HelloOptions & { timeoutMs?: number } = {}): Promise<Opened & { datagram: Datagram }> {
    const deadline = Date.now() + (o.timeoutMs ?? 15_000);
    const ids = new Set<bigint>();
    for (;;) {
      ids.add(this.hello(via, root, o));
      try {
        return await this.nextFrom(root, (p) => {
          const h = decodeOkHeader(p.payload);
          return p.verb === Verb.OK && h.ok && h.value.inReVerb === Verb.HELLO && ids.has(h.value.inRePacketId);
        }, 'OK(HELLO)', { as: o.as, timeoutMs: 300 });
      } catch (e) {
        if (Date.now() > deadline) throw e;
      }
    }
  }

  close(): Promise<void> {
    return new Promise((r) => this.socket.close(() => r()));
  }
}

function formatPeer(p: RawPeer): string {
  return `raw peer ${p.identity.address.toString(16).padStart(10, '0')}`;
}
