// Rules in the API's JSON form: every rule type 1.14's _parseRule accepts comes back from
// _renderRule in 1.14's shape (actions without not/or, matches with both, MACs lowercase with
// colons, IPs as ip/bits, characteristics as 16 hex digits, an absent ICMP code as null), and its
// binary form survives the wire codec; what 1.14 refuses is dropped.

import { describe, expect, it } from 'vitest';
import { parseRuleJson, parseRulesJson, renderRuleJson } from '../../src/controller/rules-json.ts';
import type { Json } from '../../src/controller/json-values.ts';
import { decodeRules, encodeRules } from '../../src/wire/rules.ts';

const roundTrips: [Json, Json][] = [
  [{ type: 'ACTION_DROP', not: true }, { type: 'ACTION_DROP' }],
  [{ type: 'ACTION_ACCEPT' }, { type: 'ACTION_ACCEPT' }],
  [{ type: 'ACTION_BREAK' }, { type: 'ACTION_BREAK' }],
  [{ type: 'ACTION_TEE', address: '0123456789', flags: 1, length: 64 }, { type: 'ACTION_TEE', address: '0123456789', flags: 1, length: 64 }],
  [{ type: 'ACTION_WATCH', address: 'abcdef0123', flags: '2', length: '1500' }, { type: 'ACTION_WATCH', address: 'abcdef0123', flags: 2, length: 1500 }],
  [{ type: 'ACTION_REDIRECT', address: '00000000ff', flags: 0 }, { type: 'ACTION_REDIRECT', address: '00000000ff', flags: 0 }],
  [{ type: 'MATCH_SOURCE_ZEROTIER_ADDRESS', zt: 'aabbccddee', not: 'true' }, { type: 'MATCH_SOURCE_ZEROTIER_ADDRESS', zt: 'aabbccddee', not: true, or: false }],
  [{ type: 'MATCH_DEST_ZEROTIER_ADDRESS', zt: '1122334455', or: 1 }, { type: 'MATCH_DEST_ZEROTIER_ADDRESS', zt: '1122334455', not: false, or: true }],
  [{ type: 'MATCH_VLAN_ID', vlanId: 100 }, { type: 'MATCH_VLAN_ID', vlanId: 100, not: false, or: false }],
  [{ type: 'MATCH_VLAN_PCP', vlanPcp: 3 }, { type: 'MATCH_VLAN_PCP', vlanPcp: 3, not: false, or: false }],
  [{ type: 'MATCH_VLAN_DEI', vlanDei: 1 }, { type: 'MATCH_VLAN_DEI', vlanDei: 1, not: false, or: false }],
  [{ type: 'MATCH_MAC_SOURCE', mac: 'AA-BB-CC-DD-EE-FF' }, { type: 'MATCH_MAC_SOURCE', mac: 'aa:bb:cc:dd:ee:ff', not: false, or: false }],
  [{ type: 'MATCH_MAC_DEST', mac: '01:02:03:04:05:06' }, { type: 'MATCH_MAC_DEST', mac: '01:02:03:04:05:06', not: false, or: false }],
  [{ type: 'MATCH_IPV4_SOURCE', ip: '10.0.0.0/8' }, { type: 'MATCH_IPV4_SOURCE', ip: '10.0.0.0/8', not: false, or: false }],
  [{ type: 'MATCH_IPV4_DEST', ip: '192.168.1.1/99' }, { type: 'MATCH_IPV4_DEST', ip: '192.168.1.1/32', not: false, or: false }],
  [{ type: 'MATCH_IPV6_SOURCE', ip: 'fd00:0000::1/64' }, { type: 'MATCH_IPV6_SOURCE', ip: 'fd00::1/64', not: false, or: false }],
  [{ type: 'MATCH_IPV6_DEST', ip: '::/0' }, { type: 'MATCH_IPV6_DEST', ip: '::/0', not: false, or: false }],
  [{ type: 'MATCH_IP_TOS', mask: 252, start: 0, end: 8 }, { type: 'MATCH_IP_TOS', mask: 252, start: 0, end: 8, not: false, or: false }],
  [{ type: 'MATCH_IP_PROTOCOL', ipProtocol: 6 }, { type: 'MATCH_IP_PROTOCOL', ipProtocol: 6, not: false, or: false }],
  [{ type: 'MATCH_ETHERTYPE', etherType: 2048 }, { type: 'MATCH_ETHERTYPE', etherType: 2048, not: false, or: false }],
  [{ type: 'MATCH_ICMP', icmpType: 8 }, { type: 'MATCH_ICMP', icmpType: 8, icmpCode: null, not: false, or: false }],
  [{ type: 'MATCH_ICMP', icmpType: 3, icmpCode: 1 }, { type: 'MATCH_ICMP', icmpType: 3, icmpCode: 1, not: false, or: false }],
  [{ type: 'MATCH_IP_SOURCE_PORT_RANGE', start: 80 }, { type: 'MATCH_IP_SOURCE_PORT_RANGE', start: 80, end: 80, not: false, or: false }],
  [{ type: 'MATCH_IP_DEST_PORT_RANGE', start: 1000, end: 2000 }, { type: 'MATCH_IP_DEST_PORT_RANGE', start: 1000, end: 2000, not: false, or: false }],
  [{ type: 'MATCH_CHARACTERISTICS', mask: '8000000000000000' }, { type: 'MATCH_CHARACTERISTICS', mask: '8000000000000000', not: false, or: false }],
  [{ type: 'MATCH_CHARACTERISTICS', mask: 5 }, { type: 'MATCH_CHARACTERISTICS', mask: '0000000000000005', not: false, or: false }],
  [{ type: 'MATCH_FRAME_SIZE_RANGE', start: 64, end: 1500 }, { type: 'MATCH_FRAME_SIZE_RANGE', start: 64, end: 1500, not: false, or: false }],
  [{ type: 'MATCH_RANDOM', probability: 2147483648 }, { type: 'MATCH_RANDOM', probability: 2147483648, not: false, or: false }],
  ...(['MATCH_TAGS_DIFFERENCE', 'MATCH_TAGS_BITWISE_AND', 'MATCH_TAGS_BITWISE_OR', 'MATCH_TAGS_BITWISE_XOR', 'MATCH_TAGS_EQUAL', 'MATCH_TAG_SENDER', 'MATCH_TAG_RECEIVER']
    .map((type): [Json, Json] => [{ type, id: '7', value: 9 }, { type, id: 7, value: 9, not: false, or: false }])),
];

