// The batch UDP addon's known-peer HELLO fast path (native/src/hello_fast.h, src/node/native-hello.ts)
// against the TypeScript path it stands in for: the OK(HELLO) it writes must be the bytes the
// TypeScript encoder and armor give for the same HELLO and packet ID; whatever the TypeScript path
// would not answer in the same way (worlds to send, bad MAC, another identity, malformed payload)
// must be left to it untouched. The real HELLOs of three 1.14.1 nodes
// (test/fixtures/zerotier-1.14.1/capture-moon-lab.json) are answered as their root answered them.

import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { agree, generateKeyPair } from '../../src/crypto/c25519.ts';
import { parseIdentity, type Identity } from '../../src/identity/identity.ts';
import { NativeHelloTable, nativeHelloAvailability, RecordFlag } from '../../src/node/native-hello.ts';
import { Peer } from '../../src/node/peer.ts';
import { SOFTWARE_VERSION } from '../../src/node/node.ts';
import { Topology } from '../../src/node/topology.ts';
import { armor, dearmor } from '../../src/wire/armor.ts';
import { parseCaptureJson } from '../../src/wire/capture.ts';
import { Cipher, FragmentOffset, FRAGMENT_INDICATOR, HeaderFlag, PacketOffset, Verb, VerbFlag, WorldType } from '../../src/wire/constants.ts';
import { cryptField } from '../../src/wire/crypt-field.ts';
import { ipv4, parseIpv4, type IpAddress } from '../../src/wire/inet-address.ts';
import { newPacket } from '../../src/wire/packet.ts';
import { decodeHello, encodeHelloWithCryptFieldOffset, encodeOkHello, type HelloMoon } from '../../src/wire/verbs/hello.ts';
import { World } from '../../src/world/world.ts';
import { A, B, fixedBytes, ipAddress, u16, u64, u8 } from '../wire/arbitraries.ts';
import { fixturePath } from '../support/vectors.ts';

const available = nativeHelloAvailability();
const SPACING_MS = 250;
const NOW = 1_800_000_000_000;
const from4: IpAddress = ipv4(parseIpv4('198.18.7.9')!, 41234);

/** Us = B, the known peer = A. */
const us = B;
const peer = new Peer(A.publicOnly(), agree(B.privateKey!, A.publicKey)!);

function table(spacingMs = SPACING_MS): NativeHelloTable {
  const t = NativeHelloTable.create({ address: us.address, protocolVersion: 11, version: SOFTWARE_VERSION, spacingMs, peers: 64 });
  if (typeof t === 'string') throw new Error(t);
  return t;
}

interface HelloFields {
  protocolVersion: number;
  major: number;
  minor: number;
  revision: number;
  timestamp: bigint;
  destination?: IpAddress;
  planet?: { id: bigint; timestamp: bigint };
  moons?: HelloMoon[];
}

/** A HELLO from `sender` to us as 1.14 sends it (moon list under cryptField, cipher 0), plus raw bytes appended. */
function helloDatagram(sender: Identity, key: Peer['key'], f: HelloFields, id: Uint8Array, tail = new Uint8Array(0)): Uint8Array {
  const { payload, cryptFieldOffset } = encodeHelloWithCryptFieldOffset({
    protocolVersion: f.protocolVersion, majorVersion: f.major, minorVersion: f.minor, revision: f.revision, timestamp: f.timestamp,
    identity: sender.publicOnly(), destination: f.destination, planet: f.destination ? f.planet : undefined, moons: f.destination && f.planet ? f.moons : undefined,
  });
  const body = new Uint8Array(payload.length + tail.length);
  body.set(payload);
  body.set(tail, payload.length);
  const p = newPacket({ id, destination: us.address, source: sender.address, verb: Verb.HELLO, payload: body });
  const start = cryptFieldOffset ?? (tail.length > 0 && f.destination && f.planet ? payload.length : undefined);
  if (start !== undefined) cryptField(p, PacketOffset.payload + start, p.length, key.salsaKey);
  armor(p, key, Cipher.poly1305None);
  return p;
}

/**
 * What the TypeScript path (hello-intake.ts finishHello, sender.ts) does with this HELLO from a
 * known peer whose reply spacing has passed: 'no-answer' (dropped), 'worlds' (answered with
 * worlds: the native path must leave it), or the armored OK(HELLO) with this packet ID.
 */
