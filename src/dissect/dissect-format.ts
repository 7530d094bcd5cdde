// How `ztroot decode` shows dissected datagrams: one human-readable line each plus a summary
// table, or one JSON object per line (bigints, addresses, MACs and byte arrays turned into
// readable strings) and a final {"summary": …} object.

import { formatAddress } from '../identity/address.ts';
import { Identity } from '../identity/identity.ts';
import { errorCodeName, verbName } from '../wire/constants.ts';
import { comIssuedTo, comNetworkId, comTimestamp, type CertificateOfMembership } from '../wire/credentials/com.ts';
import { formatInetAddress, formatIpv4, formatIpv6, type InetAddress } from '../wire/inet-address.ts';
import { formatMac, type MulticastGroup } from '../wire/mac.ts';
import type { NetworkConfig } from '../wire/netconf/network-config.ts';
import { extFrameSubtype, type OkMessage, type VerbMessage } from '../wire/verbs/index.ts';
import type {
  ConfigInsight, DissectedDatagram, DissectSummary, PacketDissection, PacketHeader, SignatureCheck, WorldSummary,
} from './dissect.ts';
import { formatEthernetSummary } from './ethernet.ts';
import { hex64 } from '../util/hex.ts';

/** Cipher suite names (docs/protocol/03-packet.md §3); 4-7 are unassigned. */
const CIPHER_NAMES: Readonly<Record<number, string>> = { 0: 'poly1305', 1: 'salsa2012', 2: 'trusted-path', 3: 'aes-gmac-siv' };

export function cipherName(cipher: number): string {
  return CIPHER_NAMES[cipher] ?? `cipher-${cipher}`;
}

function group(g: MulticastGroup): string {
  return `${formatMac(g.mac)}/${g.adi.toString(16).padStart(8, '0')}`;
}

function list(items: readonly string[], max = 8): string {
  if (items.length <= max) return items.join(', ');
  return `${items.slice(0, max).join(', ')}, … (${items.length} in all)`;
}

function inet(a: InetAddress | undefined): string {
  return a && a.family !== 0 ? formatInetAddress(a) : '-';
}

// ---------------------------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------------------------

/** One line per datagram; `t0` is the capture's first timestamp (times are shown relative to it). */
export function formatDatagramLine(d: DissectedDatagram, t0: number): string {
  const where = `#${d.index} ${(d.t - t0).toFixed(6)} ${d.src} > ${d.dst}`;
  const parts: string[] = [where];
  if (d.kind === 'beacon') return `${where} beacon from ${formatAddress(d.beaconAddress ?? 0)}`;
  if (d.kind === 'ignored') return `${where} ignored (${d.length} bytes)`;
  if (d.fragment) {
    const f = d.fragment;
    parts.push(`fragment ${f.number}/${f.total} of ${hex64(f.packetId)} to ${formatAddress(f.destination)} hops ${f.hops}`);
  }
  if (d.header && (!d.fragment || d.reassembly?.state === 'complete')) parts.push(formatHeader(d.header));
  if (d.reassembly) {
    const r = d.reassembly;
    parts.push(r.state === 'complete' ? `[reassembled ${r.length} bytes]` : r.state === 'rejected' ? `[reassembly rejected: ${r.reason}]` : `[reassembly ${r.state}]`);
  }
  if (d.failure) parts.push(`! ${d.failure.reason}${d.failure.detail ? ` (${d.failure.detail})` : ''}`);
  if (d.decoded) parts.push(describePacket(d.decoded));
  return parts.join('  ');
}

function formatHeader(h: PacketHeader): string {
  return `${formatAddress(h.source)} > ${formatAddress(h.destination)} id ${hex64(h.packetId)} hops ${h.hops} ${cipherName(h.cipher)}${h.fragmented ? ' fragmented' : ''}`;
}

/** The verb and its fields, with what the payload carries. */
export function describePacket(p: PacketDissection): string {
  let line = `${p.verb}${p.compressed ? ' (lz4)' : ''} ${describeMessage(p.message, p)}`.trimEnd();
  if (p.learned) line += ` [learned identity ${p.learned.map(formatAddress).join(', ')}]`;
  return line;
}

