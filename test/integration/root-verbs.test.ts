// Root integration over real UDP on 127.0.0.1: WHOIS (several addresses in one request), ECHO,
// MULTICAST_LIKE and MULTICAST_GATHER (08-root-behaviour.md §3.4, 04-verbs.md §5, §9, §10, §13).

import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Address } from '../../src/identity/address.ts';
import { Verb } from '../../src/wire/constants.ts';
import type { MulticastGroup } from '../../src/wire/mac.ts';
import { decodeOkEcho, encodeEcho } from '../../src/wire/verbs/echo.ts';
import { decodeOkMulticastGather, encodeMulticastGather } from '../../src/wire/verbs/multicast-gather.ts';
import { encodeMulticastLike } from '../../src/wire/verbs/multicast-like.ts';
import { decodeOkHeader } from '../../src/wire/verbs/ok.ts';
import { decodeOkWhois, encodeWhois } from '../../src/wire/verbs/whois.ts';
import { RawPeer, removeDirs, startTestRoot, VECTOR_IDENTITIES, type TestRoot } from '../support/root-harness.ts';
import { toHex } from '../support/vectors.ts';

const [rootId, idA, idB, idC] = VECTOR_IDENTITIES;
/** Addresses no node here has (unreserved: first byte neither 0 nor 0xff). */
const UNKNOWN_1 = 0x01_0203_0405;
const UNKNOWN_2 = 0x3a_0000_0001;

let t: TestRoot;
let a: RawPeer;
let b: RawPeer;
let c: RawPeer;

beforeAll(async () => {
  t = await startTestRoot({ identity: rootId });
  [a, b, c] = await Promise.all([RawPeer.open(idA), RawPeer.open(idB), RawPeer.open(idC)]);
  for (const p of [a, b, c]) await p.register(t.endpoint, rootId);
});

afterAll(async () => {
  for (const p of [a, b, c]) await p?.close();
  await t?.stop();
  if (t) removeDirs([t.home]);
});

/** Packets from the root still in `p`'s inbox that answer `packetId`. */
function answersTo(p: RawPeer, packetId: bigint): number {
  return p.pendingFrom(rootId).filter((o) => {
    const h = decodeOkHeader(o.payload);
    return (o.verb === Verb.OK || o.verb === Verb.ERROR) && h.ok && h.value.inRePacketId === packetId;
  }).length;
}

describe('WHOIS', () => {
  it('answers several addresses in one OK(WHOIS), in request order, the root itself included, unknown ones left out', async () => {
    const id = a.send(t.endpoint, rootId, Verb.WHOIS, encodeWhois({ addresses: [idB.address, UNKNOWN_1, rootId.address, idA.address, idC.address] }));
    const r = await a.reply(rootId, id);
    expect(r.verb).toBe(Verb.OK);
    const ok = decodeOkWhois(r.payload);
    expect(ok.ok).toBe(true);
    if (!ok.ok) return;
    expect(ok.value.inRePacketId).toBe(id);
    expect(ok.value.identities.map((i) => i.toString())).toEqual([idB, rootId, idA, idC].map((i) => i.publicOnly().toString()));
    await a.barrier(t.endpoint, rootId);
    expect(answersTo(a, id)).toBe(0); // exactly one reply
  });

  it('sends nothing when none of the addresses is known', async () => {
    const id = a.send(t.endpoint, rootId, Verb.WHOIS, encodeWhois({ addresses: [UNKNOWN_1, UNKNOWN_2] }));
    await a.barrier(t.endpoint, rootId);
    expect(answersTo(a, id)).toBe(0);
  });
});

