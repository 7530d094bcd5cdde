// The controller API driven the way the UIs drive it (request bodies and sequences read from
// their sources): ztncui's create / easy setup / route and pool edits by whole-array rewrite /
// member edits with string booleans, ZTNET's create with its generated pool (and UI-only keys)
// and its member cache keyed by revision, and zero-ui's member list fan-out with /peer per member
// and its un-awaited DELETE + POST pair for deleting a member.

import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatAddress } from '../../src/identity/address.ts';
import { captureExchange } from './capture-exchange.ts';
import { startControllerRoot, type ControllerRoot } from './harness.ts';

const x = captureExchange();
const me = formatAddress(x.controller.address);
let c: ControllerRoot;

beforeAll(async () => { c = await startControllerRoot({ identity: x.controller }); });
afterAll(async () => {
  await c.stop();
  rmSync(c.home, { recursive: true, force: true });
});

describe('ztncui', () => {
  it('creates, sets up, edits routes and pools by rewriting arrays, and edits members', async () => {
    // the address comes from /status, then a legacy create with the name only
    const address = (await c.api('GET', '/status')).json.address;
    expect(address).toBe(me);
    const nw = (await c.api('POST', `/controller/network/${address}______`, { name: 'ztncui' })).json;
    const path = `/controller/network/${nw.id}`;
    // "easy setup"
    await c.api('POST', path, {
      ipAssignmentPools: [{ ipRangeStart: '10.99.0.1', ipRangeEnd: '10.99.0.254' }],
      routes: [{ target: '10.99.0.0/24', via: null }], v4AssignMode: { zt: true },
    });
    // add a route (form fields: empty via), read-modify-write of the whole array
    let routes = (await c.api('GET', path)).json.routes;
    routes.push({ target: '192.168.7.0/24', via: '' });
    routes = (await c.api('POST', path, { routes })).json.routes;
    expect(routes).toEqual([{ target: '10.99.0.0/24', via: null }, { target: '192.168.7.0/24', via: null }]);
    // delete by exact target string
    routes = routes.filter((r: { target: string }) => r.target !== '192.168.7.0/24');
    expect((await c.api('POST', path, { routes })).json.routes).toEqual([{ target: '10.99.0.0/24', via: null }]);
    let pools = (await c.api('GET', path)).json.ipAssignmentPools;
    pools.push({ ipRangeStart: '10.99.1.1', ipRangeEnd: '10.99.1.9' });
    pools = (await c.api('POST', path, { ipAssignmentPools: pools })).json.ipAssignmentPools;
    expect(pools).toHaveLength(2);
    pools = pools.filter((p: { ipRangeStart: string }) => p.ipRangeStart !== '10.99.1.1');
    expect((await c.api('POST', path, { ipAssignmentPools: pools })).json.ipAssignmentPools).toEqual([{ ipRangeStart: '10.99.0.1', ipRangeEnd: '10.99.0.254' }]);
    // private checkbox and member edits arrive as strings
    expect((await c.api('POST', path, { private: 'false' })).json.private).toBe(false);
    const m = `${path}/member/00000000cd`;
    expect((await c.api('POST', m, { authorized: 'true', activeBridge: 'false' })).json).toMatchObject({ authorized: true, activeBridge: false });
    let ips = (await c.api('GET', m)).json.ipAssignments;
    ips.push('10.99.0.77');
    ips = (await c.api('POST', m, { ipAssignments: ips })).json.ipAssignments;
    expect(ips).toEqual(['10.99.0.77']);
    ips.splice(0, 1);
    expect((await c.api('POST', m, { ipAssignments: ips })).json.ipAssignments).toEqual([]);
    expect((await c.api('POST', m, { name: 'laptop' })).json.name).toBe('laptop');
    const deleted = await c.api('DELETE', path);
    expect([deleted.status, deleted.json.name]).toEqual([200, 'ztncui']);
  });
});

