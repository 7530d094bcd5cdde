// The load generator proper: one process's share of the simulated leaves, multiplexed over a
// few UDP sockets connected to the root (several sockets, so that a root whose workers share a
// port with SO_REUSEPORT sees several flows to spread). It runs one stage at a time and reports
// what was sent, what came back, and the latency of each answer.
//
// Replies are matched to peers by the destination address in the cleartext header, so the
// generator needs no decryption per reply; with `verify` it also opens each reply and checks that
// it is the OK it should be (the tests do; it costs a dearmor per reply).

import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { agree, agreementPublicKey } from '../../src/crypto/c25519.ts';
import type { Address } from '../../src/identity/address.ts';
import { Identity, parseIdentity } from '../../src/identity/identity.ts';
import { ROOT_TIMERS } from '../../src/root/constants.ts';
import { PacketOffset, Verb, WorldType } from '../../src/wire/constants.ts';
import { parseInetAddress, type IpAddress } from '../../src/wire/inet-address.ts';
import { PeerKey } from '../../src/wire/peer-key.ts';
import { HELLO_IDENTITY_OFFSET } from '../../src/wire/verbs/hello.ts';
import { LatencyHistogram } from './histogram.ts';
import { randomAddresses, peerIdentity, type SyntheticPeers } from './key-material.ts';
import {
  echoPacket, headerOf, helloPacket, isOkFor, relayTemplate, RELAY_MIN_LENGTH, RELAY_SEQ_OFFSET, RELAY_STAGE_OFFSET,
  RELAY_TIME_OFFSET, whoisPacket, type Prepared,
} from './packets.ts';
import { emptyReport, type FloodKind, type Rate, type StageReport, type StageSpec } from './stages.ts';

export interface EngineTarget {
  host: string;
  port: number;
  /** The root's public identity (a forwarder baseline answers for the same address). */
  identity: Identity;
}

export interface EngineOptions {
  target: EngineTarget;
  peers: SyntheticPeers;
  /** 48-byte keys shared with the root, index i = peer i. */
  keys: Uint8Array;
  /** This process's peers: indices [from, to). */
  from: number;
  to: number;
  /** UDP sockets the peers are spread over (default 8). */
  sockets?: number;
  /** Local address to bind (default 127.0.0.1 for a loopback target, else 0.0.0.0). */
  bind?: string;
  /**
   * Local addresses, one socket each, instead of `sockets` on `bind` (peer k always sends from
   * the same one). A root that rate-limits identity checks per source /24, as zerotier-one does,
   * then registers peers from different /24s in parallel.
   */
  sources?: readonly string[];
  /** Peers (from the start of the shard) that carry relayed traffic in pairs; the rest send requests. */
  relayPeers?: number;
  /** Protocol version in our HELLOs: 12 as 1.14 (the root answers with AES-GMAC-SIV), or 11 (Salsa20/12). */
  protocolVersion?: number;
  verify?: boolean;
  /** Addresses WHOIS asks about (default: the synthetic peers). */
  whoisAddresses?: readonly Address[];
  /** A moon the replayed HELLOs of the replay flood ask for (timestamp 0: the root attaches it to OK(HELLO)). */
  moonId?: bigint;
  /** How long to wait for stragglers after a stage stops sending, ms (default 1000). */
  drainMs?: number;
}

/** Margin over a root's per-peer reply spacing (HELLO 250 ms, ECHO 500 ms) so no request is refused. */
const SPACING_MARGIN = 1.15;
/** Most packets sent per turn of the event loop (receives are handled between turns). */
const MAX_BATCH = 128;
/**
 * An unanswered request or relayed packet is given up (its window slot freed) after this, ms:
 * short, so one dropped burst does not stall a closed loop. A late answer still counts.
 */
const REPLY_TIMEOUT_MS = 250;
/** A registering HELLO is sent again after this, ms (a root answers one HELLO per peer per 250 ms). */
const REGISTER_RETRY_MS = 1000;
/** Unanswered packets allowed in a "max" stage: fits a root's default 208 KiB socket buffer. */
export const DEFAULT_WINDOW = 128;
/** HELLOs in flight while registering (each may cost the root a key agreement). */
const REGISTER_WINDOW = 64;
const ADMIT_RETRY_MS = 300;
const FLOOD_IDENTITIES = 256;
/** Most distinct invalid identities an attack stage prepares (then they repeat). */
const MAX_ATTACK_IDENTITIES = 100_000;
/** Relay sequence numbers tracked for the window (a power of two, far above any window). */
const RELAY_RING = 1 << 16;

