// The member-side rules engine (docs/protocol/07-network-config-controller.md §4) on hand-built
// frames: sets of matches joined by AND/OR with NOT, actions ending a set, "hard" results that the
// NOT bit cannot flip, BREAK, capabilities, and the rules the controller UIs write by default; then
// what the other member showed us (tags, capabilities, COOs signed by the lab capture's controller)
// and the TEE/WATCH/REDIRECT verdicts with the EXT_FRAME flags 1.14 sends them with.

import { describe, expect, it } from 'vitest';
import { RemoteCredentials } from '../../src/leaf/remote-credentials.ts';
import { forwardedFrames } from '../../src/leaf/rule-forwarding.ts';
import { filterFrame, frameAllowed, type FilteredFrame } from '../../src/leaf/rules-filter.ts';
import { addCustodyLink, type Capability } from '../../src/wire/credentials/capability.ts';
import { ownedIp, ownedMac, signCoo, type CertificateOfOwnership } from '../../src/wire/credentials/coo.ts';
import { signTag, type Tag } from '../../src/wire/credentials/tag.ts';
import type { NetworkConfig } from '../../src/wire/netconf/network-config.ts';
import type { Rule } from '../../src/wire/rules.ts';
import { decodeExtFrame } from '../../src/wire/verbs/ext-frame.ts';
import { captureExchange } from '../controller/capture-exchange.ts';

const SELF = 0x11_2233_4455, PEER = 0x66_7788_99aa;

function config(rules: Rule[], capabilities: Capability[] = [], flags = 0n): NetworkConfig {
  return { rules, capabilities, tags: [], certificatesOfOwnership: [], flags } as unknown as NetworkConfig;
}
const r = (type: string, fields: Record<string, unknown> = {}, not = false, or = false): Rule => ({ type, not, or, ...fields }) as unknown as Rule;
const accept = r('ACTION_ACCEPT'), drop = r('ACTION_DROP');

function ipv4(proto: number, l4: number[], src = [10, 0, 0, 1], dst = [10, 0, 0, 2]): Uint8Array {
  return Uint8Array.from([0x45, 0, 0, 20 + l4.length, 0, 0, 0, 0, 64, proto, 0, 0, ...src, ...dst, ...l4]);
}
const icmpEcho = ipv4(1, [8, 0, 0, 0, 0, 1, 0, 1]);
const tcpSynTo22 = ipv4(6, [0x30, 0x39, 0, 22, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x02, 0, 0, 0, 0, 0, 0]);
const udpTo53 = ipv4(17, [0x30, 0x39, 0, 53, 0, 8, 0, 0]);
const arp = new Uint8Array(28);

function frame(etherType: number, data: Uint8Array, o: Partial<FilteredFrame> = {}): FilteredFrame {
  return { inbound: false, ztSource: SELF, ztDest: PEER, macSource: 0x02_0000_0000_01, macDest: 0x02_0000_0000_02, etherType, data, ...o };
}

