// A root is a node of the planet it lives in (docs: 08-root-behaviour.md §1.2, §4; 05-world-moons.md
// §6.3): it HELLOs that planet's roots at their stable endpoints, re-HELLOs on 1.14's schedule,
// answers what they relay to it, follows their RENDEZVOUS and takes newer signed revisions of the
// planet from them. Here the planet's root is a RawPeer on 127.0.0.1 that the test drives by hand.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../src/crypto/c25519.ts';
import { HOME_FILES } from '../../src/root/home.ts';
import { UPSTREAM_TIMERS } from '../../src/node/upstreams.ts';
import { Verb } from '../../src/wire/constants.ts';
import { decodeOkHello, encodeOkHello } from '../../src/wire/verbs/hello.ts';
import { decodeOkHeader } from '../../src/wire/verbs/ok.ts';
import { encodeRendezvous } from '../../src/wire/verbs/rendezvous.ts';
import { World } from '../../src/world/world.ts';
import {
  makeWorld, openPacket, RawPeer, removeDirs, startTestRoot, VECTOR_IDENTITIES, waitUntil, type Opened, type TestRoot,
} from '../support/root-harness.ts';

const [planetRootId, moonRootId, leafId] = VECTOR_IDENTITIES;
const PLANET_ID = 0x1ab_0000_0000_0077n;
const signer = generateKeyPair();

/** Every HELLO from the moon root in the upstream's inbox, opened, and taken out of it. */
function takeHellos(up: RawPeer): (Opened & { from: string })[] {
  const key = up.keyWith(moonRootId);
  const out: (Opened & { from: string })[] = [];
  for (let i = 0; i < up.inbox.length;) {
    const o = openPacket(up.inbox[i].data, key);
    if (o && o.verb === Verb.HELLO && o.source === moonRootId.address) {
      out.push({ ...o, from: `${up.inbox[i].from.address}/${up.inbox[i].from.port}` });
      up.inbox.splice(i, 1);
    } else i++;
  }
  return out;
}

function planetRevision(up: RawPeer, timestamp: bigint, sign = signer): World {
  return makeWorld({ type: 'planet', id: PLANET_ID, timestamp, roots: [{ identity: planetRootId, endpoints: [up.endpoint] }], signer: sign });
}

/** The upstream answers a HELLO with OK(HELLO), optionally carrying worlds. */
function answerHello(up: RawPeer, t: TestRoot, hello: Opened, worlds?: Uint8Array): void {
  up.send(t.endpoint, moonRootId, Verb.OK, encodeOkHello({
    inRePacketId: hello.packetId, timestamp: 0n, protocolVersion: 12, majorVersion: 1, minorVersion: 14, revision: 1,
    externalAddress: t.endpoint, worlds: worlds ?? new Uint8Array(0),
  }));
}

