// RENDEZVOUS over real UDP on 127.0.0.1 (08-root-behaviour.md §3.5-§3.6, 04-verbs.md §6): the
// first packet a root relays between two leaves makes it introduce each to the other, at most
// once per pair per 30 s; SimpleLeafs then reach a direct path and stop using the relay.

import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimpleLeaf } from '../../src/leaf/simple-leaf.ts';
import { Verb } from '../../src/wire/constants.ts';
import type { PeerKey } from '../../src/wire/peer-key.ts';
import { formatInetAddress } from '../../src/wire/inet-address.ts';
import type { Frame } from '../../src/wire/verbs/frame.ts';
import { encodeFrame } from '../../src/wire/verbs/frame.ts';
import { encodeOkHello } from '../../src/wire/verbs/hello.ts';
import { decodeRendezvous } from '../../src/wire/verbs/rendezvous.ts';
import { endpointOf, makeWorld, openPacket, RawPeer, removeDirs, startTestRoot, VECTOR_IDENTITIES, waitUntil, type TestRoot } from '../support/root-harness.ts';
import { toHex } from '../support/vectors.ts';

const [rootId, idA, idB, idLeaf1, idLeaf2] = VECTOR_IDENTITIES;
const NWID = 0x8056_c2e2_1c00_0001n;

let t: TestRoot;

beforeAll(async () => {
  t = await startTestRoot({ identity: rootId });
});

afterAll(async () => {
  await t?.stop();
  if (t) removeDirs([t.home]);
});

function frame(payload: Uint8Array): Uint8Array {
  return encodeFrame({ networkId: NWID, etherType: 0x0800, payload });
}

