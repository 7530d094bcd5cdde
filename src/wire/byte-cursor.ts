// Big-endian cursors over verb payloads.
//
// ByteReader never throws: a read past the end returns zero (or an empty view), marks the reader
// as failed and leaves the offset at the end, so a decoder can read a whole structure and check
// `failed` once. ByteWriter grows as needed; encoders use it to build payloads.

import { readAddress, writeAddress, type Address } from '../identity/address.ts';
import { ADDRESS_LENGTH } from '../identity/constants.ts';
import { MAC_ADDRESS_LENGTH } from './constants.ts';
import type { DecodeError, DecodedAt } from './decode-result.ts';

// u64 through one 8-byte DataView scratch: one BigInt made per read, none per write (composing
// it from two u32 halves makes four and costs ~2× the time; packet IDs and timestamps are on
// every packet's path). JavaScript runs one call at a time per thread, so sharing is safe.
const u64Bytes = new Uint8Array(8);
const u64View = new DataView(u64Bytes.buffer);

/** The big-endian u64 at b[o..o+8) (the caller checks the bounds). */
export function readU64(b: Uint8Array, o: number): bigint {
  for (let i = 0; i < 8; i++) u64Bytes[i] = b[o + i];
  return u64View.getBigUint64(0);
}

/** `v` modulo 2^64 as a big-endian u64 into b[o..o+8) (the caller checks the bounds). */
export function writeU64(b: Uint8Array, o: number, v: bigint): void {
  u64View.setBigUint64(0, v);
  for (let i = 0; i < 8; i++) b[o + i] = u64Bytes[i];
}

const TWO_32 = 2 ** 32;

export class ByteReader {
  readonly bytes: Uint8Array;
  /** One past the last readable byte. */
  readonly end: number;
  offset: number;
  /** The first problem met, or undefined while every read has succeeded. */
  error: DecodeError | undefined = undefined;

  constructor(bytes: Uint8Array, offset = 0, end = bytes.length) {
    this.bytes = bytes;
    this.offset = Math.min(offset, end);
    this.end = end;
  }

  get failed(): boolean {
    return this.error !== undefined;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  /** Record a problem (the first one wins) and stop further reads. */
  fail(error: DecodeError): void {
    this.error ??= error;
    this.offset = this.end;
  }

  /** Reserve n bytes, returning their start, or -1 (and fail) if they are not all there. */
  private take(n: number): number {
    if (this.error !== undefined || n > this.end - this.offset) {
      this.fail('too-short');
      return -1;
    }
    const at = this.offset;
    this.offset += n;
    return at;
  }

  u8(): number {
    const at = this.take(1);
    return at < 0 ? 0 : this.bytes[at];
  }

  u16(): number {
    const at = this.take(2);
    return at < 0 ? 0 : (this.bytes[at] << 8) | this.bytes[at + 1];
  }

  u32(): number {
    const at = this.take(4);
    if (at < 0) return 0;
    const b = this.bytes;
    return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
  }

  u64(): bigint {
    const at = this.take(8);
    return at < 0 ? 0n : readU64(this.bytes, at);
  }

  /** 40-bit ZeroTier address. */
  address(): Address {
    const at = this.take(ADDRESS_LENGTH);
    return at < 0 ? 0 : readAddress(this.bytes, at);
  }

  /** 48-bit MAC as a number. */
  mac(): number {
    const at = this.take(MAC_ADDRESS_LENGTH);
    if (at < 0) return 0;
    const b = this.bytes;
    return ((b[at] << 8) | b[at + 1]) * TWO_32 + (((b[at + 2] << 24) | (b[at + 3] << 16) | (b[at + 4] << 8) | b[at + 5]) >>> 0);
  }

  /** A view of the next n bytes (no copy); empty on failure. */
  view(n: number): Uint8Array {
    const at = this.take(n);
    return at < 0 ? new Uint8Array(0) : this.bytes.subarray(at, at + n);
  }

  /** A copy of the next n bytes (n is a fixed field size, never taken from the input); zeros on failure. */
  copy(n: number): Uint8Array {
    const at = this.take(n);
    return at < 0 ? new Uint8Array(n) : this.bytes.slice(at, at + n);
  }

  /** View of everything left. */
  rest(): Uint8Array {
    return this.view(this.remaining);
  }

  skip(n: number): void {
    this.take(n);
  }
}

export class ByteWriter {
  private buf: Uint8Array;
  length = 0;

  constructor(initialCapacity = 256) {
    this.buf = new Uint8Array(initialCapacity);
  }

  private room(n: number): number {
    const at = this.length;
    if (at + n > this.buf.length) {
      const bigger = new Uint8Array(Math.max(this.buf.length * 2, at + n));
      bigger.set(this.buf.subarray(0, at));
      this.buf = bigger;
    }
    this.length += n;
    return at;
  }

  u8(v: number): this {
    const at = this.room(1);
    this.buf[at] = v;
    return this;
  }

  u16(v: number): this {
    const at = this.room(2);
    this.buf[at] = v >>> 8;
    this.buf[at + 1] = v;
    return this;
  }

  u32(v: number): this {
    const at = this.room(4);
    this.buf[at] = v >>> 24;
    this.buf[at + 1] = v >>> 16;
    this.buf[at + 2] = v >>> 8;
    this.buf[at + 3] = v;
    return this;
  }

  u64(v: bigint): this {
    const at = this.room(8);
    writeU64(this.buf, at, v);
    return this;
  }

  address(a: Address): this {
    const at = this.room(ADDRESS_LENGTH); // may replace this.buf: reserve before touching it
    writeAddress(a, this.buf, at);
    return this;
  }

  mac(m: number): this {
    const hi = Math.floor(m / TWO_32);
    this.u16(hi & 0xffff);
    return this.u32(m >>> 0);
  }

  bytes(b: Uint8Array): this {
    const at = this.room(b.length);
    this.buf.set(b, at);
    return this;
  }

  zeros(n: number): this {
    const at = this.room(n);
    this.buf.fill(0, at, this.length);
    return this;
  }

  /** Overwrite a u16 written earlier (length fields filled in afterwards). */
  setU16(at: number, v: number): void {
    this.buf[at] = v >>> 8;
    this.buf[at + 1] = v;
  }

  /** The bytes written so far (a copy, independent of further writes). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }

  /** The bytes written so far without a copy, for a writer that is written no more (hot paths). */
  finishInPlace(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

/** Run a reader-based decoder on `bytes` from `offset`: the value and its length, or the first error. */
export function decodeAt<T>(bytes: Uint8Array, offset: number, read: (r: ByteReader) => T): DecodedAt<T> {
  const r = new ByteReader(bytes, offset);
  const value = read(r);
  return r.error ? { ok: false, error: r.error } : { ok: true, value, length: r.offset - offset };
}
