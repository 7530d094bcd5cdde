import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ExtFrameFlag, MulticastFrameFlag } from '../../../src/wire/constants.ts';
import { createCom, signCom } from '../../../src/wire/credentials/com.ts';
import { arpGroupFor, BROADCAST_GROUP } from '../../../src/wire/mac.ts';
import { decodeExtFrame, decodeOkExtFrame, encodeExtFrame, encodeOkExtFrame, extFrameSubtype, type ExtFrame } from '../../../src/wire/verbs/ext-frame.ts';
import { decodeFrame, encodeFrame, FRAME_HEADER_LENGTH, writeFrameHeader } from '../../../src/wire/verbs/frame.ts';
import { copyPayload, newPacket } from '../../../src/wire/packet.ts';
import {
  decodeMulticastFrame, decodeOkMulticastFrame, encodeMulticastFrame, encodeOkMulticastFrame, type MulticastFrame, type OkMulticastFrame,
} from '../../../src/wire/verbs/multicast-frame.ts';
import {
  decodeMulticastGather, decodeOkMulticastGather, encodeMulticastGather, encodeOkMulticastGather, type MulticastGather,
  type OkMulticastGather,
} from '../../../src/wire/verbs/multicast-gather.ts';
import { decodeMulticastLike, encodeMulticastLike, type MulticastLike } from '../../../src/wire/verbs/multicast-like.ts';
import { hex, toHex } from '../../support/vectors.ts';
import { A, B, address, bytes, com, mac48, multicastGroup, mutated, plain, RUNS, u16, u32, u64, u8 } from '../arbitraries.ts';

const NWID = 0x8e4df28b72000001n;

describe('FRAME (04-verbs.md §7)', () => {
  it('nwid, ethertype, payload', () => {
    const f = { networkId: NWID, etherType: 0x0800, payload: hex('4500001c') };
    expect(toHex(encodeFrame(f))).toBe('8e4df28b72000001' + '0800' + '4500001c');
    expect(plain(decodeFrame(encodeFrame(f)))).toEqual(plain({ ok: true, value: f }));
    expect(decodeFrame(hex('8e4df28b7200000108'))).toEqual({ ok: false, error: 'too-short' });
  });

  it('sent as parts (writeFrameHeader, then the Ethernet payload) it is the same bytes as encodeFrame', () => {
    const frame = fc.record({ networkId: u64, etherType: u16, payload: bytes(200) });
    fc.assert(fc.property(frame, (f) => {
      const header = new Uint8Array(FRAME_HEADER_LENGTH);
      writeFrameHeader(header, f.networkId, f.etherType);
      expect(toHex(copyPayload([header, f.payload]))).toBe(toHex(encodeFrame(f)));
      const packet = { id: 1n, destination: A.address, source: B.address, verb: 6 };
      expect(toHex(newPacket({ ...packet, payload: [header, f.payload] }))).toBe(toHex(newPacket({ ...packet, payload: encodeFrame(f) })));
    }), RUNS);
  });

  it('round-trips and never throws', () => {
    const frame = fc.record({ networkId: u64, etherType: u16, payload: bytes(200) });
    fc.assert(fc.property(frame, (f) => {
      expect(plain(decodeFrame(encodeFrame(f)))).toEqual(plain({ ok: true, value: f }));
    }), RUNS);
    fc.assert(fc.property(mutated(frame.map(encodeFrame)), (b) => { expect(typeof decodeFrame(b).ok).toBe('boolean'); }), RUNS);
  });
});

describe('EXT_FRAME and OK(EXT_FRAME) (04-verbs.md §8)', () => {
  it('flags, optional COM, MACs, ethertype, payload; ACK is OK + nwid', () => {
    const f: ExtFrame = { networkId: NWID, flags: ExtFrameFlag.ackRequested | (2 << 1), destinationMac: 0x02f2a36688e4, sourceMac: 0x3a112233445, etherType: 0x86dd, payload: hex('60') };
    expect(toHex(encodeExtFrame(f))).toBe('8e4df28b72000001' + '14' + '02f2a36688e4' + '03a112233445' + '86dd' + '60');
    expect(extFrameSubtype(f.flags)).toBe(2);
    const withCom = { ...f, com: signCom(createCom(1n, 2n, NWID, B), A) };
    const d = decodeExtFrame(encodeExtFrame(withCom));
    expect(d.ok && d.value.flags & ExtFrameFlag.com).toBe(ExtFrameFlag.com);
    expect(d.ok && plain(d.value.com)).toEqual(plain(withCom.com));
    expect(toHex(encodeOkExtFrame({ inRePacketId: 1n, networkId: NWID }))).toBe('07' + '0000000000000001' + '8e4df28b72000001');
    expect(decodeOkExtFrame(encodeOkExtFrame({ inRePacketId: 1n, networkId: NWID }))).toEqual({ ok: true, value: { inRePacketId: 1n, networkId: NWID } });
  });

  it('round-trips and never throws', () => {
    const ext: fc.Arbitrary<ExtFrame> = fc.record({
      networkId: u64, flags: u8.map((f) => f & ~ExtFrameFlag.com), destinationMac: mac48, sourceMac: mac48, etherType: u16, payload: bytes(100),
      com: fc.option(com, { nil: undefined }),
    }).map((f) => (f.com ? { ...f, flags: f.flags | ExtFrameFlag.com } : (({ com: _, ...rest }) => rest)(f)));
    fc.assert(fc.property(ext, (f) => {
      const d = decodeExtFrame(encodeExtFrame(f));
      expect(d.ok && plain(d.value)).toEqual(plain(f));
    }), RUNS);
    fc.assert(fc.property(mutated(ext.map(encodeExtFrame)), (b) => { expect(typeof decodeExtFrame(b).ok).toBe('boolean'); }), RUNS);
  });
});

