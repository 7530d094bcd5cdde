// Request handling (07-network-config-controller.md §9) replayed against the 1.14.1 capture: the same requests at the same
// times, the same API calls in between, give the same ERROR bytes, the same config bytes and the
// same member records as the 1.14.1 controller stored; then deauthorization, unknown networks,
// identity collisions, public networks, join tokens, rate limiting and garbage.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NetworkController } from '../../src/controller/controller.ts';
import { stringifySorted, type JsonObject } from '../../src/controller/json-values.ts';
import { ControllerStore } from '../../src/controller/store.ts';
import { generateIdentity, type Identity } from '../../src/identity/identity.ts';
import { CredentialType, ErrorCode, Verb } from '../../src/wire/constants.ts';
import { verifyRevocation } from '../../src/wire/credentials/revocation.ts';
import { decodeAuthInfo, encodeConfigRequestMetadata, standardConfigRequestMetadata } from '../../src/wire/netconf/metadata.ts';
import { decodeNetworkConfig } from '../../src/wire/netconf/network-config.ts';
import { decodeError } from '../../src/wire/verbs/error.ts';
import { decodeNetworkCredentials } from '../../src/wire/verbs/network-credentials.ts';
import { encodeNetworkConfigRequest } from '../../src/wire/verbs/network-config-request.ts';
import { decodeConfigChunk, decodeOkNetworkConfigRequest, verifyConfigChunk } from '../../src/wire/verbs/network-config.ts';
import { captureExchange, isOkConfig } from './capture-exchange.ts';

interface Sent { to: number; verb: number; payload: Uint8Array }
const NWID = 0x67960034a23505e0n;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function setup(identity: Identity, clock: { now: number }) {
  const sent: Sent[] = [];
  const store = new ControllerStore(':memory:');
  const controller = new NetworkController({ identity, store, output: { send: (to, verb, payload) => sent.push({ to, verb, payload }) }, clock: () => clock.now });
  return { sent, store, controller };
}

const METADATA = encodeConfigRequestMetadata(standardConfigRequestMetadata({ protocolVersion: 12, majorVersion: 1, minorVersion: 14, revision: 1, osArch: 'linux/x86_64' }));

describe('requests replayed from the 1.14.1 capture', () => {
  const x = captureExchange();
  const requests = x.packets.filter((p) => p.verb === Verb.NETWORK_CONFIG_REQUEST);
  const fromController = x.packets.filter((p) => p.source === x.controller.address);
  const a = x.members.get(0x83918796b6)!, b = x.members.get(0x99dfbd68a5)!;

  it('answers like 1.14.1: denial, configs, pushes, and the member records it stored', () => {
    const clock = { now: 0 };
    const { sent, store, controller } = setup(x.controller, clock);
    store.saveNetwork({ ...structuredClone(x.network) as JsonObject, revision: 0 });

    // a asks before it is authorized
    clock.now = 1795310588535;
    expect(controller.requestFromPayload(a, requests[0].packetId, requests[0].payload)).toBe('not-authorized');
    const denial = fromController.find((p) => p.verb === Verb.ERROR)!;
    expect(sent.map((s) => [s.to, s.verb, hex(s.payload)])).toEqual([[a.address, Verb.ERROR, hex(denial.payload)]]);
    sent.length = 0;

    // the API authorizes a, then creates b authorized (the times 1.14.1 stamped)
    clock.now = 1795310592226;
    controller.postMember(NWID, a.address, { authorized: true });
    clock.now = 1795310592243;
    controller.postMember(NWID, b.address, { authorized: true });
    expect(sent).toEqual([]); // a was refused, so nothing is pushed to it (as observed)

    for (const [who, request] of [[b, requests[1]], [a, requests[2]]] as const) {
      const ok = fromController.find((p) => isOkConfig(p) && p.destination === who.address)!;
      const okChunk = decodeOkNetworkConfigRequest(ok.payload);
      if (!okChunk.ok) throw new Error(okChunk.error);
      const captured = decodeNetworkConfig(okChunk.value.chunk.data);
      if (!captured.ok) throw new Error(captured.error);
      clock.now = Number(captured.value.timestamp);
      expect(controller.requestFromPayload(who, request.packetId, request.payload)).toBe('answered');
      // OK(NETWORK_CONFIG_REQUEST) with the captured dictionary, then the push the record change causes
      expect(sent.map((s) => [s.to, s.verb])).toEqual([[who.address, Verb.OK], [who.address, Verb.NETWORK_CONFIG]]);
      const ours = decodeOkNetworkConfigRequest(sent[0].payload);
      if (!ours.ok) throw new Error(ours.error);
      expect(ours.value.inRePacketId).toBe(request.packetId);
      expect(verifyConfigChunk(ours.value.chunk, x.controller.publicOnly())).toBe(true);
      expect(hex(ours.value.chunk.data)).toBe(hex(okChunk.value.chunk.data));
      const push = decodeConfigChunk(sent[1].payload);
      if (!push.ok) throw new Error(push.error);
      expect(hex(push.value.data)).toBe(hex(okChunk.value.chunk.data));
      expect(push.value.signed!.updateId).not.toBe(ours.value.chunk.signed!.updateId);
      sent.length = 0;
    }
    for (const [address, expected] of Object.entries(x.memberRecords)) {
      expect(stringifySorted(store.member(NWID, Number.parseInt(address, 16))!)).toBe(stringifySorted(expected as JsonObject));
    }

    // deauthorizing a revokes its COM at both online members; a gets no config
    clock.now += 5000;
    controller.postMember(NWID, a.address, { authorized: false });
    expect(sent.map((s) => [s.to, s.verb]).sort()).toEqual([[a.address, Verb.NETWORK_CREDENTIALS], [b.address, Verb.NETWORK_CREDENTIALS]].sort());
    const creds = decodeNetworkCredentials(sent[0].payload);
    if (!creds.ok) throw new Error(creds.error);
    const [rev] = creds.value.revocations;
    expect([rev.target, rev.credentialType, rev.threshold, rev.networkId]).toEqual([a.address, CredentialType.com, BigInt(clock.now), NWID]);
    expect(verifyRevocation(rev, x.controller.publicOnly())).toBe(true);
    sent.length = 0;

    // a network change reaches the authorized online member
    controller.postNetwork(NWID, { name: 'renamed' });
    expect(sent.map((s) => [s.to, s.verb])).toEqual([[b.address, Verb.NETWORK_CONFIG]]);
  });
});

