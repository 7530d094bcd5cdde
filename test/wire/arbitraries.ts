// fast-check generators for wire values, and the fixed identities A and B of 10-test-vectors.md §1.

import fc from 'fast-check';
import { Identity, parseIdentity } from '../../src/identity/identity.ts';
import type { CertificateOfMembership } from '../../src/wire/credentials/com.ts';
import type { Capability } from '../../src/wire/credentials/capability.ts';
import type { CertificateOfOwnership } from '../../src/wire/credentials/coo.ts';
import type { Revocation } from '../../src/wire/credentials/revocation.ts';
import type { Tag } from '../../src/wire/credentials/tag.ts';
import type { InetAddress, IpAddress } from '../../src/wire/inet-address.ts';
import type { MulticastGroup } from '../../src/wire/mac.ts';
import { RuleType, type Rule } from '../../src/wire/rules.ts';
import { fencedAfter } from '../support/vectors.ts';

function parse(text: string): Identity {
  const id = parseIdentity(text);
  if (!id) throw new Error(`identity did not parse: ${text}`);
  return id;
}
/** Identity A (secret) = 8e4df28b72, identity B (secret) = f2a3140316. */
export const A = parse(fencedAfter('Identity A (secret form').trim());
export const B = parse(fencedAfter('Identity B (secret form').trim());

/** Property runs per codec: enough to hit the odd corners, fast enough for the suite. */
export const RUNS = { numRuns: 300 } as const;

export const u8 = fc.integer({ min: 0, max: 0xff });
export const u16 = fc.integer({ min: 0, max: 0xffff });
export const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
export const u64 = fc.bigInt({ min: 0n, max: 0xffff_ffff_ffff_ffffn });
export const address = fc.integer({ min: 0, max: 0xff_ffff_ffff });
export const nonZeroAddress = fc.integer({ min: 1, max: 0xff_ffff_ffff });
export const mac48 = fc.integer({ min: 0, max: 0xffff_ffff_ffff });
export const bytes = (maxLength = 64): fc.Arbitrary<Uint8Array> => fc.uint8Array({ maxLength });
export const fixedBytes = (n: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: n, maxLength: n });
export const signature = fixedBytes(96);

export const ipAddress: fc.Arbitrary<IpAddress> = fc.oneof(
  fc.record({ family: fc.constant(4 as const), ip: fixedBytes(4), port: u16 }),
  fc.record({ family: fc.constant(6 as const), ip: fixedBytes(16), port: u16 }),
);
export const inetAddress: fc.Arbitrary<InetAddress> = fc.oneof(fc.constant({ family: 0 as const }), ipAddress);

export const multicastGroup: fc.Arbitrary<MulticastGroup> = fc.record({ mac: mac48, adi: u32 });

/** A public identity with random key bytes (decoders do not validate the proof of work). */
export const publicIdentity: fc.Arbitrary<Identity> = fc.tuple(address, fixedBytes(64)).map(([a, k]) => new Identity(a, k));

