// Credentials between members as 1.14.1 exchanges them (Membership::pushCredentials /
// addCredential; docs/protocol/07-network-config-controller.md §5): our push checked byte for byte
// against the NETWORK_CREDENTIALS a 1.14.1 member sent in the lab capture, split over several
// packets when large; and the checks a member runs on what others push — signer, network,
// signature, custody chain, newest wins, revocations, the receive rate limit — on credentials
// signed by the capture's controller.

import { readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Identity } from '../../src/identity/identity.ts';
import { parseIdentity } from '../../src/identity/identity.ts';
import { credentialPushPayloads } from '../../src/leaf/credential-push.ts';
import { NetworkMember, type MemberNetwork } from '../../src/leaf/network-member.ts';
import { capabilityIssuedTo, RemoteCredentials } from '../../src/leaf/remote-credentials.ts';
import { parseCaptureJson } from '../../src/wire/capture.ts';
import { uncompressPacket } from '../../src/wire/compression.ts';
import { CredentialType, MAX_PACKET_LENGTH, NetconfFlag, PacketOffset, RevocationFlag, Verb } from '../../src/wire/constants.ts';
import { rfc4193Address } from '../../src/wire/netconf/managed-addresses.ts';
import { addCustodyLink, type Capability } from '../../src/wire/credentials/capability.ts';
import { ownedIp, ownedMac, signCoo } from '../../src/wire/credentials/coo.ts';
import { signRevocation } from '../../src/wire/credentials/revocation.ts';
import { signTag, type Tag } from '../../src/wire/credentials/tag.ts';
import { Keyring } from '../../src/wire/keyring.ts';
import { decodeNetworkConfig, type NetworkConfig } from '../../src/wire/netconf/network-config.ts';
import { classifyDatagram, packetDestination, packetSource, packetVerb } from '../../src/wire/packet.ts';
import { decodeNetworkCredentials } from '../../src/wire/verbs/network-credentials.ts';
import { decodeConfigChunk } from '../../src/wire/verbs/network-config.ts';
import { captureExchange, isOkConfig } from '../controller/capture-exchange.ts';
import { fixturePath } from '../support/vectors.ts';
import { FakeLeaf } from './fake-leaf.ts';

const x = captureExchange();
const [idA, idB] = [...x.members.values()];
const controller = x.controller;
const NWID = (BigInt(controller.address) << 24n) | 0xc0ffeen;
const T0 = 1_800_000_000_000n;

/** Every packet of the capture we can dearmor, with its source, destination, verb and payload. */
function capturedPackets(): { index: number; source: number; destination: number; verb: number; payload: Uint8Array }[] {
  const parsed = parseCaptureJson(readFileSync(fixturePath('capture-moon-lab.json'), 'utf8'));
  if (!parsed.ok) throw new Error(parsed.error);
  const keyring = new Keyring();
  for (const h of parsed.capture.hosts) keyring.add(parseIdentity(h.identitySecret)!);
  const out: ReturnType<typeof capturedPackets> = [];
  parsed.capture.datagrams.forEach((d, index) => {
    if (classifyDatagram(d.data) !== 'packet') return;
    const p = Uint8Array.from(d.data);
    if (!keyring.dearmor(p).ok) return;
    const u = uncompressPacket(p);
    if (!u.ok) return;
    out.push({ index, source: packetSource(u.packet), destination: packetDestination(u.packet), verb: packetVerb(u.packet), payload: u.packet.subarray(PacketOffset.payload) });
  });
  return out;
}

const tag = (id: number, value: number, issuedTo = idA.address, ts = T0, nwid = NWID, signer: Identity = controller): Tag =>
  signTag({ networkId: nwid, timestamp: ts, id, value, issuedTo }, signer);

function capability(id: number, ts = T0, holder = idA.address): Capability {
  const c: Capability = { networkId: NWID, timestamp: ts, id, rules: [{ type: 'ACTION_ACCEPT', not: false, or: false }], maxCustodyChainLength: 2, custody: [] };
  return addCustodyLink(c, controller, holder)!;
}