function describeMessage(m: VerbMessage, p: PacketDissection): string {
  switch (m.verb) {
    case 'NOP': return '';
    case 'HELLO': {
      const h = m.value;
      let s = `proto ${h.protocolVersion} v${h.majorVersion}.${h.minorVersion}.${h.revision} ts ${h.timestamp} identity ${formatAddress(h.identity.address)}`;
      if (h.destination) s += ` to ${inet(h.destination)}`;
      if (h.planet) s += ` planet ${hex64(h.planet.id)}@${h.planet.timestamp}`;
      if (h.moons) s += ` moons [${h.moons.map((x) => `${hex64(x.id)}@${x.timestamp}`).join(', ')}]`;
      return s;
    }
    case 'ERROR': {
      const e = m.value;
      let s = `re ${hex64(e.inRePacketId)} ${errorCodeName(e.errorCode) ?? `code ${e.errorCode}`}`;
      if (e.networkId !== undefined) s += ` nwid ${hex64(e.networkId)}`;
      if (e.group) s += ` group ${group(e.group)}`;
      if (e.authInfo) s += ` auth-info ${e.authInfo.length} bytes`;
      return s;
    }
    case 'OK': return describeOk(m.value, p);
    case 'WHOIS': return m.value.addresses.map(formatAddress).join(', ');
    case 'RENDEZVOUS': {
      const r = m.value;
      return `peer ${formatAddress(r.peer)} at ${r.address ? formatInetAddress(r.address) : 'unusable address'}`;
    }
    case 'FRAME': return `nwid ${hex64(m.value.networkId)} ${ethernet(p)}`;
    case 'EXT_FRAME': {
      const f = m.value;
      const subtype = extFrameSubtype(f.flags);
      return `nwid ${hex64(f.networkId)} ${formatMac(f.sourceMac)} > ${formatMac(f.destinationMac)}` +
        `${subtype !== 0 ? ` subtype ${subtype}` : ''}${f.com ? ` ${describeCom(f.com)}` : ''} ${ethernet(p)}`;
    }
    case 'ECHO': return `${m.value.payload.length} bytes`;
    case 'MULTICAST_LIKE': {
      const subs = m.value.subscriptions;
      const byNetwork = new Map<bigint, string[]>();
      for (const x of subs) byNetwork.set(x.networkId, [...(byNetwork.get(x.networkId) ?? []), group(x.group)]);
      return [...byNetwork].map(([nwid, groups]) => `nwid ${hex64(nwid)} ${list(groups)}`).join('; ');
    }
    case 'NETWORK_CREDENTIALS': {
      const c = m.value;
      const coms = c.coms.map((com, i) => `${describeCom(com)}${p.comSignatures?.[i] ? ` signature ${p.comSignatures[i]}` : ''}`);
      return `${coms.length > 0 ? coms.join('; ') : 'no COM'}; capabilities ${c.capabilities.length} tags ${c.tags.length}` +
        ` revocations ${c.revocations.length} ownership ${c.certificatesOfOwnership.length}`;
    }
    case 'NETWORK_CONFIG_REQUEST': {
      const r = m.value;
      let s = `nwid ${hex64(r.networkId)}`;
      if (r.haveRevision !== undefined) s += ` have rev ${r.haveRevision} ts ${r.haveTimestamp}`;
      const md = p.metadata;
      if (md && md.version !== 0n) s += ` from v${md.majorVersion}.${md.minorVersion}.${md.revision} proto ${md.protocolVersion} ${md.osArch}`;
      return s;
    }
    case 'NETWORK_CONFIG': return describeConfig(p.config);
    case 'MULTICAST_GATHER': {
      const g = m.value;
      return `nwid ${hex64(g.networkId)} group ${group(g.group)} limit ${g.gatherLimit}${g.com ? ` ${describeCom(g.com)}` : ''}`;
    }
    case 'MULTICAST_FRAME': {
      const f = m.value;
      return `nwid ${hex64(f.networkId)} group ${group(f.group)}${f.sourceMac !== undefined ? ` from ${formatMac(f.sourceMac)}` : ''}` +
        `${f.gatherLimit !== undefined ? ` gather ${f.gatherLimit}` : ''}${f.com ? ` ${describeCom(f.com)}` : ''} ${ethernet(p)}`;
    }
    case 'PUSH_DIRECT_PATHS':
      return list(m.value.paths.map((x) => (x.address ? formatInetAddress(x.address) : `type ${x.addressType}`) + (x.flags ? ` flags 0x${x.flags.toString(16)}` : '')));
    case 'USER_MESSAGE': return `type ${m.value.typeId} ${m.value.data.length} bytes`;
    case 'OTHER': return `${m.payload.length} bytes (not decoded)`;
  }
}

