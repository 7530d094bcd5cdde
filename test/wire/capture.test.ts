import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseIdentity } from '../../src/identity/identity.ts';
import { armor } from '../../src/wire/armor.ts';
import { formatIpv6, parseCaptureJson, readPcap } from '../../src/wire/capture.ts';
import { Keyring } from '../../src/wire/keyring.ts';
import { newPacket } from '../../src/wire/packet.ts';
import { PeerKey } from '../../src/wire/peer-key.ts';
import { fencedAfter, hexAfter, toHex } from '../support/vectors.ts';

const PAYLOAD = Uint8Array.from([0xde, 0xad, 0xbe, 0xef, 0x01]);

function udp(srcPort: number, dstPort: number, payload: Uint8Array): number[] {
  const n = 8 + payload.length;
  return [srcPort >> 8, srcPort & 0xff, dstPort >> 8, dstPort & 0xff, n >> 8, n & 0xff, 0, 0, ...payload];
}
function ipv4(payload: number[], fragment = 0): number[] {
  const n = 20 + payload.length;
  return [0x45, 0, n >> 8, n & 0xff, 0, 0, fragment >> 8, fragment & 0xff, 64, 17, 0, 0, 198, 18, 0, 1, 198, 18, 0, 2, ...payload];
}
function ipv6(payload: number[], withHopByHop = false): number[] {
  const body = withHopByHop ? [17, 0, 0, 0, 0, 0, 0, 0, ...payload] : payload;
  const n = body.length;
  const addr = (last: number) => [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), last];
  return [0x60, 0, 0, 0, n >> 8, n & 0xff, withHopByHop ? 0 : 17, 64, ...addr(1), ...addr(2), ...body];
}
function ethernet(etherType: number, payload: number[], vlan = false): number[] {
  const macs = new Array(12).fill(0x02);
  return vlan ? [...macs, 0x81, 0x00, 0, 5, etherType >> 8, etherType & 0xff, ...payload] : [...macs, etherType >> 8, etherType & 0xff, ...payload];
}
function pcap(linkType: number, frames: number[][], { bigEndian = false, nanos = false } = {}): Uint8Array {
  const out: number[] = [];
  const u32 = (v: number) => (bigEndian ? [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff] : [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24]);
  const u16 = (v: number) => (bigEndian ? [v >> 8, v & 0xff] : [v & 0xff, v >> 8]);
  out.push(...u32(nanos ? 0xa1b23c4d : 0xa1b2c3d4), ...u16(2), ...u16(4), ...u32(0), ...u32(0), ...u32(65535), ...u32(linkType));
  frames.forEach((f, i) => out.push(...u32(100 + i), ...u32(nanos ? 500_000_000 : 500_000), ...u32(f.length), ...u32(f.length), ...f));
  return Uint8Array.from(out);
}

describe('readPcap', () => {
  it('reads Ethernet (with and without VLAN tag), IPv4 and IPv6 UDP in either byte order', () => {
    for (const opts of [{}, { bigEndian: true }, { nanos: true }]) {
      const file = pcap(1, [
        ethernet(0x0800, ipv4(udp(9993, 21507, PAYLOAD))),
        ethernet(0x86dd, ipv6(udp(1, 2, PAYLOAD)), true),
        ethernet(0x86dd, ipv6(udp(3, 4, PAYLOAD), true)),
      ], opts);
      const r = readPcap(file);
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      expect(r.value.datagrams.map((d) => [d.t, d.src, d.dst, toHex(d.data)])).toEqual([
        [100.5, '198.18.0.1/9993', '198.18.0.2/21507', 'deadbeef01'],
        [101.5, '2001:db8::1/1', '2001:db8::2/2', 'deadbeef01'],
        [102.5, '2001:db8::1/3', '2001:db8::2/4', 'deadbeef01'],
      ]);
      expect(r.value.skipped).toBe(0);
    }
  });

  it('reads raw-IP and Linux cooked captures', () => {
    const raw = readPcap(pcap(101, [ipv4(udp(5, 6, PAYLOAD))]));
    expect(raw.ok && raw.value.datagrams[0].src).toBe('198.18.0.1/5');
    const sll = readPcap(pcap(113, [[...new Array(14).fill(0), 0x08, 0x00, ...ipv4(udp(7, 8, PAYLOAD))]]));
    expect(sll.ok && sll.value.datagrams[0].dst).toBe('198.18.0.2/8');
  });

  it('skips non-UDP, IP fragments and short frames; reports truncation and bad headers', () => {
    const tcp = ipv4(udp(1, 2, PAYLOAD));
    tcp[9] = 6;
    const r = readPcap(pcap(1, [ethernet(0x0800, tcp), ethernet(0x0800, ipv4(udp(1, 2, PAYLOAD), 0x2000)), [1, 2, 3], ethernet(0x0806, [0, 1])]));
    expect(r.ok && [r.value.datagrams.length, r.value.skipped]).toEqual([0, 4]);
    const file = pcap(1, [ethernet(0x0800, ipv4(udp(1, 2, PAYLOAD)))]);
    const cut = readPcap(file.subarray(0, file.length - 3));
    expect(cut.ok && [cut.value.datagrams.length, cut.value.truncated]).toEqual([0, true]);
    expect(readPcap(new Uint8Array(10))).toEqual({ ok: false, error: 'too-short' });
    expect(readPcap(new Uint8Array(24))).toEqual({ ok: false, error: 'bad-magic' });
    expect(readPcap(pcap(228, []))).toEqual({ ok: false, error: 'unsupported-link-type' });
  });

  it('never throws on random or mutated files (property)', () => {
    const good = pcap(1, [ethernet(0x0800, ipv4(udp(1, 2, PAYLOAD))), ethernet(0x86dd, ipv6(udp(1, 2, PAYLOAD), true))]);
    fc.assert(fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 200 }),
        fc.tuple(fc.integer({ min: 24, max: good.length - 1 }), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
          const b = Uint8Array.from(good);
          b[i] ^= x;
          return b;
        }),
      ),
      (b) => {
        const r = readPcap(b);
        if (r.ok) for (const d of r.value.datagrams) expect(d.data.length).toBeLessThan(b.length);
      },
    ), { numRuns: 1000 });
  });
});

