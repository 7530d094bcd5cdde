// A network's rules applied to an Ethernet frame, as a 1.14 member applies them to what it sends
// and what it receives (docs/protocol/07-network-config-controller.md §4): rules run in order;
// consecutive matches form a set (AND, or OR with the 0x40 bit; the 0x80 bit inverts one match);
// an action ends the set — taken if the set matched, otherwise the next set starts. ACCEPT (or
// PRIORITY) accepts, DROP drops, BREAK and running off the end are "no match", after which the
// capabilities the config grants are tried the same way; only an accept lets the frame through.
//
// Not modelled (counted as what 1.14 does when it lacks the information): the sender's tags and
// certificates of ownership on inbound frames (a tag rule then does not match, as for a member
// that sent no tag), and TEE/WATCH/REDIRECT, which forward copies elsewhere: they change nothing
// here except that a TEE/WATCH/REDIRECT to ourselves on an inbound frame is a super-accept.

import type { Address } from '../identity/address.ts';
import type { NetworkConfig } from '../wire/netconf/network-config.ts';
import { NetconfFlag } from '../wire/constants.ts';
import type { Rule } from '../wire/rules.ts';

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
/** IP protocols whose first four payload bytes are source and destination ports. */
const PORTED_PROTOCOLS = new Set([0x06, 0x11, 0x84, 0x88]);
/** IPv6 extension headers walked to find the payload (hop-by-hop, routing, destination, mobility). */
const IPV6_EXTENSION_HEADERS = new Set([0, 43, 60, 135]);

/** ZT_RULE_PACKET_CHARACTERISTICS_* bits (the TCP flags are the low 12 bits). */
const Characteristic = {
  inbound: 0x8000_0000_0000_0000n,
  multicast: 0x4000_0000_0000_0000n,
  broadcast: 0x2000_0000_0000_0000n,
} as const;

export interface FilteredFrame {
  inbound: boolean;
  ztSource: Address;
  /** 0 for multicast. */
  ztDest: Address;
  macSource: number;
  macDest: number;
  etherType: number;
  /** The frame's payload (after the Ethernet header). */
  data: Uint8Array;
}

type Outcome = 'accept' | 'super-accept' | 'drop' | 'no-match';

/** Whether the frame may pass (docs/protocol/07-network-config-controller.md §4), for a member holding `config`. */
export function frameAllowed(config: NetworkConfig, self: Address, f: FilteredFrame): boolean {
  const first = runRules(config, self, f, config.rules);
  if (first === 'accept' || first === 'super-accept') return true;
  if (first === 'drop') return false;
  // no match: the capabilities this member was granted (outbound); an inbound frame would be
  // judged by the sender's, which it has not shown us
  if (f.inbound) return false;
  for (const c of config.capabilities) {
    const r = runRules(config, self, f, c.rules);
    if (r === 'accept' || r === 'super-accept') return true;
  }
  return false;
}

function runRules(config: NetworkConfig, self: Address, f: FilteredFrame, rules: readonly Rule[]): Outcome {
  let superAccept = false;
  let setMatches = true;
  let skipDrop = false;
  for (const rule of rules) {
    if (rule.type.startsWith('ACTION_')) {
      if (setMatches) {
        switch (rule.type) {
          case 'ACTION_PRIORITY': return 'accept';
          case 'ACTION_DROP':
            if (skipDrop) {
              skipDrop = false;
              continue;
            }
            return 'drop';
          case 'ACTION_ACCEPT': return superAccept ? 'super-accept' : 'accept';
          case 'ACTION_BREAK': return 'no-match';
          case 'ACTION_TEE': case 'ACTION_WATCH': case 'ACTION_REDIRECT':
            if (Number(rule.address) === self && f.inbound) return 'super-accept';
            continue;
        }
      } else if (f.inbound && (rule.type === 'ACTION_TEE' || rule.type === 'ACTION_WATCH' || rule.type === 'ACTION_REDIRECT') && Number(rule.address) === self) {
        superAccept = true;
      }
      setMatches = true;
      continue;
    }
    if (!setMatches && !rule.or) continue;
    const m = matches(config, f, rule, superAccept, () => { skipDrop = true; });
    const value = m !== rule.not; // the NOT bit inverts (hard yes/no below are already inverted back)
    setMatches = rule.or ? setMatches || value : setMatches && value;
  }
  return 'no-match';
}

