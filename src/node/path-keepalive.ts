// Keeping a peer's direct paths open, as 1.14's Peer::doPingAndKeepalive does for every peer with
// recent real traffic (docs/protocol/08-root-behaviour.md §1.2): paths not heard on for 243 s
// are dropped; every 60 s each remaining path gets a full HELLO; in between, a path nothing was
// sent on for 14 s gets an ECHO — the NAT keepalive that holds a punched hole open.

import type { Node } from './node.ts';
import { PATH_EXPIRATION_MS, type Peer } from './peer.ts';

const second = 1000;

export const KEEPALIVE_TIMERS = {
  /** ZT_PATH_HEARTBEAT_PERIOD: a path idle (nothing sent) this long gets an ECHO. */
  heartbeatMs: 14 * second,
  /** ZT_PEER_PING_PERIOD: full HELLO on every path this often. */
  fullHelloMs: 60 * second,
  /** ZT_PEER_ACTIVITY_TIMEOUT: a peer is kept alive this long after its last real traffic (Peer::isActive). */
  activityTimeoutMs: 500 * second,
} as const;

/** Whether 1.14 would keep pinging this (non-upstream) peer: real traffic within 500 s. */
export function isActivePeer(peer: Peer, nowMs: number): boolean {
  return nowMs - peer.lastNontrivialReceiveMs < KEEPALIVE_TIMERS.activityTimeoutMs;
}

/** One ping check for one peer; returns how many paths were contacted. */
export function pingAndKeepalive(node: Node, peer: Peer, nowMs: number): number {
  const fullHello = nowMs - peer.lastFullHelloMs >= KEEPALIVE_TIMERS.fullHelloMs;
  if (fullHello) peer.lastFullHelloMs = nowMs;
  let sent = 0;
  for (const path of [...peer.paths.values()]) {
    if (nowMs - path.lastReceiveMs >= PATH_EXPIRATION_MS) {
      peer.dropPath(path);
      continue;
    }
    if (!fullHello && nowMs - path.lastSendMs < KEEPALIVE_TIMERS.heartbeatMs) continue;
    node.contactAt(peer, path.socket, path.remote, fullHello);
    path.lastSendMs = nowMs;
    sent++;
  }
  return sent;
}
