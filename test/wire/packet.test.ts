import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Verb, verbName, errorCodeName, ErrorCode } from '../../src/wire/constants.ts';
import {
  classifyDatagram, createDatagramPeek, incrementHopsForRelay, isFragmentedHead, newPacket, packetCipher, packetDestination,
  packetHops, packetSource, packetVerb, peekDatagram, readPacketId, writePacketId, isPayloadCompressed,
} from '../../src/wire/packet.ts';
import { hexAfter, toHex, vectorDoc } from '../support/vectors.ts';

const at52 = vectorDoc().indexOf('### 5.2 OK(HELLO)');
const OK_HELLO_C3 = hexAfter('Armored with cipher 3', at52);
const OK_HELLO_C1 = hexAfter('Armored with cipher 1', at52);
const FRAGMENT = Uint8Array.from([...Buffer.from('55555555555555558e4df28b72ff3200', 'hex'), 1, 2, 3]);

describe('classifyDatagram (03-packet.md §1)', () => {
  it('follows 1.14 order: beacon, short junk, fragment, head, other', () => {
    expect(classifyDatagram(new Uint8Array(13))).toBe('beacon');
    expect(classifyDatagram(new Uint8Array(4))).toBe('ignored');
    expect(classifyDatagram(new Uint8Array(0))).toBe('ignored');
    const sixteen = new Uint8Array(16);
    sixteen[13] = 0xff;
    expect(classifyDatagram(sixteen)).toBe('ignored');
    expect(classifyDatagram(FRAGMENT.subarray(0, 17))).toBe('fragment');
    expect(classifyDatagram(new Uint8Array(27))).toBe('ignored');
    expect(classifyDatagram(new Uint8Array(28))).toBe('packet');
    expect(classifyDatagram(OK_HELLO_C1)).toBe('packet');
  });
});

describe('peekDatagram', () => {
  const peek = createDatagramPeek();

  it('reads head routing fields of the §5.2 cipher-3 packet', () => {
    expect(peekDatagram(OK_HELLO_C3, peek)).toBe('packet');
    expect(peek).toMatchObject({
      kind: 'packet', destination: 0xf2a3140316, source: 0x8e4df28b72, hops: 0, cipher: 3, fragmented: false,
      idHigh: 0x0e47fb23, idLow: 0x604984f2,
    });
  });

  it('reads fragment fields and resets head-only ones', () => {
    peekDatagram(OK_HELLO_C3, peek);
    expect(peekDatagram(FRAGMENT, peek)).toBe('fragment');
    expect(peek).toMatchObject({
      kind: 'fragment', destination: 0x8e4df28b72, source: 0, cipher: 0, idHigh: 0x55555555, idLow: 0x55555555,
      fragmentTotal: 3, fragmentNumber: 2, hops: 0,
    });
  });

  it('reads the address a beacon announces', () => {
    const beacon = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 0x8e, 0x4d, 0xf2, 0x8b, 0x72]);
    expect(peekDatagram(beacon, peek)).toBe('beacon');
    expect(peek.source).toBe(0x8e4df28b72);
  });

  it('never throws on random input (property)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (d) => {
      const kind = peekDatagram(d, peek);
      expect(kind).toBe(classifyDatagram(d));
      expect(peek.hops).toBeLessThanOrEqual(7);
    }), { numRuns: 1000 });
  });
});

describe('incrementHopsForRelay (03-packet.md §8)', () => {
  it('bumps byte 18 of heads up to the limit and leaves everything else alone', () => {
    const p = Uint8Array.from(OK_HELLO_C3);
    for (let h = 1; h <= 3; h++) {
      expect(incrementHopsForRelay(p, 3)).toBe(true);
      expect(p[18]).toBe(0x18 | h);
    }
    expect(incrementHopsForRelay(p, 3)).toBe(false);
    expect(p[18]).toBe(0x1b);
    expect(toHex(p.subarray(0, 18)) + toHex(p.subarray(19))).toBe(toHex(OK_HELLO_C3.subarray(0, 18)) + toHex(OK_HELLO_C3.subarray(19)));
  });

  it('bumps byte 15 of fragments and never passes 7', () => {
    const f = Uint8Array.from(FRAGMENT);
    expect(incrementHopsForRelay(f, 7)).toBe(true);
    expect(f[15]).toBe(1);
    f[15] = 7;
    expect(incrementHopsForRelay(f, 99)).toBe(false);
    expect(incrementHopsForRelay(new Uint8Array(13), 3)).toBe(false);
    expect(incrementHopsForRelay(new Uint8Array(20), 3)).toBe(false);
  });
});

describe('header helpers', () => {
  it('newPacket writes the plaintext header layout of §5.4 (WHOIS)', () => {
    const whois = hexAfter('WHOIS from B to A asking for', vectorDoc().indexOf('### 5.4'));
    const p = newPacket({ id: 0x7777777777777777n, destination: 0x8e4df28b72, source: 0xf2a3140316, verb: Verb.WHOIS, payload: whois.subarray(28) });
    expect(toHex(p)).toBe(toHex(whois));
    expect(readPacketId(p)).toBe(0x7777777777777777n);
    expect([packetDestination(p), packetSource(p), packetVerb(p), packetCipher(p), packetHops(p)]).toEqual([0x8e4df28b72, 0xf2a3140316, 4, 0, 0]);
    expect(isFragmentedHead(p)).toBe(false);
    expect(isPayloadCompressed(p)).toBe(false);
  });

  it('packet IDs round-trip through bytes (property)', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (id) => {
      const b = new Uint8Array(28);
      writePacketId(b, id);
      expect(readPacketId(b)).toBe(id);
      expect(toHex(b.subarray(0, 8))).toBe(id.toString(16).padStart(16, '0'));
    }));
  });
});

describe('verb and error names (04-verbs.md §1-2)', () => {
  it('looks codes up', () => {
    expect(verbName(0x0b)).toBe('NETWORK_CONFIG_REQUEST');
    expect(verbName(0x10)).toBe('PUSH_DIRECT_PATHS');
    expect(verbName(0x0f)).toBeUndefined();
    expect(verbName(0x11)).toBeUndefined();
    expect(errorCodeName(ErrorCode.NETWORK_ACCESS_DENIED)).toBe('NETWORK_ACCESS_DENIED');
    expect(errorCodeName(0x0a)).toBeUndefined();
  });
});
