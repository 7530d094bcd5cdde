// A leaf node on the process's one HTTP listener (src/api/http-listener.ts): the node routes that
// zerotier-cli and the UIs read, and /metrics with the node's series; another role on the same
// node (the controller) adds its routes and metrics here, on the same listener and tokens.

import type { Registry } from 'prom-client';
import type { ManagementNetwork } from '../api/auth.ts';
import { startHttpListener, type HttpListener, type RouteProvider } from '../api/http-listener.ts';
import { metricsRoutes } from '../api/metrics-routes.ts';
import { nodeRoutes } from '../api/node-routes.ts';
import { createNodeRegistry } from '../metrics/node-metrics.ts';
import { loadOrCreateAuthToken } from '../root/home.ts';
import type { LeafNode } from './leaf-node.ts';

export interface LeafApiOptions {
  /** "IP:port"; zerotier-one listens on the primary UDP port number. */
  listen: string;
  /** Default: authtoken.secret in the leaf's home (made if missing). */
  authToken?: string;
  /** Default: metricstoken.secret in the leaf's home (made if missing; see LeafNode.metricsToken). */
  metricsToken?: string;
  /** Networks besides loopback that may use the node (and other roles') routes. */
  allowManagementFrom?: readonly ManagementNetwork[];
  /** Another role on this node: its routes (before the node's) and its metrics. */
  role?: { routes: RouteProvider; registerMetrics(registry: Registry): void };
}

export function startLeafApi(leaf: LeafNode, options: LeafApiOptions): Promise<HttpListener> {
  const registry = createNodeRegistry(leaf);
  options.role?.registerMetrics(registry);
  return startHttpListener({
    listen: options.listen,
    authToken: options.authToken ?? loadOrCreateAuthToken(leaf.home),
    metricsToken: options.metricsToken ?? leaf.metricsToken(),
    allowManagementFrom: options.allowManagementFrom,
    providers: [metricsRoutes(registry), ...(options.role ? [options.role.routes] : []), nodeRoutes(leaf)],
  });
}
