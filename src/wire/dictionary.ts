// ZeroTier's Dictionary text format (docs/protocol/07-network-config-controller.md §1): `key=value` entries
// separated by LF, values escaped, integers as hex. Used for network configs, config-request
// metadata and the auth-info of ERROR(NETWORK_AUTHENTICATION_REQUIRED).

import { strtoull } from '../util/strtoull.ts';
import { hex64 } from '../util/hex.ts';

const LF = 0x0a;
const CR = 0x0d;
const BACKSLASH = 0x5c;
const EQUALS = 0x3d;

/** Value bytes that must be escaped, and the letter written after the backslash. */
const ESCAPES: ReadonlyMap<number, number> = new Map([
  [0x00, 0x30], // NUL -> \0
  [CR, 0x72], // CR -> \r
  [LF, 0x6e], // LF -> \n
  [BACKSLASH, BACKSLASH], // \ -> \\
  [EQUALS, 0x65], // = -> \e
]);
/** The reverse, for reading; any other escaped byte stands for itself. */
const UNESCAPES: ReadonlyMap<number, number> = new Map([
  [0x72, CR],
  [0x6e, LF],
  [0x30, 0x00],
  [0x65, EQUALS],
]);

/** Bytes 1.14's integer getter reads (its buffer is 128 bytes incl. the NUL). */
const INTEGER_VALUE_MAX_LENGTH = 127;

/** strtoull(text, NULL, 16), how 1.14 reads dictionary integers. */
export function parseHexLikeStrtoull(text: string): bigint {
  return strtoull(text, 16);
}

/** One character per byte (true ISO-8859-1, unlike TextDecoder's 'latin1'). */
function latin1(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}
const utf8 = new TextDecoder('utf-8');
const utf8Encoder = new TextEncoder();

/** A parsed dictionary. Lookups follow Dictionary::get: the first entry with the key wins. */
export class Dictionary {
  /** First value range per key, keys as one character per byte. */
  private readonly index = new Map<string, { start: number; end: number }>();
  /** The dictionary bytes as 1.14 holds them (cut at the first NUL and at capacity - 1). */
  readonly bytes: Uint8Array;

  /**
   * @param capacity 1.14's buffer size for this dictionary, if it should be emulated: input beyond
   *   `capacity - 1` bytes is dropped, as the C++ constructor does.
   */
  constructor(bytes: Uint8Array, capacity?: number) {
    let end = bytes.indexOf(0);
    if (end < 0) end = bytes.length;
    if (capacity !== undefined) end = Math.min(end, Math.max(0, capacity - 1));
    this.bytes = bytes.subarray(0, end);
    this.buildIndex();
  }

  static fromText(text: string, capacity?: number): Dictionary {
    return new Dictionary(utf8Encoder.encode(text), capacity);
  }

  private buildIndex(): void {
    const b = this.bytes;
    let start = 0;
    while (start < b.length) {
      let end = start;
      while (end < b.length && b[end] !== LF && b[end] !== CR) end++;
      const eq = b.subarray(start, end).indexOf(EQUALS);
      if (eq >= 0) {
        const key = latin1(b.subarray(start, start + eq));
        if (!this.index.has(key)) this.index.set(key, { start: start + eq + 1, end });
      }
      start = end + 1;
    }
  }

  has(key: string): boolean {
    return this.index.has(keyAsBytes(key));
  }

  /** The unescaped value bytes, or undefined if the key is absent. */
  get(key: string): Uint8Array | undefined {
    const range = this.index.get(keyAsBytes(key));
    return range ? unescape(this.bytes.subarray(range.start, range.end)) : undefined;
  }

  /** The value decoded as UTF-8. */
  getString(key: string): string | undefined {
    const v = this.get(key);
    return v === undefined ? undefined : utf8.decode(v);
  }

  /**
   * Unsigned integer written as hex (Dictionary::getUI): undefined if the key is absent or its
   * value is empty; otherwise strtoull base 16 of the (at most 127-byte) value, so "7", "0x7"
   * and "0000000000000007" all read as 7 and non-hex text reads as 0.
   */
  getU64(key: string): bigint | undefined {
    const v = this.get(key);
    if (v === undefined || v.length === 0) return undefined;
    return parseHexLikeStrtoull(latin1(v.subarray(0, INTEGER_VALUE_MAX_LENGTH)));
  }

  /** Dictionary::getB: present -> true iff the value starts with '1', 't' or 'T'. */
  getBool(key: string): boolean | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    const first = v.length > 0 ? v[0] : 0;
    return first === 0x31 || first === 0x74 || first === 0x54;
  }

  /** Keys in first-appearance order (duplicates once). */
  keys(): string[] {
    return [...this.index.keys()];
  }
}

/** JS keys are written as UTF-8; the index holds them one character per byte. */
function keyAsBytes(key: string): string {
  return latin1(utf8Encoder.encode(key));
}

function unescape(raw: Uint8Array): Uint8Array {
  if (raw.indexOf(BACKSLASH) < 0) return raw.slice();
  const out = new Uint8Array(raw.length);
  let n = 0;
  let escaped = false;
  for (const c of raw) {
    if (escaped) {
      out[n++] = UNESCAPES.get(c) ?? c;
      escaped = false;
    } else if (c === BACKSLASH) {
      escaped = true;
    } else {
      out[n++] = c;
    }
  }
  return out.slice(0, n);
}

export function escapeDictionaryValue(value: Uint8Array): Uint8Array {
  let extra = 0;
  for (const c of value) if (ESCAPES.has(c)) extra++;
  const out = new Uint8Array(value.length + extra);
  let n = 0;
  for (const c of value) {
    const e = ESCAPES.get(c);
    if (e === undefined) {
      out[n++] = c;
    } else {
      out[n++] = BACKSLASH;
      out[n++] = e;
    }
  }
  return out;
}


export type DictionaryValue = string | Uint8Array | bigint | boolean;

/**
 * Builds dictionary bytes the way Dictionary::add does: entries joined by LF in insertion order,
 * no trailing separator. Adding a key twice keeps both entries (readers see the first).
 */
export class DictionaryWriter {
  private readonly parts: Uint8Array[] = [];
  private size = 0;

  /**
   * Add an entry. Strings are UTF-8, Uint8Arrays are raw bytes, bigints are u64 written as 16
   * hex digits, booleans '1'/'0'. Keys must not contain '=', CR, LF or NUL (a programming error).
   */
  add(key: string, value: DictionaryValue): this {
    if (/[=\r\n\0]/.test(key)) throw new RangeError(`invalid dictionary key ${JSON.stringify(key)}`);
    let raw: Uint8Array;
    if (typeof value === 'string') raw = utf8Encoder.encode(value);
    else if (typeof value === 'bigint') raw = utf8Encoder.encode(hex64(value));
    else if (typeof value === 'boolean') raw = Uint8Array.of(value ? 0x31 : 0x30);
    else raw = value;
    const entry = [...(this.parts.length > 0 ? [Uint8Array.of(LF)] : []), utf8Encoder.encode(`${key}=`), escapeDictionaryValue(raw)];
    for (const p of entry) {
      this.parts.push(p);
      this.size += p.length;
    }
    return this;
  }

  /** A 40-bit address as 10 hex digits (how 1.14 writes `id` and `tt`). */
  addAddress(key: string, address: number): this {
    return this.add(key, address.toString(16).padStart(10, '0'));
  }

  get length(): number {
    return this.size;
  }

  /** Whether 1.14 could hold this in a dictionary of `capacity` bytes (it needs a NUL after the text). */
  fitsCapacity(capacity: number): boolean {
    return this.size < capacity;
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}
