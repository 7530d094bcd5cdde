// The multi-worker root (the default): two packet workers on SO_REUSEPORT sockets sharing the
// peer table, the identity cache, validation and the multicast store through the main thread.
// Every peer here uses its own UDP socket, so the kernel spreads them over both workers; each
// behaviour must hold whichever worker a packet lands on.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Verb } from '../../src/wire/constants.ts';
import { BROADCAST_GROUP } from '../../src/wire/mac.ts';
import { decodeOkMulticastGather, encodeMulticastGather } from '../../src/wire/verbs/multicast-gather.ts';
import { encodeMulticastLike } from '../../src/wire/verbs/multicast-like.ts';
import { decodeRendezvous } from '../../src/wire/verbs/rendezvous.ts';
import {
  sortedAddresses, startTestRootWithPeers, VECTOR_IDENTITIES, whoisFromEveryPeer, type RawPeer, type TestRoot, type TestRootWithPeers,
} from '../support/root-harness.ts';

const [rootId, ...leafIds] = VECTOR_IDENTITIES;
const NWID = 0x8056c2e21c000001n;

// Both UDP transports: the recvmmsg/sendmmsg addon (when it is built) and plain dgram.
describe.each(['auto', 'off'] as const)('a root with two packet workers (native UDP: %s)', (nativeUdp) => {
  let lab: TestRootWithPeers;
  let t: TestRoot;
  let peers: RawPeer[];

  beforeAll(async () => {
    lab = await startTestRootWithPeers({ identity: rootId, workers: 2, nativeUdp }, leafIds.slice(0, 6));
    ({ t, peers } = lab);
  });

  afterAll(async () => {
    await lab?.stop();
  });

  describe('behaviour', () => {
    it('runs two workers, registers every peer once in the shared table and caches each identity', () => {
      expect(t.root.workerCount).toBe(2);
      expect(t.root.peerTable.size).toBe(peers.length);
      expect(t.root.store.size).toBe(peers.length);
      expect(() => t.root.node).toThrow(/worker threads/);
    });

    it('answers WHOIS for every peer from whichever worker gets the request', async () => {
      expect(await whoisFromEveryPeer(t.endpoint, rootId, peers)).toEqual(peers.map(() => sortedAddresses(peers)));
    });

    it('relays between any two peers (the destination\'s path may have been learned by the other worker) and introduces them', async () => {
      const [x, y] = [peers[0], peers[1]];
      const payload = new Uint8Array([1, 2, 3]);
      const sent = x.packet(y.identity, Verb.FRAME, payload);
      x.sendRaw(t.endpoint, sent);
      const got = await y.next((d) => d.data.length === sent.length && d.data[18] % 8 === 1, 'the relayed packet');
      expect(Buffer.compare(got.data.subarray(0, 18), sent.subarray(0, 18))).toBe(0);
      for (const [me, other] of [[x, y], [y, x]] as const) {
        const r = await me.nextFrom(rootId, (o) => o.verb === Verb.RENDEZVOUS, 'RENDEZVOUS');
        const rv = decodeRendezvous(r.payload);
        expect(rv.ok && rv.value.peer).toBe(other.address);
        expect(rv.ok && rv.value.address?.port).toBe(other.endpoint.port);
      }
    });

    it('answers MULTICAST_GATHER with subscribers that LIKEd through any worker', async () => {
      for (const p of peers.slice(0, 4)) {
        p.send(t.endpoint, rootId, Verb.MULTICAST_LIKE, encodeMulticastLike({ subscriptions: [{ networkId: NWID, group: BROADCAST_GROUP }] }));
      }
      await peers[5].barrier(t.endpoint, rootId);
      for (const p of peers.slice(0, 4)) await p.barrier(t.endpoint, rootId);
      const id = peers[5].send(t.endpoint, rootId, Verb.MULTICAST_GATHER, encodeMulticastGather({ networkId: NWID, flags: 0, group: BROADCAST_GROUP, gatherLimit: 100 }));
      const ok = decodeOkMulticastGather((await peers[5].reply(rootId, id)).payload);
      expect(ok.ok && [...ok.value.members].sort()).toEqual(peers.slice(0, 4).map((p) => p.address).sort());
    });

    it('reports all workers\' counters in one set of metrics', async () => {
      const m = await t.root.refreshMetrics();
      expect(m.stats.relay.get('forwarded')).toBeGreaterThanOrEqual(1);
      expect(m.stats.verbsIn.get('WHOIS')).toBeGreaterThanOrEqual(peers.length);
      expect(m.stats.validationsValid).toBe(peers.length);
      expect(m.eventLoopLagSeconds.map((l) => l.worker)).toEqual(['main', '0', '1']);
      expect(m.heapBytes.map((h) => h.worker)).toEqual(['main', '0', '1']);
      for (const h of m.heapBytes) expect(h.used > 1e6 && h.used <= h.total, `${h.worker}: ${h.used} of ${h.total}`).toBe(true);
      expect(m.peers).toBe(peers.length);
    });

    it('lists each peer once in /peers across workers', async () => {
      const list = await t.root.peers();
      expect(list.map((p) => p.address).sort()).toEqual(peers.map((p) => p.address.toString(16).padStart(10, '0')).sort());
    });
  });
});
