import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteReader } from '../../src/wire/byte-cursor.ts';
import {
  compareInetAddressLikeZeroTier, decodeInetAddress, encodeInetAddress, formatInetAddress, formatIpv6, inetAddressEquals,
  NIL_ADDRESS, parseInetAddress, parseInetAddressLikeZeroTier, parseIpv6, readInetAddress, type InetAddress,
} from '../../src/wire/inet-address.ts';
import { hex, readVectorJson, toHex } from '../support/vectors.ts';
import { inetAddress, ipAddress, plain, RUNS } from './arbitraries.ts';

function p(text: string): InetAddress {
  const a = parseInetAddress(text);
  if (!a) throw new Error(`did not parse ${text}`);
  return a;
}

describe('InetAddress binary form (03-packet.md §10.1)', () => {
  it('encodes none, IPv4 and IPv6 as 1, 7 and 19 bytes', () => {
    expect(toHex(encodeInetAddress(NIL_ADDRESS))).toBe('00');
    expect(toHex(encodeInetAddress(p('192.0.2.1/9993')))).toBe('04c00002012709');
    expect(toHex(encodeInetAddress(p('2001:db8::1/9993')))).toBe('0620010db80000000000000000000000012709');
  });

  it('decodes the addresses inside the §5.1/§5.2 vectors', () => {
    const d = decodeInetAddress(hex('04c633640787070000'), 0);
    expect(d.ok && formatInetAddress(d.value)).toBe('198.51.100.7/34567');
    expect(d.ok && d.length).toBe(7);
  });

  it('skips reserved types 1, 2 (7 bytes) and 3 (3 + N bytes), yielding no address', () => {
    for (const t of ['01', '02']) {
      const d = decodeInetAddress(hex(`${t}aabbccddeeff99`));
      expect(d).toEqual({ ok: true, value: NIL_ADDRESS, length: 7 });
    }
    expect(decodeInetAddress(hex('030003aabbcc77'))).toEqual({ ok: true, value: NIL_ADDRESS, length: 6 });
    expect(decodeInetAddress(hex('030000'))).toEqual({ ok: true, value: NIL_ADDRESS, length: 3 });
  });

  it('rejects other type bytes and truncation', () => {
    for (const t of [5, 7, 0x40, 0xff]) expect(decodeInetAddress(Uint8Array.of(t, 0, 0, 0, 0, 0, 0))).toEqual({ ok: false, error: 'bad-inet-address-type' });
    expect(decodeInetAddress(hex('04c00002'))).toEqual({ ok: false, error: 'too-short' });
    expect(decodeInetAddress(hex('0300ff00'))).toEqual({ ok: false, error: 'too-short' });
    expect(decodeInetAddress(hex('01aabb'))).toEqual({ ok: false, error: 'too-short' });
    expect(decodeInetAddress(new Uint8Array(0))).toEqual({ ok: false, error: 'too-short' });
  });

  it('round-trips every encodable address', () => {
    fc.assert(fc.property(inetAddress, (a) => {
      const enc = encodeInetAddress(a);
      const d = decodeInetAddress(enc);
      expect(d.ok).toBe(true);
      if (d.ok) {
        expect(plain(d.value)).toEqual(plain(a));
        expect(d.length).toBe(enc.length);
      }
    }), RUNS);
  });

  it('never throws on arbitrary bytes and reports a consistent length', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), fc.nat(8), (b, off) => {
      const d = decodeInetAddress(b, off);
      if (d.ok) expect(d.length).toBeLessThanOrEqual(b.length - off);
      const r = new ByteReader(b, off);
      readInetAddress(r);
      expect(r.offset).toBeLessThanOrEqual(b.length);
    }), RUNS);
  });
});

