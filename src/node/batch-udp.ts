// UDP through the native batch addon (native/, Linux): datagrams are read with recvmmsg and sent
// with sendmmsg, so a burst costs one system call each way instead of one per datagram. The
// addon and this file share five ArrayBuffers per socket (receive ring, send ring, their
// metadata, and a state block); the addon calls back once per received batch with its count.
//
// NativeUdpTransport offers the same interface as UdpTransport (udp.ts). createUdpTransport picks
// it when the addon is built and loads, and falls back to UdpTransport (plain dgram) otherwise:
// `npm ci` builds the addon but never fails when the build does.
//
// Sends are queued in the send ring. Whatever the handler queues on the socket a batch arrived
// on leaves in one sendmmsg right after the batch; anything else (another socket, a timer, a
// promise) is flushed at the next microtask checkpoint, so a send never waits for a later event.
//
// With a HELLO table attached (attachHello, native-hello.ts) the addon answers known peers'
// HELLOs itself: those slots arrive flagged handled and are skipped here, and the records of what
// the node must still book go to the record handler once per batch.

import { parseIpv6, type IpAddress } from '../wire/inet-address.ts';
import { silentLogger, type Logger } from '../util/log.ts';
import { FLAG_HANDLED, FLAG_TRUNCATED, META, META_BYTES } from './batch-ring.ts';
import { HELLO_RECORD_BYTES, type NativeHelloTable } from './native-hello.ts';
import { requireNativeAddon } from '../util/native-addon.ts';
import {
  localAddresses, UdpTransport, type DatagramHandler, type DatagramTransport, type LocalSocket, type UdpOptions,
} from './udp.ts';

// Layout shared with native/src/batch_udp.c (checked against the addon's own figures at load).
const CONTROL = { sendCount: 0, boundPort: 1, coalescing: 2, helloRecords: 3 } as const;
const CONTROL_WORDS = 8;
const COUNTER = {
  received: 0, batches: 1, truncated: 2, recvErrors: 3, sent: 4, sendDropped: 5, sendErrors: 6, flushes: 7, callbackErrors: 8,
  wakeups: 9, ticks: 10,
} as const;
const COUNTERS = 11;
const STATE_BYTES = CONTROL_WORDS * 4 + COUNTERS * 8;
/** Slot sizes the addon accepts, bytes. */
const MIN_SLOT_BYTES = 64;
const MAX_SLOT_BYTES = 65536;

/** Datagrams per recvmmsg / sendmmsg round. */
export const DEFAULT_BATCH_SLOTS = 64;
/** Bytes per datagram slot: above ZeroTier's largest physical datagram (MAX_PHYSICAL_MTU, 10324). */
export const DEFAULT_SLOT_BYTES = 16384;
/**
 * Off unless asked for: coalescing saves CPU where datagrams arrive one per wakeup, but a root
 * relaying at half load then waited ~0.5 ms more per packet (README, Known-peer HELLO cost).
 */
export const DEFAULT_COALESCE_MICROS = 0;
/** The largest coalescing threshold the addon accepts (10 s), µs. */
const MAX_COALESCE_MICROS = 10_000_000;

interface NativeHandle { readonly __nativeBatchUdp: unique symbol }

interface NativeMemory {
  recvData: ArrayBuffer;
  recvMeta: ArrayBuffer;
  sendData: ArrayBuffer;
  sendMeta: ArrayBuffer;
  state: ArrayBuffer;
}

interface NativeBinding {
  open(
    options: {
      family: 4 | 6; address: string; port: number; reusePort: boolean; coalesceMicros: number; bufferBytes: number; slots: number; slotBytes: number;
    },
    memory: NativeMemory,
    onBatch: (count: number) => void,
  ): NativeHandle;
  flush(handle: NativeHandle): number;
  close(handle: NativeHandle): void;
  /** Present when the addon has the HELLO fast path (native-hello.ts attaches tables). */
  helloAttach?(handle: NativeHandle, table: null): void;
  readonly metaBytes: number;
  readonly stateBytes: number;
  readonly maxSlots: number;
}

