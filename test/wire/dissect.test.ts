// The dissector behind `ztroot decode` (src/dissect/dissect.ts): the whole reference capture of
// three 1.14.1 nodes (test/fixtures/zerotier-1.14.1/capture-moon-lab.json and .pcap) decodes
// with no failure given the hosts' secrets, the verb tally is the scenario's, frames carry ARP
// and ICMP, without secrets every packet is 'no-key'; fragments reassemble; damaged input gives
// typed failures and never throws.

import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseIdentity, type Identity } from '../../src/identity/identity.ts';
import { datagramToJson, formatDatagramLine, formatSummaryTable, summaryToJson } from '../../src/dissect/dissect-format.ts';
import { defaultPlanetRootIdentities, dissect, type DissectedDatagram, type DissectSummary } from '../../src/dissect/dissect.ts';
import { formatEthernetSummary, summarizeEthernetPayload } from '../../src/dissect/ethernet.ts';
import { armor } from '../../src/wire/armor.ts';
import { parseCaptureJson, readPcap, type CapturedDatagram, type JsonCapture } from '../../src/wire/capture.ts';
import { Verb } from '../../src/wire/constants.ts';
import { markFragmentedIfNeeded, splitPacket } from '../../src/wire/fragment.ts';
import { Keyring } from '../../src/wire/keyring.ts';
import { newPacket } from '../../src/wire/packet.ts';
import { PeerKey } from '../../src/wire/peer-key.ts';
import { encodeFrame } from '../../src/wire/verbs/index.ts';
import { A, B, RUNS } from './arbitraries.ts';
import { fixturePath } from '../support/vectors.ts';

const MOON_ID = 0x67960034a2n;
const NETWORK_ID = 0x67960034a23505e0n;

/** What the lab scenario produced (three nodes join r's network, get configs, ping via r then directly). */
const EXPECTED_VERBS = {
  HELLO: 75, 'OK(HELLO)': 72,
  WHOIS: 27, 'OK(WHOIS)': 27,
  ECHO: 57, 'OK(ECHO)': 47,
  NETWORK_CONFIG_REQUEST: 3, 'ERROR(NETWORK_CONFIG_REQUEST)': 1, 'OK(NETWORK_CONFIG_REQUEST)': 2, NETWORK_CONFIG: 2,
  NETWORK_CREDENTIALS: 4,
  MULTICAST_LIKE: 49, MULTICAST_GATHER: 22, 'OK(MULTICAST_GATHER)': 2,
  MULTICAST_FRAME: 8, 'OK(MULTICAST_FRAME)': 8, 'ERROR(MULTICAST_FRAME)': 8,
  FRAME: 18, RENDEZVOUS: 2, PUSH_DIRECT_PATHS: 4,
};

let capture: JsonCapture;
let hosts: Identity[];
let fromJson: { datagrams: DissectedDatagram[]; summary: DissectSummary };
let pcapDatagrams: CapturedDatagram[];

function keyringWith(identities: readonly Identity[], planet = true): Keyring {
  const k = new Keyring();
  if (planet) for (const r of defaultPlanetRootIdentities()) k.add(r);
  for (const id of identities) k.add(id);
  return k;
}

function decodedOf(ds: readonly DissectedDatagram[], verb: string) {
  return ds.flatMap((d) => (d.decoded?.verb === verb ? [d.decoded] : []));
}

beforeAll(() => {
  const parsed = parseCaptureJson(readFileSync(fixturePath('capture-moon-lab.json'), 'utf8'));
  if (!parsed.ok) throw new Error(parsed.error);
  capture = parsed.capture;
  hosts = capture.hosts.map((h) => parseIdentity(h.identitySecret)!);
  fromJson = dissect(capture.datagrams, keyringWith(hosts));
  const pcap = readPcap(readFileSync(fixturePath('capture-moon-lab.pcap')));
  if (!pcap.ok) throw new Error(pcap.error);
  pcapDatagrams = pcap.value.datagrams;
});