/** "max" stages run closed loop (window), stages at a given rate open loop (no window). */
function windowOf(spec: { rate: Rate; window?: number }): number {
  return spec.window ?? (spec.rate === 'max' ? DEFAULT_WINDOW : Infinity);
}

type ReplyHandler = (local: number, d: Buffer, fromRoot: boolean) => void;

function immediate(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}
function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export interface PaceOptions {
  /** Packets per second; Infinity = as fast as the window allows. */
  rate: number;
  seconds: number;
  /** Closed loop: at most this many unanswered at a time (Infinity: open loop). */
  window: number;
  inFlight: () => number;
  /** Give up on what has waited too long (frees window). */
  expire: (now: number) => void;
  /** Resolves when an answer may have freed window (or after a short timeout). */
  answered: () => Promise<void>;
}

/**
 * Call `send(n)` (which returns how many it really sent) so that `rate` packets per second go
 * out for `seconds`, never more than `window` unanswered. Small batches per event-loop turn keep
 * receive handling going.
 */
export async function pace(o: PaceOptions, send: (n: number) => number): Promise<{ sent: number; seconds: number }> {
  const start = performance.now();
  const end = start + o.seconds * 1000;
  let sent = 0;
  for (;;) {
    const now = performance.now();
    if (now >= end) break;
    o.expire(now);
    let due = o.rate === Infinity ? MAX_BATCH : Math.min(MAX_BATCH, Math.floor((o.rate * (now - start)) / 1000) - sent);
    const room = o.window - o.inFlight();
    if (due > room) due = room;
    const got = due > 0 ? send(due) : 0;
    sent += got;
    if (o.inFlight() >= o.window) await o.answered();
    else if (due > 0 && got === 0) await sleep(1); // nothing may be sent yet (per-peer spacing)
    else if (o.rate === Infinity || Math.floor((o.rate * (performance.now() - start)) / 1000) > sent) await immediate();
    else await sleep(1);
  }
  return { sent, seconds: (performance.now() - start) / 1000 };
}

async function openSocket(bind: string, host: string, port: number, onMessage: (d: Buffer) => void, onError: () => void): Promise<Socket> {
  const s = createSocket(isIP(bind) === 6 || isIP(host) === 6 ? 'udp6' : 'udp4');
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, bind, () => {
      s.off('error', reject);
      resolve();
    });
  });
  s.on('error', onError); // e.g. ECONNREFUSED while a root is not listening yet
  s.on('message', onMessage);
  try {
    s.setRecvBufferSize(4 << 20);
    s.setSendBufferSize(4 << 20);
  } catch { /* capped by the kernel */ }
  await new Promise<void>((resolve) => s.connect(port, host, () => resolve()));
  return s;
}

function closeSocket(s: Socket): Promise<void> {
  return new Promise((r) => s.close(() => r()));
}

export class LoadEngine {
  private readonly o: EngineOptions;
  private readonly rootAddress: Address;
  private readonly via: IpAddress;
  private readonly bind: string;
  private readonly sockets: Socket[] = [];
  private readonly n: number;
  private readonly addresses: Address[] = [];
  private readonly keys: PeerKey[] = [];
  private readonly index = new Map<Address, number>();
  private readonly relayLocals: number[];
  private readonly requestLocals: number[];
  private readonly hellos: Prepared[] = [];
  private handler: ReplyHandler | undefined;
  private waiter: (() => void) | undefined;
  private stageNumber = Math.floor(Math.random() * 1e6);
  private bytesSent = 0;
  private bytesReceived = 0;
  /**
   * When each peer last sent a HELLO / an ECHO (performance.now()): a root answers one of each
   * per peer per 250 / 500 ms, so no stage asks a peer again sooner, whatever its pace.
   */
  private readonly helloAt: Float64Array;
  private readonly echoAt: Float64Array;
  /** Socket errors (ECONNREFUSED while nothing listens, …) and datagrams for no peer of ours. */
  private socketErrors = 0;
  private strayDatagrams = 0;