export type NativeAvailability = { ok: true } | { ok: false; reason: string };

let loaded: { binding: NativeBinding } | { reason: string } | undefined;

function loadBinding(): { binding: NativeBinding } | { reason: string } {
  if (loaded) return loaded;
  if (process.platform !== 'linux') return (loaded = { reason: `batch UDP is Linux only (this is ${process.platform})` });
  const r = requireNativeAddon<NativeBinding>('batch_udp');
  if (!('binding' in r)) return (loaded = r);
  const { binding } = r;
  if (binding.metaBytes !== META_BYTES || binding.stateBytes !== STATE_BYTES) {
    return (loaded = { reason: `addon layout mismatch (meta ${binding.metaBytes}, state ${binding.stateBytes}): rebuild native/` });
  }
  return (loaded = r);
}

/** Whether the native addon is built and loads here (and why not). */
export function nativeUdpAvailability(): NativeAvailability {
  const l = loadBinding();
  return 'binding' in l ? { ok: true } : { ok: false, reason: l.reason };
}

/** A source address as the fast path sees it: reused for every datagram, valid during the call. */
export interface RawSource {
  family: 4 | 6;
  port: number;
  /** IPv4 as a big-endian u32. */
  ip4: number;
  /** IPv6 as four big-endian u32 words. */
  readonly ip6: Uint32Array;
}

/**
 * A fast-path receiver: `view` points into the receive ring and is valid only during the call
 * (copy anything kept). Return true when the datagram was dealt with; false passes it on to the
 * ordinary DatagramHandler.
 */
export type RawDatagramHandler = (view: Uint8Array, source: RawSource, socket: LocalSocket) => boolean;

/** The HELLO fast path's booking records of one batch: `count` records in `records` (valid during the call). */
export type HelloRecordHandler = (records: Uint8Array, count: number, socket: LocalSocket) => void;

/** A destination in the shape of the shared peer table's PathLookup. */
export interface PathLike {
  family: 4 | 6;
  ip4: number;
  readonly ip6: Uint32Array;
  port: number;
}

export interface NativeUdpOptions {
  /** Datagrams per batch each way (default 64). */
  slots?: number;
  /** Largest datagram, bytes (default 16384); larger ones are dropped and counted. */
  slotBytes?: number;
  /**
   * Give the DatagramHandler its own copy of each datagram (default true), as dgram does. With
   * false it gets a view into the receive ring that is overwritten by the next batch.
   */
  copyReceived?: boolean;
  /**
   * Receive coalescing (native/src/batch_udp.c): while a socket wakes the thread more often than
   * once per this many µs on average, it is drained on a 1 ms tick instead, so each wakeup
   * carries more datagrams. Costs a datagram up to one tick (1-2 ms) of waiting under load,
   * nothing at light load. Default DEFAULT_COALESCE_MICROS; 0 turns it off.
   */
  coalesceMicros?: number;
}

export interface BatchUdpStats {
  received: number;
  batches: number;
  truncated: number;
  recvErrors: number;
  sent: number;
  sendDropped: number;
  sendErrors: number;
  flushes: number;
  handlerErrors: number;
  /** Times a socket woke the thread by becoming readable. */
  wakeups: number;
  /** Coalescing ticks that drained a socket. */
  ticks: number;
  /** Sockets being drained by the coalescing tick right now. */
  coalescing: number;
}

/** One bound socket: its handle and typed views over the memory it shares with the addon. */
interface BatchSocket {
  readonly local: LocalSocket;
  readonly handle: NativeHandle;
  readonly recvData: Buffer;
  /** The same ring as a plain Uint8Array: its views are cheaper to make than a Buffer's. */
  readonly recvBytes: Uint8Array;
  readonly recvMeta: Uint8Array;
  readonly recvLength: Uint32Array;
  readonly recvPort: Uint16Array;
  readonly sendData: Uint8Array;
  readonly sendMeta: Uint8Array;
  readonly sendLength: Uint32Array;
  readonly sendPort: Uint16Array;
  readonly control: Int32Array;
  readonly counters: Float64Array;
  flushQueued: boolean;
  /** The HELLO fast path's record buffer (a record per slot). */
  readonly helloRecords: Uint8Array;
}

