// A root whose batch UDP addon answers known peers' HELLOs itself (native/src/hello_fast.h), over
// real UDP on 127.0.0.1: a known peer is answered natively with what TypeScript would send; the
// cases the native path leaves to TypeScript still behave (a planet or moon the peer holds an
// older copy of is delivered, a bad MAC is counted, a new identity is admitted); HELLOs inside the
// 250 ms reply spacing are counted as rate-limited; and with nativeHello off nothing is native.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeHelloAvailability } from '../../src/node/native-hello.ts';
import { ROOT_PROTOCOL_VERSION } from '../../src/root/root-server.ts';
import { Cipher, PacketOffset, Verb } from '../../src/wire/constants.ts';
import { formatIp } from '../../src/wire/inet-address.ts';
import { decodeOkHello } from '../../src/wire/verbs/hello.ts';
import { decodeOkHeader } from '../../src/wire/verbs/ok.ts';
import type { World } from '../../src/world/world.ts';
import {
  helloMoon, makeWorld, RawPeer, removeDirs, startTestRoot, VECTOR_IDENTITIES, waitUntil, type TestRoot,
} from '../support/root-harness.ts';
import { toHex } from '../support/vectors.ts';

const [rootId, idA, idB, idC] = VECTOR_IDENTITIES;
const PLANET_ID = 0x7a7a_0000_0002n;
const MOON_ID = 0x0000_00aa_bbcc_0009n;
/** Past the root's 250 ms OK(HELLO) spacing per peer. */
const SPACED_MS = 300;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const available = nativeHelloAvailability();

