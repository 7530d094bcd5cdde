import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compressPacket, uncompressPacket } from '../../src/wire/compression.ts';
import { lz4CompressBlock, lz4CompressBound, lz4DecompressBlock } from '../../src/wire/lz4.ts';
import { missingCommand, skipGroup } from '../support/skips.ts';
import { hexAfter, toHex, vectorDoc } from '../support/vectors.ts';

const at = vectorDoc().indexOf('### 5.6 LZ4');
const UNCOMPRESSED = hexAfter('Uncompressed (164 bytes)', at);
const COMPRESSED = hexAfter('Compressed (73 bytes)', at);

/** Deterministic incompressible bytes (xorshift32). */
function noise(n: number): Uint8Array {
  let x = 0x12345678;
  return Uint8Array.from({ length: n }, () => {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    return x & 0xff;
  });
}

function compress(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(lz4CompressBound(data.length));
  const n = lz4CompressBlock(data, 0, data.length, out, 0, out.length);
  expect(n).toBeGreaterThan(0);
  return out.subarray(0, n);
}

function decompress(block: Uint8Array, limit = 1 << 20): Uint8Array {
  const out = new Uint8Array(limit);
  const r = lz4DecompressBlock(block, 0, block.length, out, 0, limit);
  if (!r.ok) throw new Error(r.error);
  return out.subarray(0, r.length);
}

/** Walk a block's sequences and check the end-of-block rules every LZ4 decoder may rely on. */
function checkBlockRules(block: Uint8Array, decodedLength: number): void {
  let ip = 0, op = 0, lastMatchStart = -1, lastMatchEnd = 0;
  for (;;) {
    const token = block[ip++];
    let lit = token >>> 4;
    if (lit === 15) for (let s = 255; s === 255; lit += s) s = block[ip++];
    ip += lit; op += lit;
    if (ip === block.length) break;
    ip += 2;
    let ml = token & 15;
    if (ml === 15) for (let s = 255; s === 255; ml += s) s = block[ip++];
    lastMatchStart = op;
    op += ml + 4;
    lastMatchEnd = op;
  }
  expect(op).toBe(decodedLength);
  if (lastMatchStart >= 0) {
    expect(decodedLength - lastMatchStart).toBeGreaterThanOrEqual(12); // MFLIMIT
    expect(decodedLength - lastMatchEnd).toBeGreaterThanOrEqual(5); // LASTLITERALS
  }
}

describe('LZ4 decompression of the reference block (10-test-vectors.md §5.6)', () => {
  it('Packet::compress output decodes to the original payload', () => {
    expect(COMPRESSED[27]).toBe(0x81);
    expect(toHex(decompress(COMPRESSED.subarray(28)))).toBe(toHex(UNCOMPRESSED.subarray(28)));
  });

  it('uncompressPacket restores the whole 164-byte packet and clears the flag', () => {
    const r = uncompressPacket(Uint8Array.from(COMPRESSED));
    expect(r.ok).toBe(true);
    if (r.ok) expect(toHex(r.packet)).toBe(toHex(UNCOMPRESSED));
  });

  it('an output limit one byte short is a typed overflow, not a throw', () => {
    const block = COMPRESSED.subarray(28);
    const out = new Uint8Array(200);
    expect(lz4DecompressBlock(block, 0, block.length, out, 0, 135)).toEqual({ ok: false, error: 'output-overflow' });
    expect(lz4DecompressBlock(block, 0, block.length, out, 0, 136)).toEqual({ ok: true, length: 136 });
  });

  it('truncations of the block are typed errors', () => {
    const block = COMPRESSED.subarray(28);
    for (let n = 0; n < block.length; n++) {
      const r = lz4DecompressBlock(block, 0, n, new Uint8Array(500), 0, 500);
      // a prefix may end exactly after a literal run, which is a (shorter) valid block
      if (r.ok) expect(r.length).toBeLessThan(136);
      else expect(['truncated', 'bad-offset', 'output-overflow']).toContain(r.error);
    }
  });
});

describe('LZ4 compressor', () => {
  it('compresses the §5.6 payload to a block that decodes back and obeys the end-of-block rules', () => {
    const payload = UNCOMPRESSED.subarray(28);
    const block = compress(payload);
    expect(block.length).toBeLessThan(payload.length);
    expect(toHex(decompress(block))).toBe(toHex(payload));
    checkBlockRules(block, payload.length);
  });

  it('compressPacket: sets 0x80 and shrinks the §5.6 packet; the result uncompresses to the original', () => {
    const p = compressPacket(Uint8Array.from(UNCOMPRESSED));
    expect(p.length).toBeLessThan(UNCOMPRESSED.length);
    expect(p[27]).toBe(0x81);
    expect(toHex(p.subarray(0, 27))).toBe(toHex(UNCOMPRESSED.subarray(0, 27)));
    const r = uncompressPacket(p);
    expect(r.ok && toHex(r.packet)).toBe(toHex(UNCOMPRESSED));
  });

  it('compressPacket leaves payloads of 64 bytes or less, and incompressible ones, uncompressed', () => {
    const small = new Uint8Array(28 + 64); // 64 zero bytes would compress, but the rule says no
    small[27] = 0x81;
    const s = compressPacket(small);
    expect(s).toBe(small);
    expect(s[27]).toBe(0x01);
    const random = noise(28 + 300);
    random[27] = 0x09;
    expect(compressPacket(random)).toBe(random);
    const big = new Uint8Array(28 + 65);
    big[27] = 0x09;
    expect(compressPacket(big).length).toBeLessThan(big.length);
  });

  it('long runs and long literal runs use the extended length bytes', () => {
    const run = new Uint8Array(5000).fill(0x61);
    const literals = noise(700);
    for (const data of [run, literals, Uint8Array.from([...literals, ...run, ...literals])]) {
      const block = compress(data);
      expect(toHex(decompress(block))).toBe(toHex(data));
      checkBlockRules(block, data.length);
    }
  });

  it('round-trips arbitrary and repetitive data (property)', () => {
    const repetitive = fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 20 }), fc.integer({ min: 1, max: 400 }), fc.uint8Array({ maxLength: 30 }))
      .map(([unit, times, tail]) => Uint8Array.from([...Array.from({ length: times }, () => [...unit]).flat(), ...tail]));
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 3000 }), repetitive), (data) => {
      const block = compress(data);
      expect(block.length).toBeLessThanOrEqual(lz4CompressBound(data.length));
      expect(toHex(decompress(block))).toBe(toHex(data));
      checkBlockRules(block, data.length);
    }), { numRuns: 300 });
  });
});

