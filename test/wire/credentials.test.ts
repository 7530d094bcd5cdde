import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteWriter } from '../../src/wire/byte-cursor.ts';
import { CredentialType, RevocationFlag } from '../../src/wire/constants.ts';
import {
  addCustodyLink, decodeCapability, encodeCapability, verifyCustodyLink, type Capability,
} from '../../src/wire/credentials/capability.ts';
import {
  comAgreesWith, comIsSignedByController, comIssuedTo, comNetworkId, comSignedBytes, comTimestamp, createCom, decodeCom,
  encodeCom, signCom, verifyCom,
} from '../../src/wire/credentials/com.ts';
import { cooSignedBytes, decodeCoo, encodeCoo, ownedIp, ownedMac, signCoo, verifyCoo } from '../../src/wire/credentials/coo.ts';
import { decodeRevocation, encodeRevocation, signRevocation, verifyRevocation } from '../../src/wire/credentials/revocation.ts';
import { decodeTag, encodeTag, signTag, tagSignedBytes, verifyTag } from '../../src/wire/credentials/tag.ts';
import { parseInetAddress, type IpAddress } from '../../src/wire/inet-address.ts';
import { ACCEPT_ALL_RULES } from '../../src/wire/rules.ts';
import { hexAfter, toHex } from '../support/vectors.ts';
import { A, B, capability, com, coo, mutated, plain, revocation, RUNS, tag } from './arbitraries.ts';

const NWID = 0x8e4df28b72000001n;
const TS = 1_700_000_000_000n;

describe('certificate of membership (07-network-config-controller.md §5.1, 10-test-vectors.md §7)', () => {
  const vector = hexAfter('COM for B (ts 1700000000000');

  it('a 1.14-style COM for B signed by A is byte-identical to the vector', () => {
    const signed = signCom(createCom(TS, 1_800_000n, NWID, B), A);
    expect(toHex(encodeCom(signed))).toBe(toHex(vector));
    expect(verifyCom(signed, A.publicOnly())).toBe(true);
    expect(verifyCom(signed, B)).toBe(false);
  });

  it('decodes the vector: qualifiers, signer, hash qualifiers from SHA-384(B)', () => {
    const d = decodeCom(vector);
    if (!d.ok) throw new Error(d.error);
    expect(d.length).toBe(272);
    const c = d.value;
    expect(c.qualifiers.length).toBe(7);
    expect(comTimestamp(c)).toBe(TS);
    expect(comNetworkId(c)).toBe(NWID);
    expect(comIssuedTo(c)).toBe(B.address);
    expect(c.signedBy).toBe(A.address);
    expect(comIsSignedByController(c)).toBe(true);
    expect(c.qualifiers[3].value).toBe(BigInt('0x' + toHex(B.publicKeyHash().subarray(0, 8))));
    expect(toHex(comSignedBytes(c))).toBe(toHex(vector.subarray(3, 3 + 7 * 24)));
    expect(verifyCom(c, A)).toBe(true);
    const tampered = Uint8Array.from(vector);
    tampered[20] ^= 1;
    const t = decodeCom(tampered);
    expect(t.ok && verifyCom(t.value, A)).toBe(false);
  });

  it('agreesWith: same network within maxDelta, and the hash qualifiers must match the real identity', () => {
    const mine = signCom(createCom(TS, 1_800_000n, NWID, A), A);
    const theirs = signCom(createCom(TS + 1_000_000n, 1_800_000n, NWID, B), A);
    expect(comAgreesWith(mine, theirs, B)).toBe(true);
    expect(comAgreesWith(mine, theirs, A)).toBe(false); // B's COM presented by someone else
    expect(comAgreesWith(mine, signCom(createCom(TS + 1_800_001n, 1_800_000n, NWID, B), A), B)).toBe(false);
    expect(comAgreesWith(mine, signCom(createCom(TS, 1_800_000n, NWID + 1n, B), A), B)).toBe(false);
    expect(comAgreesWith({ ...mine, qualifiers: [] }, theirs, B)).toBe(false);
  });

  it('unsigned COMs end after the zero signer address', () => {
    const unsigned = createCom(TS, 1n, NWID, B);
    const bytes = encodeCom(unsigned);
    expect(bytes.length).toBe(3 + 7 * 24 + 5);
    const d = decodeCom(bytes);
    expect(d.ok && d.value.signature).toBeUndefined();
  });

  it('rejects a wrong format byte, descending IDs and more than 8 qualifiers', () => {
    const bad = Uint8Array.from(vector);
    bad[0] = 2;
    expect(decodeCom(bad)).toEqual({ ok: false, error: 'bad-com-format' });
    const w = new ByteWriter();
    w.u8(1).u16(2).u64(5n).u64(0n).u64(0n).u64(4n).u64(0n).u64(0n).address(0);
    expect(decodeCom(w.finish())).toEqual({ ok: false, error: 'com-qualifiers-out-of-order' });
    const nine = new ByteWriter();
    nine.u8(1).u16(9);
    for (let i = 0; i < 9; i++) nine.u64(BigInt(i)).u64(0n).u64(0n);
    nine.address(0);
    expect(decodeCom(nine.finish())).toEqual({ ok: false, error: 'too-many-com-qualifiers' });
  });

  it('round-trips and never throws on mutated input', () => {
    fc.assert(fc.property(com, (c) => {
      const d = decodeCom(encodeCom(c));
      expect(d.ok).toBe(true);
      if (d.ok) expect(plain(d.value)).toEqual(plain(c));
    }), RUNS);
    fc.assert(fc.property(mutated(com.map(encodeCom)), (b) => {
      const d = decodeCom(b);
      if (d.ok) expect(d.length).toBeLessThanOrEqual(b.length);
      else expect(typeof d.error).toBe('string');
    }), RUNS);
  });
});

