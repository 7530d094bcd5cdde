// PUSH_DIRECT_PATHS as 1.14 does it (docs/protocol/04-verbs.md §15), on a stub node with a test
// clock: which pushes are followed and which addresses contacted; when and what we push; and the
// IP scope and containment rules both directions depend on.
import { beforeEach, describe, expect, it } from 'vitest';
import { boundAddresses, DIRECT_PATH_LIMITS, DirectPaths, type DirectPathsPolicy } from '../../src/node/direct-paths.ts';
import { containsAddress, IpScope, ipScope, isAddressValidForPath } from '../../src/node/ip-scope.ts';
import type { Inbound, Node } from '../../src/node/node.ts';
import { Peer } from '../../src/node/peer.ts';
import type { LocalSocket } from '../../src/node/udp.ts';
import { PushDirectPathsFlag, Verb } from '../../src/wire/constants.ts';
import { formatInetAddress, parseInetAddress, type IpAddress } from '../../src/wire/inet-address.ts';
import { decodePushDirectPaths, encodePushDirectPaths, type PathToPush } from '../../src/wire/verbs/push-direct-paths.ts';
import { VECTOR_IDENTITIES } from '../support/root-harness.ts';

const at = (text: string): IpAddress => parseInetAddress(text)!;
const lan4: LocalSocket = { index: 0, address: '10.1.0.2', port: 9993, family: 4 };
const loop4: LocalSocket = { index: 1, address: '127.0.0.1', port: 9993, family: 4 };
const lan6: LocalSocket = { index: 2, address: 'fd00::2', port: 9993, family: 6 };

interface Sent { verb: number; to: string; socket: number; payload: Uint8Array }
interface Contact { to: string; socket: number; fullHello: boolean }

/** Just what DirectPaths uses of a Node, recording what it sends. */
function stubNode(clock: { now: number }) {
  const sent: Sent[] = [];
  const contacts: Contact[] = [];
  const drops: string[] = [];
  const node = {
    transport: { sockets: [lan4, loop4, lan6] },
    now: () => clock.now,
    sendTo: (_p: Peer, socket: LocalSocket, to: IpAddress, verb: number, payload: Uint8Array) => {
      sent.push({ verb, to: formatInetAddress(to), socket: socket.index, payload });
      return 0n;
    },
    contactAt: (_p: Peer, socket: LocalSocket, to: IpAddress, fullHello = false) => { contacts.push({ to: formatInetAddress(to), socket: socket.index, fullHello }); },
    // the node's own path rules: here only loopback is refused
    mayLearnPath: (_p: Peer, a: IpAddress) => !(a.family === 4 && a.ip[0] === 127),
    countDrop: (r: string) => { drops.push(r); },
  };
  return { node: node as unknown as Node, sent, contacts, drops };
}

const relayed = (from = '198.18.0.1/9993'): Inbound => ({ from: at(from), socket: lan4, hops: 1, packetId: 1n });
const direct = (from: string): Inbound => ({ from: at(from), socket: lan4, hops: 0, packetId: 1n });
const push = (...paths: (string | PathToPush)[]): Uint8Array =>
  encodePushDirectPaths({ paths: paths.map((p) => (typeof p === 'string' ? { flags: 0, address: at(p) } : p)) });

