// Packet-level walk over the traffic of three real 1.14.1 nodes
// (test/fixtures/zerotier-1.14.1/capture-moon-lab.*): every datagram classified, every packet
// dearmored with the right pair's key, uncompressed where flagged, re-armored to the captured
// bytes, and the verbs tallied — once with each armor implementation (TypeScript and the C addon).

import { readFileSync } from 'node:fs';
import { beforeAll, expect, it } from 'vitest';
import { deserializeIdentity, parseIdentity } from '../../src/identity/identity.ts';
import { armor, recoverAesGmacSivPacketId, type ArmorCipher } from '../../src/wire/armor.ts';
import { parseCaptureJson, readPcap, type JsonCapture } from '../../src/wire/capture.ts';
import { uncompressPacket } from '../../src/wire/compression.ts';
import { cryptField } from '../../src/wire/crypt-field.ts';
import { Verb, verbName } from '../../src/wire/constants.ts';
import { Keyring } from '../../src/wire/keyring.ts';
import { classifyDatagram, isFragmentedHead, isPayloadCompressed, packetVerb, type DatagramKind } from '../../src/wire/packet.ts';
import type { PeerKey } from '../../src/wire/peer-key.ts';
import { describeEachArmor } from '../support/armor-implementations.ts';
import { fixturePath, hexAfter, toHex } from '../support/vectors.ts';

/** Root entries of a planet (docs/protocol/05-world-moons.md §1): identities of its roots. */
function planetRootIdentities(planet: Uint8Array) {
  const roots = [];
  let at = 178;
  for (let n = 0; n < planet[177]; n++) {
    const d = deserializeIdentity(planet, at);
    if (typeof d === 'string') throw new Error(`planet root ${n}: ${d}`);
    roots.push(d.identity);
    at += d.length;
    const endpoints = planet[at++];
    for (let e = 0; e < endpoints; e++) {
      const type = planet[at];
      at += type === 0x04 ? 7 : type === 0x06 ? 19 : 1;
    }
  }
  return roots;
}

/**
 * Offset of HELLO's cryptField region (the moon count), or -1 if the HELLO stops earlier
 * (docs/protocol/04-verbs.md §4).
 */
function helloCryptFieldStart(p: Uint8Array): number {
  const address = 28 + 1 + 1 + 1 + 2 + 8 + 71;
  if (p.length <= address) return -1;
  const type = p[address];
  const addressLength = type === 0x04 ? 7 : type === 0x06 ? 19 : type === 0 ? 1 : -1;
  if (addressLength < 0) return -1;
  const start = address + addressLength + 8 + 8; // planet ID, planet timestamp
  return p.length >= start + 2 ? start : -1;
}

interface Walk {
  kinds: Record<DatagramKind, number>;
  verbs: Record<string, number>;
  ciphers: Record<ArmorCipher, number>;
  failures: string[];
  compressed: number;
  rearmored: number;
  helloMoons: { total: number; withMoon: number };
}

const MOON_ID = 0x67960034a2n;

function walk(capture: JsonCapture, keyring: Keyring): Walk {
  const w: Walk = {
    kinds: { beacon: 0, ignored: 0, fragment: 0, packet: 0 }, verbs: {}, ciphers: { 0: 0, 1: 0, 3: 0 },
    failures: [], compressed: 0, rearmored: 0, helloMoons: { total: 0, withMoon: 0 },
  };
  capture.datagrams.forEach((d, i) => {
    const kind = classifyDatagram(d.data);
    w.kinds[kind]++;
    if (kind !== 'packet') return;
    const where = `#${i} ${d.src}->${d.dst}`;
    if (isFragmentedHead(d.data)) {
      w.failures.push(`${where}: unexpected fragmented head`);
      return;
    }
    const p = Uint8Array.from(d.data);
    const r = keyring.dearmor(p);
    if (!r.ok) {
      w.failures.push(`${where}: dearmor ${r.error}`);
      return;
    }
    w.ciphers[r.cipher]++;
    if (!reArmorMatches(d.data, p, r.cipher, r.key)) w.failures.push(`${where}: re-armor differs`);
    else w.rearmored++;

    if (isPayloadCompressed(p)) w.compressed++;
    const u = uncompressPacket(p);
    if (!u.ok) {
      w.failures.push(`${where}: uncompress ${u.error}`);
      return;
    }
    const name = verbName(packetVerb(u.packet)) ?? `0x${packetVerb(u.packet).toString(16)}`;
    w.verbs[name] = (w.verbs[name] ?? 0) + 1;

    if (packetVerb(u.packet) === Verb.HELLO) {
      const start = helloCryptFieldStart(u.packet);
      if (start < 0) return;
      const q = Uint8Array.from(u.packet);
      cryptField(q, start, q.length, r.key.key);
      const count = (q[start] << 8) | q[start + 1];
      if (q.length !== start + 2 + 17 * count) w.failures.push(`${where}: HELLO moon list length`);
      w.helloMoons.total++;
      for (let m = 0; m < count; m++) {
        const e = start + 2 + 17 * m;
        const id = new DataView(q.buffer, q.byteOffset).getBigUint64(e + 1);
        if (q[e] === 127 && id === MOON_ID) w.helloMoons.withMoon++;
      }
    }
  });
  return w;
}

