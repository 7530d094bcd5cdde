// A root packet worker: one RootCore on its own SO_REUSEPORT sockets, sharing the peer table
// and the identity cache with the other workers; validation and multicast go to the main thread.

import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { join } from 'node:path';
import { parseIdentity, type Identity } from '../identity/identity.ts';
import { IdentityStore } from '../node/identity-store.ts';
import { ExpectedReplies } from '../node/expected-replies.ts';
import { SharedPeerTable } from '../node/shared-peer-table.ts';
import { snapshotStats } from '../node/stats.ts';
import type { IdentityValidator, ValidationOutcome } from '../node/validation-pool.ts';
import { createLogger } from '../util/log.ts';
import type { Address } from '../identity/address.ts';
import type { MulticastGroup } from '../wire/mac.ts';
import { World } from '../world/world.ts';
import { HOME_FILES } from './home.ts';
import { RootCore, type MulticastService } from './root-core.ts';
import { sendToAddress } from '../controller/controller-role.ts';
import type { FromWorker, ToWorker, WorkerInit, WorldFiles } from './worker-protocol.ts';

const init = workerData as WorkerInit;
const port = parentPort!;
const post = (m: FromWorker): void => port.postMessage(m);

/** Requests to the main thread waiting for an answer, by id. */
const pending = new Map<number, (m: ToWorker) => void>();
let nextId = 1;
function ask(build: (id: number) => FromWorker): Promise<ToWorker> {
  const id = nextId++;
  return new Promise((resolve) => {
    pending.set(id, resolve);
    post(build(id));
  });
}

let waiting = 0;
const validator: IdentityValidator = {
  async submit(identity: Identity): Promise<ValidationOutcome> {
    waiting++;
    const m = await ask((id) => ({ type: 'validate', id, address: identity.address, publicKey: identity.publicKey }));
    waiting--;
    if (m.type !== 'validated') return 'closed';
    // the admission path counts this as internal-error and does not remember the identity as invalid
    if (m.refused === 'store-failed') throw new Error('the identity cache could not be written');
    return m.refused ?? { valid: m.valid, micros: m.micros };
  },
  get queueDepth() { return waiting; },
  get inFlight() { return 0; },
  close: async () => {},
};

const multicast: MulticastService = {
  like(networkId: bigint, group: MulticastGroup, subscriber: Address, nowMs: number) {
    post({ type: 'like', networkId, mac: group.mac, adi: group.adi, subscriber, nowMs });
  },
  async gather(networkId, group, requester, limit, nowMs) {
    const m = await ask((id) => ({ type: 'gather', id, networkId, mac: group.mac, adi: group.adi, requester, limit, nowMs }));
    return m.type === 'gathered' ? { totalKnown: m.totalKnown, members: m.members } : { totalKnown: 0, members: [] };
  },
};

function decodeWorlds(w: WorldFiles): { planet: World | undefined; moons: World[] } {
  const one = (b: Uint8Array): World | undefined => {
    const d = World.decode(b);
    return typeof d === 'string' ? undefined : d.world;
  };
  return { planet: w.planet ? one(w.planet) : undefined, moons: w.moons.map(one).filter((m): m is World => m !== undefined) };
}

const identity = parseIdentity(init.identitySecret)!;
const log = createLogger(init.config.logLevel);
const store = new IdentityStore(join(init.config.home, HOME_FILES.identityCache), { cacheEntries: init.config.identityCacheEntries });
const core = new RootCore({
  config: init.config,
  identity,
  store,
  validation: validator,
  multicast,
  peerTable: new SharedPeerTable(init.peerTable),
  expectedReplies: new ExpectedReplies(init.expectedReplies),
  contactsUpstreams: init.index === 0,
  onWorld: (world) => post({ type: 'world', world: world.serialize() }),
  reusePort: init.reusePort,
  ports: init.ports,
  expiresPeerTable: false,
  log,
  onConfigRequest: init.controller
    ? (peer, payload, inbound) => post({ type: 'config-request', identity: peer.identity.toString(false), packetId: inbound.packetId, payload: Uint8Array.from(payload) })
    : undefined,
});
const initial = decodeWorlds(init.worlds);
core.setWorlds(initial.planet, initial.moons);
const lag = monitorEventLoopDelay({ resolution: 10 });
lag.enable();

port.on('message', (m: ToWorker) => {
  switch (m.type) {
    case 'validated':
    case 'gathered': {
      const resolve = pending.get(m.id);
      pending.delete(m.id);
      resolve?.(m);
      return;
    }
    case 'worlds': {
      const w = decodeWorlds(m.worlds);
      core.setWorlds(w.planet, w.moons);
      return;
    }
    case 'stats': {
      const value = {
        stats: snapshotStats(core.node.stats),
        peers: core.node.peers.size,
        reassemblyInFlight: core.node.reassembler.inFlight,
        eventLoopLagSeconds: lag.percentile(99) / 1e9,
      };
      lag.reset();
      post({ type: 'stats', id: m.id, value });
      return;
    }
    case 'peers':
      post({ type: 'peers', id: m.id, value: core.peersView() });
      return;
    case 'controller-send':
      sendToAddress(core.node, m.to, m.verb, m.payload);
      return;
    case 'stop':
      void core.stop().then(() => {
        store.close();
        post({ type: 'stopped' });
        port.close();
      });
  }
});

core.start().then(
  () => post({ type: 'ready', sockets: core.sockets.map((s) => ({ address: s.address, port: s.port })) }),
  (e: unknown) => post({ type: 'failed', message: (e as Error).message }),
);
