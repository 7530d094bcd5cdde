// The NAT keepalive of 1.14's Peer::doPingAndKeepalive on a stub node: full HELLO on every path
// each 60 s, an ECHO on a path nothing was sent on for 14 s, expired paths dropped; and only
// peers with real traffic in the last 500 s are kept alive.
import { expect, it } from 'vitest';
import type { Node } from '../../src/node/node.ts';
import { isActivePeer, KEEPALIVE_TIMERS, pingAndKeepalive } from '../../src/node/path-keepalive.ts';
import { PATH_EXPIRATION_MS, Peer } from '../../src/node/peer.ts';
import type { LocalSocket } from '../../src/node/udp.ts';
import { formatInetAddress, parseInetAddress, type IpAddress } from '../../src/wire/inet-address.ts';
import { VECTOR_IDENTITIES } from '../support/root-harness.ts';

const s4: LocalSocket = { index: 0, address: '10.1.0.2', port: 9993, family: 4 };
const s6: LocalSocket = { index: 1, address: 'fd00::2', port: 9993, family: 6 };
const at = (t: string): IpAddress => parseInetAddress(t)!;

it('sends a full HELLO each 60 s, an ECHO on a path idle 14 s, and drops paths not heard on for 243 s', () => {
  const contacts: string[] = [];
  const node = { contactAt: (_p: Peer, _s: LocalSocket, to: IpAddress, full = false) => { contacts.push(`${full ? 'HELLO' : 'ECHO'} ${formatInetAddress(to)}`); } } as unknown as Node;
  const peer = new Peer(VECTOR_IDENTITIES[1], new Uint8Array(48));
  let now = 1_000_000;
  const p4 = peer.learnPath(at('198.18.0.2/41000'), s4, now);
  peer.learnPath(at('fd00::7/9993'), s6, now);
  expect(pingAndKeepalive(node, peer, now)).toBe(2);
  expect(contacts.splice(0)).toEqual(['HELLO 198.18.0.2/41000', 'HELLO fd00::7/9993']);
  now += KEEPALIVE_TIMERS.heartbeatMs - 1;
  p4.lastReceiveMs = now;
  expect(pingAndKeepalive(node, peer, now)).toBe(0);
  now += 1;
  p4.lastSendMs = now - 1000; // something went out on the IPv4 path a second ago: no keepalive needed there
  expect(pingAndKeepalive(node, peer, now)).toBe(1);
  expect(contacts.splice(0)).toEqual(['ECHO fd00::7/9993']);
  now = 1_000_000 + PATH_EXPIRATION_MS; // the IPv6 path was last heard at the start
  expect(pingAndKeepalive(node, peer, now)).toBe(1);
  expect(contacts.splice(0)).toEqual(['HELLO 198.18.0.2/41000']);
  expect([...peer.paths.values()].map((p) => formatInetAddress(p.remote))).toEqual(['198.18.0.2/41000']);
});

it('keeps alive only peers that sent real traffic within 500 s', () => {
  const peer = new Peer(VECTOR_IDENTITIES[1], new Uint8Array(48));
  expect(isActivePeer(peer, 1000)).toBe(false);
  peer.lastNontrivialReceiveMs = 1000;
  expect(isActivePeer(peer, 1000 + KEEPALIVE_TIMERS.activityTimeoutMs - 1)).toBe(true);
  expect(isActivePeer(peer, 1000 + KEEPALIVE_TIMERS.activityTimeoutMs)).toBe(false);
});

it('keeps 64 paths at most, replacing the oldest, and learns no second path beside an alive one to the same IP', () => {
  const peer = new Peer(VECTOR_IDENTITIES[1], new Uint8Array(48));
  for (let i = 0; i < 65; i++) peer.learnPath(at(`10.3.${i >> 8}.${(i & 255) + 1}/9993`), s4, 1000 + i);
  expect(peer.paths.size).toBe(64);
  expect(peer.hasPath(at('10.3.0.1/9993'), s4)).toBe(false);
  expect(peer.hasAlivePathToIp(at('10.3.0.65/4444'), s4, 2000)).toBe(true);
  expect(peer.hasAlivePathToIp(at('10.3.0.65/4444'), s4, 1064 + 19_000)).toBe(false);
});
