// `ztroot controller`: a node whose only role is the network controller. It keeps in touch with
// its roots like a leaf (HELLO to the planet's and moons' roots, so members find it through them),
// answers config requests, and serves the /controller API on its local HTTP port.

import { createServer, type RequestListener, type Server } from 'node:http';
import { join } from 'node:path';
import { formatAddress } from '../identity/address.ts';
import { serveControllerApi, isControllerPath, type NodeInfo } from '../api/controller-routes.ts';
import { formatInetAddress } from '../wire/inet-address.ts';
import { parseListen } from '../api/root-http.ts';
import { SimpleLeaf } from '../leaf/simple-leaf.ts';
import { loadWorldFiles } from '../node/topology.ts';
import { ensureHome, loadOrCreateIdentity } from '../root/home.ts';
import { silentLogger, type Logger } from '../util/log.ts';
import { Verb } from '../wire/constants.ts';
import { World } from '../world/world.ts';
import { DEFAULT_PLANET } from '../world/default-planet.ts';
import { CONTROLLER_FILES, loadOrCreateAuthToken, managementNetworks } from './controller-role.ts';
import { NetworkController } from './controller.ts';
import { ControllerStore } from './store.ts';

export interface ControllerNodeOptions {
  home: string;
  /** Local IPs for UDP (empty: every address). */
  bind: string[];
  /** UDP port (0: any). */
  port: number;
  /** "IP:port" of the API listener, "" for none. */
  httpListen: string;
  /** Networks besides loopback that may use the API (local.conf's allowManagementFrom is added). */
  allowManagementFrom?: string[];
  /** Loopback tests only: 1.14 never uses loopback paths. */
  allowLoopbackPaths?: boolean;
  log?: Logger;
}

export class ControllerNode {
  readonly leaf: SimpleLeaf;
  readonly controller: NetworkController;
  private readonly options: ControllerNodeOptions;
  private http: Server[] = [];
  httpPort = 0;

  constructor(options: ControllerNodeOptions) {
    this.options = options;
    ensureHome(options.home);
    const { identity } = loadOrCreateIdentity(options.home);
    const worlds = loadWorldFiles(options.home);
    for (const p of worlds.problems) (options.log ?? silentLogger).warn('world file ignored', { problem: p });
    const planet = worlds.planet ?? (World.decode(DEFAULT_PLANET) as { world: World }).world;
    this.leaf = new SimpleLeaf({
      identity, planet, moons: worlds.moons, bind: options.bind, port: options.port, allowLoopbackPaths: options.allowLoopbackPaths,
    });
    this.controller = new NetworkController({
      identity, store: new ControllerStore(join(options.home, CONTROLLER_FILES.database)),
      output: { send: (to, verb, payload) => void this.leaf.sendVerb(to, verb, payload) },
    });
    this.leaf.on('packet', (peer, verb, payload, inbound) => {
      if (verb === Verb.NETWORK_CONFIG_REQUEST) this.controller.requestFromPayload(peer.identity, inbound.packetId, payload);
    });
  }

  get address(): string {
    return formatAddress(this.leaf.address);
  }

  async start(): Promise<void> {
    await this.leaf.start();
    if (!this.options.httpListen) return;
    const token = loadOrCreateAuthToken(this.options.home);
    const management = managementNetworks(this.options.home, this.options.allowManagementFrom);
    if (management.bad.length > 0) throw new Error(`allowManagementFrom: not a network: ${management.bad.join(', ')}`);
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (isControllerPath(url.pathname)) return serveControllerApi(this.controller, token, req, res, url, this.nodeInfo(), management.networks);
      res.writeHead(404).end();
    });
    const { host, port } = parseListen(this.options.httpListen);
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e) => reject(new Error(`cannot listen on ${this.options.httpListen}: ${e.message}`)));
      server.listen(port, host, () => resolve());
    });
    const a = server.address();
    this.httpPort = typeof a === 'object' && a ? a.port : port;
    this.http = [server];
    if (host === '127.0.0.1') {
      // also IPv6 loopback, where newer Node sends "localhost" (best effort)
      const v6 = createServer(server.listeners('request')[0] as RequestListener);
      const ok = await new Promise<boolean>((resolve) => {
        v6.once('error', () => resolve(false));
        v6.listen(this.httpPort, '::1', () => resolve(true));
      });
      if (ok) this.http.push(v6);
    }
  }

  /** What /status and /peer show. */
  nodeInfo(): NodeInfo {
    const node = this.leaf.node;
    const planet = node.topology.planet;
    return {
      publicIdentity: this.leaf.identity.toString(false), planetWorldId: planet?.id ?? 0n, planetWorldTimestamp: planet?.timestamp ?? 0n,
      homeDir: this.options.home, listeningOn: this.leaf.sockets.map((s) => `${s.address}/${s.port}`),
      peers: async () => [...node.peers.values()].map((p) => ({
        address: formatAddress(p.address),
        version: `${p.version.major}.${p.version.minor}.${p.version.revision}`,
        role: node.topology.upstreams().get(p.address)?.role ?? 'LEAF',
        paths: [...p.paths.values()].map((x) => ({ address: formatInetAddress(x.remote), lastReceiveMs: x.lastReceiveMs })),
      })),
    };
  }

  async stop(): Promise<void> {
    await Promise.all(this.http.map((h) => new Promise<void>((r) => { h.closeAllConnections(); h.close(() => r()); })));
    await this.leaf.stop();
    this.controller.store.close();
  }
}
