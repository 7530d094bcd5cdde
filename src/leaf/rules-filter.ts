// A network's rules applied to an Ethernet frame, as a 1.14.1 member applies them to what it
// sends and what it receives (Network::filterOutgoingPacket / filterIncomingPacket / _doZtFilter;
// docs/protocol/07-network-config-controller.md §4): rules run in order; consecutive matches form
// a set (AND, or OR with the 0x40 bit; the 0x80 bit inverts one match); an action ends the set —
// taken if the set matched, otherwise the next set starts. ACCEPT (or PRIORITY) accepts, DROP
// drops, BREAK and running off the end are "no match", after which capabilities are tried the same
// way: on a frame we send, those our config grants us; on a frame we receive, those the sender
// showed us (its valid capabilities, RemoteCredentials). Only an accept lets the frame through.
//
// What the other member showed us counts as in 1.14: its tags in MATCH_TAGS_* and
// MATCH_TAG_SENDER/RECEIVER (on outbound frames the receiver's, when we hold them; without them a
// tag match is lenient outbound and on TEE/REDIRECT targets, strict inbound), and its certificates
// of ownership for the sender-IP / sender-MAC authenticated characteristics of inbound frames (ours
// for outbound ones; an IPv6 neighbour solicitation counts as IP-authenticated).
// TEE and WATCH name a member that gets a copy (the first `length` bytes, 0 = all), REDIRECT one
// that gets the frame instead: the caller sends them as EXT_FRAME (FilterVerdict). A TEE/WATCH/
// REDIRECT naming us makes an inbound frame "super-accepted" (delivered whatever its MACs).
// With NDP emulation on, an inbound IPv6 source within our own 6PLANE /40 or RFC4193 /88 prefix
// also counts as IP-authenticated (1.14's shortcut). Not modelled: VLAN IDs (frames carry none
// here, as for 1.14 on Linux), PRIORITY's QoS bucket, the remote trace target.

import type { Address } from '../identity/address.ts';
import type { NetworkConfig } from '../wire/netconf/network-config.ts';
import { NetconfFlag } from '../wire/constants.ts';
import type { Rule } from '../wire/rules.ts';
import { cooOwns, type RemoteCredentials } from './remote-credentials.ts';

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_ARP = 0x0806;
const ETHERTYPE_IPV6 = 0x86dd;
/** IP protocols whose first four payload bytes are source and destination ports. */
const PORTED_PROTOCOLS = new Set([0x06, 0x11, 0x84, 0x88]);
/** IPv6 extension headers walked to find the payload (hop-by-hop, routing, destination, mobility). */
const IPV6_EXTENSION_HEADERS = new Set([0, 43, 60, 135]);
const ICMPV6 = 0x3a;
const NEIGHBOR_SOLICITATION = 0x87, NEIGHBOR_ADVERTISEMENT = 0x88;

