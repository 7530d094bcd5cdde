// The member-side rules engine (docs/protocol/07-network-config-controller.md §4) on hand-built
// frames: sets of matches joined by AND/OR with NOT, actions ending a set, "hard" results that the
// NOT bit cannot flip, BREAK, capabilities, and the rules the controller UIs write by default.

import { describe, expect, it } from 'vitest';
import { frameAllowed, type FilteredFrame } from '../../src/leaf/rules-filter.ts';
import type { NetworkConfig } from '../../src/wire/netconf/network-config.ts';
import type { Rule } from '../../src/wire/rules.ts';
import type { Capability } from '../../src/wire/credentials/capability.ts';

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
