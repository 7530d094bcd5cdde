// Messages between a root's main thread and its packet workers. Per-packet work never crosses
// this boundary: workers share the peer table (SharedArrayBuffer) and the identity cache (SQLite);
// only rare events travel here (new identities to validate, multicast, stats on scrape, reloads).

import type { StatsSnapshot } from '../node/stats.ts';
import type { RootConfig } from './config.ts';
import type { PeerView } from './root-core.ts';

export interface WorkerInit {
  index: number;
  config: RootConfig;
  identitySecret: string;
  peerTable: SharedArrayBuffer;
  expectedReplies: SharedArrayBuffer;
  /** Ports to bind (after the first worker resolved any port 0). */
  ports: number[];
  /** Bind with SO_REUSEPORT (always, except worker 0 under RootServerOptions.firstThreadExclusive). */
  reusePort: boolean;
  worlds: WorldFiles;
  /** Forward NETWORK_CONFIG_REQUEST to the main thread's network controller. */
  controller?: boolean;
}

export interface WorldFiles {
  planet?: Uint8Array;
  moons: Uint8Array[];
}

export interface WorkerStats {
  stats: StatsSnapshot;
  peers: number;
  reassemblyInFlight: number;
  /** p99 event-loop delay since the last report, seconds. */
  eventLoopLagSeconds: number;
}

export type ToWorker =
  /** refused 'store-failed': valid, but the identity cache could not be written (refused for now, not invalid). */
  | { type: 'validated'; id: number; valid: boolean; micros: number; refused?: 'queue-full' | 'closed' | 'store-failed' }
  | { type: 'gathered'; id: number; totalKnown: number; members: number[] }
  | { type: 'worlds'; worlds: WorldFiles }
  | { type: 'stats'; id: number }
  | { type: 'peers'; id: number }
  | { type: 'stop' }
  /** A packet from the network controller for a member (to: its address). */
  | { type: 'controller-send'; to: number; verb: number; payload: Uint8Array };

export type FromWorker =
  | { type: 'ready'; sockets: { address: string; port: number }[] }
  | { type: 'failed'; message: string }
  | { type: 'validate'; id: number; address: number; publicKey: Uint8Array }
  | { type: 'like'; networkId: bigint; mac: number; adi: number; subscriber: number; nowMs: number }
  | { type: 'gather'; id: number; networkId: bigint; mac: number; adi: number; requester: number; limit: number; nowMs: number }
  | { type: 'stats'; id: number; value: WorkerStats }
  /** An upstream sent a newer world that the worker took: the main thread saves it and tells the others. */
  | { type: 'world'; world: Uint8Array }
  | { type: 'peers'; id: number; value: PeerView[] }
  | { type: 'stopped' }
  /** NETWORK_CONFIG_REQUEST for the controller: the sender's public identity, the packet ID and the payload. */
  | { type: 'config-request'; identity: string; packetId: bigint; payload: Uint8Array };
