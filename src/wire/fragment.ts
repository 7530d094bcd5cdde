// Fragmentation (docs/protocol/03-packet.md §7): splitting an armored packet into a head and fragments for
// a physical MTU, parsing fragment datagrams, and reassembling them with bounded memory.

import {
  DEFAULT_PHYSICAL_MTU, FRAGMENT_HEADER_LENGTH, FRAGMENT_INDICATOR, FragmentOffset, HeaderFlag, MAX_PACKET_FRAGMENTS,
  MAX_PACKET_LENGTH, MIN_PACKET_LENGTH, PacketOffset, RECEIVE_QUEUE_TIMEOUT_MS, RX_QUEUE_SIZE,
} from './constants.ts';
import { readAddress, type Address } from '../identity/address.ts';

// ---------------------------------------------------------------------------------------------
// Sending (docs/protocol/03-packet.md §7.2)
// ---------------------------------------------------------------------------------------------

/**
 * Set the fragmented flag (0x40) if the packet is longer than the MTU. Call before armor: the
 * flag is covered by the MAC. Returns whether the packet will be fragmented.
 */
export function markFragmentedIfNeeded(p: Uint8Array, mtu = DEFAULT_PHYSICAL_MTU): boolean {
  if (p.length <= mtu) return false;
  p[PacketOffset.flags] |= HeaderFlag.fragmented;
  return true;
}

/**
 * Split an armored packet into datagrams: the head (the first `mtu` bytes, a view into `p`)
 * then fragments of at most `mtu` bytes (16-byte header + data), as Switch::_sendViaSpecificPath
 * does. A packet that fits is returned as a single datagram. Throws RangeError on misuse
 * (fragmented flag not set before armor, MTU too small, more than 7 pieces).
 */
