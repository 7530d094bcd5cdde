// The controller's HTTP API (07-network-config-controller.md §11, 12-controller-ui-compat.md):
// the /controller and /unstable/controller routes of zerotier-one 1.14, with its status codes,
// bodies and quirks, so ztncui, ZTNET and zero-ui work unchanged. A route provider of the
// process's one HTTP listener (http-listener.ts), behind zerotier-one's token scheme; the /status
// and /peer the UIs also read are the node routes (node-routes.ts).

import { formatAddress } from '../identity/address.ts';
import type { NetworkController } from '../controller/controller.ts';
import { isObject, jsonBool, jsonInt, stringifySorted, type Json, type JsonObject } from '../controller/json-values.ts';
import { RecordInputError } from '../controller/records.ts';
import type { RouteProvider } from './http-listener.ts';
import { hex64 } from '../util/hex.ts';

/** Largest request body accepted, bytes (a network with 16,384 routes fits comfortably). */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;
/** ZT_NETCONF_CONTROLLER_API_VERSION. */
const API_VERSION = 4;

interface Reply { status: number; body: string }

const json = (status: number, v: Json): Reply => ({ status, body: stringifySorted(v) });
const EMPTY_404: Reply = { status: 404, body: '' };

const HEX16 = '([0-9a-fA-F]{16})';
const HEX10 = '([0-9a-fA-F]{10})';
const ROUTES = {
  controller: /^\/controller$/,
  networks: /^\/controller\/network$/,
  networksUnstable: /^\/unstable\/controller\/network$/,
  legacyCreate: new RegExp(`^/controller/network/${HEX10}______$`),
  network: new RegExp(`^/controller/network/${HEX16}$`),
  members: new RegExp(`^/controller/network/${HEX16}/member$`),
  membersUnstable: new RegExp(`^/unstable/controller/network/${HEX16}/member$`),
  member: new RegExp(`^/controller/network/${HEX16}/member/${HEX10}$`),
} as const;

/** A request body as a JSON object: 1.14 ignores what is not an object; text that is not JSON is a 500. */
function parseBody(text: string): JsonObject | Reply {
  if (text.trim() === '') return {};
  try {
    const v = JSON.parse(text) as Json;
    return isObject(v) ? v : {};
  } catch (e) {
    return json(500, { error: 500, description: `bad JSON: ${(e as Error).message}` });
  }
}

const isReply = (v: JsonObject | Reply): v is Reply => typeof v.status === 'number' && typeof v.body === 'string' && Object.keys(v).length === 2;

/** Dispatch one API call; `body` is the request body text (for POST/PUT). */
export function controllerApi(controller: NetworkController, method: string, pathname: string, body: string): Reply {
  const write = method === 'POST' || method === 'PUT';
  let m: RegExpExecArray | null;
  const withBody = (f: (b: JsonObject) => Reply): Reply => {
    const b = parseBody(body);
    if (isReply(b)) return b;
    try {
      return f(b);
    } catch (e) {
      if (e instanceof RecordInputError) return json(500, { error: 500, description: e.message });
      throw e;
    }
  };

  if (ROUTES.controller.test(pathname) && method === 'GET') {
    // 1.14 formats this one by hand, with tabs
    return { status: 200, body: `{\n\t"controller": true,\n\t"apiVersion": ${API_VERSION},\n\t"clock": ${controller.now()},\n\t"databaseReady": true\n}\n` };
  }
  if (ROUTES.networks.test(pathname)) {
    if (method === 'GET') return json(200, controller.store.networkIds().map(hex64));
    if (write) return withBody((b) => createNetwork(controller, b));
  }
  if (ROUTES.networksUnstable.test(pathname) && method === 'GET') {
    const data = controller.store.networkIds().map((nwid) => {
      const c = controller.counts(nwid);
      return { ...controller.store.network(nwid)!, meta: { totalMemberCount: c.total, authorizedMemberCount: c.authorized } };
    });
    return json(200, { data, meta: { networkCount: data.length } });
  }
  if ((m = ROUTES.legacyCreate.exec(pathname)) && write) {
    if (m[1].toLowerCase() !== formatAddress(controller.identity.address)) return { status: 400, body: '' };
    return withBody((b) => createNetwork(controller, b));
  }
  if ((m = ROUTES.network.exec(pathname))) {
    const nwid = BigInt('0x' + m[1]);
    if (method === 'GET') {
      const n = controller.store.network(nwid);
      return n ? json(200, n) : EMPTY_404;
    }
    if (write) return withBody((b) => json(200, controller.postNetwork(nwid, b)));
    if (method === 'DELETE') {
      const old = controller.deleteNetwork(nwid);
      return old ? json(200, old) : EMPTY_404;
    }
  }
  if ((m = ROUTES.members.exec(pathname)) && method === 'GET') {
    const nwid = BigInt('0x' + m[1]);
    if (!controller.store.hasNetwork(nwid)) return EMPTY_404;
    const out: JsonObject = {};
    for (const r of controller.store.members(nwid)) {
      if (typeof r.id === 'string' && r.id.length === 10) out[r.id] = jsonInt(r.revision, 0);
    }
    return json(200, out);
  }
  if ((m = ROUTES.membersUnstable.exec(pathname)) && method === 'GET') {
    const nwid = BigInt('0x' + m[1]);
    if (!controller.store.hasNetwork(nwid)) return EMPTY_404;
    const data = controller.store.members(nwid);
    return json(200, { data, meta: { totalCount: data.length, authorizedCount: data.filter((r) => jsonBool(r.authorized, false)).length } });
  }
  if ((m = ROUTES.member.exec(pathname))) {
    const nwid = BigInt('0x' + m[1]);
    const address = Number.parseInt(m[2], 16);
    if (method === 'GET') {
      const r = controller.store.member(nwid, address);
      return r ? json(200, r) : EMPTY_404;
    }
    if (write) {
      if (!controller.store.hasNetwork(nwid)) return EMPTY_404;
      return withBody((b) => json(200, controller.postMember(nwid, address, b)!));
    }
    if (method === 'DELETE') {
      const old = controller.deleteMember(nwid, address);
      return old ? json(200, old) : EMPTY_404;
    }
  }
  return EMPTY_404; // no route (1.14's HTTP server answers an empty 404)
}

function createNetwork(controller: NetworkController, body: JsonObject): Reply {
  const nwid = controller.newNetworkId();
  if (nwid === undefined) return { status: 503, body: '' };
  return json(200, controller.postNetwork(nwid, body));
}

/**
 * The controller's routes: everything under /controller and /unstable/controller goes to
 * controllerApi, which answers what 1.14 answers (an empty 404 for a path it does not know).
 */
export function controllerRoutes(controller: NetworkController): RouteProvider {
  return {
    name: 'controller',
    routes: [{
      path: /^\/(?:unstable\/)?controller(?:\/.*)?$/, methods: ['GET', 'POST', 'PUT', 'DELETE'], access: 'api', maxBodyBytes: MAX_BODY_BYTES,
      handle: ({ method, pathname, body }) => controllerApi(controller, method, pathname, body),
    }],
  };
}
