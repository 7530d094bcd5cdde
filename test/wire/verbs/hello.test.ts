import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Identity } from '../../../src/identity/identity.ts';
import { Verb } from '../../../src/wire/constants.ts';
import { cryptField } from '../../../src/wire/crypt-field.ts';
import { formatInetAddress, parseInetAddress, NIL_ADDRESS } from '../../../src/wire/inet-address.ts';
import {
  decodeHello, decodeOkHello, encodeHello, encodeHelloWithCryptFieldOffset, encodeOkHello, helloCryptFieldOffset,
  type Hello, type OkHello,
} from '../../../src/wire/verbs/hello.ts';
import { hex, hexAfter, toHex, vectorDoc } from '../../support/vectors.ts';
import { A, B, inetAddress, mutated, plain, publicIdentity, RUNS, u16, u64, u8 } from '../arbitraries.ts';

const PAYLOAD = 28;

const helloVector: Hello = {
  protocolVersion: 12, majorVersion: 1, minorVersion: 14, revision: 1, timestamp: 1_700_000_000_000n,
  identity: B.publicOnly(),
  destination: parseInetAddress('192.0.2.1/9993')!,
  planet: { id: 149604618n, timestamp: 1644592324813n },
  moons: [{ worldType: 127, id: 0x8e4df28b72n, timestamp: 0n }],
};

