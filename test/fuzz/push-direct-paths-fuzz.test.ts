// The leaf's PUSH_DIRECT_PATHS intake under hostile input (seeded): random bytes, valid pushes
// with mutated bytes, and floods of well-formed pushes naming many addresses. Nothing throws,
// bad ones are counted, and the work any one peer can cause stays within 1.14's bounds: 8 pushes
// acted on per burst, 8 addresses per scope and family per push.
import { expect, it } from 'vitest';
import { DIRECT_PATH_LIMITS, DirectPaths } from '../../src/node/direct-paths.ts';
import type { Node } from '../../src/node/node.ts';
import { Peer } from '../../src/node/peer.ts';
import type { LocalSocket } from '../../src/node/udp.ts';
import { encodePushDirectPaths } from '../../src/wire/verbs/push-direct-paths.ts';
import { Rng } from '../../tools/fuzz/rng.ts';
import { VECTOR_IDENTITIES } from '../support/root-harness.ts';

const sockets: LocalSocket[] = [{ index: 0, address: '10.1.0.2', port: 9993, family: 4 }, { index: 1, address: 'fd00::2', port: 9993, family: 6 }];

it('20k hostile pushes: no throw, malformed ones counted, contacts bounded per burst', () => {
  const rng = new Rng(1114);
  let now = 1_000_000;
  let contacts = 0;
  const drops = new Map<string, number>();
  const node = {
    transport: { sockets }, now: () => now, mayLearnPath: () => true,
    contactAt: () => { contacts++; }, sendTo: () => 0n,
    countDrop: (r: string) => drops.set(r, (drops.get(r) ?? 0) + 1),
  } as unknown as Node;
  const paths = new DirectPaths(node, { acceptsPushFrom: () => true, insideOurNetworks: () => false });
  const peer = new Peer(VECTOR_IDENTITIES[1], new Uint8Array(48));
  const inbound = { from: { family: 4 as const, ip: Uint8Array.of(198, 18, 0, 1), port: 9993 }, socket: sockets[0], hops: 1, packetId: 1n };
  const valid = (): Uint8Array => encodePushDirectPaths({
    paths: Array.from({ length: rng.int(40) }, () => (rng.chance(0.5)
      ? { flags: rng.int(4), address: { family: 4 as const, ip: rng.bytes(4), port: rng.int(65536) } }
      : { flags: rng.int(4), address: { family: 6 as const, ip: rng.bytes(16), port: rng.int(65536) } })),
  });
  const bursts = 400;
  for (let burst = 0; burst < bursts; burst++) {
    const before = contacts;
    for (let i = 0; i < 50; i++) {
      let p: Uint8Array;
      const kind = rng.int(3);
      if (kind === 0) p = rng.bytes(rng.int(64));
      else {
        p = valid();
        if (kind === 2 && p.length > 0) for (let k = 0; k < 1 + rng.int(4); k++) p[rng.int(p.length)] = rng.int(256);
      }
      paths.receive(peer, p, inbound); // a throw fails the test
      now += 100;
    }
    // within one burst (pushes 100 ms apart) at most 8 pushes act, each contacting ≤ 8 per scope
    // and family (8 scopes × 2 families) from at most one socket of each family
    expect(contacts - before).toBeLessThanOrEqual(DIRECT_PATH_LIMITS.cutoffLimit * DIRECT_PATH_LIMITS.maxPerScopeAndFamily * 16);
    now += DIRECT_PATH_LIMITS.cutoffTimeMs + 1;
  }
  expect(drops.get('bad-payload') ?? 0).toBeGreaterThan(1000);
  expect(paths.counts.pushesIgnored).toBeGreaterThan(bursts * 40);
  expect(contacts).toBeGreaterThan(0);
});
