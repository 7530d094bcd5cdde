// A root keeps a bounded number of peer objects per thread; an evicted peer is rebuilt from the
// identity cache and the key kept in the shared peer table, without a new key agreement.
import { afterAll, expect, it } from 'vitest';
import { useCurveBackend } from '../../src/crypto/c25519.ts';
import { nodeCurves, type CurveBackend } from '../../src/crypto/curve-backends.ts';
import { IdentityStore } from '../../src/node/identity-store.ts';
import { Node } from '../../src/node/node.ts';
import { Topology } from '../../src/node/topology.ts';
import { UdpTransport } from '../../src/node/udp.ts';
import type { IdentityValidator } from '../../src/node/validation-pool.ts';
import { RawPeer, removeDirs, startTestRoot, VECTOR_IDENTITIES } from '../support/root-harness.ts';

const [self, a, b, c] = VECTOR_IDENTITIES;
let agreements = 0;
const counting: CurveBackend = { ...nodeCurves, name: 'counting', x25519: (p, q) => { agreements++; return nodeCurves.x25519(p, q); } };
afterAll(() => useCurveBackend(nodeCurves));

const noValidation: IdentityValidator = { submit: async () => 'closed', queueDepth: 0, inFlight: 0, close: async () => {} };

it('evicts the least recently used peer and rebuilds it from cache and table with the same key', () => {
  useCurveBackend(counting);
  const store = new IdentityStore(':memory:');
  for (const id of [a, b, c]) store.put(id.publicOnly());
  const node = new Node({
    identity: self, transport: new UdpTransport(), topology: new Topology(self.address), store, validation: noValidation,
    relayMaxHops: 3, protocolVersion: 11, pathLearning: 'authenticated', peerCacheEntries: 2,
  });
  const keyA = Uint8Array.from(node.peerFor(a.address)!.key.key);
  node.peerFor(b.address);
  node.peerFor(c.address);
  expect(agreements).toBe(3);
  expect(node.peers.size).toBe(2);
  expect(node.peers.has(a.address)).toBe(false); // evicted
  const rebuilt = node.peerFor(a.address)!;
  expect(agreements).toBe(3); // no new agreement: the key came from the shared table
  expect([...rebuilt.key.key]).toEqual([...keyA]);
  expect(rebuilt.identity.equals(a)).toBe(true);
  expect(node.peerFor(0x0102030405)).toBeUndefined(); // unknown to the cache: no peer
  store.close();
});

it('answers a HELLO from a peer it let go with the key the table kept, without a new agreement', async () => {
  const t = await startTestRoot({ identity: self, peerCacheEntries: 2 });
  const peers = await Promise.all([a, b, c].map((id) => RawPeer.open(id)));
  try {
    for (const p of peers) await p.register(t.endpoint, self);
    expect(t.root.node.peers.has(a.address)).toBe(false); // evicted by b and c
    useCurveBackend(counting);
    agreements = 0;
    await peers[0].register(t.endpoint, self);
    expect(agreements).toBe(0);
    expect(t.root.node.peers.has(a.address)).toBe(true);
  } finally {
    useCurveBackend(nodeCurves);
    for (const p of peers) await p.close();
    await t.stop();
    removeDirs([t.home]);
  }
});