export function splitPacket(p: Uint8Array, mtu = DEFAULT_PHYSICAL_MTU): Uint8Array[] {
  if (mtu < MIN_PACKET_LENGTH) throw new RangeError(`MTU ${mtu} is below the packet header`);
  if (p.length <= mtu) return [p];
  if ((p[PacketOffset.flags] & HeaderFlag.fragmented) === 0) throw new RangeError('set the fragmented flag before armoring a packet longer than the MTU');
  const chunk = mtu - FRAGMENT_HEADER_LENGTH;
  const fragments = Math.ceil((p.length - mtu) / chunk);
  const total = fragments + 1;
  if (total > MAX_PACKET_FRAGMENTS) throw new RangeError(`packet of ${p.length} bytes needs ${total} pieces at MTU ${mtu} (max ${MAX_PACKET_FRAGMENTS})`);
  const out: Uint8Array[] = [p.subarray(0, mtu)];
  for (let f = 1, at = mtu; f <= fragments; f++, at += chunk) {
    const data = p.subarray(at, Math.min(p.length, at + chunk));
    const d = new Uint8Array(FRAGMENT_HEADER_LENGTH + data.length);
    d.set(p.subarray(PacketOffset.id, PacketOffset.destination + 5), FragmentOffset.id); // ID and destination
    d[FragmentOffset.indicator] = FRAGMENT_INDICATOR;
    d[FragmentOffset.counts] = (total << 4) | f;
    d[FragmentOffset.hops] = 0;
    d.set(data, FragmentOffset.data);
    out.push(d);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Receiving (docs/protocol/03-packet.md §7.1, §7.3)
// ---------------------------------------------------------------------------------------------

export interface Fragment {
  /** Packet ID (wire bytes 0..7) as a 64-bit unsigned integer. */
  packetId: bigint;
  destination: Address;
  /** Pieces of the whole packet, head included (2..7). */
  total: number;
  /** This fragment's number (1..total−1). */
  number: number;
  hops: number;
  /** Fragment data: a view into the datagram. */
  data: Uint8Array;
}

export type FragmentError =
  | 'not-a-fragment' // shorter than the header or byte 13 is not 0xff
  | 'bad-count'; // total/number outside what 1.14 accepts, or number ≥ total

export type FragmentResult = { ok: true; fragment: Fragment } | { ok: false; error: FragmentError };

/**
 * Parse a fragment datagram. Accepts what 1.14 accepts (1 ≤ number < 7, 1 < total ≤ 7) and
 * additionally requires number < total. Never throws.
 */
export function parseFragment(d: Uint8Array): FragmentResult {
  if (d.length < FRAGMENT_HEADER_LENGTH || d[FragmentOffset.indicator] !== FRAGMENT_INDICATOR) return { ok: false, error: 'not-a-fragment' };
  const counts = d[FragmentOffset.counts];
  const total = counts >>> 4;
  const number = counts & 0x0f;
  if (total < 2 || total > MAX_PACKET_FRAGMENTS || number < 1 || number >= total) return { ok: false, error: 'bad-count' };
  return {
    ok: true,
    fragment: {
      packetId: new DataView(d.buffer, d.byteOffset, d.byteLength).getBigUint64(FragmentOffset.id),
      destination: readAddress(d, FragmentOffset.destination),
      total,
      number,
      hops: d[FragmentOffset.hops] & HeaderFlag.hopsMask,
      data: d.subarray(FragmentOffset.data),
    },
  };
}

export type ReassemblyRejection =
  | FragmentError
  | 'not-fragmented-head' // head without the 0x40 flag, or shorter than a packet header
  | 'inconsistent-total' // a fragment disagrees with the total announced by an earlier one
  | 'too-long'; // the pieces add up to more than ZT_PROTO_MAX_PACKET_LENGTH

export type ReassemblyResult =
  | { readonly status: 'complete'; readonly packet: Uint8Array }
  | { readonly status: 'pending' }
  | { readonly status: 'duplicate' }
  | { readonly status: 'rejected'; readonly reason: ReassemblyRejection };

export interface ReassemblerOptions {
  /** Most packets being reassembled at once; the oldest is evicted beyond this. Default 32 (ZT_RX_QUEUE_SIZE). */
  maxInFlight?: number;
  /** Milliseconds an incomplete packet is kept after its first piece. Default 5000 (ZT_RECEIVE_QUEUE_TIMEOUT). */
  timeoutMs?: number;
}

export interface ReassemblerStats {
  completed: number;
  /** Incomplete packets dropped to make room (flood of partial packets). */
  evicted: number;
  /** Incomplete packets dropped after the timeout. */
  expired: number;
  duplicates: number;
  rejected: number;
}

interface Entry {
  firstSeen: number;
  head: Uint8Array | null;
  /** pieces[n] holds fragment n's data (index 0 unused). */
  pieces: (Uint8Array | null)[];
  /** Announced total, 0 until a fragment arrives. */
  total: number;
  /** Bit n set: fragment n present (bit 0: head). */
  have: number;
  bytes: number;
}

/** Every piece is present: the head (bit 0) and fragments 1..total−1. */
function isComplete(e: Entry): boolean {
  return e.total !== 0 && e.have === (1 << e.total) - 1;
}

const PENDING: ReassemblyResult = Object.freeze({ status: 'pending' });
const DUPLICATE: ReassemblyResult = Object.freeze({ status: 'duplicate' });
function rejected(reason: ReassemblyRejection): ReassemblyResult {
  return { status: 'rejected', reason };
}

/**
 * Reassembles fragmented packets addressed to this node. Keyed by packet ID; the head may come
 * before or after its fragments; duplicates are ignored. Memory is bounded: at most
 * `maxInFlight` incomplete packets, each at most ZT_PROTO_MAX_PACKET_LENGTH bytes of copied
 * data. Time is passed in by the caller (milliseconds); there are no timers.
 */
export class Reassembler {
  readonly maxInFlight: number;
  readonly timeoutMs: number;
  readonly stats: ReassemblerStats = { completed: 0, evicted: 0, expired: 0, duplicates: 0, rejected: 0 };
  /** Insertion order is arrival order of each packet's first piece: the front is the oldest. */
  private readonly entries = new Map<bigint, Entry>();

  constructor(options: ReassemblerOptions = {}) {
    this.maxInFlight = Math.max(1, options.maxInFlight ?? RX_QUEUE_SIZE);
    this.timeoutMs = options.timeoutMs ?? RECEIVE_QUEUE_TIMEOUT_MS;
  }

  /** Incomplete packets currently held. */
  get inFlight(): number {
    return this.entries.size;
  }

  /** Add a head datagram (a packet with the fragmented flag). The bytes are copied. */
  addHead(head: Uint8Array, now: number): ReassemblyResult {
    if (head.length < MIN_PACKET_LENGTH || (head[PacketOffset.flags] & HeaderFlag.fragmented) === 0) return this.reject('not-fragmented-head');
    if (head.length > MAX_PACKET_LENGTH) return this.reject('too-long');
    const id = new DataView(head.buffer, head.byteOffset, head.byteLength).getBigUint64(PacketOffset.id);
    const e = this.entryFor(id, now);
    if (e.head !== null) return this.duplicate();
    if (e.bytes + head.length > MAX_PACKET_LENGTH) return this.drop(id, 'too-long');
    e.have |= 1;
    e.bytes += head.length;
    // the last piece to arrive goes straight into the packet: only earlier ones are kept as copies
    e.head = isComplete(e) ? head : head.slice();
    return this.completeIfReady(id, e);
  }

  /** Add a fragment datagram. The data is copied. */
  addFragment(datagram: Uint8Array, now: number): ReassemblyResult {
    const parsed = parseFragment(datagram);
    if (!parsed.ok) return this.reject(parsed.error);
    const f = parsed.fragment;
    const e = this.entryFor(f.packetId, now);
    if (e.total !== 0 && e.total !== f.total) return this.reject('inconsistent-total');
    if ((e.have & (1 << f.number)) !== 0) return this.duplicate();
    if (e.bytes + f.data.length > MAX_PACKET_LENGTH) return this.drop(f.packetId, 'too-long');
    e.total = f.total;
    e.have |= 1 << f.number;
    e.bytes += f.data.length;
    e.pieces[f.number] = isComplete(e) ? f.data : f.data.slice();
    return this.completeIfReady(f.packetId, e);
  }

  /** Drop incomplete packets older than the timeout; returns how many were dropped. */
  expire(now: number): number {
    let n = 0;
    for (const [id, e] of this.entries) {
      if (now - e.firstSeen < this.timeoutMs) break; // the rest are newer
      this.entries.delete(id);
      n++;
    }
    this.stats.expired += n;
    return n;
  }

  private entryFor(id: bigint, now: number): Entry {
    this.expire(now);
    let e = this.entries.get(id);
    if (e) return e;
    while (this.entries.size >= this.maxInFlight) {
      const oldest = this.entries.keys().next().value as bigint;
      this.entries.delete(oldest);
      this.stats.evicted++;
    }
    e = { firstSeen: now, head: null, pieces: new Array<Uint8Array | null>(MAX_PACKET_FRAGMENTS).fill(null), total: 0, have: 0, bytes: 0 };
    this.entries.set(id, e);
    return e;
  }

  private completeIfReady(id: bigint, e: Entry): ReassemblyResult {
    if (!isComplete(e)) return PENDING;
    const head = e.head!; // bit 0 of `have` is set
    const packet = new Uint8Array(e.bytes);
    packet.set(head, 0);
    let at = head.length;
    for (let n = 1; n < e.total; n++) {
      const piece = e.pieces[n]!;
      packet.set(piece, at);
      at += piece.length;
    }
    this.entries.delete(id);
    this.stats.completed++;
    return { status: 'complete', packet };
  }

  private duplicate(): ReassemblyResult {
    this.stats.duplicates++;
    return DUPLICATE;
  }

  private reject(reason: ReassemblyRejection): ReassemblyResult {
    this.stats.rejected++;
    return rejected(reason);
  }

  /** Reject a piece and forget the whole packet it belongs to. */
  private drop(id: bigint, reason: ReassemblyRejection): ReassemblyResult {
    this.entries.delete(id);
    return this.reject(reason);
  }
}
