import { describe, expect, it } from 'vitest';
import { deserializeIdentity, generateIdentity, Identity, parseIdentity } from '../../src/identity/identity.ts';
import { identityHash } from '../../src/identity/memory-hard-hash.ts';
import { fencedAfter, hexAfter, readVectorJson, toHex } from '../support/vectors.ts';

interface IdentitiesJson {
  identities: { secret: string; public: string; address: string }[];
  validate: { identity: string; valid: boolean; idtool_exit: number; note?: string }[];
}
const json = readVectorJson<IdentitiesJson>('identities.json');

const A = fencedAfter('Identity A (secret form').trim();
const B = fencedAfter('Identity B (secret form').trim();
const BAD = fencedAfter('Known-bad identity').trim();

function parse(text: string): Identity {
  const id = parseIdentity(text);
  if (!id) throw new Error(`did not parse: ${text}`);
  return id;
}

describe('identities A, B and the known-bad one (10-test-vectors.md §1)', () => {
  it('memory-hard digests of A and B', () => {
    expect(toHex(identityHash(parse(A).publicKey))).toBe(toHex(hexAfter('Memory-hard digest H(A.publicKey)')));
    expect(toHex(identityHash(parse(B).publicKey))).toBe(toHex(hexAfter('Memory-hard digest H(B.publicKey)')));
  });
  it('A and B validate, the known-bad identity parses but fails', () => {
    expect(parse(A).locallyValidate()).toBe(true);
    expect(parse(B).locallyValidate()).toBe(true);
    expect(parse(BAD).locallyValidate()).toBe(false);
  });
  it('binary forms of A, public and with private key', () => {
    const a = parse(A);
    expect(toHex(a.serialize())).toBe(toHex(hexAfter('A, binary public form')));
    expect(toHex(a.serialize(true))).toBe(toHex(hexAfter('A, binary form with private key')));
    const back = deserializeIdentity(hexAfter('A, binary form with private key'));
    expect(typeof back).toBe('object');
    if (typeof back === 'object') {
      expect(back.length).toBe(135);
      expect(back.identity.toString(true)).toBe(A);
    }
  });
  it('public key hash of B (SHA-384 of address ‖ key)', () => {
    expect(toHex(parse(B).publicKeyHash())).toBe(toHex(hexAfter('SHA-384(B.address')));
  });
  it('the A↔B peer key agrees both ways (§4)', () => {
    const expected = toHex(hexAfter('Shared 48-byte peer key'));
    expect(toHex(parse(A).agree(parse(B))!)).toBe(expected);
    expect(toHex(parse(B).agree(parse(A))!)).toBe(expected);
  });
  it('sign(A, "hello") and sign(A, "") (§4)', () => {
    const a = parse(A);
    expect(toHex(a.sign(new TextEncoder().encode('hello')))).toBe(toHex(hexAfter('sign(A, ASCII `hello`)')));
    expect(toHex(a.sign(new Uint8Array(0)))).toBe(toHex(hexAfter('sign(A, empty message)')));
  });
});

describe('identities.json made by zerotier-idtool 1.14.1', () => {
  it.each(json.identities.map((i) => [i.address, i] as const))('%s: parse, format both forms, getpublic, validate', (_a, i) => {
    const secret = parse(i.secret);
    expect(secret.toString(true)).toBe(i.secret);
    expect(secret.toString(false)).toBe(i.public);
    expect(parse(i.public).toString(true)).toBe(i.public);
    expect(secret.locallyValidate()).toBe(true);
    const round = deserializeIdentity(secret.serialize());
    expect(typeof round === 'object' && round.identity.equals(secret)).toBe(true);
  });

  it.each(json.validate.map((v, n) => [n, v.note ?? (v.valid ? 'valid' : 'invalid'), v] as const))(
    'validate case %i (%s)', (_n, _note, v) => {
      const id = parseIdentity(v.identity);
      expect(id !== null && id.locallyValidate()).toBe(v.valid);
    });
});

describe('text form quirks of Identity::fromString (01-identity.md §5)', () => {
  const pub = parse(A).toString();
  it('accepts a trailing newline and upper-case hex', () => {
    expect(parse(pub + '\n').equals(parse(A))).toBe(true);
    expect(parse(pub.toUpperCase()).toString()).toBe(pub);
  });
  it('skips empty fields like strtok', () => {
    expect(parse(pub.replace(':0:', '::0::')).toString()).toBe(pub);
  });
  it('rejects wrong field counts, type, short keys, reserved addresses and over-long input', () => {
    expect(parseIdentity('8e4df28b72:0')).toBeNull();
    expect(parseIdentity(pub.replace(':0:', ':1:'))).toBeNull();
    expect(parseIdentity(pub.replace(':0:', ':00:'))).toBeNull();
    expect(parseIdentity(pub.slice(0, -2))).toBeNull();
    expect(parseIdentity(`${A}:00`)).toBeNull();
    expect(parseIdentity(pub.replace('8e4df28b72', 'ff4df28b72'))).toBeNull();
    expect(parseIdentity(pub.replace('8e4df28b72', '0000000000'))).toBeNull();
    expect(parseIdentity(pub + ':' + 'a'.repeat(300))).toBeNull();
    expect(parseIdentity('zzzz:0:00')).toBeNull();
  });
  it('reads the address like strtoull: truncated to 40 bits, stops at a non-hex character', () => {
    expect(parse(pub.replace('8e4df28b72', '1238e4df28b72')).address).toBe(0x8e4df28b72);
    expect(parse(pub.replace('8e4df28b72', '8e4df28b72zz')).address).toBe(0x8e4df28b72);
  });
  it('stops at NUL', () => {
    expect(parse(pub + '\0garbage').toString()).toBe(pub);
  });
});

describe('binary decoding never throws', () => {
  it('reports short input, bad type and bad private length', () => {
    const bin = parse(A).serialize();
    expect(deserializeIdentity(bin.subarray(0, 70))).toBe('too-short');
    const t = Uint8Array.from(bin);
    t[5] = 1;
    expect(deserializeIdentity(t)).toBe('bad-type');
    const p = Uint8Array.from(bin);
    p[70] = 32;
    expect(deserializeIdentity(p)).toBe('bad-private-length');
    const q = Uint8Array.from(bin);
    q[70] = 64;
    expect(deserializeIdentity(q)).toBe('too-short');
  });
});

describe('generation', () => {
  it('produces a valid identity whose keys match', () => {
    const id = generateIdentity();
    expect(id.locallyValidate()).toBe(true);
    const again = parse(id.toString(true));
    const sig = again.sign(new TextEncoder().encode('x'));
    expect(again.verify(new TextEncoder().encode('x'), sig)).toBe(true);
  });
});
