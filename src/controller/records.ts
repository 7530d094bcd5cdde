// Network and member records as 1.14's controller keeps them (docs/protocol/07-network-config-controller.md
// §10-§11, docs/protocol/12-controller-ui-compat.md §2-§3): JSON objects with DB::initNetwork / initMember
// defaults, the fields the API accepts and how each is normalised. Records stay JSON so fields we
// do not know (from an imported zerotier-one controller.d) survive unchanged.

import { formatAddress } from '../identity/address.ts';
import { MAX_VIRTUAL_MTU, MIN_VIRTUAL_MTU, DEFAULT_VIRTUAL_MTU } from '../wire/constants.ts';
import { formatInetAddress, formatIp, parseInetAddressLikeZeroTier, type InetAddress } from '../wire/inet-address.ts';
import { isObject, jsonBool, jsonInt, jsonString, type Json, type JsonObject } from './json-values.ts';
import { parseRuleJson, renderRuleJson } from './rules-json.ts';
import { hex64 } from '../util/hex.ts';

/** ZT_CONTROLLER_MAX_ARRAY_SIZE: longest array the API stores. */
export const MAX_ARRAY_SIZE = 16384;
/** Network defaults that are numbers (DB::initNetwork). */
export const DEFAULT_MULTICAST_LIMIT = 32;

export type NetworkRecord = JsonObject;
export type MemberRecord = JsonObject;


/** DB::initNetwork: fill what is missing. */
export function initNetwork(n: NetworkRecord, nowMs: number): NetworkRecord {
  const dflt: [string, () => Json][] = [
    ['private', () => true],
    ['creationTime', () => nowMs],
    ['name', () => ''],
    ['multicastLimit', () => DEFAULT_MULTICAST_LIMIT],
    ['enableBroadcast', () => true],
    ['v4AssignMode', () => ({ zt: false })],
    ['v6AssignMode', () => ({ rfc4193: false, zt: false, '6plane': false })],
    // sic: 1.14 writes an array holding one null (docs/protocol/07-network-config-controller.md §10)
    ['authTokens', () => [null]],
    ['capabilities', () => []],
    ['tags', () => []],
    ['routes', () => []],
    ['ipAssignmentPools', () => []],
    ['mtu', () => DEFAULT_VIRTUAL_MTU],
    ['remoteTraceTarget', () => null],
    ['rulesSource', () => ''],
    ['rules', () => [{ not: false, or: false, type: 'ACTION_ACCEPT' }]],
    ['dns', () => []],
    ['ssoEnabled', () => false],
    ['clientId', () => ''],
    ['authorizationEndpoint', () => ''],
  ];
  for (const [k, v] of dflt) if (!Object.hasOwn(n, k)) n[k] = v();
  // 1.14 tests for a misspelt key ("removeTraceLevel"), so it always resets this one
  if (!Object.hasOwn(n, 'removeTraceLevel')) n.remoteTraceLevel = 0;
  n.objtype = 'network';
  return n;
}

/** DB::initMember. */
export function initMember(m: MemberRecord, nowMs: number): MemberRecord {
  const dflt: [string, () => Json][] = [
    ['authorized', () => false],
    ['ssoExempt', () => false],
    ['ipAssignments', () => []],
    ['activeBridge', () => false],
    ['tags', () => []],
    ['capabilities', () => []],
    ['creationTime', () => nowMs],
    ['noAutoAssignIps', () => false],
    ['revision', () => 0],
    ['lastDeauthorizedTime', () => 0],
    ['lastAuthorizedTime', () => 0],
    ['lastAuthorizedCredentialType', () => null],
    ['lastAuthorizedCredential', () => null],
    ['authenticationExpiryTime', () => 0],
    ['vMajor', () => -1],
    ['vMinor', () => -1],
    ['vRev', () => -1],
    ['vProto', () => -1],
    ['remoteTraceTarget', () => null],
  ];
  for (const [k, v] of dflt) if (!Object.hasOwn(m, k)) m[k] = v();
  if (!Object.hasOwn(m, 'removeTraceLevel')) m.remoteTraceLevel = 0;
  m.objtype = 'member';
  return m;
}

/** DB::cleanNetwork: computed fields never stored. */
export function cleanNetwork(n: NetworkRecord): NetworkRecord {
  for (const k of ['clock', 'authorizedMemberCount', 'activeMemberCount', 'totalMemberCount', 'lastModified']) delete n[k];
  return n;
}

/** DB::cleanMember. */
export function cleanMember(m: MemberRecord): MemberRecord {
  for (const k of ['clock', 'physicalAddr', 'recentLog', 'lastModified', 'lastRequestMetaData', 'authenticationURL', 'authenticationClientID']) delete m[k];
  return m;
}

