// The controller on a node core: NETWORK_CONFIG_REQUEST in, configs, errors and revocations out.
// In a single-threaded node the controller and the node share a thread; in a root with packet
// workers the workers forward requests to the main thread (root-server.ts) and send what comes
// back with sendToAddress.

import { join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import type { Address } from '../identity/address.ts';
import type { Identity } from '../identity/identity.ts';
import type { Node } from '../node/node.ts';
import { NetworkController } from './controller.ts';
import { ControllerStore } from './store.ts';
import { parseManagementNetwork, type ManagementNetwork } from '../api/auth.ts';

/** Files of the controller in a node's home. */
export const CONTROLLER_FILES = {
  database: 'controller.db',
} as const;

/**
 * Networks allowed to use the API besides loopback: `settings.allowManagementFrom` of local.conf
 * in the home (as zerotier-one reads it) plus `extra` (a command-line list). Entries that do not
 * parse are returned in `bad`.
 */
export function managementNetworks(home: string, extra: readonly string[] = []): { networks: ManagementNetwork[]; bad: string[] } {
  const texts = [...extra];
  const path = join(home, 'local.conf');
  if (existsSync(path)) {
    try {
      const conf = JSON.parse(readFileSync(path, 'utf8')) as { settings?: { allowManagementFrom?: unknown } };
      const list = conf.settings?.allowManagementFrom;
      if (Array.isArray(list)) texts.push(...list.filter((x): x is string => typeof x === 'string'));
    } catch {
      return { networks: [], bad: [`${path}: not JSON`] };
    }
  }
  const networks: ManagementNetwork[] = [], bad: string[] = [];
  for (const t of texts) {
    const n = parseManagementNetwork(t.trim());
    if (n) networks.push(n);
    else bad.push(t);
  }
  return { networks, bad };
}

/**
 * Send a packet to a node by address: over the peer's own best path, else the freshest path the
 * shared peer table knows (another worker may have learned it). False if we know no way there.
 */
export function sendToAddress(node: Node, to: Address, verb: number, payload: Uint8Array): boolean {
  const peer = node.peerFor(to);
  if (!peer) return false;
  const path = peer.bestPath();
  if (path) return node.send(peer, verb, payload, { path });
  const known = node.tablePath(to);
  if (!known) return false;
  node.sendTo(peer, known.socket, known.remote, verb, payload);
  return true;
}

/** A controller whose store lives in `home` and whose packets leave through `send`. */
export function openController(home: string, identity: Identity, send: (to: Address, verb: number, payload: Uint8Array) => void): NetworkController {
  const store = new ControllerStore(join(home, CONTROLLER_FILES.database));
  return new NetworkController({ identity, store, output: { send } });
}