describe('tag (07-network-config-controller.md §5.3, 10-test-vectors.md §7)', () => {
  const vector = hexAfter('Tag (id 7, value 42');

  it('signing the vector fields with A reproduces the 135 bytes', () => {
    const t = signTag({ networkId: NWID, timestamp: TS, id: 7, value: 42, issuedTo: B.address }, A);
    expect(toHex(encodeTag(t))).toBe(toHex(vector));
    expect(verifyTag(t, A)).toBe(true);
    expect(verifyTag({ ...t, value: 43 }, A)).toBe(false);
    expect(toHex(tagSignedBytes(t).subarray(0, 8))).toBe('7f'.repeat(8));
  });

  it('decodes the vector', () => {
    const d = decodeTag(vector);
    if (!d.ok) throw new Error(d.error);
    expect(d.length).toBe(135);
    expect(d.value).toMatchObject({ networkId: NWID, timestamp: TS, id: 7, value: 42, issuedTo: B.address, signedBy: A.address });
    expect(verifyTag(d.value, A)).toBe(true);
  });

  it('a signature type other than 1 is skipped by its length; type 1 must be 96 bytes', () => {
    const w = new ByteWriter();
    w.u64(NWID).u64(TS).u32(1).u32(2).address(B.address).address(A.address).u8(0).u16(3).bytes(Uint8Array.of(1, 2, 3)).u16(0);
    const d = decodeTag(w.finish());
    expect(d.ok && d.value.signature).toBeUndefined();
    const bad = Uint8Array.from(vector);
    bad[35] = 0x5f; // signature length 0x005f
    expect(decodeTag(bad)).toEqual({ ok: false, error: 'bad-signature-length' });
  });

  it('round-trips and never throws on mutated input', () => {
    fc.assert(fc.property(tag, (t) => {
      const d = decodeTag(encodeTag(t));
      expect(d.ok && plain(d.value)).toEqual(plain(t));
    }), RUNS);
    fc.assert(fc.property(mutated(tag.map(encodeTag)), (b) => {
      const d = decodeTag(b);
      expect(typeof d.ok).toBe('boolean');
    }), RUNS);
  });
});

describe('revocation (07-network-config-controller.md §5.5, 10-test-vectors.md §7)', () => {
  const vector = hexAfter('Revocation (id 0x01020304');

  it('signing the vector fields with A reproduces the 152 bytes', () => {
    const v = signRevocation({
      id: 0x01020304, networkId: NWID, credentialId: 0, threshold: TS, flags: RevocationFlag.fastPropagate,
      target: B.address, credentialType: CredentialType.com,
    }, A);
    expect(toHex(encodeRevocation(v))).toBe(toHex(vector));
    expect(verifyRevocation(v, A)).toBe(true);
    expect(verifyRevocation({ ...v, threshold: TS + 1n }, A)).toBe(false);
  });

  it('decodes the vector', () => {
    const d = decodeRevocation(vector);
    if (!d.ok) throw new Error(d.error);
    expect(d.length).toBe(152);
    expect(d.value).toMatchObject({ id: 0x01020304, networkId: NWID, credentialId: 0, threshold: TS, flags: 1n, target: B.address, signedBy: A.address, credentialType: 1 });
  });

  it('round-trips and never throws on mutated input', () => {
    fc.assert(fc.property(revocation, (v) => {
      const d = decodeRevocation(encodeRevocation(v));
      expect(d.ok && plain(d.value)).toEqual(plain(v));
    }), RUNS);
    fc.assert(fc.property(mutated(revocation.map(encodeRevocation)), (b) => {
      expect(typeof decodeRevocation(b).ok).toBe('boolean');
    }), RUNS);
  });
});

