// The controller's HTTP API (07-network-config-controller.md §11, 12-controller-ui-compat.md):
// the /controller and /unstable/controller routes of zerotier-one 1.14, with its status codes,
// bodies and quirks, so ztncui, ZTNET and zero-ui work unchanged. Served on the process's one
// HTTP listener (root-http.ts) behind zerotier-one's token scheme.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { isLoopbackClient, requestToken, tokensEqual } from './auth.ts';
import { formatAddress } from '../identity/address.ts';
import { SOFTWARE_VERSION } from '../node/node.ts';
import type { NetworkController } from '../controller/controller.ts';
import type { RootServer } from '../root/root-server.ts';
import { isObject, jsonBool, jsonInt, stringifySorted, u64Json, type Json, type JsonObject } from '../controller/json-values.ts';
import { RecordInputError, formatNetworkId } from '../controller/records.ts';
import { routeContains } from '../controller/config-builder.ts';
import { parseInetAddress, type IpAddress } from '../wire/inet-address.ts';

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

/** Paths this module serves: the controller's, and the node's /status and /peer that the UIs read. */
export function isControllerPath(pathname: string): boolean {
  return pathname === '/controller' || pathname.startsWith('/controller/') || pathname.startsWith('/unstable/controller/')
    || pathname === '/status' || pathname === '/peer' || pathname.startsWith('/peer/');
}

/** A peer as the node knows it, for /peer. */
export interface PeerInfo {
  address: string;
  version: string;
  role: string;
  paths: { address: string; lastReceiveMs: number }[];
}

/** What /status and /peer show of the node the controller runs on. */
export interface NodeInfo {
  publicIdentity: string;
  planetWorldId: bigint;
  planetWorldTimestamp: bigint;
  homeDir: string;
  listeningOn: string[];
  peers(): Promise<PeerInfo[]>;
}

/** NodeInfo of a root server (root --controller). */
export function rootNodeInfo(root: RootServer): NodeInfo {
  return {
    publicIdentity: root.identity.toString(false),
    planetWorldId: root.topology.planet?.id ?? 0n,
    planetWorldTimestamp: root.topology.planet?.timestamp ?? 0n,
    homeDir: root.config.home,
    listeningOn: root.sockets.map((x) => `${x.address}/${x.port}`),
    peers: async () => {
      const now = Date.now();
      return (await root.peers()).map((p) => ({
        address: p.address, version: p.version, role: p.role,
        paths: p.paths.map((x) => ({ address: x.address, lastReceiveMs: now - x.lastReceiveAgoMs })),
      }));
    },
  };
}

/** /status with the fields the UIs read (09-local-api-and-cli.md §2, 12-controller-ui-compat.md §1). */
function status(controller: NetworkController, node: NodeInfo): Json {
  const port = Number(node.listeningOn[0]?.split('/')[1] ?? 0);
  return {
    address: formatAddress(controller.identity.address), clock: controller.now(),
    config: { settings: { allowTcpFallbackRelay: false, forceTcpRelay: false, homeDir: node.homeDir, listeningOn: node.listeningOn,
      portMappingEnabled: false, primaryPort: port, softwareUpdate: 'disable', softwareUpdateChannel: 'release', surfaceAddresses: node.listeningOn } },
    online: true, planetWorldId: u64Json(node.planetWorldId), planetWorldTimestamp: u64Json(node.planetWorldTimestamp),
    publicIdentity: node.publicIdentity, tcpFallbackActive: false,
    version: `${SOFTWARE_VERSION.major}.${SOFTWARE_VERSION.minor}.${SOFTWARE_VERSION.revision}`,
    versionBuild: 0, versionMajor: SOFTWARE_VERSION.major, versionMinor: SOFTWARE_VERSION.minor, versionRev: SOFTWARE_VERSION.revision,
  };
}

function peerJson(p: PeerInfo): JsonObject {
  const [major, minor, rev] = p.version.split('.').map(Number);
  return {
    address: p.address, isBonded: false, latency: -1, role: p.role, tunneled: false, version: p.version,
    versionMajor: major, versionMinor: minor, versionRev: rev,
    paths: p.paths.map((x, i) => ({
      active: true, address: x.address, expired: false, lastReceive: x.lastReceiveMs, lastSend: x.lastReceiveMs,
      localPort: 0, localSocket: 0, preferred: i === 0, trustedPathId: 0,
    })),
  };
}