describe('receiving PUSH_DIRECT_PATHS', () => {
  const clock = { now: 1_000_000 };
  let stub: ReturnType<typeof stubNode>;
  let policy: { member: boolean; managed: IpAddress[] };
  let paths: DirectPaths;
  let peer: Peer;

  beforeEach(() => {
    stub = stubNode(clock);
    policy = { member: true, managed: [] };
    const p: DirectPathsPolicy = {
      acceptsPushFrom: () => policy.member,
      insideOurNetworks: (a) => policy.managed.some((net) => containsAddress(net, a)),
    };
    paths = new DirectPaths(stub.node, p);
    peer = new Peer(VECTOR_IDENTITIES[1], new Uint8Array(48));
  });

  it('contacts each pushed address from every socket of ours that can reach it', () => {
    paths.receive(peer, push('10.1.0.7/9993', 'fd00::7/9993'), relayed());
    expect(stub.contacts).toEqual([
      { to: '10.1.0.7/9993', socket: 0, fullHello: false }, // not from the loopback socket
      { to: 'fd00::7/9993', socket: 2, fullHello: false },
    ]);
  });

  it('ignores a push from a peer that shares no network with us', () => {
    policy.member = false;
    paths.receive(peer, push('10.1.0.7/9993'), relayed());
    expect(stub.contacts).toEqual([]);
    expect(paths.counts.pushesIgnored).toBe(1);
  });

  it('acts on at most 8 pushes while they keep coming less than 30 s apart, then again after a pause', () => {
    for (let i = 0; i < 10; i++) {
      paths.receive(peer, push(`10.1.0.${10 + i}/9993`), relayed());
      clock.now += 1000;
    }
    expect(stub.contacts.map((c) => c.to)).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => `10.1.0.${10 + i}/9993`));
    expect(paths.counts.pushesIgnored).toBe(2);
    clock.now += DIRECT_PATH_LIMITS.cutoffTimeMs + 1;
    paths.receive(peer, push('10.1.0.99/9993'), relayed());
    expect(stub.contacts.at(-1)?.to).toBe('10.1.0.99/9993');
  });

  it('never contacts an address inside one of our own networks, a refused scope, or a path already active', () => {
    policy.managed = [at('10.244.0.10/24')];
    peer.learnPath(at('10.1.0.5/9993'), lan4, clock.now);
    paths.receive(peer, push('10.244.0.11/9993', '127.0.0.1/9993', '10.1.0.5/9993', '10.1.0.6/9993'), relayed());
    expect(stub.contacts.map((c) => c.to)).toEqual(['10.1.0.6/9993']);
  });

  it('skips forget records, contacts a redirect with a full HELLO even on an active path, and takes 8 per scope and family', () => {
    peer.learnPath(at('10.1.0.5/9993'), lan4, clock.now);
    paths.receive(peer, push(
      { flags: PushDirectPathsFlag.forget, address: at('10.1.0.4/9993') },
      { flags: PushDirectPathsFlag.redirect, address: at('10.1.0.5/9993') },
    ), relayed());
    expect(stub.contacts).toEqual([{ to: '10.1.0.5/9993', socket: 0, fullHello: true }]);
    stub.contacts.length = 0;
    const many = Array.from({ length: 10 }, (_, i) => `10.2.0.${i + 1}/9993`);
    paths.receive(peer, push(...many, '8.8.8.8/9993'), relayed());
    expect(stub.contacts.map((c) => c.to)).toEqual([...many.slice(0, 8), '8.8.8.8/9993']); // global scope counted apart
  });

  it('counts a malformed push and drops it', () => {
    paths.receive(peer, Uint8Array.of(0, 2, 0, 0, 0, 4, 6, 10), relayed());
    expect(stub.drops).toEqual(['bad-payload']);
    expect(stub.contacts).toEqual([]);
  });
});

describe('sending PUSH_DIRECT_PATHS', () => {
  const clock = { now: 5_000_000 };
  let stub: ReturnType<typeof stubNode>;
  let paths: DirectPaths;
  let peer: Peer;

  beforeEach(() => {
    stub = stubNode(clock);
    paths = new DirectPaths(stub.node, { acceptsPushFrom: () => true, insideOurNetworks: () => false });
    peer = new Peer(VECTOR_IDENTITIES[1], new Uint8Array(48));
  });

  const pushed = (s: Sent): string[] => {
    const d = decodePushDirectPaths(s.payload);
    if (!d.ok) throw new Error('undecodable push');
    return d.value.paths.map((p) => formatInetAddress(p.address!));
  };

  it('pushes nothing to a peer that never sent traffic through a membership gate', () => {
    paths.received(peer, relayed());
    expect(stub.sent).toEqual([]);
  });

  it('pushes our bound addresses and reported surfaces (not loopback) on the path the trusted packet came by', () => {
    paths.noteSurface(peer, direct('198.18.0.1/9993'), at('198.18.0.2/41000'));
    paths.noteSurface(peer, direct('198.18.0.1/9993'), at('8.8.8.8/1')); // scope differs from the reporter's: ignored
    paths.noteSurface(peer, relayed('198.18.0.1/9993'), at('198.18.0.3/1')); // not heard directly: ignored
    paths.trust(peer);
    paths.received(peer, relayed('198.18.0.1/9993'));
    expect(stub.sent).toHaveLength(1);
    expect(stub.sent[0]).toMatchObject({ verb: Verb.PUSH_DIRECT_PATHS, to: '198.18.0.1/9993', socket: 0 });
    expect(pushed(stub.sent[0])).toEqual(['10.1.0.2/9993', 'fd00::2/9993', '198.18.0.2/41000']);
    expect(paths.surfaceAddresses().map(formatInetAddress)).toEqual(['198.18.0.2/41000']);
  });

  it('pushes every 15 s while packets arrive relayed, every 120 s once they come directly, and stops 600 s after trust', () => {
    paths.trust(peer);
    paths.received(peer, relayed());
    clock.now += DIRECT_PATH_LIMITS.pushIntervalRelayedMs - 1;
    paths.received(peer, relayed());
    expect(stub.sent).toHaveLength(1);
    clock.now += 1;
    paths.received(peer, relayed());
    expect(stub.sent).toHaveLength(2);
    clock.now += DIRECT_PATH_LIMITS.pushIntervalRelayedMs;
    paths.received(peer, direct('10.1.0.7/9993')); // direct: the longer interval applies
    expect(stub.sent).toHaveLength(2);
    clock.now += DIRECT_PATH_LIMITS.pushIntervalDirectMs;
    paths.received(peer, direct('10.1.0.7/9993'));
    expect(stub.sent.at(-1)).toMatchObject({ to: '10.1.0.7/9993' });
    expect(stub.sent).toHaveLength(3);
    clock.now += DIRECT_PATH_LIMITS.trustExpirationMs;
    paths.received(peer, relayed());
    expect(stub.sent).toHaveLength(3);
  });

  it('never announces an address inside one of our networks, and splits a long list under 1200 bytes a packet', () => {
    const sockets = [{ index: 0, address: '10.1.9.2', port: 9993, family: 4 }, ...Array.from({ length: 60 }, (_, i) => ({ index: i + 1, address: `fd00::${i + 1}`, port: 9993, family: 6 }))];
    const many = new DirectPaths({ ...stub.node, transport: { sockets } } as unknown as Node,
      { acceptsPushFrom: () => true, insideOurNetworks: (a) => containsAddress(at('10.1.9.0/24'), a) });
    many.trust(peer);
    many.received(peer, relayed());
    expect(stub.sent.length).toBeGreaterThan(1);
    for (const s of stub.sent) expect(28 + s.payload.length).toBeLessThan(1200);
    const all = stub.sent.flatMap(pushed);
    expect(all).toHaveLength(60);
    expect(all).not.toContain('10.1.9.2/9993');
  });
});

