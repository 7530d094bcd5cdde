// The root on the process's one HTTP listener (src/api/http-listener.ts): its own routes (/health
// with the root's fields, /peers behind the metrics token), /metrics, the controller's routes with
// `--controller`, and the node routes every role serves — the root is a node too, so
// zerotier-cli and `ztroot cli` read its /status, /peer and /moon (RootNodeView).

import { formatAddress } from '../identity/address.ts';
import { startHttpListener, type HttpListener, type Json, type RouteProvider } from '../api/http-listener.ts';
import type { ManagementNetwork } from '../api/auth.ts';
import { controllerRoutes } from '../api/controller-routes.ts';
import { metricsRoutes } from '../api/metrics-routes.ts';
import { healthJson, moonJson, peerJson, statusJson, type PeerStatus } from '../api/node-json.ts';
import { nodeRoutes, Refusal, type NodeApiView } from '../api/node-routes.ts';
import { registerControllerMetrics } from '../metrics/controller-metrics.ts';
import { createRootRegistry } from '../metrics/root-metrics.ts';
import { loadOrCreateAuthToken } from './home.ts';
import type { PeerView } from './root-core.ts';
import type { RootServer } from './root-server.ts';

const NO_NETWORKS = 'this node is a root: it joins no networks';
const MOONS_FROM_HOME = "a root's moons are the files in its moons.d (re-read on SIGHUP)";

/** A root peer (merged across packet threads) as a 1.14 peer. */
function peerStatus(p: PeerView, now: number, sockets: readonly { address: string; port: number }[]): PeerStatus {
  const freshest = Math.min(...p.paths.map((x) => x.lastReceiveAgoMs));
  const [major, minor, revision] = p.version.split('.').map(Number);
  return {
    address: p.address,
    version: p.protocolVersion > 0 ? { major, minor, revision } : undefined,
    role: p.role,
    paths: p.paths.map((x) => {
      const socket = sockets.findIndex((s) => `${s.address}/${s.port}` === x.localSocket);
      return {
        address: x.address, lastReceiveMs: now - x.lastReceiveAgoMs, lastSendMs: x.lastSendAgoMs === null ? 0 : now - x.lastSendAgoMs,
        localSocket: socket, localPort: sockets[socket]?.port ?? 0, preferred: x.lastReceiveAgoMs === freshest,
      };
    }),
  };
}

/** What the node routes show of a root: no networks; the moons it serves or lives in. */
export class RootNodeView implements NodeApiView {
  private readonly root: RootServer;

  constructor(root: RootServer) {
    this.root = root;
  }

  /**
   * A root of one of its worlds is online (as 1.14 counts it); so is a root with no upstream to
   * reach (serving no world yet); otherwise it must have heard one of its upstreams.
   */
  get online(): boolean {
    if (this.root.topology.amUpstream) return true;
    const upstreams = this.root.upstreamStatus();
    return upstreams.length === 0 || upstreams.some((u) => u.reachable);
  }

  statusJson(): Json {
    const sockets = this.root.sockets;
    return statusJson({
      address: formatAddress(this.root.identity.address), publicIdentity: this.root.identity.toString(false), online: this.online,
      homeDir: this.root.config.home, listeningOn: sockets.map((s) => `${s.address}/${s.port}`), primaryPort: sockets[0]?.port ?? 0,
      planet: this.root.topology.planet,
    });
  }

  async peersJson(): Promise<Json[]> {
    const now = Date.now();
    return (await this.root.peers()).map((p) => peerJson(peerStatus(p, now, this.root.sockets)));
  }

  networksJson(): Json[] {
    return [];
  }

  networkJson(): undefined {
    return undefined;
  }

  join(): Refusal {
    return new Refusal(NO_NETWORKS);
  }

  leave(): boolean {
    return false;
  }

  moonsJson(): Json[] {
    return this.root.topology.moons.map(moonJson);
  }

  /** A moon it has already: that moon (as 1.14 answers an orbit of a known moon); others are refused. */
  orbit(moonId: bigint): Json | Refusal {
    const have = this.root.topology.moons.find((m) => m.id === moonId);
    return have ? moonJson(have) : new Refusal(MOONS_FROM_HOME);
  }

  deorbit(): Refusal {
    return new Refusal(MOONS_FROM_HOME);
  }
}

/** The root's own routes: /health with its fields (beside 1.14's), /peers in its own format. */
export function rootRoutes(root: RootServer, view: RootNodeView): RouteProvider {
  return {
    name: 'root',
    routes: [
      {
        path: /^\/health$/, methods: ['GET'], access: 'open',
        handle: () => ({ status: 200, body: {
          ...healthJson(view.online),
          ok: true,
          address: formatAddress(root.identity.address),
          uptimeSeconds: Math.round((Date.now() - root.startedMs) / 1000),
          workers: root.runningWorkers,
          packetThreads: root.packetThreads,
          peers: root.peerTable.size,
          worlds: root.topology.worlds.map((w) => w.idHex),
          upstreams: root.upstreamStatus().map((u) => ({
            address: formatAddress(u.address),
            role: u.role,
            worlds: u.worlds,
            stableEndpoints: u.stableEndpoints,
            reachable: u.reachable,
            lastHeardSecondsAgo: u.lastHeardMs === undefined ? null : Math.max(0, Math.round((Date.now() - u.lastHeardMs) / 1000)),
            path: u.path ?? null,
          })),
        } }),
      },
      { path: /^\/peers$/, methods: ['GET'], access: 'metrics', handle: async () => ({ status: 200, body: await root.peers() as unknown as Json }) },
    ],
  };
}

export interface RootApiOptions {
  /** "IP:port" or "[IPv6]:port". */
  listen: string;
  metricsToken: string;
  /** authtoken.secret (default: the one in the root's home, made if missing). */
  authToken?: string;
  /** Networks besides loopback that may use the node and controller routes. */
  allowManagementFrom?: readonly ManagementNetwork[];
}

export function startRootApi(root: RootServer, options: RootApiOptions): Promise<HttpListener> {
  const registry = createRootRegistry(root);
  if (root.controller) registerControllerMetrics(registry, root.controller);
  const view = new RootNodeView(root);
  return startHttpListener({
    listen: options.listen,
    authToken: options.authToken ?? loadOrCreateAuthToken(root.config.home),
    metricsToken: options.metricsToken,
    allowManagementFrom: options.allowManagementFrom,
    providers: [
      rootRoutes(root, view),
      metricsRoutes(registry, () => root.refreshMetrics()),
      ...(root.controller ? [controllerRoutes(root.controller)] : []),
      nodeRoutes(view),
    ],
  });
}
