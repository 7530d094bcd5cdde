// The root's HTTP listener against a live root with some traffic: /health without a token,
// /metrics and /peers only with it, and the /metrics exposition accepted by `promtool check
// metrics` (Debian package `prometheus`).

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

const [rootId, idA] = VECTOR_IDENTITIES;
const TOKEN = 'integration0test0token00';

const noPromtool = skipGroup('promtool check of /metrics', missingCommand('promtool', 'prometheus'));

let t: TestRoot;
let http: HttpListener;
let a: RawPeer;

beforeAll(async () => {
  t = await startTestRoot({ identity: rootId });
  http = await startRootApi(t.root, { listen: '127.0.0.1:0', metricsToken: TOKEN });
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
