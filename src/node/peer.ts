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
  /** The second this path was last written to the shared peer table (-1: never). */
  tableSec: number;
}

function sameRemote(a: IpAddress, b: IpAddress): boolean {
  if (a.port !== b.port || a.family !== b.family || a.ip.length !== b.ip.length) return false;
  for (let i = 0; i < a.ip.length; i++) if (a.ip[i] !== b.ip[i]) return false;
  return true;
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

  /** The path last heard on: most packets come the way the previous one did. */
  private lastPath: Path | undefined;

  /** Record a path the peer was heard on (or refresh it). */
  learnPath(remote: IpAddress, socket: LocalSocket, nowMs: number): Path {
    let path = this.knownPath(remote, socket);
    if (!path) {
      path = { remote, socket, lastReceiveMs: nowMs, lastSendMs: 0, tableSec: -1 };
      this.paths.set(pathKey(remote, socket), path);
    }
    path.lastReceiveMs = nowMs;
    this.lastPath = path;
    return path;
  }

  /** The recorded path for this remote address and local socket, if any. */
  knownPath(remote: IpAddress, socket: LocalSocket): Path | undefined {
    const last = this.lastPath;
    if (last && last.socket.index === socket.index && sameRemote(last.remote, remote)) return last;
    return this.paths.get(pathKey(remote, socket));
  }

  hasPath(remote: IpAddress, socket: LocalSocket): boolean {
    return this.knownPath(remote, socket) !== undefined;
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
        if (p === this.lastPath) this.lastPath = undefined;
        n++;
      }
    }
    return n;
  }
}