function typescriptAnswer(d: Uint8Array, from: IpAddress, topology: Topology, replyId: Uint8Array): 'no-answer' | 'worlds' | Uint8Array {
  const p = Uint8Array.from(d);
  if ((p[PacketOffset.flags] & HeaderFlag.cipherMask) !== 0 || (p[PacketOffset.flags] & HeaderFlag.hopsMask) !== 0) return 'no-answer';
  if (!dearmor(p, peer.key).ok) return 'no-answer';
  const decoded = decodeHello(p.subarray(PacketOffset.payload), peer.identity, { packet: p, key: peer.key.salsaKey });
  if (!decoded.ok) return 'no-answer';
  const hello = decoded.value;
  if (topology.updatesFor(hello.planet, hello.moons).length > 0) return 'worlds';
  const reply = newPacket({
    id: replyId, destination: peer.address, source: us.address, verb: Verb.OK, payload: encodeOkHello({
      inRePacketId: new DataView(d.buffer, d.byteOffset).getBigUint64(0), timestamp: hello.timestamp, protocolVersion: 11,
      majorVersion: SOFTWARE_VERSION.major, minorVersion: SOFTWARE_VERSION.minor, revision: SOFTWARE_VERSION.revision,
      externalAddress: hello.protocolVersion < 5 ? { ...from, port: 0 } : from, worlds: new Uint8Array(0),
    }),
  });
  armor(reply, peer.key, Cipher.poly1305Salsa2012);
  return reply;
}

const signer = generateKeyPair();
const world = (type: typeof WorldType.planet | typeof WorldType.moon, id: bigint, timestamp: bigint): World => World.make({
  type, id, timestamp, updatesMustBeSignedBy: signer.publicKey, roots: [{ identity: us.publicOnly(), stableEndpoints: [from4] }],
}, signer);
const PLANET = world(WorldType.planet, 0x1abn, 1000n);
const MOON = world(WorldType.moon, 0x77n, 500n);

const worldTimestamp = fc.constantFrom(0n, 499n, 500n, 999n, 1000n, 5000n);
const helloFields: fc.Arbitrary<HelloFields> = fc.record({
  protocolVersion: fc.integer({ min: 4, max: 13 }), major: u8, minor: u8, revision: u16, timestamp: u64,
  destination: fc.option(ipAddress, { nil: undefined }),
  planet: fc.option(fc.record({ id: fc.constantFrom(0x1abn, 0x2n), timestamp: worldTimestamp }), { nil: undefined }),
  moons: fc.option(fc.array(fc.record({ worldType: fc.constantFrom(WorldType.moon, 1, 200), id: fc.constantFrom(0x77n, 0x78n), timestamp: worldTimestamp }), { maxLength: 6 }), { nil: undefined }),
});