describe('frameAllowed', () => {
  it('accepts everything under the default rule, and nothing under no rules or a lone DROP', () => {
    expect(frameAllowed(config([accept]), SELF, frame(0x0800, icmpEcho))).toBe(true);
    expect(frameAllowed(config([]), SELF, frame(0x0800, icmpEcho))).toBe(false);
    expect(frameAllowed(config([drop]), SELF, frame(0x0800, icmpEcho))).toBe(false);
  });

  it('the UIs\' default: drop anything that is not IPv4, ARP or IPv6 (NOT matches ANDed), accept the rest', () => {
    const rules = [
      r('MATCH_ETHERTYPE', { etherType: 0x0800 }, true), r('MATCH_ETHERTYPE', { etherType: 0x0806 }, true),
      r('MATCH_ETHERTYPE', { etherType: 0x86dd }, true), drop, accept,
    ];
    expect(frameAllowed(config(rules), SELF, frame(0x0800, icmpEcho))).toBe(true);
    expect(frameAllowed(config(rules), SELF, frame(0x0806, arp))).toBe(true);
    expect(frameAllowed(config(rules), SELF, frame(0x88b5, new Uint8Array(10)))).toBe(false);
  });

  it('drops ICMP but not TCP; a port range and TCP flags (characteristics) select SSH SYNs', () => {
    const noIcmp = [r('MATCH_ETHERTYPE', { etherType: 0x0800 }), r('MATCH_IP_PROTOCOL', { ipProtocol: 1 }), drop, accept];
    expect(frameAllowed(config(noIcmp), SELF, frame(0x0800, icmpEcho))).toBe(false);
    expect(frameAllowed(config(noIcmp), SELF, frame(0x0800, tcpSynTo22))).toBe(true);
    const noSsh = [r('MATCH_IP_DEST_PORT_RANGE', { start: 22, end: 22 }), r('MATCH_CHARACTERISTICS', { mask: 0x02n }), drop, accept];
    expect(frameAllowed(config(noSsh), SELF, frame(0x0800, tcpSynTo22))).toBe(false);
    expect(frameAllowed(config(noSsh), SELF, frame(0x0800, udpTo53))).toBe(true);
    const icmpType = [r('MATCH_ICMP', { icmpType: 8, icmpCode: 0, flags: 0 }), drop, accept];
    expect(frameAllowed(config(icmpType), SELF, frame(0x0800, icmpEcho))).toBe(false);
  });

  it('a "hard no" is not flipped by NOT: "not ipv4 source 10/8" does not match an ARP frame', () => {
    const rules = [r('MATCH_IPV4_SOURCE', { ip: Uint8Array.from([10, 0, 0, 0]), mask: 8 }, true), drop, accept];
    expect(frameAllowed(config(rules), SELF, frame(0x0806, arp))).toBe(true); // hard no: the set fails, DROP not taken
    expect(frameAllowed(config(rules), SELF, frame(0x0800, ipv4(1, [8, 0], [192, 168, 0, 1])))).toBe(false);
    expect(frameAllowed(config(rules), SELF, frame(0x0800, icmpEcho))).toBe(true);
  });

  it('OR joins matches; a failed set is skipped up to its action, then a new set starts', () => {
    const rules = [
      r('MATCH_IP_PROTOCOL', { ipProtocol: 1 }), r('MATCH_IP_PROTOCOL', { ipProtocol: 17 }, false, true), drop,
      accept,
    ];
    expect(frameAllowed(config(rules), SELF, frame(0x0800, icmpEcho))).toBe(false);
    expect(frameAllowed(config(rules), SELF, frame(0x0800, udpTo53))).toBe(false);
    expect(frameAllowed(config(rules), SELF, frame(0x0800, tcpSynTo22))).toBe(true);
  });

  it('matches on ZeroTier addresses and direction; BREAK falls through to the capabilities (outbound only)', () => {
    const onlyToPeer = [r('MATCH_DEST_ZEROTIER_ADDRESS', { zt: PEER }), accept, drop];
    expect(frameAllowed(config(onlyToPeer), SELF, frame(0x0800, icmpEcho))).toBe(true);
    expect(frameAllowed(config(onlyToPeer), SELF, frame(0x0800, icmpEcho, { ztDest: 0x12_3456_789a }))).toBe(false);
    const cap = { rules: [r('MATCH_IP_PROTOCOL', { ipProtocol: 6 }), accept] } as unknown as Capability;
    const breakFirst = [r('ACTION_BREAK')];
    expect(frameAllowed(config(breakFirst, [cap]), SELF, frame(0x0800, tcpSynTo22))).toBe(true);
    expect(frameAllowed(config(breakFirst, [cap]), SELF, frame(0x0800, icmpEcho))).toBe(false);
    expect(frameAllowed(config(breakFirst, [cap]), SELF, frame(0x0800, tcpSynTo22, { inbound: true }))).toBe(false);
  });

  it('a match type this member does not know yields what the controller flagged', () => {
    const rules = [r('UNKNOWN', { code: 60 }), drop, accept];
    expect(frameAllowed(config(rules), SELF, frame(0x0800, icmpEcho))).toBe(true);
    expect(frameAllowed(config(rules, [], 0x08n), SELF, frame(0x0800, icmpEcho))).toBe(false);
  });
});

