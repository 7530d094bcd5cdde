import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createCipheriv } from 'node:crypto';
import { AesGmacSiv } from '../../src/crypto/aes-gmac-siv.ts';
import { Ghash } from '../../src/crypto/ghash.ts';
import { kbkdfHmacSha384 } from '../../src/crypto/kbkdf.ts';
import { nativePacketCrypto } from '../../src/wire/native-armor.ts';
import { PeerKey } from '../../src/wire/peer-key.ts';
import { skipNativeArmor } from '../support/armor-implementations.ts';
import { hex, hexAfter, toHex, vectorDoc } from '../support/vectors.ts';

const PEER_KEY = hexAfter('Shared 48-byte peer key');

/** The "K0 …" / "K1 …" lines of docs/protocol/10-test-vectors.md §4. */
function kbkdfVector(name: 'K0' | 'K1'): Uint8Array {
  const block = vectorDoc().slice(vectorDoc().indexOf('KBKDF outputs'));
  const m = new RegExp(`^${name} ([0-9a-f]{96})$`, 'm').exec(block);
  if (!m) throw new Error(`no ${name} vector`);
  return hex(m[1]);
}

interface TableRow { length: number; iv: Uint8Array; ciphertext: Uint8Array; tag: Uint8Array }

/** Rows of the §5.5 table: | L | `iv8` | `ciphertext` | `T` |. */
function gmacSivTable(): TableRow[] {
  const doc = vectorDoc();
  const section = doc.slice(doc.indexOf('### 5.5 AES-GMAC-SIV'), doc.indexOf('### 5.6'));
  const rows: TableRow[] = [];
  for (const line of section.split('\n')) {
    const m = /^\|\s*(\d+)\s*\|\s*`([0-9a-f]{16})`\s*\|\s*`([0-9a-f]*|\(empty\))`\s*\|\s*`([0-9a-f]{32})`\s*\|$/.exec(line.trim());
    if (!m) continue;
    rows.push({ length: Number(m[1]), iv: hex(m[2]), ciphertext: m[3] === '(empty)' ? new Uint8Array(0) : hex(m[3]), tag: hex(m[4]) });
  }
  return rows;
}

const K0_ASCII = new Uint8Array(32).fill(0x30);
const K1_ASCII = new Uint8Array(32).fill(0x31);
const counting = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => i & 0xff);

describe('KBKDF-HMAC-SHA-384 (10-test-vectors.md §4)', () => {
  it('derives K0 and K1 from the A/B peer key', () => {
    expect(toHex(kbkdfHmacSha384(PEER_KEY, 0x30))).toBe(toHex(kbkdfVector('K0')));
    expect(toHex(kbkdfHmacSha384(PEER_KEY, 0x31))).toBe(toHex(kbkdfVector('K1')));
  });

  it('PeerKey keeps the first 32 bytes of each as the AES keys', () => {
    const k = new PeerKey(PEER_KEY);
    expect(toHex(k.k0)).toBe(toHex(kbkdfVector('K0').subarray(0, 32)));
    expect(toHex(k.k1)).toBe(toHex(kbkdfVector('K1').subarray(0, 32)));
    expect(toHex(k.salsaKey)).toBe(toHex(PEER_KEY.subarray(0, 32)));
  });
});

describe('AES-GMAC-SIV generic vectors (10-test-vectors.md §5.5)', () => {
  const rows = gmacSivTable();
  it('the table has all six rows', () => {
    expect(rows.map((r) => r.length)).toEqual([0, 1, 11, 16, 17, 100]);
  });

  for (const row of rows) {
    it(`L = ${row.length}: ciphertext and tag, and decryption`, () => {
      const siv = new AesGmacSiv(K0_ASCII, K1_ASCII);
      const plain = counting(row.length);
      const data = Uint8Array.from(plain);
      const t = new Uint8Array(16);
      siv.encrypt(row.iv, 0, plain, 0, plain.length, data, 0, data.length, t, 0);
      expect(toHex(data)).toBe(toHex(row.ciphertext));
      expect(toHex(t)).toBe(toHex(row.tag));

      const out = new Uint8Array(row.length);
      expect(siv.decrypt(row.tag, 0, plain, 0, plain.length, row.ciphertext, 0, row.length, out, 0)).toBe(true);
      expect(toHex(out)).toBe(toHex(plain));
      const recovered = new Uint8Array(8);
      siv.recoverIv(row.tag, 0, recovered, 0);
      expect(toHex(recovered)).toBe(toHex(row.iv));
    });
  }

  it('rejects a flipped tag, ciphertext or AAD bit', () => {
    const siv = new AesGmacSiv(K0_ASCII, K1_ASCII);
    const row = rows.find((r) => r.length === 100)!;
    const aad = counting(100);
    const out = new Uint8Array(100);
    for (const target of ['tag', 'ciphertext', 'aad'] as const) {
      const t = Uint8Array.from(row.tag), c = Uint8Array.from(row.ciphertext), a = Uint8Array.from(aad);
      ({ tag: t, ciphertext: c, aad: a })[target][5] ^= 0x10;
      expect(siv.decrypt(t, 0, a, 0, a.length, c, 0, c.length, out, 0)).toBe(false);
    }
  });

  it('round-trips arbitrary messages (property)', () => {
    const siv = new AesGmacSiv(K0_ASCII, K1_ASCII);
    fc.assert(fc.property(
      fc.uint8Array({ minLength: 8, maxLength: 8 }), fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 2000 }),
      (iv, aad, msg) => {
        const data = Uint8Array.from(msg);
        const t = new Uint8Array(16);
        siv.encrypt(iv, 0, aad, 0, aad.length, data, 0, data.length, t, 0);
        const out = new Uint8Array(msg.length);
        expect(siv.decrypt(t, 0, aad, 0, aad.length, data, 0, data.length, out, 0)).toBe(true);
        expect(toHex(out)).toBe(toHex(msg));
      },
    ), { numRuns: 200 });
  });
});