describe('MULTICAST_LIKE (04-verbs.md §10)', () => {
  it('18-byte tuples; a partial tuple is too-short', () => {
    const m: MulticastLike = { subscriptions: [{ networkId: NWID, group: BROADCAST_GROUP }, { networkId: NWID, group: arpGroupFor(hex('0a931105')) }] };
    const b = encodeMulticastLike(m);
    expect(toHex(b)).toBe('8e4df28b72000001ffffffffffff00000000' + '8e4df28b72000001ffffffffffff0a931105');
    expect(decodeMulticastLike(b)).toEqual({ ok: true, value: m });
    expect(decodeMulticastLike(b.subarray(0, 20))).toEqual({ ok: false, error: 'too-short' });
    expect(decodeMulticastLike(new Uint8Array(0))).toEqual({ ok: true, value: { subscriptions: [] } });
  });

  it('round-trips and never throws', () => {
    const like = fc.record({ subscriptions: fc.array(fc.record({ networkId: u64, group: multicastGroup }), { maxLength: 10 }) });
    fc.assert(fc.property(like, (m) => { expect(decodeMulticastLike(encodeMulticastLike(m))).toEqual({ ok: true, value: m }); }), RUNS);
    fc.assert(fc.property(mutated(like.map(encodeMulticastLike)), (b) => { expect(typeof decodeMulticastLike(b).ok).toBe('boolean'); }), RUNS);
  });
});

describe('MULTICAST_GATHER and OK(MULTICAST_GATHER) (04-verbs.md §13)', () => {
  it('request layout; an unparsable COM is dropped, not an error', () => {
    const g: MulticastGather = { networkId: NWID, flags: 0, group: BROADCAST_GROUP, gatherLimit: 33 };
    expect(toHex(encodeMulticastGather(g))).toBe('8e4df28b72000001' + '00' + 'ffffffffffff' + '00000000' + '00000021');
    expect(decodeMulticastGather(encodeMulticastGather(g))).toEqual({ ok: true, value: g });
    const badCom = Uint8Array.from([...encodeMulticastGather(g), 7, 7]);
    badCom[8] = 1;
    expect(decodeMulticastGather(badCom)).toEqual({ ok: true, value: { ...g, flags: 1 } });
  });

  it('OK: nwid, group, total, count, addresses', () => {
    const ok: OkMulticastGather = { inRePacketId: 9n, networkId: NWID, group: BROADCAST_GROUP, totalKnown: 3, members: [A.address, B.address] };
    const b = encodeOkMulticastGather(ok);
    expect(toHex(b)).toBe('0d' + '0000000000000009' + '8e4df28b72000001' + 'ffffffffffff' + '00000000' + '00000003' + '0002' + '8e4df28b72' + 'f2a3140316');
    expect(decodeOkMulticastGather(b)).toEqual({ ok: true, value: ok });
    expect(decodeOkMulticastGather(b.subarray(0, b.length - 1))).toEqual({ ok: false, error: 'too-short' });
  });

  it('round-trips and never throws', () => {
    const gather: fc.Arbitrary<MulticastGather> = fc.record({ networkId: u64, flags: u8.map((f) => f & ~1), group: multicastGroup, gatherLimit: u32, com: fc.option(com, { nil: undefined }) })
      .map((g) => (g.com ? { ...g, flags: g.flags | 1 } : (({ com: _, ...rest }) => rest)(g)));
    fc.assert(fc.property(gather, (g) => { expect(plain(decodeMulticastGather(encodeMulticastGather(g)))).toEqual(plain({ ok: true, value: g })); }), RUNS);
    fc.assert(fc.property(mutated(gather.map(encodeMulticastGather)), (b) => { expect(typeof decodeMulticastGather(b).ok).toBe('boolean'); }), RUNS);
    const okGather = fc.record({ inRePacketId: u64, networkId: u64, group: multicastGroup, totalKnown: u32, members: fc.array(address, { maxLength: 30 }) });
    fc.assert(fc.property(okGather, (g) => { expect(decodeOkMulticastGather(encodeOkMulticastGather(g))).toEqual({ ok: true, value: g }); }), RUNS);
    fc.assert(fc.property(mutated(okGather.map(encodeOkMulticastGather)), (b) => { expect(typeof decodeOkMulticastGather(b).ok).toBe('boolean'); }), RUNS);
  });
});