export class NativeUdpTransport implements DatagramTransport {
  readonly sockets: LocalSocket[] = [];
  private readonly bound: BatchSocket[] = [];
  private readonly binding: NativeBinding;
  private readonly slots: number;
  private readonly slotBytes: number;
  private readonly copyReceived: boolean;
  private readonly coalesceMicros: number;
  private handler: DatagramHandler = () => {};
  private raw: RawDatagramHandler | undefined;
  private hello: { table: NativeHelloTable; onRecords: HelloRecordHandler } | undefined;
  private readonly rawSource: RawSource = { family: 4, port: 0, ip4: 0, ip6: new Uint32Array(4) };
  /** The socket whose batch is being handled: its sends go out right after the batch. */
  private current: BatchSocket | undefined;
  private readonly dirty: BatchSocket[] = [];
  private microtaskQueued = false;
  private localSendErrors = 0;
  private handlerErrors = 0;
  private closed = false;

  /** Throws if the addon is not available (see nativeUdpAvailability / createUdpTransport). */
  constructor(options: NativeUdpOptions = {}) {
    const l = loadBinding();
    if (!('binding' in l)) throw new Error(`native batch UDP unavailable: ${l.reason}`);
    this.binding = l.binding;
    this.slots = options.slots ?? DEFAULT_BATCH_SLOTS;
    this.slotBytes = options.slotBytes ?? DEFAULT_SLOT_BYTES;
    this.copyReceived = options.copyReceived ?? true;
    this.coalesceMicros = options.coalesceMicros ?? DEFAULT_COALESCE_MICROS;
    if (!Number.isInteger(this.slots) || this.slots < 1 || this.slots > l.binding.maxSlots) throw new RangeError(`slots must be 1..${l.binding.maxSlots}`);
    if (!Number.isInteger(this.slotBytes) || this.slotBytes < MIN_SLOT_BYTES || this.slotBytes > MAX_SLOT_BYTES) {
      throw new RangeError(`slotBytes must be ${MIN_SLOT_BYTES}..${MAX_SLOT_BYTES}`);
    }
    if (!Number.isInteger(this.coalesceMicros) || this.coalesceMicros < 0 || this.coalesceMicros > MAX_COALESCE_MICROS) {
      throw new RangeError(`coalesceMicros must be 0..${MAX_COALESCE_MICROS}`);
    }
  }

  onDatagram(handler: DatagramHandler): void {
    this.handler = handler;
  }

  /**
   * Let the addon answer known peers' HELLOs with this table on every socket, now and opened
   * later (undefined: stop). `onRecords` books what it did.
   */
  attachHello(table: NativeHelloTable | undefined, onRecords?: HelloRecordHandler): void {
    this.hello = table && onRecords ? { table, onRecords } : undefined;
    for (const s of this.bound) this.attachHelloTo(s);
  }

  private attachHelloTo(s: BatchSocket): void {
    if (this.closed) return;
    if (this.hello) this.hello.table.attach(s.handle, s.helloRecords.buffer as ArrayBuffer, s.local.index);
    else this.binding.helloAttach?.(s.handle, null);
  }

  /** Install (or remove) the fast-path receiver, asked first for every datagram. */
  onRawDatagram(handler: RawDatagramHandler | undefined): void {
    this.raw = handler;
  }

  get sendErrors(): number {
    let n = this.localSendErrors;
    for (const s of this.bound) n += s.counters[COUNTER.sendErrors] + s.counters[COUNTER.sendDropped];
    return n;
  }

