// Controller benchmark: config requests answered per second and per-request latency on a network
// of 10,000 members (build, sign COM/COO, encode, chunk and sign — everything but the UDP send),
// API GETs per second under the UIs' one-GET-per-member fan-out, and memory per member.
// Figures are printed, never asserted.
//
//   npx node tools/bench/controller.ts            (MEMBERS=10000 by default)

import { randomBytes } from 'node:crypto';
import { Agent, get } from 'node:http';
import { controllerRoutes } from '../../src/api/controller-routes.ts';
import { startHttpListener } from '../../src/api/http-listener.ts';
import { NetworkController } from '../../src/controller/controller.ts';
import { ControllerStore } from '../../src/controller/store.ts';
import { generateIdentity, Identity } from '../../src/identity/identity.ts';
import { encodeConfigRequestMetadata, standardConfigRequestMetadata } from '../../src/wire/netconf/metadata.ts';

const MEMBERS = Number(process.env.MEMBERS ?? 10_000);
const FANOUT_SOCKETS = 64;
const TOKEN = 'benchbenchbenchbenchbenc';

const signer = generateIdentity();
const store = new ControllerStore(':memory:');
let clock = Date.now();
const controller = new NetworkController({ identity: signer, store, output: { send() {} }, clock: () => clock });
const nwid = (BigInt(signer.address) << 24n) | 1n;
controller.postNetwork(nwid, {
  name: 'bench', v4AssignMode: { zt: true }, v6AssignMode: { rfc4193: true },
  routes: [{ target: '10.0.0.0/8' }], ipAssignmentPools: [{ ipRangeStart: '10.0.0.1', ipRangeEnd: '10.255.255.254' }],
});
// members as the node hands them over: address + public key (the core validated them already)
const members = Array.from({ length: MEMBERS }, (_, i) => new Identity(0x10_0000_0000 + i, new Uint8Array(randomBytes(64))));
const metadata = encodeConfigRequestMetadata(standardConfigRequestMetadata({ protocolVersion: 12, majorVersion: 1, minorVersion: 14, revision: 1, osArch: 'linux/x86_64' }));

globalThis.gc?.();
const heapBefore = process.memoryUsage().heapUsed;
store.transaction(() => {
  for (const m of members) controller.postMember(nwid, m.address, { authorized: true });
});

function requestRound(label: string): void {
  const latencies: number[] = [];
  const start = performance.now();
  store.transaction(() => {
    for (const [i, m] of members.entries()) {
      const t = performance.now();
      controller.request(nwid, BigInt(i + 1), m, metadata);
      latencies.push(performance.now() - t);
    }
  });
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number): string => latencies[Math.floor(p * (latencies.length - 1))].toFixed(3);
  console.log(`${label}: ${(MEMBERS / seconds).toFixed(0)} requests/s; latency ms p50 ${pct(0.5)} p99 ${pct(0.99)} max ${pct(1)}`);
  clock += 2000; // past the 1 s repeat limit
}

console.log(`network of ${MEMBERS} members`);
requestRound('first requests (assigns IPv4, records identity and versions)');
requestRound('repeat requests (record unchanged)');
globalThis.gc?.();
const heapAfter = process.memoryUsage().heapUsed;
console.log(`heap per member (record, index, request state): ${((heapAfter - heapBefore) / MEMBERS / 1024).toFixed(2)} KiB${globalThis.gc ? '' : ' (run with --expose-gc for a steadier figure)'}`);

const server = await startHttpListener({ listen: '127.0.0.1:0', authToken: TOKEN, metricsToken: TOKEN, providers: [controllerRoutes(controller)] });
const port = server.port;
const agent = new Agent({ keepAlive: true, maxSockets: FANOUT_SOCKETS });
const nw = nwid.toString(16);
const start = performance.now();
const statuses = await Promise.all(members.map((m) => new Promise<number>((resolve) => {
  get({ host: '127.0.0.1', port, path: `/controller/network/${nw}/member/${m.address.toString(16).padStart(10, '0')}`, agent, headers: { 'X-ZT1-Auth': TOKEN } }, (res) => {
    res.resume();
    res.on('end', () => resolve(res.statusCode ?? 0));
  }).on('error', () => resolve(-1));
})));
const seconds = (performance.now() - start) / 1000;
console.log(`API fan-out: ${MEMBERS} member GETs at once over ${FANOUT_SOCKETS} keep-alive connections: ${(MEMBERS / seconds).toFixed(0)} GETs/s, ${statuses.filter((s) => s !== 200).length} errors`);
agent.destroy();
await server.close();
store.close();