describe('LZ4 decoder robustness', () => {
  it('random and mutated blocks never throw and never write past the limit (property)', () => {
    const block = COMPRESSED.subarray(28);
    fc.assert(fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 300 }),
        fc.tuple(fc.integer({ min: 0, max: block.length - 1 }), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
          const b = Uint8Array.from(block);
          b[i] ^= x;
          return b;
        }),
      ),
      fc.integer({ min: 0, max: 400 }),
      (data, limit) => {
        const out = new Uint8Array(limit + 16).fill(0xee);
        const r = lz4DecompressBlock(data, 0, data.length, out, 0, limit);
        if (r.ok) expect(r.length).toBeLessThanOrEqual(limit);
        for (let i = limit; i < out.length; i++) expect(out[i]).toBe(0xee);
      },
    ), { numRuns: 1000 });
  });

  it('a block that expands past 10024 − 28 bytes is rejected by uncompressPacket', () => {
    // one literal, then a match of 10 000 bytes at offset 1
    const extra = 10000 - 4 - 15;
    const lengthBytes = [...Array(Math.floor(extra / 255)).fill(255), extra % 255];
    const p = Uint8Array.from([...new Uint8Array(27), 0x89, 0x1f, 0x61, 0x01, 0x00, ...lengthBytes, 0x50, 1, 2, 3, 4, 5]);
    expect(uncompressPacket(p)).toEqual({ ok: false, error: 'output-overflow' });
    const q = Uint8Array.from([...new Uint8Array(27), 0x89]);
    expect(uncompressPacket(q)).toEqual({ ok: true, packet: q });
    expect(q[27]).toBe(0x09);
    expect(uncompressPacket(Uint8Array.from([...new Uint8Array(27), 0x89, 0x00]))).toEqual({ ok: false, error: 'empty-output' });
    expect(uncompressPacket(new Uint8Array(20))).toEqual({ ok: false, error: 'too-short' });
  });
});

// Cross-check with the reference LZ4 implementation when its command-line tool is installed:
// wrap our block in a minimal LZ4 frame and let `lz4 -d` decode it.
const noLz4Tool = skipGroup('cross-check with the reference lz4 tool', missingCommand('lz4', 'lz4'));

/** XXH32 with seed 0 for inputs shorter than 16 bytes (the frame descriptor checksum). */
function xxh32Short(data: Uint8Array): number {
  const P1 = 2654435761, P2 = 2246822519, P3 = 3266489917, P5 = 374761393;
  const rotl = (x: number, r: number) => ((x << r) | (x >>> (32 - r))) >>> 0;
  let h = (P5 + data.length) >>> 0;
  for (const byte of data) h = Math.imul(rotl((h + Math.imul(byte, P5)) >>> 0, 11), P1) >>> 0;
  h ^= h >>> 15; h = Math.imul(h, P2) >>> 0; h ^= h >>> 13; h = Math.imul(h, P3) >>> 0; h ^= h >>> 16;
  return h >>> 0;
}

describe.skipIf(noLz4Tool)('LZ4 compressor against the reference lz4 tool', () => {
  it('lz4 -d decodes our blocks', () => {
    const text = new TextEncoder().encode('supercalifragilisticexpealidocious '.repeat(200));
    const data = Uint8Array.from([...noise(3000), ...text, ...new Uint8Array(2000), ...noise(50)]);
    const block = compress(data);
    const descriptor = Uint8Array.from([0x60, 0x70]); // version 1, independent blocks; 4 MiB max block
    const frame = Uint8Array.from([
      0x04, 0x22, 0x4d, 0x18, ...descriptor, (xxh32Short(descriptor) >>> 8) & 0xff,
      block.length & 0xff, (block.length >>> 8) & 0xff, (block.length >>> 16) & 0xff, 0, // compressed-block size
      ...block, 0, 0, 0, 0, // end mark
    ]);
    const r = spawnSync('lz4', ['-d', '-c'], { input: frame, maxBuffer: 1 << 20 });
    expect(r.status).toBe(0);
    expect(toHex(new Uint8Array(r.stdout))).toBe(toHex(data));
  });
});
