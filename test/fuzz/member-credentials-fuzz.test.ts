// The member's side of NETWORK_CREDENTIALS and the rules engine under hostile input: a member of
// the network (authenticated, so past every MAC check) sends 20k mutated credential pushes —
// bit flips, truncations, inflated counts, random bytes, grafted onto a valid push of tags,
// capabilities, COOs and revocations — and 20k random frames meet random rule sets with random
// remote credentials. Nothing may throw, every refused credential is counted, and what is kept
// per member stays within 1.14's per-member limits.

import { describe, expect, it } from 'vitest';
import { NetworkMember } from '../../src/leaf/network-member.ts';
import { RemoteCredentials } from '../../src/leaf/remote-credentials.ts';
import { filterFrame } from '../../src/leaf/rules-filter.ts';
import { MAX_CERTIFICATES_OF_OWNERSHIP, MAX_NETWORK_CAPABILITIES, MAX_NETWORK_TAGS } from '../../src/wire/constants.ts';
import { addCustodyLink } from '../../src/wire/credentials/capability.ts';
import { ownedMac, signCoo } from '../../src/wire/credentials/coo.ts';
import { signRevocation } from '../../src/wire/credentials/revocation.ts';
import { signTag } from '../../src/wire/credentials/tag.ts';
import type { NetworkConfig } from '../../src/wire/netconf/network-config.ts';
import { RuleType, type Rule } from '../../src/wire/rules.ts';
import { encodeNetworkCredentials } from '../../src/wire/verbs/network-credentials.ts';
import { Rng } from '../../tools/fuzz/rng.ts';
import { captureExchange } from '../controller/capture-exchange.ts';
import { FakeLeaf } from '../leaf/fake-leaf.ts';

const x = captureExchange();
const [idA, idB] = [...x.members.values()];
const controller = x.controller;
const NWID = (BigInt(controller.address) << 24n) | 0xf00dn;
const T0 = 1_800_000_000_000n;
const ROUNDS = 20_000;

function validPush(): Uint8Array {
  const tags = Array.from({ length: 4 }, (_, i) => signTag({ networkId: NWID, timestamp: T0, id: i, value: i, issuedTo: idA.address }, controller));
  const cap = addCustodyLink({ networkId: NWID, timestamp: T0, id: 1, rules: [{ type: 'ACTION_ACCEPT', not: false, or: false }], maxCustodyChainLength: 2, custody: [] }, controller, idA.address)!;
  const coo = signCoo({ networkId: NWID, timestamp: T0, flags: 0n, id: 1, things: [ownedMac(0x02_0000_0000_01)], issuedTo: idA.address }, controller);
  const rev = signRevocation({ id: 1, networkId: NWID, credentialId: 3, threshold: T0 - 1n, flags: 1n, target: idA.address, credentialType: 3 }, controller);
  return encodeNetworkCredentials({ tags, capabilities: [cap], certificatesOfOwnership: [coo], revocations: [rev] });
}

function mutate(rng: Rng, base: Uint8Array): Uint8Array {
  const b = Uint8Array.from(base);
  switch (rng.int(5)) {
    case 0: for (let i = 0, n = 1 + rng.int(8); i < n; i++) b[rng.int(b.length)] ^= 1 << rng.int(8); return b;
    case 1: return b.subarray(0, rng.int(b.length));
    case 2: { // an inflated section count
      const at = rng.int(b.length - 1);
      b[at] = 0xff;
      b[at + 1] = rng.int(256);
      return b;
    }
    case 3: return Uint8Array.from({ length: rng.int(600) }, () => rng.int(256));
    default: return Uint8Array.from([...b.subarray(0, rng.int(b.length)), ...Array.from({ length: rng.int(64) }, () => rng.int(256))]);
  }
}