describe('formatIpv6', () => {
  it('writes RFC 5952 text', () => {
    const f = (hex: string) => formatIpv6(Buffer.from(hex, 'hex'), 0);
    expect(f('20010db8000000000000000000000001')).toBe('2001:db8::1');
    expect(f('00000000000000000000000000000000')).toBe('::');
    expect(f('26059880020012000030057100e30051')).toBe('2605:9880:200:1200:30:571:e3:51');
    expect(f('20010db8000100000001000000000001')).toBe('2001:db8:1:0:1::1');
  });
});

describe('parseCaptureJson', () => {
  it('rejects malformed documents with a typed error', () => {
    expect(parseCaptureJson('{')).toEqual({ ok: false, error: 'bad-json' });
    expect(parseCaptureJson('[]')).toEqual({ ok: false, error: 'bad-structure' });
    expect(parseCaptureJson('{"hosts":{},"packets":[{"t":0,"src":"a","dst":"b","hex":"abc"}]}')).toEqual({ ok: false, error: 'bad-structure' });
    const ok = parseCaptureJson('{"hosts":{"x":{"ip":"1.2.3.4","identity_secret":"s"}},"packets":[{"t":1,"src":"a","dst":"b","hex":"00ff"}],"note":1}');
    expect(ok.ok && [ok.capture.hosts, toHex(ok.capture.datagrams[0].data), ok.capture.extra]).toEqual([[{ name: 'x', ip: '1.2.3.4', identitySecret: 's' }], '00ff', { note: 1 }]);
  });
});

describe('Keyring', () => {
  const A = parseIdentity(fencedAfter('Identity A (secret form').trim())!;
  const B = parseIdentity(fencedAfter('Identity B (secret form').trim())!;

  it('finds the A/B key with either secret, and dearmors with it', () => {
    const expected = toHex(hexAfter('Shared 48-byte peer key'));
    for (const [x, y] of [[A, B.publicOnly()], [A.publicOnly(), B]]) {
      const k = new Keyring();
      k.add(x);
      k.add(y);
      expect(toHex(k.keyFor(A.address, B.address)!.key)).toBe(expected);
      expect(toHex(k.keyFor(B.address, A.address)!.key)).toBe(expected);
      const p = newPacket({ id: 5n, destination: A.address, source: B.address, verb: 8, payload: PAYLOAD });
      armor(p, new PeerKey(hexAfter('Shared 48-byte peer key')), 3);
      const r = k.dearmor(p);
      expect(r.ok && r.cipher).toBe(3);
      expect(toHex(p.subarray(28))).toBe(toHex(PAYLOAD));
    }
  });

  it('reports pairs it cannot key', () => {
    const k = new Keyring();
    k.add(A.publicOnly());
    k.add(B.publicOnly());
    expect(k.keyFor(A.address, B.address)).toBeUndefined();
    const p = newPacket({ id: 5n, destination: A.address, source: B.address, verb: 8 });
    expect(k.dearmor(p)).toEqual({ ok: false, error: 'unknown-pair' });
    k.add(A); // a secret arriving later replaces the public entry
    expect(k.keyFor(A.address, B.address)).toBeDefined();
  });
});
