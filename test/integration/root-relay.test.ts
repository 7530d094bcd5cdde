// Root relaying over real UDP on 127.0.0.1 (08-root-behaviour.md §3.5, 03-packet.md §8): packets
// and fragments for another known leaf are forwarded with the hop count incremented (byte 18 for
// heads, byte 15 for fragments), dropped at the hop limit, dropped when the destination is
// unknown, or handed to a sibling root when one is configured. Every outcome is counted.

import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Address } from '../../src/identity/address.ts';
import { writeAddress } from '../../src/identity/address.ts';
import type { RelayOutcome, DropReason } from '../../src/node/stats.ts';
import { FRAGMENT_INDICATOR, FragmentOffset, HeaderFlag, PacketOffset, RELAY_MAX_HOPS, Verb } from '../../src/wire/constants.ts';
import { Reassembler } from '../../src/wire/fragment.ts';
import { newPacket } from '../../src/wire/packet.ts';
import { decodeFrame, encodeFrame } from '../../src/wire/verbs/frame.ts';
import {
  openPacket, RawPeer, removeDirs, startTestRoot, VECTOR_IDENTITIES, type Datagram, type TestRoot,
} from '../support/root-harness.ts';
import { toHex } from '../support/vectors.ts';

const [rootId, idA, idB, idSiblingRoot, idSibling, idStranger] = VECTOR_IDENTITIES;
const UNKNOWN = 0x3b_0000_0042;
const NWID = 0x8056_c2e2_1c00_0001n;

let t: TestRoot;
let a: RawPeer;
let b: RawPeer;

beforeAll(async () => {
  t = await startTestRoot({ identity: rootId });
  [a, b] = await Promise.all([RawPeer.open(idA), RawPeer.open(idB)]);
  await a.register(t.endpoint, rootId);
  await b.register(t.endpoint, rootId);
});

afterAll(async () => {
  for (const p of [a, b]) await p?.close();
  await t?.stop();
  if (t) removeDirs([t.home]);
});

function counters(r: TestRoot): { relay: (o: RelayOutcome) => number; drop: (d: DropReason) => number } {
  const s = r.root.node.stats;
  return { relay: (o) => s.relay.get(o) ?? 0, drop: (d) => s.drops.get(d) ?? 0 };
}

/** Same packet ID (bytes 0..7), for heads and fragments alike. */
function sameId(x: Uint8Array, y: Uint8Array): boolean {
  return toHex(x.subarray(0, 8)) === toHex(y.subarray(0, 8));
}

/** `d` with the hop count at `offset` replaced. */
function withHops(d: Uint8Array, offset: number, hops: number): Uint8Array {
  const out = Uint8Array.from(d);
  out[offset] = (out[offset] & ~HeaderFlag.hopsMask) | hops;
  return out;
}

/** An unauthenticated packet head (relaying never looks past the header). */
function rawHead(destination: Address, source: Address, hops = 0): Uint8Array {
  const p = newPacket({ id: new Uint8Array(randomBytes(8)), destination, source, verb: Verb.FRAME, payload: new Uint8Array(randomBytes(60)) });
  p.set(randomBytes(8), PacketOffset.mac);
  p[PacketOffset.flags] = (1 << 3) | hops;
  return p;
}

/** A fragment datagram (piece 1 of 2) for `destination`. */
function rawFragment(destination: Address, hops = 0): Uint8Array {
  const d = new Uint8Array(FragmentOffset.data + 100);
  d.set(randomBytes(8), FragmentOffset.id);
  writeAddress(destination, d, FragmentOffset.destination);
  d[FragmentOffset.indicator] = FRAGMENT_INDICATOR;
  d[FragmentOffset.counts] = (2 << 4) | 1;
  d[FragmentOffset.hops] = hops;
  d.set(randomBytes(100), FragmentOffset.data);
  return d;
}

function fromRoot(r: TestRoot): (d: Datagram) => boolean {
  return (d) => d.from.port === r.endpoint.port;
}