describe('rules JSON', () => {
  for (const [input, rendered] of roundTrips) {
    it(`${(input as { type: string }).type} ${JSON.stringify(input)}`, () => {
      const rule = parseRuleJson(input);
      expect(rule).toBeDefined();
      expect(renderRuleJson(rule!)).toEqual(rendered);
      // the binary form survives the wire codec and renders the same
      const back = decodeRules(encodeRules([rule!]), 10);
      expect(back.ok && renderRuleJson(back.value[0])).toEqual(rendered);
      // rendering is a fixed point
      expect(renderRuleJson(parseRuleJson(rendered)!)).toEqual(rendered);
    });
  }

  it('drops what 1.14 refuses: unknown or missing types, INTEGER_RANGE, ACTION_PRIORITY, non-objects', () => {
    expect(parseRulesJson([{ type: 'NOPE' }, {}, { type: 'INTEGER_RANGE', start: 1, end: 2 }, { type: 'ACTION_PRIORITY' }, 'x', 5, null, { type: 'ACTION_ACCEPT' }], 100)
      .map((r) => r.type)).toEqual(['ACTION_ACCEPT']);
    expect(parseRulesJson({ type: 'ACTION_ACCEPT' }, 100)).toEqual([]);
    expect(parseRulesJson(Array.from({ length: 10 }, () => ({ type: 'ACTION_DROP' })), 3)).toHaveLength(3);
  });
});
