// Root integration over real UDP on 127.0.0.x: HELLO and OK(HELLO) (reply address and socket,
// world updates for planets and moons, a seeded SimpleLeaf receiving its moon), identity
// collisions and invalid identities (08-root-behaviour.md §3.3, 04-verbs.md §4, 05-world-moons.md).

import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Identity } from '../../src/identity/identity.ts';
import { SimpleLeaf } from '../../src/leaf/simple-leaf.ts';
import { ROOT_PROTOCOL_VERSION } from '../../src/root/root-server.ts';
import { Cipher, ErrorCode, Verb } from '../../src/wire/constants.ts';
import { formatInetAddress, formatIp } from '../../src/wire/inet-address.ts';
import { decodeError } from '../../src/wire/verbs/error.ts';
import { decodeOkHello } from '../../src/wire/verbs/hello.ts';
import { decodeOkHeader } from '../../src/wire/verbs/ok.ts';
import { decodeOkWhois, encodeWhois } from '../../src/wire/verbs/whois.ts';
import type { World } from '../../src/world/world.ts';
import {
  helloMoon, makeWorld, openPacket, RawPeer, removeDirs, startTestRoot, VECTOR_IDENTITIES, waitUntil,
  type HelloOptions, type TestRoot,
} from '../support/root-harness.ts';
import { toHex } from '../support/vectors.ts';

const [rootId, idA, idB, idClaimant, idInvalidKeys, idLeaf] = VECTOR_IDENTITIES;

const PLANET_ID = 0x7a7a_0000_0001n;
const MOON1_ID = 0x0000_00aa_bbcc_0001n;
const MOON2_ID = 0x0000_00aa_bbcc_0002n;

let planet: World;
let moon1: World;
let moon2: World;
let t: TestRoot;
let a: RawPeer;
let b: RawPeer;
let firstReplyCipher: number;
let laterReplyCipher: number;
const dirs: string[] = [];
const closers: (() => Promise<void>)[] = [];

function concat(...worlds: World[]): string {
  return worlds.map((w) => toHex(w.serialize())).join('');
}

beforeAll(async () => {
  const fakeEndpoint = { family: 4 as const, ip: Uint8Array.of(127, 0, 0, 1), port: 9993 };
  planet = makeWorld({ type: 'planet', id: PLANET_ID, timestamp: 2000n, roots: [{ identity: rootId, endpoints: [fakeEndpoint] }] });
  moon1 = makeWorld({ type: 'moon', id: MOON1_ID, timestamp: 5000n, roots: [{ identity: rootId, endpoints: [fakeEndpoint] }] });
  moon2 = makeWorld({ type: 'moon', id: MOON2_ID, timestamp: 7000n, roots: [{ identity: rootId, endpoints: [fakeEndpoint] }] });
  // two local IPs × two ports: four sockets, so "answered from the socket it arrived on" can fail
  t = await startTestRoot({ identity: rootId, planet, moons: [moon1, moon2], bind: ['127.0.0.1', '127.0.0.2'], ports: [0, 0] });
  closers.push(() => t.stop());
  dirs.push(t.home);
  a = await RawPeer.open(idA);
  b = await RawPeer.open(idB);
  closers.push(() => a.close(), () => b.close());
  firstReplyCipher = (await a.register(t.endpoint, rootId, { protocolVersion: 12 })).cipher;
  t.clock.advance(1000);
  laterReplyCipher = (await a.register(t.endpoint, rootId, { protocolVersion: 12 })).cipher;
  await b.register(t.endpoint, rootId);
});

afterAll(async () => {
  for (const c of closers.reverse()) await c();
  removeDirs(dirs);
});

