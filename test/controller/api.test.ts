// The /controller HTTP API on a root's listener, driven as 1.14.1 was in the recordings and as
// the UIs drive it: token schemes, the recorded calls and answers, create-on-POST, the member map,
// DELETE returning the old record, string booleans, the zero-ui delete-then-POST race, bad and
// huge bodies, and a 10,000-member network under one-GET-per-member fan-out.

import { rmSync } from 'node:fs';
import { Agent, get as httpGet } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatAddress } from '../../src/identity/address.ts';
import { generateIdentity } from '../../src/identity/identity.ts';
import { MAX_BODY_BYTES } from '../../src/api/controller-routes.ts';
import { readVectorJson } from '../support/vectors.ts';
import { API_TOKEN, startControllerRoot, type ControllerRoot } from './harness.ts';

interface ApiRecord { node: string; method: string; path: string; request_body: unknown; status: number; body_json: any; body_text: string | null }
const recorded = readVectorJson<{ api: ApiRecord[] }>('api-and-cli.json').api.filter((r) => r.node === 'c');

const id = generateIdentity();
const me = formatAddress(id.address);
let c: ControllerRoot;

beforeAll(async () => { c = await startControllerRoot({ identity: id }); });
afterAll(async () => {
  await c.stop();
  rmSync(c.home, { recursive: true, force: true });
});

const omitTimes = (r: any) => { const { creationTime, id: _i, nwid: _n, lastAuthorizedTime, ...rest } = r; void creationTime; void lastAuthorizedTime; return rest; };