describe('relaying between two known leaves', () => {
  it('uses the 1.14 hop limit (3) by default', () => {
    expect(RELAY_MAX_HOPS).toBe(3);
    expect(t.root.config.relayMaxHops).toBe(3);
    expect(t.root.node.relayMaxHops).toBe(3);
  });

  it('forwards a packet for another known leaf unchanged except for the hop count (byte 18)', async () => {
    const n = counters(t);
    const forwarded = n.relay('forwarded');
    for (const hops of [0, 2]) {
      const payload = new Uint8Array(randomBytes(80));
      const p = a.packet(idB, Verb.FRAME, encodeFrame({ networkId: NWID, etherType: 0x0800, payload }), { hops });
      a.sendRaw(t.endpoint, p);
      const d = await b.next((x) => sameId(x.data, p) && fromRoot(t)(x), `relayed packet with hops ${hops}`);
      expect(toHex(d.data)).toBe(toHex(withHops(p, PacketOffset.flags, hops + 1)));
      // still authentic end to end: B opens it with the key it shares with A
      const opened = openPacket(d.data, b.keyWith(idA));
      expect(opened?.verb).toBe(Verb.FRAME);
      expect(opened?.hops).toBe(hops + 1);
      const f = decodeFrame(opened!.payload);
      expect(f.ok && toHex(f.value.payload)).toBe(toHex(payload));
    }
    expect(n.relay('forwarded')).toBe(forwarded + 2);
  });

  it('drops a packet that already has the maximum hop count, and counts it', async () => {
    const n = counters(t);
    const before = { hopLimit: n.relay('hop-limit'), dropped: n.drop('hop-limit'), forwarded: n.relay('forwarded') };
    const p = a.packet(idB, Verb.FRAME, encodeFrame({ networkId: NWID, etherType: 0x0800, payload: new Uint8Array(10) }), { hops: 3 });
    a.sendRaw(t.endpoint, p);
    await a.barrier(t.endpoint, rootId);
    expect(n.relay('hop-limit')).toBe(before.hopLimit + 1);
    expect(n.drop('hop-limit')).toBe(before.dropped + 1);
    expect(n.relay('forwarded')).toBe(before.forwarded);
    await b.barrier(t.endpoint, rootId);
    expect(b.inbox.filter((d) => sameId(d.data, p))).toEqual([]);
  });

  it('relays the head and fragments of a fragmented packet, incrementing hops in byte 18 and byte 15', async () => {
    const n = counters(t);
    const forwarded = n.relay('forwarded');
    const payload = new Uint8Array(randomBytes(3000));
    const { pieces, whole } = a.fragmentedPacket(idB, Verb.FRAME, encodeFrame({ networkId: NWID, etherType: 0x86dd, payload }));
    expect(pieces).toHaveLength(3);
    pieces[1][FragmentOffset.hops] = 1; // a fragment that has already been relayed once
    for (const d of pieces) a.sendRaw(t.endpoint, d);

    const received: Datagram[] = [];
    for (let i = 0; i < pieces.length; i++) received.push(await b.next((x) => sameId(x.data, whole) && fromRoot(t)(x), `piece ${i}`));
    const byKind = (frag: number): Uint8Array | undefined => received.map((d) => d.data).find((d) =>
      frag === 0 ? d[FragmentOffset.indicator] !== FRAGMENT_INDICATOR : d[FragmentOffset.indicator] === FRAGMENT_INDICATOR && (d[FragmentOffset.counts] & 0x0f) === frag);
    expect(toHex(byKind(0)!)).toBe(toHex(withHops(pieces[0], PacketOffset.flags, 1)));
    expect(toHex(byKind(1)!)).toBe(toHex(withHops(pieces[1], FragmentOffset.hops, 2)));
    expect(toHex(byKind(2)!)).toBe(toHex(withHops(pieces[2], FragmentOffset.hops, 1)));
    expect(n.relay('forwarded')).toBe(forwarded + 3);

    // B reassembles and opens the packet
    const r = new Reassembler();
    let complete: Uint8Array | undefined;
    for (const d of received) {
      const res = d.data[FragmentOffset.indicator] === FRAGMENT_INDICATOR ? r.addFragment(d.data, Date.now()) : r.addHead(d.data, Date.now());
      if (res.status === 'complete') complete = res.packet;
    }
    const opened = openPacket(complete!, b.keyWith(idA));
    const f = opened && decodeFrame(opened.payload);
    expect(f && f.ok && toHex(f.value.payload)).toBe(toHex(payload));
  });

  it('drops a fragment at the hop limit (byte 15), and counts it', async () => {
    const n = counters(t);
    const before = n.relay('hop-limit');
    const { pieces } = a.fragmentedPacket(idB, Verb.FRAME, encodeFrame({ networkId: NWID, etherType: 0x86dd, payload: new Uint8Array(2000) }));
    const fragment = withHops(pieces[1], FragmentOffset.hops, 3);
    a.sendRaw(t.endpoint, fragment);
    await a.barrier(t.endpoint, rootId);
    expect(n.relay('hop-limit')).toBe(before + 1);
    await b.barrier(t.endpoint, rootId);
    expect(b.inbox.filter((d) => sameId(d.data, fragment))).toEqual([]);
  });

  it('drops packets and fragments for an unknown destination, and counts them', async () => {
    const n = counters(t);
    const before = { relay: n.relay('unknown-destination'), drop: n.drop('relay-unknown-destination'), forwarded: n.relay('forwarded') };
    a.sendRaw(t.endpoint, rawHead(UNKNOWN, idA.address));
    a.sendRaw(t.endpoint, rawFragment(UNKNOWN));
    await a.barrier(t.endpoint, rootId);
    expect(n.relay('unknown-destination')).toBe(before.relay + 2);
    expect(n.drop('relay-unknown-destination')).toBe(before.drop + 2);
    expect(n.relay('forwarded')).toBe(before.forwarded);
  });
});

