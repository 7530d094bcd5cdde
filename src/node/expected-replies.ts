// Packet IDs we sent that may be answered with OK (1.14 keeps the same memory: `expectReplyTo`,
// matched on the ID's upper 32 bits). In a root the memory is shared by every packet thread
// through a SharedArrayBuffer: a HELLO one thread sends to an upstream is answered to the shared
// UDP port, and the kernel's SO_REUSEPORT hash may hand the OK to any other thread.
//
// A lossy hash set: each key has one slot, a later key in the same slot replaces it (that reply
// is then dropped as unexpected, as when 1.14's ring overflows), and entries older than
// EXPECTED_REPLY_TTL_MS do not match. Races between threads can only lose an entry.

/** Slots in a node's expectation table (1.14 keeps 256 per node; roots send few requests). */
export const EXPECTED_REPLY_SLOTS = 8192;
/** An OK arriving later than this after its request is not accepted. */
export const EXPECTED_REPLY_TTL_MS = 60_000;

/** Two 32-bit words per slot: the ID's upper half (0 = empty), and when it was sent (seconds). */
const WORDS_PER_SLOT = 2;

export class ExpectedReplies {
  readonly buffer: SharedArrayBuffer;
  private readonly w: Int32Array;
  private readonly mask: number;

  constructor(buffer: SharedArrayBuffer = new SharedArrayBuffer(EXPECTED_REPLY_SLOTS * WORDS_PER_SLOT * 4)) {
    const slots = buffer.byteLength / (WORDS_PER_SLOT * 4);
    if (!Number.isInteger(slots) || slots === 0 || (slots & (slots - 1)) !== 0) throw new Error('expected-reply table size must be a power of two');
    this.buffer = buffer;
    this.w = new Int32Array(buffer);
    this.mask = slots - 1;
  }

  /** Remember a sent packet ID (the wire ID, after armor). */
  add(packetId: bigint, nowMs: number): void {
    const key = keyOf(packetId);
    const b = this.slot(key);
    Atomics.store(this.w, b + 1, Math.floor(nowMs / 1000));
    Atomics.store(this.w, b, key);
  }

  /** True when `inRePacketId` was sent by any thread within the last EXPECTED_REPLY_TTL_MS. */
  has(inRePacketId: bigint, nowMs: number): boolean {
    const key = keyOf(inRePacketId);
    const b = this.slot(key);
    if (Atomics.load(this.w, b) !== key) return false;
    return Math.floor(nowMs / 1000) - Atomics.load(this.w, b + 1) <= EXPECTED_REPLY_TTL_MS / 1000;
  }

  private slot(key: number): number {
    // the key is half of a random packet ID already; one multiply spreads IDs made by hand in tests
    return ((Math.imul(key, 0x9e3779b1) >>> 0) & this.mask) * WORDS_PER_SLOT;
  }
}

/** The ID's upper 32 bits, never 0 (0 marks an empty slot). */
function keyOf(packetId: bigint): number {
  return Number((packetId >> 32n) & 0xffffffffn) | 0 || 1;
}