describe('HELLO → OK(HELLO)', () => {
  it('serves four sockets on two loopback IPs', () => {
    expect(t.endpoints.map(formatInetAddress).map((s) => s.split('/')[0])).toEqual(['127.0.0.1', '127.0.0.1', '127.0.0.2', '127.0.0.2']);
    expect(new Set(t.endpoints.map((e) => e.port)).size).toBe(4);
  });

  it('answers each HELLO from the socket it arrived on, with the observed address and the echoed timestamp', async () => {
    for (const [i, ep] of t.endpoints.entries()) {
      t.clock.advance(1000); // past the 250 ms per-peer OK(HELLO) spacing
      const timestamp = 0x1122_3344_5500n + BigInt(i);
      const id = a.hello(ep, rootId, { timestamp });
      const r = await a.reply(rootId, id);
      expect(r.datagram.from).toEqual({ address: formatIp(ep), port: ep.port });
      expect(r.verb).toBe(Verb.OK);
      expect(r.source).toBe(rootId.address);
      expect(r.destination).toBe(idA.address);
      const ok = decodeOkHello(r.payload);
      expect(ok.ok).toBe(true);
      if (!ok.ok) return;
      expect(ok.value.inRePacketId).toBe(id);
      expect(ok.value.timestamp).toBe(timestamp);
      expect(ok.value.protocolVersion).toBe(ROOT_PROTOCOL_VERSION);
      expect([ok.value.majorVersion, ok.value.minorVersion, ok.value.revision]).toEqual([1, 14, 1]);
      expect(ok.value.externalAddress && formatInetAddress(ok.value.externalAddress)).toBe(formatInetAddress(a.endpoint));
      expect(ok.value.worlds?.length).toBe(0);
    }
    // the root now knows A on all four of its sockets
    expect(t.root.node.peers.get(idA.address)?.paths.size).toBe(4);
  });

  it('answers with Salsa20/12 (cipher 1) even a protocol-12 peer, first and later (1.14 accepts it from anyone; it is the cheaper suite here)', () => {
    expect(firstReplyCipher).toBe(Cipher.poly1305Salsa2012);
    expect(laterReplyCipher).toBe(Cipher.poly1305Salsa2012);
  });
});

describe('world updates in OK(HELLO)', () => {
  async function worldsFor(o: HelloOptions): Promise<string> {
    t.clock.advance(1000);
    const id = a.hello(t.endpoint, rootId, o);
    const r = await a.reply(rootId, id);
    const ok = decodeOkHello(r.payload);
    if (!ok.ok || !ok.value.worlds) throw new Error('OK(HELLO) without a world section');
    return toHex(ok.value.worlds);
  }

  it('includes the planet only when the HELLO names the same planet with an older timestamp', async () => {
    expect(await worldsFor({ planet: { id: PLANET_ID, timestamp: 1999n } })).toBe(concat(planet));
    expect(await worldsFor({ planet: { id: PLANET_ID, timestamp: 0n } })).toBe(concat(planet));
    expect(await worldsFor({ planet: { id: PLANET_ID, timestamp: 2000n } })).toBe('');
    expect(await worldsFor({ planet: { id: PLANET_ID, timestamp: 2001n } })).toBe('');
    expect(await worldsFor({ planet: { id: PLANET_ID + 1n, timestamp: 1n } })).toBe('');
  });

  it('includes every listed moon with an older timestamp (moon list obscured with cryptField)', async () => {
    expect(await worldsFor({ moons: [helloMoon(MOON1_ID, 4999n)] })).toBe(concat(moon1));
    expect(await worldsFor({ moons: [helloMoon(MOON1_ID, 5000n)] })).toBe('');
    expect(await worldsFor({ moons: [helloMoon(MOON1_ID, 9000n), helloMoon(MOON2_ID, 6999n)] })).toBe(concat(moon2));
    expect(await worldsFor({ moons: [helloMoon(MOON1_ID, 1n), helloMoon(MOON2_ID, 1n)] })).toBe(concat(moon1, moon2));
    // a moon the root does not have, and an entry that is not of the moon type, are ignored
    expect(await worldsFor({ moons: [helloMoon(0x1234n, 0n), helloMoon(MOON1_ID, 0n, 1)] })).toBe('');
  });

  it('includes a seeded moon (listed with timestamp 0), after the planet when both are due', async () => {
    expect(await worldsFor({ moons: [helloMoon(MOON2_ID, 0n)] })).toBe(concat(moon2));
    expect(await worldsFor({ planet: { id: PLANET_ID, timestamp: 1n }, moons: [helloMoon(MOON1_ID, 0n)] })).toBe(concat(planet, moon1));
  });

  it('a SimpleLeaf created with seeds receives the moon from the root and accepts it', async () => {
    const leafPlanet = makeWorld({ type: 'planet', id: PLANET_ID + 7n, timestamp: 1n, roots: [{ identity: rootId, endpoints: [t.endpoint] }] });
    const leaf = new SimpleLeaf({
      identity: idLeaf, planet: leafPlanet,
      seeds: [{ moonId: MOON2_ID, seed: rootId.address }],
      bind: ['127.0.0.1'], allowLoopbackPaths: true, pingIntervalMs: 100,
    });
    try {
      const arrived = once(leaf, 'world', { signal: AbortSignal.timeout(10_000) });
      await leaf.start();
      const [w] = (await arrived) as [World];
      expect(w.id).toBe(MOON2_ID);
      expect(toHex(w.serialize())).toBe(concat(moon2));
      expect(leaf.node.topology.moons.map((m) => m.id)).toEqual([MOON2_ID]);
      expect(leaf.node.topology.pendingSeeds.size).toBe(0);
      expect(leaf.online).toBe(true);
    } finally {
      await leaf.stop();
    }
  });
});

