// The node's objects as zerotier-one 1.14's local API shows them (docs/protocol/09-local-api-and-cli.md §3–§4),
// whatever the role: /health, /status, a peer, a moon. Key sets are held to the 1.14.1 recordings
// (test/fixtures/zerotier-1.14.1/api-and-cli.json).

import { SOFTWARE_VERSION } from '../node/node.ts';
import { formatInetAddress } from '../wire/inet-address.ts';
import type { World } from '../world/world.ts';
import type { Json } from './http-listener.ts';

const VERSION = `${SOFTWARE_VERSION.major}.${SOFTWARE_VERSION.minor}.${SOFTWARE_VERSION.revision}`;
const VERSION_FIELDS = { versionBuild: 0, versionMajor: SOFTWARE_VERSION.major, versionMinor: SOFTWARE_VERSION.minor, versionRev: SOFTWARE_VERSION.revision };

/** A 64-bit value as an exact JSON number (1.14 prints uint64 in full; a double would round it). */
export function u64(v: bigint): Json {
  return (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON(v.toString()) as Json;
}

/** GET /health. */
export function healthJson(online: boolean): { [k: string]: Json } {
  return { clock: Date.now(), online, version: VERSION, ...VERSION_FIELDS };
}

export interface NodeStatus {
  address: string;
  publicIdentity: string;
  online: boolean;
  homeDir: string;
  /** "IP/port" of each UDP socket. */
  listeningOn: string[];
  primaryPort: number;
  /** The second UDP port a leaf binds (1.14's secondaryPort), when there is one. */
  secondaryPort?: number;
  /** Our addresses as peers reported them (1.14's surface addresses); default: listeningOn. */
  surfaceAddresses?: string[];
  planet: World | undefined;
}

/** GET /status. */
export function statusJson(s: NodeStatus): Json {
  return {
    address: s.address,
    clock: Date.now(),
    config: {
      settings: {
        allowTcpFallbackRelay: false, forceTcpRelay: false, homeDir: s.homeDir, listeningOn: s.listeningOn,
        portMappingEnabled: false, primaryPort: s.primaryPort, ...(s.secondaryPort === undefined ? {} : { secondaryPort: s.secondaryPort }),
        softwareUpdate: 'disable', softwareUpdateChannel: 'release', surfaceAddresses: s.surfaceAddresses ?? s.listeningOn,
      },
    },
    online: s.online,
    planetWorldId: u64(s.planet?.id ?? 0n),
    planetWorldTimestamp: u64(s.planet?.timestamp ?? 0n),
    publicIdentity: s.publicIdentity,
    tcpFallbackActive: false,
    version: VERSION,
    ...VERSION_FIELDS,
  };
}

export interface PeerPath {
  /** "IP/port". */
  address: string;
  lastReceiveMs: number;
  lastSendMs: number;
  localSocket: number;
  localPort: number;
  preferred: boolean;
}

export interface PeerStatus {
  address: string;
  /** Undefined while the peer's version is unknown. */
  version: { major: number; minor: number; revision: number } | undefined;
  role: string;
  paths: PeerPath[];
  /** Round trip on the preferred path, ms; undefined or ≥ 0xffff while unknown (shown as -1). */
  latencyMs?: number;
}

/** One element of GET /peer. */
export function peerJson(p: PeerStatus): Json {
  const v = p.version;
  return {
    address: p.address,
    isBonded: false,
    latency: p.latencyMs === undefined || p.latencyMs >= 0xffff ? -1 : p.latencyMs,
    paths: p.paths.map((x) => ({
      // 1.14 lists only the paths it keeps, every one active and none expired
      active: true, address: x.address, expired: false,
      lastReceive: x.lastReceiveMs, lastSend: x.lastSendMs, localPort: x.localPort, localSocket: x.localSocket,
      preferred: x.preferred, trustedPathId: 0,
    })),
    role: p.role,
    tunneled: false,
    version: v ? `${v.major}.${v.minor}.${v.revision}` : '-1.-1.-1',
    versionMajor: v ? v.major : -1, versionMinor: v ? v.minor : -1, versionRev: v ? v.revision : -1,
  };
}

/** One element of GET /moon. */
export function moonJson(m: World): Json {
  return {
    id: m.idHex,
    roots: m.roots.map((r) => ({ identity: r.identity.toString(false), stableEndpoints: r.stableEndpoints.map(formatInetAddress) })),
    signature: Buffer.from(m.signature).toString('hex'),
    timestamp: u64(m.timestamp),
    updatesMustBeSignedBy: Buffer.from(m.updatesMustBeSignedBy).toString('hex'),
    waiting: false,
  };
}