describe('ECHO', () => {
  it('answers OK(ECHO) with the same payload (empty, random, and one long enough to be compressed)', async () => {
    for (const payload of [new Uint8Array(0), new Uint8Array(randomBytes(40)), new Uint8Array(600).fill(0x5a)]) {
      t.clock.advance(1000); // past the 500 ms per-peer OK(ECHO) spacing
      const id = a.send(t.endpoint, rootId, Verb.ECHO, encodeEcho({ payload }));
      const r = await a.reply(rootId, id);
      expect(r.verb).toBe(Verb.OK);
      const ok = decodeOkEcho(r.payload);
      expect(ok.ok && ok.value.inRePacketId).toBe(id);
      expect(ok.ok && toHex(ok.value.payload)).toBe(toHex(payload));
      if (payload.length === 600) expect(r.datagram.data.length).toBeLessThan(28 + 9 + 600); // it was compressed
    }
  });
});

describe('MULTICAST_LIKE and MULTICAST_GATHER', () => {
  const NWID = 0x8056_c2e2_1c00_0001n;
  const BROADCAST_10_0_0_1: MulticastGroup = { mac: 0xffff_ffff_ffff, adi: 0x0a00_0001 };
  const NDP: MulticastGroup = { mac: 0x3333_ff00_0001, adi: 0 };
  const NOBODY: MulticastGroup = { mac: 0x0100_5e00_0001, adi: 0 };

  function gather(p: RawPeer, group: MulticastGroup, gatherLimit: number): bigint {
    return p.send(t.endpoint, rootId, Verb.MULTICAST_GATHER, encodeMulticastGather({ networkId: NWID, flags: 0, group, gatherLimit }));
  }

  async function gathered(p: RawPeer, group: MulticastGroup, limit: number): Promise<{ totalKnown: number; members: Address[] }> {
    const id = gather(p, group, limit);
    const ok = decodeOkMulticastGather((await p.reply(rootId, id)).payload);
    if (!ok.ok) throw new Error(`bad OK(MULTICAST_GATHER): ${ok.error}`);
    expect(ok.value.inRePacketId).toBe(id);
    expect(ok.value.networkId).toBe(NWID);
    expect(ok.value.group).toEqual(group);
    return { totalKnown: ok.value.totalKnown, members: [...ok.value.members] };
  }

  beforeAll(async () => {
    b.send(t.endpoint, rootId, Verb.MULTICAST_LIKE, encodeMulticastLike({ subscriptions: [{ networkId: NWID, group: BROADCAST_10_0_0_1 }] }));
    c.send(t.endpoint, rootId, Verb.MULTICAST_LIKE, encodeMulticastLike({
      subscriptions: [{ networkId: NWID, group: BROADCAST_10_0_0_1 }, { networkId: NWID, group: NDP }],
    }));
    await b.barrier(t.endpoint, rootId);
    await c.barrier(t.endpoint, rootId);
  });

  it('stores every subscription of a LIKE', () => {
    expect(t.root.multicast.groupCount).toBe(2);
  });

  it('answers GATHER with the other subscribers and the total known', async () => {
    const all = await gathered(a, BROADCAST_10_0_0_1, 10);
    expect(all.totalKnown).toBe(2);
    expect(all.members.sort()).toEqual([idB.address, idC.address].sort());
  });

  it('caps the members at the requested limit', async () => {
    const one = await gathered(a, BROADCAST_10_0_0_1, 1);
    expect(one.totalKnown).toBe(2);
    expect(one.members).toHaveLength(1);
    expect([idB.address, idC.address]).toContain(one.members[0]);
  });

  it('leaves the requester out', async () => {
    const fromB = await gathered(b, BROADCAST_10_0_0_1, 10);
    expect(fromB).toEqual({ totalKnown: 1, members: [idC.address] });
  });

  it('sends nothing when the group has no subscriber other than the requester', async () => {
    const none = gather(a, NOBODY, 10);
    await a.barrier(t.endpoint, rootId);
    expect(answersTo(a, none)).toBe(0);
    const onlySelf = gather(c, NDP, 10);
    await c.barrier(t.endpoint, rootId);
    expect(answersTo(c, onlySelf)).toBe(0);
  });
});
