// End to end over loopback: a root that also runs the controller (in-process and with packet
// workers), two simple leaves as members. Refused while unauthorized, authorized through the HTTP
// API, both get configs with pool addresses and COMs the other accepts, frames flow between
// them through the root, and deauthorizing one revokes its COM at the other.

import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../src/crypto/c25519.ts';
import { formatAddress } from '../../src/identity/address.ts';
import { generateIdentity } from '../../src/identity/identity.ts';
import { ControllerNode } from '../../src/controller/controller-node.ts';
import { NetworkMember, type NetworkStatus } from '../../src/leaf/network-member.ts';
import { SimpleLeaf } from '../../src/leaf/simple-leaf.ts';
import { NetworkType } from '../../src/wire/constants.ts';
import { verifyCom } from '../../src/wire/credentials/com.ts';
import { formatInetAddress } from '../../src/wire/inet-address.ts';
import { World } from '../../src/world/world.ts';
import { WorldType } from '../../src/world/constants.ts';
import { captureExchange } from './capture-exchange.ts';
import { startControllerRoot, writeRootHome, type ControllerRoot } from './harness.ts';
import { waitUntil } from '../support/root-harness.ts';

const x = captureExchange();
const [idA, idB] = [...x.members.values()];


describe.each([0, 2])('root --controller with %i packet workers and two members', (workers) => {
  let c: ControllerRoot;
  let leaves: SimpleLeaf[];
  let members: NetworkMember[];
  let nwid: bigint;

  beforeAll(async () => {
    c = await startControllerRoot({ identity: x.controller, workers });
    const signer = generateKeyPair();
    const planet = World.make({
      type: WorldType.planet, id: 0xfa7a_0000_0c01_0001n, timestamp: 1n, updatesMustBeSignedBy: signer.publicKey,
      roots: [{ identity: x.controller.publicOnly(), stableEndpoints: [c.endpoint] }],
    }, signer);
    // the root serves the planet it is in (as after `kill -HUP`)
    writeFileSync(join(c.home, 'planet'), planet.serialize());
    c.root.reloadWorlds();
    leaves = [idA, idB].map((identity) => new SimpleLeaf({ identity, planet, bind: ['127.0.0.1'], allowLoopbackPaths: true, pingIntervalMs: 100 }));
    members = leaves.map((l) => new NetworkMember(l));
    const online = leaves.map((l) => once(l, 'online', { signal: AbortSignal.timeout(10_000) }));
    for (const l of leaves) await l.start();
    await Promise.all(online);
    const created = await c.api('POST', `/controller/network/${formatAddress(x.controller.address)}______`, {
      name: 'loop', private: true, v4AssignMode: { zt: true }, v6AssignMode: { rfc4193: true },
      routes: [{ target: '10.147.17.0/24' }], ipAssignmentPools: [{ ipRangeStart: '10.147.17.10', ipRangeEnd: '10.147.17.50' }],
    });
    nwid = BigInt('0x' + created.json.id);
  });

  afterAll(async () => {
    for (const m of members ?? []) m.close();
    for (const l of leaves ?? []) await l.stop();
    await c?.stop();
  });

  const statusOf = (i: number): NetworkStatus | undefined => members[i].networks.get(nwid)?.status;

  it('refuses unauthorized members, then configures them once the API authorizes them', async () => {
    for (const m of members) m.join(nwid);
    await waitUntil(() => statusOf(0) === 'ACCESS_DENIED' && statusOf(1) === 'ACCESS_DENIED', 'ACCESS_DENIED for both');
    const map = (await c.api('GET', `/controller/network/${nwid.toString(16)}/member`)).json;
    expect(Object.keys(map).sort()).toEqual([idA, idB].map((i) => formatAddress(i.address)).sort());

    for (const id of [idA, idB]) {
      const r = await c.api('POST', `/controller/network/${nwid.toString(16)}/member/${formatAddress(id.address)}`, { authorized: true });
      expect(r.json.authorized).toBe(true);
    }
    await new Promise((r) => setTimeout(r, 1100)); // past the controller's 1 s repeat limit
    for (const m of members) await m.request(m.networks.get(nwid)!);
    await waitUntil(() => statusOf(0) === 'OK' && statusOf(1) === 'OK', 'configs for both');

    const configs = members.map((m) => m.networks.get(nwid)!.config!);
    for (const [i, cfg] of configs.entries()) {
      expect(cfg.type).toBe(NetworkType.private);
      expect(cfg.name).toBe('loop');
      expect(verifyCom(cfg.com!, x.controller.publicOnly())).toBe(true);
      const ips = cfg.staticIps.map(formatInetAddress);
      expect(ips.some((ip) => /^10\.147\.17\.\d+\/24$/.test(ip))).toBe(true);
      expect(ips.some((ip) => ip.startsWith('fd') && ip.endsWith('/88'))).toBe(true);
      const record = (await c.api('GET', `/controller/network/${nwid.toString(16)}/member/${formatAddress([idA, idB][i].address)}`)).json;
      expect([record.vMajor, record.vMinor, record.vRev, record.vProto]).toEqual([1, 14, 1, 12]);
      expect(ips).toContain(`${record.ipAssignments[0]}/24`);
    }
    expect(configs[0].staticIps.map(formatInetAddress)).not.toEqual(configs[1].staticIps.map(formatInetAddress));
    // the planet ID in full (a JSON number beyond 2^53 must not be rounded)
    expect(/"planetWorldId":(\d+)/.exec((await c.api('GET', '/status')).text)?.[1]).toBe(c.root.topology.planet!.id.toString());
    const peers = (await c.api('GET', '/peer')).json as { address: string; paths: { address: string }[] }[];
    for (const id of [idA, idB]) expect(peers.find((p) => p.address === formatAddress(id.address))?.paths.length).toBeGreaterThan(0);
  });

  it('carries frames between the members, each accepting the other\'s COM', async () => {
    for (const [from, to] of [[0, 1], [1, 0]]) {
      const got = once(members[to], 'frame', { signal: AbortSignal.timeout(10_000) });
      await members[from].sendFrame(leaves[to].address, { networkId: nwid, etherType: 0x0800, payload: Uint8Array.of(from, 1, 2, 3) });
      const [gotNwid, source, frame] = await got;
      expect([gotNwid, source, Array.from(frame.payload)]).toEqual([nwid, leaves[from].address, [from, 1, 2, 3]]);
    }
  });

  it('a member without the sender\'s COM answers ERROR(NEED_MEMBERSHIP_CERTIFICATE) and the sender pushes it at once', async () => {
    // member 0 forgets member 1's COM (as after a restart); member 1 pushed it moments ago, so it
    // would not push again unasked for 30 s
    members[0].networks.get(nwid)!.peerComs.delete(leaves[1].address);
    await new Promise((r) => setTimeout(r, 1100)); // past the 1-s limit on answering such requests
    const refused = once(members[0], 'refused', { signal: AbortSignal.timeout(10_000) });
    await members[1].sendFrame(leaves[0].address, { networkId: nwid, etherType: 0x0800, payload: Uint8Array.of(7) });
    expect((await refused)[1]).toBe(leaves[1].address);
    await waitUntil(() => members[0].accepts(members[0].networks.get(nwid)!, leaves[1].address), 'the COM pushed on request');
    const got = once(members[0], 'frame', { signal: AbortSignal.timeout(10_000) });
    await members[1].sendFrame(leaves[0].address, { networkId: nwid, etherType: 0x0800, payload: Uint8Array.of(8) });
    expect(Array.from((await got)[2].payload)).toEqual([8]);
  });

  it('pushes a fresh config when the network changes, in several chunks when it is large', async () => {
    const pushed = once(members[0], 'config', { signal: AbortSignal.timeout(10_000) });
    await c.api('POST', `/controller/network/${nwid.toString(16)}`, { name: 'renamed' });
    const [, cfg] = await pushed;
    expect(cfg.name).toBe('renamed');
    // ~19 KB of rules: two NETWORK_CONFIG chunks, reassembled by the member
    const rules = [...Array.from({ length: 999 }, (_, i) => ({ type: 'MATCH_IPV6_DEST', ip: `fd00::${i.toString(16)}/128` })), { type: 'ACTION_ACCEPT' }];
    const big = once(members[0], 'config', { signal: AbortSignal.timeout(10_000) });
    await c.api('POST', `/controller/network/${nwid.toString(16)}`, { rules });
    const [, bigCfg] = await big;
    expect(bigCfg.rules).toHaveLength(1000);
  });

  it('revokes a deauthorized member: the other refuses its frames, and it is refused a config', async () => {
    const revoked = once(members[0], 'revocation', { signal: AbortSignal.timeout(10_000) });
    await c.api('POST', `/controller/network/${nwid.toString(16)}/member/${formatAddress(idB.address)}`, { authorized: false });
    const [, target] = await revoked;
    expect(target).toBe(idB.address);

    const refused = once(members[0], 'refused', { signal: AbortSignal.timeout(10_000) });
    await members[1].sendFrame(leaves[0].address, { networkId: nwid, etherType: 0x0800, payload: Uint8Array.of(9) });
    expect((await refused)[1]).toBe(idB.address);

    await new Promise((r) => setTimeout(r, 1100));
    await members[1].request(members[1].networks.get(nwid)!);
    await waitUntil(() => statusOf(1) === 'ACCESS_DENIED', 'ACCESS_DENIED after deauthorization');
  });

  it('counts it all in /metrics without per-network labels', async () => {
    const text = await (await fetch(`http://127.0.0.1:${c.http.port}/metrics`, { headers: { Authorization: 'Bearer metrics' } })).text();
    const value = (line: string): number => Number(new RegExp(`^${line.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    expect(value('ztroot_controller_config_requests_total{outcome="answered"}')).toBeGreaterThanOrEqual(2);
    expect(value('ztroot_controller_config_requests_total{outcome="not-authorized"}')).toBeGreaterThanOrEqual(3);
    expect(value('ztroot_controller_revocations_sent_total')).toBeGreaterThanOrEqual(2);
    expect([value('ztroot_controller_networks'), value('ztroot_controller_members'), value('ztroot_controller_authorized_members')]).toEqual([1, 2, 1]);
    expect(text).not.toMatch(/ztroot_controller_\w+\{[^}]*(network|member)=/);
  });
});

describe('ztroot controller: a controller node beside a plain root', () => {
  let root: ControllerRoot;
  let node: ControllerNode;
  let leaves: SimpleLeaf[];
  let members: NetworkMember[];
  let home: string;

  beforeAll(async () => {
    root = await startControllerRoot({ identity: generateIdentity(), controller: false });
    const signer = generateKeyPair();
    const planet = World.make({
      type: WorldType.planet, id: 0x7a7a_0000_0c02n, timestamp: 1n, updatesMustBeSignedBy: signer.publicKey,
      roots: [{ identity: root.root.identity.publicOnly(), stableEndpoints: [root.endpoint] }],
    }, signer);
    home = mkdtempSync(join(tmpdir(), 'ztroot-ctl-node-'));
    writeRootHome(home, x.controller, planet);
    node = new ControllerNode({ home, bind: ['127.0.0.1'], port: 0, httpListen: '127.0.0.1:0', allowLoopbackPaths: true });
    await node.start();
    leaves = [idA, idB].map((identity) => new SimpleLeaf({ identity, planet, bind: ['127.0.0.1'], allowLoopbackPaths: true, pingIntervalMs: 100 }));
    members = leaves.map((l) => new NetworkMember(l));
    const online = [node.leaf, ...leaves].map((l) => once(l, 'online', { signal: AbortSignal.timeout(10_000) }));
    for (const l of leaves) await l.start();
    await Promise.all(online);
  });

  afterAll(async () => {
    for (const m of members ?? []) m.close();
    for (const l of leaves ?? []) await l.stop();
    await node?.stop();
    await root?.stop();
  });

  it('configures members that reach it through the root, and serves the API with authtoken.secret', async () => {
    const token = readFileSync(join(home, 'authtoken.secret'), 'utf8');
    expect(token).toMatch(/^[a-z0-9]{24}$/);
    const res = await fetch(`http://127.0.0.1:${node.httpPort}/controller/network`, { method: 'POST', headers: { 'X-ZT1-Auth': token }, body: JSON.stringify({ private: false, name: 'open' }) });
    const nw = await res.json() as { id: string };
    const nwid = BigInt('0x' + nw.id);
    for (const m of members) m.join(nwid);
    await waitUntil(() => members.every((m) => m.networks.get(nwid)?.status === 'OK'), 'configs from the controller node');
    expect(members[0].networks.get(nwid)!.config!.name).toBe('open');
  });

  it('serves /metrics on the same listener with metricstoken.secret: the node series and the controller\'s', async () => {
    const url = `http://127.0.0.1:${node.httpPort}/metrics`;
    const authToken = readFileSync(join(home, 'authtoken.secret'), 'utf8');
    expect((await fetch(url, { headers: { 'X-ZT1-Auth': authToken } })).status).toBe(401);
    const text = await (await fetch(url, { headers: { authorization: `Bearer ${readFileSync(join(home, 'metricstoken.secret'), 'utf8')}` } })).text();
    expect(text).toMatch(/^ztroot_controller_config_requests_total\{outcome="answered"\} [1-9]/m);
    expect(text).toMatch(/^ztroot_packets_total\{verb="NETWORK_CONFIG_REQUEST",direction="in"\} [1-9]/m);
    expect(text).toMatch(/^ztroot_controller_networks 1$/m);
    expect(text).toMatch(/^ztroot_online 1$/m);
  });
});