function config(o: Partial<NetworkConfig> = {}): NetworkConfig {
  return {
    networkId: NWID, timestamp: T0, credentialTimeMaxDelta: 7_200_000n, issuedTo: idB.address, type: 1,
    rules: [], capabilities: [], tags: [], certificatesOfOwnership: [], flags: 0n, staticIps: [], ...o,
  } as unknown as NetworkConfig;
}

describe('our credentials push', () => {
  it('is byte for byte the NETWORK_CREDENTIALS a 1.14.1 member sent (COM and COO, in one packet)', () => {
    const packets = capturedPackets();
    const pushes = packets.filter((p) => p.verb === Verb.NETWORK_CREDENTIALS && x.members.has(p.source) && x.members.has(p.destination));
    expect(pushes.length).toBeGreaterThan(0);
    for (const push of pushes) {
      // the last config the controller sent the pusher before it pushed
      const sent = x.packets.filter((p) => p.index < push.index && p.source === controller.address && p.destination === push.source && (isOkConfig(p) || p.verb === Verb.NETWORK_CONFIG));
      const last = sent.at(-1)!;
      const chunk = decodeConfigChunk(isOkConfig(last) ? last.payload.subarray(9) : last.payload);
      if (!chunk.ok) throw new Error('chunk');
      const cfg = decodeNetworkConfig(chunk.value.data);
      if (!cfg.ok) throw new Error(cfg.error);
      expect(cfg.value.certificatesOfOwnership.length).toBe(1);
      expect(credentialPushPayloads(cfg.value).map((p) => Buffer.from(p).toString('hex'))).toEqual([Buffer.from(push.payload).toString('hex')]);
    }
  });

  it('splits over several packets when large: each under the packet limit, the COM in the first only, nothing lost or reordered', () => {
    const capabilities = Array.from({ length: 9 }, (_, i) => capability(i + 1));
    const tags = Array.from({ length: 100 }, (_, i) => tag(i, i));
    const coos = [signCoo({ networkId: NWID, timestamp: T0, flags: 0n, id: 1, things: [ownedMac(0x02_1122_3344_55)], issuedTo: idB.address }, controller)];
    const cfg = captureConfigWithCom();
    const payloads = credentialPushPayloads(config({ com: cfg.com, capabilities, tags, certificatesOfOwnership: coos }));
    expect(payloads.length).toBeGreaterThan(1);
    const decoded = payloads.map((p) => {
      expect(PacketOffset.payload + p.length).toBeLessThan(MAX_PACKET_LENGTH);
      const d = decodeNetworkCredentials(p);
      if (!d.ok) throw new Error(d.error);
      expect(d.value.revocations).toEqual([]);
      return d.value;
    });
    expect(decoded.map((d) => d.coms.length)).toEqual([1, ...Array(payloads.length - 1).fill(0)]);
    expect(decoded.flatMap((d) => d.capabilities.map((c) => c.id))).toEqual(capabilities.map((c) => c.id));
    expect(decoded.flatMap((d) => d.tags.map((t) => t.id))).toEqual(tags.map((t) => t.id));
    expect(decoded.flatMap((d) => d.certificatesOfOwnership.map((c) => c.id))).toEqual([1]);
  });

  it('sends nothing when there is nothing to send', () => {
    expect(credentialPushPayloads(config())).toEqual([]);
  });
});

function captureConfigWithCom(): NetworkConfig {
  const p = x.packets.find((q) => q.source === controller.address && isOkConfig(q))!;
  const chunk = decodeConfigChunk(p.payload.subarray(9));
  if (!chunk.ok) throw new Error('chunk');
  const cfg = decodeNetworkConfig(chunk.value.data);
  if (!cfg.ok) throw new Error(cfg.error);
  return cfg.value;
}

