// Build the network config a member gets (docs/protocol/07-network-config-controller.md §9 steps 7-12): from
// the network and member records, the member's identity and request metadata, the controller's
// signing identity and the time, the NetworkConfig that 1.14's _request would send, with its
// COM, COO, tags and capabilities signed. Auto-assigned IPs are written into the member record
// (the caller saves it).

import { randomBytes } from 'node:crypto';
import type { Address } from '../identity/address.ts';
import type { Identity } from '../identity/identity.ts';
import {
  DEFAULT_CREDENTIAL_TIME_MAX_DELTA_MS, DEFAULT_VIRTUAL_MTU, MAX_CAPABILITY_RULES, MAX_DNS_SERVERS, MAX_NETWORK_CAPABILITIES,
  MAX_NETWORK_ROUTES, MAX_NETWORK_RULES, MAX_NETWORK_SPECIALISTS, MAX_NETWORK_TAGS, MAX_VIRTUAL_MTU, MAX_ZT_ASSIGNED_ADDRESSES,
  MIN_VIRTUAL_MTU, NetconfFlag, NetworkType, SpecialistFlag,
} from '../wire/constants.ts';
import { addCustodyLink, type Capability } from '../wire/credentials/capability.ts';
import { createCom, signCom } from '../wire/credentials/com.ts';
import { ownedIp, signCoo, type CertificateOfOwnership } from '../wire/credentials/coo.ts';
import { signTag, type Tag } from '../wire/credentials/tag.ts';
import { NIL_ADDRESS, type InetAddress, type IpAddress } from '../wire/inet-address.ts';
import type { ConfigRequestMetadata } from '../wire/netconf/metadata.ts';
import { rfc4193Address, sixPlaneAddress } from '../wire/netconf/managed-addresses.ts';
import type { NetworkConfig, Route } from '../wire/netconf/network-config.ts';
import { ACCEPT_ALL_RULES, type Rule } from '../wire/rules.ts';
import { isObject, jsonBool, jsonInt, jsonString, type Json } from './json-values.ts';
import { ipFromText, ipText, type MemberRecord, type NetworkRecord } from './records.ts';
import { parseRulesJson } from './rules-json.ts';
import type { NetworkSummary } from './store.ts';

/** Credential time max delta bounds (ZT_NETWORKCONFIG_DEFAULT_CREDENTIAL_TIME_MIN/MAX_MAX_DELTA), ms. */
export const MIN_CREDENTIAL_TIME_MAX_DELTA_MS = 5 * 60 * 1000;
export const MAX_CREDENTIAL_TIME_MAX_DELTA_MS = 2 * 60 * 60 * 1000;
/** Tries per pool when auto-assigning an address (07-network-config-controller.md §9 step 10). */
const MAX_ASSIGNMENT_TRIES = 1000;
/** The low 64 bits of an IPv6 pool must span at least this for "start + address" (40-bit addresses). */
const IPV6_ADDRESS_SPAN = 0xff_ffff_ffffn;
/** Network name buffer in 1.14, bytes including the NUL. */
const NAME_MAX_BYTES = 127;
/** COO id the controller issues (one COO for all managed IPs). */
const COO_ID = 1;

export interface BuildInput {
  readonly nwid: bigint;
  readonly network: NetworkRecord;
  /** Mutable: auto-assigned IPs, default tags and capabilities are added to it. */
  readonly member: MemberRecord;
  /** The member record did not exist before this request. */
  readonly newMember: boolean;
  readonly identity: Identity;
  readonly metadata: ConfigRequestMetadata;
  readonly summary: NetworkSummary;
  readonly signer: Identity;
  readonly nowMs: number;
  /** Random bytes (IPv6 random assignment); tests pass a fixed source. */
  readonly random?: (n: number) => Uint8Array;
}

const U32_MASK = 0xffff_ffffn;
const toU32 = (v: Json | undefined): number => Number(BigInt(Math.max(0, jsonInt(v, 0))) & U32_MASK);

function truncateUtf8(s: string, maxBytes: number): string {
  const b = Buffer.from(s, 'utf8');
  return b.length <= maxBytes ? s : b.subarray(0, maxBytes).toString('utf8');
}

function ipv4Int(a: IpAddress): number {
  return ((a.ip[0] << 24) | (a.ip[1] << 16) | (a.ip[2] << 8) | a.ip[3]) >>> 0;
}

function ipv4(n: number, bits: number): IpAddress {
  return { family: 4, ip: Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff), port: bits };
}

function bigFromBytes(b: Uint8Array): bigint {
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v;
}

function bytesFromBig(v: bigint, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = n - 1; i >= 0; i--, v >>= 8n) out[i] = Number(v & 0xffn);
  return out;
}