/**
 * Whether one match rule matches. Returns the raw match (before NOT), except where 1.14 forces a
 * result whatever the NOT bit ("hard" yes/no): those come back pre-inverted so that the caller's
 * inversion restores them.
 */
function matches(config: NetworkConfig, f: FilteredFrame, rule: Rule, superAccept: boolean, setSkipDrop: () => void): boolean {
  const hardNo = rule.not; // after the caller's XOR with NOT: false
  const hardYes = !rule.not; // after the XOR: true
  const d = f.data;
  const v4 = f.etherType === ETHERTYPE_IPV4 && d.length >= 20;
  const v6 = f.etherType === ETHERTYPE_IPV6 && d.length >= 40;
  switch (rule.type) {
    case 'MATCH_SOURCE_ZEROTIER_ADDRESS': return rule.zt === f.ztSource;
    case 'MATCH_DEST_ZEROTIER_ADDRESS': return rule.zt === f.ztDest;
    case 'MATCH_VLAN_ID': return rule.vlanId === 0;
    case 'MATCH_VLAN_PCP': return rule.vlanPcp === 0;
    case 'MATCH_VLAN_DEI': return rule.vlanDei === 0;
    case 'MATCH_MAC_SOURCE': return rule.mac === f.macSource;
    case 'MATCH_MAC_DEST': return rule.mac === f.macDest;
    case 'MATCH_IPV4_SOURCE': return v4 ? inPrefix(d.subarray(12, 16), rule.ip, rule.mask) : hardNo;
    case 'MATCH_IPV4_DEST': return v4 ? inPrefix(d.subarray(16, 20), rule.ip, rule.mask) : hardNo;
    case 'MATCH_IPV6_SOURCE': return v6 ? inPrefix(d.subarray(8, 24), rule.ip, rule.mask) : hardNo;
    case 'MATCH_IPV6_DEST': return v6 ? inPrefix(d.subarray(24, 40), rule.ip, rule.mask) : hardNo;
    case 'MATCH_IP_TOS': {
      if (!v4 && !v6) return hardNo;
      const tos = (v4 ? d[1] : ((d[0] << 4) & 0xf0) | (d[1] >> 4)) & rule.mask;
      return tos >= rule.start && tos <= rule.end;
    }
    case 'MATCH_IP_PROTOCOL': {
      if (v4) return rule.ipProtocol === d[9];
      const p = f.etherType === ETHERTYPE_IPV6 ? ipv6Payload(d) : undefined;
      return p ? rule.ipProtocol === p.proto : hardNo;
    }
    case 'MATCH_ETHERTYPE': return rule.etherType === f.etherType;
    case 'MATCH_ICMP': {
      let at: number | undefined;
      if (v4) at = d[9] === 1 ? (d[0] & 0xf) * 4 : undefined;
      else if (f.etherType === ETHERTYPE_IPV6) {
        const p = ipv6Payload(d);
        at = p && p.proto === 0x3a ? p.pos : undefined;
      }
      if (at === undefined || d.length < at + 2 || d[at] !== rule.icmpType) return hardNo;
      return (rule.flags & 1) !== 0 ? d[at + 1] === rule.icmpCode : hardYes;
    }
    case 'MATCH_IP_SOURCE_PORT_RANGE':
    case 'MATCH_IP_DEST_PORT_RANGE': {
      let at: number | undefined, proto: number | undefined;
      if (v4) {
        at = (d[0] & 0xf) * 4;
        proto = d[9];
      } else if (f.etherType === ETHERTYPE_IPV6) {
        const p = ipv6Payload(d);
        if (!p) return hardNo;
        at = p.pos;
        proto = p.proto;
      } else return hardNo;
      if (!PORTED_PROTOCOLS.has(proto) || d.length <= at + 4) return false;
      const off = at + (rule.type === 'MATCH_IP_DEST_PORT_RANGE' ? 2 : 0);
      const port = (d[off] << 8) | d[off + 1];
      if (!v4 && port === 0) return false; // 1.14 takes port 0 as "none" for IPv6 only
      return port >= rule.start && port <= rule.end;
    }
    case 'MATCH_CHARACTERISTICS': return (characteristics(f) & rule.mask) !== 0n;
    case 'MATCH_FRAME_SIZE_RANGE': return d.length >= rule.start && d.length <= rule.end;
    case 'MATCH_RANDOM': return Math.floor(Math.random() * 2 ** 32) <= rule.probability;
    case 'MATCH_TAGS_DIFFERENCE': case 'MATCH_TAGS_BITWISE_AND': case 'MATCH_TAGS_BITWISE_OR':
    case 'MATCH_TAGS_BITWISE_XOR': case 'MATCH_TAGS_EQUAL': {
      // we hold our own tags; the other member's are not tracked, so this is 1.14's "no remote tag" case
      if (!config.tags.some((t) => t.id === rule.id)) return hardNo;
      if (f.inbound && !superAccept) return hardNo;
      setSkipDrop();
      return hardYes;
    }
    case 'MATCH_TAG_SENDER': case 'MATCH_TAG_RECEIVER': {
      if (superAccept) {
        setSkipDrop();
        return hardYes;
      }
      const remoteSide = (rule.type === 'MATCH_TAG_SENDER') === f.inbound;
      if (remoteSide) {
        if (rule.type === 'MATCH_TAG_RECEIVER') {
          setSkipDrop();
          return hardYes;
        }
        return hardNo;
      }
      const local = config.tags.find((t) => t.id === rule.id);
      return local ? local.value === rule.value : hardNo;
    }
    case 'MATCH_INTEGER_RANGE': {
      const n = integerAt(d, rule.idx, rule.format);
      return n >= rule.start && n <= rule.end;
    }
    default:
      // a match this member does not understand: what the controller said such rules should yield
      return (config.flags & NetconfFlag.rulesResultOfUnsupportedMatch) !== 0n;
  }
}

