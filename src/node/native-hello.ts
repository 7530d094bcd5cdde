// The known-peer HELLO fast path of the batch UDP addon (native/src/hello_fast.h): a table of the
// peers JavaScript has answered, which the addon uses to answer their next HELLOs straight from
// the receive ring. This file wraps the table; hello-intake.ts fills it after answering a peer
// once, native-hello-path.ts books what the addon reports (one record per peer at most once a
// second, or when its path or version changed); the transport attaches it to its sockets
// (batch-udp.ts).

import { readAddress, writeAddress, type Address } from '../identity/address.ts';
import { META, META_BYTES } from './batch-ring.ts';
import type { IpAddress } from '../wire/inet-address.ts';
import type { World } from '../world/world.ts';
import { requireNativeAddon } from '../util/native-addon.ts';
import type { Peer } from './peer.ts';

// Layout shared with native/src/hello_fast.h (checked against the addon's figures at load).
export const HELLO_RECORD_BYTES = 40;
const RECORD = { address: 0, flags: 5, family: 6, socket: 8, port: 10, version: 12, ip: 20 } as const;
export const RecordFlag = { answered: 1, rateLimited: 2 } as const;
const COUNTER = { hellos: 0, answered: 1, rateLimited: 2, bytesIn: 3, bytesOut: 4, left: 5 } as const;
const COUNTERS = 6;
const WAYS = 4;
const ENTRY_BYTES = 5 + 32 + 64 + 5;
const MAX_MOONS = 16;
/** The largest OK(HELLO) the addon writes, bytes (a reply buffer must hold it). */
export const OK_HELLO_MAX_LENGTH = 28 + 1 + 8 + 8 + 5 + 19 + 2;
/** helloAnswer's source: a ring metadata record with the socket index here (hello_napi.h). */
const SOURCE_SOCKET = 30;

export interface HelloBinding {
  helloTable(address: number, version: Uint8Array, spacingMs: number, buckets: number, state: ArrayBuffer): object;
  helloWorlds(table: object, worlds: Uint8Array): void;
  helloRegister(table: object, entry: Uint8Array, lastReplyMs: number): boolean;
  helloForget(table: object, address: number): void;
  helloLastReply(table: object, address: number): number | undefined;
  helloAnswer(table: object, datagram: Uint8Array, source: Uint8Array, nowMs: number, packetId: Uint8Array | null, reply: Uint8Array, record: Uint8Array): [number, number, boolean];
  helloAttach(socket: object, table: object | null, records?: ArrayBuffer, socketIndex?: number): void;
  readonly helloRecordBytes: number;
  readonly helloCounters: number;
  readonly helloWays: number;
  readonly okHelloMaxLength: number;
}

let loaded: { binding: HelloBinding } | { reason: string } | undefined;

function loadBinding(): { binding: HelloBinding } | { reason: string } {
  if (loaded) return loaded;
  if (process.platform !== 'linux') return (loaded = { reason: 'the HELLO fast path lives in the batch UDP addon (Linux only)' });
  const r = requireNativeAddon<HelloBinding>('batch_udp');
  if (!('binding' in r)) return (loaded = r);
  const b = r.binding;
  if (typeof b.helloTable !== 'function') return (loaded = { reason: 'the batch UDP addon has no HELLO fast path: rebuild native/' });
  if (b.helloRecordBytes !== HELLO_RECORD_BYTES || b.helloCounters !== COUNTERS || b.helloWays !== WAYS || b.okHelloMaxLength !== OK_HELLO_MAX_LENGTH) {
    return (loaded = { reason: 'HELLO fast path layout mismatch: rebuild native/' });
  }
  return (loaded = r);
}

/** Whether the addon with the fast path loads here (and why not). */
export function nativeHelloAvailability(): { ok: true } | { ok: false; reason: string } {
  const l = loadBinding();
  return 'binding' in l ? { ok: true } : { ok: false, reason: l.reason };
}

export interface NativeHelloOptions {
  /** Our address. */
  address: Address;
  /** Protocol and software version OK(HELLO) reports. */
  protocolVersion: number;
  version: { major: number; minor: number; revision: number };
  /** Least time between two OK(HELLO)s to one peer, ms. */
  spacingMs: number;
  /** Peers the table holds at least (rounded up to whole buckets of four, twice over so buckets rarely fill). */
  peers: number;
}

/** What the fast path did since the last call of takeCounts. */
export interface HelloCounts {
  hellos: number;
  answered: number;
  rateLimited: number;
  bytesIn: number;
  bytesOut: number;
}

/** One booking record, decoded (tests; the intake reads records in place). */
export interface HelloRecord {
  address: Address;
  flags: number;
  socket: number;
  from: IpAddress;
  version: { protocol: number; major: number; minor: number; revision: number };
}

export class NativeHelloTable {
  readonly handle: object;
  private readonly binding: HelloBinding;
  private readonly counters: Float64Array;
  private readonly taken = new Float64Array(COUNTERS);
  private readonly entry = new Uint8Array(ENTRY_BYTES);

  /** A table, or the reason there is none (addon missing or without the fast path). */
  static create(o: NativeHelloOptions): NativeHelloTable | string {
    const l = loadBinding();
    if (!('binding' in l)) return l.reason;
    return new NativeHelloTable(l.binding, o);
  }

  private constructor(binding: HelloBinding, o: NativeHelloOptions) {
    this.binding = binding;
    const state = new ArrayBuffer(COUNTERS * 8);
    this.counters = new Float64Array(state);
    const version = Uint8Array.of(o.protocolVersion, o.version.major, o.version.minor, o.version.revision >>> 8, o.version.revision & 0xff);
    let buckets = 1;
    while (buckets * WAYS < 2 * o.peers) buckets *= 2;
    this.handle = binding.helloTable(o.address, version, o.spacingMs, buckets, state);
  }

