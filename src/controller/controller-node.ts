// `ztroot controller`: a leaf node (LeafNode: its planet and moons, the node's local API) that
// also runs the network controller: it answers config requests that reach it through its roots,
// and the same local API listener serves the /controller routes (one listener, one token).

import { formatAddress } from '../identity/address.ts';
import { controllerRoutes } from '../api/controller-routes.ts';
import type { HttpListener } from '../api/http-listener.ts';
import { startLeafApi } from '../leaf/leaf-api.ts';
import { LeafNode } from '../leaf/leaf-node.ts';
import { registerControllerMetrics } from '../metrics/controller-metrics.ts';
import type { SimpleLeaf } from '../leaf/simple-leaf.ts';
import { silentLogger, type Logger } from '../util/log.ts';
import { Verb } from '../wire/constants.ts';
import { join } from 'node:path';
import { CONTROLLER_FILES, managementNetworks } from './controller-role.ts';
import { NetworkController } from './controller.ts';
import { ControllerStore } from './store.ts';

export interface ControllerNodeOptions {
  home: string;
  /** Local IPs for UDP (empty: every address). */
  bind: string[];
  /** UDP port (0: any). */
  port: number;
  /** The planet: a file or "public"; unset, `<home>/planet` (never the public planet unless named). */
  planet?: string;
  /** "IP:port" of the API listener, "" for none. */
  httpListen: string;
  /** Networks besides loopback that may use the API (local.conf's allowManagementFrom is added). */
  allowManagementFrom?: string[];
  /** Loopback tests only: 1.14 never uses loopback paths. */
  allowLoopbackPaths?: boolean;
  log?: Logger;
}

export class ControllerNode {
  readonly node: LeafNode;
  readonly controller: NetworkController;
  private readonly options: ControllerNodeOptions;
  private api: HttpListener | undefined;

  constructor(options: ControllerNodeOptions) {
    this.options = options;
    this.node = new LeafNode({
      home: options.home, bind: options.bind, port: options.port, planet: options.planet,
      allowLoopbackPaths: options.allowLoopbackPaths, log: options.log ?? silentLogger,
    });
    this.controller = new NetworkController({
      identity: this.node.identity, store: new ControllerStore(join(options.home, CONTROLLER_FILES.database)),
      output: { send: (to, verb, payload) => void this.leaf.sendVerb(to, verb, payload) },
    });
    this.leaf.on('packet', (peer, verb, payload, inbound) => {
      if (verb === Verb.NETWORK_CONFIG_REQUEST) this.controller.requestFromPayload(peer.identity, inbound.packetId, payload);
    });
  }

  /** The node's packets (its SimpleLeaf). */
  get leaf(): SimpleLeaf {
    return this.node.leaf;
  }

  get address(): string {
    return formatAddress(this.node.address);
  }

  /** The API's TCP port (0 when it is off). */
  get httpPort(): number {
    return this.api?.port ?? 0;
  }

  /** The API's bound "IP:port" (undefined when it is off). */
  get httpAddress(): string | undefined {
    return this.api?.address;
  }

  async start(): Promise<void> {
    const management = managementNetworks(this.options.home, this.options.allowManagementFrom);
    if (management.bad.length > 0) throw new Error(`allowManagementFrom: not a network: ${management.bad.join(', ')}`);
    await this.node.start();
    if (!this.options.httpListen) return;
    this.api = await startLeafApi(this.node, {
      listen: this.options.httpListen,
      allowManagementFrom: management.networks,
      role: { routes: controllerRoutes(this.controller), registerMetrics: (registry) => registerControllerMetrics(registry, this.controller) },
    });
  }

  async stop(): Promise<void> {
    await this.api?.close();
    await this.node.stop();
    this.controller.store.close();
  }
}
