import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CONFIG_CHUNK_MAX_DATA_LENGTH, CredentialType, RevocationFlag, Verb } from '../../../src/wire/constants.ts';
import { createCom, signCom } from '../../../src/wire/credentials/com.ts';
import { signRevocation } from '../../../src/wire/credentials/revocation.ts';
import {
  decodeConfigChunk, decodeNetworkConfigAck, decodeOkNetworkConfigRequest, encodeConfigChunk, encodeNetworkConfigAck,
  encodeOkNetworkConfigRequest, signConfigChunks, verifyConfigChunk, type ConfigChunk,
} from '../../../src/wire/verbs/network-config.ts';
import {
  controllerForNetwork, decodeNetworkConfigRequest, encodeNetworkConfigRequest, type NetworkConfigRequest,
} from '../../../src/wire/verbs/network-config-request.ts';
import { decodeNetworkCredentials, encodeNetworkCredentials, type NetworkCredentials } from '../../../src/wire/verbs/network-credentials.ts';
import { hex, hexAfter, toHex } from '../../support/vectors.ts';
import { A, B, capability, com, coo, mutated, plain, revocation, RUNS, tag, u64, u8, u32, bytes, signature } from '../arbitraries.ts';

const PAYLOAD = 28;
const NWID = 0x8e4df28b72000001n;

