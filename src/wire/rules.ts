// Network rules in their binary form (docs/protocol/07-network-config-controller.md §4): the `R` blob of a
// network config and the rule list inside a Capability. Each rule is a type byte (0x80 NOT,
// 0x40 OR, low 6 bits the rule type), a length byte and that many bytes of fields.

import type { Address } from '../identity/address.ts';
import { ByteReader, ByteWriter } from './byte-cursor.ts';
import type { Decoded } from './decode-result.ts';

/** Rule type codes (ZT_NETWORK_RULE_* in include/ZeroTierOne.h). */
export const RuleType = {
  ACTION_DROP: 0,
  ACTION_ACCEPT: 1,
  ACTION_TEE: 2,
  ACTION_WATCH: 3,
  ACTION_REDIRECT: 4,
  ACTION_BREAK: 5,
  ACTION_PRIORITY: 6,
  MATCH_SOURCE_ZEROTIER_ADDRESS: 24,
  MATCH_DEST_ZEROTIER_ADDRESS: 25,
  MATCH_VLAN_ID: 26,
  MATCH_VLAN_PCP: 27,
  MATCH_VLAN_DEI: 28,
  MATCH_MAC_SOURCE: 29,
  MATCH_MAC_DEST: 30,
  MATCH_IPV4_SOURCE: 31,
  MATCH_IPV4_DEST: 32,
  MATCH_IPV6_SOURCE: 33,
  MATCH_IPV6_DEST: 34,
  MATCH_IP_TOS: 35,
  MATCH_IP_PROTOCOL: 36,
  MATCH_ETHERTYPE: 37,
  MATCH_ICMP: 38,
  MATCH_IP_SOURCE_PORT_RANGE: 39,
  MATCH_IP_DEST_PORT_RANGE: 40,
  MATCH_CHARACTERISTICS: 41,
  MATCH_FRAME_SIZE_RANGE: 42,
  MATCH_RANDOM: 43,
  MATCH_TAGS_DIFFERENCE: 44,
  MATCH_TAGS_BITWISE_AND: 45,
  MATCH_TAGS_BITWISE_OR: 46,
  MATCH_TAGS_BITWISE_XOR: 47,
  MATCH_TAGS_EQUAL: 48,
  MATCH_TAG_SENDER: 49,
  MATCH_TAG_RECEIVER: 50,
  MATCH_INTEGER_RANGE: 51,
} as const;
export type RuleTypeName = keyof typeof RuleType;

/** Bits of the rule type byte (docs/protocol/07-network-config-controller.md §4). */
export const RuleTypeFlag = { not: 0x80, or: 0x40, typeMask: 0x3f } as const;

type TagMatch = 'MATCH_TAGS_DIFFERENCE' | 'MATCH_TAGS_BITWISE_AND' | 'MATCH_TAGS_BITWISE_OR' | 'MATCH_TAGS_BITWISE_XOR'
  | 'MATCH_TAGS_EQUAL' | 'MATCH_TAG_SENDER' | 'MATCH_TAG_RECEIVER';

export type RuleBody =
  | { readonly type: 'ACTION_DROP' | 'ACTION_ACCEPT' | 'ACTION_BREAK' | 'ACTION_PRIORITY' }
  /** address is a u64 field holding a ZeroTier address; length is unused for REDIRECT. */
  | { readonly type: 'ACTION_TEE' | 'ACTION_WATCH' | 'ACTION_REDIRECT'; readonly address: bigint; readonly flags: number; readonly length: number }
  | { readonly type: 'MATCH_SOURCE_ZEROTIER_ADDRESS' | 'MATCH_DEST_ZEROTIER_ADDRESS'; readonly zt: Address }
  | { readonly type: 'MATCH_VLAN_ID'; readonly vlanId: number }
  | { readonly type: 'MATCH_VLAN_PCP'; readonly vlanPcp: number }
  | { readonly type: 'MATCH_VLAN_DEI'; readonly vlanDei: number }
  | { readonly type: 'MATCH_MAC_SOURCE' | 'MATCH_MAC_DEST'; readonly mac: number }
  /** ip: 4 bytes; mask: prefix bits */
  | { readonly type: 'MATCH_IPV4_SOURCE' | 'MATCH_IPV4_DEST'; readonly ip: Uint8Array; readonly mask: number }
  /** ip: 16 bytes; mask: prefix bits */
  | { readonly type: 'MATCH_IPV6_SOURCE' | 'MATCH_IPV6_DEST'; readonly ip: Uint8Array; readonly mask: number }
  | { readonly type: 'MATCH_IP_TOS'; readonly mask: number; readonly start: number; readonly end: number }
  | { readonly type: 'MATCH_IP_PROTOCOL'; readonly ipProtocol: number }
  | { readonly type: 'MATCH_ETHERTYPE'; readonly etherType: number }
  /** flags 0x01: the code is significant */
  | { readonly type: 'MATCH_ICMP'; readonly icmpType: number; readonly icmpCode: number; readonly flags: number }
  | { readonly type: 'MATCH_IP_SOURCE_PORT_RANGE' | 'MATCH_IP_DEST_PORT_RANGE' | 'MATCH_FRAME_SIZE_RANGE'; readonly start: number; readonly end: number }
  | { readonly type: 'MATCH_CHARACTERISTICS'; readonly mask: bigint }
  | { readonly type: 'MATCH_RANDOM'; readonly probability: number }
  | { readonly type: TagMatch; readonly id: number; readonly value: number }
  /** end is absolute (start + span) as on the wire */
  | { readonly type: 'MATCH_INTEGER_RANGE'; readonly start: bigint; readonly end: bigint; readonly idx: number; readonly format: number }
  /** A type this codec does not know: its fields are skipped on read and written with length 0, as 1.14 does. */
  | { readonly type: 'UNKNOWN'; readonly code: number };

