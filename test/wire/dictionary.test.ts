import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Dictionary, DictionaryWriter, escapeDictionaryValue, parseHexLikeStrtoull } from '../../src/wire/dictionary.ts';
import { fencedAfter, hex, hexAfter, toHex } from '../support/vectors.ts';
import { RUNS } from './arbitraries.ts';

const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

describe('Dictionary escaping and typed values (10-test-vectors.md §7)', () => {
  it('escapes the 11-byte example value exactly and reads it back', () => {
    const value = hex('613d625c630d0a64006500');
    const bytes = new DictionaryWriter().add('k', value).bytes();
    expect(toHex(bytes)).toBe('6b3d615c65625c5c635c725c6e645c30655c30');
    expect(text(bytes)).toBe('k=a\\eb\\\\c\\r\\nd\\0e\\0');
    expect(toHex(new Dictionary(bytes).get('k')!)).toBe(toHex(value));
  });

  it('writes booleans as 1/0 and integers as 16 hex digits', () => {
    const bytes = new DictionaryWriter().add('t', true).add('f', false).add('n', 0x1234n).add('s', 'hi').bytes();
    expect(text(bytes)).toBe(fencedAfter('Typed values:').trimEnd());
    const d = new Dictionary(bytes);
    expect(d.getBool('t')).toBe(true);
    expect(d.getBool('f')).toBe(false);
    expect(d.getU64('n')).toBe(0x1234n);
    expect(d.getString('s')).toBe('hi');
  });

  it('reads the 1.14 request metadata dictionary', () => {
    const bytes = hexAfter('Same, exact bytes (263 bytes)');
    const md = new Dictionary(bytes);
    expect(md.getU64('v')).toBe(7n);
    expect(md.getU64('pv')).toBe(12n);
    expect(md.getU64('minv')).toBe(14n);
    expect(md.getU64('mr')).toBe(1024n);
    expect(md.getString('o')).toBe('linux/x86_64');
    expect(md.keys()).toEqual(['v', 'vend', 'pv', 'majv', 'minv', 'revv', 'mr', 'mc', 'mcr', 'mt', 'f', 'revr', 'o']);
  });
});

describe('Dictionary reading rules (07-network-config-controller.md §1)', () => {
  it('first duplicate wins; CR also separates entries; keys match exactly', () => {
    const d = Dictionary.fromText('a=1\nab=2\ra=3\r\nb=\\q\\\nc');
    expect(d.getString('a')).toBe('1');
    expect(d.getString('ab')).toBe('2');
    expect(d.getString('b')).toBe('q'); // unknown escape is the character itself; the lone trailing backslash is dropped
    expect(d.get('c')).toBeUndefined(); // no '='
    expect(d.get('x')).toBeUndefined();
  });

  it('integers: short hex, 0x prefix, saturation, empty value means absent', () => {
    const d = Dictionary.fromText('a=7\nb=0x1F\nc=zz\nd=\ne=123456789abcdef0123\nf=-1');
    expect(d.getU64('a')).toBe(7n);
    expect(d.getU64('b')).toBe(0x1fn);
    expect(d.getU64('c')).toBe(0n);
    expect(d.getU64('d')).toBeUndefined();
    expect(d.getU64('e')).toBe(0xffff_ffff_ffff_ffffn);
    expect(d.getU64('f')).toBe(0xffff_ffff_ffff_ffffn);
    expect(parseHexLikeStrtoull('  +10xyz')).toBe(0x10n);
  });

  it('booleans: first character 1, t or T; present but empty is false', () => {
    const d = Dictionary.fromText('a=t\nb=True\nc=0\nd=\ne=yes');
    expect([d.getBool('a'), d.getBool('b'), d.getBool('c'), d.getBool('d'), d.getBool('e'), d.getBool('z')])
      .toEqual([true, true, false, false, false, undefined]);
  });

  it('stops at a NUL and at capacity - 1 bytes, as the C++ buffer does', () => {
    const d = new Dictionary(Uint8Array.from([...Buffer.from('a=1\nb=2'), 0, ...Buffer.from('\nc=3')]));
    expect(d.getString('b')).toBe('2');
    expect(d.has('c')).toBe(false);
    const capped = Dictionary.fromText('a=12345\nb=1', 6);
    expect(capped.getString('a')).toBe('123');
    expect(capped.has('b')).toBe(false);
  });

  it('any value round-trips through the writer, whatever its bytes', () => {
    const key = fc.stringMatching(/^[a-zA-Z0-9_]{1,8}$/);
    fc.assert(fc.property(fc.array(fc.tuple(key, fc.uint8Array({ maxLength: 40 })), { maxLength: 8 }), (entries) => {
      const w = new DictionaryWriter();
      for (const [k, v] of entries) w.add(k, v);
      const d = new Dictionary(w.bytes());
      const firsts = new Map<string, Uint8Array>();
      for (const [k, v] of entries) if (!firsts.has(k)) firsts.set(k, v);
      for (const [k, v] of firsts) expect(toHex(d.get(k)!)).toBe(toHex(v));
      expect(w.bytes().includes(0)).toBe(false);
    }), RUNS);
  });

  it('escaped values never contain NUL, CR, LF or a bare =', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (v) => {
      const e = escapeDictionaryValue(v);
      for (const c of [0, 10, 13, 0x3d]) expect(e.includes(c)).toBe(false);
    }), RUNS);
  });

  it('u64 values round-trip', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: 0xffff_ffff_ffff_ffffn }), (n) => {
      const d = new Dictionary(new DictionaryWriter().add('n', n).bytes());
      expect(d.getU64('n')).toBe(n);
      expect(d.getString('n')).toMatch(/^[0-9a-f]{16}$/);
    }), RUNS);
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), fc.string({ maxLength: 4 }), (b, k) => {
      const d = new Dictionary(b, 100);
      d.get(k); d.getU64(k); d.getBool(k); d.getString(k); d.keys();
    }), RUNS);
  });

  it('refuses keys that cannot be stored', () => {
    for (const k of ['a=b', 'a\nb', 'a\rb', 'a\0b']) expect(() => new DictionaryWriter().add(k, 'x')).toThrow(RangeError);
  });
});
