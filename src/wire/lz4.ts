// LZ4 *block* format (no frame, no length prefix), as ZeroTier compresses packet payloads
// (docs/protocol/02-crypto.md §9). The decoder is strict about bounds and never throws; the encoder is a
// small greedy single-pass matcher (one hash probe per position) — any valid block is
// interoperable, only decompression has to match the reference exactly.
//
// Block format: a sequence is a token byte (high nibble literal length, low nibble match
// length − 4; 15 means "more length bytes follow, each adding up to 255"), the literals, then a
// 2-byte little-endian back-reference offset and the match. The last sequence is literals only.

/** Shortest match the format can express, bytes. */
const MIN_MATCH = 4;
/** The last 5 bytes of a block are always literals (LZ4 block format "end of block" rule). */
const LAST_LITERALS = 5;
/** No match may start within the last 12 bytes of the input (LZ4 block format). */
const MATCH_FIND_LIMIT = 12;
/** Back-references reach at most 65535 bytes. */
const MAX_OFFSET = 65535;
const RUN_MASK = 15;
const HASH_BITS = 12;

export type Lz4Error =
  | 'truncated' // the block ends inside a sequence
  | 'bad-offset' // back-reference of 0 or before the start of the output
  | 'output-overflow'; // the output would exceed the limit

export type Lz4DecodeResult = { ok: true; length: number } | { ok: false; error: Lz4Error };

/**
 * Decode one LZ4 block src[srcStart..srcEnd) into dst starting at dstStart, writing at most
 * `limit` bytes (further clamped to dst's size). Returns the decoded length or a typed error;
 * never throws and never writes outside dst[dstStart..dstStart+limit).
 */
export function lz4DecompressBlock(
  src: Uint8Array, srcStart: number, srcEnd: number, dst: Uint8Array, dstStart: number, limit: number,
): Lz4DecodeResult {
  const outEnd = Math.min(dst.length, dstStart + limit);
  srcEnd = Math.min(srcEnd, src.length);
  let ip = srcStart;
  let op = dstStart;
  for (;;) {
    if (ip >= srcEnd) return { ok: false, error: 'truncated' };
    const token = src[ip++];

    let literals = token >>> 4;
    if (literals === RUN_MASK) {
      let s: number;
      do {
        if (ip >= srcEnd) return { ok: false, error: 'truncated' };
        s = src[ip++];
        literals += s;
      } while (s === 255);
    }
    if (literals > srcEnd - ip) return { ok: false, error: 'truncated' };
    if (literals > outEnd - op) return { ok: false, error: 'output-overflow' };
    dst.set(src.subarray(ip, ip + literals), op);
    ip += literals;
    op += literals;
    if (ip === srcEnd) return { ok: true, length: op - dstStart }; // last sequence: literals only

    if (srcEnd - ip < 2) return { ok: false, error: 'truncated' };
    const offset = src[ip] | (src[ip + 1] << 8);
    ip += 2;
    if (offset === 0 || offset > op - dstStart) return { ok: false, error: 'bad-offset' };

    let matchLength = token & RUN_MASK;
    if (matchLength === RUN_MASK) {
      let s: number;
      do {
        if (ip >= srcEnd) return { ok: false, error: 'truncated' };
        s = src[ip++];
        matchLength += s;
      } while (s === 255);
    }
    matchLength += MIN_MATCH;
    if (matchLength > outEnd - op) return { ok: false, error: 'output-overflow' };
    let from = op - offset;
    if (offset >= matchLength) {
      dst.copyWithin(op, from, from + matchLength);
      op += matchLength;
    } else {
      // overlapping copy repeats the last `offset` bytes
      const end = op + matchLength;
      while (op < end) dst[op++] = dst[from++];
    }
  }
}

/** Worst-case compressed size of n input bytes (LZ4_COMPRESSBOUND). */
export function lz4CompressBound(n: number): number {
  return n + Math.floor(n / 255) + 16;
}

const hashTable = new Int32Array(1 << HASH_BITS);

function read32(b: Uint8Array, i: number): number {
  return b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);
}

function hash(sequence: number): number {
  return Math.imul(sequence, 2654435761) >>> (32 - HASH_BITS);
}

/**
 * Compress src[srcStart..srcEnd) as one LZ4 block into dst[dstStart..dstEnd). Returns the
 * number of bytes written, or -1 if the block does not fit (pass a dstEnd below the input
 * length to ask for "only if it gets smaller").
 */
export function lz4CompressBlock(src: Uint8Array, srcStart: number, srcEnd: number, dst: Uint8Array, dstStart: number, dstEnd: number): number {
  dstEnd = Math.min(dstEnd, dst.length);
  let op = dstStart;
  let anchor = srcStart;

  // Emit literals src[anchor..literalEnd) followed by a match (or none when matchLength is 0).
  const emit = (literalEnd: number, offset: number, matchLength: number): boolean => {
    const literals = literalEnd - anchor;
    const extra = matchLength > 0 ? matchLength - MIN_MATCH : 0;
    // token + length bytes + literals + offset + match length bytes
    const need = 1 + (literals >= RUN_MASK ? 1 + Math.floor((literals - RUN_MASK) / 255) : 0) + literals
      + (matchLength > 0 ? 2 + (extra >= RUN_MASK ? 1 + Math.floor((extra - RUN_MASK) / 255) : 0) : 0);
    if (op + need > dstEnd) return false;
    const token = op++;
    dst[token] = (Math.min(literals, RUN_MASK) << 4) | (matchLength > 0 ? Math.min(extra, RUN_MASK) : 0);
    if (literals >= RUN_MASK) op = writeLength(dst, op, literals - RUN_MASK);
    dst.set(src.subarray(anchor, literalEnd), op);
    op += literals;
    if (matchLength > 0) {
      dst[op++] = offset & 0xff;
      dst[op++] = offset >>> 8;
      if (extra >= RUN_MASK) op = writeLength(dst, op, extra - RUN_MASK);
    }
    return true;
  };

  if (srcEnd - srcStart > MATCH_FIND_LIMIT) {
    hashTable.fill(-1);
    const lastMatchStart = srcEnd - MATCH_FIND_LIMIT;
    const matchEndLimit = srcEnd - LAST_LITERALS;
    let ip = srcStart;
    while (ip <= lastMatchStart) {
      const sequence = read32(src, ip);
      const h = hash(sequence);
      const ref = hashTable[h];
      hashTable[h] = ip;
      if (ref >= srcStart && ip - ref <= MAX_OFFSET && read32(src, ref) === sequence) {
        let length = MIN_MATCH;
        while (ip + length < matchEndLimit && src[ref + length] === src[ip + length]) length++;
        if (!emit(ip, ip - ref, length)) return -1;
        ip += length;
        anchor = ip;
      } else {
        ip++;
      }
    }
  }
  if (!emit(srcEnd, 0, 0)) return -1;
  return op - dstStart;
}

function writeLength(dst: Uint8Array, op: number, rest: number): number {
  while (rest >= 255) {
    dst[op++] = 255;
    rest -= 255;
  }
  dst[op++] = rest;
  return op;
}