describe.skipIf(!available.ok)('native known-peer HELLO path', () => {
  let topology: Topology;
  beforeAll(() => {
    topology = new Topology(us.address);
    topology.setPlanet(PLANET);
    topology.setMoon(MOON);
  });

  it('answers with the TypeScript encoder\'s bytes, and leaves every HELLO that needs a world to TypeScript', () => {
    const t = table(0);
    t.setWorlds(topology.planet, topology.moons);
    expect(t.register(peer)).toBe(true);
    let answered = 0, worlds = 0;
    fc.assert(fc.property(helloFields, fixedBytes(8), fixedBytes(8), ipAddress, (f, helloId, replyId, from) => {
      const d = helloDatagram(A, peer.key, f, helloId);
      const expected = typescriptAnswer(d, from, topology, replyId);
      const got = t.answer(d, from, 0, NOW, replyId);
      if (expected === 'worlds') {
        worlds++;
        expect(got).toBe('fallback');
      } else {
        answered++;
        expect(expected).not.toBe('no-answer');
        expect(got).not.toBe('fallback');
        if (got === 'fallback') return;
        expect(got.outcome).toBe('answered');
        expect(Buffer.from(got.reply!).toString('hex')).toBe(Buffer.from(expected as Uint8Array).toString('hex'));
      }
    }), { numRuns: 400 });
    expect(answered).toBeGreaterThan(50);
    expect(worlds).toBeGreaterThan(20);
  });

  it('decodes a malformed moon region as decodeHello does: answers exactly what TypeScript answers, leaves the rest', () => {
    const t = table(0);
    t.setWorlds(topology.planet, topology.moons);
    t.register(peer);
    let dropped = 0;
    const withPlanet = helloFields.map((f) => ({ ...f, destination: f.destination ?? from4, planet: f.planet ?? { id: 0x2n, timestamp: 0n }, moons: undefined }));
    fc.assert(fc.property(withPlanet, fc.uint8Array({ maxLength: 80 }), fixedBytes(8), (f, tail, replyId) => {
      const d = helloDatagram(A, peer.key, f, new Uint8Array(8).fill(3), tail);
      const expected = typescriptAnswer(d, from4, topology, replyId);
      const got = t.answer(d, from4, 0, NOW, replyId);
      if (expected === 'no-answer' || expected === 'worlds') {
        if (expected === 'no-answer') dropped++;
        expect(got).toBe('fallback');
      } else if (got !== 'fallback') {
        expect(Buffer.from(got.reply!).toString('hex')).toBe(Buffer.from(expected).toString('hex'));
      } else {
        expect(tail.length).toBeGreaterThan(256 - 2); // only a region longer than the addon decodes is left
      }
    }), { numRuns: 400 });
    expect(dropped).toBeGreaterThan(20);
  });

  it('leaves every altered HELLO to TypeScript (any changed bit fails the MAC, the hops or the addressing)', () => {
    const t = table(0);
    t.register(peer);
    fc.assert(fc.property(helloFields, fc.nat(), fc.integer({ min: 1, max: 255 }), (f, at, mask) => {
      const d = helloDatagram(A, peer.key, f, new Uint8Array(8).fill(9));
      d[at % d.length] ^= mask;
      expect(t.answer(d, from4, 0, NOW)).toBe('fallback');
    }), { numRuns: 400 });
  });

  it('never answers garbage, truncated or oversized datagrams', () => {
    const t = table(0);
    t.register(peer);
    const good = helloDatagram(A, peer.key, { protocolVersion: 12, major: 1, minor: 14, revision: 1, timestamp: 5n }, new Uint8Array(8));
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat({ max: good.length - 1 }), (junk, cut) => {
      expect(t.answer(junk, from4, 0, NOW)).toBe('fallback');
      expect(t.answer(good.subarray(0, cut), from4, 0, NOW)).toBe('fallback');
    }), { numRuns: 300 });
    expect(t.answer(new Uint8Array(20000), from4, 0, NOW)).toBe('fallback');
    expect(t.answer(good, from4, 0, NOW)).not.toBe('fallback');
  });

  it('holds back replies within the spacing, and books a peer once a second or when its path or version changes', () => {
    const t = table();
    t.register(peer);
    const f: HelloFields = { protocolVersion: 12, major: 1, minor: 14, revision: 1, timestamp: 1n };
    const at = (ms: number, from = from4, fields = f) => t.answer(helloDatagram(A, peer.key, fields, fixedId(ms)), from, 1, NOW + ms);
    const first = at(0);
    expect(first).not.toBe('fallback');
    if (first === 'fallback') return;
    expect(first.outcome).toBe('answered');
    expect(first.record).toMatchObject({ address: A.address, flags: RecordFlag.answered, socket: 1, from: from4, version: { protocol: 12, major: 1, minor: 14, revision: 1 } });
    expect(at(100)).toEqual({ outcome: 'rate-limited', reply: undefined, record: undefined });
    const moved = ipv4(parseIpv4('198.18.7.10')!, 41234);
    expect(at(200, moved)).toMatchObject({ outcome: 'rate-limited', record: { flags: RecordFlag.rateLimited, from: moved } });
    expect(at(300, moved)).toMatchObject({ outcome: 'answered', record: undefined });
    expect(at(400, moved, { ...f, revision: 2 })).toMatchObject({ record: { version: { revision: 2 } } });
    expect(at(1000, moved, { ...f, revision: 2 })).toMatchObject({ outcome: 'answered', record: { address: A.address } });
    expect(t.lastReply(A.address)).toBe(NOW + 1000);
    expect(t.takeCounts()).toMatchObject({ hellos: 6, answered: 3, rateLimited: 3 });
    t.forget(A.address);
    expect(at(5000)).toBe('fallback');
    expect(t.lastReply(A.address)).toBeUndefined();
  });

  it('with more moons than it compares, answers HELLOs that list none and leaves those that list one', () => {
    const t = table(0);
    t.register(peer);
    t.setWorlds(PLANET, Array.from({ length: 17 }, (_, i) => world(WorldType.moon, 0x100n + BigInt(i), 5n)));
    const f: HelloFields = { protocolVersion: 12, major: 1, minor: 14, revision: 1, timestamp: 1n, destination: from4, planet: { id: 0x1abn, timestamp: 1000n } };
    expect(t.answer(helloDatagram(A, peer.key, { ...f, moons: [] }, new Uint8Array(8)), from4, 0, NOW)).not.toBe('fallback');
    expect(t.answer(helloDatagram(A, peer.key, { ...f, moons: [{ worldType: WorldType.moon, id: 0x999n, timestamp: 1n }] }, new Uint8Array(8)), from4, 0, NOW)).toBe('fallback');
  });

  it('leaves unknown peers, another identity at a known address, relayed HELLOs and old protocols to TypeScript', () => {
    const t = table(0);
    const f: HelloFields = { protocolVersion: 12, major: 1, minor: 14, revision: 1, timestamp: 1n };
    expect(t.answer(helloDatagram(A, peer.key, f, new Uint8Array(8)), from4, 0, NOW)).toBe('fallback'); // not registered
    const otherKey = Uint8Array.from(A.publicKey);
    otherKey[3] ^= 1;
    t.register({ ...peer, address: A.address, key: peer.key, identity: { publicKey: otherKey } } as unknown as Peer);
    expect(t.answer(helloDatagram(A, peer.key, f, new Uint8Array(8)), from4, 0, NOW)).toBe('fallback');
    t.forget(A.address);
    t.register(peer);
    const relayed = helloDatagram(A, peer.key, f, new Uint8Array(8));
    relayed[PacketOffset.flags] |= 1;
    expect(t.answer(relayed, from4, 0, NOW)).toBe('fallback');
    expect(t.answer(helloDatagram(A, peer.key, { ...f, protocolVersion: 3 }, new Uint8Array(8)), from4, 0, NOW)).toBe('fallback');
    const old = t.answer(helloDatagram(A, peer.key, { ...f, protocolVersion: 4 }, new Uint8Array(8)), from4, 0, NOW);
    expect(old).not.toBe('fallback');
    if (old !== 'fallback') {
      const p = Uint8Array.from(old.reply!);
      expect(dearmor(p, peer.key).ok).toBe(true);
      expect(p.subarray(p.length - 4)).toEqual(Uint8Array.of(0, 0, 0, 0)); // port 0 for protocol < 5, then no worlds
    }
  });

  it('answers the HELLOs of real 1.14.1 leaves as their 1.14.1 root did (capture-moon-lab.json)', () => {
    const parsed = parseCaptureJson(readFileSync(fixturePath('capture-moon-lab.json'), 'utf8'));
    if (!parsed.ok) throw new Error(parsed.error);
    const ids = new Map(parsed.capture.hosts.map((h) => [h.name, parseIdentity(h.identitySecret)!]));
    const r = ids.get('r')!;
    const rootTable = NativeHelloTable.create({ address: r.address, protocolVersion: 12, version: SOFTWARE_VERSION, spacingMs: 0, peers: 16 });
    if (typeof rootTable === 'string') throw new Error(rootTable);
    const leaves = new Map<number, Peer>();
    for (const name of ['a', 'b']) {
      const leaf = ids.get(name)!;
      const p = new Peer(leaf.publicOnly(), agree(r.privateKey!, leaf.publicKey)!);
      leaves.set(leaf.address, p);
      rootTable.register(p);
    }
    const datagrams = parsed.capture.datagrams.map((d) => ({ ...d, data: Uint8Array.from(d.data) }));
    const isHead = (b: Uint8Array): boolean => b.length >= 28 && b[FragmentOffset.indicator] !== FRAGMENT_INDICATOR;
    const address = (b: Uint8Array, at: number): number => Number(BigInt(`0x${Buffer.from(b.subarray(at, at + 5)).toString('hex')}`));
    let compared = 0;
    for (const d of datagrams) {
      const b = d.data;
      if (!isHead(b) || (b[PacketOffset.verb] & VerbFlag.verbMask) !== Verb.HELLO || address(b, PacketOffset.destination) !== r.address) continue;
      const leaf = leaves.get(address(b, PacketOffset.source));
      if (!leaf) continue;
      // the root's own answer: an OK from r to where this HELLO came from, whose in-re packet ID is this HELLO's
      const answer = datagrams.filter((x) => x.dst === d.src).map((x) => Uint8Array.from(x.data)).find((x) => {
        if (!isHead(x) || address(x, PacketOffset.source) !== r.address || address(x, PacketOffset.destination) !== leaf.address) return false;
        if (!dearmor(x, leaf.key).ok || (x[PacketOffset.verb] & VerbFlag.verbMask) !== Verb.OK) return false;
        return x[PacketOffset.payload] === Verb.HELLO && Buffer.compare(x.subarray(PacketOffset.payload + 1, PacketOffset.payload + 9), b.subarray(0, 8)) === 0;
      });
      if (!answer) continue;
      const [host, port] = d.src.split('/');
      const from = ipv4(parseIpv4(host)!, Number(port));
      // an answer carrying the moon is TypeScript's to write (the table here serves no world)
      if (new DataView(answer.buffer, answer.byteOffset).getUint16(PacketOffset.payload + 1 + 8 + 8 + 5 + 7) !== 0) continue;
      const got = rootTable.answer(b, from, 0, NOW + compared * 1000);
      expect(got).not.toBe('fallback');
      if (got === 'fallback') continue;
      const mine = Uint8Array.from(got.reply!);
      expect(dearmor(mine, leaf.key).ok).toBe(true);
      // everything after the header is what 1.14.1 wrote: in-re, timestamp, versions, external address, no worlds
      expect(Buffer.from(mine.subarray(PacketOffset.verb)).toString('hex')).toBe(Buffer.from(answer.subarray(PacketOffset.verb)).toString('hex'));
      compared++;
    }
    expect(compared).toBeGreaterThan(3);
  });
});

function fixedId(n: number): Uint8Array {
  const id = new Uint8Array(8);
  new DataView(id.buffer).setUint32(4, n);
  return id;
}