describe('HELLO (04-verbs.md §4, 10-test-vectors.md §5.1)', () => {
  const plaintext = hexAfter('Plaintext before cryptField (154 bytes)');
  const obscured = hexAfter('After cryptField (bytes 135..end obscured)');

  it('encodes the §5.1 fields to the plaintext payload, cryptField region at packet byte 135', () => {
    expect(plaintext[27]).toBe(Verb.HELLO);
    const { payload, cryptFieldOffset } = encodeHelloWithCryptFieldOffset(helloVector);
    expect(toHex(payload)).toBe(toHex(plaintext.subarray(PAYLOAD)));
    expect(PAYLOAD + cryptFieldOffset!).toBe(135);
  });

  it('finds the cryptField region in the obscured payload from cleartext fields only', () => {
    expect(helloCryptFieldOffset(obscured.subarray(PAYLOAD))).toBe(135 - PAYLOAD);
    expect(helloCryptFieldOffset(plaintext.subarray(PAYLOAD, 135))).toBeUndefined();
    expect(helloCryptFieldOffset(new Uint8Array(20))).toBeUndefined();
  });

  it('with the A-B key, cryptField over the reported region turns the obscured packet into the plaintext', () => {
    const packet = Uint8Array.from(obscured);
    const at = helloCryptFieldOffset(packet.subarray(PAYLOAD))!;
    cryptField(packet, PAYLOAD + at, packet.length, B.agree(A)!);
    expect(toHex(packet)).toBe(toHex(plaintext));
    const d = decodeHello(packet.subarray(PAYLOAD));
    expect(d.ok && d.value.moons).toEqual(helloVector.moons);
  });

  it('with reveal, decodeHello de-obscures the moon region itself as it reaches it (one pass)', () => {
    const packet = Uint8Array.from(obscured);
    const d = decodeHello(packet.subarray(PAYLOAD), B.publicOnly(), { packet, key: B.agree(A)! });
    if (!d.ok) throw new Error(d.error);
    expect(plain(d.value)).toEqual(plain(helloVector));
    expect(toHex(packet)).toBe(toHex(plaintext));
    // without it the obscured moon list reads as garbage
    const raw = decodeHello(Uint8Array.from(obscured).subarray(PAYLOAD));
    expect(raw.ok && raw.value.moons).not.toEqual(helloVector.moons);
  });

  it('with reveal, a HELLO cut short before the moon region is left as it is', () => {
    const packet = Uint8Array.from(obscured.subarray(0, 135));
    const d = decodeHello(packet.subarray(PAYLOAD), undefined, { packet, key: B.agree(A)! });
    expect(d.ok && d.value.moons).toBeUndefined();
    expect(toHex(packet)).toBe(toHex(obscured.subarray(0, 135)));
  });

  it('decodes the plaintext payload', () => {
    const d = decodeHello(plaintext.subarray(PAYLOAD));
    if (!d.ok) throw new Error(d.error);
    expect(plain(d.value)).toEqual(plain(helloVector));
    expect(formatInetAddress(d.value.destination!)).toBe('192.0.2.1/9993');
  });

  it('fields after the identity are optional (older senders)', () => {
    const p = plaintext.subarray(PAYLOAD);
    const idOnly = decodeHello(p.subarray(0, 13 + 71));
    expect(idOnly.ok && idOnly.value.destination).toBeUndefined();
    const withAddress = decodeHello(p.subarray(0, 13 + 71 + 7 + 10));
    expect(withAddress.ok && formatInetAddress(withAddress.value.destination!)).toBe('192.0.2.1/9993');
    expect(withAddress.ok && withAddress.value.planet).toBeUndefined();
    const noMoons = decodeHello(p.subarray(0, 13 + 71 + 7 + 16 + 1));
    expect(noMoons.ok && noMoons.value.moons).toBeUndefined();
    expect(decodeHello(p.subarray(0, 13 + 70))).toEqual({ ok: false, error: 'too-short' });
  });

  it('moon entries: non-moon types are skipped, a cut moon entry is too-short', () => {
    const p = plaintext.subarray(PAYLOAD);
    const head = p.subarray(0, 107);
    const withOther = Uint8Array.from([...head, 0, 2, 1, ...new Uint8Array(16), 127, ...hex('0000008e4df28b72'), ...hex('0000000000000005')]);
    const d = decodeHello(withOther);
    expect(d.ok && d.value.moons).toEqual([{ worldType: 127, id: 0x8e4df28b72n, timestamp: 5n }]);
    expect(decodeHello(p.subarray(0, p.length - 1))).toEqual({ ok: false, error: 'too-short' });
    const cutOther = Uint8Array.from([...head, 0, 1, 1, 0, 0]);
    expect(decodeHello(cutOther).ok).toBe(true);
  });

  it('a bad identity type or address type fails', () => {
    const p = Uint8Array.from(plaintext.subarray(PAYLOAD));
    p[13 + 5] = 1;
    expect(decodeHello(p)).toEqual({ ok: false, error: 'bad-identity' });
    const q = Uint8Array.from(plaintext.subarray(PAYLOAD));
    q[84] = 9;
    expect(decodeHello(q)).toEqual({ ok: false, error: 'bad-inet-address-type' });
  });

  const hello: fc.Arbitrary<Hello> = fc.record({
    protocolVersion: u8, majorVersion: u8, minorVersion: u8, revision: u16, timestamp: u64, identity: publicIdentity,
    destination: inetAddress,
    planet: fc.record({ id: u64, timestamp: u64 }),
    moons: fc.array(fc.record({ worldType: fc.constant(127), id: u64, timestamp: u64 }), { maxLength: 5 }),
  });

  it('round-trips, and the reported offset always points at the moon count', () => {
    fc.assert(fc.property(hello, (h) => {
      const { payload, cryptFieldOffset } = encodeHelloWithCryptFieldOffset(h);
      expect(helloCryptFieldOffset(payload)).toBe(cryptFieldOffset);
      expect((payload[cryptFieldOffset!] << 8) | payload[cryptFieldOffset! + 1]).toBe(h.moons!.length);
      const d = decodeHello(payload);
      expect(d.ok && plain(d.value)).toEqual(plain(h));
    }), RUNS);
  });

  it('decodes the same with the sender identity given, whether or not the payload carries that identity', () => {
    fc.assert(fc.property(hello, publicIdentity, fc.boolean(), (h, other, same) => {
      const { payload } = encodeHelloWithCryptFieldOffset(h);
      const expected = same ? h.identity : other;
      expect(helloCryptFieldOffset(payload, expected)).toBe(helloCryptFieldOffset(payload));
      const d = decodeHello(payload, expected);
      expect(d.ok && plain(d.value)).toEqual(plain(h));
      if (same && d.ok) expect(d.value.identity.equals(h.identity)).toBe(true);
    }), RUNS);
    // a key differing in its last byte is a different identity, decoded from the bytes
    const h = { protocolVersion: 12, majorVersion: 1, minorVersion: 14, revision: 1, timestamp: 5n, identity: A.publicOnly() };
    const payload = encodeHello(h);
    const key = Uint8Array.from(A.publicKey);
    key[63] ^= 1;
    const d = decodeHello(payload, new Identity(A.address, key));
    expect(d.ok && d.value.identity.equals(A)).toBe(true);
  });

  it('never throws on mutated payloads', () => {
    fc.assert(fc.property(mutated(hello.map(encodeHello)), publicIdentity, (b, sender) => {
      expect(typeof decodeHello(b, sender).ok).toBe('boolean');
      expect(typeof decodeHello(b).ok).toBe('boolean');
      const off = helloCryptFieldOffset(b);
      if (off !== undefined) expect(off).toBeLessThan(b.length);
    }), RUNS);
  });
});