/** /status, /peer and /peer/{address}; undefined for other paths. */
async function nodeApi(controller: NetworkController, node: NodeInfo, method: string, pathname: string): Promise<Reply | undefined> {
  if (method !== 'GET') return undefined;
  if (pathname === '/status') return json(200, status(controller, node));
  if (pathname === '/peer') return json(200, (await node.peers()).map(peerJson));
  const m = /^\/peer\/([0-9a-fA-F]{10})$/.exec(pathname);
  if (!m) return undefined;
  // an unknown peer is 200 {} (docs/protocol/12-controller-ui-compat.md §1)
  const p = (await node.peers()).find((x) => x.address === m[1].toLowerCase());
  return json(200, p ? peerJson(p) : {});
}

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

const isControllerOnlyPath = (p: string): boolean => p === '/controller' || p.startsWith('/controller/') || p.startsWith('/unstable/');

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
    if (method === 'GET') return json(200, controller.store.networkIds().map(formatNetworkId));
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

// ---------------------------------------------------------------------------------------------
// HTTP plumbing: token, loopback, bounded body
// ---------------------------------------------------------------------------------------------

/** The token from X-ZT1-Auth, `Authorization: Bearer`, or the `auth` query parameter. */

/** A network clients may manage the controller from (zerotier-one's allowManagementFrom). */
export interface ManagementNetwork { readonly ip: IpAddress; readonly bits: number }

/** "IP/bits" (or a bare IP) as a management network; null if it does not parse. */
export function parseManagementNetwork(text: string): ManagementNetwork | null {
  const a = parseInetAddress(text.includes('/') ? text : `${text}/${text.includes(':') ? 128 : 32}`);
  if (!a || a.port > (a.family === 4 ? 32 : 128)) return null;
  return { ip: a, bits: a.port };
}

/** Whether a client address may use the API: loopback always, others only inside a management network. */
export function allowedFrom(address: string | undefined, networks: readonly ManagementNetwork[]): boolean {
  if (isLoopbackClient(address)) return true;
  if (!address || networks.length === 0) return false;
  const text = address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
  const ip = parseInetAddress(text);
  return ip !== null && networks.some((n) => routeContains({ ...n.ip, port: n.bits }, ip));
}

function send(res: ServerResponse, r: Reply): void {
  res.writeHead(r.status, r.body === '' ? {} : { 'content-type': 'application/json' });
  res.end(r.body);
}

/** Read a request body up to MAX_BODY_BYTES; undefined (after answering 413) if it is larger. */
function readBody(req: IncomingMessage, res: ServerResponse): Promise<string | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (c: Buffer) => {
      if (done) return;
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        done = true;
        send(res, json(413, { error: 413, description: `request body over ${MAX_BODY_BYTES} bytes` }));
        req.destroy();
        resolve(undefined);
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!done) resolve(Buffer.concat(chunks).toString('utf8'));
      done = true;
    });
    req.on('error', () => {
      if (!done) resolve(undefined);
      done = true;
    });
  });
}

/** Serve one controller API request (the caller checked isControllerPath). */
export function serveControllerApi(
  controller: NetworkController, authToken: string, req: IncomingMessage, res: ServerResponse, url: URL, node?: NodeInfo,
  allowManagementFrom: readonly ManagementNetwork[] = [],
): void {
  if (!allowedFrom(req.socket.remoteAddress, allowManagementFrom)) return send(res, json(403, {}));
  if (!tokensEqual(requestToken(req, url), authToken)) return send(res, json(401, {}));
  const method = req.method ?? 'GET';
  const run = (body: string): void => {
    try {
      send(res, controllerApi(controller, method, url.pathname, body));
    } catch (e) {
      send(res, json(500, { error: 500, description: (e as Error).message }));
    }
  };
  if (method === 'POST' || method === 'PUT') return void readBody(req, res).then((b) => { if (b !== undefined) run(b); });
  if (node && !isControllerOnlyPath(url.pathname)) {
    return void nodeApi(controller, node, method, url.pathname).then(
      (r) => send(res, r ?? EMPTY_404),
      (e: unknown) => send(res, json(500, { error: 500, description: (e as Error).message })),
    );
  }
  run('');
}