describe('a moon root living in a planet (upstream played by a raw peer)', () => {
  let up: RawPeer;
  let leaf: RawPeer;
  let t: TestRoot;

  beforeAll(async () => {
    up = await RawPeer.open(planetRootId);
    leaf = await RawPeer.open(leafId);
    const moon = makeWorld({ type: 'moon', id: BigInt(moonRootId.address), timestamp: 1n, roots: [{ identity: moonRootId, endpoints: [] }] });
    t = await startTestRoot({ identity: moonRootId, planet: planetRevision(up, 100n), moons: [moon] });
  });

  afterAll(async () => {
    await t?.stop();
    await up?.close();
    await leaf?.close();
    if (t) removeDirs([t.home]);
  });

  it('HELLOs the planet root at its stable endpoint at start, and every ping check until it answers', async () => {
    await up.next(() => true, 'first HELLO from the moon root');
    const contact = t.root.upstreamContact!;
    contact.tick();
    await waitUntil(() => up.inbox.length >= 1, 'second HELLO');
    const hellos = takeHellos(up);
    expect(hellos.length).toBeGreaterThanOrEqual(1);
    for (const h of hellos) expect(h.destination).toBe(planetRootId.address);
    expect(t.root.upstreamStatus()[0]).toMatchObject({ address: planetRootId.address, role: 'PLANET', reachable: false });
    answerHello(up, t, hellos.at(-1)!);
    await waitUntil(() => t.root.upstreamStatus()[0].reachable, 'the upstream to count as answered');
    expect(t.root.upstreamStatus()[0].path).toBe(`127.0.0.1/${up.endpoint.port}`);
  });

  it('once answered, stays quiet for 224 s, then sends one full HELLO on the live path', async () => {
    const contact = t.root.upstreamContact!;
    takeHellos(up);
    t.clock.advance(10_000);
    contact.tick();
    await up.barrier(t.endpoint, moonRootId);
    expect(takeHellos(up)).toHaveLength(0);
    t.clock.advance(UPSTREAM_TIMERS.upstreamHelloIntervalMs - 10_000 + 1_000);
    // the path was last heard 225 s ago by the new clock: still live (243 s), so HELLO on it
    const before = contact.hellosSent;
    contact.tick();
    expect(contact.hellosSent).toBe(before + 1);
    const again = await up.next(() => true, 'the periodic HELLO');
    const o = openPacket(again.data, up.keyWith(moonRootId));
    expect(o?.verb).toBe(Verb.HELLO);
  });

  it('answers a HELLO the planet root relayed from a leaf, back through the planet root', async () => {
    takeHellos(up);
    // the leaf's HELLO arrives from the upstream's socket with one hop, as a relay sends it
    const id = up.hello(t.endpoint, moonRootId, { as: leafId, hops: 1 });
    const r = await up.next((d) => {
      const o = openPacket(d.data, up.keyWith(moonRootId, leafId));
      return o !== null && o.destination === leafId.address && o.verb === Verb.OK;
    }, 'OK(HELLO) for the leaf, sent to the relay', 15_000);
    const o = openPacket(r.data, up.keyWith(moonRootId, leafId))!;
    const ok = decodeOkHello(o.payload);
    expect(ok.ok && ok.value.inRePacketId).toBe(id);
  });

  it('follows a RENDEZVOUS from the planet root to a leaf it knows, and ignores one from anyone else', async () => {
    // from a non-upstream: nothing (the barrier shows the root handled it)
    leaf.send(t.endpoint, moonRootId, Verb.RENDEZVOUS, encodeRendezvous({ peer: leafId.address, address: leaf.endpoint }), { as: leafId });
    // from the upstream: the root contacts the leaf at the given address (ECHO: its version is known)
    up.send(t.endpoint, moonRootId, Verb.RENDEZVOUS, encodeRendezvous({ peer: leafId.address, address: leaf.endpoint }));
    const d = await leaf.next((x) => openPacket(x.data, leaf.keyWith(moonRootId)) !== null, 'contact after RENDEZVOUS');
    const o = openPacket(d.data, leaf.keyWith(moonRootId))!;
    expect(o.verb).toBe(Verb.ECHO);
    expect(o.hops).toBe(0);
    // its OK teaches the root a direct path: a relayed request from the leaf is now answered directly
    leaf.send(t.endpoint, moonRootId, Verb.OK, new Uint8Array([Verb.ECHO, ...bytes64(o.packetId)]));
    await waitUntil(() => t.root.node.peers.get(leafId.address)?.bestPath() !== undefined, 'a direct path to the leaf');
    const id = up.hello(t.endpoint, moonRootId, { as: leafId, hops: 1 });
    t.clock.advance(1000); // past the per-peer OK(HELLO) spacing
    const r = await leaf.next((x) => {
      const p = openPacket(x.data, leaf.keyWith(moonRootId));
      if (!p || p.verb !== Verb.OK) return false;
      const h = decodeOkHeader(p.payload);
      return h.ok && h.value.inRePacketId === id;
    }, 'OK(HELLO) straight to the leaf');
    expect(r.from.port).toBe(t.endpoint.port);
    expect(leaf.inbox.filter((x) => openPacket(x.data, leaf.keyWith(moonRootId))?.verb === Verb.RENDEZVOUS)).toHaveLength(0);
  });

  it('takes a newer planet signed by the current key from the upstream and saves it; refuses a wrongly signed one', async () => {
    takeHellos(up);
    const contact = t.root.upstreamContact!;
    t.clock.advance(UPSTREAM_TIMERS.pathExpirationMs + 1000); // path dead: HELLO the endpoint
    contact.tick();
    const [h1] = await waitFor(() => takeHellos(up));
    answerHello(up, t, h1, planetRevision(up, 50n, generateKeyPair()).serialize());
    const forged = planetRevision(up, 300n, generateKeyPair());
    answerHello(up, t, h1, forged.serialize());
    await up.barrier(t.endpoint, moonRootId);
    expect(t.root.topology.planet!.timestamp).toBe(100n);
    const newer = planetRevision(up, 200n);
    answerHello(up, t, h1, newer.serialize());
    await waitUntil(() => t.root.topology.planet!.timestamp === 200n, 'the newer planet');
    expect(new Uint8Array(readFileSync(join(t.home, HOME_FILES.planet)))).toEqual(newer.serialize());
    // an OK that answers nothing we sent changes nothing
    up.send(t.endpoint, moonRootId, Verb.OK, encodeOkHello({
      inRePacketId: 0x1234_5678_9abc_def0n, timestamp: 0n, protocolVersion: 12, majorVersion: 1, minorVersion: 14, revision: 1,
      externalAddress: t.endpoint, worlds: planetRevision(up, 400n).serialize(),
    }));
    await up.barrier(t.endpoint, moonRootId);
    expect(t.root.topology.planet!.timestamp).toBe(200n);
    expect(existsSync(join(t.home, HOME_FILES.planet))).toBe(true);
  });
});

describe('several packet threads', () => {
  it('take an OK(HELLO) from the upstream on whichever thread the kernel hands it to', async () => {
    const up = await RawPeer.open(planetRootId);
    const t = await startTestRoot({ identity: moonRootId, planet: planetRevision(up, 100n), workers: 2 });
    // answer from eight source ports: SO_REUSEPORT spreads them over both threads
    const extra = await Promise.all(Array.from({ length: 8 }, () => RawPeer.open(planetRootId)));
    try {
      const d = await up.next((x) => openPacket(x.data, up.keyWith(moonRootId))?.verb === Verb.HELLO, 'HELLO from the root');
      const hello = openPacket(d.data, up.keyWith(moonRootId))!;
      for (const [k, p] of extra.entries()) {
        const ts = 200n + BigInt(k);
        answerHello(p, t, hello, planetRevision(up, ts).serialize());
        await waitUntil(() => t.root.topology.planet!.timestamp === ts, `planet revision ${ts} through socket ${k}`);
      }
      await waitUntil(() => t.root.upstreamStatus()[0].reachable, 'upstream reachable');
    } finally {
      await t.stop();
      await Promise.all([up, ...extra].map((p) => p.close()));
      removeDirs([t.home]);
    }
  });
});

async function waitFor<T>(take: () => T[], timeoutMs = 5000): Promise<T[]> {
  let got: T[] = [];
  await waitUntil(() => (got = take()).length > 0, 'packets', timeoutMs);
  return got;
}

function bytes64(v: bigint): number[] {
  return Array.from({ length: 8 }, (_, i) => Number((v >> BigInt(56 - 8 * i)) & 0xffn));
}
