// `ztroot leaf` over loopback (09-local-api-and-cli.md §1–§4): a LeafNode on a zerotier-one home,
// its local API as zerotier-cli and the UIs call it, against a root that serves the planet and a
// moon and runs the controller. Orbit by seed, deorbit, join (denied, then authorized, configured),
// restart with the saved state, leave; the JSON objects carry the keys 1.14.1's do (recorded in
// test/fixtures/zerotier-1.14.1/api-and-cli.json).

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpListener } from '../../src/api/http-listener.ts';
import { startLeafApi } from '../../src/leaf/leaf-api.ts';
import { runCli } from '../../src/cli/cli-command.ts';
import { generateKeyPair } from '../../src/crypto/c25519.ts';
import { formatAddress } from '../../src/identity/address.ts';
import { LeafNode } from '../../src/leaf/leaf-node.ts';
import { World } from '../../src/world/world.ts';
import { WorldType } from '../../src/world/constants.ts';
import { captureExchange } from '../controller/capture-exchange.ts';
import { startControllerRoot, type ControllerRoot } from '../controller/harness.ts';
import { readVectorJson } from '../support/vectors.ts';
import { cliShapedRequest } from '../support/cli-shaped-request.ts';
import { waitUntil } from '../support/root-harness.ts';

const x = captureExchange();
const [memberId] = [...x.members.values()];
const TOKEN = 'leaftesttoken00000000000';
const METRICS_TOKEN = 'leafmetricstoken00000000';
const recording = readVectorJson<{
  api: { node: string; method: string; path: string; auth: boolean; body_json?: unknown }[];
}>('api-and-cli.json');
function recorded(path: string): any {
  return recording.api.find((e) => e.node === 'a' && e.method === 'GET' && e.path === path && e.auth)!.body_json;
}
const keys = (o: object): string[] => Object.keys(o).sort();
const recordedCli = (recording as unknown as { cli: { node: string; args: string[]; exit: number; stdout: string; stderr: string }[] }).cli
  .filter((e) => e.node === 'a');
const cliRecord = (...args: string[]) => recordedCli.find((e) => e.args.join(' ') === args.join(' '))!;


