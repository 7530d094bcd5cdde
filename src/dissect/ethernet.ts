// A small reader for what ZeroTier frames carry (FRAME, EXT_FRAME, MULTICAST_FRAME payloads are
// Ethernet payloads without the Ethernet header): enough of ARP, IPv4, IPv6, ICMP, ICMPv6, UDP
// and TCP to tell an operator what a frame is. Never throws; short or odd input gives
// `malformed` with what was wrong.

import { formatIpv4, formatIpv6 } from '../wire/inet-address.ts';
import { formatMac, macFromBytes } from '../wire/mac.ts';

/** EtherType values (IEEE 802 numbers registry). */
export const EtherType = { ipv4: 0x0800, arp: 0x0806, ipv6: 0x86dd } as const;

/** IP protocol numbers (IANA "Assigned Internet Protocol Numbers"). */
const IpProtocol = { icmp: 1, tcp: 6, udp: 17, icmpv6: 58 } as const;

/** ARP (RFC 826) for Ethernet/IPv4: fixed 28 bytes; operation 1 request, 2 reply. */
const ARP_IPV4_LENGTH = 28;
const ArpOperation = { request: 1, reply: 2 } as const;
/** IPv4 minimum header (RFC 791), bytes. */
const IPV4_MIN_HEADER_LENGTH = 20;
/** IPv6 fixed header (RFC 8200), bytes. */
const IPV6_HEADER_LENGTH = 40;
/** ICMP echo header (type, code, checksum, identifier, sequence), bytes (RFC 792 / RFC 4443). */
const ICMP_ECHO_HEADER_LENGTH = 8;
const UDP_HEADER_LENGTH = 8;
const TCP_MIN_HEADER_LENGTH = 20;

/** ICMP (RFC 792) and ICMPv6 (RFC 4443, RFC 4861) message types worth naming. */
const ICMP_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'echo-reply', 3: 'destination-unreachable', 5: 'redirect', 8: 'echo-request', 11: 'time-exceeded',
};
const ICMPV6_TYPE_NAMES: Readonly<Record<number, string>> = {
  1: 'destination-unreachable', 2: 'packet-too-big', 3: 'time-exceeded', 128: 'echo-request', 129: 'echo-reply',
  133: 'router-solicitation', 134: 'router-advertisement', 135: 'neighbor-solicitation', 136: 'neighbor-advertisement',
};
const ICMP_ECHO_TYPES = new Set([0, 8]);
const ICMPV6_ECHO_TYPES = new Set([128, 129]);

export interface IcmpSummary {
  readonly type: number;
  readonly code: number;
  /** Known type name (echo-request, echo-reply, …), else undefined. */
  readonly name: string | undefined;
  /** Echo request/reply only. */
  readonly identifier?: number;
  readonly sequence?: number;
}

export interface PortsSummary {
  readonly sourcePort: number;
  readonly destinationPort: number;
}

export type TransportSummary =
  | { readonly protocol: 'ICMP' | 'ICMPv6'; readonly icmp: IcmpSummary }
  | ({ readonly protocol: 'UDP' | 'TCP' } & PortsSummary)
  | { readonly protocol: number };

export type EthernetSummary =
  | {
    readonly protocol: 'ARP';
    readonly operation: 'request' | 'reply' | number;
    readonly senderMac: string; readonly senderIp: string;
    readonly targetMac: string; readonly targetIp: string;
  }
  | {
    readonly protocol: 'IPv4' | 'IPv6';
    readonly source: string; readonly destination: string;
    /** TTL / hop limit. */
    readonly ttl: number;
    /** Total length (IPv4) or payload length + 40 (IPv6), bytes, as the header says. */
    readonly length: number;
    /** Undefined for IPv4 fragments after the first (no transport header there). */
    readonly transport: TransportSummary | undefined;
  }
  | { readonly protocol: 'other'; readonly etherType: number; readonly length: number }
  | { readonly protocol: 'malformed'; readonly etherType: number; readonly reason: string };

function u16(b: Uint8Array, at: number): number {
  return (b[at] << 8) | b[at + 1];
}

/** Describe an Ethernet payload of the given EtherType. */
export function summarizeEthernetPayload(etherType: number, payload: Uint8Array): EthernetSummary {
  switch (etherType) {
    case EtherType.arp: return arp(payload);
    case EtherType.ipv4: return ipv4(payload);
    case EtherType.ipv6: return ipv6(payload);
    default: return { protocol: 'other', etherType, length: payload.length };
  }
}

function malformed(etherType: number, reason: string): EthernetSummary {
  return { protocol: 'malformed', etherType, reason };
}