/** InetAddress::containsAddress: `target` is a network (port = prefix bits). */
export function routeContains(target: IpAddress, ip: IpAddress): boolean {
  if (target.family !== ip.family) return false;
  const bits = target.port;
  if (target.family === 4) {
    if (bits === 0) return true;
    if (bits > 32) return false;
    const shift = BigInt(32 - bits);
    return (BigInt(ipv4Int(ip)) >> shift) === (BigInt(ipv4Int(target)) >> shift);
  }
  // IPv6: the masked address must equal the target (whose host bits must therefore be zero)
  for (let i = 0; i < 16; i++) {
    const maskBits = Math.max(0, Math.min(8, bits - 8 * i));
    const m = (0xff << (8 - maskBits)) & 0xff;
    if ((ip.ip[i] & m) !== target.ip[i]) return false;
  }
  return true;
}

function parseRoutes(network: NetworkRecord): Route[] {
  const routes: Route[] = [];
  const list = network.routes;
  if (!Array.isArray(list)) return routes;
  for (const r of list) {
    if (routes.length >= MAX_NETWORK_ROUTES) break;
    if (!isObject(r) || typeof r.target !== 'string') continue;
    const target = ipFromText(r.target);
    if (target.family === 0) continue;
    const via = typeof r.via === 'string' ? ipFromText(r.via) : NIL_ADDRESS;
    routes.push({ target, via: via.family === target.family ? via : NIL_ADDRESS, flags: 0, metric: 0 });
  }
  return routes;
}

function ruleSet(input: BuildInput, nc: { rules: Rule[]; capabilities: Capability[]; tags: Tag[] }): void {
  const { network, member, nwid, nowMs, signer, identity } = input;
  if (input.metadata.rulesEngineRevision <= 0n) {
    // members without a rules engine get "accept everything" and no capabilities or tags
    nc.rules.push(...ACCEPT_ALL_RULES);
    return;
  }
  nc.rules.push(...parseRulesJson(network.rules, MAX_NETWORK_RULES));

  if (!Array.isArray(member.capabilities)) member.capabilities = [];
  const memberCaps = member.capabilities as Json[];
  const capsById = new Map<number, Json>();
  for (const cap of Array.isArray(network.capabilities) ? network.capabilities : []) {
    if (!isObject(cap)) continue;
    const id = toU32(cap.id);
    capsById.set(id, cap);
    if (input.newMember && jsonBool(cap.default, false) && !memberCaps.some((c) => toU32(c) === id)) memberCaps.push(id);
  }
  for (const c of memberCaps) {
    const id = toU32(c);
    const cap = capsById.get(id);
    if (!isObject(cap) || Object.keys(cap).length === 0) continue;
    const unsigned: Capability = {
      networkId: nwid, timestamp: BigInt(nowMs), id, rules: parseRulesJson(cap.rules, MAX_CAPABILITY_RULES),
      maxCustodyChainLength: 1, custody: [],
    };
    const signed = addCustodyLink(unsigned, signer, identity.address);
    if (signed) nc.capabilities.push(signed);
    if (nc.capabilities.length >= MAX_NETWORK_CAPABILITIES) break;
  }

  const tagsById = new Map<number, number>();
  if (Array.isArray(member.tags)) {
    for (const t of member.tags) if (Array.isArray(t) && t.length === 2) tagsById.set(toU32(t[0]), toU32(t[1]));
  }
  for (const t of Array.isArray(network.tags) ? network.tags : []) {
    if (!isObject(t)) continue;
    const id = toU32(t.id);
    if (typeof t.default === 'number' && !tagsById.has(id)) {
      tagsById.set(id, toU32(t.default));
      if (!Array.isArray(member.tags)) member.tags = [];
      (member.tags as Json[]).push([id, t.default]);
    }
  }
  for (const [id, value] of [...tagsById.entries()].sort((a, b) => a[0] - b[0])) {
    if (nc.tags.length >= MAX_NETWORK_TAGS) break;
    nc.tags.push(signTag({ networkId: nwid, timestamp: BigInt(nowMs), id, value, issuedTo: identity.address }, signer));
  }
}

interface Assignment {
  readonly routes: readonly Route[];
  readonly staticIps: IpAddress[];
  readonly assigned: Json[];
  readonly allocated: Map<string, number>;
  readonly address: Address;
}

function claim(a: Assignment, ip: IpAddress, bits: number): boolean {
  const text = ipText(ip);
  if (a.allocated.has(text) || a.assigned.includes(text)) return false;
  a.assigned.push(text);
  if (a.staticIps.length < MAX_ZT_ASSIGNED_ADDRESSES) a.staticIps.push({ ...ip, port: bits });
  return true;
}