function describeOk(ok: OkMessage, p: PacketDissection): string {
  switch (ok.inRe) {
    case 'HELLO': {
      const o = ok.value;
      let s = `re ${hex64(o.inRePacketId)} proto ${o.protocolVersion} v${o.majorVersion}.${o.minorVersion}.${o.revision} ts ${o.timestamp}`;
      if (o.externalAddress) s += ` you are ${inet(o.externalAddress)}`;
      if (p.worlds) s += ` worlds [${p.worlds.map(describeWorld).join(', ')}]`;
      if (p.worldsError) s += ` (worlds: ${p.worldsError})`;
      return s;
    }
    case 'WHOIS': return `re ${hex64(ok.value.inRePacketId)} ${ok.value.identities.map((i) => formatAddress(i.address)).join(', ')}`;
    case 'ECHO': return `re ${hex64(ok.value.inRePacketId)} ${ok.value.payload.length} bytes`;
    case 'EXT_FRAME': return `re ${hex64(ok.value.inRePacketId)} nwid ${hex64(ok.value.networkId)}`;
    case 'NETWORK_CONFIG_REQUEST': return `re ${hex64(ok.value.inRePacketId)} ${describeConfig(p.config)}`;
    case 'MULTICAST_GATHER': {
      const g = ok.value;
      return `re ${hex64(g.inRePacketId)} nwid ${hex64(g.networkId)} group ${group(g.group)} known ${g.totalKnown} members [${list(g.members.map(formatAddress))}]`;
    }
    case 'MULTICAST_FRAME': {
      const f = ok.value;
      const gather = f.gather ? ` known ${f.gather.totalKnown} members [${list(f.gather.members.map(formatAddress))}]` : '';
      return `re ${hex64(f.inRePacketId)} nwid ${hex64(f.networkId)} group ${group(f.group)}${gather}`;
    }
    case 'OTHER': return `re ${hex64(ok.value.inRePacketId)} ${ok.value.body.length} bytes`;
  }
}

function describeWorld(w: WorldSummary): string {
  return `${typeof w.type === 'number' ? `type ${w.type}` : w.type} ${hex64(w.id)}@${w.timestamp} roots ${w.roots.map(formatAddress).join(' ')}`;
}

function ethernet(p: PacketDissection): string {
  return p.ethernet ? formatEthernetSummary(p.ethernet) : '';
}

function describeCom(com: CertificateOfMembership): string {
  const to = comIssuedTo(com);
  const nwid = comNetworkId(com);
  return `COM${nwid !== undefined ? ` nwid ${hex64(nwid)}` : ''}${to !== undefined ? ` for ${formatAddress(to)}` : ''}` +
    ` ts ${comTimestamp(com) ?? '-'} by ${com.signedBy === 0 ? 'nobody' : formatAddress(com.signedBy)}`;
}

function describeConfig(c: ConfigInsight | undefined): string {
  if (!c) return '';
  let s = `nwid ${hex64(c.networkId)} ${c.received}/${c.total} bytes signature ${c.signature}`;
  if (c.configError) s += `; config does not decode: ${c.configError}`;
  if (c.config) s += `; ${describeNetworkConfig(c.config, c.comSignature)}`;
  return s;
}

function describeNetworkConfig(n: NetworkConfig, comSignature: SignatureCheck | undefined): string {
  let s = `config "${n.name}" rev ${n.revision} for ${formatAddress(n.issuedTo)} ${n.type === 0 ? 'private' : 'public'} mtu ${n.mtu}`;
  if (n.staticIps.length > 0) s += ` ips ${n.staticIps.map(inet).join(' ')}`;
  s += ` routes ${n.routes.length} rules ${n.rules.length}`;
  if (n.com) s += ` ${describeCom(n.com)} signature ${comSignature ?? 'unknown-signer'}`;
  return s;
}

/** The end-of-output table. */
export function formatSummaryTable(s: DissectSummary): string {
  const rows: [string, string | number][] = [
    ['datagrams', s.datagrams],
    ['  packets', s.kinds.packet],
    ['  fragments', s.kinds.fragment],
    ['  beacons', s.kinds.beacon],
    ['  ignored', s.kinds.ignored],
    ['complete packets', s.packets],
    ['  decoded', s.decoded],
    ['  failed', s.failed],
  ];
  for (const [reason, n] of Object.entries(s.failures).sort()) rows.push([`    ${reason}`, n ?? 0]);
  rows.push(['reassembled', s.fragments.reassembled]);
  if (s.fragments.incomplete + s.fragments.rejected + s.fragments.duplicates > 0) {
    rows.push(['  incomplete', s.fragments.incomplete], ['  rejected', s.fragments.rejected], ['  duplicate pieces', s.fragments.duplicates]);
  }
  rows.push(['compressed', s.compressed], ['identities learned', s.learnedIdentities]);
  for (const [cipher, n] of Object.entries(s.ciphers)) rows.push([`cipher ${cipherName(Number(cipher))}`, n]);
  const verbs = Object.entries(s.verbs).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const out = [table('summary', rows), table('verb', verbs)];
  return out.join('\n');
}

