// The peer table every worker thread shares: ZeroTier address → its freshest IPv4 and IPv6
// physical paths and when it was last heard. It lives in one SharedArrayBuffer, so the relay
// path of any worker looks a destination up with a few Atomics loads: no lock, no message and
// no allocation per packet.
//
// Layout: an open-addressing hash table (linear probing) of fixed 104-byte slots (26 words),
// as many as asked for (not rounded to a power of two: a slot index comes from the hash by a
// multiply, so 1.5 slots per peer costs 156 bytes per peer, not up to twice that).
//   status   0 empty · 1 live · 2 deleted (a tombstone that keeps probe chains intact)
//   seq      per-slot sequence lock: odd while a writer updates the path fields; readers retry
//   address  low 32 bits; the high byte shares a word with the has-key flag
//   paths    for each family: IP (1 or 4 words), port and local socket index (one word), last receive (s)
//   key      the 48-byte key this node shares with the peer, so any thread can rebuild the peer
//            without a new key agreement (written once, before the has-key flag is published)
// Inserting a new address and deleting one take a table-wide spin lock (both are rare: new peers
// arrive at most as fast as identities validate); updating a path takes only its slot's lock.
//
// The table is reserved for the configured maximum but only the pages holding peers become
// resident: the kernel backs a SharedArrayBuffer page by page on first touch, reads included.
// So after the slots comes one word per block of BLOCK_SLOTS slots counting the slots of that
// block ever used (live or tombstone). A lookup whose slot lies in an unused block answers
// "absent" from that word without touching the slot's page (relay packets to random addresses
// do not fault the table in), and the expiry scan skips unused blocks.


const WORDS_PER_SLOT = 26;
export const PEER_TABLE_SLOT_BYTES = WORDS_PER_SLOT * 4;
/** Slots per peer a table is sized with: linear probing stays short at two-thirds load. */
const SLOTS_PER_PEER = 1.5;
const HEADER_WORDS = 4; // [0] insert/delete lock, [1] live count, [2] tombstones, [3] capacity
/** Slots per block counted in the used-slot words: 32 × 104 bytes, within two 4 KiB pages. */
const BLOCK_SHIFT = 5;

const W = {
  status: 0, seq: 1, addressLo: 2, meta: 3, lastSeen: 4,
  v4ip: 5, v4portSocket: 6, v4seen: 7,
  v6ip: 8, /* 8..11 */ v6portSocket: 12, v6seen: 13,
  key: 14, /* 14..25: 48 bytes */
} as const;
const KEY_WORDS = 12;
/** meta: bits 0–7 the address's high byte, bit 8 set once the key words are written. */
const META_HAS_KEY = 0x100;
/** A port and a local socket index share a word: port in the low 16 bits. */
const packPortSocket = (port: number, socket: number): number => (port & 0xffff) | (socket << 16);

const EMPTY = 0, LIVE = 1, DELETED = 2;

/** Where a lookup writes its answer (reused by the caller: no allocation per packet). */
export interface PathLookup {
  found: boolean;
  family: 4 | 6;
  /** IPv4: the address as a big-endian u32; IPv6: the four big-endian words in ip6. */
  ip4: number;
  readonly ip6: Uint32Array;
  port: number;
  socket: number;
  /** Seconds (table clock) the path was last heard on. */
  seen: number;
}

export function createPathLookup(): PathLookup {
  return { found: false, family: 4, ip4: 0, ip6: new Uint32Array(4), port: 0, socket: 0, seen: 0 };
}

export class SharedPeerTable {
  readonly buffer: SharedArrayBuffer;
  readonly capacity: number;
  private readonly w: Int32Array;
  /** Word index of block 0's used-slot count. */
  private readonly blockBase: number;

  /** A table for up to `peers` peers at 1.5 slots per peer (about 156 bytes per peer). */
  static forPeers(peers: number): SharedPeerTable {
    return SharedPeerTable.create(peers * SLOTS_PER_PEER);
  }

  /** A new table with room for `capacity` slots (at least 1024); keep load ≤ ~70%. */
  static create(capacity: number): SharedPeerTable {
    const cap = Math.max(1024, Math.ceil(capacity));
    const blocks = Math.ceil(cap / (1 << BLOCK_SHIFT));
    const buffer = new SharedArrayBuffer((HEADER_WORDS + cap * WORDS_PER_SLOT + blocks) * 4);
    new Int32Array(buffer)[3] = cap;
    return new SharedPeerTable(buffer);
  }