/** ZT_RULE_PACKET_CHARACTERISTICS_* bits (the TCP flags are the low 12 bits). */
const Characteristic = {
  inbound: 0x8000_0000_0000_0000n,
  multicast: 0x4000_0000_0000_0000n,
  broadcast: 0x2000_0000_0000_0000n,
  senderIpAuthenticated: 0x1000_0000_0000_0000n,
  senderMacAuthenticated: 0x0800_0000_0000_0000n,
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

/** A copy of the frame a TEE or WATCH asks for. */
export interface FrameCopy {
  to: Address;
  /** Bytes of the payload to copy. */
  length: number;
  watch: boolean;
}

export interface FilterVerdict {
  /** 0 drop, 1 accept, 2 super-accept (we are a TEE/WATCH/REDIRECT target: deliver whatever the MACs). */
  accept: 0 | 1 | 2;
  /** Copies to send (TEE/WATCH), in the order 1.14 sends them. */
  copies: FrameCopy[];
  /** Set when a REDIRECT sends the frame to this member instead (it is then not delivered as addressed). */
  redirectTo?: Address;
}

type Outcome = 'accept' | 'super-accept' | 'drop' | 'redirect' | 'no-match';

/** The mutable state of one _doZtFilter run. */
interface Run {
  ztDest: Address;
  cc: FrameCopy | undefined;
}

/**
 * The network's verdict on a frame (docs/protocol/07-network-config-controller.md §4), for a member
 * holding `config`. `remote` is what the other member (the receiver of an outbound unicast frame,
 * the sender of an inbound one) showed us; undefined when there is none (outbound multicast).
 */
export function filterFrame(config: NetworkConfig, self: Address, f: FilteredFrame, remote?: RemoteCredentials): FilterVerdict {
  const copies: FrameCopy[] = [];
  const main: Run = { ztDest: f.ztDest, cc: undefined };
  let accept: 0 | 1 | 2 = 0;
  const first = runRules(config, self, f, config.rules, remote, main);
  if (first === 'drop') return { accept: 0, copies };
  if (first === 'no-match') {
    const capabilities = f.inbound ? remote?.capabilities(config) ?? [] : config.capabilities;
    for (const c of capabilities) {
      const run: Run = { ztDest: f.ztDest, cc: undefined };
      const r = runRules(config, self, f, c.rules, remote, run);
      if (r === 'no-match' || r === 'drop') continue; // a DROP in a capability only ends it
      accept = r === 'super-accept' && f.inbound ? 2 : 1;
      main.ztDest = run.ztDest;
      if (run.cc) copies.push(run.cc);
      break;
    }
  } else accept = first === 'super-accept' ? 2 : 1;
  if (accept === 0) return { accept, copies };
  if (main.cc) copies.push(main.cc);
  if (main.ztDest !== f.ztDest && main.ztDest !== 0) return { accept, copies, redirectTo: main.ztDest };
  return { accept, copies };
}

/** Whether the frame may pass, ignoring copies and redirection. */
export function frameAllowed(config: NetworkConfig, self: Address, f: FilteredFrame, remote?: RemoteCredentials): boolean {
  const v = filterFrame(config, self, f, remote);
  return v.accept > 0 && v.redirectTo === undefined;
}

/** The member a TEE/WATCH/REDIRECT names (its u64 field holds a 40-bit address). */
function forwardAddress(rule: { address: bigint }): Address {
  return Number(rule.address & 0xff_ffff_ffffn);
}

function runRules(config: NetworkConfig, self: Address, f: FilteredFrame, rules: readonly Rule[], remote: RemoteCredentials | undefined, run: Run): Outcome {
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
          case 'ACTION_TEE': case 'ACTION_WATCH': case 'ACTION_REDIRECT': {
            const to = forwardAddress(rule);
            if (to === f.ztSource) continue;
            if (to === self) {
              if (f.inbound) return 'super-accept';
              continue;
            }
            if (to === run.ztDest) continue;
            if (rule.type === 'ACTION_REDIRECT') {
              run.ztDest = to;
              return 'redirect';
            }
            const length = rule.length !== 0 ? Math.min(f.data.length, rule.length) : f.data.length;
            run.cc = { to, length, watch: rule.type === 'ACTION_WATCH' };
            continue;
          }
          default: continue; // unknown actions are no-ops
        }
      } else if (f.inbound && (rule.type === 'ACTION_TEE' || rule.type === 'ACTION_WATCH' || rule.type === 'ACTION_REDIRECT') && forwardAddress(rule) === self) {
        superAccept = true;
      }
      setMatches = true;
      continue;
    }
    if (!setMatches && !rule.or) continue;
    const m = matches(config, f, rule, superAccept, remote, () => { skipDrop = true; });
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
function matches(config: NetworkConfig, f: FilteredFrame, rule: Rule, superAccept: boolean, remote: RemoteCredentials | undefined, setSkipDrop: () => void): boolean {
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
    case 'MATCH_CHARACTERISTICS': return (characteristics(config, f, remote) & rule.mask) !== 0n;
    case 'MATCH_FRAME_SIZE_RANGE': return d.length >= rule.start && d.length <= rule.end;
    case 'MATCH_RANDOM': return Math.floor(Math.random() * 2 ** 32) <= rule.probability;
    case 'MATCH_TAGS_DIFFERENCE': case 'MATCH_TAGS_BITWISE_AND': case 'MATCH_TAGS_BITWISE_OR':
    case 'MATCH_TAGS_BITWISE_XOR': case 'MATCH_TAGS_EQUAL': {
      const local = config.tags.find((t) => t.id === rule.id);
      if (!local) return hardNo;
      const other = remote?.getTag(config, rule.id);
      if (other) return tagsMatch(rule.type, local.value, other.value, rule.value);
      // outbound (the receiver's tags may not have arrived yet) and TEE/REDIRECT targets are lenient
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
        const other = remote?.getTag(config, rule.id);
        if (other) return other.value === rule.value;
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

/** Two members' tag values against a MATCH_TAGS_* rule's value. */
function tagsMatch(type: string, mine: number, theirs: number, value: number): boolean {
  switch (type) {
    case 'MATCH_TAGS_DIFFERENCE': return Math.abs(mine - theirs) <= value;
    case 'MATCH_TAGS_BITWISE_AND': return ((mine & theirs) >>> 0) === value;
    case 'MATCH_TAGS_BITWISE_OR': return ((mine | theirs) >>> 0) === value;
    case 'MATCH_TAGS_BITWISE_XOR': return ((mine ^ theirs) >>> 0) === value;
    default: return mine === value && theirs === value; // MATCH_TAGS_EQUAL
  }
}

/** The frame's characteristics: direction, broadcast/multicast, sender ownership proven by a COO, TCP flags. */
function characteristics(config: NetworkConfig, f: FilteredFrame, remote: RemoteCredentials | undefined): bigint {
  let cf = f.inbound ? Characteristic.inbound : 0n;
  if (isMulticast(f.macDest)) cf |= Characteristic.multicast;
  if (f.macDest === 0xffff_ffff_ffff) cf |= Characteristic.broadcast;
  cf |= ownership(config, f, remote);
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

/**
 * The sender-IP / sender-MAC authenticated bits: whether a certificate of ownership covers the
 * frame's source — the sender's (shown to us) for inbound frames, ours for outbound ones.
 */
function ownership(config: NetworkConfig, f: FilteredFrame, remote: RemoteCredentials | undefined): bigint {
  const d = f.data;
  let mask = 0n;
  let source: Uint8Array | undefined;
  if (f.etherType === ETHERTYPE_IPV4 && d.length >= 20) source = d.subarray(12, 16);
  else if (f.etherType === ETHERTYPE_IPV6 && d.length >= 40) {
    if (d.length >= 40 + 8 + 16 && d[6] === ICMPV6 && (d[40] === NEIGHBOR_SOLICITATION || d[40] === NEIGHBOR_ADVERTISEMENT)) {
      // a solicitation has no reliable source: 1.14 takes it as authenticated; an advertisement
      // is judged by its target address
      if (d[40] === NEIGHBOR_SOLICITATION) mask |= Characteristic.senderIpAuthenticated;
      else source = d.subarray(48, 64);
    } else source = d.subarray(8, 24);
  } else if (f.etherType === ETHERTYPE_ARP && d.length >= 28) source = d.subarray(14, 18);
  const ip = source;
  if (f.inbound) {
    if (!remote) return mask;
    if (ip && remote.owns(config, { ip })) mask |= Characteristic.senderIpAuthenticated;
    if (remote.owns(config, { mac: f.macSource })) mask |= Characteristic.senderMacAuthenticated;
    return mask;
  }
  for (const c of config.certificatesOfOwnership) {
    if (ip && cooOwns(c, { ip })) mask |= Characteristic.senderIpAuthenticated;
    if (cooOwns(c, { mac: f.macSource })) mask |= Characteristic.senderMacAuthenticated;
  }
  return mask;
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