describe('RemoteCredentials (1.14 Membership bookkeeping)', () => {
  const ok = (): boolean => true;

  it('keeps one credential per ID, the newest; an older one is refused, the same one is redundant', () => {
    const m = new RemoteCredentials();
    expect(m.add('tag', tag(7, 1, idA.address, T0), ok)).toBe('new');
    expect(m.add('tag', tag(7, 1, idA.address, T0), ok)).toBe('redundant');
    expect(m.add('tag', tag(7, 2, idA.address, T0 + 5n), ok)).toBe('new');
    expect(m.add('tag', tag(7, 3, idA.address, T0 + 1n), ok)).toBe('rejected');
    expect(m.getTag(config(), 7)?.value).toBe(2);
    expect(m.add('tag', tag(8, 1), () => false)).toBe('rejected');
    expect(m.getTag(config(), 8)).toBeUndefined();
  });

  it('counts a credential only within credentialTimeMaxDelta of our config, and above its revocation threshold', () => {
    const m = new RemoteCredentials();
    m.add('tag', tag(7, 1, idA.address, T0 - 1000n), ok);
    expect(m.getTag(config(), 7)?.value).toBe(1);
    expect(m.getTag(config({ credentialTimeMaxDelta: 999n }), 7)).toBeUndefined();
    expect(m.revoke(CredentialType.tag, 7, T0 - 1000n)).toBe('new');
    expect(m.getTag(config(), 7)).toBeUndefined();
    expect(m.revoke(CredentialType.tag, 7, T0 - 2000n)).toBe('redundant');
    expect(m.add('tag', tag(7, 1, idA.address, T0 - 1000n), ok)).toBe('redundant'); // 1.14 asks "same?" before "revoked?"
    expect(m.add('tag', tag(7, 2, idA.address, T0 - 1000n), ok)).toBe('rejected');
    expect(m.add('tag', tag(7, 1, idA.address, T0 - 999n), ok)).toBe('new');
    // as in 1.14, revoking a tag also raises the COM threshold
    expect(m.comRevokedAtOrBefore).toBe(T0 - 1000n);
    m.clean(config({ credentialTimeMaxDelta: 10n }));
    expect(m.tag.size).toBe(0);
  });

  it('answers ownership from valid COOs; the capability holder is the last custody link', () => {
    const m = new RemoteCredentials();
    const coo = signCoo({ networkId: NWID, timestamp: T0, flags: 0n, id: 1, things: [ownedIp({ family: 4, ip: Uint8Array.of(10, 1, 2, 3), port: 0 } as never), ownedMac(0x02_aabb_ccdd_ee)], issuedTo: idA.address }, controller);
    expect(m.add('coo', coo, ok)).toBe('new');
    expect(m.owns(config(), { ip: Uint8Array.of(10, 1, 2, 3) })).toBe(true);
    expect(m.owns(config(), { ip: Uint8Array.of(10, 1, 2, 4) })).toBe(false);
    expect(m.owns(config(), { mac: 0x02_aabb_ccdd_ee })).toBe(true);
    expect(m.owns(config({ credentialTimeMaxDelta: 0n, timestamp: T0 + 1n }), { mac: 0x02_aabb_ccdd_ee })).toBe(false);
    // NDP emulation: an IPv6 source inside our own RFC4193 /88 counts as owned (1.14's shortcut)
    const ours = rfc4193Address(NWID, idB.address);
    const neighbour = Uint8Array.from(ours.ip);
    neighbour[15] ^= 0x5a;
    const ndp = config({ flags: NetconfFlag.ipv6NdpEmulation, staticIps: [ours] });
    expect(m.owns(ndp, { ip: neighbour })).toBe(true);
    expect(m.owns(config({ staticIps: [ours] }), { ip: neighbour })).toBe(false);
    expect(m.owns(ndp, { ip: rfc4193Address(NWID + 1n, idB.address).ip })).toBe(false);
    const handed = addCustodyLink(capability(1), idA, idB.address)!;
    expect(capabilityIssuedTo(handed)).toBe(idB.address);
  });
});

