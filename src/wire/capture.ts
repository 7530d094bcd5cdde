// Reading captured UDP traffic for offline analysis and tests: the JSON capture format of the
// reference data (test/fixtures/zerotier-1.14.1/, README.md there) and classic libpcap files
// (Ethernet, raw IP or Linux cooked link layers; IPv4/IPv6; UDP). Input is text or bytes; nothing here touches files.
// Malformed input gives a typed error or is skipped and counted, never an exception.

/** One UDP payload with its endpoints as `ip/port` text. */
export interface CapturedDatagram {
  /** Seconds: since the capture began (JSON) or since the Unix epoch (pcap). */
  t: number;
  src: string;
  dst: string;
  data: Uint8Array;
}

export interface CaptureHost {
  name: string;
  ip: string;
  /** Identity in secret text form (`addr:0:pub:priv`). */
  identitySecret: string;
}

export interface JsonCapture {
  hosts: CaptureHost[];
  datagrams: CapturedDatagram[];
  /** Top-level fields other than hosts/packets (moon file, network records…), as parsed. */
  extra: Record<string, unknown>;
}

export type CaptureError = 'bad-json' | 'bad-structure';

const HEX = /^(?:[0-9a-fA-F]{2})*$/;

/** Parse the capture-*.json format: { hosts: {name: {ip, identity_secret}}, packets: [{t, src, dst, hex}] }. */
export function parseCaptureJson(text: string): { ok: true; capture: JsonCapture } | { ok: false; error: CaptureError } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return { ok: false, error: 'bad-json' };
  }
  if (typeof doc !== 'object' || doc === null) return { ok: false, error: 'bad-structure' };
  const { hosts, packets, ...extra } = doc as Record<string, unknown>;
  if (typeof hosts !== 'object' || hosts === null || !Array.isArray(packets)) return { ok: false, error: 'bad-structure' };

  const hostList: CaptureHost[] = [];
  for (const [name, h] of Object.entries(hosts as Record<string, unknown>)) {
    const host = h as Record<string, unknown> | null;
    if (typeof host?.ip !== 'string' || typeof host.identity_secret !== 'string') return { ok: false, error: 'bad-structure' };
    hostList.push({ name, ip: host.ip, identitySecret: host.identity_secret });
  }
  const datagrams: CapturedDatagram[] = [];
  for (const p of packets as unknown[]) {
    const r = p as Record<string, unknown> | null;
    if (typeof r?.t !== 'number' || typeof r.src !== 'string' || typeof r.dst !== 'string' || typeof r.hex !== 'string' || !HEX.test(r.hex)) {
      return { ok: false, error: 'bad-structure' };
    }
    datagrams.push({ t: r.t, src: r.src, dst: r.dst, data: Uint8Array.from(Buffer.from(r.hex, 'hex')) });
  }
  return { ok: true, capture: { hosts: hostList, datagrams, extra } };
}

// ---------------------------------------------------------------------------------------------
// Classic pcap
// ---------------------------------------------------------------------------------------------

/** Link-layer header types we can walk (tcpdump LINKTYPE_ values). */
const LinkType = { ethernet: 1, raw: 101, linuxCooked: 113 } as const;
const EtherType = { ipv4: 0x0800, ipv6: 0x86dd, vlan: 0x8100, qinq: 0x88a8 } as const;
const IP_PROTO_UDP = 17;
/** IPv6 extension headers that are skipped to find UDP: hop-by-hop, routing, destination options. */
const IPV6_SKIPPABLE = new Set([0, 43, 60]);
const PCAP_GLOBAL_HEADER = 24;
const PCAP_RECORD_HEADER = 16;

export type PcapError = 'too-short' | 'bad-magic' | 'unsupported-link-type';

export interface PcapResult {
  datagrams: CapturedDatagram[];
  /** Records that were not complete, unfragmented UDP over IPv4/IPv6. */
  skipped: number;
  /** True if the file ended inside a record. */
  truncated: boolean;
}