describe('rules with what the other member showed us (tags, capabilities, COOs) and TEE/WATCH/REDIRECT', () => {
  const controller = captureExchange().controller;
  const NWID = (BigInt(controller.address) << 24n) | 0x42n, T0 = 1_800_000_000_000n;
  const TEAM = 100;
  const tagOf = (value: number, issuedTo: number): Tag => signTag({ networkId: NWID, timestamp: T0, id: TEAM, value, issuedTo }, controller);
  const withTags = (rules: Rule[], mine?: number, o: Record<string, unknown> = {}): NetworkConfig => ({
    rules, capabilities: [], certificatesOfOwnership: [], flags: 0n, staticIps: [], timestamp: T0, credentialTimeMaxDelta: 60_000n,
    tags: mine === undefined ? [] : [tagOf(mine, SELF)], ...o,
  }) as unknown as NetworkConfig;
  const showing = (value?: number, extra: (m: RemoteCredentials) => void = () => {}): RemoteCredentials => {
    const m = new RemoteCredentials();
    if (value !== undefined) m.add('tag', tagOf(value, PEER), () => true);
    extra(m);
    return m;
  };
  const inbound = (o: Partial<FilteredFrame> = {}): FilteredFrame => frame(0x0800, icmpEcho, { inbound: true, ztSource: PEER, ztDest: SELF, ...o });
  // "same team or nothing": accept when both tags equal 1
  const sameTeam = [r('MATCH_TAGS_EQUAL', { id: TEAM, value: 1 }), accept, drop];

  it('MATCH_TAGS_EQUAL: inbound needs the sender\'s tag; outbound is lenient until the receiver\'s tag is known', () => {
    expect(frameAllowed(withTags(sameTeam, 1), SELF, inbound(), showing(1))).toBe(true);
    expect(frameAllowed(withTags(sameTeam, 1), SELF, inbound(), showing(2))).toBe(false);
    expect(frameAllowed(withTags(sameTeam, 1), SELF, inbound(), showing())).toBe(false);
    expect(frameAllowed(withTags(sameTeam, 2), SELF, inbound(), showing(1))).toBe(false);
    expect(frameAllowed(withTags(sameTeam), SELF, inbound(), showing(1))).toBe(false); // we hold no such tag
    expect(frameAllowed(withTags(sameTeam, 1), SELF, frame(0x0800, icmpEcho), showing())).toBe(true);
    expect(frameAllowed(withTags(sameTeam, 1), SELF, frame(0x0800, icmpEcho), showing(2))).toBe(false);
    // a remote tag outside credentialTimeMaxDelta of our config does not count
    expect(frameAllowed(withTags(sameTeam, 1, { timestamp: T0 + 120_000n }), SELF, inbound(), showing(1))).toBe(false);
  });

  it('the bitwise and difference tag matches combine both members\' values', () => {
    const cfg = (type: string, value: number): NetworkConfig => withTags([r(type, { id: TEAM, value }), accept, drop], 0b1100);
    expect(frameAllowed(cfg('MATCH_TAGS_BITWISE_AND', 0b0100), SELF, inbound(), showing(0b0110))).toBe(true);
    expect(frameAllowed(cfg('MATCH_TAGS_BITWISE_OR', 0b1110), SELF, inbound(), showing(0b0110))).toBe(true);
    expect(frameAllowed(cfg('MATCH_TAGS_BITWISE_XOR', 0b1010), SELF, inbound(), showing(0b0110))).toBe(true);
    expect(frameAllowed(cfg('MATCH_TAGS_BITWISE_XOR', 0b1011), SELF, inbound(), showing(0b0110))).toBe(false);
    expect(frameAllowed(cfg('MATCH_TAGS_DIFFERENCE', 2), SELF, inbound(), showing(10))).toBe(true);
    expect(frameAllowed(cfg('MATCH_TAGS_DIFFERENCE', 1), SELF, inbound(), showing(10))).toBe(false);
  });

  it('MATCH_TAG_SENDER judges the sender\'s tag inbound (none: no match), ours outbound', () => {
    const fromAdmins = [r('MATCH_TAG_SENDER', { id: TEAM, value: 7 }), accept, drop];
    expect(frameAllowed(withTags(fromAdmins), SELF, inbound(), showing(7))).toBe(true);
    expect(frameAllowed(withTags(fromAdmins), SELF, inbound(), showing(6))).toBe(false);
    expect(frameAllowed(withTags(fromAdmins), SELF, inbound(), showing())).toBe(false);
    expect(frameAllowed(withTags(fromAdmins, 7), SELF, frame(0x0800, icmpEcho), showing())).toBe(true);
    expect(frameAllowed(withTags(fromAdmins, 6), SELF, frame(0x0800, icmpEcho), showing(7))).toBe(false);
    const toAdmins = [r('MATCH_TAG_RECEIVER', { id: TEAM, value: 7 }), accept, drop];
    expect(frameAllowed(withTags(toAdmins), SELF, frame(0x0800, icmpEcho), showing(6))).toBe(false);
    expect(frameAllowed(withTags(toAdmins), SELF, frame(0x0800, icmpEcho), showing())).toBe(true); // not known yet: lenient
  });

  it('an inbound frame no rule accepts is tried against the sender\'s capabilities, not ours', () => {
    const cap = addCustodyLink({ networkId: NWID, timestamp: T0, id: 5, rules: [r('MATCH_IP_PROTOCOL', { ipProtocol: 1 }), accept], maxCustodyChainLength: 1, custody: [] }, controller, PEER)!;
    const cfg = withTags([], undefined, { capabilities: [cap] });
    expect(frameAllowed(cfg, SELF, inbound(), showing())).toBe(false);
    expect(frameAllowed(withTags([]), SELF, inbound(), showing(undefined, (m) => m.add('capability', cap, () => true)))).toBe(true);
    expect(frameAllowed(cfg, SELF, frame(0x0800, icmpEcho), showing())).toBe(true);
  });

  it('sender IP / MAC authenticated: from the sender\'s COO inbound, from ours outbound', () => {
    const coo = (issuedTo: number): CertificateOfOwnership => signCoo({
      networkId: NWID, timestamp: T0, flags: 0n, id: 1, things: [ownedIp({ family: 4, ip: Uint8Array.of(10, 0, 0, 1), port: 0 } as never), ownedMac(0x02_0000_0000_01)], issuedTo,
    }, controller);
    const ipProven = [r('MATCH_CHARACTERISTICS', { mask: 0x1000_0000_0000_0000n }), accept, drop];
    const macProven = [r('MATCH_CHARACTERISTICS', { mask: 0x0800_0000_0000_0000n }), accept, drop];
    const peerCoo = showing(undefined, (m) => m.add('coo', coo(PEER), () => true));
    expect(frameAllowed(withTags(ipProven), SELF, inbound(), peerCoo)).toBe(true);
    expect(frameAllowed(withTags(ipProven), SELF, inbound({ data: ipv4(1, [8, 0], [10, 0, 0, 9]) }), peerCoo)).toBe(false);
    expect(frameAllowed(withTags(ipProven), SELF, inbound(), showing())).toBe(false);
    expect(frameAllowed(withTags(macProven), SELF, inbound(), peerCoo)).toBe(true);
    expect(frameAllowed(withTags(macProven), SELF, inbound({ macSource: 0x02_0000_0000_09 }), peerCoo)).toBe(false);
    expect(frameAllowed(withTags(ipProven, undefined, { certificatesOfOwnership: [coo(SELF)] }), SELF, frame(0x0800, icmpEcho))).toBe(true);
    expect(frameAllowed(withTags(ipProven), SELF, frame(0x0800, icmpEcho))).toBe(false);
  });

  it('TEE and WATCH ask for copies, REDIRECT sends the frame elsewhere; EXT_FRAME flags are 1.14\'s', () => {
    const WATCHER = 0x77_7777_7777, SINK = 0x55_5555_5555;
    const tee = (type: string, address: number, length = 0): Rule => r(type, { address: BigInt(address), flags: 0, length });
    const cfg = withTags([tee('ACTION_TEE', WATCHER, 4), tee('ACTION_WATCH', WATCHER), accept]);
    const out = filterFrame(cfg, SELF, frame(0x0800, icmpEcho));
    // the later WATCH replaces the TEE (one copy target per rule set run, as in 1.14)
    expect(out).toEqual({ accept: 1, copies: [{ to: WATCHER, length: icmpEcho.length, watch: true }] });
    const teeOnly = filterFrame(withTags([tee('ACTION_TEE', WATCHER, 4), accept]), SELF, frame(0x0800, icmpEcho));
    expect(teeOnly.copies).toEqual([{ to: WATCHER, length: 4, watch: false }]);
    const [copy] = forwardedFrames(NWID, frame(0x0800, icmpEcho), teeOnly);
    const decoded = decodeExtFrame(copy.payload);
    expect(decoded.ok && [copy.to, decoded.value.flags, decoded.value.payload.length]).toEqual([WATCHER, 0x02, 4]);
    const inboundCopies = forwardedFrames(NWID, inbound(), out);
    expect(inboundCopies.map((f) => { const d = decodeExtFrame(f.payload); return d.ok && d.value.flags; })).toEqual([0x1c]);
    const watched = forwardedFrames(NWID, frame(0x0800, icmpEcho), out);
    expect(watched.map((f) => { const d = decodeExtFrame(f.payload); return d.ok && d.value.flags; })).toEqual([0x16]);

    const redirect = withTags([tee('ACTION_REDIRECT', SINK), accept]);
    const v = filterFrame(redirect, SELF, frame(0x0800, icmpEcho));
    expect(v).toEqual({ accept: 1, copies: [], redirectTo: SINK });
    expect(frameAllowed(redirect, SELF, frame(0x0800, icmpEcho))).toBe(false); // not delivered as addressed
    const flagsOf = (f: FilteredFrame): number[] => forwardedFrames(NWID, f, filterFrame(redirect, SELF, f)).map((x) => { const d = decodeExtFrame(x.payload); return d.ok ? d.value.flags : -1; });
    expect(flagsOf(frame(0x0800, icmpEcho))).toEqual([0x04]);
    expect(flagsOf(inbound())).toEqual([0x0a]);
    // naming the sender or the destination is a no-op; naming us super-accepts inbound
    expect(filterFrame(withTags([tee('ACTION_REDIRECT', PEER), accept]), SELF, frame(0x0800, icmpEcho)).redirectTo).toBeUndefined();
    expect(filterFrame(withTags([tee('ACTION_TEE', SELF), drop]), SELF, inbound()).accept).toBe(2);
    expect(filterFrame(withTags([r('MATCH_IP_PROTOCOL', { ipProtocol: 6 }), tee('ACTION_REDIRECT', SELF), accept]), SELF, inbound()).accept).toBe(2);
  });
});