describe('InetAddress text form', () => {
  it('formats like inet_ntop plus /port', () => {
    const cases = ['192.0.2.1/9993', '2001:db8::1/9993', 'fd8e:4df2:8b72:0:199:93f2:a314:316/88', '::/0', '::1/1',
      '1::/2', '::ffff:1.2.3.4/5', '::1.2.3.4/6', '1:0:0:1::1/7', 'fcfc:4df2:8af2:a314:316::1/40', '0.0.0.0/0'];
    for (const c of cases) expect(formatInetAddress(p(c))).toBe(c);
    expect(formatInetAddress(NIL_ADDRESS)).toBe('');
    expect(formatIpv6(parseIpv6('2001:DB8:0:0:1:0:0:1')!)).toBe('2001:db8::1:0:0:1');
    expect(formatIpv6(parseIpv6('0:0:1:0:0:0:0:0')!)).toBe('0:0:1::');
  });

  it('parses strictly: bad IPs and ports are null', () => {
    for (const bad of ['', '1.2.3/1', '1.2.3.4.5/1', '01.2.3.4/1', '256.1.1.1/1', '1.2.3.4/65536', '1.2.3.4/x', ':::/1',
      '1::2::3/1', 'gggg::/1', '1:2:3:4:5:6:7:8:9/1', 'host/1']) {
      expect(parseInetAddress(bad)).toBeNull();
    }
    expect(plain(parseInetAddress('10.0.0.1'))).toEqual({ family: 4, ip: '0a000001', port: 0 });
  });

  it('text round trip for every IP address', () => {
    fc.assert(fc.property(ipAddress, (a) => {
      expect(plain(parseInetAddress(formatInetAddress(a)))).toEqual(plain(a));
    }), RUNS);
  });

  it('parseInetAddressLikeZeroTier follows InetAddress::fromString quirks', () => {
    expect(parseInetAddressLikeZeroTier('')).toEqual(NIL_ADDRESS);
    expect(parseInetAddressLikeZeroTier('host')).toBeNull();
    expect(plain(parseInetAddressLikeZeroTier('1.2.3/80'))).toEqual({ family: 4, ip: '00000000', port: 80 });
    expect(plain(parseInetAddressLikeZeroTier('10.0.0.1/70000'))).toEqual({ family: 4, ip: '0a000001', port: 70000 & 0xffff });
    expect(plain(parseInetAddressLikeZeroTier('10.0.0.1/-1'))).toEqual({ family: 4, ip: '0a000001', port: 0xffff });
    expect(plain(parseInetAddressLikeZeroTier('10.0.0.1/ 12abc'))).toEqual({ family: 4, ip: '0a000001', port: 12 });
    expect(plain(parseInetAddressLikeZeroTier('fe80::zz/9'))).toEqual({ family: 6, ip: '00'.repeat(16), port: 9 });
    expect(parseInetAddressLikeZeroTier('1.2.3.4/' + '9'.repeat(60))).toBeNull();
  });
});

describe('compareInetAddressLikeZeroTier (InetAddress::operator< on little-endian hosts)', () => {
  it('orders family first, then port and IPv4 address as little-endian words, IPv6 by memcmp', () => {
    // 9993 = 0x2709 -> LE 0x0927; 256 = 0x0100 -> LE 0x0001: port 256 sorts before 9993.
    const sorted = ['2001:db8::1/9993', '10.0.0.2/9993', '10.0.0.1/256', '1.0.0.2/9993', '2.0.0.1/9993', '::2/256', '::1/256']
      .map(p).sort(compareInetAddressLikeZeroTier).map(formatInetAddress);
    expect(sorted).toEqual(['10.0.0.1/256', '2.0.0.1/9993', '1.0.0.2/9993', '10.0.0.2/9993', '::1/256', '::2/256', '2001:db8::1/9993']);
    expect(compareInetAddressLikeZeroTier(NIL_ADDRESS, p('1.2.3.4/1'))).toBeLessThan(0);
  });

  it('reproduces the endpoint order genmoon wrote in moons.json (9993 before 443)', () => {
    const runs = readVectorJson<{ moon_json?: { roots: { stableEndpoints: string[] }[] }; file_hex?: string }[]>('moons.json');
    let checked = 0;
    for (const run of runs) {
      if (!run.moon_json || !run.file_hex) continue;
      for (const root of run.moon_json.roots) {
        const sorted = root.stableEndpoints.map(p).sort(compareInetAddressLikeZeroTier);
        const positions = sorted.map((a) => run.file_hex!.indexOf(toHex(encodeInetAddress(a))));
        expect(positions.every((x) => x >= 0)).toBe(true);
        expect([...positions].sort((x, y) => x - y)).toEqual(positions);
        checked += sorted.length;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(8);
  });

  it('is a consistent total order (antisymmetric, zero only for equal addresses)', () => {
    fc.assert(fc.property(inetAddress, inetAddress, (a, b) => {
      const ab = compareInetAddressLikeZeroTier(a, b);
      const ba = compareInetAddressLikeZeroTier(b, a);
      expect(Math.sign(ab) + Math.sign(ba)).toBe(0);
      expect(ab === 0).toBe(inetAddressEquals(a, b));
    }), RUNS);
  });
});