/** Read every UDP datagram of a classic (not pcapng) pcap file. */
export function readPcap(file: Uint8Array): { ok: true; value: PcapResult } | { ok: false; error: PcapError } {
  if (file.length < PCAP_GLOBAL_HEADER) return { ok: false, error: 'too-short' };
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const magic = view.getUint32(0, false);
  let fraction: number;
  if (magic === 0xa1b2c3d4 || magic === 0xd4c3b2a1) fraction = 1e6;
  else if (magic === 0xa1b23c4d || magic === 0x4d3cb2a1) fraction = 1e9;
  else return { ok: false, error: 'bad-magic' };
  const little = magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1;
  const linkType = view.getUint32(20, little) & 0x0fff_ffff;
  if (linkType !== LinkType.ethernet && linkType !== LinkType.raw && linkType !== LinkType.linuxCooked) return { ok: false, error: 'unsupported-link-type' };

  const datagrams: CapturedDatagram[] = [];
  let skipped = 0;
  let at = PCAP_GLOBAL_HEADER;
  while (at + PCAP_RECORD_HEADER <= file.length) {
    const seconds = view.getUint32(at, little);
    const sub = view.getUint32(at + 4, little);
    const captured = view.getUint32(at + 8, little);
    at += PCAP_RECORD_HEADER;
    if (captured > file.length - at) return { ok: true, value: { datagrams, skipped: skipped + 1, truncated: true } };
    const frame = file.subarray(at, at + captured);
    at += captured;
    const d = udpFromFrame(frame, linkType, seconds + sub / fraction);
    if (d) datagrams.push(d);
    else skipped++;
  }
  return { ok: true, value: { datagrams, skipped, truncated: at !== file.length } };
}

function udpFromFrame(frame: Uint8Array, linkType: number, t: number): CapturedDatagram | null {
  let at: number;
  let etherType: number;
  if (linkType === LinkType.raw) {
    if (frame.length < 1) return null;
    const version = frame[0] >>> 4;
    return ipPacket(frame, 0, version === 4 ? EtherType.ipv4 : version === 6 ? EtherType.ipv6 : -1, t);
  }
  if (linkType === LinkType.linuxCooked) {
    if (frame.length < 16) return null;
    at = 16;
    etherType = (frame[14] << 8) | frame[15];
  } else {
    if (frame.length < 14) return null;
    at = 14;
    etherType = (frame[12] << 8) | frame[13];
  }
  while (etherType === EtherType.vlan || etherType === EtherType.qinq) {
    if (frame.length < at + 4) return null;
    etherType = (frame[at + 2] << 8) | frame[at + 3];
    at += 4;
  }
  return ipPacket(frame, at, etherType, t);
}

function ipPacket(frame: Uint8Array, at: number, etherType: number, t: number): CapturedDatagram | null {
  let src: string, dst: string, udp: number, end: number;
  if (etherType === EtherType.ipv4) {
    if (frame.length < at + 20 || frame[at] >>> 4 !== 4) return null;
    const headerLength = (frame[at] & 0x0f) * 4;
    const total = (frame[at + 2] << 8) | frame[at + 3];
    const fragmentField = ((frame[at + 6] << 8) | frame[at + 7]) & 0x3fff; // MF flag + offset
    if (frame[at + 9] !== IP_PROTO_UDP || fragmentField !== 0 || headerLength < 20 || total < headerLength) return null;
    src = formatIpv4(frame, at + 12);
    dst = formatIpv4(frame, at + 16);
    udp = at + headerLength;
    end = Math.min(frame.length, at + total);
  } else if (etherType === EtherType.ipv6) {
    if (frame.length < at + 40 || frame[at] >>> 4 !== 6) return null;
    const payloadLength = (frame[at + 4] << 8) | frame[at + 5];
    let next = frame[at + 6];
    src = formatIpv6(frame, at + 8);
    dst = formatIpv6(frame, at + 24);
    udp = at + 40;
    end = Math.min(frame.length, udp + payloadLength);
    while (IPV6_SKIPPABLE.has(next)) {
      if (end < udp + 8) return null;
      next = frame[udp];
      udp += (frame[udp + 1] + 1) * 8;
    }
    if (next !== IP_PROTO_UDP) return null;
  } else {
    return null;
  }
  if (end < udp + 8) return null;
  const srcPort = (frame[udp] << 8) | frame[udp + 1];
  const dstPort = (frame[udp + 2] << 8) | frame[udp + 3];
  const udpLength = (frame[udp + 4] << 8) | frame[udp + 5];
  if (udpLength < 8 || udp + udpLength > end) return null;
  return { t, src: `${src}/${srcPort}`, dst: `${dst}/${dstPort}`, data: frame.slice(udp + 8, udp + udpLength) };
}

function formatIpv4(b: Uint8Array, at: number): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

/** RFC 5952 text: lowercase, no leading zeros, the longest run (≥ 2) of zero groups as `::`. */
export function formatIpv6(b: Uint8Array, at: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((b[at + 2 * i] << 8) | b[at + 2 * i + 1]);
  let bestStart = -1, bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) { bestStart = i; bestLength = j - i; }
    i = j;
  }
  const text = groups.map((g) => g.toString(16));
  if (bestStart < 0) return text.join(':');
  return `${text.slice(0, bestStart).join(':')}::${text.slice(bestStart + bestLength).join(':')}`;
}