describe('the reference capture with the hosts\' secrets', () => {
  it('decodes every packet with zero failures', () => {
    const s = fromJson.summary;
    expect(s.datagrams).toBe(439);
    expect(s.kinds).toEqual({ beacon: 0, ignored: 1, fragment: 0, packet: 438 });
    expect({ packets: s.packets, decoded: s.decoded, failed: s.failed, failures: s.failures }).toEqual({ packets: 438, decoded: 438, failed: 0, failures: {} });
    expect(fromJson.datagrams.filter((d) => d.status === 'failed')).toEqual([]);
    expect(s.ciphers).toEqual({ 0: 75, 1: 49, 3: 314 });
    expect(s.compressed).toBe(23);
  });

  it('tallies the verbs of the scenario', () => {
    expect(fromJson.summary.verbs).toEqual(EXPECTED_VERBS);
  });

  it('the .pcap dissects to the same datagrams (times aside)', () => {
    const fromPcap = dissect(pcapDatagrams, keyringWith(hosts));
    expect(fromPcap.summary).toEqual(fromJson.summary);
    const strip = (d: DissectedDatagram) => JSON.stringify({ ...datagramToJson(d), t: 0 });
    expect(fromPcap.datagrams.map(strip)).toEqual(fromJson.datagrams.map(strip));
  });

  it('HELLO moon lists are revealed: the leaves name moon 67960034a2', () => {
    const hellos = decodedOf(fromJson.datagrams, 'HELLO');
    expect(hellos).toHaveLength(75);
    const withMoon = hellos.filter((h) => h.message.verb === 'HELLO' && h.message.value.moons?.some((m) => m.worldType === 127 && m.id === MOON_ID));
    expect(withMoon.length).toBeGreaterThan(0);
    // every HELLO carries a list that parsed to the end, and a moon entry only with the real ID
    for (const h of hellos) {
      if (h.message.verb !== 'HELLO') throw new Error('not a HELLO');
      expect(h.message.value.moons).toBeDefined();
      for (const m of h.message.value.moons!) expect(m.id).toBe(MOON_ID);
    }
  });

  it('WHOIS questions are answered with the asked identities', () => {
    const asked = new Set(decodedOf(fromJson.datagrams, 'WHOIS').flatMap((d) => (d.message.verb === 'WHOIS' ? d.message.value.addresses : [])));
    const answered = decodedOf(fromJson.datagrams, 'OK(WHOIS)').flatMap((d) =>
      d.message.verb === 'OK' && d.message.value.inRe === 'WHOIS' ? d.message.value.value.identities.map((i) => i.address) : []);
    expect(answered).toHaveLength(27);
    for (const a of answered) expect(asked).toContain(a);
  });

  it('the controller first denies, then sends each leaf a signed config whose COM verifies', () => {
    const denied = fromJson.datagrams.find((d) => d.decoded?.verb === 'ERROR(NETWORK_CONFIG_REQUEST)')!;
    expect(denied.decoded!.message).toMatchObject({ verb: 'ERROR', value: { errorCode: 7, networkId: NETWORK_ID } });
    const configs = fromJson.datagrams.filter((d) => d.decoded?.verb === 'NETWORK_CONFIG' || d.decoded?.verb === 'OK(NETWORK_CONFIG_REQUEST)');
    expect(configs).toHaveLength(4);
    for (const d of configs) {
      const c = d.decoded!.config!;
      expect(c).toMatchObject({ networkId: NETWORK_ID, signature: 'valid', comSignature: 'valid' });
      expect(c.received).toBe(c.total);
      expect(c.config!.name).toBe('lab');
      expect(c.config!.issuedTo).toBe(d.header!.destination);
      expect(c.config!.com).toBeDefined();
      expect(c.config!.staticIps.map((ip) => ip.family)).toEqual([4]);
    }
    const requests = decodedOf(fromJson.datagrams, 'NETWORK_CONFIG_REQUEST');
    for (const r of requests) expect(r.metadata).toMatchObject({ majorVersion: 1n, minorVersion: 14n, revision: 1n });
    const credentials = decodedOf(fromJson.datagrams, 'NETWORK_CREDENTIALS');
    expect(credentials.flatMap((c) => c.comSignatures ?? [])).toEqual(['valid', 'valid', 'valid', 'valid']);
  });

  it('FRAMEs carry ARP and ICMP echo between the leaves; broadcasts go as MULTICAST_FRAME', () => {
    const frames = decodedOf(fromJson.datagrams, 'FRAME').map((d) => (d.message.verb === 'FRAME' ? { etherType: d.message.value.etherType, e: d.ethernet! } : undefined)!);
    const arp = frames.filter((f) => f.etherType === 0x0806);
    const ip = frames.filter((f) => f.etherType === 0x0800);
    expect(arp).toHaveLength(10);
    expect(ip).toHaveLength(8);
    expect(arp.every((f) => f.e.protocol === 'ARP')).toBe(true);
    expect(arp.some((f) => f.e.protocol === 'ARP' && f.e.operation === 'reply' && f.e.senderIp === '10.147.17.31')).toBe(true);
    const icmp = ip.map((f) => (f.e.protocol === 'IPv4' && f.e.transport && f.e.transport.protocol === 'ICMP' ? f.e.transport.icmp.name : 'not icmp'));
    expect(icmp.filter((n) => n === 'echo-request')).toHaveLength(4);
    expect(icmp.filter((n) => n === 'echo-reply')).toHaveLength(4);
    const multicast = decodedOf(fromJson.datagrams, 'MULTICAST_FRAME');
    expect(multicast.map((m) => m.ethernet?.protocol === 'ARP' && m.ethernet.operation)).toEqual(Array(8).fill('request'));
  });

  it('learns nothing new: every identity is already known', () => {
    expect(fromJson.summary.learnedIdentities).toBe(0);
  });

  it('every datagram turns into JSON and a text line', () => {
    const t0 = capture.datagrams[0].t;
    for (const d of fromJson.datagrams) {
      const json = JSON.parse(JSON.stringify(datagramToJson(d))) as Record<string, unknown>;
      expect(json.index).toBe(d.index);
      expect(formatDatagramLine(d, t0)).toMatch(new RegExp(`^#${d.index} `));
    }
    const first = JSON.parse(JSON.stringify(datagramToJson(fromJson.datagrams[0])));
    expect(first).toMatchObject({
      status: 'decoded', source: '99dfbd68a5', destination: '67960034a2', cipherName: 'poly1305', verb: 'HELLO',
      message: { verb: 'HELLO', value: { planet: { id: '0000000008eac90a', timestamp: 1644592324813 }, moons: [{ worldType: 127, id: '00000067960034a2' }] } },
    });
    expect(JSON.parse(JSON.stringify(summaryToJson(fromJson.summary))).summary).toMatchObject({ decoded: 438, failed: 0, verbs: EXPECTED_VERBS });
    expect(formatSummaryTable(fromJson.summary)).toMatch(/^ {2}failed +0$/m);
  });
});