describe.skipIf(!available.ok)('root with the native HELLO path', () => {
  let planet: World;
  let moon: World;
  let t: TestRoot;
  let a: RawPeer;
  const closers: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    const endpoint = { family: 4 as const, ip: Uint8Array.of(127, 0, 0, 1), port: 9993 };
    planet = makeWorld({ type: 'planet', id: PLANET_ID, timestamp: 2000n, roots: [{ identity: rootId, endpoints: [endpoint] }] });
    moon = makeWorld({ type: 'moon', id: MOON_ID, timestamp: 5000n, roots: [{ identity: rootId, endpoints: [endpoint] }] });
    t = await startTestRoot({ identity: rootId, planet, moons: [moon], nativeUdp: 'on', systemClock: true });
    closers.push(async () => { await t.stop(); removeDirs([t.home]); });
    a = await RawPeer.open(idA);
    closers.push(() => a.close());
    await a.register(t.endpoint, rootId, { planet: { id: PLANET_ID, timestamp: 2000n }, moons: [helloMoon(MOON_ID, 5000n)] }); // new identity: TypeScript admits it
  });

  afterAll(async () => {
    for (const c of closers.reverse()) await c();
  });

  const current = { planet: { id: PLANET_ID, timestamp: 2000n }, moons: [helloMoon(MOON_ID, 5000n)] };

  it('answers a known peer natively: its observed address, the echoed timestamp, no worlds, Salsa20/12', async () => {
    const table = t.root.node.nativeHello!;
    expect(table).toBeDefined();
    await sleep(SPACED_MS);
    const before = table.answered;
    const id = a.hello(t.endpoint, rootId, { ...current, timestamp: 0x5566n });
    const r = await a.reply(rootId, id);
    expect(table.answered).toBe(before + 1);
    expect(r.cipher).toBe(Cipher.poly1305Salsa2012);
    const ok = decodeOkHello(r.payload);
    expect(ok.ok).toBe(true);
    if (!ok.ok) return;
    expect(ok.value).toMatchObject({ timestamp: 0x5566n, protocolVersion: ROOT_PROTOCOL_VERSION, majorVersion: 1, minorVersion: 14, revision: 1 });
    expect(formatIp(ok.value.externalAddress as { family: 4; ip: Uint8Array; port: number })).toBe('127.0.0.1');
    expect(ok.value.externalAddress).toMatchObject({ port: a.endpoint.port });
    expect(ok.value.worlds?.length).toBe(0);
  });

  it('books the natively answered peer in the node: HELLO and OK counted, path known', async () => {
    await sleep(SPACED_MS);
    const id = a.hello(t.endpoint, rootId, current);
    await a.reply(rootId, id);
    const stats = t.root.node.stats.collect();
    expect(stats.verbsIn.get('HELLO')).toBeGreaterThanOrEqual(3);
    expect(stats.verbsOut.get('OK')).toBeGreaterThanOrEqual(3);
    const peer = t.root.node.peers.get(idA.address)!;
    expect(peer.hasPath(a.endpoint, t.root.node.transport.sockets[0])).toBe(true);
  });

  it('counts HELLOs inside the reply spacing as rate-limited and answers at most one of a burst', async () => {
    await sleep(SPACED_MS);
    const table = t.root.node.nativeHello!;
    const limited = (): number => t.root.node.stats.collect().drops.get('rate-limited') ?? 0;
    const before = { limited: limited(), answered: table.answered };
    // the root runs on this thread: the three arrive together and are read as one batch
    for (let i = 0; i < 3; i++) a.hello(t.endpoint, rootId, current);
    await waitUntil(() => limited() + table.answered - before.limited - before.answered === 3, 'three HELLOs settled');
    expect(table.answered - before.answered).toBeLessThanOrEqual(1);
    expect(limited() - before.limited).toBeGreaterThanOrEqual(2);
  });

  it('leaves a HELLO naming an older planet or moon to TypeScript, which sends the world', async () => {
    await sleep(SPACED_MS);
    const table = t.root.node.nativeHello!;
    const before = table.answered;
    const id = a.hello(t.endpoint, rootId, { planet: { id: PLANET_ID, timestamp: 1000n }, moons: [helloMoon(MOON_ID, 1n)] });
    const r = await a.reply(rootId, id);
    const ok = decodeOkHello(r.payload);
    expect(ok.ok && toHex(ok.value.worlds!)).toBe(toHex(planet.serialize()) + toHex(moon.serialize()));
    expect(table.answered).toBe(before);
    // and the native path takes the peer's next HELLO again
    await sleep(SPACED_MS);
    await a.reply(rootId, a.hello(t.endpoint, rootId, current));
    expect(table.answered).toBe(before + 1);
  });

  it('counts a HELLO with a bad MAC and does not answer it', async () => {
    await sleep(SPACED_MS);
    const drops = (): number => t.root.node.stats.drops.get('bad-mac') ?? 0;
    const before = drops();
    const waiting = a.inbox.length;
    const forged = helloBytes(a, current); // a real HELLO with one MAC byte changed
    forged[PacketOffset.mac] ^= 1;
    a.sendRaw(t.endpoint, forged);
    await waitUntil(() => drops() > before, 'the bad MAC counted');
    expect(drops()).toBe(before + 1);
    await sleep(50);
    expect(a.inbox.length).toBe(waiting);
  });

  it('answers a second new identity through TypeScript, then natively', async () => {
    const c = await RawPeer.open(idC);
    try {
      await c.register(t.endpoint, rootId, current);
      const table = t.root.node.nativeHello!;
      const before = table.answered;
      await sleep(SPACED_MS);
      await c.reply(rootId, c.hello(t.endpoint, rootId, current));
      expect(table.answered).toBe(before + 1);
    } finally {
      await c.close();
    }
  });

  it('with nativeHello off, every HELLO takes the TypeScript path', async () => {
    const off = await startTestRoot({ identity: rootId, planet, moons: [moon], nativeUdp: 'on', systemClock: true, nativeHello: 'off' });
    const b = await RawPeer.open(idB);
    try {
      expect(off.root.node.nativeHello).toBeUndefined();
      await b.register(off.endpoint, rootId, current);
      await sleep(SPACED_MS);
      const r = await b.reply(rootId, b.hello(off.endpoint, rootId, current));
      const h = decodeOkHeader(r.payload);
      expect(h.ok && h.value.inReVerb).toBe(Verb.HELLO);
    } finally {
      await b.close();
      await off.stop();
      removeDirs([off.home]);
    }
  });
});

/** The bytes of a HELLO `peer` would send (sent nowhere). */
function helloBytes(peer: RawPeer, o: Parameters<RawPeer['hello']>[2]): Uint8Array {
  let captured: Uint8Array | undefined;
  const send = peer.sendRaw.bind(peer);
  peer.sendRaw = (_to, d) => { captured = Uint8Array.from(d); };
  try {
    peer.hello({ family: 4, ip: Uint8Array.of(127, 0, 0, 1), port: 1 }, rootId, o);
  } finally {
    peer.sendRaw = send;
  }
  return captured!;
}