  private constructor(o: EngineOptions) {
    this.o = o;
    this.rootAddress = o.target.identity.address;
    const via = parseInetAddress(`${o.target.host}/${o.target.port}`);
    if (!via) throw new Error(`not an IP address: ${o.target.host}`);
    this.via = via;
    const loopback = o.target.host.startsWith('127.') || o.target.host === '::1';
    this.bind = o.bind ?? (loopback ? (isIP(o.target.host) === 6 ? '::1' : '127.0.0.1') : (isIP(o.target.host) === 6 ? '::' : '0.0.0.0'));
    this.n = o.to - o.from;
    this.helloAt = new Float64Array(this.n).fill(-Infinity);
    this.echoAt = new Float64Array(this.n).fill(-Infinity);
    for (let local = 0; local < this.n; local++) {
      const i = o.from + local;
      this.addresses.push(o.peers.addresses[i]);
      this.keys.push(new PeerKey(o.keys.subarray(48 * i, 48 * i + 48)));
      this.index.set(o.peers.addresses[i], local);
    }
    let relay = Math.min(o.relayPeers ?? Math.min(64, Math.floor(this.n / 2)), this.n);
    relay -= relay % 2;
    this.relayLocals = Array.from({ length: relay }, (_, k) => k);
    this.requestLocals = Array.from({ length: this.n - relay }, (_, k) => relay + k);
    for (let local = 0; local < this.n; local++) this.hellos.push(this.helloFor(local));
  }

  /** Open the sockets and build every peer's HELLO. */
  static async open(o: EngineOptions): Promise<LoadEngine> {
    const e = new LoadEngine(o);
    const binds = o.sources?.length ? o.sources : Array.from({ length: Math.max(1, o.sockets ?? 8) }, () => e.bind);
    for (const bind of binds) {
      e.sockets.push(await openSocket(bind, o.target.host, o.target.port, (d) => e.onMessage(d), () => { e.socketErrors++; }));
    }
    return e;
  }

  get peerCount(): number {
    return this.n;
  }

  private helloFor(local: number, moons = false): Prepared {
    return helloPacket({
      identity: peerIdentity(this.o.peers, this.o.from + local), key: this.keys[local], to: this.rootAddress, via: this.via,
      protocolVersion: this.o.protocolVersion ?? 12,
      moons: moons && this.o.moonId !== undefined ? [{ worldType: WorldType.moon, id: this.o.moonId, timestamp: 0n }] : [],
    });
  }

  private socketOf(local: number): Socket {
    return this.sockets[local % this.sockets.length];
  }

  private send(local: number, bytes: Buffer): void {
    this.bytesSent += bytes.length;
    this.socketOf(local).send(bytes);
  }

  private onMessage(d: Buffer): void {
    this.bytesReceived += d.length;
    const h = headerOf(d);
    const local = h ? this.index.get(h.destination) : undefined;
    if (!h || local === undefined) {
      this.strayDatagrams++;
      return;
    }
    this.handler?.(local, d, h.source === this.rootAddress);
  }

