// The root's HTTP listener against a live root with some traffic: /health without a token,
// /metrics and /peers only with the metrics token, the /metrics exposition accepted by `promtool
// check metrics` (Debian package `prometheus`), and the node routes every role serves — /status,
// /peer, /moon, /network with authtoken.secret, in zerotier-cli's request shape and with the keys
// 1.14.1 sends (test/fixtures/zerotier-1.14.1/api-and-cli.json) — so zerotier-cli works against a root.

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpListener } from '../../src/api/http-listener.ts';
import { startRootApi } from '../../src/root/root-api.ts';
import { formatAddress } from '../../src/identity/address.ts';
import { Verb } from '../../src/wire/constants.ts';
import { newPacket } from '../../src/wire/packet.ts';
import { encodeEcho } from '../../src/wire/verbs/echo.ts';
import { RawPeer, removeDirs, startTestRoot, VECTOR_IDENTITIES, type TestRoot } from '../support/root-harness.ts';
import { missingCommand, skipGroup } from '../support/skips.ts';
import { cliShapedRequest } from '../support/cli-shaped-request.ts';
import { readVectorJson } from '../support/vectors.ts';
import { runCli } from '../../src/cli/cli-command.ts';
import { generateKeyPair } from '../../src/crypto/c25519.ts';
import { World } from '../../src/world/world.ts';
import { WorldType } from '../../src/world/constants.ts';
import { parseInetAddress, type IpAddress } from '../../src/wire/inet-address.ts';

const [rootId, idA] = VECTOR_IDENTITIES;
const TOKEN = 'integration0test0token00';
const API_TOKEN = 'integration0api0token000';
// a moon this root serves: /moon lists it, and it makes the root online as 1.14 counts it
const moonSigner = generateKeyPair();
const moon = World.make({
  type: WorldType.moon, id: BigInt(rootId.address), timestamp: 7n, updatesMustBeSignedBy: moonSigner.publicKey,
  roots: [{ identity: rootId.publicOnly(), stableEndpoints: [parseInetAddress('127.0.0.1/9993') as IpAddress] }],
}, moonSigner);
const recording = readVectorJson<{ api: { node: string; method: string; path: string; auth: boolean; body_json?: any }[] }>('api-and-cli.json');
const recorded = (path: string): any => recording.api.find((e) => e.node === 'a' && e.method === 'GET' && e.path === path && e.auth)!.body_json;
const keys = (o: object): string[] => Object.keys(o).sort();

const noPromtool = skipGroup('promtool check of /metrics', missingCommand('promtool', 'prometheus'));

let t: TestRoot;
let http: HttpListener;
let a: RawPeer;

beforeAll(async () => {
  t = await startTestRoot({ identity: rootId, moons: [moon] });
  http = await startRootApi(t.root, { listen: '127.0.0.1:0', metricsToken: TOKEN, authToken: API_TOKEN });
  a = await RawPeer.open(idA);
  // traffic that fills the labelled series: a validation, an answered ECHO, a relay drop
  await a.register(t.endpoint, rootId);
  const echoId = a.send(t.endpoint, rootId, Verb.ECHO, encodeEcho({ payload: Uint8Array.of(1) }));
  await a.reply(rootId, echoId);
  a.sendRaw(t.endpoint, newPacket({ id: new Uint8Array(randomBytes(8)), destination: 0x3b_0000_0042, source: idA.address, verb: Verb.FRAME, payload: new Uint8Array(20) }));
  await a.barrier(t.endpoint, rootId);
});

afterAll(async () => {
  await a?.close();
  await http?.close();
  await t?.stop();
  if (t) removeDirs([t.home]);
});

function get(path: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`http://${http.address}${path}`, { headers });
}

describe('root HTTP', () => {
  it('/health answers without a token', async () => {
    const r = await get('/health');
    expect(r.status).toBe(200);
    const body = await r.json() as Record<string, unknown>;
    expect(body).toMatchObject({ ok: true, address: formatAddress(rootId.address), peers: 1 });
  });

  it('/metrics and /peers refuse requests without the right token', async () => {
    for (const path of ['/metrics', '/peers']) {
      expect((await get(path)).status).toBe(401);
      expect((await get(path, { authorization: 'Bearer wrong-token' })).status).toBe(401);
      expect((await get(path, { authorization: `Bearer ${TOKEN}x` })).status).toBe(401);
    }
  });

  it('/peers lists the registered peer with the token', async () => {
    const r = await get('/peers', { authorization: `Bearer ${TOKEN}` });
    expect(r.status).toBe(200);
    const peers = await r.json() as { address: string; paths: { address: string }[] }[];
    expect(peers.map((p) => p.address)).toEqual([formatAddress(idA.address)]);
    expect(peers[0].paths.map((p) => p.address)).toEqual([`127.0.0.1/${a.endpoint.port}`]);
  });

  it('/metrics reports the counters with the token (bearer or X-ZT1-Auth)', async () => {
    const r = await get('/metrics', { authorization: `Bearer ${TOKEN}` });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await r.text();
    expect(text).toContain('ztroot_identity_validations_total{result="valid"} 1\n');
    expect(text).toContain('ztroot_relay_total{outcome="unknown-destination"} 1\n');
    expect(text).toContain('ztroot_packets_total{verb="ECHO",direction="in"} 1\n');
    expect(text).toContain('ztroot_peers 1\n');
    expect(text).toContain('ztroot_identity_cache_identities 1\n');
    expect(text).toMatch(/^ztroot_identity_validation_seconds_count 1$/m);
    expect((await get('/metrics', { 'x-zt1-auth': TOKEN })).status).toBe(200);
  });

  it.skipIf(noPromtool)('/metrics passes `promtool check metrics`', async () => {
    const text = await (await get('/metrics', { authorization: `Bearer ${TOKEN}` })).text();
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30_000 });
    expect({ status: check.status, stdout: check.stdout, stderr: check.stderr }).toEqual({ status: 0, stdout: '', stderr: '' });
  });
});

