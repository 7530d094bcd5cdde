import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode, Verb } from '../../../src/wire/constants.ts';
import { encodeAuthInfo } from '../../../src/wire/netconf/metadata.ts';
import { decodeEcho, decodeOkEcho, encodeEcho, encodeOkEcho } from '../../../src/wire/verbs/echo.ts';
import { decodeError, encodeError, type ErrorMessage } from '../../../src/wire/verbs/error.ts';
import { decodeOk, decodeOkHeader, encodeOk } from '../../../src/wire/verbs/ok.ts';
import { hex, hexAfter, toHex, vectorDoc } from '../../support/vectors.ts';
import { mutated, multicastGroup, plain, RUNS, u64, u8 } from '../arbitraries.ts';

const PAYLOAD = 28;

describe('OK(ECHO) (04-verbs.md §9, 10-test-vectors.md §5.3)', () => {
  const plaintext = hexAfter('Plaintext (41 bytes)', vectorDoc().indexOf('### 5.3'));

  it('encodes and decodes the §5.3 plaintext payload', () => {
    expect(plaintext[27]).toBe(Verb.OK);
    const ok = { inRePacketId: 0x1111111111111111n, payload: Buffer.from('ping') };
    expect(toHex(encodeOkEcho(ok))).toBe(toHex(plaintext.subarray(PAYLOAD)));
    const d = decodeOkEcho(plaintext.subarray(PAYLOAD));
    expect(d.ok && plain(d.value)).toEqual(plain(ok));
    const viaOk = decodeOk(plaintext.subarray(PAYLOAD));
    expect(viaOk.ok && viaOk.value.inRe).toBe('ECHO');
  });

  it('ECHO carries any payload, including none', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 100 }), u64, (p, id) => {
      const e = decodeEcho(encodeEcho({ payload: p }));
      expect(e.ok && toHex(e.value.payload)).toBe(toHex(p));
      const ok = decodeOkEcho(encodeOkEcho({ inRePacketId: id, payload: p }));
      expect(ok.ok && plain(ok.value)).toEqual(plain({ inRePacketId: id, payload: p }));
    }), RUNS);
  });
});

describe('generic OK header (04-verbs.md §3)', () => {
  it('in-re verb and packet ID, body kept raw for verbs without a reply codec', () => {
    const payload = encodeOk(Verb.USER_MESSAGE, 0xfedcba9876543210n, hex('abcd'));
    expect(toHex(payload)).toBe('14fedcba9876543210abcd');
    const d = decodeOk(payload);
    expect(d.ok && plain(d.value)).toEqual({ inRe: 'OTHER', value: { inReVerb: 0x14, inRePacketId: 0xfedcba9876543210n, body: 'abcd' } });
    expect(decodeOkHeader(hex('0301020304050607'))).toEqual({ ok: false, error: 'too-short' });
  });

  it('never throws on mutated OK payloads, for every in-re verb', () => {
    const anyOk = fc.tuple(u8, u64, fc.uint8Array({ maxLength: 200 })).map(([v, id, body]) => encodeOk(v, id, body));
    fc.assert(fc.property(mutated(anyOk), (b) => {
      expect(typeof decodeOk(b).ok).toBe('boolean');
    }), { numRuns: 1000 });
  });
});

describe('ERROR (04-verbs.md §2-§3, §12)', () => {
  it('IDENTITY_COLLISION in reply to HELLO has no payload', () => {
    const e: ErrorMessage = { inReVerb: Verb.HELLO, inRePacketId: 0x0123456789abcdefn, errorCode: ErrorCode.IDENTITY_COLLISION };
    expect(toHex(encodeError(e))).toBe('010123456789abcdef04');
    expect(decodeError(encodeError(e))).toEqual({ ok: true, value: e });
  });

  it('controller errors: code + nwid, auth-required with its dictionary', () => {
    const denied = encodeError({ inReVerb: Verb.NETWORK_CONFIG_REQUEST, inRePacketId: 1n, errorCode: ErrorCode.NETWORK_ACCESS_DENIED, networkId: 0x8e4df28b72000001n });
    expect(toHex(denied)).toBe('0b0000000000000001078e4df28b72000001');
    const info = encodeAuthInfo({ version: 0, authenticationUrl: 'https://sso/' });
    const auth: ErrorMessage = { inReVerb: Verb.NETWORK_CONFIG_REQUEST, inRePacketId: 2n, errorCode: ErrorCode.NETWORK_AUTHENTICATION_REQUIRED, networkId: 5n, authInfo: info };
    const bytes = encodeError(auth);
    expect(toHex(bytes.subarray(18, 20))).toBe(info.length.toString(16).padStart(4, '0'));
    const d = decodeError(bytes);
    expect(d.ok && plain(d.value)).toEqual(plain(auth));
    // exactly a zero length and nothing else: 1.14 does not read a dictionary (s > 2 fails)
    const bare = decodeError(Uint8Array.from([...bytes.subarray(0, 18), 0, 0]));
    expect(bare.ok && bare.value.authInfo).toBeUndefined();
    // a length longer than what follows: no dictionary either
    const long = decodeError(Uint8Array.from([...bytes.subarray(0, 18), 0, 9, 1, 2]));
    expect(long.ok && long.value.authInfo).toBeUndefined();
  });

  it('UNWANTED_MULTICAST carries nwid, MAC and ADI', () => {
    const e: ErrorMessage = { inReVerb: Verb.MULTICAST_FRAME, inRePacketId: 3n, errorCode: ErrorCode.UNWANTED_MULTICAST, networkId: 9n, group: { mac: 0xffffffffffff, adi: 0x0a931105 } };
    expect(toHex(encodeError(e))).toBe('0e000000000000000308' + '0000000000000009' + 'ffffffffffff' + '0a931105');
    expect(decodeError(encodeError(e))).toEqual({ ok: true, value: e });
  });

  it('the network ID is optional; the header is not', () => {
    expect(decodeError(hex('0b000000000000000105'))).toEqual({ ok: true, value: { inReVerb: 11, inRePacketId: 1n, errorCode: 5 } });
    expect(decodeError(hex('0b0000000000000001'))).toEqual({ ok: false, error: 'too-short' });
  });

  it('round-trips and never throws on mutated payloads', () => {
    const error: fc.Arbitrary<ErrorMessage> = fc.oneof(
      fc.record({ inReVerb: u8, inRePacketId: u64, errorCode: fc.constantFrom(3, 5, 6, 7) }, { requiredKeys: ['inReVerb', 'inRePacketId', 'errorCode'] })
        .chain((e) => fc.option(u64, { nil: undefined }).map((networkId) => (networkId === undefined ? e : { ...e, networkId }))),
      fc.record({ inReVerb: u8, inRePacketId: u64, errorCode: fc.constant(8), networkId: u64, group: multicastGroup }),
      fc.record({ inReVerb: u8, inRePacketId: u64, errorCode: fc.constant(9), networkId: u64, authInfo: fc.uint8Array({ minLength: 1, maxLength: 60 }) }),
    );
    fc.assert(fc.property(error, (e) => {
      const d = decodeError(encodeError(e));
      expect(d.ok && plain(d.value)).toEqual(plain(e));
    }), RUNS);
    fc.assert(fc.property(mutated(error.map(encodeError)), (b) => {
      expect(typeof decodeError(b).ok).toBe('boolean');
    }), RUNS);
  });
});