  stats(): BatchUdpStats {
    const out: BatchUdpStats = {
      received: 0, batches: 0, truncated: 0, recvErrors: 0, sent: 0, sendDropped: 0, sendErrors: this.localSendErrors, flushes: 0,
      handlerErrors: this.handlerErrors, wakeups: 0, ticks: 0, coalescing: 0,
    };
    for (const s of this.bound) {
      const c = s.counters;
      out.received += c[COUNTER.received];
      out.batches += c[COUNTER.batches];
      out.truncated += c[COUNTER.truncated];
      out.recvErrors += c[COUNTER.recvErrors];
      out.sent += c[COUNTER.sent];
      out.sendDropped += c[COUNTER.sendDropped];
      out.sendErrors += c[COUNTER.sendErrors];
      out.flushes += c[COUNTER.flushes];
      out.handlerErrors += c[COUNTER.callbackErrors];
      out.wakeups += c[COUNTER.wakeups];
      out.ticks += c[COUNTER.ticks];
      out.coalescing += s.control[CONTROL.coalescing];
    }
    return out;
  }

  /** Bind every (address, port); rejects with a clear message if any bind fails. */
  async open(options: UdpOptions): Promise<void> {
    const addresses = options.bind.length > 0 ? options.bind : localAddresses();
    for (const address of addresses) {
      const family = address.includes(':') ? 6 : 4;
      for (const port of options.ports) {
        try {
          this.openOne(address, family, port, options);
        } catch (e) {
          await this.close();
          const code = (e as NodeJS.ErrnoException).code;
          throw new Error(`cannot bind UDP ${address}/${port}: ${code ? `${code} ` : ''}${(e as Error).message}`);
        }
      }
    }
  }

  private openOne(address: string, family: 4 | 6, port: number, options: UdpOptions): void {
    const dataBytes = this.slots * this.slotBytes, metaBytes = this.slots * META_BYTES;
    const memory: NativeMemory = {
      recvData: new ArrayBuffer(dataBytes),
      recvMeta: new ArrayBuffer(metaBytes),
      sendData: new ArrayBuffer(dataBytes),
      sendMeta: new ArrayBuffer(metaBytes),
      state: new ArrayBuffer(STATE_BYTES),
    };
    const index = this.sockets.length;
    let socket: BatchSocket | undefined;
    const handle = this.binding.open(
      {
        family, address, port, reusePort: options.reusePort === true, coalesceMicros: this.coalesceMicros, bufferBytes: options.bufferBytes ?? 0,
        slots: this.slots, slotBytes: this.slotBytes,
      },
      memory,
      (count) => { if (socket) this.deliver(socket, count); },
    );
    const control = new Int32Array(memory.state, 0, CONTROL_WORDS);
    const local: LocalSocket = { index, address, port: control[CONTROL.boundPort], family };
    socket = {
      local,
      handle,
      recvData: Buffer.from(memory.recvData),
      recvBytes: new Uint8Array(memory.recvData),
      recvMeta: new Uint8Array(memory.recvMeta),
      recvLength: new Uint32Array(memory.recvMeta),
      recvPort: new Uint16Array(memory.recvMeta),
      sendData: new Uint8Array(memory.sendData),
      sendMeta: new Uint8Array(memory.sendMeta),
      sendLength: new Uint32Array(memory.sendMeta),
      sendPort: new Uint16Array(memory.sendMeta),
      control,
      counters: new Float64Array(memory.state, CONTROL_WORDS * 4, COUNTERS),
      flushQueued: false,
      helloRecords: new Uint8Array(this.slots * HELLO_RECORD_BYTES),
    };
    this.sockets.push(local);
    this.bound.push(socket);
    if (this.hello) this.attachHelloTo(socket);
  }