describe('1.14 address rules', () => {
  it('gives addresses 1.14\'s scopes and takes only private, pseudo-private, shared and global ones as paths', () => {
    const cases: [string, number, boolean][] = [
      ['10.0.0.1/1', IpScope.private, true], ['198.19.255.1/1', IpScope.private, true], ['100.64.0.1/1', IpScope.private, true],
      ['28.0.0.1/1', IpScope.pseudoPrivate, true], ['8.8.8.8/1', IpScope.global, true], ['127.0.0.1/1', IpScope.loopback, false],
      ['169.254.1.1/1', IpScope.linkLocal, false], ['224.0.0.1/1', IpScope.multicast, false], ['0.1.2.3/1', IpScope.none, false],
      ['fd00::1/1', IpScope.private, true], ['fe80::1/1', IpScope.loopback, false], ['fe80::2/1', IpScope.linkLocal, false],
      ['::1/1', IpScope.loopback, false], ['2001:470::1/1', IpScope.global, false], ['2001:db8::1/1', IpScope.global, true],
    ];
    for (const [text, scope, valid] of cases) {
      expect([text, ipScope(at(text))]).toEqual([text, scope]);
      expect([text, isAddressValidForPath(at(text))]).toEqual([text, valid]);
    }
  });

  it('contains addresses as InetAddress::containsAddress does (IPv6 nets compared unmasked)', () => {
    expect(containsAddress(at('10.244.0.10/24'), at('10.244.0.200/1'))).toBe(true);
    expect(containsAddress(at('10.244.0.10/24'), at('10.244.1.1/1'))).toBe(false);
    expect(containsAddress(at('fd00::/64'), at('fd00::1234/1'))).toBe(true);
    expect(containsAddress(at('fd00::5/88'), at('fd00::6/1'))).toBe(false); // a static IP with host bits
    expect(containsAddress(at('10.0.0.0/8'), at('fd00::1/1'))).toBe(false);
  });
});

describe('bound addresses', () => {
  it('a socket on one address announces that address; a wildcard socket every interface address of its family, with its port', () => {
    expect(boundAddresses({ index: 0, address: '10.1.0.2', port: 9993, family: 4 }).map(formatInetAddress)).toEqual(['10.1.0.2/9993']);
    const wildcard = boundAddresses({ index: 0, address: '0.0.0.0', port: 29993, family: 4 }).map(formatInetAddress);
    expect(wildcard).toContain('127.0.0.1/29993'); // every host has loopback; DirectPaths then leaves it out
    expect(wildcard.every((a) => a.endsWith('/29993') && !a.includes(':'))).toBe(true);
  });
});
