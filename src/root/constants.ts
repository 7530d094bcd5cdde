// Root policy constants: timers and limits from 08-root-behaviour.md and 11-constants.md, plus
// this implementation's defaults. Units are in the names.

import { DEFAULT_PORT, RELAY_MAX_HOPS } from '../wire/constants.ts';

const second = 1000;

export const ROOT_DEFAULTS = {
  port: DEFAULT_PORT,
  /** Relay while hops are below this: 1.14's rule (root.cpp allows 4). */
  relayMaxHops: RELAY_MAX_HOPS,
  /** Local HTTP listener: loopback, TCP on the ZeroTier port, like zerotier-one's local API. */
  httpListen: '127.0.0.1:9993',
  /** Peers the shared table is sized for by default (about 150 MiB of shared memory, touched lazily). */
  maxPeers: 1_000_000,
  /** Peer objects (about 2 KiB each) each packet thread keeps; the rest are rebuilt on demand. */
  peerCacheEntries: 16_384,
} as const;

export const ROOT_TIMERS = {
  /** ZT_PEER_ACTIVITY_TIMEOUT: forget a peer silent this long (docs/protocol/08-root-behaviour.md §3.7). */
  peerActivityTimeoutMs: 500 * second,
  /** ZT_PEER_PATH_EXPIRATION: forget a path without receipt this long (08-root-behaviour.md §1.3). */
  pathExpirationMs: 243 * second,
  /** ZT_MULTICAST_LIKE_EXPIRE (docs/protocol/08-root-behaviour.md §3.4). */
  multicastLikeExpireMs: 600 * second,
  /** ZT_MIN_UNITE_INTERVAL: RENDEZVOUS at most once per unordered pair (08-root-behaviour.md §3.6). */
  rendezvousIntervalMs: 30 * second,
  /** root.cpp: at most one OK(HELLO) per peer per 250 ms (docs/protocol/08-root-behaviour.md §3.3). */
  helloReplySpacingMs: 250,
  /** root.cpp: at most one OK(ECHO) per peer per 500 ms (docs/protocol/08-root-behaviour.md §3.4). */
  echoReplySpacingMs: 500,
  /** ZT_HOUSEKEEPING_PERIOD: how often expiry runs. */
  housekeepingMs: 30 * second,
} as const;

export const ROOT_LIMITS = {
  /** root.cpp caps a GATHER answer at 255 addresses (docs/protocol/08-root-behaviour.md §3.4). */
  gatherMaxResults: 255,
  /** WHOIS addresses answered from one request (bounded so one packet cannot make a huge reply). */
  whoisMaxAddresses: 64,
  /** Pending identity validations before new HELLOs are dropped. */
  validationQueue: 256,
  /**
   * Old-generation heap of each packet thread, MiB. What a packet thread keeps is bounded (its
   * peer and identity caches: about 40 MiB at the defaults), but V8 sizes a heap by allocation
   * rate and lets garbage pile up toward whatever ceiling it has (a 256 MiB ceiling held 230 MiB
   * per thread at 1M peers); the ceiling makes it collect instead. What it keeps at most: the
   * peer cache (16384 × ~2 KiB), the identity cache (16384 × ~400 B) and the pairs recently
   * introduced (2 × rendezvousPairsPerGeneration × ~40 B): about 60 MiB.
   */
  packetWorkerHeapMb: 96,
  /**
   * Young generation of each packet thread, MiB (V8's default lets it reach 48 MiB per thread
   * under load). Almost nothing a packet thread allocates outlives its packet, so a small young
   * generation costs only more frequent, cheap scavenges.
   */
  packetWorkerYoungMb: 16,
  /**
   * Relayed pairs remembered per generation (two generations) so each pair is introduced at most
   * once per rendezvousIntervalMs; beyond that many new pairs per interval the window shortens.
   */
  rendezvousPairsPerGeneration: 250_000,
  /** The same for validation threads, which keep nothing. */
  validationWorkerHeapMb: 32,
} as const;