  /** Attach to a table created elsewhere (another thread). */
  constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.w = new Int32Array(buffer);
    this.capacity = this.w[3];
    this.blockBase = HEADER_WORDS + this.capacity * WORDS_PER_SLOT;
  }

  /** Whether slot i's block has never held an entry (then slot i is empty, and its page untouched). */
  private unusedBlock(i: number): boolean {
    return Atomics.load(this.w, this.blockBase + (i >> BLOCK_SHIFT)) === 0;
  }

  get size(): number {
    return Atomics.load(this.w, 1);
  }

  private slotBase(i: number): number {
    return HEADER_WORDS + i * WORDS_PER_SLOT;
  }

  private hash(hi: number, lo: number): number {
    // multiplicative mix of both halves; addresses are already fairly random
    let h = Math.imul(lo ^ (hi << 24) ^ (lo >>> 16), 0x9e3779b1);
    h ^= h >>> 15;
    // the top bits of h × capacity / 2^32: a slot in [0, capacity) for any capacity
    return Math.floor((h >>> 0) * this.capacity / 4294967296);
  }

  private next(i: number): number {
    return i + 1 === this.capacity ? 0 : i + 1;
  }

  /** Index of the live slot holding `address`, or -1. Lock-free. */
  private find(hi: number, lo: number): number {
    const w = this.w;
    let i = this.hash(hi, lo);
    for (let n = 0; n < this.capacity; n++) {
      if (this.unusedBlock(i)) return -1;
      const b = this.slotBase(i);
      const status = Atomics.load(w, b + W.status);
      if (status === EMPTY) return -1;
      if (status === LIVE && w[b + W.addressLo] === (lo | 0) && (w[b + W.meta] & 0xff) === hi) return i;
      i = this.next(i);
    }
    return -1;
  }

  private lock(): void {
    while (Atomics.compareExchange(this.w, 0, 0, 1) !== 0) Atomics.wait(this.w, 0, 1, 1);
  }
  private unlock(): void {
    Atomics.store(this.w, 0, 0);
    Atomics.notify(this.w, 0, 1);
  }

  /** The slot for `address`, inserting it if absent. Returns -1 only when the table is full. */
  private findOrInsert(hi: number, lo: number): number {
    const found = this.find(hi, lo);
    if (found >= 0) return found;
    this.lock();
    try {
      const again = this.find(hi, lo); // another thread may have inserted it meanwhile
      if (again >= 0) return again;
      if (Atomics.load(this.w, 1) + Atomics.load(this.w, 2) >= this.capacity - 1) return -1;
      let i = this.hash(hi, lo);
      for (;;) {
        const b = this.slotBase(i);
        const status = Atomics.load(this.w, b + W.status);
        if (status !== LIVE) {
          for (let k = 2; k < WORDS_PER_SLOT; k++) this.w[b + k] = 0;
          this.w[b + W.meta] = hi;
          this.w[b + W.addressLo] = lo | 0;
          if (status === DELETED) Atomics.sub(this.w, 2, 1);
          else Atomics.add(this.w, this.blockBase + (i >> BLOCK_SHIFT), 1); // before the slot is published
          Atomics.store(this.w, b + W.status, LIVE); // publish after the key is written
          Atomics.add(this.w, 1, 1);
          return i;
        }
        i = this.next(i);
      }
    } finally {
      this.unlock();
    }
  }

  private beginWrite(b: number): void {
    for (;;) {
      const s = Atomics.load(this.w, b + W.seq);
      if ((s & 1) === 0 && Atomics.compareExchange(this.w, b + W.seq, s, s + 1) === s) return;
    }
  }
  private endWrite(b: number): void {
    Atomics.add(this.w, b + W.seq, 1);
  }

  /**
   * Record that `address` was heard on a path: IPv4 `ip` as 4 bytes or IPv6 as 16, at `port`,
   * through local socket `socket`, at `nowSec`. Returns false if the table is full.
   */
  notePath(address: number, ip: Uint8Array, port: number, socket: number, nowSec: number): boolean {
    const hi = Math.floor(address / 2 ** 32), lo = address >>> 0;
    const i = this.findOrInsert(hi, lo);
    if (i < 0) return false;
    const b = this.slotBase(i), w = this.w;
    this.beginWrite(b);
    if (ip.length === 4) {
      w[b + W.v4ip] = (ip[0] << 24) | (ip[1] << 16) | (ip[2] << 8) | ip[3];
      w[b + W.v4portSocket] = packPortSocket(port, socket);
      w[b + W.v4seen] = nowSec;
    } else {
      for (let k = 0; k < 4; k++) w[b + W.v6ip + k] = (ip[4 * k] << 24) | (ip[4 * k + 1] << 16) | (ip[4 * k + 2] << 8) | ip[4 * k + 3];
      w[b + W.v6portSocket] = packPortSocket(port, socket);
      w[b + W.v6seen] = nowSec;
    }
    w[b + W.lastSeen] = nowSec;
    this.endWrite(b);
    return true;
  }

  /** Remember the 48-byte key shared with `address` (inserting the address if needed). */
  storeKey(address: number, key: Uint8Array): boolean {
    const i = this.findOrInsert(Math.floor(address / 2 ** 32), address >>> 0);
    if (i < 0) return false;
    const b = this.slotBase(i), w = this.w;
    if (Atomics.load(w, b + W.meta) & META_HAS_KEY) return true;
    const dv = new DataView(key.buffer, key.byteOffset, key.byteLength);
    for (let k = 0; k < KEY_WORDS; k++) w[b + W.key + k] = dv.getInt32(4 * k, true);
    Atomics.or(w, b + W.meta, META_HAS_KEY); // publish after the key words
    return true;
  }

  /** The shared key of `address` into `out` (48 bytes); false when none is stored. */
  loadKey(address: number, out: Uint8Array): boolean {
    const i = this.find(Math.floor(address / 2 ** 32), address >>> 0);
    if (i < 0) return false;
    const b = this.slotBase(i), w = this.w;
    if (!(Atomics.load(w, b + W.meta) & META_HAS_KEY)) return false;
    const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
    for (let k = 0; k < KEY_WORDS; k++) dv.setInt32(4 * k, w[b + W.key + k], true);
    return true;
  }

  /** Refresh last-heard without changing paths (a packet relayed from the peer, for example). */
  touch(address: number, nowSec: number): void {
    const i = this.find(Math.floor(address / 2 ** 32), address >>> 0);
    if (i >= 0) Atomics.store(this.w, this.slotBase(i) + W.lastSeen, nowSec);
  }

  has(address: number): boolean {
    return this.find(Math.floor(address / 2 ** 32), address >>> 0) >= 0;
  }

  /**
   * The freshest path of `address` (or of one family) into `out`. Lock-free: retries while a
   * writer holds the slot. `out.found` is false when the address or such a path is unknown.
   */
  lookup(address: number, out: PathLookup, family?: 4 | 6): PathLookup {
    out.found = false;
    const i = this.find(Math.floor(address / 2 ** 32), address >>> 0);
    if (i < 0) return out;
    const b = this.slotBase(i), w = this.w;
    for (;;) {
      const s1 = Atomics.load(w, b + W.seq);
      if (s1 & 1) continue;
      const ps4 = w[b + W.v4portSocket], seen4 = w[b + W.v4seen];
      const ps6 = w[b + W.v6portSocket], seen6 = w[b + W.v6seen];
      const port4 = ps4 & 0xffff, port6 = ps6 & 0xffff;
      const use6 = family === 6 || (family === undefined && port6 !== 0 && (port4 === 0 || seen6 > seen4));
      if (use6) {
        out.family = 6;
        for (let k = 0; k < 4; k++) out.ip6[k] = w[b + W.v6ip + k];
        out.port = port6;
        out.socket = ps6 >>> 16;
        out.seen = seen6;
        out.found = port6 !== 0;
      } else {
        out.family = 4;
        out.ip4 = w[b + W.v4ip] >>> 0;
        out.port = port4;
        out.socket = ps4 >>> 16;
        out.seen = seen4;
        out.found = port4 !== 0;
      }
      if (Atomics.load(w, b + W.seq) === s1) return out;
    }
  }

  /** When `address` was last heard (table seconds), or -1 if unknown. */
  lastSeen(address: number): number {
    const i = this.find(Math.floor(address / 2 ** 32), address >>> 0);
    return i < 0 ? -1 : Atomics.load(this.w, this.slotBase(i) + W.lastSeen);
  }

  /** Delete entries not heard since `olderThanSec`; returns how many went. */
  expire(olderThanSec: number): number {
    let n = 0;
    this.lock();
    try {
      for (let i = 0; i < this.capacity; i++) {
        if (this.unusedBlock(i)) {
          i |= (1 << BLOCK_SHIFT) - 1; // to the last slot of this block
          continue;
        }
        const b = this.slotBase(i);
        if (Atomics.load(this.w, b + W.status) === LIVE && Atomics.load(this.w, b + W.lastSeen) < olderThanSec) {
          Atomics.store(this.w, b + W.status, DELETED);
          Atomics.sub(this.w, 1, 1);
          Atomics.add(this.w, 2, 1);
          n++;
        }
      }
    } finally {
      this.unlock();
    }
    return n;
  }
}

/** IPv4 u32 (big-endian value) to dotted text. */
export function ip4Text(ip: number): string {
  return `${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}`;
}

/** Four big-endian u32 words to compressed IPv6 text. */
export function ip6Text(words: Uint32Array): string {
  const groups: string[] = [];
  for (let k = 0; k < 4; k++) groups.push(((words[k] >>> 16) & 0xffff).toString(16), (words[k] & 0xffff).toString(16));
  // compress the longest run of zero groups
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) { best = i; bestLen = j - i; }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}