describe('OK(NETWORK_CONFIG_REQUEST) with a signed chunk (04-verbs.md §12, 07-network-config-controller.md §6, 10-test-vectors.md §7)', () => {
  const packet = hexAfter('That dictionary sent as one chunk in OK(NETWORK_CONFIG_REQUEST)');
  const dictionary = hexAfter('Same dictionary, exact bytes (1130 bytes)');

  it('signing the 1130-byte dictionary as A reproduces the 1293-byte packet payload', () => {
    expect(packet.length).toBe(1293);
    expect(packet[27]).toBe(Verb.OK);
    const chunks = signConfigChunks(NWID, dictionary, A, { updateId: 0x4444444444444444n });
    expect(chunks.length).toBe(1);
    expect(toHex(encodeOkNetworkConfigRequest(0x2222222222222222n, chunks[0]))).toBe(toHex(packet.subarray(PAYLOAD)));
  });

  it('decodes it: fields, signed bytes = packet bytes 37 .. end of chunkIndex, signature valid for A only', () => {
    const d = decodeOkNetworkConfigRequest(packet.subarray(PAYLOAD));
    if (!d.ok) throw new Error(d.error);
    const { inRePacketId, chunk } = d.value;
    expect(inRePacketId).toBe(0x2222222222222222n);
    expect(chunk.networkId).toBe(NWID);
    expect(toHex(chunk.data)).toBe(toHex(dictionary));
    expect(chunk.signed).toMatchObject({ flags: 0, updateId: 0x4444444444444444n, totalLength: 1130, chunkIndex: 0 });
    expect(toHex(chunk.signedBytes!)).toBe(toHex(packet.subarray(37, packet.length - 99)));
    expect(toHex(chunk.signed!.signature)).toBe(toHex(packet.subarray(packet.length - 96)));
    expect(verifyConfigChunk(chunk, A.publicOnly())).toBe(true);
    expect(verifyConfigChunk(chunk, B)).toBe(false);
    expect(verifyConfigChunk({ ...chunk, signedBytes: undefined }, A)).toBe(true);
    expect(verifyConfigChunk({ ...chunk, signedBytes: undefined, signed: { ...chunk.signed!, updateId: 1n } }, A)).toBe(false);
  });

  it('splits large dictionaries into 9740-byte chunks, each signed, that reassemble', () => {
    const big = Uint8Array.from({ length: 2 * CONFIG_CHUNK_MAX_DATA_LENGTH + 5 }, (_, i) => 0x61 + (i % 26));
    const chunks = signConfigChunks(NWID, big, A, { updateId: 7n, flags: 1 });
    expect(chunks.length).toBe(3);
    const assembled = new Uint8Array(big.length);
    for (const c of chunks) {
      const d = decodeConfigChunk(c);
      if (!d.ok) throw new Error(d.error);
      expect(verifyConfigChunk(d.value, A)).toBe(true);
      expect(d.value.signed).toMatchObject({ flags: 1, updateId: 7n, totalLength: big.length });
      assembled.set(d.value.data, d.value.signed!.chunkIndex);
    }
    expect(toHex(assembled)).toBe(toHex(big));
  });

  it('applies handleConfigChunk structural checks', () => {
    const [chunk] = signConfigChunks(NWID, hex('763d37'), A, { updateId: 1n });
    const at = 8 + 2 + 3 + 1 + 8; // total length field
    const overlong = Uint8Array.from(chunk);
    overlong[at + 3] = 2; // total 2 < 0 + 3
    expect(decodeConfigChunk(overlong)).toEqual({ ok: false, error: 'bad-chunk-range' });
    expect(decodeConfigChunk(chunk, 3)).toEqual({ ok: false, error: 'bad-chunk-range' });
    const badType = Uint8Array.from(chunk);
    badType[at + 8] = 2;
    expect(decodeConfigChunk(badType)).toEqual({ ok: false, error: 'bad-signature-type' });
    const badLength = Uint8Array.from(chunk);
    badLength[at + 10] = 95;
    expect(decodeConfigChunk(badLength)).toEqual({ ok: false, error: 'bad-signature-length' });
    expect(decodeConfigChunk(chunk.subarray(0, chunk.length - 1))).toEqual({ ok: false, error: 'too-short' });
  });

  it('a legacy chunk ends after the data and carries no signature', () => {
    const legacy = encodeConfigChunk({ networkId: NWID, data: hex('763d37'), signed: undefined });
    expect(toHex(legacy)).toBe('8e4df28b720000010003763d37');
    const d = decodeConfigChunk(legacy);
    expect(d.ok && d.value.signed).toBeUndefined();
    expect(d.ok && verifyConfigChunk(d.value, A)).toBe(false);
  });

  it("the member's ack is OK(in-re ECHO) + nwid + update ID", () => {
    const ack = { inRePacketId: 0x5555n, networkId: NWID, updateId: 0x4444444444444444n };
    const bytes = encodeNetworkConfigAck(ack);
    expect(toHex(bytes)).toBe('08' + '0000000000005555' + '8e4df28b72000001' + '4444444444444444');
    expect(decodeNetworkConfigAck(bytes)).toEqual({ ok: true, value: ack });
  });

  const chunk: fc.Arbitrary<ConfigChunk> = fc.record({
    networkId: u64,
    data: bytes(300),
    signed: fc.option(fc.record({ flags: u8, updateId: u64, totalLength: u32, chunkIndex: fc.constant(0), signature }), { nil: undefined }),
  }).map((c) => (c.signed ? { ...c, signed: { ...c.signed, totalLength: c.data.length + (c.signed.totalLength % 1000) } } : c));

  it('round-trips and never throws on mutated chunks', () => {
    fc.assert(fc.property(chunk, (c) => {
      const d = decodeConfigChunk(encodeConfigChunk(c));
      expect(d.ok).toBe(true);
      if (d.ok) {
        const { signedBytes: _, ...rest } = d.value;
        expect(plain(rest)).toEqual(plain(c));
      }
    }), RUNS);
    fc.assert(fc.property(mutated(chunk.map(encodeConfigChunk)), (b) => {
      expect(typeof decodeConfigChunk(b).ok).toBe('boolean');
      expect(typeof decodeOkNetworkConfigRequest(b).ok).toBe('boolean');
    }), RUNS);
  });
});