describe('the node routes on the root (the same view zerotier-cli reads on a leaf)', () => {
  const cli = (target: string, token: string | null = API_TOKEN) => cliShapedRequest(http.port, target, token ? { 'X-ZT1-Auth': token } : {});

  it('/status as zerotier-cli asks for it (no Host header): 1.14.1\'s keys, the root online', async () => {
    const r = await cli('/status');
    expect(r.status).toBe(200);
    const st = JSON.parse(r.body);
    expect(keys(st)).toEqual(keys(recorded('/status')));
    expect(st).toMatchObject({ address: formatAddress(rootId.address), online: true, publicIdentity: rootId.toString(false), version: '1.14.1' });
    expect(st.config.settings.listeningOn).toEqual([`127.0.0.1/${t.endpoint.port}`]);
  });

  it('/status and /peer need authtoken.secret: none, the metrics token or a wrong one get 401', async () => {
    for (const path of ['/status', '/peer', '/moon', '/network']) {
      for (const token of [null, TOKEN, `${API_TOKEN}x`]) expect((await cli(path, token)).status, `${path} ${token}`).toBe(401);
    }
    // and /peers stays the metrics token's
    expect((await get('/peers', { 'x-zt1-auth': API_TOKEN })).status).toBe(401);
  });

  it('/peer and /peer/<address> list the registered leaf with the keys 1.14.1 sends', async () => {
    const peers = JSON.parse((await cli('/peer')).body) as any[];
    expect(peers.map((p) => p.address)).toEqual([formatAddress(idA.address)]);
    const [p] = peers;
    expect(keys(p)).toEqual(keys(recorded('/peer/3f8c5f2061')));
    expect(keys(p.paths[0])).toEqual(keys(recorded('/peer/3f8c5f2061').paths[0]));
    expect(p).toMatchObject({ role: 'LEAF', paths: [{ address: `127.0.0.1/${a.endpoint.port}`, active: true, preferred: true, localPort: t.endpoint.port }] });
    // the same peer, but its times are read again: a path's lastReceive is converted from the
    // packet thread's "ms ago" at each request, so it may move by the time between the two
    const single = JSON.parse((await cli(`/peer/${formatAddress(idA.address)}`)).body) as any;
    const untimed = (x: any): unknown => ({ ...x, paths: x.paths.map((q: any) => ({ ...q, lastReceive: 0 })) });
    expect(untimed(single)).toEqual(untimed(p));
    expect(Math.abs(single.paths[0].lastReceive - p.paths[0].lastReceive)).toBeLessThan(60_000);
    expect(JSON.parse((await cli('/peer/0000000000')).body)).toEqual({});
  });

  it('/moon lists the moon it serves as 1.14 lists moons; networks: none, and join and deorbit are refused', async () => {
    const moons = JSON.parse((await cli('/moon')).body) as any[];
    expect(moons).toHaveLength(1);
    expect(keys(moons[0])).toEqual(keys(recorded('/moon/3f8c5f2061')));
    expect(moons[0]).toMatchObject({ id: moon.idHex, timestamp: 7, waiting: false, roots: [{ identity: rootId.toString(false), stableEndpoints: ['127.0.0.1/9993'] }] });
    expect(JSON.parse((await cli('/network')).body)).toEqual([]);
    const base = `http://127.0.0.1:${http.port}`;
    const headers = { 'X-ZT1-Auth': API_TOKEN };
    expect((await fetch(`${base}/network/8056c2e21c000001`, { headers })).status).toBe(404);
    const join = await fetch(`${base}/network/8056c2e21c000001`, { method: 'POST', headers, body: '{}' });
    expect([join.status, ((await join.json()) as { description: string }).description]).toEqual([403, 'this node is a root: it joins no networks']);
    expect((await fetch(`${base}/network/8056c2e21c000001`, { method: 'DELETE', headers })).status).toBe(200);
    expect((await fetch(`${base}/moon/${formatAddress(rootId.address)}`, { method: 'DELETE', headers })).status).toBe(403);
  });

  it('ztroot cli info and listpeers work against the root', async () => {
    let out = '';
    const io = { out: (x: string) => { out += x; }, err: (x: string) => { out += x; } };
    expect(await runCli([`-p${http.port}`, `-T${API_TOKEN}`, 'info'], io)).toBe(0);
    expect(out).toBe(`200 info ${formatAddress(rootId.address)} 1.14.1 ONLINE\n`);
    out = '';
    expect(await runCli([`-p${http.port}`, `-T${API_TOKEN}`, 'listpeers'], io)).toBe(0);
    expect(out.split('\n')[1]).toMatch(new RegExp(`^200 listpeers ${formatAddress(idA.address)} 127\\.0\\.0\\.1/${a.endpoint.port};-?\\d+;\\d+ -1 \\S+ LEAF$`));
  });
});