function assignIpv6(a: Assignment, pools: Json[], random: (n: number) => Uint8Array): boolean {
  for (const pool of pools) {
    if (!isObject(pool)) continue;
    const start = ipFromText(jsonString(pool.ipRangeStart, '')), end = ipFromText(jsonString(pool.ipRangeEnd, ''));
    if (start.family !== 6 || end.family !== 6) continue;
    const s = bigFromBytes(start.ip), e = bigFromBytes(end.ip);
    const sHi = s >> 64n, sLo = s & 0xffff_ffff_ffff_ffffn, eHi = e >> 64n, eLo = e & 0xffff_ffff_ffff_ffffn;
    for (let trial = 0; trial < MAX_ASSIGNMENT_TRIES; trial++) {
      let hi: bigint, lo: bigint;
      if (trial === 0 && eLo > sLo && eLo - sLo >= IPV6_ADDRESS_SPAN) {
        hi = sHi;
        lo = BigInt.asUintN(64, sLo + BigInt(a.address));
      } else {
        const r = random(16);
        const rHi = bigFromBytes(r.subarray(0, 8)), rLo = bigFromBytes(r.subarray(8));
        hi = BigInt.asUintN(64, sHi + (eHi > sHi ? rHi % (eHi - sHi) : 0n));
        lo = BigInt.asUintN(64, sLo + (eLo > sLo ? rLo % (eLo - sLo) : 0n));
      }
      const ip: IpAddress = { family: 6, ip: bytesFromBig((hi << 64n) | lo, 16), port: 0 };
      let bits = 0;
      for (const r of a.routes) {
        if (r.via.family === 0 && r.target.family === 6 && routeContains(r.target, ip)) bits = r.target.port;
      }
      if (bits > 0 && claim(a, ip, bits)) return true;
    }
  }
  return false;
}

function assignIpv4(a: Assignment, pools: Json[]): boolean {
  for (const pool of pools) {
    if (!isObject(pool)) continue;
    const startIa = ipFromText(jsonString(pool.ipRangeStart, '')), endIa = ipFromText(jsonString(pool.ipRangeEnd, ''));
    if (startIa.family !== 4 || endIa.family !== 4) continue;
    const start = ipv4Int(startIa), end = ipv4Int(endIa);
    if (end < start || start === 0) continue;
    const length = end - start;
    let counter = a.address % 2 ** 32;
    for (let k = start, trial = 0; k <= end && trial < MAX_ASSIGNMENT_TRIES; k++, trial++) {
      const ip = length > 0 ? (start + (counter % length)) >>> 0 : start;
      counter = (counter + 1) % 2 ** 32;
      if ((ip & 0xff) === 0xff) continue; // never an address ending in .255
      // The first IPv4 route that holds the address, as 1.14 tests it: host bits of the target
      // must be zero, and a /0 route only holds its own target address (32-bit shift on x86).
      // Unlike 1.14 (which ignores `via` here), a route with a gateway never receives pool
      // addresses: they would not be reachable on the virtual LAN (12-controller-ui-compat.md §3).
      let bits = -1;
      for (const r of a.routes) {
        if (r.target.family !== 4) continue;
        const tb = r.target.port;
        const mask = tb === 0 || tb > 32 ? 0xffff_ffff : (0xffff_ffff << (32 - tb)) >>> 0;
        if (((ip & mask) >>> 0) === ipv4Int(r.target)) {
          bits = r.via.family === 0 ? tb : -1;
          break;
        }
      }
      if (bits > 0 && claim(a, ipv4(ip, 0), bits)) return true;
    }
  }
  return false;
}

