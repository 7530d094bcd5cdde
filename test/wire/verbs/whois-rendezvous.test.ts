import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Verb } from '../../../src/wire/constants.ts';
import { formatInetAddress, parseInetAddress } from '../../../src/wire/inet-address.ts';
import { decodeRendezvous, encodeRendezvous } from '../../../src/wire/verbs/rendezvous.ts';
import { decodeOkWhois, decodeWhois, encodeOkWhois, encodeWhois } from '../../../src/wire/verbs/whois.ts';
import { hexAfter, toHex } from '../../support/vectors.ts';
import { A, B, address, ipAddress, mutated, plain, publicIdentity, RUNS, u64, u8 } from '../arbitraries.ts';

const PAYLOAD = 28;

describe('WHOIS (04-verbs.md §5, 10-test-vectors.md §5.4)', () => {
  const vector = hexAfter('WHOIS from B to A asking for');

  it('encodes and decodes the §5.4 plaintext layout', () => {
    expect(vector[27]).toBe(Verb.WHOIS);
    expect(toHex(encodeWhois({ addresses: [A.address] }))).toBe(toHex(vector.subarray(PAYLOAD)));
    expect(decodeWhois(vector.subarray(PAYLOAD))).toEqual({ ok: true, value: { addresses: [0x8e4df28b72] } });
  });

  it('several addresses; a trailing partial address is ignored', () => {
    const two = encodeWhois({ addresses: [1, 0xffffffffff] });
    expect(decodeWhois(Uint8Array.from([...two, 1, 2]))).toEqual({ ok: true, value: { addresses: [1, 0xffffffffff] } });
    expect(decodeWhois(new Uint8Array(0))).toEqual({ ok: true, value: { addresses: [] } });
  });

  it('round-trips', () => {
    fc.assert(fc.property(fc.array(address, { maxLength: 20 }), (addresses) => {
      expect(decodeWhois(encodeWhois({ addresses }))).toEqual({ ok: true, value: { addresses } });
    }), RUNS);
  });
});

describe('OK(WHOIS) (04-verbs.md §5, 10-test-vectors.md §5.4)', () => {
  const vector = hexAfter('OK(WHOIS) from A to B');

  it('encodes and decodes the §5.4 plaintext layout', () => {
    expect(vector[27]).toBe(Verb.OK);
    const ok = { inRePacketId: 0x7777777777777777n, identities: [A.publicOnly()] };
    expect(toHex(encodeOkWhois(ok))).toBe(toHex(vector.subarray(PAYLOAD)));
    const d = decodeOkWhois(vector.subarray(PAYLOAD));
    expect(d.ok && plain(d.value)).toEqual(plain(ok));
  });

  it('needs one identity; later garbage is ignored', () => {
    const p = vector.subarray(PAYLOAD);
    expect(decodeOkWhois(p.subarray(0, 9 + 70))).toEqual({ ok: false, error: 'too-short' });
    const d = decodeOkWhois(Uint8Array.from([...encodeOkWhois({ inRePacketId: 1n, identities: [A, B] }), 1, 2, 3]));
    expect(d.ok && d.value.identities.map((i) => i.address)).toEqual([A.address, B.address]);
  });

  it('round-trips and never throws on mutated payloads', () => {
    const okWhois = fc.record({ inRePacketId: u64, identities: fc.array(publicIdentity, { minLength: 1, maxLength: 4 }) });
    fc.assert(fc.property(okWhois, (ok) => {
      const d = decodeOkWhois(encodeOkWhois(ok));
      expect(d.ok && plain(d.value)).toEqual(plain(ok));
    }), RUNS);
    fc.assert(fc.property(mutated(okWhois.map(encodeOkWhois)), (b) => {
      expect(typeof decodeOkWhois(b).ok).toBe('boolean');
    }), RUNS);
  });
});

describe('RENDEZVOUS (04-verbs.md §6, 10-test-vectors.md §5.4)', () => {
  const vector = hexAfter('RENDEZVOUS from A to B');

  it('encodes and decodes the §5.4 plaintext layout', () => {
    expect(vector[27]).toBe(Verb.RENDEZVOUS);
    const m = { flags: 0, peer: 0x1122334455, address: parseInetAddress('203.0.113.9/40000')! };
    expect(toHex(encodeRendezvous(m))).toBe(toHex(vector.subarray(PAYLOAD)));
    const d = decodeRendezvous(vector.subarray(PAYLOAD));
    expect(d.ok && plain(d.value)).toEqual(plain(m));
    expect(d.ok && formatInetAddress(d.value.address!)).toBe('203.0.113.9/40000');
  });

  it('IPv6; an address length other than 4 or 16 gives no address', () => {
    const v6 = decodeRendezvous(encodeRendezvous({ peer: 5, address: parseInetAddress('2001:db8::7/9993')! }));
    expect(v6.ok && formatInetAddress(v6.value.address!)).toBe('2001:db8::7/9993');
    const p = Uint8Array.from(vector.subarray(PAYLOAD));
    p[8] = 6;
    const d = decodeRendezvous(p);
    expect(d.ok && d.value.address).toBeUndefined();
    expect(decodeRendezvous(vector.subarray(PAYLOAD, PAYLOAD + 10))).toEqual({ ok: false, error: 'too-short' });
  });

  it('round-trips and never throws on mutated payloads', () => {
    const rv = fc.record({ flags: u8, peer: address, address: ipAddress });
    fc.assert(fc.property(rv, (m) => {
      const d = decodeRendezvous(encodeRendezvous(m));
      expect(d.ok && plain(d.value)).toEqual(plain(m));
    }), RUNS);
    fc.assert(fc.property(mutated(rv.map(encodeRendezvous)), (b) => {
      expect(typeof decodeRendezvous(b).ok).toBe('boolean');
    }), RUNS);
  });
});