describe('certificate of ownership (07-network-config-controller.md §5.4)', () => {
  it('the COO inside the §7 config dictionary: one IPv4 thing, signed by A', () => {
    const c = signCoo({
      networkId: NWID, timestamp: TS, flags: 0n, id: 1, things: [ownedIp(parseInetAddress('10.147.17.5/24') as IpAddress)],
      issuedTo: B.address,
    }, A);
    const bytes = encodeCoo(c);
    expect(bytes.length).toBe(8 + 8 + 8 + 4 + 2 + 17 + 5 + 5 + 3 + 96 + 2);
    expect(verifyCoo(c, A)).toBe(true);
    expect(verifyCoo({ ...c, id: 2 }, A)).toBe(false);
    expect(toHex(cooSignedBytes(c).subarray(-10))).toBe('0000' + '7f'.repeat(8));
    const d = decodeCoo(bytes);
    expect(d.ok && plain(d.value)).toEqual(plain(c));
    expect(toHex(ownedMac(0x02f2a36688e4).value)).toBe('02f2a36688e4' + '00'.repeat(10));
  });

  it('refuses more than 16 things', () => {
    const w = new ByteWriter();
    w.u64(NWID).u64(TS).u64(0n).u32(1).u16(17);
    for (let i = 0; i < 17; i++) w.u8(2).zeros(16);
    w.address(1).address(2).u8(1).u16(96).zeros(96).u16(0);
    expect(decodeCoo(w.finish())).toEqual({ ok: false, error: 'too-many-things' });
  });

  it('round-trips and never throws on mutated input', () => {
    fc.assert(fc.property(coo, (c) => {
      const d = decodeCoo(encodeCoo(c));
      expect(d.ok && plain(d.value)).toEqual(plain(c));
    }), RUNS);
    fc.assert(fc.property(mutated(coo.map(encodeCoo)), (b) => {
      expect(typeof decodeCoo(b).ok).toBe('boolean');
    }), RUNS);
  });
});

describe('capability (07-network-config-controller.md §5.2)', () => {
  const base: Capability = { networkId: NWID, timestamp: TS, id: 9, rules: ACCEPT_ALL_RULES, maxCustodyChainLength: 1, custody: [] };

  it('a 1.14 controller capability: one custody link controller -> member, verifiable', () => {
    const cap = addCustodyLink(base, A, B.address)!;
    expect(addCustodyLink(cap, B, 0x1234567890)).toBeNull(); // chain length 1 is full
    const bytes = encodeCapability(cap);
    // nwid ts id ruleCount | 01 00 | max 1 | to from 01 0060 sig | 00×5 | 0000
    expect(toHex(bytes.subarray(0, 38))).toBe('8e4df28b72000001' + '0000018bcfe56800' + '00000009' + '0001' + '0100' + '01' +
      'f2a3140316' + '8e4df28b72' + '01' + '0060');
    expect(toHex(bytes.subarray(-7))).toBe('0000000000' + '0000');
    expect(bytes.length).toBe(22 + 2 + 1 + 5 + 5 + 3 + 96 + 5 + 2);
    const d = decodeCapability(bytes);
    if (!d.ok) throw new Error(d.error);
    expect(plain(d.value)).toEqual(plain(cap));
    expect(verifyCustodyLink(d.value, 0, A)).toBe(true);
    expect(verifyCustodyLink({ ...d.value, id: 10 }, 0, A)).toBe(false);
  });

  it('rejects a chain length of 0 or 8, a chain longer than allowed, and more than 64 rules', () => {
    const good = encodeCapability(addCustodyLink(base, A, B.address)!);
    const maxAt = 22 + 2;
    for (const n of [0, 8]) {
      const bad = Uint8Array.from(good);
      bad[maxAt] = n;
      expect(decodeCapability(bad)).toEqual({ ok: false, error: 'bad-custody-chain' });
    }
    const twoLinks = encodeCapability({ ...base, maxCustodyChainLength: 2, custody: [
      { to: B.address, from: A.address, signature: new Uint8Array(96) }, { to: 5, from: B.address, signature: new Uint8Array(96) }] });
    const bad = Uint8Array.from(twoLinks);
    bad[maxAt] = 1;
    expect(decodeCapability(bad)).toEqual({ ok: false, error: 'bad-custody-chain' });
    const many = new ByteWriter().u64(NWID).u64(TS).u32(1).u16(65).finish();
    expect(decodeCapability(many)).toEqual({ ok: false, error: 'too-many-rules' });
  });

  it('round-trips and never throws on mutated input', () => {
    fc.assert(fc.property(capability, (c) => {
      const d = decodeCapability(encodeCapability(c));
      expect(d.ok && plain(d.value)).toEqual(plain(c));
    }), RUNS);
    fc.assert(fc.property(mutated(capability.map(encodeCapability)), (b) => {
      expect(typeof decodeCapability(b).ok).toBe('boolean');
    }), RUNS);
  });
});
