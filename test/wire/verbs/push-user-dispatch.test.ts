import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PushDirectPathsFlag, Verb, VerbFlag } from '../../../src/wire/constants.ts';
import { formatInetAddress, parseInetAddress } from '../../../src/wire/inet-address.ts';
import {
  decodeVerbPayload, encodeHello, encodeOkHello, encodeWhois, encodeVerbMessage, verbCodeOf, type VerbMessage,
} from '../../../src/wire/verbs/index.ts';
import { decodePushDirectPaths, encodePushDirectPaths, type PathToPush } from '../../../src/wire/verbs/push-direct-paths.ts';
import { decodeUserMessage, encodeUserMessage } from '../../../src/wire/verbs/user-message.ts';
import { hex, hexAfter, toHex } from '../../support/vectors.ts';
import { A, bytes, ipAddress, mutated, plain, RUNS, u64, u8 } from '../arbitraries.ts';

describe('PUSH_DIRECT_PATHS (04-verbs.md §15)', () => {
  it('count, then flags, extension, type, length, IP and port per record', () => {
    const paths: PathToPush[] = [
      { flags: 0, address: parseInetAddress('198.18.0.2/9993')! },
      { flags: PushDirectPathsFlag.forget, address: parseInetAddress('2001:db8::2/443')! },
    ];
    const b = encodePushDirectPaths({ paths });
    expect(toHex(b)).toBe('0002' + '00' + '0000' + '04' + '06' + 'c61200022709' + '01' + '0000' + '06' + '12' + '20010db8000000000000000000000002' + '01bb');
    const d = decodePushDirectPaths(b);
    expect(d.ok && d.value.paths.map((p) => [p.flags, p.addressType, formatInetAddress(p.address!)])).toEqual([[0, 4, '198.18.0.2/9993'], [1, 6, '2001:db8::2/443']]);
  });

  it('unknown address types are skipped by their length; the length byte moves the cursor even for 4/6', () => {
    const d = decodePushDirectPaths(hex('0003' + '00' + '0002abcd' + '09' + '03' + 'aabbcc' + '00' + '0000' + '04' + '08' + 'c6120002270900ff' + '00' + '0000' + '04' + '06' + '0a0000012709'));
    if (!d.ok) throw new Error(d.error);
    expect(d.value.paths.map((p) => [p.addressType, p.address && formatInetAddress(p.address), toHex(p.extension)]))
      .toEqual([[9, undefined, 'abcd'], [4, '198.18.0.2/9993', ''], [4, '10.0.0.1/9993', '']]);
    expect(decodePushDirectPaths(hex('0002' + '00' + '0000' + '04' + '06' + 'c61200022709'))).toEqual({ ok: false, error: 'too-short' });
    expect(decodePushDirectPaths(hex('0001' + '00' + '0000' + '04' + '06' + 'c612'))).toEqual({ ok: false, error: 'too-short' });
  });

  it('round-trips and never throws', () => {
    const push = fc.record({ paths: fc.array(fc.record({ flags: u8, address: ipAddress, extension: bytes(8) }), { maxLength: 8 }) });
    fc.assert(fc.property(push, (m) => {
      const d = decodePushDirectPaths(encodePushDirectPaths(m));
      expect(d.ok && plain(d.value.paths.map(({ addressType: _, ...p }) => p))).toEqual(plain(m.paths));
    }), RUNS);
    fc.assert(fc.property(mutated(push.map(encodePushDirectPaths)), (b) => {
      expect(typeof decodePushDirectPaths(b).ok).toBe('boolean');
    }), RUNS);
  });
});

describe('USER_MESSAGE (04-verbs.md §16)', () => {
  it('u64 type ID then data; shorter than 8 bytes is too-short', () => {
    const m = { typeId: 0x10000n, data: hex('cafe') };
    expect(toHex(encodeUserMessage(m))).toBe('0000000000010000cafe');
    expect(plain(decodeUserMessage(encodeUserMessage(m)))).toEqual(plain({ ok: true, value: m }));
    expect(decodeUserMessage(hex('00000000000100'))).toEqual({ ok: false, error: 'too-short' });
    fc.assert(fc.property(u64, bytes(50), (typeId, data) => {
      expect(plain(decodeUserMessage(encodeUserMessage({ typeId, data })))).toEqual(plain({ ok: true, value: { typeId, data } }));
    }), RUNS);
  });
});

