// Armor and dearmor (docs/protocol/03-packet.md §5) against 10-test-vectors.md §5.1–§5.3, run for
// both implementations (TypeScript and the C addon, test/support/armor-implementations.ts).

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Salsa20 } from '../../src/crypto/salsa20.ts';
import { armor, cipherFor, dearmor, mangleKey, recoverAesGmacSivPacketId, type ArmorCipher } from '../../src/wire/armor.ts';
import { Verb } from '../../src/wire/constants.ts';
import { cryptField } from '../../src/wire/crypt-field.ts';
import { PeerKey } from '../../src/wire/peer-key.ts';
import { describeEachArmor } from '../support/armor-implementations.ts';
import { hexAfter, toHex, vectorDoc } from '../support/vectors.ts';

const KEY = new PeerKey(hexAfter('Shared 48-byte peer key'));
const OTHER_KEY = new PeerKey(new Uint8Array(48).fill(7));

/** Fenced hex after `label`, searched from the heading `section` on. */
function vec(section: string, label: string): Uint8Array {
  const at = vectorDoc().indexOf(section);
  if (at < 0) throw new Error(`no section ${section}`);
  return hexAfter(label, at);
}

describeEachArmor('HELLO from B to A, cipher 0 with cryptField (10-test-vectors.md §5.1)', () => {
  const S = '### 5.1 HELLO';
  const plain = vec(S, 'Plaintext before cryptField');
  const obscured = vec(S, 'After cryptField');
  const wire = vec(S, 'On the wire after armor');

  it('cryptField obscures bytes 135..end and is its own inverse', () => {
    const p = Uint8Array.from(plain);
    cryptField(p, 135, p.length, KEY.key);
    expect(toHex(p)).toBe(toHex(obscured));
    cryptField(p, 135, p.length, KEY.salsaKey);
    expect(toHex(p)).toBe(toHex(plain));
  });

  it('armor with cipher 0 gives the wire bytes (flags 0x00, MAC 5148a8b982ad1978)', () => {
    const p = Uint8Array.from(obscured);
    armor(p, KEY, 0);
    expect(toHex(p)).toBe(toHex(wire));
    expect(p[18]).toBe(0x00);
    expect(toHex(p.subarray(19, 27))).toBe('5148a8b982ad1978');
  });

  it('dearmor accepts it and leaves the cleartext payload as is', () => {
    const p = Uint8Array.from(wire);
    expect(dearmor(p, KEY)).toEqual({ ok: true, cipher: 0 });
    expect(toHex(p.subarray(27))).toBe(toHex(obscured.subarray(27)));
    cryptField(p, 135, p.length, KEY.key);
    expect(toHex(p.subarray(27))).toBe(toHex(plain.subarray(27)));
  });

  it('dearmor accepts the packet after a relay bumped its hop count', () => {
    const p = Uint8Array.from(wire);
    p[18] |= 2;
    expect(dearmor(p, KEY).ok).toBe(true);
  });
});

describeEachArmor('OK(HELLO) from A to B (10-test-vectors.md §5.2)', () => {
  const S = '### 5.2 OK(HELLO)';
  const plain = vec(S, 'Plaintext (59 bytes)');
  const c1 = vec(S, 'Armored with cipher 1');
  const c3 = vec(S, 'Armored with cipher 3');

  it('cipher 1: armor and dearmor', () => {
    const p = Uint8Array.from(plain);
    armor(p, KEY, 1);
    expect(toHex(p)).toBe(toHex(c1));
    expect(p[18]).toBe(0x88);
    const q = Uint8Array.from(c1);
    expect(dearmor(q, KEY)).toEqual({ ok: true, cipher: 1 });
    expect(toHex(q.subarray(27))).toBe(toHex(plain.subarray(27)));
  });

  it('cipher 3: armor and dearmor; packet ID becomes the tag half', () => {
    const p = Uint8Array.from(plain);
    armor(p, KEY, 3);
    expect(toHex(p)).toBe(toHex(c3));
    expect(p[18]).toBe(0x18);
    const q = Uint8Array.from(c3);
    expect(dearmor(q, KEY)).toEqual({ ok: true, cipher: 3 });
    expect(toHex(q.subarray(27))).toBe(toHex(plain.subarray(27)));
    expect(toHex(q.subarray(0, 8))).toBe(toHex(c3.subarray(0, 8)));
    expect(toHex(recoverAesGmacSivPacketId(c3, KEY))).toBe('0a0b0c0d0e0f1011');
  });
});