/**
 * Armor the dearmored packet again with the sender's packet ID and hop count 0 and compare
 * with the captured bytes (hop bits masked: relays change them). For cipher 3 the sender's ID
 * is recovered from the tag.
 */
function reArmorMatches(captured: Uint8Array, dearmored: Uint8Array, cipher: ArmorCipher, key: PeerKey): boolean {
  const q = Uint8Array.from(dearmored);
  if (cipher === 3) q.set(recoverAesGmacSivPacketId(captured, key), 0);
  q[18] &= 0xf8;
  armor(q, key, cipher);
  const expected = Uint8Array.from(captured);
  expected[18] &= 0xf8;
  return toHex(q) === toHex(expected);
}

describeEachArmor('capture-moon-lab: dearmor every packet of three 1.14.1 nodes', () => {
  let capture: JsonCapture;
  let result: Walk;

  beforeAll(() => {
    const parsed = parseCaptureJson(readFileSync(fixturePath('capture-moon-lab.json'), 'utf8'));
    if (!parsed.ok) throw new Error(parsed.error);
    capture = parsed.capture;
    const keyring = new Keyring();
    for (const h of capture.hosts) {
      const id = parseIdentity(h.identitySecret);
      if (!id?.hasPrivate) throw new Error(`host ${h.name}: bad identity`);
      keyring.add(id);
    }
    for (const root of planetRootIdentities(hexAfter('Compiled-in default planet'))) keyring.add(root);
    result = walk(capture, keyring);
  });

  it('knows the three hosts and the four default planet roots', () => {
    expect(capture.hosts.map((h) => h.name).sort()).toEqual(['a', 'b', 'r']);
    expect(planetRootIdentities(hexAfter('Compiled-in default planet')).map((i) => i.address.toString(16)))
      .toEqual(['cafe9efeb9', '778cde7190', '62f865ae71', 'cafe04eba9']);
  });

  it('classifies every datagram: 438 packets and one 4-byte junk datagram, no fragments', () => {
    expect(capture.datagrams.length).toBe(439);
    expect(result.kinds).toEqual({ beacon: 0, ignored: 1, fragment: 0, packet: 438 });
  });

  it('dearmors, uncompresses and re-armors every packet with no failure', () => {
    expect(result.failures).toEqual([]);
    expect(result.rearmored).toBe(438);
  });

  it('sees all three cipher suites and compressed payloads', () => {
    expect(result.ciphers[0]).toBe(result.verbs.HELLO);
    expect(result.ciphers[1]).toBeGreaterThan(0);
    expect(result.ciphers[3]).toBeGreaterThan(0);
    expect(result.compressed).toBeGreaterThan(0);
  });

  it('tallies the verbs of joining a network and pinging across it', () => {
    for (const verb of ['HELLO', 'OK', 'ERROR', 'WHOIS', 'RENDEZVOUS', 'ECHO', 'MULTICAST_LIKE', 'MULTICAST_GATHER',
      'MULTICAST_FRAME', 'NETWORK_CONFIG_REQUEST', 'NETWORK_CONFIG', 'NETWORK_CREDENTIALS', 'PUSH_DIRECT_PATHS', 'FRAME']) {
      expect(result.verbs[verb], verb).toBeGreaterThan(0);
    }
    const total = Object.values(result.verbs).reduce((a, b) => a + b, 0);
    expect(total).toBe(438);
  });

  it('HELLO moon lists decrypt with cryptField, and the leaves ask for the moon', () => {
    expect(result.helloMoons.total).toBe(result.verbs.HELLO);
    expect(result.helloMoons.withMoon).toBeGreaterThan(0);
  });

  it('the .pcap holds the same UDP payloads in the same order', () => {
    const pcap = readPcap(readFileSync(fixturePath('capture-moon-lab.pcap')));
    expect(pcap.ok).toBe(true);
    if (!pcap.ok) return;
    expect(pcap.value.skipped).toBe(0);
    expect(pcap.value.truncated).toBe(false);
    expect(pcap.value.datagrams.map((d) => `${d.src} ${d.dst} ${toHex(d.data)}`))
      .toEqual(capture.datagrams.map((d) => `${d.src} ${d.dst} ${toHex(d.data)}`));
    const t0 = pcap.value.datagrams[0].t;
    pcap.value.datagrams.forEach((d, i) => expect(d.t - t0).toBeCloseTo(capture.datagrams[i].t, 3));
  });
});