  /** The worlds we serve: a HELLO naming an older copy of one is left to JavaScript, which sends it. */
  setWorlds(planet: World | undefined, moons: readonly World[]): void {
    const listed = moons.length <= MAX_MOONS ? moons : [];
    const w = new Uint8Array(19 + 16 * listed.length);
    const dv = new DataView(w.buffer);
    if (planet) {
      w[0] = 1;
      dv.setBigUint64(1, planet.id);
      dv.setBigUint64(9, planet.timestamp);
    }
    dv.setUint16(17, moons.length);
    listed.forEach((m, i) => {
      dv.setBigUint64(19 + 16 * i, m.id);
      dv.setBigUint64(27 + 16 * i, m.timestamp);
    });
    this.binding.helloWorlds(this.handle, w);
  }

  /** Answer this peer's HELLOs natively from now on (or update its entry); false when its bucket is busy. */
  register(peer: Peer): boolean {
    const e = this.entry;
    writeAddress(peer.address, e, 0);
    e.set(peer.key.salsaKey, 5);
    e.set(peer.identity.publicKey, 37);
    const v = peer.version;
    e[101] = v.protocol;
    e[102] = v.major;
    e[103] = v.minor;
    e[104] = v.revision >>> 8;
    e[105] = v.revision & 0xff;
    return this.binding.helloRegister(this.handle, e, peer.lastHelloReplyMs);
  }

  forget(address: Address): void {
    this.binding.helloForget(this.handle, address);
  }

  /** When the fast path last answered this peer, ms (undefined: it holds no entry for it). */
  lastReply(address: Address): number | undefined {
    return this.binding.helloLastReply(this.handle, address);
  }

  /** Counts since the previous call. */
  takeCounts(): HelloCounts {
    const c = this.counters, t = this.taken;
    const delta = (k: number): number => {
      const d = c[k] - t[k];
      t[k] = c[k];
      return d;
    };
    return {
      hellos: delta(COUNTER.hellos), answered: delta(COUNTER.answered), rateLimited: delta(COUNTER.rateLimited),
      bytesIn: delta(COUNTER.bytesIn), bytesOut: delta(COUNTER.bytesOut),
    };
  }

  /** Datagrams the addon left to JavaScript so far (anything but a settled known-peer HELLO). */
  get left(): number {
    return this.counters[COUNTER.left];
  }

  /** OK(HELLO)s the fast path sent so far. */
  get answered(): number {
    return this.counters[COUNTER.answered];
  }

  /**
   * The fast path on one datagram outside the ring (tests, fuzzing): 'fallback', or the OK(HELLO)
   * it would send (undefined when rate-limited) and the booking record if it made one. The
   * datagram is read as the ring would hold it; `packetId` fixes the reply's ID.
   */
  answer(datagram: Uint8Array, from: IpAddress, socket: number, nowMs: number, packetId?: Uint8Array):
    'fallback' | { outcome: 'answered' | 'rate-limited'; reply: Uint8Array | undefined; record: HelloRecord | undefined } {
    const source = new Uint8Array(META_BYTES);
    const sdv = new DataView(source.buffer);
    sdv.setUint16(META.port, from.port, true);
    source[META.family] = from.family;
    source.set(from.ip, META.ip);
    sdv.setUint16(SOURCE_SOCKET, socket, true);
    const reply = new Uint8Array(OK_HELLO_MAX_LENGTH);
    const record = new Uint8Array(HELLO_RECORD_BYTES);
    const [outcome, length, booked] = this.binding.helloAnswer(this.handle, Uint8Array.from(datagram), source, nowMs, packetId ?? null, reply, record);
    if (outcome === 0) return 'fallback';
    return {
      outcome: outcome === 1 ? 'answered' : 'rate-limited',
      reply: length > 0 ? reply.slice(0, length) : undefined,
      record: booked ? readRecord(record, 0) : undefined,
    };
  }

  /** Attach to (or, with null, detach from) a batch UDP socket handle; `records` holds a record per ring slot. */
  attach(socketHandle: object, records: ArrayBuffer | null, socketIndex: number): void {
    if (records) this.binding.helloAttach(socketHandle, this.handle, records, socketIndex);
    else this.binding.helloAttach(socketHandle, null);
  }
}

/** Record i of a record buffer. */
export function readRecord(b: Uint8Array, i: number): HelloRecord {
  const o = i * HELLO_RECORD_BYTES;
  const dv = new DataView(b.buffer, b.byteOffset + o, HELLO_RECORD_BYTES);
  const family = b[o + RECORD.family] === 6 ? 6 : 4;
  return {
    address: recordAddress(b, i),
    flags: b[o + RECORD.flags],
    socket: dv.getUint16(RECORD.socket, true),
    from: { family, ip: b.slice(o + RECORD.ip, o + RECORD.ip + (family === 4 ? 4 : 16)), port: dv.getUint16(RECORD.port, true) } as IpAddress,
    version: {
      protocol: b[o + RECORD.version], major: b[o + RECORD.version + 1], minor: b[o + RECORD.version + 2],
      revision: (b[o + RECORD.version + 3] << 8) | b[o + RECORD.version + 4],
    },
  };
}

/** The peer address of record i. */
export function recordAddress(b: Uint8Array, i: number): Address {
  return readAddress(b, i * HELLO_RECORD_BYTES + RECORD.address);
}