describe('NetworkMember taking other members\' credentials', () => {
  let leaf: FakeLeaf;
  let member: NetworkMember;
  let n: MemberNetwork;

  beforeEach(() => {
    leaf = new FakeLeaf(idB, [controller, idA]);
    member = new NetworkMember(leaf.asLeaf);
    n = member.join(NWID);
    n.config = config();
    return () => member.close();
  });

  it('keeps tags, capabilities and COOs the controller signed, under the member they were issued to', () => {
    const coo = signCoo({ networkId: NWID, timestamp: T0, flags: 0n, id: 1, things: [ownedMac(0x02_aabb_ccdd_ee)], issuedTo: idA.address }, controller);
    leaf.push(idA, { tags: [tag(7, 42)], capabilities: [capability(3)], certificatesOfOwnership: [coo] });
    const m = member.remoteOf(n, idA.address);
    expect(m.getTag(n.config!, 7)?.value).toBe(42);
    expect(m.capabilities(n.config!).map((c) => c.id)).toEqual([3]);
    expect(m.owns(n.config!, { mac: 0x02_aabb_ccdd_ee })).toBe(true);
    // relayed by another member: still kept under the member it was issued to
    leaf.push(idB, { tags: [tag(9, 5)] });
    expect(member.remoteOf(n, idA.address).getTag(n.config!, 9)?.value).toBe(5);
    expect(member.rejected).toMatchObject({ tag: 0, capability: 0, coo: 0 });
  });

  it('refuses a wrong signer, another network, a tampered signature, a broken custody chain', () => {
    const forged = tag(1, 1, idA.address, T0, NWID, idB); // signed by a member, not the controller
    const otherNet = tag(2, 1, idA.address, T0, NWID + 1n);
    const good = tag(3, 1);
    const tampered: Tag = { ...good, value: 99 };
    const c = capability(4);
    const brokenChain: Capability = { ...c, custody: [{ ...c.custody[0], from: idB.address }] };
    const skipped = addCustodyLink(capability(5), idB, idB.address)!; // second link not from the first holder
    leaf.push(idA, { tags: [forged, otherNet, tampered], capabilities: [brokenChain, skipped] });
    const m = member.remoteOf(n, idA.address);
    expect([1, 2, 3].map((id) => m.getTag(n.config!, id))).toEqual([undefined, undefined, undefined]);
    expect(m.capabilities(n.config!)).toEqual([]);
    expect(member.rejected.tag).toBe(3);
    expect(member.rejected.capability).toBe(2);
    expect(n.remote.has(idA.address)).toBe(false);
  });

  it('a member can hand a capability on: the chain controller → A → C checks out and is kept under C', () => {
    const c = controller.address; // any third node whose identity we know
    const handed = addCustodyLink(capability(6), idA, c)!;
    leaf.push(idA, { capabilities: [handed] });
    expect(member.remoteOf(n, c).capabilities(n.config!).map((x) => x.id)).toEqual([6]);
    expect(member.remoteOf(n, idA.address).capabilities(n.config!)).toEqual([]);
  });

  it('applies the controller\'s revocations of tags, and passes a fast-propagate one on to the other members it knows', () => {
    leaf.push(idA, { tags: [tag(7, 42)] });
    const rev = signRevocation({ id: 1, networkId: NWID, credentialId: 7, threshold: T0, flags: RevocationFlag.fastPropagate, target: idA.address, credentialType: CredentialType.tag }, controller);
    const revoked = new Promise((resolve) => member.once('revocation', (...a) => resolve(a)));
    leaf.sent.length = 0;
    leaf.push(controller, { revocations: [rev] });
    expect(member.remoteOf(n, idA.address).getTag(n.config!, 7)).toBeUndefined();
    return revoked.then((a) => {
      expect(a).toEqual([NWID, idA.address]);
      // A is the target we know; the controller (signer and sender) is not sent it back
      expect(leaf.sent.map((s) => [s.to, s.verb])).toEqual([[idA.address, Verb.NETWORK_CREDENTIALS]]);
      const forged = signRevocation({ ...rev, id: 2, credentialId: 8 }, idB);
      leaf.push(idB, { revocations: [forged] });
      expect(member.rejected.revocation).toBe(1);
    });
  });

  it('reads NETWORK_CREDENTIALS from one node at most once a second (ZT_PEER_CREDENTIALS_RATE_LIMIT)', () => {
    leaf.push(idA, { tags: [tag(7, 1)] });
    leaf.clock -= 500; // the next push comes 500 ms after this one
    leaf.push(idA, { tags: [tag(7, 2, idA.address, T0 + 1n)] });
    expect(member.remoteOf(n, idA.address).getTag(n.config!, 7)?.value).toBe(1);
    expect(member.rejected.throttled).toBe(1);
    leaf.push(idA, { tags: [tag(7, 2, idA.address, T0 + 1n)] });
    expect(member.remoteOf(n, idA.address).getTag(n.config!, 7)?.value).toBe(2);
  });
});