describe('request handling', () => {
  const controllerId = generateIdentity();
  const nwid = (BigInt(controllerId.address) << 24n) | 0x000001n;
  const member = generateIdentity();
  const errorCode = (s: Sent): number => {
    const e = decodeError(s.payload);
    if (!e.ok) throw new Error(e.error);
    return e.value.errorCode;
  };

  it('refuses unknown networks, ignores other controllers\' networks and repeats within a second', () => {
    const clock = { now: 1_000_000 };
    const { sent, controller } = setup(controllerId, clock);
    expect(controller.request(nwid, 1n, member, METADATA)).toBe('network-not-found');
    expect(sent.map(errorCode)).toEqual([ErrorCode.OBJ_NOT_FOUND]);
    clock.now += 500;
    expect(controller.request(nwid, 2n, member, METADATA)).toBe('rate-limited');
    expect(controller.request(0x1122334455000001n, 3n, member, METADATA)).toBe('not-our-network');
    expect(sent).toHaveLength(1);
  });

  it('auto-authorizes on public networks and with a valid join token; refuses a changed identity', () => {
    const clock = { now: 2_000_000 };
    const { sent, store, controller } = setup(controllerId, clock);
    controller.postNetwork(nwid, { private: false });
    expect(controller.request(nwid, 1n, member, METADATA)).toBe('answered');
    expect(store.member(nwid, member.address)!.lastAuthorizedCredentialType).toBe('public');

    const nwid2 = nwid + 1n;
    controller.postNetwork(nwid2, { authTokens: { good: 0, old: 5 } });
    const withToken = (t: string) => encodeConfigRequestMetadata({ ...standardConfigRequestMetadata({ protocolVersion: 12, majorVersion: 1, minorVersion: 14, revision: 1, osArch: 'x' }), auth: `token:${t}` });
    expect(controller.request(nwid2, 2n, member, withToken('old'))).toBe('not-authorized');
    clock.now += 2000;
    expect(controller.request(nwid2, 3n, member, withToken('good'))).toBe('answered');
    expect(store.member(nwid2, member.address)!.lastAuthorizedCredential).toBe('good');

    // same address, other key: a collision must not take over the member
    const impostor = Object.assign(Object.create(Object.getPrototypeOf(member)), { ...member, publicKey: generateIdentity().publicKey }) as Identity;
    clock.now += 2000;
    sent.length = 0;
    expect(controller.request(nwid, 4n, impostor, METADATA)).toBe('identity-mismatch');
    expect(sent.map(errorCode)).toEqual([ErrorCode.NETWORK_ACCESS_DENIED]);
  });

  it('assigns distinct pool addresses, rfc4193/6plane, and honours noAutoAssignIps', () => {
    const clock = { now: 3_000_000 };
    const { sent, store, controller } = setup(controllerId, clock);
    controller.postNetwork(nwid, {
      private: false, v4AssignMode: { zt: true }, v6AssignMode: { rfc4193: true, '6plane': true, zt: false },
      routes: [{ target: '10.9.0.0/24' }], ipAssignmentPools: [{ ipRangeStart: '10.9.0.1', ipRangeEnd: '10.9.0.10' }],
    });
    const ips = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const m = generateIdentity();
      sent.length = 0;
      expect(controller.request(nwid, BigInt(i + 1), m, METADATA)).toBe('answered');
      const r = store.member(nwid, m.address)!;
      expect((r.ipAssignments as string[]).length).toBe(1);
      ips.add((r.ipAssignments as string[])[0]);
      const ok = decodeOkNetworkConfigRequest(sent[0].payload);
      const cfg = ok.ok ? decodeNetworkConfig(ok.value.chunk.data) : undefined;
      expect(cfg?.ok && cfg.value.staticIps.map((a) => a.family)).toEqual([6, 6, 4]);
    }
    expect(ips.size).toBe(3);
    const last = generateIdentity();
    controller.postMember(nwid, last.address, { noAutoAssignIps: true });
    sent.length = 0;
    expect(controller.request(nwid, 9n, last, METADATA)).toBe('answered');
    const ok = decodeOkNetworkConfigRequest(sent[0].payload);
    const cfg = ok.ok ? decodeNetworkConfig(ok.value.chunk.data) : undefined;
    expect(cfg?.ok && cfg.value.staticIps).toEqual([]);
  });

  it('asks SSO networks\' members to authenticate until their authentication expiry lies ahead (1.14 file-database behaviour)', () => {
    const clock = { now: 6_000_000 };
    const { sent, store, controller } = setup(controllerId, clock);
    const rec = controller.postNetwork(nwid, {});
    store.saveNetwork({ ...rec, ssoEnabled: true });
    controller.postMember(nwid, member.address, { authorized: true });
    expect(controller.request(nwid, 1n, member, METADATA)).toBe('authentication-required');
    const e = decodeError(sent[0].payload);
    expect(e.ok && [e.value.errorCode, e.value.networkId, e.value.authInfo && decodeAuthInfo(e.value.authInfo)]).toEqual([
      ErrorCode.NETWORK_AUTHENTICATION_REQUIRED, nwid, { version: 0 },
    ]);
    controller.postMember(nwid, member.address, { authenticationExpiryTime: clock.now + 60_000 });
    clock.now += 2000;
    sent.length = 0;
    expect(controller.request(nwid, 2n, member, METADATA)).toBe('answered');
    const ok = decodeOkNetworkConfigRequest(sent[0].payload);
    const cfg = ok.ok ? decodeNetworkConfig(ok.value.chunk.data) : undefined;
    expect(cfg?.ok && cfg.value.sso).toEqual({ version: 0, enabled: true, authenticationUrl: '', authenticationExpiryTime: BigInt(clock.now - 2000 + 60_000) });
  });

  it('splits a large config into signed chunks that reassemble into the config', () => {
    const clock = { now: 7_000_000 };
    const { sent, controller } = setup(controllerId, clock);
    // 128 routes and 1,000 rules: well over one chunk (9,740 bytes)
    controller.postNetwork(nwid, {
      private: false,
      routes: Array.from({ length: 128 }, (_, i) => ({ target: `10.${i}.0.0/16` })),
      rules: [...Array.from({ length: 999 }, (_, i) => ({ type: 'MATCH_IPV6_DEST', ip: `fd00::${i.toString(16)}/128` })), { type: 'ACTION_ACCEPT' }],
    });
    expect(controller.request(nwid, 77n, member, METADATA)).toBe('answered');
    const oks = sent.filter((s) => s.verb === Verb.OK).map((s) => decodeOkNetworkConfigRequest(s.payload));
    expect(oks.length).toBeGreaterThan(1);
    const whole = new Uint8Array(oks[0].ok ? oks[0].value.chunk.signed!.totalLength : 0);
    for (const ok of oks) {
      if (!ok.ok) throw new Error(ok.error);
      expect(ok.value.inRePacketId).toBe(77n);
      expect(verifyConfigChunk(ok.value.chunk, controllerId.publicOnly())).toBe(true);
      expect(ok.value.chunk.signed!.updateId).toBe(oks[0].ok && oks[0].value.chunk.signed!.updateId);
      whole.set(ok.value.chunk.data, ok.value.chunk.signed!.chunkIndex);
    }
    const cfg = decodeNetworkConfig(whole);
    expect(cfg.ok && [cfg.value.routes.length, cfg.value.rules.length]).toEqual([128, 1000]);
  });

  it('forgets members that stopped asking, so the request table stays bounded', () => {
    const clock = { now: 5_000_000 };
    const { controller } = setup(controllerId, clock);
    for (let i = 0; i < 50; i++) controller.request(nwid, BigInt(i + 1), { ...member, address: member.address + i } as Identity, METADATA);
    expect(controller.trackedMembers).toBe(50);
    clock.now += 121_000;
    controller.request(nwid, 99n, member, METADATA);
    expect(controller.trackedMembers).toBe(1);
  });

  it('counts and drops malformed and random request payloads without throwing', () => {
    const clock = { now: 4_000_000 };
    const { controller } = setup(controllerId, clock);
    controller.postNetwork(nwid, { private: false });
    let n = 0;
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, ours) => {
      const payload = ours && bytes.length >= 8 ? Uint8Array.from([...encodeNetworkConfigRequest({ networkId: nwid, metadata: bytes.subarray(8) }).subarray(0, 8), ...bytes.subarray(8)]) : bytes;
      clock.now += 1001;
      n++;
      expect(() => controller.requestFromPayload(member, BigInt(n), payload)).not.toThrow();
    }), { numRuns: 300 });
    const total = [...controller.stats.requests.values()].reduce((s, v) => s + v, 0);
    expect(total).toBe(n);
    expect(controller.stats.requests.get('bad-request') ?? 0).toBeGreaterThan(0);
  });
});
