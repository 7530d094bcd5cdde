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
  /** Round trip of our HELLOs on this path, ms, smoothed as 1.14's Path::updateLatency (LATENCY_UNKNOWN: none yet). */
  latencyMs: number;
}

/** A path's latency before any OK(HELLO) came back on it (1.14's 0xffff; /peer shows it as -1). */
export const LATENCY_UNKNOWN = 0xffff;

/** One round trip measured on a path: 1.14 keeps the mean of the previous value and the new one. */
export function updatePathLatency(path: Path, measuredMs: number): void {
  const l = Math.min(Math.max(0, Math.floor(measuredMs)), LATENCY_UNKNOWN);
  path.latencyMs = path.latencyMs < LATENCY_UNKNOWN ? Math.floor((path.latencyMs + l) / 2) : l;
}

function sameRemote(a: IpAddress, b: IpAddress): boolean {
  if (a.port !== b.port || a.family !== b.family || a.ip.length !== b.ip.length) return false;
  for (let i = 0; i < a.ip.length; i++) if (a.ip[i] !== b.ip[i]) return false;
  return true;
}

const second = 1000;
/** ZT_MAX_PEER_NETWORK_PATHS (include/ZeroTierOne.h): paths kept per peer. */
export const MAX_PEER_PATHS = 64;
/** Path::alive: heard on within ZT_PATH_HEARTBEAT_PERIOD (14 s) + 5 s. */
export const PATH_ALIVE_MS = 19 * second;
/** ZT_PEER_PATH_EXPIRATION: a path not heard on for this long is dropped (4 × 60 s + 3 s). */
export const PATH_EXPIRATION_MS = 243 * second;

/** What a node keeps per peer for PUSH_DIRECT_PATHS (times in ms). */
export interface PushState {
  /** Last packet of the peer that passed a network's membership gate (1.14's trust). */
  lastTrustMs: number;
  lastSentMs: number;
  lastReceivedMs: number;
  /** Pushes received in a row less than 30 s apart (the rate gate). */
  cutoffCount: number;
  /** Last time we sent it our COM (NETWORK_CREDENTIALS). */
  credentialsSentMs: number;
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

  /** The version a HELLO or OK(HELLO) reported; the object is replaced only when it changed (HELLOs repeat it). */
  noteVersion(protocol: number, major: number, minor: number, revision: number): void {
    const v = this.version;
    if (v.protocol !== protocol || v.major !== major || v.minor !== minor || v.revision !== revision) this.version = { protocol, major, minor, revision };
  }
  /** Rate limits on replies (per peer). */
  lastHelloReplyMs = -Infinity;
  lastEchoReplyMs = -Infinity;
  /** Last receipt of real traffic (frames, network configs): a peer with it is kept alive (1.14's isActive). */
  lastNontrivialReceiveMs = -Infinity;
  /** Last full HELLO on its paths (the keepalive's 60-s period). */
  lastFullHelloMs = -Infinity;
  private pushState: PushState | undefined;

  /** PUSH_DIRECT_PATHS state (direct-paths.ts), made on first use: a root's many peers never need it. */
  get push(): PushState {
    return (this.pushState ??= { lastTrustMs: -Infinity, lastSentMs: -Infinity, lastReceivedMs: -Infinity, cutoffCount: 0, credentialsSentMs: -Infinity });
  }

  constructor(identity: Identity, sharedKey: Uint8Array) {
    this.identity = identity.publicOnly();
    this.key = new PeerKey(sharedKey);
  }

  get address(): number {
    return this.identity.address;
  }

  /** The path last heard on: most packets come the way the previous one did. */
  private lastPath: Path | undefined;

  /**
   * Record a path the peer was heard on (or refresh it). At most MAX_PEER_PATHS are kept: a new
   * one takes the place of the oldest (1.14 first reuses a dead path with the same IP and socket).
   */
  learnPath(remote: IpAddress, socket: LocalSocket, nowMs: number): Path {
    let path = this.knownPath(remote, socket);
    if (!path) {
      if (this.paths.size >= MAX_PEER_PATHS) this.dropPath(this.replaceablePath(remote, socket, nowMs));
      path = { remote, socket, lastReceiveMs: nowMs, lastSendMs: 0, tableSec: -1, latencyMs: LATENCY_UNKNOWN };
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

  /** Peer::hasActivePathTo: a path to this exact address (IP and port) heard on within the path expiry. */
  hasActivePathTo(remote: IpAddress, nowMs: number): boolean {
    for (const p of this.paths.values()) if (nowMs - p.lastReceiveMs < PATH_EXPIRATION_MS && sameRemote(p.remote, remote)) return true;
    return false;
  }

  /**
   * An alive path (heard within PATH_ALIVE_MS) on this socket to the same IP, any port: 1.14 then
   * learns no new path there, so a NAT that changes ports does not make paths pile up.
   */
  hasAlivePathToIp(remote: IpAddress, socket: LocalSocket, nowMs: number): boolean {
    for (const p of this.paths.values()) {
      if (p.socket.index === socket.index && nowMs - p.lastReceiveMs < PATH_ALIVE_MS && sameRemote(p.remote, { ...remote, port: p.remote.port })) return true;
    }
    return false;
  }

  private replaceablePath(remote: IpAddress, socket: LocalSocket, nowMs: number): Path | undefined {
    let oldest: Path | undefined;
    for (const p of this.paths.values()) {
      if (p.socket.index === socket.index && nowMs - p.lastReceiveMs >= PATH_ALIVE_MS && sameRemote(p.remote, { ...remote, port: p.remote.port })) return p;
      if (!oldest || p.lastReceiveMs < oldest.lastReceiveMs) oldest = p;
    }
    return oldest;
  }

  /** Forget one path. */
  dropPath(path: Path | undefined): void {
    if (!path) return;
    this.paths.delete(pathKey(path.remote, path.socket));
    if (path === this.lastPath) this.lastPath = undefined;
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