describe('RENDEZVOUS for a relayed pair (raw peers)', () => {
  let a: RawPeer;
  let b: RawPeer;

  beforeAll(async () => {
    [a, b] = await Promise.all([RawPeer.open(idA), RawPeer.open(idB)]);
    await a.register(t.endpoint, rootId);
    await b.register(t.endpoint, rootId);
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  /** RENDEZVOUS packets from the root in `p`'s inbox, decoded, and taken out of the inbox. */
  function takeRendezvous(p: RawPeer): { peer: number; address: string }[] {
    const key = p.keyWith(rootId);
    const out: { peer: number; address: string }[] = [];
    for (let i = p.inbox.length - 1; i >= 0; i--) {
      const d = p.inbox[i];
      const o = d && openRendezvous(d.data, key);
      if (o) {
        out.unshift(o);
        p.inbox.splice(i, 1);
      }
    }
    return out;
  }

  function openRendezvous(data: Uint8Array, key: PeerKey): { peer: number; address: string } | undefined {
    const o = openPacket(data, key);
    if (!o || o.verb !== Verb.RENDEZVOUS) return undefined;
    const r = decodeRendezvous(o.payload);
    if (!r.ok || !r.value.address) throw new Error('undecodable RENDEZVOUS');
    return { peer: r.value.peer, address: formatInetAddress(r.value.address) };
  }

  async function relayAtoB(): Promise<void> {
    const p = a.packet(idB, Verb.FRAME, frame(new Uint8Array(randomBytes(32))));
    a.sendRaw(t.endpoint, p);
    await b.next((d) => toHex(d.data.subarray(0, 8)) === toHex(p.subarray(0, 8)), 'the relayed packet');
    // everything the root sent either side because of it is now in their inboxes
    await a.barrier(t.endpoint, rootId);
    await b.barrier(t.endpoint, rootId);
  }

  it('introduces both sides, each with the other\'s address, after the first relayed packet', async () => {
    const sent = t.root.node.stats.rendezvousSent;
    await relayAtoB();
    expect(takeRendezvous(a)).toEqual([{ peer: idB.address, address: formatInetAddress(b.endpoint) }]);
    expect(takeRendezvous(b)).toEqual([{ peer: idA.address, address: formatInetAddress(a.endpoint) }]);
    expect(t.root.node.stats.rendezvousSent).toBe(sent + 2);
  });

  it('does not introduce the same pair again within the interval (either direction)', async () => {
    const sent = t.root.node.stats.rendezvousSent;
    await relayAtoB();
    const p = b.packet(idA, Verb.FRAME, frame(new Uint8Array(8)));
    b.sendRaw(t.endpoint, p);
    await a.next((d) => toHex(d.data.subarray(0, 8)) === toHex(p.subarray(0, 8)), 'the packet relayed back');
    await a.barrier(t.endpoint, rootId);
    await b.barrier(t.endpoint, rootId);
    expect(takeRendezvous(a)).toEqual([]);
    expect(takeRendezvous(b)).toEqual([]);
    expect(t.root.node.stats.rendezvousSent).toBe(sent);
  });
});

describe('SimpleLeafs follow RENDEZVOUS to a direct path', () => {
  let leaf1: SimpleLeaf;
  let leaf2: SimpleLeaf;

  beforeAll(async () => {
    const planet = makeWorld({ type: 'planet', id: 0x7a7a_0000_0099n, timestamp: 1n, roots: [{ identity: rootId, endpoints: [t.endpoint] }] });
    const options = { planet, bind: ['127.0.0.1'], allowLoopbackPaths: true, pingIntervalMs: 100 };
    leaf1 = new SimpleLeaf({ ...options, identity: idLeaf1 });
    leaf2 = new SimpleLeaf({ ...options, identity: idLeaf2 });
    const online = [once(leaf1, 'online', { signal: AbortSignal.timeout(10_000) }), once(leaf2, 'online', { signal: AbortSignal.timeout(10_000) })];
    await leaf1.start();
    await leaf2.start();
    await Promise.all(online);
  });

  afterAll(async () => {
    await leaf1?.stop();
    await leaf2?.stop();
  });

  async function sendAndReceive(payload: Uint8Array): Promise<{ how: string; relayed: boolean }> {
    const got = once(leaf2, 'frame', { signal: AbortSignal.timeout(10_000) });
    const how = await leaf1.sendFrame(leaf2.address, { networkId: NWID, etherType: 0x0800, payload });
    const [source, f, relayed] = (await got) as [number, Frame, boolean];
    expect(source).toBe(leaf1.address);
    expect(toHex(f.payload)).toBe(toHex(payload));
    return { how, relayed };
  }

  it('relays the first frame, introduces the leaves, and carries a later frame directly', async () => {
    const stats = t.root.node.stats;
    const sent = stats.rendezvousSent;
    expect(await sendAndReceive(Uint8Array.of(1, 2, 3))).toEqual({ how: 'relayed', relayed: true });
    await waitUntil(() => stats.rendezvousSent === sent + 2, 'RENDEZVOUS to both leaves');

    const p1 = (): string | undefined => { const p = leaf1.node.peers.get(leaf2.address)?.bestPath(); return p && formatInetAddress(p.remote); };
    const p2 = (): string | undefined => { const p = leaf2.node.peers.get(leaf1.address)?.bestPath(); return p && formatInetAddress(p.remote); };
    const leaf1At = `127.0.0.1/${leaf1.sockets[0].port}`;
    const leaf2At = `127.0.0.1/${leaf2.sockets[0].port}`;
    await waitUntil(() => p1() === leaf2At && p2() === leaf1At, 'a direct path both ways');

    const forwarded = stats.relay.get('forwarded') ?? 0;
    expect(await sendAndReceive(Uint8Array.of(4, 5, 6))).toEqual({ how: 'direct', relayed: false });
    expect(stats.relay.get('forwarded') ?? 0).toBe(forwarded);
  });
});

describe('leaf path rules (1.14: a path is learned from a direct OK only)', () => {
  it('answers a HELLO without learning its path, probes it with a HELLO, and learns it from the OK', async () => {
    const [, , , , , idLeaf3, idX] = VECTOR_IDENTITIES;
    const leaf = new SimpleLeaf({ identity: idLeaf3, bind: ['127.0.0.1'], allowLoopbackPaths: true, pingIntervalMs: 100 });
    const x = await RawPeer.open(idX);
    try {
      await leaf.start();
      const leafAt = endpointOf(leaf.sockets[0]);
      const helloId = x.hello(leafAt, idLeaf3);
      const ok = await x.reply(idLeaf3, helloId);
      expect(ok.verb).toBe(Verb.OK);
      const probe = await x.nextFrom(idLeaf3, (o) => o.verb === Verb.HELLO, 'the leaf\'s HELLO probing the new path');
      expect(leaf.node.peers.get(idX.address)?.paths.size).toBe(0);

      // HELLO payload: protocol, major, minor, revision (u16), then the u64 timestamp to echo
      const timestamp = new DataView(probe.payload.buffer, probe.payload.byteOffset).getBigUint64(5);
      x.send(leafAt, idLeaf3, Verb.OK, encodeOkHello({
        inRePacketId: probe.packetId, timestamp, protocolVersion: 12,
        majorVersion: 1, minorVersion: 14, revision: 1, externalAddress: leafAt, worlds: new Uint8Array(0),
      }));
      await waitUntil(() => (leaf.node.peers.get(idX.address)?.paths.size ?? 0) > 0, 'the path learned from the OK');
      const path = leaf.node.peers.get(idX.address)!.bestPath()!;
      expect(formatInetAddress(path.remote)).toBe(formatInetAddress(x.endpoint));
    } finally {
      await x.close();
      await leaf.stop();
    }
  });
});