describe('ZTNET', () => {
  it('creates with its generated pool, refetches only members whose revision moved', async () => {
    const version = (await c.api('GET', '/controller')).text;
    expect(version).toContain('"apiVersion": 4');
    const address = (await c.api('GET', '/status')).json.address;
    const nw = (await c.api('POST', `/controller/network/${address}______`, {
      name: 'ztnet', private: true,
      ipAssignmentPools: [{ ipRangeStart: '10.121.15.1', ipRangeEnd: '10.121.15.254' }],
      routes: [{ target: '10.121.15.0/24', via: null }], v4AssignMode: { zt: true },
      cidrOptions: ['10.121.15.0/24', '10.121.16.0/24'],
    })).json;
    expect(nw).toMatchObject({ name: 'ztnet', private: true, v4AssignMode: { zt: true }, routes: [{ target: '10.121.15.0/24', via: null }] });
    expect(nw.cidrOptions).toBeUndefined();
    const base = `/controller/network/${nw.id}`;
    for (const id of ['00000000e1', '00000000e2']) await c.api('POST', `${base}/member/${id}`, { authorized: true });
    const before = (await c.api('GET', `${base}/member`)).json;
    await c.api('POST', `${base}/member/00000000e1`, { name: 'renamed' });
    await c.api('POST', `${base}/member/00000000e2`, { authorized: true }); // no change: same revision
    const after = (await c.api('GET', `${base}/member`)).json;
    expect(after['00000000e1']).toBe(before['00000000e1'] + 1);
    expect(after['00000000e2']).toBe(before['00000000e2']);
    // network settings as ZTNET posts them, then delete
    const upd = (await c.api('POST', base, { mtu: 1400, multicastLimit: 64, enableBroadcast: false, dns: { domain: 'ztnet.lan', servers: ['10.121.15.1'] } })).json;
    expect([upd.mtu, upd.multicastLimit, upd.enableBroadcast, upd.dns]).toEqual([1400, 64, false, { domain: 'ztnet.lan', servers: ['10.121.15.1'] }]);
    expect((await c.api('DELETE', base)).status).toBe(200);
  });
});

describe('zero-ui', () => {
  it('lists members one GET each plus /peer each, and deletes with DELETE and POST sent together', async () => {
    const nw = (await c.api('POST', `/controller/network/${me}______`, {
      name: 'zero-ui', private: true, v6AssignMode: { '6plane': false, rfc4193: false, zt: false }, v4AssignMode: { zt: true },
      routes: [{ target: '172.30.1.0/24', via: null }], ipAssignmentPools: [{ ipRangeStart: '172.30.1.1', ipRangeEnd: '172.30.1.254' }],
      enableBroadcast: true,
    })).json;
    const base = `/controller/network/${nw.id}`;
    const ids = Array.from({ length: 50 }, (_, i) => (0x0a00000000 + i).toString(16).padStart(10, '0'));
    for (const id of ids) await c.api('POST', `${base}/member/${id}`, { authorized: true, tags: [[1, '2']] });
    const mids = Object.keys((await c.api('GET', `${base}/member`)).json);
    const [members, peers] = await Promise.all([
      Promise.all(mids.map((mid) => c.api('GET', `${base}/member/${mid}`))),
      Promise.all(mids.map((mid) => c.api('GET', `/peer/${mid}`))),
    ]);
    expect(members.every((r) => r.status === 200 && r.json.tags[0][1] === 2)).toBe(true);
    expect(peers.every((r) => r.status === 200 && Object.keys(r.json).length === 0)).toBe(true);
    // a config update carrying UI-only keys
    const upd = await c.api('POST', `${base}/member/${ids[0]}`, { authorized: false, name: 'n', description: 'ui only', capabilitiesByName: {} });
    expect(upd.json.description).toBeUndefined();
    // delete: zero-ui fires DELETE and the reset POST without waiting for the first
    const [del, post] = await Promise.all([
      c.api('DELETE', `${base}/member/${ids[1]}`),
      c.api('POST', `${base}/member/${ids[1]}`, { authorized: false, ipAssignments: [], capabilities: [], tags: [] }),
    ]);
    expect([del.status, post.status]).toEqual([200, 200]);
    const after = await c.api('GET', `${base}/member/${ids[1]}`);
    // whichever arrived last wins, and the member is never left authorized
    if (after.status === 200) expect(after.json.authorized).toBe(false);
    else expect(after.status).toBe(404);
  });
});
