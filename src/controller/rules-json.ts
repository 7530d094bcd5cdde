// Network rules in the controller API's JSON form (docs/protocol/07-network-config-controller.md §4): what
// 1.14's _parseRule accepts and _renderRule writes. A POSTed rule list is normalised through
// parse + render, so the stored JSON is exactly what 1.14 would store.

import { ADDRESS_MASK, formatAddress } from '../identity/address.ts';
import { formatInetAddress, parseInetAddressLikeZeroTier } from '../wire/inet-address.ts';
import { formatMac } from '../wire/mac.ts';
import type { Rule, RuleBody } from '../wire/rules.ts';
import { strtoull } from '../util/strtoull.ts';
import { isObject, jsonBool, jsonInt, jsonString, type Json, type JsonObject } from './json-values.ts';
import { hex64 } from '../util/hex.ts';

const U32 = 0xffff_ffff;
const u8 = (v: Json | undefined, dfl = 0): number => jsonInt(v, dfl) & 0xff;
const u16 = (v: Json | undefined, dfl = 0): number => jsonInt(v, dfl) & 0xffff;
const u32 = (v: Json | undefined, dfl = 0): number => Number(BigInt(jsonInt(v, dfl)) & BigInt(U32));
const hexAddress = (v: Json | undefined): number => Number(strtoull(jsonString(v, '0'), 16) & BigInt(ADDRESS_MASK));

/** Utils::cleanMac + unhex: hex digits only, the first 12 of them, as a 48-bit MAC. */
function parseMacLoose(v: Json | undefined): number {
  const digits = jsonString(v, '0').replace(/[^0-9a-fA-F]/g, '').slice(0, 12);
  const bytes = Math.floor(digits.length / 2);
  let mac = 0;
  for (let i = 0; i < 6; i++) mac = mac * 256 + (i < bytes ? parseInt(digits.slice(2 * i, 2 * i + 2), 16) : 0);
  return mac;
}

function parseIp(v: Json | undefined, family: 4 | 6): { ip: Uint8Array; mask: number } {
  const a = parseInetAddressLikeZeroTier(jsonString(v, family === 4 ? '0.0.0.0' : '::0'));
  const length = family === 4 ? 4 : 16;
  if (!a || a.family !== family) return { ip: new Uint8Array(length), mask: 0 };
  return { ip: a.ip, mask: Math.min(a.port & 0xff, family === 4 ? 32 : 128) };
}

const TAG_MATCHES = new Set(['MATCH_TAGS_DIFFERENCE', 'MATCH_TAGS_BITWISE_AND', 'MATCH_TAGS_BITWISE_OR', 'MATCH_TAGS_BITWISE_XOR',
  'MATCH_TAGS_EQUAL', 'MATCH_TAG_SENDER', 'MATCH_TAG_RECEIVER']);

function parseBody(t: string, r: JsonObject): RuleBody | undefined {
  switch (t) {
    case 'ACTION_DROP': case 'ACTION_ACCEPT': case 'ACTION_BREAK':
      return { type: t };
    case 'ACTION_TEE': case 'ACTION_WATCH':
      return { type: t, address: BigInt(hexAddress(r.address)), flags: u32(r.flags), length: u16(r.length) };
    case 'ACTION_REDIRECT':
      return { type: t, address: BigInt(hexAddress(r.address)), flags: u32(r.flags), length: 0 };
    case 'MATCH_SOURCE_ZEROTIER_ADDRESS': case 'MATCH_DEST_ZEROTIER_ADDRESS':
      return { type: t, zt: hexAddress(r.zt) };
    case 'MATCH_VLAN_ID': return { type: t, vlanId: u16(r.vlanId) };
    case 'MATCH_VLAN_PCP': return { type: t, vlanPcp: u8(r.vlanPcp) };
    case 'MATCH_VLAN_DEI': return { type: t, vlanDei: u8(r.vlanDei) };
    case 'MATCH_MAC_SOURCE': case 'MATCH_MAC_DEST':
      return { type: t, mac: parseMacLoose(r.mac) };
    case 'MATCH_IPV4_SOURCE': case 'MATCH_IPV4_DEST':
      return { type: t, ...parseIp(r.ip, 4) };
    case 'MATCH_IPV6_SOURCE': case 'MATCH_IPV6_DEST':
      return { type: t, ...parseIp(r.ip, 6) };
    case 'MATCH_IP_TOS': return { type: t, mask: u8(r.mask), start: u8(r.start), end: u8(r.end) };
    case 'MATCH_IP_PROTOCOL': return { type: t, ipProtocol: u8(r.ipProtocol) };
    case 'MATCH_ETHERTYPE': return { type: t, etherType: u16(r.etherType) };
    case 'MATCH_ICMP': {
      const code = r.icmpCode;
      // an absent or null code means "any code" (flag 0x01 clear)
      if (code === undefined || code === null) return { type: t, icmpType: u8(r.icmpType), icmpCode: 0, flags: 0 };
      return { type: t, icmpType: u8(r.icmpType), icmpCode: u8(code), flags: 0x01 };
    }
    case 'MATCH_IP_SOURCE_PORT_RANGE': case 'MATCH_IP_DEST_PORT_RANGE': case 'MATCH_FRAME_SIZE_RANGE': {
      const start = u16(r.start);
      return { type: t, start, end: u16(r.end, start) };
    }
    case 'MATCH_CHARACTERISTICS': {
      const m = r.mask;
      const mask = typeof m === 'number' ? BigInt.asUintN(64, BigInt(Math.trunc(m))) : m === undefined ? 0n : strtoull(jsonString(m, ''), 16);
      return { type: t, mask };
    }
    case 'MATCH_RANDOM': return { type: t, probability: u32(r.probability) };
    default:
      if (TAG_MATCHES.has(t)) return { type: t as 'MATCH_TAGS_EQUAL', id: u32(r.id), value: u32(r.value) };
      // INTEGER_RANGE, ACTION_PRIORITY and unknown names are refused by 1.14's parser too.
      return undefined;
  }
}

