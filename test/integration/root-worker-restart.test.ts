// A packet worker that ends while the root runs (a crash, its heap ceiling) is replaced on the
// same ports, and every peer is served again; stopping the root replaces nothing.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Verb } from '../../src/wire/constants.ts';
import { decodeOkWhois, encodeWhois } from '../../src/wire/verbs/whois.ts';
import { RawPeer, removeDirs, startTestRoot, VECTOR_IDENTITIES, type TestRoot } from '../support/root-harness.ts';

const [rootId, ...leafIds] = VECTOR_IDENTITIES;

describe('a root whose packet worker dies', () => {
  let t: TestRoot;
  let peers: RawPeer[];

  beforeAll(async () => {
    t = await startTestRoot({ identity: rootId, workers: 2 });
    peers = await Promise.all(leafIds.slice(0, 6).map((id) => RawPeer.open(id)));
    for (const p of peers) await p.register(t.endpoint, rootId);
  });

  afterAll(async () => {
    for (const p of peers ?? []) await p.close();
    await t?.stop();
    if (t) removeDirs([t.home]);
  });

  async function whoisFromEveryPeer(): Promise<void> {
    for (const asker of peers) {
      const id = asker.send(t.endpoint, rootId, Verb.WHOIS, encodeWhois({ addresses: peers.map((p) => p.address) }));
      const ok = decodeOkWhois((await asker.reply(rootId, id)).payload);
      expect(ok.ok && ok.value.identities.length).toBe(peers.length);
    }
  }

  it('replaces it on the same ports and answers every peer', async () => {
    const sockets = [...t.root.sockets];
    for (const dying of [1, 0]) {
      const before = t.root.packetWorkerThreads[dying];
      await before.terminate();
      for (let i = 0; i < 200 && !(t.root.runningWorkers === 2 && !t.root.packetWorkerThreads.includes(before)); i++) await new Promise((r) => setTimeout(r, 25));
      // the replacement counts once it is ready: wait for its answers rather than its start
      await whoisFromEveryPeer();
      expect(t.root.runningWorkers).toBe(2);
    }
    expect(t.root.workerRestarts).toBe(2);
    expect(t.root.sockets).toEqual(sockets);
    // the replacements keep their predecessors' places: the threads are still labelled 0 and 1
    const m = await t.root.refreshMetrics();
    expect(m.heapBytes.map((h) => h.worker).sort()).toEqual(['0', '1', 'main']);
    expect(m.eventLoopLagSeconds.map((l) => l.worker).sort()).toEqual(['0', '1', 'main']);
  });
});
