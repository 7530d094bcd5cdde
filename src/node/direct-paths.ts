// PUSH_DIRECT_PATHS both ways, as a 1.14 node does it (docs/protocol/04-verbs.md §15):
// - sending (Peer::received's tail): to a peer we trust — one that sent us traffic that passed a
//   network's membership gate within 600 s — our physical addresses, on the path its packet came
//   by: every 15 s while its packets arrive relayed, every 120 s once they come directly. The
//   addresses are our bound interface addresses (each with its port) and the external surfaces
//   peers reported in OK(HELLO) (SelfAwareness);
// - receiving (_doPUSH_DIRECT_PATHS): at most 8 pushes per peer acted on while they keep coming
//   less than 30 s apart; each address not already an active path, usable as a path (scope, the
//   roots' stable endpoints, not inside our own virtual networks) and among the first 8 of its
//   scope and family is contacted (ECHO, or HELLO while the peer's version is unknown) from each
//   of our sockets that can reach it.
// ztroot is stricter than 1.14 on one point: it follows pushes only from peers it talks to as a
// network member (the policy says which: the leaf takes a peer whose COM it holds, or one it sent
// its own COM to within 600 s), so a stranger cannot make it probe addresses.

import { networkInterfaces } from 'node:os';
import { PushDirectPathsFlag, Verb } from '../wire/constants.ts';
import { formatInetAddress, parseIpv4, parseIpv6, type InetAddress, type IpAddress } from '../wire/inet-address.ts';
import { decodePushDirectPaths, encodePushDirectPaths } from '../wire/verbs/push-direct-paths.ts';
import { ipScope, isAddressValidForPath, socketsToward } from './ip-scope.ts';
import type { Inbound, Node } from './node.ts';
import type { Peer } from './peer.ts';
import type { LocalSocket } from './udp.ts';

const second = 1000;

/** 1.14's numbers for PUSH_DIRECT_PATHS (node/Constants.hpp, node/SelfAwareness.cpp). */
export const DIRECT_PATH_LIMITS = {
  /** ZT_DIRECT_PATH_PUSH_INTERVAL: push spacing while the peer's packets arrive relayed. */
  pushIntervalRelayedMs: 15 * second,
  /** ZT_DIRECT_PATH_PUSH_INTERVAL_HAVEPATH: push spacing once they arrive directly. */
  pushIntervalDirectMs: 120 * second,
  /** ZT_TRUST_EXPIRATION: a peer stays trusted this long after traffic that passed a membership gate. */
  trustExpirationMs: 600 * second,
  /** ZT_PUSH_DIRECT_PATHS_CUTOFF_TIME / _LIMIT: pushes less than 30 s apart count; from the 8th on they are ignored. */
  cutoffTimeMs: 30 * second,
  cutoffLimit: 8,
  /** ZT_PUSH_DIRECT_PATHS_MAX_PER_SCOPE_AND_FAMILY: addresses contacted per push, per scope and family. */
  maxPerScopeAndFamily: 8,
  /** A push packet is filled while it stays under this many bytes (header included). */
  maxPacketBytes: 1200,
  /** ZT_SELFAWARENESS_ENTRY_TIMEOUT: a reported external surface is forgotten after this. */
  surfaceTimeoutMs: 600 * second,
} as const;

/** ZeroTier packet header before the payload, counted against maxPacketBytes (03-packet.md §1). */
const PACKET_HEADER_BYTES = 28;
/** Largest record (IPv6): flags, extension length, type, length, 16 + 2 bytes. */
const LARGEST_RECORD_BYTES = 24;

/** What the role decides: whom it trusts with pushes and which addresses are its own virtual ones. */
export interface DirectPathsPolicy {
  /** Whether pushes from this peer are followed (ztroot: a member of a network we are in). */
  acceptsPushFrom(peer: Peer): boolean;
  /** Whether an address lies inside one of our virtual networks (never pushed: no ZeroTier over ZeroTier). */
  insideOurNetworks(at: IpAddress): boolean;
}

interface Surface { address: IpAddress; reportedMs: number }

export class DirectPaths {
  private readonly node: Node;
  private readonly policy: DirectPathsPolicy;
  /** SelfAwareness: our address as each reporter saw it, by reporter, local socket, reporter address and scope. */
  private readonly surfaces = new Map<string, Surface>();
  /** Counters (tests, logs). */
  readonly counts = { pushesSent: 0, pushesIgnored: 0, addressesContacted: 0 };

  constructor(node: Node, policy: DirectPathsPolicy) {
    this.node = node;
    this.policy = policy;
  }

  /** A packet from this peer passed a network's membership gate (1.14's trustEstablished). */
  trust(peer: Peer): void {
    peer.push.lastTrustMs = this.node.now();
  }

  /** After any authenticated packet from `peer`: push our addresses to it if it is trusted and a push is due. */
  received(peer: Peer, inbound: Inbound): void {
    const now = this.node.now();
    if (now - peer.push.lastTrustMs >= DIRECT_PATH_LIMITS.trustExpirationMs) return;
    const interval = inbound.hops === 0 ? DIRECT_PATH_LIMITS.pushIntervalDirectMs : DIRECT_PATH_LIMITS.pushIntervalRelayedMs;
    if (now - peer.push.lastSentMs < interval) return;
    peer.push.lastSentMs = now;
    for (const payload of this.pushPayloads(now)) {
      this.node.sendTo(peer, inbound.socket, inbound.from, Verb.PUSH_DIRECT_PATHS, payload);
      this.counts.pushesSent++;
    }
  }