// ---------------------------------------------------------------------------------------------
// Addresses in text form
// ---------------------------------------------------------------------------------------------

/** InetAddress(text) as 1.14 builds it; the nil address when unparsable. */
export function ipFromText(text: string): InetAddress {
  return parseInetAddressLikeZeroTier(text) ?? { family: 0 };
}

/** InetAddress::toIpString (no port); "" for the nil address. */
export function ipText(a: InetAddress): string {
  return a.family === 0 ? '' : formatIp(a);
}

// ---------------------------------------------------------------------------------------------
// API updates (EmbeddedNetworkController::networkUpdateFromPostData and the member POST)
// ---------------------------------------------------------------------------------------------

function capped<T>(items: T[]): T[] {
  return items.length > MAX_ARRAY_SIZE ? items.slice(0, MAX_ARRAY_SIZE) : items;
}

function normaliseRules(v: Json): Json[] {
  const out: Json[] = [];
  if (!Array.isArray(v)) return out;
  for (const item of v) {
    const rule = parseRuleJson(item);
    if (rule) out.push(renderRuleJson(rule));
    if (out.length >= MAX_ARRAY_SIZE) break;
  }
  return out;
}

function normaliseRoutes(v: Json[]): Json[] {
  const out: Json[] = [];
  for (const rt of v) {
    if (!isObject(rt) || typeof rt.target !== 'string') continue;
    const t = ipFromText(rt.target);
    const via = typeof rt.via === 'string' ? ipFromText(rt.via) : { family: 0 as const };
    if (t.family === 0 || t.port > (t.family === 4 ? 32 : 128)) continue;
    out.push({ target: formatInetAddress(t), via: via.family === t.family ? ipText(via) : null });
    if (out.length >= MAX_ARRAY_SIZE) break;
  }
  return out;
}

function normalisePools(v: Json[]): Json[] {
  const out: Json[] = [];
  for (const p of v) {
    if (!isObject(p) || !Object.hasOwn(p, 'ipRangeStart') || !Object.hasOwn(p, 'ipRangeEnd')) continue;
    const f = ipFromText(jsonString(p.ipRangeStart, ''));
    const t = ipFromText(jsonString(p.ipRangeEnd, ''));
    if (f.family === 0 || f.family !== t.family) continue;
    out.push({ ipRangeStart: ipText(f), ipRangeEnd: ipText(t) });
    if (out.length >= MAX_ARRAY_SIZE) break;
  }
  return out;
}

function normaliseV6AssignMode(v: Json): JsonObject {
  if (typeof v === 'string') {
    const modes = new Set(v.split(','));
    return { rfc4193: modes.has('rfc4193'), zt: modes.has('zt'), '6plane': modes.has('6plane') };
  }
  if (isObject(v)) {
    // only the keys given are kept: the new object replaces the old one
    const out: JsonObject = {};
    for (const k of ['rfc4193', 'zt', '6plane']) if (Object.hasOwn(v, k)) out[k] = jsonBool(v[k], false);
    return out;
  }
  return { rfc4193: false, zt: false, '6plane': false };
}

/** `obj.id` as an unsigned 32-bit-safe integer key for sorting and de-duplication. */
function byIdLastWins(items: JsonObject[]): JsonObject[] {
  const m = new Map<number, JsonObject>();
  for (const it of items) m.set(it.id as number, it);
  return capped([...m.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v));
}

const clampMtu = (v: number): number => Math.max(MIN_VIRTUAL_MTU, Math.min(MAX_VIRTUAL_MTU, v >>> 0));

/** The remote trace target as 1.14 accepts it: exactly 10 characters, else null. */
function traceTarget(v: Json): Json {
  const s = jsonString(v, '');
  return s.length === 10 ? s : null;
}