describe('identity collision', () => {
  it('answers a second identity claiming a known address with ERROR(IDENTITY_COLLISION); the first keeps it', async () => {
    const claimant = new Identity(idA.address, idClaimant.publicKey, idClaimant.privateKey);
    const c = await RawPeer.open(idClaimant);
    try {
      const drops = t.root.node.stats.drops.get('identity-collision') ?? 0;
      const helloId = c.hello(t.endpoint, rootId, { as: claimant });
      const r = await c.reply(rootId, helloId, { as: claimant });
      expect(r.verb).toBe(Verb.ERROR);
      expect(r.cipher).toBe(Cipher.poly1305Salsa2012);
      const e = decodeError(r.payload);
      expect(e.ok && e.value).toMatchObject({ inReVerb: Verb.HELLO, inRePacketId: helloId, errorCode: ErrorCode.IDENTITY_COLLISION });
      // armored for the claimant: the real owner's key does not open it
      expect(openPacket(r.datagram.data, a.keyWith(rootId))).toBeNull();
      expect(t.root.node.stats.drops.get('identity-collision')).toBe(drops + 1);
    } finally {
      await c.close();
    }
    expect(t.root.node.peers.get(idA.address)?.identity.equals(idA)).toBe(true);
    expect(t.root.store.get(idA.address)?.equals(idA)).toBe(true);
    const whoisId = b.send(t.endpoint, rootId, Verb.WHOIS, encodeWhois({ addresses: [idA.address] }));
    const ok = decodeOkWhois((await b.reply(rootId, whoisId)).payload);
    expect(ok.ok && ok.value.identities.map((i) => i.toString())).toEqual([idA.publicOnly().toString()]);
  });
});

describe('invalid identity', () => {
  it('never answers a HELLO whose address is not derived from its key, caches nothing and counts the drop', async () => {
    const s = t.root.node.stats;
    // another identity's keys under a neighbouring address: the MAC is valid, the proof of work is not
    const address = idInvalidKeys.address % 2 === 0 ? idInvalidKeys.address + 1 : idInvalidKeys.address - 1;
    const fake = new Identity(address, idInvalidKeys.publicKey, idInvalidKeys.privateKey);
    const before = { stored: t.root.store.size, invalid: s.validationsInvalid, drops: s.drops.get('invalid-identity') ?? 0 };

    a.hello(t.endpoint, rootId, { as: fake });
    await waitUntil(() => (s.drops.get('invalid-identity') ?? 0) === before.drops + 1, 'the invalid-identity drop');
    expect(s.validationsInvalid).toBe(before.invalid + 1); // the MAC passed, so validation ran

    // the same HELLO again: refused from memory, not validated a second time
    t.clock.advance(1000);
    a.hello(t.endpoint, rootId, { as: fake });
    await a.barrier(t.endpoint, rootId);
    expect(s.drops.get('invalid-identity')).toBe(before.drops + 2);
    expect(s.validationsInvalid).toBe(before.invalid + 1);

    // nothing was ever sent to the fake identity (the barrier orders everything before it)
    expect(a.pendingFrom(rootId, fake)).toEqual([]);
    expect(t.root.store.size).toBe(before.stored);
    expect(t.root.store.get(fake.address)).toBeUndefined();
    expect(t.root.node.peers.has(fake.address)).toBe(false);

    // and WHOIS does not know it
    const whoisId = b.send(t.endpoint, rootId, Verb.WHOIS, encodeWhois({ addresses: [fake.address] }));
    await b.barrier(t.endpoint, rootId);
    expect(b.pendingFrom(rootId).filter((p) => {
      const h = decodeOkHeader(p.payload);
      return h.ok && h.value.inRePacketId === whoisId;
    })).toEqual([]);
  });
});