/** Broadcast/multicast/inbound bits and the TCP flags (ownership bits are not known here). */
function characteristics(f: FilteredFrame): bigint {
  let cf = f.inbound ? Characteristic.inbound : 0n;
  if (isMulticast(f.macDest)) cf |= Characteristic.multicast;
  if (f.macDest === 0xffff_ffff_ffff) cf |= Characteristic.broadcast;
  const d = f.data;
  if (f.etherType === ETHERTYPE_IPV4 && d.length >= 20 && d[9] === 0x06) {
    const at = (d[0] & 0xf) * 4;
    if (d.length > at + 13) cf |= BigInt(d[at + 13]) | (BigInt(d[at + 12] & 0x0f) << 8n);
  } else if (f.etherType === ETHERTYPE_IPV6) {
    const p = ipv6Payload(d);
    if (p && p.proto === 0x06 && d.length > p.pos + 14) cf |= BigInt(d[p.pos + 13]) | (BigInt(d[p.pos + 12] & 0x0f) << 8n);
  }
  return cf;
}

function isMulticast(mac: number): boolean {
  return Math.floor(mac / 2 ** 40) % 2 === 1;
}

/** Whether `ip` lies in `net`/`bits`. */
function inPrefix(ip: Uint8Array, net: Uint8Array, bits: number): boolean {
  for (let i = 0; i < ip.length && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((ip[i] & mask) !== (net[i] & mask)) return false;
  }
  return true;
}

/** Where an IPv6 packet's payload starts and its protocol, past the extension headers 1.14 walks. */
function ipv6Payload(d: Uint8Array): { pos: number; proto: number } | undefined {
  if (d.length < 40) return undefined;
  let pos = 40, proto = d[6];
  while (pos <= d.length) {
    if (!IPV6_EXTENSION_HEADERS.has(proto)) return { pos, proto };
    if (pos + 8 > d.length) return undefined;
    proto = d[pos];
    pos += d[pos + 1] * 8 + 8;
  }
  return undefined;
}

/** MATCH_INTEGER_RANGE's field: (format & 63) + 1 bits at idx, big-endian unless format & 0x80. */
function integerAt(d: Uint8Array, idx: number, format: number): bigint {
  const bits = (format & 63) + 1;
  const bytes = Math.ceil(bits / 8);
  let n = 0n;
  if ((format & 0x80) === 0) {
    let at = idx + (8 - bytes);
    const end = at + bytes;
    if (end <= d.length) while (at < end) n = (n << 8n) | BigInt(d[at++]);
    return n & ((1n << BigInt(bits)) - 1n);
  }
  let at = idx;
  const end = at + bytes;
  if (end <= d.length) while (at < end) n = (n >> 8n) | (BigInt(d[at++]) << 56n);
  return n >> BigInt(64 - bits);
}