function arp(p: Uint8Array): EthernetSummary {
  // hardware type 1 (Ethernet), protocol 0x0800, hardware length 6, protocol length 4
  if (p.length < ARP_IPV4_LENGTH) return malformed(EtherType.arp, 'short ARP');
  if (u16(p, 0) !== 1 || u16(p, 2) !== EtherType.ipv4 || p[4] !== 6 || p[5] !== 4) return malformed(EtherType.arp, 'not Ethernet/IPv4 ARP');
  const op = u16(p, 6);
  return {
    protocol: 'ARP',
    operation: op === ArpOperation.request ? 'request' : op === ArpOperation.reply ? 'reply' : op,
    senderMac: formatMac(macFromBytes(p, 8)), senderIp: formatIpv4(p.subarray(14, 18)),
    targetMac: formatMac(macFromBytes(p, 18)), targetIp: formatIpv4(p.subarray(24, 28)),
  };
}

function ipv4(p: Uint8Array): EthernetSummary {
  if (p.length < IPV4_MIN_HEADER_LENGTH || p[0] >>> 4 !== 4) return malformed(EtherType.ipv4, 'short or not IPv4');
  const headerLength = (p[0] & 0x0f) * 4;
  if (headerLength < IPV4_MIN_HEADER_LENGTH || headerLength > p.length) return malformed(EtherType.ipv4, 'bad IPv4 header length');
  const fragmentOffset = u16(p, 6) & 0x1fff;
  return {
    protocol: 'IPv4',
    source: formatIpv4(p.subarray(12, 16)),
    destination: formatIpv4(p.subarray(16, 20)),
    ttl: p[8],
    length: u16(p, 2),
    transport: fragmentOffset === 0 ? transport(p[9], p.subarray(headerLength), false) : undefined,
  };
}

function ipv6(p: Uint8Array): EthernetSummary {
  if (p.length < IPV6_HEADER_LENGTH || p[0] >>> 4 !== 6) return malformed(EtherType.ipv6, 'short or not IPv6');
  return {
    protocol: 'IPv6',
    source: formatIpv6(p.subarray(8, 24)),
    destination: formatIpv6(p.subarray(24, 40)),
    ttl: p[7],
    length: IPV6_HEADER_LENGTH + u16(p, 4),
    // extension headers are not walked: their presence shows as the next-header number
    transport: transport(p[6], p.subarray(IPV6_HEADER_LENGTH), true),
  };
}

function transport(protocol: number, t: Uint8Array, v6: boolean): TransportSummary {
  if ((protocol === IpProtocol.icmp && !v6) || (protocol === IpProtocol.icmpv6 && v6)) {
    if (t.length < 2) return { protocol };
    const type = t[0];
    const names = v6 ? ICMPV6_TYPE_NAMES : ICMP_TYPE_NAMES;
    const echo = (v6 ? ICMPV6_ECHO_TYPES : ICMP_ECHO_TYPES).has(type) && t.length >= ICMP_ECHO_HEADER_LENGTH;
    const icmp: IcmpSummary = echo
      ? { type, code: t[1], name: names[type], identifier: u16(t, 4), sequence: u16(t, 6) }
      : { type, code: t[1], name: names[type] };
    return { protocol: v6 ? 'ICMPv6' : 'ICMP', icmp };
  }
  if (protocol === IpProtocol.udp && t.length >= UDP_HEADER_LENGTH) return { protocol: 'UDP', sourcePort: u16(t, 0), destinationPort: u16(t, 2) };
  if (protocol === IpProtocol.tcp && t.length >= TCP_MIN_HEADER_LENGTH) return { protocol: 'TCP', sourcePort: u16(t, 0), destinationPort: u16(t, 2) };
  return { protocol };
}

/** One line: "ARP request who-has 10.0.0.3 tell 10.0.0.2", "IPv4 10.0.0.2 > 10.0.0.3 ICMP echo-request id 5 seq 1", … */
export function formatEthernetSummary(s: EthernetSummary): string {
  switch (s.protocol) {
    case 'ARP':
      if (s.operation === 'request') return `ARP request who-has ${s.targetIp} tell ${s.senderIp} (${s.senderMac})`;
      if (s.operation === 'reply') return `ARP reply ${s.senderIp} is-at ${s.senderMac}`;
      return `ARP operation ${s.operation} ${s.senderIp} > ${s.targetIp}`;
    case 'IPv4':
    case 'IPv6':
      return `${s.protocol} ${s.source} > ${s.destination} ${formatTransport(s.transport)} len ${s.length}`;
    case 'other':
      return `ethertype 0x${hex4(s.etherType)} (${s.length} bytes)`;
    case 'malformed':
      return `ethertype 0x${hex4(s.etherType)} malformed: ${s.reason}`;
  }
}

function formatTransport(t: TransportSummary | undefined): string {
  if (!t) return 'fragment';
  if (t.protocol === 'ICMP' || t.protocol === 'ICMPv6') {
    const i = t.icmp;
    const what = i.name ?? `type ${i.type} code ${i.code}`;
    return i.identifier !== undefined ? `${t.protocol} ${what} id ${i.identifier} seq ${i.sequence}` : `${t.protocol} ${what}`;
  }
  if (t.protocol === 'UDP' || t.protocol === 'TCP') return `${t.protocol} ${t.sourcePort} > ${t.destinationPort}`;
  return `proto ${t.protocol}`;
}

export function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}