describeEachArmor('OK(ECHO) from A to B with Salsa20 internals (10-test-vectors.md §5.3)', () => {
  const S = '### 5.3 OK(ECHO)';
  const plain = vec(S, 'Plaintext (41 bytes)');
  const mangled = vec(S, 'Per-packet (mangled) Salsa20 key');
  const block0 = vec(S, 'Salsa20/12 keystream block 0');
  const c1 = vec(S, 'Armored, cipher 1');
  const c3 = vec(S, 'Armored, cipher 3');

  it('mangled key for flags 0x88', () => {
    // The vector text says "length 42", but the packet is 41 bytes and the given key has
    // byte 19 = peerKey[19] XOR 0x29 (41): the key is for the 41-byte packet.
    const p = Uint8Array.from(plain);
    p[18] = 0x88;
    const mk = new Uint8Array(32);
    mangleKey(KEY.key, p, mk);
    expect(toHex(mk)).toBe(toHex(mangled));
  });

  it('keystream block 0 under the mangled key and the packet ID nonce', () => {
    const ks = new Uint8Array(64);
    new Salsa20(mangled, plain.subarray(0, 8), 12).keystream(ks, 0, 64);
    expect(toHex(ks)).toBe(toHex(block0));
  });

  it('cipher 1 and cipher 3 armor', () => {
    const p1 = Uint8Array.from(plain);
    armor(p1, KEY, 1);
    expect(toHex(p1)).toBe(toHex(c1));
    const p3 = Uint8Array.from(plain);
    armor(p3, KEY, 3);
    expect(toHex(p3)).toBe(toHex(c3));
    expect(toHex(p3.subarray(0, 8))).toBe('1f4836a3c9e5528a');
  });

  it('both dearmor back to the plaintext', () => {
    for (const wire of [c1, c3]) {
      const p = Uint8Array.from(wire);
      expect(dearmor(p, KEY).ok).toBe(true);
      expect(toHex(p.subarray(27))).toBe(toHex(plain.subarray(27)));
    }
  });
});

describeEachArmor('dearmor failures', () => {
  const plain = vec('### 5.3 OK(ECHO)', 'Plaintext (41 bytes)');

  it('wrong key, flipped bits, bad lengths and unknown ciphers give typed errors and leave the packet unchanged', () => {
    for (const cipher of [0, 1, 3] as const) {
      const p = Uint8Array.from(plain);
      armor(p, KEY, cipher);
      const copy = Uint8Array.from(p);
      expect(dearmor(p, OTHER_KEY)).toEqual({ ok: false, error: 'bad-mac' });
      expect(toHex(p)).toBe(toHex(copy));
      for (const at of [0, 8, 13, 18, 19, 27, 40]) {
        const q = Uint8Array.from(copy);
        q[at] ^= at === 18 ? 0x40 : 0x01; // at 18 flip the fragment flag (covered), not the hops
        expect(dearmor(q, KEY)).toEqual({ ok: false, error: 'bad-mac' });
      }
    }
    expect(dearmor(new Uint8Array(27), KEY)).toEqual({ ok: false, error: 'too-short' });
    expect(dearmor(new Uint8Array(10025), KEY)).toEqual({ ok: false, error: 'too-long' });
    for (const cipher of [2, 4, 5, 6, 7]) {
      const q = Uint8Array.from(plain);
      q[18] = cipher << 3;
      expect(dearmor(q, KEY)).toEqual({ ok: false, error: 'unsupported-cipher' });
    }
  });

  it('armor then dearmor round-trips any packet, any cipher (property)', () => {
    fc.assert(fc.property(
      fc.uint8Array({ minLength: 28, maxLength: 3000 }), fc.constantFrom<ArmorCipher>(0, 1, 3), fc.boolean(), fc.integer({ min: 0, max: 7 }),
      (bytes, cipher, fragmented, hops) => {
        const p = Uint8Array.from(bytes);
        p[18] = fragmented ? 0x40 : 0;
        const plainCopy = Uint8Array.from(p);
        armor(p, KEY, cipher);
        p[18] = (p[18] & 0xf8) | hops; // relays may change hops afterwards
        expect(dearmor(p, KEY)).toEqual({ ok: true, cipher });
        expect(toHex(p.subarray(27))).toBe(toHex(plainCopy.subarray(27)));
        expect((p[18] & 0x40) !== 0).toBe(fragmented);
      },
    ), { numRuns: 300 });
  });

  it('random and mutated datagrams never throw and never authenticate (property)', () => {
    const armored = Uint8Array.from(plain);
    armor(armored, KEY, 1);
    fc.assert(fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 200 }),
        fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 255 })).map(([at, x]) => {
          const q = Uint8Array.from(armored);
          q[at] ^= x;
          return q;
        }),
      ),
      (d) => {
        const r = dearmor(d, KEY);
        if (d.length === armored.length && toHex(d) === toHex(armored)) return;
        // only a change of hop bits may still authenticate
        if (r.ok) expect(toHex(d.subarray(0, 18)) + toHex(d.subarray(19, 27))).toBe(toHex(armored.subarray(0, 18)) + toHex(armored.subarray(19, 27)));
      },
    ), { numRuns: 500 });
  });
});

describe('cipherFor (03-packet.md §4)', () => {
  it('HELLO is always cipher 0; others 3 from protocol 12, else 1', () => {
    expect(cipherFor(Verb.HELLO, 12)).toBe(0);
    expect(cipherFor(Verb.OK, 12)).toBe(3);
    expect(cipherFor(Verb.OK, 11)).toBe(1);
    expect(cipherFor(Verb.FRAME, 0)).toBe(1);
  });
});