/** The config for one member; `input.member` gains any auto-assigned IPs, default tags and capabilities. */
export function buildNetworkConfig(input: BuildInput): NetworkConfig {
  const { network, member, nwid, identity, nowMs, signer, summary } = input;
  const random = input.random ?? ((n: number) => new Uint8Array(randomBytes(n)));

  let ctmd = DEFAULT_CREDENTIAL_TIME_MAX_DELTA_MS;
  if (Object.hasOwn(network, 'certificateTimeoutWindowSize')) ctmd = jsonInt(network.certificateTimeoutWindowSize, ctmd);
  ctmd = Math.max(MIN_CREDENTIAL_TIME_MAX_DELTA_MS, Math.min(MAX_CREDENTIAL_TIME_MAX_DELTA_MS, ctmd));

  let flags = 0n;
  if (jsonBool(network.enableBroadcast, true)) flags |= NetconfFlag.enableBroadcast;

  let traceTarget = 0;
  let traceLevel = 0;
  const memberTrace = jsonString(member.remoteTraceTarget, '');
  if (memberTrace.length === 10) {
    traceTarget = Number.parseInt(memberTrace, 16) || 0;
    traceLevel = jsonInt(member.remoteTraceLevel, 0);
  } else {
    const nt = jsonString(network.remoteTraceTarget, '');
    traceTarget = nt.length === 10 ? Number.parseInt(nt, 16) || 0 : 0;
    traceLevel = jsonInt(network.remoteTraceLevel, 0);
  }

  const specialists = [...summary.activeBridges].sort((a, b) => a - b).slice(0, MAX_NETWORK_SPECIALISTS)
    .map((a) => SpecialistFlag.activeBridge | BigInt(a));

  const rules: Rule[] = [], capabilities: Capability[] = [], tags: Tag[] = [];
  ruleSet(input, { rules, capabilities, tags });

  const routes = parseRoutes(network);
  const staticIps: IpAddress[] = [];
  const noAutoAssign = jsonBool(member.noAutoAssignIps, false);
  const v6Mode = network.v6AssignMode;
  if (isObject(v6Mode) && !noAutoAssign) {
    if (jsonBool(v6Mode.rfc4193, false)) {
      staticIps.push(rfc4193Address(nwid, identity.address));
      flags |= NetconfFlag.ipv6NdpEmulation;
    }
    if (jsonBool(v6Mode['6plane'], false)) {
      staticIps.push(sixPlaneAddress(nwid, identity.address));
      flags |= NetconfFlag.ipv6NdpEmulation;
    }
  }

  let haveV4 = false, haveV6 = false;
  const assigned: Json[] = Array.isArray(member.ipAssignments) ? [...member.ipAssignments] : [];
  for (const text of assigned) {
    if (typeof text !== 'string') continue;
    const ip = ipFromText(text);
    if (ip.family === 0) continue;
    let bits = -1;
    for (const r of routes) {
      if (r.target.family !== 0 && routeContains(r.target, ip) && r.target.port > bits) bits = r.target.port;
    }
    if (bits < 0) continue;
    if (staticIps.length < MAX_ZT_ASSIGNED_ADDRESSES) staticIps.push({ ...ip, port: bits });
    if (ip.family === 4) haveV4 = true;
    else haveV6 = true;
  }

  const pools = Array.isArray(network.ipAssignmentPools) ? network.ipAssignmentPools : [];
  const assignment: Assignment = { routes, staticIps, assigned, allocated: summary.allocatedIps, address: identity.address };
  const v4Mode = network.v4AssignMode;
  if (isObject(v6Mode) && jsonBool(v6Mode.zt, false) && !haveV6 && !noAutoAssign && assignIpv6(assignment, pools, random)) {
    member.ipAssignments = assigned;
  }
  if (isObject(v4Mode) && jsonBool(v4Mode.zt, false) && !haveV4 && !noAutoAssign && assignIpv4(assignment, pools)) {
    member.ipAssignments = assigned;
  }

  const dnsServers: InetAddress[] = [];
  let dnsDomain = '';
  const dns = network.dns;
  if (isObject(dns)) {
    dnsDomain = truncateUtf8(jsonString(dns.domain, ''), NAME_MAX_BYTES);
    if (Array.isArray(dns.servers)) {
      for (const s of dns.servers.slice(0, MAX_DNS_SERVERS)) dnsServers.push(ipFromText(jsonString(s, '')));
    }
  }

  const coos: CertificateOfOwnership[] = [];
  if (staticIps.length > 0) {
    coos.push(signCoo({
      networkId: nwid, timestamp: BigInt(nowMs), flags: 0n, id: COO_ID,
      things: staticIps.map((ip) => ownedIp(ip)), issuedTo: identity.address,
    }, signer));
  }

  return {
    networkId: nwid,
    timestamp: BigInt(nowMs),
    credentialTimeMaxDelta: BigInt(ctmd),
    revision: BigInt(Math.max(0, jsonInt(network.revision, 0))),
    issuedTo: identity.address,
    remoteTraceTarget: traceTarget,
    remoteTraceLevel: BigInt(Math.max(0, traceLevel)),
    flags,
    multicastLimit: Math.max(0, jsonInt(network.multicastLimit, 32)) >>> 0,
    type: jsonBool(network.private, true) ? NetworkType.private : NetworkType.public,
    name: truncateUtf8(jsonString(network.name, ''), NAME_MAX_BYTES),
    mtu: Math.max(MIN_VIRTUAL_MTU, Math.min(MAX_VIRTUAL_MTU, jsonInt(network.mtu, DEFAULT_VIRTUAL_MTU) >>> 0)),
    com: signCom(createCom(BigInt(nowMs), BigInt(ctmd), nwid, identity), signer),
    capabilities,
    tags,
    certificatesOfOwnership: coos,
    specialists,
    routes,
    staticIps,
    rules,
    dns: { domain: dnsDomain, servers: dnsServers },
    sso: { version: 0, enabled: false },
  };
}