export type Rule = RuleBody & {
  /** Invert the match (type byte 0x80). */
  readonly not: boolean;
  /** Combine with the previous match by OR instead of AND (type byte 0x40). */
  readonly or: boolean;
};

const ruleNames = new Map<number, RuleTypeName>(
  (Object.entries(RuleType) as [RuleTypeName, number][]).map(([name, code]) => [code, name]),
);

function typeCode(rule: Rule): number {
  return rule.type === 'UNKNOWN' ? rule.code & RuleTypeFlag.typeMask : RuleType[rule.type];
}

export function writeRule(w: ByteWriter, rule: Rule): void {
  w.u8(typeCode(rule) | (rule.not ? RuleTypeFlag.not : 0) | (rule.or ? RuleTypeFlag.or : 0));
  switch (rule.type) {
    case 'ACTION_TEE': case 'ACTION_WATCH': case 'ACTION_REDIRECT':
      w.u8(14).u64(rule.address).u32(rule.flags).u16(rule.length);
      return;
    case 'MATCH_SOURCE_ZEROTIER_ADDRESS': case 'MATCH_DEST_ZEROTIER_ADDRESS':
      w.u8(5).address(rule.zt);
      return;
    case 'MATCH_VLAN_ID':
      w.u8(2).u16(rule.vlanId);
      return;
    case 'MATCH_VLAN_PCP':
      w.u8(1).u8(rule.vlanPcp);
      return;
    case 'MATCH_VLAN_DEI':
      w.u8(1).u8(rule.vlanDei);
      return;
    case 'MATCH_MAC_SOURCE': case 'MATCH_MAC_DEST':
      w.u8(6).mac(rule.mac);
      return;
    case 'MATCH_IPV4_SOURCE': case 'MATCH_IPV4_DEST':
      w.u8(5).bytes(rule.ip.subarray(0, 4)).u8(rule.mask);
      return;
    case 'MATCH_IPV6_SOURCE': case 'MATCH_IPV6_DEST':
      w.u8(17).bytes(rule.ip.subarray(0, 16)).u8(rule.mask);
      return;
    case 'MATCH_IP_TOS':
      w.u8(3).u8(rule.mask).u8(rule.start).u8(rule.end);
      return;
    case 'MATCH_IP_PROTOCOL':
      w.u8(1).u8(rule.ipProtocol);
      return;
    case 'MATCH_ETHERTYPE':
      w.u8(2).u16(rule.etherType);
      return;
    case 'MATCH_ICMP':
      w.u8(3).u8(rule.icmpType).u8(rule.icmpCode).u8(rule.flags);
      return;
    case 'MATCH_IP_SOURCE_PORT_RANGE': case 'MATCH_IP_DEST_PORT_RANGE': case 'MATCH_FRAME_SIZE_RANGE':
      w.u8(4).u16(rule.start).u16(rule.end);
      return;
    case 'MATCH_CHARACTERISTICS':
      w.u8(8).u64(rule.mask);
      return;
    case 'MATCH_RANDOM':
      w.u8(4).u32(rule.probability);
      return;
    case 'MATCH_TAGS_DIFFERENCE': case 'MATCH_TAGS_BITWISE_AND': case 'MATCH_TAGS_BITWISE_OR': case 'MATCH_TAGS_BITWISE_XOR':
    case 'MATCH_TAGS_EQUAL': case 'MATCH_TAG_SENDER': case 'MATCH_TAG_RECEIVER':
      w.u8(8).u32(rule.id).u32(rule.value);
      return;
    case 'MATCH_INTEGER_RANGE':
      w.u8(19).u64(rule.start).u64(rule.end).u16(rule.idx).u8(rule.format);
      return;
    default: // actions without fields, and unknown types
      w.u8(0);
  }
}

