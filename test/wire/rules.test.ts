import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeRules, encodeRules, ACCEPT_ALL_RULES, type Rule } from '../../src/wire/rules.ts';
import { hex, toHex } from '../support/vectors.ts';
import { mutated, plain, rule, RUNS } from './arbitraries.ts';

describe('rules blob (07-network-config-controller.md §4)', () => {
  it('the default accept-all rule set is 01 00', () => {
    expect(toHex(encodeRules(ACCEPT_ALL_RULES))).toBe('0100');
  });

  it('encodes each field layout with its length byte', () => {
    const rules: Rule[] = [
      { type: 'MATCH_ETHERTYPE', etherType: 0x0800, not: true, or: false },
      { type: 'MATCH_IPV4_DEST', ip: hex('0a931100'), mask: 24, not: false, or: true },
      { type: 'ACTION_TEE', address: 0x8e4df28b72n, flags: 1, length: 64, not: false, or: false },
      { type: 'MATCH_INTEGER_RANGE', start: 5n, end: 10n, idx: 3, format: 0x80, not: false, or: false },
      { type: 'ACTION_DROP', not: false, or: false },
    ];
    expect(toHex(encodeRules(rules))).toBe(
      'a5020800' + '60050a93110018' + '020e0000008e4df28b72000000010040' +
      '33130000000000000005000000000000000a000380' + '0000');
    const d = decodeRules(encodeRules(rules), 1024);
    expect(d.ok && plain(d.value)).toEqual(plain(rules));
  });

  it('skips unknown types by their length; writes them back with length 0 (as 1.14 does)', () => {
    const d = decodeRules(hex('0f03aabbcc0100'), 1024);
    expect(d.ok && d.value).toEqual([{ type: 'UNKNOWN', code: 15, not: false, or: false }, { type: 'ACTION_ACCEPT', not: false, or: false }]);
    if (d.ok) expect(toHex(encodeRules(d.value))).toBe('0f000100');
  });

  it('stops after maxCount rules; a known type reading past the end is too-short', () => {
    const d = decodeRules(hex('010001000100'), 2);
    expect(d.ok && d.value.length).toBe(2);
    expect(decodeRules(hex('2502'), 10)).toEqual({ ok: false, error: 'too-short' });
    expect(decodeRules(hex('01'), 10)).toEqual({ ok: false, error: 'too-short' });
  });

  it('round-trips every rule and never throws on mutated blobs', () => {
    fc.assert(fc.property(fc.array(rule, { maxLength: 20 }), (rules) => {
      const d = decodeRules(encodeRules(rules), 1024);
      expect(d.ok && plain(d.value)).toEqual(plain(rules));
    }), RUNS);
    fc.assert(fc.property(mutated(fc.array(rule, { maxLength: 8 }).map(encodeRules)), (b) => {
      expect(typeof decodeRules(b, 1024).ok).toBe('boolean');
    }), RUNS);
  });
});