describe('decodeVerbPayload dispatcher', () => {
  it('routes each verb code to its codec and tags the result', () => {
    const hello = decodeVerbPayload(Verb.HELLO, hexAfter('Plaintext before cryptField (154 bytes)').subarray(28));
    expect(hello.ok && hello.value.verb).toBe('HELLO');
    const ok = decodeVerbPayload(Verb.OK, hexAfter('OK(WHOIS) from A to B').subarray(28));
    expect(ok.ok && ok.value.verb === 'OK' && ok.value.value.inRe).toBe('WHOIS');
    const compressedFlag = decodeVerbPayload(Verb.WHOIS | VerbFlag.compressed, encodeWhois({ addresses: [A.address] }));
    expect(compressedFlag.ok && compressedFlag.value).toEqual({ verb: 'WHOIS', value: { addresses: [A.address] } });
    expect(decodeVerbPayload(Verb.NOP, hex('ff'))).toEqual({ ok: true, value: { verb: 'NOP' } });
    for (const code of [Verb.ACK, Verb.QOS_MEASUREMENT, Verb.REMOTE_TRACE, Verb.PATH_NEGOTIATION_REQUEST, 0x0f, 0x11, 0x1f]) {
      const d = decodeVerbPayload(code, hex('0102'));
      expect(d.ok && plain(d.value)).toEqual({ verb: 'OTHER', code, payload: '0102' });
    }
    expect(decodeVerbPayload(Verb.FRAME, hex('01'))).toEqual({ ok: false, error: 'too-short' });
  });

  it('verbCodeOf and encodeVerbMessage invert the dispatcher', () => {
    const payloads: [number, Uint8Array][] = [
      [Verb.HELLO, hexAfter('Plaintext before cryptField (154 bytes)').subarray(28)],
      [Verb.OK, hexAfter('OK(WHOIS) from A to B').subarray(28)],
      [Verb.RENDEZVOUS, hexAfter('RENDEZVOUS from A to B').subarray(28)],
      [Verb.WHOIS, hexAfter('WHOIS from B to A asking for').subarray(28)],
      [Verb.OK, hexAfter('That dictionary sent as one chunk in OK(NETWORK_CONFIG_REQUEST)').subarray(28)],
      [Verb.REMOTE_TRACE, hex('613d310000')],
    ];
    for (const [verb, payload] of payloads) {
      const d = decodeVerbPayload(verb, payload);
      if (!d.ok) throw new Error(d.error);
      expect(verbCodeOf(d.value)).toBe(verb);
      expect(toHex(encodeVerbMessage(d.value))).toBe(toHex(payload));
    }
  });

  it('never throws, for any verb code and any bytes, and the result is always a tagged value or an error name', () => {
    const seeds = fc.constantFrom(
      encodeHello({ protocolVersion: 12, majorVersion: 1, minorVersion: 14, revision: 1, timestamp: 1n, identity: A, destination: parseInetAddress('1.2.3.4/5')!, planet: { id: 1n, timestamp: 2n }, moons: [] }),
      encodeOkHello({ inRePacketId: 1n, timestamp: 2n, protocolVersion: 11, majorVersion: 0, minorVersion: 0, revision: 0, externalAddress: parseInetAddress('1.2.3.4/5')!, worlds: new Uint8Array(0) }),
      hexAfter('That dictionary sent as one chunk in OK(NETWORK_CONFIG_REQUEST)').subarray(28),
      hexAfter('RENDEZVOUS from A to B').subarray(28),
    );
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xff }), mutated(seeds), (verb, payload) => {
      const d = decodeVerbPayload(verb, payload);
      if (d.ok) {
        const m: VerbMessage = d.value;
        expect(typeof m.verb).toBe('string');
        encodeVerbMessage(m); // re-encoding a decoded message never throws either
      } else {
        expect(d.error).toMatch(/^[a-z-]+$/);
      }
    }), { numRuns: 3000 });
  });
});