describe('sibling roots', () => {
  let r2: TestRoot;
  let sibling: RawPeer;
  let stranger: RawPeer;

  beforeAll(async () => {
    [sibling, stranger] = await Promise.all([RawPeer.open(idSibling), RawPeer.open(idStranger)]);
    // configured limit 2 (not the default) so the hop check is seen to follow the configuration
    r2 = await startTestRoot({ identity: idSiblingRoot, siblings: [sibling.endpoint], relayMaxHops: 2 });
  });

  afterAll(async () => {
    await sibling?.close();
    await stranger?.close();
    await r2?.stop();
    if (r2) removeDirs([r2.home]);
  });

  it('sends packets and fragments for unknown destinations to the sibling, hops incremented; the hop limit still applies', async () => {
    const n = counters(r2);
    const atLimit = rawHead(UNKNOWN, idStranger.address, 2);
    const head = rawHead(UNKNOWN, idStranger.address, 0);
    const fragment = rawFragment(UNKNOWN + 1, 1);
    for (const d of [atLimit, head, fragment]) stranger.sendRaw(r2.endpoint, d);

    // the sibling gets exactly these two, in order: the packet at the limit never left
    const first = await sibling.next(() => true, 'first datagram at the sibling');
    const second = await sibling.next(() => true, 'second datagram at the sibling');
    expect(first.from).toEqual({ address: '127.0.0.1', port: r2.endpoint.port });
    expect(toHex(first.data)).toBe(toHex(withHops(head, PacketOffset.flags, 1)));
    expect(toHex(second.data)).toBe(toHex(withHops(fragment, FragmentOffset.hops, 2)));
    expect(n.relay('to-sibling')).toBe(2);
    expect(n.relay('hop-limit')).toBe(1);
    expect(n.relay('unknown-destination')).toBe(0);
  });
});