  /** Wake a stage waiting for window (an answer came back). */
  private notify(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /** Resolves at the next answer, or after 2 ms (so expiry still runs). */
  private answered(): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.waiter = undefined;
        resolve();
      }, 2);
      this.waiter = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  /** Wait (at most drainMs) until `done()` holds. */
  private async drain(done: () => boolean, ms = this.o.drainMs ?? 1000): Promise<void> {
    const end = performance.now() + ms;
    while (!done() && performance.now() < end) await sleep(2);
  }

  async run(spec: StageSpec): Promise<StageReport> {
    const cpu = process.cpuUsage();
    const bytes = { sent: this.bytesSent, received: this.bytesReceived };
    const errors = this.socketErrors, stray = this.strayDatagrams;
    let r: StageReport;
    try {
      switch (spec.kind) {
        case 'register': r = await this.register(spec.seconds, spec.window ?? REGISTER_WINDOW); break;
        case 'hello': case 'whois': case 'echo': r = await this.requests(spec.kind, spec.rate, spec.seconds, windowOf(spec)); break;
        case 'relay': r = await this.relay(spec.rate, spec.seconds, spec.size ?? 128, windowOf(spec)); break;
        case 'admit': r = await this.admit(spec.identities, spec.seconds, spec.perSourceNetwork); break;
        case 'flood': r = await this.flood(spec.flood, spec.rate, spec.seconds); break;
        case 'attack': r = await this.attack(spec.floodRate, spec.helloRate, spec.seconds, spec.networks); break;
        case 'restart-probe': r = await this.restartProbe(spec.whois, spec.seconds, spec.intervalMs ?? 5); break;
      }
    } finally {
      this.handler = undefined;
    }
    if (spec.kind !== 'admit' && spec.kind !== 'flood' && spec.kind !== 'attack') {
      r.bytesSent = this.bytesSent - bytes.sent;
      r.bytesReceived = this.bytesReceived - bytes.received;
    }
    const used = process.cpuUsage(cpu);
    r.extra.loadgenCpuMs = (used.user + used.system) / 1000;
    if (this.socketErrors > errors) r.extra.socketErrors = this.socketErrors - errors;
    if (this.strayDatagrams > stray) r.extra.strayDatagrams = this.strayDatagrams - stray;
    r.lost = Math.max(0, r.sent - r.answered);
    return r;
  }

  // ------------------------------------------------------------------------------------------
  // register: every peer HELLOs until answered once (a window in flight, retries after 1 s)
  // ------------------------------------------------------------------------------------------

  private async register(seconds: number, window: number): Promise<StageReport> {
    const r = emptyReport('register');
    const hist = new LatencyHistogram();
    const state = new Uint8Array(this.n); // 0 waiting, 1 in flight, 2 answered
    const sentAt = new Float64Array(this.n);
    const pending: number[] = Array.from({ length: this.n }, (_, k) => k);
    const inFlight: number[] = [];
    let head = 0, flightHead = 0, flying = 0, done = 0, retries = 0, lastDone = 0;
    const start = performance.now();
    this.handler = (local, d, fromRoot) => {
      if (!fromRoot || state[local] !== 1) return;
      if (this.o.verify && !isOkFor(d, this.keys[local], Verb.HELLO, this.hellos[local].packetId)) {
        r.invalid++;
        return;
      }
      state[local] = 2;
      flying--;
      done++;
      lastDone = performance.now();
      this.helloAt[local] = lastDone; // the root's reply spacing counts from its reply, which came before this
      hist.record((lastDone - sentAt[local]) * 1000);
      this.notify();
    };
    const end = start + seconds * 1000;
    while (done < this.n && performance.now() < end) {
      const now = performance.now();
      while (flightHead < inFlight.length && now - sentAt[inFlight[flightHead]] >= REGISTER_RETRY_MS) {
        const local = inFlight[flightHead++];
        if (state[local] === 1) {
          state[local] = 0;
          flying--;
          retries++;
          pending.push(local);
        }
      }
      while (flying < window && head < pending.length) {
        const local = pending[head++];
        state[local] = 1;
        sentAt[local] = now;
        flying++;
        inFlight.push(local);
        this.send(local, this.hellos[local].bytes);
        r.sent++;
        this.helloAt[local] = now;
      }
      await this.answered();
    }
    r.seconds = ((done === this.n ? lastDone : performance.now()) - start) / 1000;
    r.answered = done;
    r.latency = hist.toJSON();
    r.extra = { peers: this.n, registered: done, retries };
    return r;
  }

  // ------------------------------------------------------------------------------------------
  // hello / whois / echo from known peers
  // ------------------------------------------------------------------------------------------

  private async requests(kind: 'hello' | 'whois' | 'echo', rate: Rate, seconds: number, window: number): Promise<StageReport> {
    const locals = this.requestLocals;
    if (locals.length === 0) throw new Error('no request peers in this shard (all are relay peers)');
    const r = emptyReport(kind);
    const verb = kind === 'hello' ? Verb.HELLO : kind === 'whois' ? Verb.WHOIS : Verb.ECHO;
    const spacingMs = kind === 'hello' ? ROOT_TIMERS.helloReplySpacingMs : kind === 'echo' ? ROOT_TIMERS.echoReplySpacingMs : 0;
    const cap = spacingMs > 0 ? locals.length / ((spacingMs * SPACING_MARGIN) / 1000) : Infinity;
    const target = Math.min(rate === 'max' ? Infinity : rate, cap);
    const whoisTargets = this.o.whoisAddresses ?? this.o.peers.addresses;
    const packets: Prepared[] = new Array(this.n);
    for (const local of locals) {
      const source = this.addresses[local];
      packets[local] = kind === 'hello' ? this.hellos[local]
        : kind === 'echo' ? echoPacket(source, this.rootAddress, this.keys[local])
        : whoisPacket(source, this.rootAddress, this.keys[local], whoisTargets[(this.o.from + local) * 7919 % whoisTargets.length]);
    }
    const askedAt = kind === 'hello' ? this.helloAt : kind === 'echo' ? this.echoAt : undefined;
    const minGapMs = spacingMs * SPACING_MARGIN;
    const hist = new LatencyHistogram();
    // one request per peer at a time: lastSend[local] is its send time, 0 when none is waiting
    const lastSend = new Float64Array(this.n);
    const order: number[] = [];
    const orderTime: number[] = [];
    let orderHead = 0, outstanding = 0, expired = 0, busySkips = 0, spacingSkips = 0;
    this.handler = (local, d, fromRoot) => {
      if (!fromRoot || packets[local] === undefined) return;
      if (this.o.verify && !isOkFor(d, this.keys[local], verb, packets[local].packetId)) {
        r.invalid++;
        return;
      }
      r.answered++;
      if (askedAt) askedAt[local] = performance.now(); // spacing counts from the root's reply (sent before this)
      if (lastSend[local] > 0) {
        hist.record((performance.now() - lastSend[local]) * 1000);
        lastSend[local] = 0;
        outstanding--;
        this.notify();
      }
    };
    const expire = (now: number): void => {
      while (orderHead < order.length && now - orderTime[orderHead] >= REPLY_TIMEOUT_MS) {
        const local = order[orderHead];
        if (lastSend[local] === orderTime[orderHead]) {
          lastSend[local] = 0;
          outstanding--;
          expired++;
        }
        orderHead++;
      }
      if (orderHead > 65536) {
        order.splice(0, orderHead);
        orderTime.splice(0, orderHead);
        orderHead = 0;
      }
    };
    let next = 0;
    const paced = await pace({ rate: target, seconds, window, inFlight: () => outstanding, expire, answered: () => this.answered() }, (k) => {
      const now = performance.now();
      let n = 0;
      for (let tries = 0; n < k && tries < 2 * k; tries++) {
        const local = locals[next];
        if (askedAt && now - askedAt[local] < minGapMs) {
          // the root would not answer this peer yet, nor the ones after it in round-robin order
          spacingSkips++;
          break;
        }
        next = next + 1 === locals.length ? 0 : next + 1;
        if (lastSend[local] !== 0) {
          if (window !== Infinity) {
            busySkips++; // closed loop: never two requests from one peer in flight
            continue;
          }
        } else {
          outstanding++;
        }
        if (askedAt) askedAt[local] = now;
        lastSend[local] = now;
        order.push(local);
        orderTime.push(now);
        this.send(local, packets[local].bytes);
        n++;
      }
      return n;
    });
    await this.drain(() => r.answered >= paced.sent);
    r.sent = paced.sent;
    r.seconds = paced.seconds;
    r.targetRate = Number.isFinite(target) ? target : 0;
    r.latency = hist.toJSON();
    r.extra = {
      expired, ...(busySkips ? { busySkips } : {}), ...(spacingSkips ? { spacingSkips } : {}),
      ...(Number.isFinite(cap) ? { rateCap: cap } : {}), ...(window !== Infinity ? { window } : {}),
    };
    return r;
  }

  // ------------------------------------------------------------------------------------------
  // relay between pairs (A→B and B→A alternately), send time stamped in the payload
  // ------------------------------------------------------------------------------------------

  private async relay(rate: Rate, seconds: number, size: number, window: number): Promise<StageReport> {
    const pairs = this.relayLocals.length / 2;
    if (pairs === 0) throw new Error('no relay peers in this shard');
    const r = emptyReport('relay');
    const stage = ++this.stageNumber >>> 0;
    const templates: { from: number; bytes: Buffer }[] = [];
    for (let p = 0; p < pairs; p++) {
      const a = this.relayLocals[2 * p], b = this.relayLocals[2 * p + 1];
      templates.push({ from: a, bytes: relayTemplate(this.addresses[a], this.addresses[b], size) });
      templates.push({ from: b, bytes: relayTemplate(this.addresses[b], this.addresses[a], size) });
    }
    const hist = new LatencyHistogram();
    // packets in flight, by sequence number modulo the ring (the window is far smaller)
    const sentAt = new Float64Array(RELAY_RING);
    const seqAt = new Int32Array(RELAY_RING).fill(-1);
    let received = 0, stale = 0, rendezvous = 0, seq = 0, tail = 0, inFlight = 0, expired = 0;
    this.handler = (_local, d, fromRoot) => {
      if (fromRoot) {
        rendezvous++; // RENDEZVOUS introducing the pair (once per pair per 30 s)
        return;
      }
      if (d.length < RELAY_MIN_LENGTH || d.readUInt32BE(RELAY_STAGE_OFFSET) !== stage) {
        stale++;
        return;
      }
      received++;
      hist.record((performance.now() - d.readDoubleLE(RELAY_TIME_OFFSET)) * 1000);
      const n = d.readUInt32BE(RELAY_SEQ_OFFSET);
      const slot = n % RELAY_RING;
      if (seqAt[slot] === n) {
        seqAt[slot] = -1;
        inFlight--;
        this.notify();
      }
    };
    const expire = (now: number): void => {
      while (tail < seq) {
        const slot = tail % RELAY_RING;
        if (seqAt[slot] === tail) {
          if (now - sentAt[slot] < REPLY_TIMEOUT_MS) break;
          seqAt[slot] = -1;
          inFlight--;
          expired++;
        }
        tail++;
      }
    };
    let next = 0;
    const paced = await pace({ rate: rate === 'max' ? Infinity : rate, seconds, window, inFlight: () => inFlight, expire, answered: () => this.answered() }, (k) => {
      for (let i = 0; i < k; i++) {
        const t = templates[next];
        next = next + 1 === templates.length ? 0 : next + 1;
        const buf = Buffer.allocUnsafe(t.bytes.length);
        t.bytes.copy(buf);
        const now = performance.now();
        const slot = seq % RELAY_RING;
        if (seqAt[slot] !== -1) {
          // the ring wrapped (open loop, very high rate): give up on the packet in this slot
          inFlight--;
          expired++;
        }
        seqAt[slot] = seq;
        sentAt[slot] = now;
        inFlight++;
        buf.writeUInt32BE(stage, RELAY_STAGE_OFFSET);
        buf.writeUInt32BE(seq++, RELAY_SEQ_OFFSET);
        buf.writeDoubleLE(now, RELAY_TIME_OFFSET);
        this.send(t.from, buf);
      }
      return k;
    });
    await this.drain(() => received >= paced.sent);
    r.sent = paced.sent;
    r.answered = received;
    r.seconds = paced.seconds;
    r.targetRate = rate === 'max' ? 0 : rate;
    r.latency = hist.toJSON();
    r.extra = { pairs, rendezvous, stale, expired, ...(window !== Infinity ? { window } : {}) };
    return r;
  }

  // ------------------------------------------------------------------------------------------
  // admission of identities the root has never seen
  // ------------------------------------------------------------------------------------------

  /**
   * Each identity HELLOs every 300 ms until answered. With perSourceNetwork (loopback targets
   * only) identity k sends from 127.a.b.1, its own /24, so the root's per-/24 admission bucket
   * does not limit the measurement; otherwise all share the generator's address.
   */
  private async admit(secrets: string[], seconds: number, perSourceNetwork: boolean): Promise<StageReport> {
    const r = emptyReport('admit');
    const ids = secrets.map((s) => parseIdentity(s)).filter((i): i is Identity => i?.hasPrivate === true);
    const hist = new LatencyHistogram();
    const firstSent = new Float64Array(ids.length);
    const lastSent = new Float64Array(ids.length);
    const admitted = new Uint8Array(ids.length);
    let count = 0, lastAdmit = 0;
    const sockets: Socket[] = [];
    const hellos: Prepared[] = [];
    const keys: PeerKey[] = [];
    const loopback4 = this.bind.startsWith('127.');
    try {
      for (let k = 0; k < ids.length; k++) {
        const raw = ids[k].agree(this.o.target.identity);
        if (!raw) throw new Error('key agreement failed');
        keys.push(new PeerKey(raw));
        hellos.push(helloPacket({ identity: ids[k], key: keys[k], to: this.rootAddress, via: this.via, protocolVersion: this.o.protocolVersion ?? 12 }));
        const bind = perSourceNetwork && loopback4 ? `127.${1 + Math.floor(k / 250)}.${1 + (k % 250)}.1` : this.bind;
        sockets.push(await openSocket(bind, this.o.target.host, this.o.target.port, (d) => {
          r.bytesReceived += d.length;
          const h = headerOf(d);
          if (!h || h.source !== this.rootAddress || h.destination !== ids[k].address || admitted[k]) return;
          if (this.o.verify && !isOkFor(d, keys[k], Verb.HELLO, hellos[k].packetId)) {
            r.invalid++;
            return;
          }
          admitted[k] = 1;
          count++;
          lastAdmit = performance.now();
          hist.record((lastAdmit - firstSent[k]) * 1000);
        }, () => { this.socketErrors++; }));
      }
      const start = performance.now();
      const end = start + seconds * 1000;
      while (count < ids.length && performance.now() < end) {
        const now = performance.now();
        for (let k = 0; k < ids.length; k++) {
          if (admitted[k] || now - lastSent[k] < ADMIT_RETRY_MS) continue;
          if (firstSent[k] === 0) firstSent[k] = now;
          lastSent[k] = now;
          sockets[k].send(hellos[k].bytes);
          r.sent++;
          r.bytesSent += hellos[k].bytes.length;
        }
        await sleep(5);
      }
      // all admitted: the stage lasted until the last one (never before it started: none to admit)
      r.seconds = (Math.max(start, count === ids.length ? lastAdmit : performance.now()) - start) / 1000;
    } finally {
      await Promise.all(sockets.map(closeSocket));
    }
    r.answered = count;
    r.latency = hist.toJSON();
    r.extra = { identities: ids.length, admitted: count, helloPerIdentity: ids.length ? r.sent / ids.length : 0 };
    // HELLOs repeated while an identity waits are not losses: count one per identity
    r.sent = ids.length;
    return r;
  }

  // ------------------------------------------------------------------------------------------
  // floods from one source, for amplification (bytes back / bytes in) and cost per packet
  // ------------------------------------------------------------------------------------------

  /** Flood packets; for replayed HELLOs, the peer each belongs to. */
  private floodPackets(kind: FloodKind): { bytes: Buffer; local?: number }[] {
    if (kind === 'replay') {
      if (this.requestLocals.length === 0) throw new Error('no request peers to replay HELLOs of');
      return this.requestLocals.map((local) => ({ bytes: this.helloFor(local, true).bytes, local }));
    }
    // unknown identities: no proof of work, HELLOs with valid MACs
    const out = this.invalidIdentityHellos(FLOOD_IDENTITIES);
    if (kind === 'unknown') return out.map((bytes) => ({ bytes }));
    // invalid: the identity's type byte is wrong, or the header's source is not the identity's address
    return out.map((p, k) => {
      const q = Buffer.from(p);
      if (k % 2 === 0) q[PacketOffset.payload + HELLO_IDENTITY_OFFSET + 5] = 1; // the identity's type byte
      else q[PacketOffset.source + 4] ^= 0x01;
      return { bytes: q };
    });
  }

  private async flood(kind: FloodKind, rate: number, seconds: number): Promise<StageReport> {
    const r = emptyReport(`flood-${kind}`);
    const packets = this.floodPackets(kind);
    const minGapMs = ROOT_TIMERS.helloReplySpacingMs * SPACING_MARGIN;
    let spacingSkips = 0;
    let received = 0;
    const socket = await openSocket(this.bind, this.o.target.host, this.o.target.port, (d) => {
      received++;
      r.bytesReceived += d.length;
    }, () => { this.socketErrors++; });
    try {
      let next = 0;
      const paced = await pace({ rate, seconds, window: Infinity, inFlight: () => 0, expire: () => {}, answered: () => this.answered() }, (k) => {
        const now = performance.now();
        let n = 0;
        for (let tries = 0; n < k && tries < 2 * k; tries++) {
          const p = packets[next];
          if (p.local !== undefined) {
            // a replayed HELLO of a peer that said HELLO too recently would not be answered
            if (now - this.helloAt[p.local] < minGapMs) {
              spacingSkips++;
              break;
            }
            this.helloAt[p.local] = now;
          }
          next = next + 1 === packets.length ? 0 : next + 1;
          r.bytesSent += p.bytes.length;
          socket.send(p.bytes);
          n++;
        }
        return n;
      });
      await sleep(Math.min(500, this.o.drainMs ?? 1000));
      r.sent = paced.sent;
      r.seconds = paced.seconds;
      r.targetRate = rate;
      // every datagram that came back counts as answered; most floods get none
      r.answered = received;
      r.extra = { datagramsBack: received, distinctIdentities: packets.length, ...(spacingSkips ? { spacingSkips } : {}) };
    } finally {
      await closeSocket(socket);
    }
    return r;
  }

  // ------------------------------------------------------------------------------------------
  // known peers under a flood of fresh invalid identities from many source networks
  // ------------------------------------------------------------------------------------------

  /**
   * HELLOs from `count` distinct identities that fail proof of work, each with a valid MAC. They
   * share one X25519 key (the attacker agrees once) but differ in address and signing key, so
   * to the root each is a new identity that costs a key agreement and a validation to refuse.
   */
  private invalidIdentityHellos(count: number): Buffer[] {
    const priv = new Uint8Array(64);
    priv.set(randomBytes(32), 0);
    const agreementKey = agreementPublicKey(priv);
    const raw = agree(priv, this.o.target.identity.publicKey);
    if (!raw) throw new Error('key agreement with the target failed');
    const key = new PeerKey(raw);
    const signing = randomBytes(32 * count);
    return randomAddresses(count, new Set(this.o.peers.addresses)).map((address, k) => {
      const pub = new Uint8Array(64);
      pub.set(agreementKey, 0);
      pub.set(signing.subarray(32 * k, 32 * k + 32), 32);
      return helloPacket({ identity: new Identity(address, pub), key, to: this.rootAddress, via: this.via, protocolVersion: this.o.protocolVersion ?? 12 }).bytes;
    });
  }

  /**
   * Known-peer HELLOs (the report's main figures) while invalid identities flood in from
   * `networks` source /24s, 127.k.1.1 for k = 1…networks on a loopback IPv4 target (one source
   * otherwise). Any datagram back to a flood socket answers an invalid identity: none should.
   */
  private async attack(floodRate: number, helloRate: number, seconds: number, networks: number): Promise<StageReport> {
    const packets = this.invalidIdentityHellos(Math.min(MAX_ATTACK_IDENTITIES, Math.max(1, Math.ceil(floodRate * seconds))));
    const sources = this.bind.startsWith('127.') ? Array.from({ length: Math.min(255, Math.max(1, networks)) }, (_, k) => `127.${k + 1}.1.1`) : [this.bind];
    const flood = { sent: 0, back: 0, bytesSent: 0, bytesBack: 0 };
    const sockets: Socket[] = [];
    try {
      for (const source of sources) {
        sockets.push(await openSocket(source, this.o.target.host, this.o.target.port, (d) => {
          flood.back++;
          flood.bytesBack += d.length;
        }, () => { this.socketErrors++; }));
      }
      let next = 0;
      const flooding = pace({ rate: floodRate, seconds, window: Infinity, inFlight: () => 0, expire: () => {}, answered: () => this.answered() }, (k) => {
        for (let i = 0; i < k; i++) {
          const p = packets[next % packets.length];
          sockets[next % sockets.length].send(p);
          next++;
          flood.bytesSent += p.length;
        }
        flood.sent += k;
        return k;
      });
      const bytes0 = { sent: this.bytesSent, received: this.bytesReceived };
      const [r] = await Promise.all([this.requests('hello', helloRate, seconds, Infinity), flooding]);
      await sleep(Math.min(500, this.o.drainMs ?? 1000)); // late answers to the flood, if any
      r.kind = 'attack';
      r.bytesSent = this.bytesSent - bytes0.sent;
      r.bytesReceived = this.bytesReceived - bytes0.received;
      r.extra = {
        ...r.extra, floodSent: flood.sent, floodPerSecond: flood.sent / r.seconds, floodAnswered: flood.back,
        floodBytesSent: flood.bytesSent, floodBytesBack: flood.bytesBack, floodNetworks: sources.length,
        floodIdentities: Math.min(packets.length, flood.sent),
      };
      return r;
    } finally {
      await Promise.all(sockets.map(closeSocket));
    }
  }

  // ------------------------------------------------------------------------------------------
  // time until a (re)starting root answers WHOIS for a cached identity
  // ------------------------------------------------------------------------------------------

  private async restartProbe(asked: Address, seconds: number, intervalMs: number): Promise<StageReport> {
    const r = emptyReport('restart-probe');
    const local = this.requestLocals[0] ?? 0;
    const whois = whoisPacket(this.addresses[local], this.rootAddress, this.keys[local], asked);
    let answeredAt = 0;
    this.handler = (l, d, fromRoot) => {
      if (answeredAt || l !== local || !fromRoot) return;
      if (this.o.verify && !isOkFor(d, this.keys[local], Verb.WHOIS, whois.packetId)) return;
      answeredAt = performance.timeOrigin + performance.now();
    };
    const firstSend = performance.timeOrigin + performance.now();
    const end = performance.now() + seconds * 1000;
    while (!answeredAt && performance.now() < end) {
      this.send(local, this.hellos[local].bytes);
      this.send(local, whois.bytes);
      r.sent++;
      await sleep(intervalMs);
    }
    r.answered = answeredAt ? 1 : 0;
    r.seconds = ((answeredAt || performance.timeOrigin + performance.now()) - firstSend) / 1000;
    r.extra = { firstSendEpochMs: firstSend, answeredAtEpochMs: answeredAt };
    return r;
  }

  async close(): Promise<void> {
    await Promise.all(this.sockets.map(closeSocket));
    this.sockets.length = 0;
  }
}
