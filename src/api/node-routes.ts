// The node routes of zerotier-one's local API (docs/protocol/09-local-api-and-cli.md §3): /health,
// /status, /config, /peer, /network, /moon. Every role is a node, so each offers a NodeApiView
// (the leaf and the controller node through LeafNode, the root through its own view) and serves
// these routes on its one listener; zerotier-cli and `ztroot cli` work against any of them.

import { healthJson } from './node-json.ts';
import type { Json, Reply, RouteProvider } from './http-listener.ts';
import { hex64 } from '../util/hex.ts';

/** A change this node does not make (a root joins no network): answered 403 with the reason. */
export class Refusal {
  readonly reason: string;
  constructor(reason: string) {
    this.reason = reason;
  }
}

export type NetworkSettingName = 'allowManaged' | 'allowGlobal' | 'allowDefault' | 'allowDNS';
const SETTING_NAMES: readonly NetworkSettingName[] = ['allowManaged', 'allowGlobal', 'allowDefault', 'allowDNS'];

/** What the node routes read and change. */
export interface NodeApiView {
  readonly online: boolean;
  statusJson(): Json;
  peersJson(): Json[] | Promise<Json[]>;
  networksJson(): Json[];
  networkJson(nwid: bigint): Json | undefined;
  join(nwid: bigint, settings: Partial<Record<NetworkSettingName, boolean>>): Json | Refusal;
  /** True if the network was joined. */
  leave(nwid: bigint): boolean;
  moonsJson(): Json[];
  orbit(moonId: bigint, seed: number): Json | Refusal;
  deorbit(moonId: bigint): Refusal | void;
}

const HEX10 = '([0-9a-fA-F]{10})';
const HEX16 = '([0-9a-fA-F]{16})';
const ok = (body: Json): Reply => ({ status: 200, body });
const refused = (r: Refusal): Reply => ({ status: 403, body: { error: 403, description: r.reason } });
const answer = (v: Json | Refusal): Reply => (v instanceof Refusal ? refused(v) : ok(v));

function bodyObject(text: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? v as Record<string, unknown> : {};
  } catch {
    return {};
  }
}

const WRITE = ['POST', 'PUT'];

export function nodeRoutes(node: NodeApiView): RouteProvider {
  return {
    name: 'node',
    routes: [
      { path: /^\/health$/, methods: ['GET'], access: 'open', handle: () => ok(healthJson(node.online)) },
      { path: /^\/status$/, methods: ['GET'], access: 'api', handle: () => ok(node.statusJson()) },
      { path: /^\/config$/, methods: ['GET'], access: 'api', handle: () => ok({}) },
      { path: /^\/peer$/, methods: ['GET'], access: 'api', handle: async () => ok(await node.peersJson()) },
      {
        path: new RegExp(`^/peer/${HEX10}$`), methods: ['GET'], access: 'api',
        handle: async ({ match }) => {
          // an unknown peer is 200 {} (docs/protocol/12-controller-ui-compat.md §1)
          const want = match[1].toLowerCase();
          return ok((await node.peersJson()).find((p) => (p as { address?: string }).address === want) ?? {});
        },
      },
      { path: /^\/network$/, methods: ['GET'], access: 'api', handle: () => ok(node.networksJson()) },
      {
        path: new RegExp(`^/network/${HEX16}$`), methods: ['GET', ...WRITE, 'DELETE'], access: 'api',
        handle: ({ method, match, body }) => {
          const nwid = BigInt(`0x${match[1]}`);
          if (method === 'GET') {
            const n = node.networkJson(nwid);
            return n ? ok(n) : { status: 404, body: {} };
          }
          if (method === 'DELETE') return ok(node.leave(nwid) ? { result: true } : {});
          const b = bodyObject(body);
          const settings: Partial<Record<NetworkSettingName, boolean>> = {};
          for (const k of SETTING_NAMES) {
            const v = b[k];
            if (typeof v === 'boolean') settings[k] = v;
          }
          return answer(node.join(nwid, settings));
        },
      },
      { path: /^\/moon$/, methods: ['GET'], access: 'api', handle: () => ok(node.moonsJson()) },
      {
        // exactly 10 hex digits, as 1.14's route regex (docs/protocol/09-local-api-and-cli.md §3)
        path: new RegExp(`^/moon/${HEX10}$`), methods: ['GET', ...WRITE, 'DELETE'], access: 'api',
        handle: ({ method, match, body }) => {
          const moonId = BigInt(`0x${match[1]}`);
          if (method === 'GET') return ok(node.moonsJson().find((m) => (m as { id?: string }).id === hex64(moonId)) ?? {});
          if (method === 'DELETE') {
            const r = node.deorbit(moonId);
            return r instanceof Refusal ? refused(r) : ok({ result: true });
          }
          const seed = bodyObject(body).seed;
          const seedAddress = typeof seed === 'string' && /^[0-9a-fA-F]{1,10}$/.test(seed) ? Number.parseInt(seed, 16) : 0;
          return answer(node.orbit(moonId, seedAddress));
        },
      },
    ],
  };
}