/** _parseRule: the binary rule for a JSON rule, or undefined if 1.14 would drop it. */
export function parseRuleJson(v: Json): Rule | undefined {
  if (!isObject(v)) return undefined;
  const body = parseBody(jsonString(v.type, ''), v);
  if (!body) return undefined;
  return { ...body, not: jsonBool(v.not, false), or: jsonBool(v.or, false) } as Rule;
}

const mac = (m: number): string => formatMac(m).toLowerCase();

/** _renderRule: actions carry no not/or keys; matches carry both. */
export function renderRuleJson(rule: Rule): JsonObject {
  switch (rule.type) {
    case 'ACTION_DROP': case 'ACTION_ACCEPT': case 'ACTION_BREAK':
      return { type: rule.type };
    case 'ACTION_TEE': case 'ACTION_WATCH':
      return { type: rule.type, address: formatAddress(Number(rule.address & BigInt(ADDRESS_MASK))), flags: rule.flags, length: rule.length };
    case 'ACTION_REDIRECT':
      return { type: rule.type, address: formatAddress(Number(rule.address & BigInt(ADDRESS_MASK))), flags: rule.flags };
    default:
  }
  let r: JsonObject;
  switch (rule.type) {
    case 'MATCH_SOURCE_ZEROTIER_ADDRESS': case 'MATCH_DEST_ZEROTIER_ADDRESS': r = { type: rule.type, zt: formatAddress(rule.zt) }; break;
    case 'MATCH_VLAN_ID': r = { type: rule.type, vlanId: rule.vlanId }; break;
    case 'MATCH_VLAN_PCP': r = { type: rule.type, vlanPcp: rule.vlanPcp }; break;
    case 'MATCH_VLAN_DEI': r = { type: rule.type, vlanDei: rule.vlanDei }; break;
    case 'MATCH_MAC_SOURCE': case 'MATCH_MAC_DEST': r = { type: rule.type, mac: mac(rule.mac) }; break;
    case 'MATCH_IPV4_SOURCE': case 'MATCH_IPV4_DEST':
      r = { type: rule.type, ip: formatInetAddress({ family: 4, ip: rule.ip, port: rule.mask }) }; break;
    case 'MATCH_IPV6_SOURCE': case 'MATCH_IPV6_DEST':
      r = { type: rule.type, ip: formatInetAddress({ family: 6, ip: rule.ip, port: rule.mask }) }; break;
    case 'MATCH_IP_TOS': r = { type: rule.type, mask: rule.mask, start: rule.start, end: rule.end }; break;
    case 'MATCH_IP_PROTOCOL': r = { type: rule.type, ipProtocol: rule.ipProtocol }; break;
    case 'MATCH_ETHERTYPE': r = { type: rule.type, etherType: rule.etherType }; break;
    case 'MATCH_ICMP': r = { type: rule.type, icmpType: rule.icmpType, icmpCode: (rule.flags & 0x01) !== 0 ? rule.icmpCode : null }; break;
    case 'MATCH_IP_SOURCE_PORT_RANGE': case 'MATCH_IP_DEST_PORT_RANGE': case 'MATCH_FRAME_SIZE_RANGE':
      r = { type: rule.type, start: rule.start, end: rule.end }; break;
    case 'MATCH_CHARACTERISTICS': r = { type: rule.type, mask: hex64(rule.mask) }; break;
    case 'MATCH_RANDOM': r = { type: rule.type, probability: rule.probability }; break;
    case 'MATCH_TAGS_DIFFERENCE': case 'MATCH_TAGS_BITWISE_AND': case 'MATCH_TAGS_BITWISE_OR': case 'MATCH_TAGS_BITWISE_XOR':
    case 'MATCH_TAGS_EQUAL': case 'MATCH_TAG_SENDER': case 'MATCH_TAG_RECEIVER':
      r = { type: rule.type, id: rule.id, value: rule.value }; break;
    default:
      return {};
  }
  r.not = rule.not;
  r.or = rule.or;
  return r;
}

/** Parse a JSON rule list, dropping what 1.14 drops, at most `max` rules. */
export function parseRulesJson(v: Json | undefined, max: number): Rule[] {
  const out: Rule[] = [];
  if (!Array.isArray(v)) return out;
  for (const item of v) {
    if (out.length >= max) break;
    const rule = parseRuleJson(item);
    if (rule) out.push(rule);
  }
  return out;
}