function table(title: string, rows: readonly (readonly [string, string | number])[]): string {
  const width = Math.max(title.length, ...rows.map(([k]) => k.length));
  const numbers = Math.max(5, ...rows.map(([, v]) => String(v).length));
  const rule = `${'-'.repeat(width)}  ${'-'.repeat(numbers)}`;
  const lines = [`${title.padEnd(width)}  ${'count'.padStart(numbers)}`, rule];
  for (const [k, v] of rows) lines.push(`${k.padEnd(width)}  ${String(v).padStart(numbers)}`);
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------------------------

/** Fields left out: `signedBytes` of a config chunk repeats its data. */
const OMITTED_KEYS = new Set(['signedBytes']);
/** Number-valued fields that hold 40-bit ZeroTier addresses (shown as 10 hex digits). */
const ADDRESS_KEYS = new Set([
  'source', 'destination', 'peer', 'signedBy', 'issuedTo', 'target', 'to', 'from', 'remoteTraceTarget', 'zt', 'addresses',
  'members', 'roots', 'learned', 'beaconAddress',
]);
/** Number-valued fields that hold 48-bit MACs. */
const MAC_KEYS = new Set(['mac', 'destinationMac', 'sourceMac']);
/** Bigint fields shown as 16 hex digits (IDs rather than quantities). */
const HEX64_KEYS = new Set(['packetId', 'networkId', 'inRePacketId', 'updateId', 'typeId', 'id', 'specialists']);

function isInetAddress(v: object): v is InetAddress {
  const a = v as Record<string, unknown>;
  return (a.family === 0 && Object.keys(a).length === 1) || ((a.family === 4 || a.family === 6) && a.ip instanceof Uint8Array && typeof a.port === 'number');
}

function isCom(v: object): v is CertificateOfMembership {
  return Array.isArray((v as Record<string, unknown>).qualifiers) && 'signedBy' in v;
}

/**
 * A JSON-ready copy of any dissected value: bigints as numbers when exact (16 hex digits for
 * IDs), addresses and MACs in their usual text forms, IP addresses as text, other byte arrays
 * as hex, identities in their public text form, verb and error codes by name.
 */
export function toJsonValue(v: unknown, key = ''): unknown {
  if (v === undefined || v === null) return v;
  if (v instanceof Identity) return v.toString(false);
  if (v instanceof Uint8Array) {
    if (key === 'ip' && v.length === 4) return formatIpv4(v);
    if (key === 'ip' && v.length === 16) return formatIpv6(v);
    return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
  }
  if (typeof v === 'bigint') {
    if (HEX64_KEYS.has(key)) return hex64(v);
    if (key === 'address') return formatAddress(Number(v & 0xff_ffff_ffffn));
    return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v.toString();
  }
  if (typeof v === 'number') {
    if (ADDRESS_KEYS.has(key)) return formatAddress(v);
    if (MAC_KEYS.has(key)) return formatMac(v);
    if (key === 'inReVerb') return verbName(v) ?? v;
    if (key === 'errorCode') return errorCodeName(v) ?? v;
    return v;
  }
  if (Array.isArray(v)) return v.map((x) => toJsonValue(x, key));
  if (typeof v === 'object') {
    if (isInetAddress(v)) return v.family === 0 ? null : formatInetAddress(v);
    if (isCom(v)) return comToJson(v);
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (x !== undefined && !OMITTED_KEYS.has(k)) out[k] = toJsonValue(x, k);
    }
    return out;
  }
  return v;
}

/** COMs: the well-known qualifiers by name, then all of them with numeric IDs. */
function comToJson(com: CertificateOfMembership): Record<string, unknown> {
  const nwid = comNetworkId(com);
  const to = comIssuedTo(com);
  const ts = comTimestamp(com);
  return {
    ...(ts !== undefined ? { timestamp: toJsonValue(ts) } : {}),
    ...(nwid !== undefined ? { networkId: hex64(nwid) } : {}),
    ...(to !== undefined ? { issuedTo: formatAddress(to) } : {}),
    qualifiers: com.qualifiers.map((q) => ({ id: Number(q.id), value: hex64(q.value), maxDelta: toJsonValue(q.maxDelta) })),
    signedBy: formatAddress(com.signedBy),
    ...(com.signature ? { signature: toJsonValue(com.signature) } : {}),
  };
}

/** One datagram as a flat JSON object: capture fields, header, then the decoded packet. */
export function datagramToJson(d: DissectedDatagram): Record<string, unknown> {
  const { header, decoded, ...rest } = d;
  const out: Record<string, unknown> = toJsonValue(rest) as Record<string, unknown>;
  if (header) Object.assign(out, toJsonValue(header), { cipherName: cipherName(header.cipher) });
  if (decoded) {
    const { verbCode, ...fields } = decoded;
    Object.assign(out, { verbCode }, toJsonValue(fields));
  }
  return out;
}

export function summaryToJson(s: DissectSummary): { summary: Record<string, unknown> } {
  const ciphers: Record<string, number> = {};
  for (const [c, n] of Object.entries(s.ciphers)) ciphers[cipherName(Number(c))] = n;
  return { summary: { ...(toJsonValue(s) as Record<string, unknown>), ciphers } };
}