describe('OK(HELLO) (04-verbs.md §4.1, 10-test-vectors.md §5.2)', () => {
  const plaintext = hexAfter('Plaintext (59 bytes)', vectorDoc().indexOf('### 5.2'));
  const vector: OkHello = {
    inRePacketId: 0x0123456789abcdefn, timestamp: 1_700_000_000_000n, protocolVersion: 11, majorVersion: 0, minorVersion: 0,
    revision: 0, externalAddress: parseInetAddress('198.51.100.7/34567')!, worlds: new Uint8Array(0),
  };

  it('encodes and decodes the §5.2 plaintext payload', () => {
    expect(plaintext[27]).toBe(Verb.OK);
    expect(toHex(encodeOkHello(vector))).toBe(toHex(plaintext.subarray(PAYLOAD)));
    const d = decodeOkHello(plaintext.subarray(PAYLOAD));
    expect(d.ok && plain(d.value)).toEqual(plain(vector));
  });

  it('carries world updates as raw bytes; address and worlds are optional', () => {
    const moon = hexAfter('Serialized moon (as in a `.moon` file / OK(HELLO)) (278 bytes)');
    const withMoon = encodeOkHello({ ...vector, worlds: moon });
    const d = decodeOkHello(withMoon);
    expect(d.ok && toHex(d.value.worlds!)).toBe(toHex(moon));
    const bare = decodeOkHello(plaintext.subarray(PAYLOAD, PAYLOAD + 22));
    expect(bare.ok && bare.value.externalAddress).toBeUndefined();
    const noWorlds = decodeOkHello(plaintext.subarray(PAYLOAD, PAYLOAD + 29));
    expect(noWorlds.ok && noWorlds.value.worlds).toBeUndefined();
    expect(decodeOkHello(Uint8Array.from([...plaintext.subarray(PAYLOAD, PAYLOAD + 29), 0, 5, 1]))).toEqual({ ok: false, error: 'too-short' });
  });

  const okHello: fc.Arbitrary<OkHello> = fc.record({
    inRePacketId: u64, timestamp: u64, protocolVersion: u8, majorVersion: u8, minorVersion: u8, revision: u16,
    externalAddress: inetAddress, worlds: fc.uint8Array({ maxLength: 300 }),
  });

  it('round-trips and never throws on mutated payloads', () => {
    fc.assert(fc.property(okHello, (ok) => {
      const d = decodeOkHello(encodeOkHello(ok));
      expect(d.ok && plain(d.value)).toEqual(plain(ok));
    }), RUNS);
    fc.assert(fc.property(mutated(okHello.map(encodeOkHello)), (b) => {
      expect(typeof decodeOkHello(b).ok).toBe('boolean');
    }), RUNS);
  });

  it('nil external address is the type-0 byte', () => {
    expect(toHex(encodeOkHello({ ...vector, externalAddress: NIL_ADDRESS, worlds: undefined }))).toBe(toHex(plaintext.subarray(PAYLOAD, PAYLOAD + 22)) + '00');
  });
});
