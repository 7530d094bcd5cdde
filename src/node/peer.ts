// A peer: an identity we share a key with, and the physical paths we have heard it on.

import type { Identity } from '../identity/identity.ts';
import { formatInetAddress, type IpAddress } from '../wire/inet-address.ts';
import { PeerKey } from '../wire/peer-key.ts';
import type { LocalSocket } from './udp.ts';

export interface Path {
  readonly remote: IpAddress;
  readonly socket: LocalSocket;
  lastReceiveMs: number;
  lastSendMs: number;
}

export interface RemoteVersion {
  protocol: number;
  major: number;
  minor: number;
  revision: number;
}

export function pathKey(remote: IpAddress, socket: LocalSocket): string {
  return `${socket.index}|${formatInetAddress(remote)}`;
}

export class Peer {
  readonly identity: Identity;
  readonly key: PeerKey;
  readonly paths = new Map<string, Path>();
  lastReceiveMs = 0;
  version: RemoteVersion = { protocol: 0, major: 0, minor: 0, revision: 0 };
  /** Rate limits on replies (per peer). */
  lastHelloReplyMs = -Infinity;
  lastEchoReplyMs = -Infinity;

  constructor(identity: Identity, sharedKey: Uint8Array) {
    this.identity = identity.publicOnly();
    this.key = new PeerKey(sharedKey);
  }

  get address(): number {
    return this.identity.address;
  }

  /** Record a path the peer was heard on (or refresh it). */
  learnPath(remote: IpAddress, socket: LocalSocket, nowMs: number): Path {
    const k = pathKey(remote, socket);
    let path = this.paths.get(k);
    if (!path) {
      path = { remote, socket, lastReceiveMs: nowMs, lastSendMs: 0 };
      this.paths.set(k, path);
    }
    path.lastReceiveMs = nowMs;
    return path;
  }

  hasPath(remote: IpAddress, socket: LocalSocket): boolean {
    return this.paths.has(pathKey(remote, socket));
  }

  /** The freshest path (most recent receipt), optionally of one IP family. */
  bestPath(family?: 4 | 6): Path | undefined {
    let best: Path | undefined;
    for (const p of this.paths.values()) {
      if (family !== undefined && p.remote.family !== family) continue;
      if (!best || p.lastReceiveMs > best.lastReceiveMs) best = p;
    }
    return best;
  }

  /** Drop paths silent for longer than maxAgeMs; returns how many went. */
  expirePaths(nowMs: number, maxAgeMs: number): number {
    let n = 0;
    for (const [k, p] of this.paths) {
      if (nowMs - p.lastReceiveMs > maxAgeMs) {
        this.paths.delete(k);
        n++;
      }
    }
    return n;
  }
}
