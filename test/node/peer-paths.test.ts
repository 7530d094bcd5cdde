// A peer's recorded paths: the last path heard on is found without building its map key, and a
// path that expired is never found through that shortcut; its latency follows 1.14.
import { expect, it } from 'vitest';
import { LATENCY_UNKNOWN, Peer, updatePathLatency } from '../../src/node/peer.ts';
import type { LocalSocket } from '../../src/node/udp.ts';
import { parseInetAddress } from '../../src/wire/inet-address.ts';
import { VECTOR_IDENTITIES } from '../support/root-harness.ts';

const s0: LocalSocket = { index: 0, address: '0.0.0.0', port: 9993, family: 4 };
const s1: LocalSocket = { index: 1, address: '0.0.0.0', port: 9994, family: 4 };
const at = (text: string) => parseInetAddress(text)!;

it('knows a path by address, port and local socket, also through the last-path shortcut, and forgets expired ones', () => {
  const peer = new Peer(VECTOR_IDENTITIES[1], new Uint8Array(48));
  const a = peer.learnPath(at('10.0.0.1/1000'), s0, 1000);
  expect(peer.learnPath(at('10.0.0.1/1000'), s0, 2000)).toBe(a); // a fresh, equal address object
  expect(a.lastReceiveMs).toBe(2000);
  expect(peer.hasPath(at('10.0.0.1/1000'), s1)).toBe(false); // other socket
  expect(peer.hasPath(at('10.0.0.1/1001'), s0)).toBe(false); // other port
  expect(peer.hasPath(at('10.0.0.2/1000'), s0)).toBe(false); // other IP
  expect(peer.hasPath(at('::a00:1/1000'), s0)).toBe(false); // other family
  const b = peer.learnPath(at('10.0.0.2/1000'), s0, 3000);
  expect(peer.knownPath(at('10.0.0.1/1000'), s0)).toBe(a); // not the last one: through the map
  expect(peer.paths.size).toBe(2);
  expect(peer.expirePaths(1_000_000, 10_000)).toBe(2);
  expect(peer.hasPath(at('10.0.0.2/1000'), s0)).toBe(false); // was the last path: shortcut cleared
  expect(peer.learnPath(at('10.0.0.2/1000'), s0, 4000)).not.toBe(b);
});

it("measures a path's latency as 1.14's Path::updateLatency does: the first round trip, then the mean with the last value", () => {
  const peer = new Peer(VECTOR_IDENTITIES[1], new Uint8Array(48));
  const p = peer.learnPath(at('10.0.0.1/1000'), s0, 1000);
  expect(p.latencyMs).toBe(LATENCY_UNKNOWN);
  updatePathLatency(p, 40);
  expect(p.latencyMs).toBe(40);
  updatePathLatency(p, 21);
  expect(p.latencyMs).toBe(30); // (40 + 21) / 2, rounded down as unsigned division
  updatePathLatency(p, -5); // a clock stepped back: no negative round trip
  expect(p.latencyMs).toBe(15);
  updatePathLatency(p, 1e9); // capped where 1.14 stores it
  expect(p.latencyMs).toBe(Math.floor((15 + LATENCY_UNKNOWN) / 2));
});