  /** One batch from the addon: `count` datagrams in the receive ring. */
  private deliver(s: BatchSocket, count: number): void {
    this.current = s;
    try {
      const meta = s.recvMeta, slotBytes = this.slotBytes, raw = this.raw, src = this.rawSource;
      for (let i = 0; i < count && !this.closed; i++) {
        const m = i * META_BYTES;
        if ((meta[m + META.flags] & (FLAG_TRUNCATED | FLAG_HANDLED)) !== 0) continue;
        const length = s.recvLength[(m + META.length) >>> 2];
        const family = meta[m + META.family];
        if (family !== 4 && family !== 6) continue;
        const port = s.recvPort[(m + META.port) >>> 1];
        const start = i * slotBytes;
        const view = s.recvBytes.subarray(start, start + length);
        try {
          if (raw) {
            src.family = family;
            src.port = port;
            const ip = m + META.ip;
            if (family === 4) src.ip4 = ((meta[ip] << 24) | (meta[ip + 1] << 16) | (meta[ip + 2] << 8) | meta[ip + 3]) >>> 0;
            else for (let k = 0; k < 4; k++) src.ip6[k] = (meta[ip + 4 * k] << 24) | (meta[ip + 4 * k + 1] << 16) | (meta[ip + 4 * k + 2] << 8) | meta[ip + 4 * k + 3];
            if (raw(view, src, s.local)) continue;
          }
          let data: Buffer;
          if (this.copyReceived) {
            data = Buffer.allocUnsafe(length);
            data.set(view);
          } else {
            data = s.recvData.subarray(start, start + length);
          }
          const from = { family, ip: meta.slice(m + META.ip, m + META.ip + (family === 4 ? 4 : 16)), port } as IpAddress;
          this.handler(data, from, s.local);
        } catch {
          this.handlerErrors++; // a handler must not throw; never let one datagram stop the batch
        }
      }
      const records = s.control[CONTROL.helloRecords];
      if (records > 0 && this.hello && !this.closed) {
        s.control[CONTROL.helloRecords] = 0;
        try {
          this.hello.onRecords(s.helloRecords, records, s.local);
        } catch {
          this.handlerErrors++;
        }
      }
    } finally {
      this.current = undefined;
    }
  }

  /** Reserve the next send slot of socket `index` for `length` bytes; -1 (counted) if impossible. */
  private reserve(s: BatchSocket, length: number): number {
    if (length > this.slotBytes) {
      this.localSendErrors++;
      return -1;
    }
    let n = s.control[CONTROL.sendCount];
    if (n >= this.slots) {
      this.binding.flush(s.handle);
      n = 0;
    }
    s.control[CONTROL.sendCount] = n + 1;
    if (s !== this.current) this.flushSoon(s);
    return n;
  }

  private flushSoon(s: BatchSocket): void {
    if (s.flushQueued) return;
    s.flushQueued = true;
    this.dirty.push(s);
    if (this.microtaskQueued) return;
    this.microtaskQueued = true;
    queueMicrotask(() => this.flushDirty());
  }

  private flushDirty(): void {
    this.microtaskQueued = false;
    for (const s of this.dirty) {
      s.flushQueued = false;
      if (!this.closed) this.binding.flush(s.handle);
    }
    this.dirty.length = 0;
  }

  /** Queue `data` in slot `n` with the metadata already written; copies the bytes. */
  private fill(s: BatchSocket, n: number, data: Uint8Array, family: 4 | 6, port: number): void {
    const m = n * META_BYTES;
    s.sendData.set(data, n * this.slotBytes);
    s.sendLength[(m + META.length) >>> 2] = data.length;
    s.sendPort[(m + META.port) >>> 1] = port;
    s.sendMeta[m + META.family] = family;
  }

  send(socket: LocalSocket, to: IpAddress, data: Uint8Array): void {
    const s = this.bound[socket.index];
    if (!s || this.closed || socket.family !== to.family) {
      this.localSendErrors++;
      return;
    }
    const n = this.reserve(s, data.length);
    if (n < 0) return;
    s.sendMeta.set(to.ip, n * META_BYTES + META.ip);
    this.fill(s, n, data, to.family, to.port);
  }