const noNativeAes = skipNativeArmor('native AES-GMAC-SIV vectors');
describe.skipIf(noNativeAes)('AES-GMAC-SIV in the C addon (native/src/packet_crypto.c, OpenSSL)', () => {
  const rows = gmacSivTable();
  const b = noNativeAes ? undefined! : nativePacketCrypto();
  const context = noNativeAes ? undefined! : b.aesContext(K0_ASCII, K1_ASCII);

  for (const row of rows) {
    it(`L = ${row.length}: ciphertext and tag of 10-test-vectors.md §5.5, and decryption`, () => {
      const plain = counting(row.length);
      const data = Uint8Array.from(plain);
      const t = b.aesGmacSivRaw(context, true, row.iv, plain, data);
      expect(toHex(data)).toBe(toHex(row.ciphertext));
      expect(toHex(t)).toBe(toHex(row.tag));
      expect(b.aesGmacSivRaw(context, false, row.tag, plain, data)).toBe(true);
      expect(toHex(data)).toBe(toHex(plain));
    });
  }

  it('rejects a flipped tag, ciphertext or AAD bit and leaves the ciphertext unchanged', () => {
    const row = rows.find((r) => r.length === 100)!;
    for (const target of ['tag', 'ciphertext', 'aad'] as const) {
      const t = Uint8Array.from(row.tag), c = Uint8Array.from(row.ciphertext), a = counting(100);
      ({ tag: t, ciphertext: c, aad: a })[target][5] ^= 0x10;
      const before = toHex(c);
      expect(b.aesGmacSivRaw(context, false, t, a, c)).toBe(false);
      expect(toHex(c)).toBe(before);
    }
  });

  it('agrees with the TypeScript AesGmacSiv both ways for any key, iv, AAD and message (property)', () => {
    fc.assert(fc.property(
      fc.uint8Array({ minLength: 64, maxLength: 64 }), fc.uint8Array({ minLength: 8, maxLength: 8 }),
      fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 3000 }),
      (keys, iv, aad, msg) => {
        const k0 = keys.subarray(0, 32), k1 = keys.subarray(32);
        const ts = new AesGmacSiv(k0, k1), native = b.aesContext(k0, k1);
        const byTs = Uint8Array.from(msg), tsTag = new Uint8Array(16);
        ts.encrypt(iv, 0, aad, 0, aad.length, byTs, 0, byTs.length, tsTag, 0);
        const byNative = Uint8Array.from(msg);
        const nativeTag = b.aesGmacSivRaw(native, true, iv, aad, byNative);
        expect(toHex(nativeTag)).toBe(toHex(tsTag));
        expect(toHex(byNative)).toBe(toHex(byTs));
        expect(b.aesGmacSivRaw(native, false, tsTag, aad, byTs)).toBe(true);
        expect(toHex(byTs)).toBe(toHex(msg));
      },
    ), { numRuns: 200 });
  });
});

describe('software GHASH', () => {
  /** GMAC from GHASH: GHASH_H(aad, lengths) XOR AES_K(nonce ‖ 00000001), H = AES_K(0). */
  function gmac(key: Uint8Array, nonce: Uint8Array, chunks: Uint8Array[]): string {
    const ecb = createCipheriv('aes-256-ecb', key, null).setAutoPadding(false);
    const g = new Ghash(ecb.update(new Uint8Array(16)));
    for (const c of chunks) g.update(c, 0, c.length);
    const out = new Uint8Array(16);
    g.finishAsAad(out, 0);
    const mask = ecb.update(Uint8Array.from([...nonce, 0, 0, 0, 1]));
    return toHex(out.map((b, i) => b ^ mask[i]));
  }

  function nodeGmac(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array): string {
    const gcm = createCipheriv('aes-256-gcm', key, nonce);
    gcm.setAAD(aad);
    gcm.final();
    return toHex(gcm.getAuthTag());
  }

  it('matches the NIST GCM test case 13 tag (AES-256, zero key, zero IV, no data)', () => {
    expect(gmac(new Uint8Array(32), new Uint8Array(12), [])).toBe('530f8afbc74536b9a963b4f1c4cb738b');
  });

  it('matches node:crypto AES-256-GCM with everything as AAD, fed in any chunking (property)', () => {
    fc.assert(fc.property(
      fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 12, maxLength: 12 }),
      fc.uint8Array({ maxLength: 600 }), fc.array(fc.nat(600), { maxLength: 4 }),
      (key, nonce, data, cuts) => {
        const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
        const chunks: Uint8Array[] = [];
        let from = 0;
        for (const p of [...points, data.length]) {
          chunks.push(data.subarray(from, p));
          from = p;
        }
        expect(gmac(key, nonce, chunks)).toBe(nodeGmac(key, nonce, data));
      },
    ), { numRuns: 300 });
  });
});
