import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addressFromMac, arpGroupFor, formatMac, isMulticastMac, macFromAddress, macFromBytes, macToBytes, writeEthernetHeader, ndpGroupFor, parseMac,
} from '../../src/wire/mac.ts';
import { hex } from '../support/vectors.ts';
import { address, mac48, RUNS, u64 } from './arbitraries.ts';

describe('member MACs (03-packet.md §10.2)', () => {
  it('B on network 8e4df28b72000001 is 02:f2:a3:66:88:e4 (10-test-vectors.md §7)', () => {
    const mac = macFromAddress(0xf2a3140316, 0x8e4df28b72000001n);
    expect(formatMac(mac)).toBe('02:f2:a3:66:88:e4');
    expect(addressFromMac(mac, 0x8e4df28b72000001n)).toBe(0xf2a3140316);
  });

  it('never uses 0x52 as the first octet (it becomes 0x32) and is never multicast', () => {
    expect(Math.floor(macFromAddress(1, 0x50n) / 2 ** 40)).toBe(0x32);
    expect(Math.floor(macFromAddress(1, 0x51n) / 2 ** 40)).toBe(0x32);
    expect(Math.floor(macFromAddress(1, 0xffn) / 2 ** 40)).toBe(0xfe);
    fc.assert(fc.property(address, u64, (a, nwid) => {
      const mac = macFromAddress(a, nwid);
      expect(isMulticastMac(mac)).toBe(false);
      expect(addressFromMac(mac, nwid)).toBe(a);
    }), RUNS);
  });

  it('text and byte forms round-trip', () => {
    fc.assert(fc.property(mac48, (m) => {
      expect(parseMac(formatMac(m))).toBe(m);
      expect(macFromBytes(macToBytes(m))).toBe(m);
    }), RUNS);
    expect(parseMac('02:f2:a3:66:88')).toBeNull();
  });
});

describe('multicast groups (03-packet.md §10.3)', () => {
  it('ARP and NDP groups', () => {
    expect(arpGroupFor(hex('0a931105'))).toEqual({ mac: 0xffffffffffff, adi: 0x0a931105 });
    const ndp = ndpGroupFor(hex('fd8e4df28b7200000199 93f2a3140316'));
    expect(formatMac(ndp.mac)).toBe('33:33:ff:14:03:16');
    expect(ndp.adi).toBe(0);
    expect(isMulticastMac(ndp.mac)).toBe(true);
  });

  it('writeEthernetHeader: destination MAC, source MAC, EtherType big-endian', () => {
    const out = new Uint8Array(14);
    writeEthernetHeader(out, 0xffff_ffff_ffff, 0x32_1234_5678_9a, 0x0806);
    expect(Buffer.from(out).toString('hex')).toBe('ffffffffffff' + '3212345678' + '9a' + '0806');
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 48 - 1 }), fc.integer({ min: 0, max: 2 ** 48 - 1 }), (d, s) => {
      writeEthernetHeader(out, d, s, 0x88b5);
      expect(macFromBytes(out, 0)).toBe(d);
      expect(macFromBytes(out, 6)).toBe(s);
    }));
  });
});
