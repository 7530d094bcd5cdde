// Records and the SQLite store: 1.14's defaults and normalisation (checked against the API
// recordings of a 1.14.1 controller), revisions that move only on real change, and durability
// across a reopen.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringifySorted, type JsonObject } from '../../src/controller/json-values.ts';
import { applyMemberPost, applyNetworkPost, cleanNetwork, initMember, initNetwork, RecordInputError } from '../../src/controller/records.ts';
import { ControllerStore } from '../../src/controller/store.ts';
import { readVectorJson } from '../support/vectors.ts';
import { hex64 } from '../../src/util/hex.ts';

interface ApiRecord { node: string; method: string; path: string; request_body: JsonObject | null; status: number; body_json: JsonObject | null }
const api = readVectorJson<{ api: ApiRecord[] }>('api-and-cli.json').api.filter((r) => r.node === 'c');
const find = (method: string, path: string): ApiRecord => api.find((r) => r.method === method && r.path === path)!;

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function createNetwork(store: ControllerStore, nwid: bigint, body: JsonObject, now: number): JsonObject {
  const n = initNetwork(structuredClone(store.network(nwid) ?? {}), now);
  applyNetworkPost(n, body);
  n.id = hex64(nwid);
  n.nwid = hex64(nwid);
  return store.saveNetwork(cleanNetwork(n)).record;
}

describe('network records', () => {
  it('a created network is exactly what 1.14.1 returned for the same body', () => {
    const rec = find('POST', '/controller/network/83badff262______');
    const expected = rec.body_json!;
    const store = new ControllerStore(':memory:');
    const got = createNetwork(store, BigInt('0x' + (expected.id as string)), rec.request_body!, expected.creationTime as number);
    expect(stringifySorted(got)).toBe(stringifySorted(expected));
  });

  it('renames, normalises rules and stringifies a numeric name as 1.14.1 did, bumping the revision each time', () => {
    const before = find('GET', '/controller/network/83badff262e84b5a').body_json!;
    const store = new ControllerStore(':memory:');
    const nwid = 0x83badff262e84b5an;
    store.saveNetwork({ ...before, revision: 0 });
    for (const path of ['/controller/network/83badff262e84b5a']) {
      const posts = api.filter((r) => r.method === 'POST' && r.path === path);
      expect(posts).toHaveLength(2);
      for (const p of posts) expect(stringifySorted(createNetwork(store, nwid, p.request_body!, 0))).toBe(stringifySorted(p.body_json!));
    }
  });

  it('keeps the revision when nothing changes, and normalises routes, pools and assign modes like 1.14', () => {
    const store = new ControllerStore(':memory:');
    const nwid = 0x1122334455000001n;
    const a = createNetwork(store, nwid, { name: 'x' }, 5);
    expect(a.revision).toBe(1);
    expect(createNetwork(store, nwid, { name: 'x' }, 6).revision).toBe(1);
    const b = createNetwork(store, nwid, {
      routes: [{ target: '10.0.0.0/8', via: '10.0.0.1' }, { target: 'fd00::/8', via: '10.1.1.1' }, { target: '192.168.1.0' }, { target: 'junk' }, 'x'],
      ipAssignmentPools: [{ ipRangeStart: '10.0.0.1', ipRangeEnd: '10.0.0.9' }, { ipRangeStart: '10.0.0.1', ipRangeEnd: 'fd00::1' }],
      v6AssignMode: 'rfc4193,6plane', v4AssignMode: 'zt', mtu: '99999', private: 'false', enableBroadcast: 0,
      tags: [{ id: 2, default: '7' }, { id: 1 }], capabilities: [{ id: 3, default: 'true', rules: [{ type: 'ACTION_DROP', not: true }] }],
      cidrOptions: ['ignored'],
    }, 7);
    expect(b.revision).toBe(2);
    expect(b.routes).toEqual([{ target: '10.0.0.0/8', via: '10.0.0.1' }, { target: 'fd00::/8', via: null }, { target: '192.168.1.0/0', via: null }]);
    expect(b.ipAssignmentPools).toEqual([{ ipRangeStart: '10.0.0.1', ipRangeEnd: '10.0.0.9' }]);
    expect(b.v6AssignMode).toEqual({ rfc4193: true, zt: false, '6plane': true });
    expect(b.v4AssignMode).toEqual({ zt: true });
    expect([b.mtu, b.private, b.enableBroadcast]).toEqual([10000, false, false]);
    expect(b.tags).toEqual([{ id: 1, default: null }, { id: 2, default: 7 }]);
    expect(b.capabilities).toEqual([{ id: 3, default: true, rules: [{ type: 'ACTION_DROP' }] }]);
    expect(b.cidrOptions).toBeUndefined();
  });
});

describe('member records', () => {
  it('an API update of a member is what 1.14.1 returned', () => {
    const rec = find('POST', '/controller/network/83badff262e84b5a/member/c63b81b170');
    const after = rec.body_json!;
    const store = new ControllerStore(':memory:');
    store.saveNetwork({ ...find('GET', '/controller/network/83badff262e84b5a').body_json!, revision: 0 });
    store.saveMember({ ...after, ipAssignments: ['10.147.17.46'], revision: 1 });
    const m = initMember(structuredClone(store.member(0x83badff262e84b5an, 0xc63b81b170)!), 0);
    applyMemberPost(m, rec.request_body!, 1);
    expect(stringifySorted(store.saveMember(m).record)).toBe(stringifySorted(after));
  });

  it('stamps authorization changes, sorts capabilities and tags, and refuses non-string IPs', () => {
    const m = initMember({}, 10);
    applyMemberPost(m, { authorized: 'true', capabilities: [3, '1', 3], tags: [[2, '5'], [1, 1], [2, 6]], ipAssignments: ['10.0.0.1/24', 'bogus', 'fd00::0001'] }, 20);
    expect([m.authorized, m.lastAuthorizedTime, m.lastAuthorizedCredentialType]).toEqual([true, 20, 'api']);
    expect(m.capabilities).toEqual([1, 3]);
    expect(m.tags).toEqual([[1, 1], [2, 6]]);
    expect(m.ipAssignments).toEqual(['10.0.0.1', 'fd00::1']);
    applyMemberPost(m, { authorized: false }, 30);
    expect([m.authorized, m.lastDeauthorizedTime]).toEqual([false, 30]);
    expect(() => applyMemberPost(m, { ipAssignments: [1] }, 40)).toThrow(RecordInputError);
  });
});

describe('store', () => {
  it('keeps records, revisions and the IP index across a reopen; deleting a network deletes its members', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ztroot-ctl-store-'));
    dirs.push(dir);
    const path = join(dir, 'controller.db');
    const nwid = 0x1122334455000002n;
    let store = new ControllerStore(path);
    createNetwork(store, nwid, { name: 'persist' }, 1);
    const m = initMember({ id: '00000000aa', address: '00000000aa', nwid: hex64(nwid) }, 1);
    m.ipAssignments = ['10.0.0.5'];
    expect(store.saveMember(m).record.revision).toBe(1);
    store.close();
    store = new ControllerStore(path);
    expect(store.network(nwid)!.name).toBe('persist');
    expect(store.member(nwid, 0xaa)!.revision).toBe(1);
    expect([...store.summary(nwid)!.allocatedIps.keys()]).toEqual(['10.0.0.5']);
    expect(store.deleteNetwork(nwid)!.name).toBe('persist');
    store.close();
    store = new ControllerStore(path);
    expect(store.networkIds()).toEqual([]);
    expect(store.member(nwid, 0xaa)).toBeUndefined();
    store.close();
  });
});