  /** The addresses we announce: bound interface addresses, then reported surfaces, each once. */
  addressesToPush(now = this.node.now()): IpAddress[] {
    const out = new Map<string, IpAddress>();
    const add = (a: IpAddress): void => {
      if (isAddressValidForPath(a) && !this.policy.insideOurNetworks(a)) out.set(formatInetAddress(a), a);
    };
    for (const s of this.node.transport.sockets) for (const a of boundAddresses(s)) add(a);
    for (const [k, s] of this.surfaces) {
      if (now - s.reportedMs >= DIRECT_PATH_LIMITS.surfaceTimeoutMs) this.surfaces.delete(k);
      else add(s.address);
    }
    return [...out.values()];
  }

  /** SelfAwareness::whoami: our addresses as peers reported them (what 1.14's /status calls surfaceAddresses). */
  surfaceAddresses(now = this.node.now()): IpAddress[] {
    const out = new Map<string, IpAddress>();
    for (const s of this.surfaces.values()) if (now - s.reportedMs < DIRECT_PATH_LIMITS.surfaceTimeoutMs) out.set(formatInetAddress(s.address), s.address);
    return [...out.values()];
  }

  /** The push packets' payloads: as many records as fit under 1200 bytes each. */
  private pushPayloads(now: number): Uint8Array[] {
    const all = this.addressesToPush(now);
    const perPacket = Math.floor((DIRECT_PATH_LIMITS.maxPacketBytes - PACKET_HEADER_BYTES - 2) / LARGEST_RECORD_BYTES);
    const out: Uint8Array[] = [];
    for (let i = 0; i < all.length; i += perPacket) {
      out.push(encodePushDirectPaths({ paths: all.slice(i, i + perPacket).map((address) => ({ flags: 0, address })) }));
    }
    return out;
  }

  /**
   * SelfAwareness::iam: a peer that answered our HELLO directly told us the address it saw us
   * at. Kept when that address has the scope of the reporter's (a NAT's outside for a root on the
   * Internet; a LAN address for a LAN peer). 1.14 also resets paths in that scope when a trusted
   * reporter sees a change; ztroot lets them expire instead.
   */
  noteSurface(reporter: Peer, inbound: Inbound, surface: InetAddress): void {
    if (inbound.hops !== 0 || surface.family === 0) return;
    const scope = ipScope(surface);
    if (scope !== ipScope(inbound.from) || !isAddressValidForPath(surface)) return;
    const key = `${reporter.address}|${inbound.socket.index}|${formatInetAddress(inbound.from)}|${scope}`;
    this.surfaces.set(key, { address: surface, reportedMs: this.node.now() });
  }

  /** PUSH_DIRECT_PATHS from `peer`: contact what it announces, within 1.14's limits. */
  receive(peer: Peer, payload: Uint8Array, inbound: Inbound): void {
    const now = this.node.now();
    const p = peer.push;
    p.cutoffCount = now - p.lastReceivedMs <= DIRECT_PATH_LIMITS.cutoffTimeMs ? p.cutoffCount + 1 : 0;
    p.lastReceivedMs = now;
    if (p.cutoffCount >= DIRECT_PATH_LIMITS.cutoffLimit || !this.policy.acceptsPushFrom(peer)) {
      this.counts.pushesIgnored++;
      return this.node.countDrop('not-for-us');
    }
    const m = decodePushDirectPaths(payload);
    if (!m.ok) return this.node.countDrop('bad-payload');
    const perScope = new Map<string, number>();
    for (const record of m.value.paths) {
      const at = record.address;
      if (!at || (record.flags & PushDirectPathsFlag.forget) !== 0) continue;
      const redirect = (record.flags & PushDirectPathsFlag.redirect) !== 0;
      if (!redirect && peer.hasActivePathTo(at, now)) continue;
      if (!this.node.mayLearnPath(peer, at) || this.policy.insideOurNetworks(at)) continue;
      if (redirect) {
        // a cluster redirect: 1.14 also ranks the new path above the old ones; ztroot only contacts it
        this.contact(peer, at, [inbound.socket], true);
        continue;
      }
      const k = `${ipScope(at)}|${at.family}`;
      const n = (perScope.get(k) ?? 0) + 1;
      perScope.set(k, n);
      if (n <= DIRECT_PATH_LIMITS.maxPerScopeAndFamily) this.contact(peer, at, socketsToward(this.node.transport.sockets, at), false);
    }
  }

  private contact(peer: Peer, at: IpAddress, sockets: readonly LocalSocket[], fullHello: boolean): void {
    for (const socket of sockets) if (socket.family === at.family) this.node.contactAt(peer, socket, at, fullHello);
    this.counts.addressesContacted++;
  }
}

/**
 * The addresses a socket is reachable at: its own, or for a wildcard socket (0.0.0.0, ::) every
 * interface address of its family — each with the socket's port.
 */
export function boundAddresses(s: LocalSocket): IpAddress[] {
  const parse = (text: string): Uint8Array | null => (s.family === 4 ? parseIpv4(text) : parseIpv6(text));
  const own = parse(s.address);
  if (own && own.some((b) => b !== 0)) return [{ family: s.family, ip: own, port: s.port } as IpAddress];
  const out: IpAddress[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if ((a.family === 'IPv4' ? 4 : 6) !== s.family || (a.scopeid ?? 0) !== 0) continue;
      const ip = parse(a.address);
      if (ip) out.push({ family: s.family, ip, port: s.port } as IpAddress);
    }
  }
  return out;
}