describe('controller API', () => {
  it('GET /controller as 1.14 formats it, and every token scheme; 401 {} without one', async () => {
    const r = await c.api('GET', '/controller');
    expect(r.status).toBe(200);
    expect(r.text).toMatch(/^\{\n\t"controller": true,\n\t"apiVersion": 4,\n\t"clock": \d+,\n\t"databaseReady": true\n\}\n$/);
    const base = `http://127.0.0.1:${c.http.port}/controller/network`;
    expect((await fetch(base)).status).toBe(401);
    expect(await (await fetch(base)).text()).toBe('{}');
    expect((await fetch(`${base}?auth=${API_TOKEN}`)).status).toBe(200);
    // also on IPv6 loopback, where newer Node sends "localhost"
    expect((await fetch(`http://[::1]:${c.http.port}/controller/network?auth=${API_TOKEN}`)).status).toBe(200);
    expect((await fetch(base, { headers: { Authorization: `Bearer ${API_TOKEN}` } })).status).toBe(200);
  });

  it('serves the /status and /peer fields the UIs read; an unknown peer is 200 {}', async () => {
    const st = (await c.api('GET', '/status')).json;
    expect([st.address, st.online, st.tcpFallbackActive, st.version, st.versionMajor]).toEqual([me, true, false, '1.14.1', 1]);
    expect(st.publicIdentity).toBe(id.toString(false));
    expect(st.config.settings.listeningOn).toEqual([`127.0.0.1/${c.endpoint.port}`]);
    expect((await c.api('GET', '/peer')).json).toEqual([]);
    const unknown = await c.api('GET', '/peer/0000000000');
    expect([unknown.status, unknown.json]).toEqual([200, {}]);
    expect((await fetch(`http://127.0.0.1:${c.http.port}/status`)).status).toBe(401);
  });

  it('answers the recorded 1.14.1 calls with the recorded status and records', async () => {
    const existing = recorded.find((r) => r.method === 'GET' && r.path === '/controller/network/83badff262e84b5a')!.body_json;
    c.root.controller!.store.saveNetwork({ ...existing, revision: 0 });
    const member = recorded.find((r) => r.method === 'GET' && r.path.endsWith('/member/a6d77671b4'))!.body_json;
    const deleted = recorded.find((r) => r.method === 'DELETE')!.body_json;
    c.root.controller!.store.saveMember({ ...member, revision: 1 });
    c.root.controller!.store.saveMember({ ...deleted, ipAssignments: ['10.147.17.46'], revision: 1 });
    for (const rec of recorded) {
      if (rec.method === 'GET' && rec.path === '/controller') continue;
      if (rec.path === '/controller/network/83badff262______') {
        // the prefix is another controller's address: 400, as 1.14 does; ours creates
        expect((await c.api(rec.method, rec.path, rec.request_body)).status).toBe(400);
        const made = await c.api('POST', `/controller/network/${me}______`, rec.request_body);
        expect(made.status).toBe(200);
        expect(made.json.id.startsWith(me)).toBe(true);
        expect(omitTimes(made.json)).toEqual(omitTimes(rec.body_json));
        continue;
      }
      const r = await c.api(rec.method, rec.path, rec.request_body ?? undefined);
      expect([rec.method, rec.path, r.status]).toEqual([rec.method, rec.path, rec.status]);
      if (rec.status === 404) expect(r.text).toBe('');
      if (rec.path === '/controller/network') expect(r.json).toContain('83badff262e84b5a');
      else if (rec.body_json && rec.path.includes('/member')) expect(r.json).toEqual(rec.body_json);
      else if (rec.body_json) expect(omitTimes(r.json)).toEqual({ ...omitTimes(rec.body_json), revision: r.json.revision });
    }
  });

  it('creates on POST, takes UI-style string booleans, bumps revisions only on change, and DELETE returns the record', async () => {
    const nw = (await c.api('POST', '/controller/network', { name: 'ui', private: 'true', enableBroadcast: 'false', multicastLimit: '64' })).json;
    expect([nw.private, nw.enableBroadcast, nw.multicastLimit, nw.revision]).toEqual([true, false, 64, 1]);
    const path = `/controller/network/${nw.id}/member/00000000ab`;
    const m1 = (await c.api('POST', path, { authorized: 'true', name: 'n' })).json;
    const m2 = (await c.api('POST', path, { authorized: 'true', name: 'n' })).json;
    expect([m1.revision, m2.revision, m1.authorized]).toEqual([1, 1, true]);
    expect((await c.api('GET', `/controller/network/${nw.id}/member`)).json).toEqual({ '00000000ab': 1 });
    // zero-ui deletes then immediately re-POSTs to "remove" a member: the member must be gone, then re-made
    const del = await c.api('DELETE', path);
    expect([del.status, del.json.name]).toEqual([200, 'n']);
    expect((await c.api('GET', path)).status).toBe(404);
    expect((await c.api('DELETE', path)).status).toBe(404);
    const again = (await c.api('POST', path, { authorized: false })).json;
    expect([again.authorized, again.revision, again.name]).toEqual([false, 1, undefined]);
    expect((await c.api('POST', '/controller/network/ffffffffff000001/member/00000000ab', {})).status).toBe(404);
    const unstable = (await c.api('GET', `/unstable/controller/network/${nw.id}/member`)).json;
    expect(unstable.meta).toEqual({ totalCount: 1, authorizedCount: 0 });
    const gone = await c.api('DELETE', `/controller/network/${nw.id}`);
    expect([gone.status, gone.json.name]).toEqual([200, 'ui']);
    expect((await c.api('GET', `/controller/network/${nw.id}/member`)).status).toBe(404);
  });

  it('answers bad bodies with 500 JSON and oversized ones with 413, without writing anything', async () => {
    const nw = (await c.api('POST', '/controller/network', {})).json;
    const bad = await c.api('POST', `/controller/network/${nw.id}`, '{"name":');
    expect([bad.status, bad.json.error]).toEqual([500, 500]);
    const badIp = await c.api('POST', `/controller/network/${nw.id}/member/0000000001`, { ipAssignments: [1] });
    expect(badIp.status).toBe(500);
    expect((await c.api('GET', `/controller/network/${nw.id}/member/0000000001`)).status).toBe(404);
    const huge = await c.api('POST', `/controller/network/${nw.id}`, JSON.stringify({ name: 'x'.repeat(MAX_BODY_BYTES + 1) })).catch(() => ({ status: 413 }));
    expect(huge.status).toBe(413);
    expect((await c.api('GET', `/controller/network/${nw.id}`)).json.revision).toBe(1);
  });

  it('serves 10,000 members to a one-GET-per-member fan-out without an error', async () => {
    const nw = (await c.api('POST', '/controller/network', { name: 'big' })).json;
    const nwid = BigInt('0x' + nw.id);
    c.root.controller!.store.transaction(() => {
      for (let i = 1; i <= 10_000; i++) c.root.controller!.postMember(nwid, i, { authorized: i % 2 === 0 });
    });
    const map = (await c.api('GET', `/controller/network/${nw.id}/member`)).json;
    expect(Object.keys(map)).toHaveLength(10_000);
    // every GET issued at once, as the UIs do; the client keeps its connections alive like a browser or proxy
    const agent = new Agent({ keepAlive: true, maxSockets: 64 });
    const get = (path: string) => new Promise<number>((resolve) => {
      httpGet({ host: '127.0.0.1', port: c.http.port, path, agent, headers: { 'X-ZT1-Auth': API_TOKEN } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      }).on('error', () => resolve(-1));
    });
    const results = await Promise.all(Object.keys(map).map((m) => get(`/controller/network/${nw.id}/member/${m}`)));
    agent.destroy();
    expect(results.filter((s) => s !== 200)).toEqual([]);
  });
});