describe('ztroot leaf: home, local API, orbit and networks', () => {
  let c: ControllerRoot;
  let home: string;
  let leaf: LeafNode;
  let api: HttpListener;
  let moon: World;
  let nwid: bigint;
  const rootAddress = formatAddress(x.controller.address);

  async function call(method: string, path: string, body?: unknown, token: string | null = TOKEN): Promise<{ status: number; json: any }> {
    const res = await fetch(`http://127.0.0.1:${api.port}${path}`, {
      method, headers: token ? { 'X-ZT1-Auth': token } : {}, body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  }

  /** `ztroot cli -p<port> -T<token> args…` in-process: exit code and what it printed. */
  async function cli(...args: string[]): Promise<{ exit: number; stdout: string; stderr: string }> {
    let stdout = '', stderr = '';
    const exit = await runCli([`-p${api.port}`, `-T${TOKEN}`, ...args], { out: (t) => { stdout += t; }, err: (t) => { stderr += t; } });
    return { exit, stdout, stderr };
  }

  async function startLeaf(): Promise<void> {
    leaf = new LeafNode({ home, bind: ['127.0.0.1'], port: 0, allowLoopbackPaths: true, pingIntervalMs: 100, ethernet: 'none' });
    await leaf.start();
    api = await startLeafApi(leaf, { listen: '127.0.0.1:0', authToken: TOKEN, metricsToken: METRICS_TOKEN });
  }

  beforeAll(async () => {
    const signer = generateKeyPair();
    c = await startControllerRoot({ identity: x.controller });
    const roots = [{ identity: x.controller.publicOnly(), stableEndpoints: [c.endpoint] }];
    const planet = World.make({ type: WorldType.planet, id: 0x7a7a_0000_1eafn, timestamp: 1n, updatesMustBeSignedBy: signer.publicKey, roots }, signer);
    moon = World.make({ type: WorldType.moon, id: BigInt(x.controller.address), timestamp: 5n, updatesMustBeSignedBy: signer.publicKey, roots }, signer);
    mkdirSync(join(c.home, 'moons.d'), { recursive: true });
    writeFileSync(join(c.home, 'moons.d', moon.fileName), moon.serialize());
    c.root.reloadWorlds();
    home = mkdtempSync(join(tmpdir(), 'ztroot-leaf-'));
    writeFileSync(join(home, 'identity.secret'), memberId.toString(true), { mode: 0o600 });
    writeFileSync(join(home, 'planet'), planet.serialize());
    await startLeaf();
    const created = await c.api('POST', `/controller/network/${rootAddress}______`, {
      name: 'leafnet', private: true, v4AssignMode: { zt: true },
      routes: [{ target: '10.147.18.0/24' }], ipAssignmentPools: [{ ipRangeStart: '10.147.18.10', ipRangeEnd: '10.147.18.20' }],
    });
    nwid = BigInt('0x' + created.json.id);
  });

  afterAll(async () => {
    await api?.close();
    await leaf?.stop();
    await c?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
    if (c) rmSync(c.home, { recursive: true, force: true });
  });

  it('lays out the home as zerotier-one does and refuses the API without the token', async () => {
    expect(readFileSync(join(home, 'zerotier-one.port'), 'utf8')).toBe(String(leaf.primaryPort));
    expect(existsSync(join(home, 'identity.public'))).toBe(true);
    expect((await call('GET', '/status', undefined, null))).toEqual({ status: 401, json: {} });
    expect((await call('GET', '/status', undefined, 'wrong-token-000000000000')).status).toBe(401);
    const health = await call('GET', '/health', undefined, null);
    expect(health.status).toBe(200);
    expect(keys(health.json)).toEqual(keys(recorded('/health')));
  });

  it('answers a request as zerotier-cli sends it: no Host header, and a Content-Length body it can read', async () => {
    const r = await cliShapedRequest(api.port, '/status', { 'X-ZT1-Auth': TOKEN });
    expect(r.status).toBe(200);
    expect(r.head).not.toMatch(/transfer-encoding/i);
    expect(JSON.parse(r.body).address).toBe(formatAddress(memberId.address));
  });

  it('a request target that is not a URL gets 400 and the API keeps serving', async () => {
    expect((await cliShapedRequest(api.port, '//:99999', { 'X-ZT1-Auth': TOKEN })).status).toBe(400);
    expect((await call('GET', '/status')).status).toBe(200);
  });

  it('serves /metrics with the node series only with the metrics token (not the API token)', async () => {
    const get = (headers: Record<string, string>) => fetch(`http://127.0.0.1:${api.port}/metrics`, { headers });
    expect((await get({})).status).toBe(401);
    expect((await get({ 'X-ZT1-Auth': TOKEN })).status).toBe(401);
    expect((await get({ authorization: `Bearer ${METRICS_TOKEN}x` })).status).toBe(401);
    const r = await get({ authorization: `Bearer ${METRICS_TOKEN}` });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await r.text();
    for (const series of ['ztroot_packets_total{verb="HELLO",direction="out"}', 'ztroot_datagrams_total{direction="in"}', 'ztroot_peers ', 'ztroot_paths ',
      'ztroot_online ', 'ztroot_frames_total{direction="in"} 0', 'ztroot_frames_dropped_total{direction="out"} 0', 'ztroot_process_process_cpu_seconds_total']) {
      expect(text, series).toContain(series);
    }
    expect((await get({ 'X-ZT1-Auth': METRICS_TOKEN })).status).toBe(200);
  });

  it('ztroot cli: info, listpeers, peers, -j, orbit, deorbit, leave, bad input and unknown commands as zerotier-cli 1.14.1', async () => {
    await waitUntil(() => leaf.online, 'online');
    expect((await cli('info')).stdout).toMatch(/^200 info [0-9a-f]{10} 1\.14\.1 ONLINE\n$/);
    const lp = (await cli('listpeers')).stdout.split('\n');
    expect(lp[0]).toBe(cliRecord('listpeers').stdout.split('\n')[0]);
    // latency: the round trip of the HELLO its OK answered, on loopback a few ms at most (-1 only before one came back)
    expect(lp[1]).toMatch(new RegExp(`^200 listpeers ${rootAddress} 127\\.0\\.0\\.1/\\d+;-?\\d+;\\d+ \\d+ 1\\.14\\.1 PLANET$`));
    const peers = (await cli('peers')).stdout.split('\n');
    expect(peers.slice(0, 2)).toEqual(cliRecord('peers').stdout.split('\n').slice(0, 2));
    expect(peers[2]).toMatch(new RegExp(`^${rootAddress} 1\\.14\\.1 PLANET +\\d+ DIRECT   \\S+ +\\S+ +127\\.0\\.0\\.1/\\d+$`));
    const j = await cli('-j', 'info');
    expect(j.stdout.startsWith('{\n "address": ')).toBe(true);
    expect(JSON.parse(j.stdout).planetWorldId).toBe(0x7a7a_0000_1eaf);
    for (const args of [['join', '123'], ['leave', 'ffffffffffffffff'], ['deorbit', 'deadbeef00']]) {
      const want = cliRecord(...args);
      expect(await cli(...args), args.join(' ')).toEqual({ exit: want.exit, stdout: want.stdout, stderr: want.stderr });
    }
    expect(await cli('orbit', rootAddress, rootAddress)).toEqual({ exit: 0, stdout: '200 orbit OK\n', stderr: '' });
    await cli('deorbit', rootAddress);
    const bogus = await cli('bogus');
    expect(bogus.exit).toBe(cliRecord('bogus').exit);
    expect(bogus.stdout).toBe('');
    expect(bogus.stderr).toMatch(/Usage: ztroot cli/);
    let err = '';
    expect(await runCli(['-p1', '-Tx', 'info'], { out: (t) => { err += t; }, err: () => {} })).toBe(1);
    expect(err).toMatch(/^Error connecting to the ZeroTier service/);
  });

  it('/status and /peer carry the keys 1.14.1 sends, and the planet root shows as PLANET once online', async () => {
    await waitUntil(() => leaf.online, 'online');
    const status = (await call('GET', '/status')).json;
    expect(keys(status)).toEqual(keys(recorded('/status')));
    expect(status).toMatchObject({ address: formatAddress(memberId.address), online: true, version: '1.14.1', planetWorldId: 0x7a7a_0000_1eaf });
    const peers = (await call('GET', '/peer')).json as any[];
    const root = peers.find((p) => p.address === rootAddress);
    expect(root).toMatchObject({ role: 'PLANET', versionMajor: 1 });
    expect(root.latency).toBeGreaterThanOrEqual(0);
    expect(root.latency).toBeLessThan(1000);
    expect(keys(root)).toEqual(keys(recorded('/peer/3f8c5f2061')));
    expect(keys(root.paths[0])).toEqual(keys(recorded('/peer/3f8c5f2061').paths[0]));
    expect((await call('GET', '/peer/0000000000')).json).toEqual({});
  });

  it('orbits a moon by its seed (the "waiting" placeholder first), keeps it in moons.d, and deorbits it', async () => {
    const id10 = rootAddress;
    const placeholder = (await call('POST', `/moon/${id10}`, { seed: rootAddress })).json;
    expect(placeholder).toEqual({ id: moon.idHex, roots: [], signature: null, timestamp: 0, updatesMustBeSignedBy: null, waiting: true });
    await waitUntil(async () => ((await call('GET', '/moon')).json as any[]).length === 1, 'the moon');
    const got = (await call('GET', `/moon/${id10}`)).json;
    expect(keys(got)).toEqual(keys(recorded('/moon/3f8c5f2061')));
    expect(got).toMatchObject({ id: moon.idHex, timestamp: 5, waiting: false });
    expect(existsSync(join(home, 'moons.d', moon.fileName))).toBe(true);
    expect((await call('DELETE', `/moon/${id10}`)).json).toEqual({ result: true });
    expect((await call('GET', '/moon')).json).toEqual([]);
    expect(existsSync(join(home, 'moons.d', moon.fileName))).toBe(false);
    expect((await call('POST', `/moon/${moon.idHex}`, { seed: rootAddress })).status).toBe(404); // the route takes 10 digits
  });

  it('joins a network: refused until authorized, then configured; the state survives a restart; leaves it', async () => {
    const path = `/network/${nwid.toString(16)}`;
    const joined = (await call('POST', path, {})).json;
    expect(joined).toMatchObject({ id: nwid.toString(16), status: 'REQUESTING_CONFIGURATION', allowManaged: true });
    expect(readFileSync(join(home, 'networks.d', `${nwid.toString(16)}.local.conf`), 'utf8')).toBe('allowManaged=1\nallowGlobal=0\nallowDefault=0\nallowDNS=0\n');
    await waitUntil(async () => (await call('GET', path)).json.status === 'ACCESS_DENIED', 'ACCESS_DENIED');
    await c.api('POST', `/controller/network/${nwid.toString(16)}/member/${formatAddress(memberId.address)}`, { authorized: true });
    await waitUntil(async () => (await call('GET', path)).json.status === 'OK', 'OK');
    const net = (await call('GET', path)).json;
    expect(keys(net)).toEqual(keys(recorded('/network/83badff262e84b5a')));
    expect(net).toMatchObject({ name: 'leafnet', type: 'PRIVATE', routes: [{ target: '10.147.18.0/24', via: null, flags: 0, metric: 0 }] });
    expect(net.assignedAddresses[0]).toMatch(/^10\.147\.18\.(1\d|20)\/24$/);
    // ztroot cli prints what zerotier-cli 1.14.1 prints for the same state
    const list = await cli('listnetworks');
    expect(list.stdout.split('\n')[0]).toBe(cliRecord('listnetworks').stdout.split('\n')[0]);
    expect(list.stdout.split('\n')[1]).toBe(`200 listnetworks ${nwid.toString(16)} leafnet ${net.mac} OK PRIVATE  ${net.assignedAddresses[0]}`); // no device: an empty name, as 1.14 prints it
    expect(await cli('get', nwid.toString(16), 'status')).toEqual({ exit: 0, stdout: 'OK\n', stderr: '' });
    expect((await cli('get', nwid.toString(16), 'ip4')).stdout).toBe(`${net.assignedAddresses[0].split('/')[0]}\n`);
    const set = await cli('set', nwid.toString(16), 'allowDNS=1');
    expect(set.exit).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ allowDNS: true, id: nwid.toString(16) });
    expect(readFileSync(join(home, 'networks.d', `${nwid.toString(16)}.local.conf`), 'utf8')).toContain('allowDNS=1');
    expect(readFileSync(join(home, 'networks.d', `${nwid.toString(16)}.conf`)).length).toBeGreaterThan(100);

    await api.close();
    await leaf.stop();
    await startLeaf();
    const again = (await call('GET', '/network')).json as any[];
    expect(again).toHaveLength(1);
    expect(again[0]).toMatchObject({ id: nwid.toString(16), status: 'OK', assignedAddresses: net.assignedAddresses });

    expect((await call('DELETE', path)).json).toEqual({ result: true });
    expect((await call('DELETE', path)).json).toEqual({});
    expect((await call('GET', path)).status).toBe(404);
    expect(existsSync(join(home, 'networks.d', `${nwid.toString(16)}.conf`))).toBe(false);
  });
});