  /** Send to a host given as IP text through socket `index` (the relay path of Node). */
  sendToHost(index: number, host: string, port: number, data: Uint8Array): void {
    const s = this.bound[index];
    if (!s || this.closed) {
      this.localSendErrors++;
      return;
    }
    const family = host.includes(':') ? 6 : 4;
    if (family !== s.local.family) {
      this.localSendErrors++;
      return;
    }
    let ip6: Uint8Array | null = null;
    if (family === 6 && (ip6 = parseIpv6(host)) === null) {
      this.localSendErrors++;
      return;
    }
    const n = this.reserve(s, data.length);
    if (n < 0) return;
    const at = n * META_BYTES + META.ip;
    if (ip6) s.sendMeta.set(ip6, at);
    else if (!writeIpv4Text(host, s.sendMeta, at)) {
      s.control[CONTROL.sendCount] = n; // give the slot back
      this.localSendErrors++;
      return;
    }
    this.fill(s, n, data, family, port);
  }

  /** Send to a path in PathLookup form through socket `index`: no text, no allocation. */
  sendToPath(index: number, path: PathLike, data: Uint8Array): void {
    const s = this.bound[index];
    if (!s || this.closed || path.family !== s.local.family) {
      this.localSendErrors++;
      return;
    }
    const n = this.reserve(s, data.length);
    if (n < 0) return;
    const at = n * META_BYTES + META.ip, meta = s.sendMeta;
    if (path.family === 4) {
      const v = path.ip4;
      meta[at] = v >>> 24; meta[at + 1] = v >>> 16; meta[at + 2] = v >>> 8; meta[at + 3] = v;
    } else {
      for (let k = 0; k < 4; k++) {
        const v = path.ip6[k];
        meta[at + 4 * k] = v >>> 24; meta[at + 4 * k + 1] = v >>> 16; meta[at + 4 * k + 2] = v >>> 8; meta[at + 4 * k + 3] = v;
      }
    }
    this.fill(s, n, data, path.family, path.port);
  }

  /** Send everything queued now (normally not needed: queues flush after each batch or microtask). */
  flush(): void {
    if (this.closed) return;
    for (const s of this.bound) this.binding.flush(s.handle);
  }

  /** The first socket of a family, used when no socket is tied to a path yet. */
  socketFor(family: 4 | 6): LocalSocket | undefined {
    return this.sockets.find((s) => s.family === family);
  }

  /** Close every socket; the ports are free when this resolves. Anything still queued is dropped. */
  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.bound) this.binding.close(s.handle);
  }
}

/** Dotted-quad text into 4 bytes at `out[at]`, without allocating; false if not an IPv4 address. */
function writeIpv4Text(text: string, out: Uint8Array, at: number): boolean {
  let part = 0, digits = 0, n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0 || n === 3) return false;
      out[at + n++] = part;
      part = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39 && digits < 3) {
      part = part * 10 + (c - 0x30);
      digits++;
      if (part > 255) return false;
    } else {
      return false;
    }
  }
  if (digits === 0 || n !== 3) return false;
  out[at + 3] = part;
  return true;
}

export type NativeUdpMode = 'auto' | 'on' | 'off';

export interface UdpTransportChoice {
  /** 'auto' (default): the addon when it loads, else dgram; 'on': the addon or throw; 'off': dgram. */
  native?: NativeUdpMode;
  nativeOptions?: NativeUdpOptions;
  log?: Logger;
}

/** The UDP transport to use here: native batch UDP when available (and wanted), else dgram. */
export function createUdpTransport(choice: UdpTransportChoice = {}): DatagramTransport {
  const mode = choice.native ?? 'auto';
  const log = choice.log ?? silentLogger;
  if (mode !== 'off') {
    const available = nativeUdpAvailability();
    if (available.ok) {
      log.info('UDP transport: native batch (recvmmsg/sendmmsg)');
      return new NativeUdpTransport(choice.nativeOptions);
    }
    if (mode === 'on') throw new Error(`native batch UDP unavailable: ${available.reason}`);
    log.info('UDP transport: dgram', { nativeUnavailable: available.reason });
  } else {
    log.info('UDP transport: dgram (native batch UDP turned off)');
  }
  return new UdpTransport();
}