describe('member credentials under hostile input', () => {
  it(`${ROUNDS} mutated NETWORK_CREDENTIALS from a member: no throw, refusals counted, per-member limits held`, () => {
    const rng = new Rng(0x1c);
    const leaf = new FakeLeaf(idB, [controller, idA]);
    const member = new NetworkMember(leaf.asLeaf);
    const n = member.join(NWID);
    n.config = { networkId: NWID, timestamp: T0, credentialTimeMaxDelta: 7_200_000n, issuedTo: idB.address, type: 1, rules: [], capabilities: [], tags: [], certificatesOfOwnership: [] } as unknown as NetworkConfig;
    const base = validPush();
    try {
      for (let i = 0; i < ROUNDS; i++) leaf.push(rng.int(2) ? idA : controller, mutate(rng, base));
      leaf.push(idA, base);
    } finally {
      member.close();
    }
    const kept = member.remoteOf(n, idA.address);
    expect(kept.tag.size).toBeGreaterThan(0); // the valid push still lands after all that
    for (const m of n.remote.values()) {
      expect(m.tag.size).toBeLessThanOrEqual(MAX_NETWORK_TAGS);
      expect(m.capability.size).toBeLessThanOrEqual(MAX_NETWORK_CAPABILITIES);
      expect(m.coo.size).toBeLessThanOrEqual(MAX_CERTIFICATES_OF_OWNERSHIP);
    }
    const refused = member.rejected.tag + member.rejected.capability + member.rejected.coo + member.rejected.revocation;
    expect(refused).toBeGreaterThan(100);
    console.log('refused', member.rejected, 'members remembered', n.remote.size);
  }, 120_000);

  it(`${ROUNDS} random frames against random rule sets and remote credentials: no throw, a verdict each time`, () => {
    const rng = new Rng(0x1d);
    const types = Object.keys(RuleType);
    const randomRule = (): Rule => {
      const type = types[rng.int(types.length)];
      const n = () => rng.int(2 ** 32);
      return {
        type, not: rng.int(4) === 0, or: rng.int(4) === 0, address: BigInt(rng.int(3) === 0 ? idB.address : n()), flags: 0, length: rng.int(64),
        zt: rng.int(3) === 0 ? idA.address : n(), mac: n(), ip: Uint8Array.from({ length: 16 }, () => rng.int(256)), mask: type === 'MATCH_CHARACTERISTICS' ? BigInt(n()) << BigInt(rng.int(33)) : rng.int(129),
        id: rng.int(4), value: rng.int(8), start: rng.int(1000), end: rng.int(70000), ipProtocol: rng.int(256), etherType: rng.int(3) ? 0x0800 : 0x86dd,
        icmpType: rng.int(256), icmpCode: rng.int(256), probability: n(), idx: rng.int(64), format: rng.int(256), vlanId: 0, vlanPcp: 0, vlanDei: 0,
      } as unknown as Rule;
    };
    const tag = (id: number, value: number, to: number) => signTag({ networkId: NWID, timestamp: T0, id, value, issuedTo: to }, controller);
    const tags = [0, 1, 2, 3].map((i) => tag(i, i, idB.address));
    const remoteTags = [0, 1, 2, 3].map((i) => tag(i, i + 1, idA.address));
    const verdicts = [0, 0, 0];
    for (let i = 0; i < ROUNDS; i++) {
      const rules = Array.from({ length: rng.int(12) }, randomRule);
      const remote = new RemoteCredentials();
      for (const t of remoteTags) if (rng.int(2)) remote.add('tag', t, () => true);
      if (rng.int(4) === 0) remote.add('capability', { networkId: NWID, timestamp: T0, id: 9, rules: Array.from({ length: rng.int(6) }, randomRule), maxCustodyChainLength: 1, custody: [] }, () => true);
      const config = { rules, capabilities: [], tags: tags.filter(() => rng.int(2)), certificatesOfOwnership: [], flags: BigInt(rng.int(16)), staticIps: [], networkId: NWID, issuedTo: idB.address, timestamp: T0, credentialTimeMaxDelta: 60_000n } as unknown as NetworkConfig;
      const inbound = rng.int(2) === 1;
      const data = Uint8Array.from({ length: rng.int(100) }, () => rng.int(256));
      if (data.length > 0 && rng.int(2)) data[0] = 0x45;
      const v = filterFrame(config, idB.address, {
        inbound, ztSource: inbound ? idA.address : idB.address, ztDest: inbound ? idB.address : rng.int(4) ? idA.address : 0,
        macSource: rng.int(2 ** 32) * 0x10000, macDest: rng.int(3) === 0 ? 0xffff_ffff_ffff : rng.int(2 ** 32), etherType: [0x0800, 0x86dd, 0x0806, rng.int(65536)][rng.int(4)], data,
      }, remote);
      verdicts[v.accept]++;
      for (const c of v.copies) expect(c.length).toBeLessThanOrEqual(data.length);
    }
    expect(verdicts[0] + verdicts[1] + verdicts[2]).toBe(ROUNDS);
    expect(verdicts[0]).toBeGreaterThan(0);
    expect(verdicts[1]).toBeGreaterThan(0);
  }, 120_000);
});