/** Fields of a known rule type, read at the start of its field area. */
function readBody(r: ByteReader, name: RuleTypeName | undefined, code: number): RuleBody {
  switch (name) {
    case 'ACTION_TEE': case 'ACTION_WATCH': case 'ACTION_REDIRECT':
      return { type: name, address: r.u64(), flags: r.u32(), length: r.u16() };
    case 'MATCH_SOURCE_ZEROTIER_ADDRESS': case 'MATCH_DEST_ZEROTIER_ADDRESS':
      return { type: name, zt: r.address() };
    case 'MATCH_VLAN_ID':
      return { type: name, vlanId: r.u16() };
    case 'MATCH_VLAN_PCP':
      return { type: name, vlanPcp: r.u8() };
    case 'MATCH_VLAN_DEI':
      return { type: name, vlanDei: r.u8() };
    case 'MATCH_MAC_SOURCE': case 'MATCH_MAC_DEST':
      return { type: name, mac: r.mac() };
    case 'MATCH_IPV4_SOURCE': case 'MATCH_IPV4_DEST':
      return { type: name, ip: r.copy(4), mask: r.u8() };
    case 'MATCH_IPV6_SOURCE': case 'MATCH_IPV6_DEST':
      return { type: name, ip: r.copy(16), mask: r.u8() };
    case 'MATCH_IP_TOS':
      return { type: name, mask: r.u8(), start: r.u8(), end: r.u8() };
    case 'MATCH_IP_PROTOCOL':
      return { type: name, ipProtocol: r.u8() };
    case 'MATCH_ETHERTYPE':
      return { type: name, etherType: r.u16() };
    case 'MATCH_ICMP':
      return { type: name, icmpType: r.u8(), icmpCode: r.u8(), flags: r.u8() };
    case 'MATCH_IP_SOURCE_PORT_RANGE': case 'MATCH_IP_DEST_PORT_RANGE': case 'MATCH_FRAME_SIZE_RANGE':
      return { type: name, start: r.u16(), end: r.u16() };
    case 'MATCH_CHARACTERISTICS':
      return { type: name, mask: r.u64() };
    case 'MATCH_RANDOM':
      return { type: name, probability: r.u32() };
    case 'MATCH_TAGS_DIFFERENCE': case 'MATCH_TAGS_BITWISE_AND': case 'MATCH_TAGS_BITWISE_OR': case 'MATCH_TAGS_BITWISE_XOR':
    case 'MATCH_TAGS_EQUAL': case 'MATCH_TAG_SENDER': case 'MATCH_TAG_RECEIVER':
      return { type: name, id: r.u32(), value: r.u32() };
    case 'MATCH_INTEGER_RANGE':
      return { type: name, start: r.u64(), end: r.u64(), idx: r.u16(), format: r.u8() };
    case 'ACTION_DROP': case 'ACTION_ACCEPT': case 'ACTION_BREAK': case 'ACTION_PRIORITY':
      return { type: name };
    default:
      return { type: 'UNKNOWN', code };
  }
}

/**
 * Read rules until `maxCount` rules or the end of the reader (Capability::deserializeRules).
 * As in 1.14 a known type's fields are read from where its field area starts whatever the
 * length byte says, and the cursor then advances by the length byte.
 */
export function readRules(r: ByteReader, maxCount: number): Rule[] {
  const rules: Rule[] = [];
  while (rules.length < maxCount && r.remaining > 0 && !r.failed) {
    const typeByte = r.u8();
    const fieldLength = r.u8();
    if (r.failed) break;
    const code = typeByte & RuleTypeFlag.typeMask;
    const fieldsAt = r.offset;
    const body = readBody(r, ruleNames.get(code), code);
    if (r.failed) break;
    r.offset = fieldsAt;
    if (fieldLength > r.remaining) {
      // 1.14 would move past the end and stop; only a later read would fail.
      r.offset = r.end;
    } else {
      r.skip(fieldLength);
    }
    rules.push({ ...body, not: (typeByte & RuleTypeFlag.not) !== 0, or: (typeByte & RuleTypeFlag.or) !== 0 });
  }
  return rules;
}

export function encodeRules(rules: readonly Rule[]): Uint8Array {
  const w = new ByteWriter(rules.length * 8 + 8);
  for (const rule of rules) writeRule(w, rule);
  return w.finish();
}

/** Decode a whole rules blob (the `R` value of a network config). */
export function decodeRules(blob: Uint8Array, maxCount: number): Decoded<Rule[]> {
  const r = new ByteReader(blob);
  const rules = readRules(r, maxCount);
  return r.error ? { ok: false, error: r.error } : { ok: true, value: rules };
}

/** The default "allow everything" rule set (docs/protocol/07-network-config-controller.md §4). */
export const ACCEPT_ALL_RULES: readonly Rule[] = Object.freeze([{ type: 'ACTION_ACCEPT', not: false, or: false }]);