/** Apply an API body to a network record (already initialised). Unknown keys are ignored. */
export function applyNetworkPost(n: NetworkRecord, b: JsonObject): void {
  const has = (k: string): boolean => Object.hasOwn(b, k);
  if (has('name')) n.name = jsonString(b.name, '');
  if (has('private')) n.private = jsonBool(b.private, true);
  if (has('enableBroadcast')) n.enableBroadcast = jsonBool(b.enableBroadcast, false);
  if (has('multicastLimit')) n.multicastLimit = jsonInt(b.multicastLimit, DEFAULT_MULTICAST_LIMIT);
  if (has('mtu')) n.mtu = clampMtu(jsonInt(b.mtu, DEFAULT_VIRTUAL_MTU));
  if (has('remoteTraceTarget')) n.remoteTraceTarget = traceTarget(b.remoteTraceTarget);
  if (has('remoteTraceLevel')) n.remoteTraceLevel = jsonInt(b.remoteTraceLevel, 0);
  if (has('v4AssignMode')) {
    const v = b.v4AssignMode;
    n.v4AssignMode = { zt: typeof v === 'string' ? v === 'zt' : isObject(v) ? jsonBool(v.zt, false) : false };
  }
  if (has('v6AssignMode')) n.v6AssignMode = normaliseV6AssignMode(b.v6AssignMode);
  if (has('routes') && Array.isArray(b.routes)) n.routes = normaliseRoutes(b.routes);
  if (has('ipAssignmentPools') && Array.isArray(b.ipAssignmentPools)) n.ipAssignmentPools = normalisePools(b.ipAssignmentPools);
  if (has('rules') && Array.isArray(b.rules)) n.rules = normaliseRules(b.rules);
  if (has('authTokens')) {
    const t = b.authTokens;
    if (isObject(t)) {
      const kept: JsonObject = {};
      for (const [k, v] of Object.entries(t)) if (typeof v === 'number' && v >= 0) kept[k] = v;
      n.authTokens = Object.keys(kept).length > 0 ? kept : null;
    } else {
      n.authTokens = [null];
    }
  }
  if (has('capabilities') && Array.isArray(b.capabilities)) {
    n.capabilities = byIdLastWins(b.capabilities.filter(isObject).map((c) => ({
      id: jsonInt(c.id, 0), default: jsonBool(c.default, false), rules: normaliseRules(c.rules ?? null),
    })));
  }
  if (has('tags') && Array.isArray(b.tags)) {
    n.tags = byIdLastWins(b.tags.filter(isObject).map((t) => ({
      id: jsonInt(t.id, 0), default: t.default === undefined || t.default === null ? null : jsonInt(t.default, 0),
    })));
  }
  if (has('dns') && isObject(b.dns)) {
    const d: JsonObject = { domain: b.dns.domain ?? null };
    if (Array.isArray(b.dns.servers)) d.servers = capped([...b.dns.servers]);
    n.dns = d;
  }
}

/** Thrown for input 1.14 answers with a 500 (a non-string IP assignment). */
export class RecordInputError extends Error {}

/** Apply an API body to a member record (already initialised). */
export function applyMemberPost(m: MemberRecord, b: JsonObject, nowMs: number): void {
  const has = (k: string): boolean => Object.hasOwn(b, k);
  if (has('activeBridge')) m.activeBridge = jsonBool(b.activeBridge, false);
  if (has('noAutoAssignIps')) m.noAutoAssignIps = jsonBool(b.noAutoAssignIps, false);
  if (has('authenticationExpiryTime')) m.authenticationExpiryTime = jsonInt(b.authenticationExpiryTime, 0);
  if (has('name')) m.name = jsonString(b.name, '');
  if (has('remoteTraceTarget')) m.remoteTraceTarget = traceTarget(b.remoteTraceTarget);
  if (has('remoteTraceLevel')) m.remoteTraceLevel = jsonInt(b.remoteTraceLevel, 0);
  if (has('authorized')) {
    const auth = jsonBool(b.authorized, false);
    if (auth !== jsonBool(m.authorized, false)) {
      m.authorized = auth;
      m[auth ? 'lastAuthorizedTime' : 'lastDeauthorizedTime'] = nowMs;
      if (auth) {
        m.lastAuthorizedCredentialType = 'api';
        m.lastAuthorizedCredential = null;
      }
    }
  }
  if (has('ipAssignments') && Array.isArray(b.ipAssignments)) {
    const ips: Json[] = [];
    for (const v of b.ipAssignments) {
      if (typeof v !== 'string') throw new RecordInputError('ipAssignments: every entry must be a string');
      const ip = ipFromText(v);
      if (ip.family !== 0) ips.push(ipText(ip));
      if (ips.length >= MAX_ARRAY_SIZE) break;
    }
    m.ipAssignments = ips;
  }
  if (has('tags') && Array.isArray(b.tags)) {
    const tags = new Map<number, number>();
    for (const t of b.tags) {
      if (Array.isArray(t) && t.length === 2) tags.set(u32(jsonInt(t[0], 0)), u32(jsonInt(t[1], 0)));
    }
    m.tags = capped([...tags.entries()].sort((a, c) => a[0] - c[0]).map(([id, v]) => [id, v]));
  }
  if (has('capabilities') && Array.isArray(b.capabilities)) {
    const caps = capped(b.capabilities.map((c) => jsonInt(c, 0)));
    m.capabilities = [...new Set(caps)].sort((a, c) => a - c);
  }
}

const u32 = (v: number): number => Number(BigInt.asUintN(32, BigInt(v)));

/** The identity fields the request path and the API set on every member. */
export function setMemberKeys(m: MemberRecord, nwid: bigint, address: number): void {
  const a = formatAddress(address);
  m.id = a;
  m.address = a;
  m.nwid = hex64(nwid);
}