const flagPair = { not: fc.boolean(), or: fc.boolean() };
export const rule: fc.Arbitrary<Rule> = fc.oneof(
  fc.record({ type: fc.constantFrom('ACTION_DROP', 'ACTION_ACCEPT', 'ACTION_BREAK', 'ACTION_PRIORITY'), ...flagPair }),
  fc.record({ type: fc.constantFrom('ACTION_TEE', 'ACTION_WATCH', 'ACTION_REDIRECT'), address: u64, flags: u32, length: u16, ...flagPair }),
  fc.record({ type: fc.constantFrom('MATCH_SOURCE_ZEROTIER_ADDRESS', 'MATCH_DEST_ZEROTIER_ADDRESS'), zt: address, ...flagPair }),
  fc.record({ type: fc.constant('MATCH_VLAN_ID'), vlanId: u16, ...flagPair }),
  fc.record({ type: fc.constant('MATCH_VLAN_PCP'), vlanPcp: u8, ...flagPair }),
  fc.record({ type: fc.constant('MATCH_VLAN_DEI'), vlanDei: u8, ...flagPair }),
  fc.record({ type: fc.constantFrom('MATCH_MAC_SOURCE', 'MATCH_MAC_DEST'), mac: mac48, ...flagPair }),
  fc.record({ type: fc.constantFrom('MATCH_IPV4_SOURCE', 'MATCH_IPV4_DEST'), ip: fixedBytes(4), mask: u8, ...flagPair }),
  fc.record({ type: fc.constantFrom('MATCH_IPV6_SOURCE', 'MATCH_IPV6_DEST'), ip: fixedBytes(16), mask: u8, ...flagPair }),
  fc.record({ type: fc.constant('MATCH_IP_TOS'), mask: u8, start: u8, end: u8, ...flagPair }),
  fc.record({ type: fc.constant('MATCH_IP_PROTOCOL'), ipProtocol: u8, ...flagPair }),
  fc.record({ type: fc.constant('MATCH_ETHERTYPE'), etherType: u16, ...flagPair }),
  fc.record({ type: fc.constant('MATCH_ICMP'), icmpType: u8, icmpCode: u8, flags: u8, ...flagPair }),
  fc.record({ type: fc.constantFrom('MATCH_IP_SOURCE_PORT_RANGE', 'MATCH_IP_DEST_PORT_RANGE', 'MATCH_FRAME_SIZE_RANGE'), start: u16, end: u16, ...flagPair }),
  fc.record({ type: fc.constant('MATCH_CHARACTERISTICS'), mask: u64, ...flagPair }),
  fc.record({ type: fc.constant('MATCH_RANDOM'), probability: u32, ...flagPair }),
  fc.record({
    type: fc.constantFrom('MATCH_TAGS_DIFFERENCE', 'MATCH_TAGS_BITWISE_AND', 'MATCH_TAGS_BITWISE_OR', 'MATCH_TAGS_BITWISE_XOR',
      'MATCH_TAGS_EQUAL', 'MATCH_TAG_SENDER', 'MATCH_TAG_RECEIVER'),
    id: u32, value: u32, ...flagPair,
  }),
  fc.record({ type: fc.constant('MATCH_INTEGER_RANGE'), start: u64, end: u64, idx: u16, format: u8, ...flagPair }),
  fc.record({
    type: fc.constant('UNKNOWN'),
    code: fc.integer({ min: 0, max: 63 }).filter((c) => !Object.values(RuleType).includes(c as never)),
    ...flagPair,
  }),
) as fc.Arbitrary<Rule>;

export const com: fc.Arbitrary<CertificateOfMembership> = fc.tuple(
  fc.array(fc.record({ id: u64, value: u64, maxDelta: u64 }), { maxLength: 8 }),
  address,
  signature,
).map(([qs, signedBy, sig]) => ({
  qualifiers: [...qs].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
  signedBy,
  signature: signedBy === 0 ? undefined : sig,
}));

export const tag: fc.Arbitrary<Tag> = fc.record({
  networkId: u64, timestamp: u64, id: u32, value: u32, issuedTo: address, signedBy: address, signature,
});

export const revocation: fc.Arbitrary<Revocation> = fc.record({
  id: u32, networkId: u64, credentialId: u32, threshold: u64, flags: u64, target: address, signedBy: address,
  credentialType: u8, signature,
});

export const coo: fc.Arbitrary<CertificateOfOwnership> = fc.record({
  networkId: u64, timestamp: u64, flags: u64, id: u32,
  things: fc.array(fc.record({ type: u8, value: fixedBytes(16) }), { maxLength: 16 }),
  issuedTo: address, signedBy: address, signature,
});

export const capability: fc.Arbitrary<Capability> = fc.integer({ min: 1, max: 7 }).chain((maxCustodyChainLength) => fc.record({
  networkId: u64, timestamp: u64, id: u32,
  rules: fc.array(rule, { maxLength: 64 }),
  maxCustodyChainLength: fc.constant(maxCustodyChainLength),
  custody: fc.array(fc.record({ to: nonZeroAddress, from: address, signature }), { maxLength: maxCustodyChainLength }),
}));

/** Random bytes, and valid encodings with bytes flipped, cut or appended. */
export function mutated(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc.uint8Array({ maxLength: 600 }),
    fc.tuple(valid, fc.array(fc.tuple(fc.nat(), u8), { maxLength: 4 })).map(([b, flips]) => {
      const out = Uint8Array.from(b);
      for (const [at, v] of flips) if (out.length > 0) out[at % out.length] = v;
      return out;
    }),
    fc.tuple(valid, fc.nat()).map(([b, cut]) => b.subarray(0, b.length === 0 ? 0 : cut % b.length)),
    fc.tuple(valid, bytes(16)).map(([b, extra]) => Uint8Array.from([...b, ...extra])),
  );
}

/** Normalize for deep equality: typed arrays to hex strings, identities to their text. */
export function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  if (v instanceof Identity) return v.toString();
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = plain(x);
    return out;
  }
  return v;
}
