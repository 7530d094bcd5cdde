// A packet worker that ends while the root runs (a crash, its heap ceiling) is replaced on the
// same ports, and every peer is served again; stopping the root replaces nothing.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  sortedAddresses, startTestRootWithPeers, VECTOR_IDENTITIES, waitUntil, whoisFromEveryPeer, type TestRootWithPeers,
} from '../support/root-harness.ts';

const [rootId, ...leafIds] = VECTOR_IDENTITIES;

describe('a root whose packet worker dies', () => {
  let lab: TestRootWithPeers;

  beforeAll(async () => {
    lab = await startTestRootWithPeers({ identity: rootId, workers: 2 }, leafIds.slice(0, 6));
  });

  afterAll(async () => {
    await lab?.stop();
  });

  it('replaces it on the same ports and answers every peer', async () => {
    const { t, peers } = lab;
    const sockets = [...t.root.sockets];
    for (const dying of [1, 0]) {
      const before = t.root.packetWorkerThreads[dying];
      await before.terminate();
      await waitUntil(() => t.root.runningWorkers === 2 && !t.root.packetWorkerThreads.includes(before), `worker ${dying}'s replacement`);
      // the replacement counts once it is ready: wait for its answers rather than its start
      expect(await whoisFromEveryPeer(t.endpoint, rootId, peers)).toEqual(peers.map(() => sortedAddresses(peers)));
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