describe('NETWORK_CONFIG_REQUEST (04-verbs.md §12)', () => {
  it('layout: nwid, u16 length, metadata, revision, timestamp; controller = nwid >> 24', () => {
    const m: NetworkConfigRequest = { networkId: NWID, metadata: hex('763d37'), haveRevision: 3n, haveTimestamp: 9n };
    const bytes = encodeNetworkConfigRequest(m);
    expect(toHex(bytes)).toBe('8e4df28b72000001' + '0003' + '763d37' + '0000000000000003' + '0000000000000009');
    expect(plain(decodeNetworkConfigRequest(bytes))).toEqual(plain({ ok: true, value: m }));
    expect(controllerForNetwork(NWID)).toBe(A.address);
  });

  it('old senders: metadata and the revision pair are optional', () => {
    expect(plain(decodeNetworkConfigRequest(hex('8e4df28b72000001')))).toEqual({ ok: true, value: { networkId: NWID, metadata: '' } });
    expect(plain(decodeNetworkConfigRequest(hex('8e4df28b720000010001aa')))).toEqual({ ok: true, value: { networkId: NWID, metadata: 'aa' } });
    expect(decodeNetworkConfigRequest(hex('8e4df28b720000010005aa'))).toEqual({ ok: false, error: 'too-short' });
  });

  it('round-trips and never throws', () => {
    const req = fc.record({ networkId: u64, metadata: bytes(100), haveRevision: u64, haveTimestamp: u64 });
    fc.assert(fc.property(req, (m) => {
      expect(plain(decodeNetworkConfigRequest(encodeNetworkConfigRequest(m)))).toEqual(plain({ ok: true, value: m }));
    }), RUNS);
    fc.assert(fc.property(mutated(req.map(encodeNetworkConfigRequest)), (b) => {
      expect(typeof decodeNetworkConfigRequest(b).ok).toBe('boolean');
    }), RUNS);
  });
});

describe('NETWORK_CREDENTIALS (04-verbs.md §11)', () => {
  it('a member push: COM, 0, caps, tags, no revocations, COOs', () => {
    const c = signCom(createCom(1n, 2n, NWID, B), A);
    const bytes = encodeNetworkCredentials({ coms: [c] });
    expect(bytes.length).toBe(272 + 1 + 8);
    expect(toHex(bytes.subarray(272))).toBe('00' + '0000'.repeat(4));
    const d = decodeNetworkCredentials(bytes);
    expect(d.ok && plain(d.value.coms)).toEqual(plain([c]));
  });

  it("the controller's revocation push: 00, 0 caps, 0 tags, 1 revocation, 0 COOs", () => {
    const rev = signRevocation({ id: 1, networkId: NWID, credentialId: 0, threshold: 5n, flags: RevocationFlag.fastPropagate, target: B.address, credentialType: CredentialType.com }, A);
    const bytes = encodeNetworkCredentials({ revocations: [rev] });
    expect(toHex(bytes.subarray(0, 7))).toBe('00' + '0000' + '0000' + '0001');
    expect(toHex(bytes.subarray(-2))).toBe('0000');
    const d = decodeNetworkCredentials(bytes);
    expect(d.ok && plain(d.value.revocations)).toEqual(plain([rev]));
  });

  it('older senders stop after the COMs or any later section', () => {
    const c = encodeNetworkCredentials({ coms: [signCom(createCom(1n, 2n, NWID, B), A)] });
    expect(decodeNetworkCredentials(c.subarray(0, 272)).ok).toBe(true);
    expect(decodeNetworkCredentials(c.subarray(0, 273)).ok).toBe(true);
    expect(decodeNetworkCredentials(c.subarray(0, 275)).ok).toBe(true);
    expect(decodeNetworkCredentials(c.subarray(0, 274))).toEqual({ ok: false, error: 'too-short' });
    expect(decodeNetworkCredentials(hex('00'))).toEqual({ ok: true, value: { coms: [], capabilities: [], tags: [], revocations: [], certificatesOfOwnership: [] } });
    expect(decodeNetworkCredentials(hex('02'))).toEqual({ ok: false, error: 'bad-com-format' });
    expect(decodeNetworkCredentials(hex('000001'))).toEqual({ ok: false, error: 'too-short' });
  });

  it('round-trips and never throws on mutated payloads', () => {
    const creds: fc.Arbitrary<NetworkCredentials> = fc.record({
      coms: fc.array(com, { maxLength: 2 }), capabilities: fc.array(capability, { maxLength: 2 }), tags: fc.array(tag, { maxLength: 3 }),
      revocations: fc.array(revocation, { maxLength: 2 }), certificatesOfOwnership: fc.array(coo, { maxLength: 2 }),
    });
    fc.assert(fc.property(creds, (m) => {
      const d = decodeNetworkCredentials(encodeNetworkCredentials(m));
      expect(d.ok && plain(d.value)).toEqual(plain(m));
    }), { numRuns: 150 });
    fc.assert(fc.property(mutated(creds.map(encodeNetworkCredentials)), (b) => {
      expect(typeof decodeNetworkCredentials(b).ok).toBe('boolean');
    }), { numRuns: 300 });
  });
});