describe('with fewer keys', () => {
  it('without any secret every packet is "no-key"', () => {
    const r = dissect(pcapDatagrams, keyringWith([]));
    const packets = r.datagrams.filter((d) => d.kind === 'packet');
    expect(packets).toHaveLength(438);
    expect(packets.every((d) => d.status === 'failed' && d.failure?.reason === 'no-key')).toBe(true);
    expect(r.summary.failures).toEqual({ 'no-key': 438 });
    expect(r.summary.decoded).toBe(0);
  });

  it('with only the root\'s secret: the leaves\' identities are learned from their HELLOs; leaf-to-leaf traffic stays closed', () => {
    const r = hosts.find((h) => h.address === 0x67960034a2)!;
    const result = dissect(pcapDatagrams, keyringWith([r]));
    expect(result.summary.learnedIdentities).toBe(2);
    for (const d of result.datagrams) {
      if (d.kind !== 'packet') continue;
      const touchesRoot = d.header!.source === r.address || d.header!.destination === r.address;
      expect(d.status, `#${d.index}`).toBe(touchesRoot ? 'decoded' : 'failed');
      if (!touchesRoot) expect(d.failure?.reason).toBe('no-key');
    }
  });

  it('MULTICAST_LIKEs to the Earth roots need the default planet', () => {
    const withoutPlanet = dissect(capture.datagrams, keyringWith(hosts, false));
    expect(withoutPlanet.summary.failures).toEqual({ 'no-key': 36 });
  });
});

