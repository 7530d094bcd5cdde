// The C armor (native/src/packet_crypto.c via src/wire/native-armor.ts) against the TypeScript
// one: how it is chosen, and that each dearmors what the other armors, for any key and any
// packet length up to ZT_PROTO_MAX_PACKET_LENGTH, and that both refuse the same tampering.
// Skipped (and says why) only when the addon was not built.

import fc from 'fast-check';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { ARMOR_ENV, armor, armorImplementation, dearmor, useArmor, type ArmorCipher, type ArmorImplementation } from '../../src/wire/armor.ts';
import { MAX_PACKET_LENGTH, MIN_PACKET_LENGTH } from '../../src/wire/constants.ts';
import { nativeArmorAvailability } from '../../src/wire/native-armor.ts';
import { PeerKey } from '../../src/wire/peer-key.ts';
import { skipNativeArmor } from '../support/armor-implementations.ts';
import { toHex } from '../support/vectors.ts';

/** The MTU past which sender.ts fragments (docs/protocol/03-packet.md §7.2), bytes. */
const PHYSICAL_MTU_BYTES = 1432;
const FRAGMENTED_FLAG = 0x40;

function armorWith(which: ArmorImplementation, p: Uint8Array, key: PeerKey, cipher: ArmorCipher): void {
  useArmor(which);
  armor(p, key, cipher);
}
function dearmorWith(which: ArmorImplementation, p: Uint8Array, key: PeerKey): ReturnType<typeof dearmor> {
  useArmor(which);
  return dearmor(p, key);
}

const other = (which: ArmorImplementation): ArmorImplementation => (which === 'js' ? 'native' : 'js');

/** A plaintext packet of any length: random bytes, flag byte 0 or fragmented past the MTU. */
const packetArb = fc.integer({ min: MIN_PACKET_LENGTH, max: MAX_PACKET_LENGTH }).chain((length) =>
  fc.uint8Array({ minLength: length, maxLength: length }).map((p) => {
    p[18] = p.length > PHYSICAL_MTU_BYTES ? FRAGMENTED_FLAG : 0;
    return p;
  }));
const keyArb = fc.uint8Array({ minLength: 48, maxLength: 48 }).map((k) => new PeerKey(k));
const cipherArb = fc.constantFrom<ArmorCipher>(0, 1, 3);

describe('choosing the armor implementation', () => {
  afterAll(() => useArmor('auto'));

  it("useArmor('js') pins TypeScript", () => {
    useArmor('js');
    expect(armorImplementation()).toBe('js');
  });

  it(`${ARMOR_ENV}=js pins TypeScript when the module is first used, and the default follows the addon`, async () => {
    const fresh = async (env: string | undefined): Promise<ArmorImplementation> => {
      vi.resetModules();
      vi.stubEnv(ARMOR_ENV, env);
      try {
        const m = await import('../../src/wire/armor.ts');
        return m.armorImplementation();
      } finally {
        vi.unstubAllEnvs();
      }
    };
    expect(await fresh('js')).toBe('js');
    expect(await fresh(undefined)).toBe(nativeArmorAvailability().ok ? 'native' : 'js');
  });
});

describe.skipIf(skipNativeArmor('native armor against TypeScript armor'))('native armor against TypeScript armor', () => {
  afterAll(() => useArmor('auto'));

  it('loads, passes its self-test and runs on OpenSSL 3', () => {
    const a = nativeArmorAvailability();
    expect(a.ok).toBe(true);
    if (a.ok) expect(a.openssl).toMatch(/^OpenSSL 3\./);
    useArmor('auto');
    expect(armorImplementation()).toBe('native');
  });

  it('each dearmors what the other armors, byte for byte the same, any key, cipher and length up to 10024 (property)', () => {
    fc.assert(fc.property(keyArb, packetArb, cipherArb, fc.constantFrom<ArmorImplementation>('js', 'native'), (key, plain, cipher, sender) => {
      const a = Uint8Array.from(plain);
      armorWith(sender, a, key, cipher);
      const b = Uint8Array.from(plain);
      armorWith(other(sender), b, key, cipher);
      expect(toHex(a)).toBe(toHex(b));
      expect(dearmorWith(other(sender), a, key)).toEqual({ ok: true, cipher });
      expect(toHex(a.subarray(27))).toBe(toHex(plain.subarray(27)));
    }), { numRuns: 150 });
  });

  it('both refuse a packet with one flipped bit outside the hop count, and leave it unchanged (property)', () => {
    fc.assert(fc.property(keyArb, packetArb, cipherArb, fc.nat(), fc.integer({ min: 0, max: 7 }), (key, plain, cipher, at, bit) => {
      const p = Uint8Array.from(plain);
      armorWith('js', p, key, cipher);
      const i = at % p.length;
      // the hop bits (byte 18, bits 0..2) are not authenticated: relays change them
      p[i] ^= 1 << (i === 18 ? Math.max(bit, 3) : bit);
      const tampered = toHex(p);
      for (const which of ['js', 'native'] as const) {
        // bad-mac, or unsupported-cipher when the flip hit the cipher bits
        expect(dearmorWith(which, p, key).ok).toBe(false);
        expect(toHex(p)).toBe(tampered);
      }
    }), { numRuns: 150 });
  });

  it('both refuse packets armored under another key', () => {
    const key = new PeerKey(new Uint8Array(48).fill(1)), wrong = new PeerKey(new Uint8Array(48).fill(2));
    for (const cipher of [0, 1, 3] as const) {
      for (const length of [MIN_PACKET_LENGTH, 1400, 2800, MAX_PACKET_LENGTH]) {
        const p = new Uint8Array(length).fill(0x5a);
        p[18] = 0;
        armorWith('native', p, key, cipher);
        for (const which of ['js', 'native'] as const) expect(dearmorWith(which, Uint8Array.from(p), wrong).ok).toBe(false);
      }
    }
  });
});