describe('MULTICAST_FRAME and OK(MULTICAST_FRAME) (04-verbs.md §14)', () => {
  it('the observed ARP broadcast with flags 0x02: 81-byte packet, fields at 37/41/47/51/53', () => {
    const arp = hex('0001080006040001' + '02f2a36688e4' + '0a931105' + '000000000000' + '0a93111f');
    const m: MulticastFrame = { networkId: NWID, flags: MulticastFrameFlag.gatherLimit, gatherLimit: 33, group: arpGroupFor(hex('0a93111f')), etherType: 0x0806, payload: arp };
    const b = encodeMulticastFrame(m);
    expect(28 + b.length).toBe(81);
    expect(toHex(b.subarray(37 - 28, 41 - 28))).toBe('00000021');
    expect(toHex(b.subarray(41 - 28, 47 - 28))).toBe('ffffffffffff');
    expect(toHex(b.subarray(47 - 28, 51 - 28))).toBe('0a93111f');
    expect(toHex(b.subarray(51 - 28, 53 - 28))).toBe('0806');
    expect(plain(decodeMulticastFrame(b))).toEqual(plain({ ok: true, value: m }));
  });

  it('the observed OK: …ffffffffffff 0a93111f 02 00000001 0001 <addr>', () => {
    const ok: OkMulticastFrame = { inRePacketId: 5n, networkId: NWID, group: arpGroupFor(hex('0a93111f')), flags: 0x02, gather: { totalKnown: 1, members: [B.address] } };
    const b = encodeOkMulticastFrame(ok);
    expect(toHex(b.subarray(17))).toBe('ffffffffffff' + '0a93111f' + '02' + '00000001' + '0001' + 'f2a3140316');
    expect(decodeOkMulticastFrame(b)).toEqual({ ok: true, value: ok });
  });

  it('optional fields: COM, gather limit, source MAC, each starting where the previous ended', () => {
    const full: MulticastFrame = {
      networkId: NWID, flags: MulticastFrameFlag.replicate, com: signCom(createCom(1n, 2n, NWID, B), A), gatherLimit: 7, sourceMac: 0x02f2a36688e4,
      group: BROADCAST_GROUP, etherType: 0x0800, payload: hex('45'),
    };
    const b = encodeMulticastFrame(full);
    expect(b[8]).toBe(0x0f);
    expect(toHex(b.subarray(9 + 272, 9 + 272 + 10))).toBe('00000007' + '02f2a36688e4');
    const d = decodeMulticastFrame(b);
    expect(d.ok && plain(d.value)).toEqual(plain({ ...full, flags: 0x0f }));
  });

  it('round-trips and never throws', () => {
    const mf: fc.Arbitrary<MulticastFrame> = fc.record({
      networkId: u64, flags: u8, group: multicastGroup, etherType: u16, payload: bytes(100),
      com: fc.option(com, { nil: undefined }), gatherLimit: fc.option(u32, { nil: undefined }), sourceMac: fc.option(mac48, { nil: undefined }),
    }).map((m) => {
      const flags = (m.flags & ~7) | (m.com ? 1 : 0) | (m.gatherLimit !== undefined ? 2 : 0) | (m.sourceMac !== undefined ? 4 : 0);
      return { ...m, flags };
    });
    fc.assert(fc.property(mf, (m) => {
      const d = decodeMulticastFrame(encodeMulticastFrame(m));
      expect(d.ok && plain(d.value)).toEqual(plain(m));
    }), RUNS);
    fc.assert(fc.property(mutated(mf.map(encodeMulticastFrame)), (b) => { expect(typeof decodeMulticastFrame(b).ok).toBe('boolean'); }), RUNS);
    const okmf: fc.Arbitrary<OkMulticastFrame> = fc.record({
      inRePacketId: u64, networkId: u64, group: multicastGroup, flags: u8,
      com: fc.option(com, { nil: undefined }), gather: fc.option(fc.record({ totalKnown: u32, members: fc.array(address, { maxLength: 5 }) }), { nil: undefined }),
    }).map((m) => ({ ...m, flags: (m.flags & ~3) | (m.com ? 1 : 0) | (m.gather ? 2 : 0) }));
    fc.assert(fc.property(okmf, (m) => {
      const d = decodeOkMulticastFrame(encodeOkMulticastFrame(m));
      expect(d.ok && plain(d.value)).toEqual(plain(m));
    }), RUNS);
    fc.assert(fc.property(mutated(okmf.map(encodeOkMulticastFrame)), (b) => { expect(typeof decodeOkMulticastFrame(b).ok).toBe('boolean'); }), RUNS);
  });
});