describe('synthetic packets', () => {
  const key = new PeerKey(A.agree(B)!);
  const at = (t: number, data: Uint8Array, dst = '10.0.0.2/9993'): CapturedDatagram => ({ t, src: '10.0.0.1/9993', dst, data });

  function armored(verb: number, payload: Uint8Array, id = 0x0102030405060708n, cipher: 0 | 1 | 3 = 1, mtu?: number): Uint8Array {
    const p = newPacket({ id, destination: B.address, source: A.address, verb, payload });
    if (mtu) markFragmentedIfNeeded(p, mtu);
    armor(p, key, cipher);
    return p;
  }

  it('reassembles fragments that come before their head, per receiving endpoint, ignoring duplicates', () => {
    const ping = new Uint8Array(3000).map((_, i) => i & 0xff);
    const pieces = splitPacket(armored(Verb.FRAME, encodeFrame({ networkId: NETWORK_ID, etherType: 0x88b5, payload: ping }), 7n, 3, 1400), 1400);
    expect(pieces).toHaveLength(3);
    const [head, f1, f2] = pieces;
    const r = dissect([at(0, f2), at(0.1, f1), at(0.2, f1), at(0.3, head), at(0.4, head, '10.0.0.3/9993'), at(0.5, f1, '10.0.0.3/9993')], keyringWith([A, B], false));
    expect(r.datagrams.map((d) => d.reassembly?.state)).toEqual(['pending', 'pending', 'duplicate', 'complete', 'pending', 'pending']);
    expect(r.datagrams[0].fragment).toMatchObject({ number: 2, total: 3, destination: B.address });
    const done = r.datagrams[3];
    expect(done.status).toBe('decoded');
    expect(done.reassembly?.length).toBe(head.length + f1.length + f2.length - 32);
    expect(done.decoded?.message).toMatchObject({ verb: 'FRAME', value: { etherType: 0x88b5, payload: ping } });
    expect(r.summary.fragments).toEqual({ reassembled: 1, duplicates: 1, rejected: 0, incomplete: 1 });
    expect(r.summary).toMatchObject({ packets: 1, decoded: 1, failed: 0 });
  });

  it('names why a packet cannot be read: bad MAC, unsupported cipher, undecodable payload, bad fragment', () => {
    const tampered = armored(Verb.WHOIS, Uint8Array.of(1, 2, 3, 4, 5));
    tampered[tampered.length - 1] ^= 1;
    const trusted = armored(Verb.WHOIS, Uint8Array.of(1, 2, 3, 4, 5));
    trusted[18] = (trusted[18] & 0x07) | (2 << 3);
    const partialLike = armored(Verb.MULTICAST_LIKE, new Uint8Array(5));
    const badFragment = Uint8Array.from(splitPacket(armored(Verb.ECHO, new Uint8Array(200), 9n, 1, 100), 100)[1]);
    badFragment[14] = 0x11; // total 1: not a fragment count 1.14 accepts
    const r = dissect([at(0, tampered), at(1, trusted), at(2, partialLike), at(3, badFragment)], keyringWith([A, B], false));
    expect(r.datagrams.map((d) => d.failure)).toEqual([
      { reason: 'bad-mac' },
      { reason: 'unsupported-cipher' },
      { reason: 'bad-payload', detail: 'MULTICAST_LIKE: too-short' },
      { reason: 'bad-fragment', detail: 'bad-count' },
    ]);
    expect(r.summary.failures).toEqual({ 'bad-mac': 1, 'unsupported-cipher': 1, 'bad-payload': 1, 'bad-fragment': 1 });
  });

  it('a HELLO carrying a wrong identity for its source teaches nothing', () => {
    const hello = capture.datagrams[0].data;
    const r = hosts.find((h) => h.address === 0x67960034a2)!;
    const forged = Uint8Array.from(hello);
    forged[28 + 13 + 20] ^= 1; // a bit of the announced public key
    const result = dissect([at(0, forged), at(1, hello)], keyringWith([r], false));
    expect(result.datagrams.map((d) => d.failure?.reason ?? d.status)).toEqual(['bad-mac', 'decoded']);
    expect(result.summary.learnedIdentities).toBe(1);
  });

  it('random datagrams and damaged capture packets never throw', () => {
    const keyring = keyringWith([...hosts, A, B]);
    fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 120 }), { maxLength: 8 }), (datagrams) => {
      const r = dissect(datagrams.map((d, i) => at(i, d)), keyring);
      expect(r.summary.decoded + r.summary.failed).toBe(r.summary.packets);
      for (const d of r.datagrams) JSON.stringify(datagramToJson(d));
    }), RUNS);
    const real = capture.datagrams.filter((d) => d.data.length > 28);
    fc.assert(fc.property(fc.nat(real.length - 1), fc.nat(), fc.integer({ min: 1, max: 255 }), (which, where, flip) => {
      const data = Uint8Array.from(real[which].data);
      data[where % data.length] ^= flip;
      const r = dissect([{ ...real[which], data }], keyring);
      expect(['decoded', 'failed', 'incomplete', 'skipped']).toContain(r.datagrams[0].status);
      formatDatagramLine(r.datagrams[0], 0);
    }), RUNS);
  });
});

describe('Ethernet payload summaries', () => {
  const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'));

  it('ARP request and reply', () => {
    const request = hex('0001 0800 06 04 0001 e286a425a2b6 0a931120 000000000000 0a93111f');
    expect(summarizeEthernetPayload(0x0806, request)).toEqual({
      protocol: 'ARP', operation: 'request', senderMac: 'e2:86:a4:25:a2:b6', senderIp: '10.147.17.32', targetMac: '00:00:00:00:00:00', targetIp: '10.147.17.31',
    });
    expect(formatEthernetSummary(summarizeEthernetPayload(0x0806, request))).toBe('ARP request who-has 10.147.17.31 tell 10.147.17.32 (e2:86:a4:25:a2:b6)');
    expect(summarizeEthernetPayload(0x0806, request.subarray(0, 27))).toEqual({ protocol: 'malformed', etherType: 0x0806, reason: 'short ARP' });
  });

  it('IPv4 ICMP echo, UDP, fragments; IPv6 ICMPv6', () => {
    const ip = '4500 0054 1234 0000 40 01 0000 0a931120 0a93111f';
    expect(formatEthernetSummary(summarizeEthernetPayload(0x0800, hex(`${ip} 08 00 0000 35c2 0001`))))
      .toBe('IPv4 10.147.17.32 > 10.147.17.31 ICMP echo-request id 13762 seq 1 len 84');
    expect(formatEthernetSummary(summarizeEthernetPayload(0x0800, hex('4500 0020 0000 0000 40 11 0000 0a000001 0a000002 d431 0035 000c 0000'))))
      .toBe('IPv4 10.0.0.1 > 10.0.0.2 UDP 54321 > 53 len 32');
    expect(formatEthernetSummary(summarizeEthernetPayload(0x0800, hex('4500 0020 0000 0010 40 11 0000 0a000001 0a000002 0000'))))
      .toBe('IPv4 10.0.0.1 > 10.0.0.2 fragment len 32');
    const v6 = hex(`6000 0000 0008 3a 40 fe800000000000000000000000000001 ff020000000000000000000000000001 8000 0000 0007 0003`);
    expect(formatEthernetSummary(summarizeEthernetPayload(0x86dd, v6))).toBe('IPv6 fe80::1 > ff02::1 ICMPv6 echo-request id 7 seq 3 len 48');
    expect(summarizeEthernetPayload(0x0800, hex('45'))).toMatchObject({ protocol: 'malformed' });
    expect(summarizeEthernetPayload(0x88b5, new Uint8Array(3))).toEqual({ protocol: 'other', etherType: 0x88b5, length: 3 });
  });
});
