import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NetconfFlag, NetworkType } from '../../src/wire/constants.ts';
import { createCom, signCom } from '../../src/wire/credentials/com.ts';
import { ownedIp, signCoo } from '../../src/wire/credentials/coo.ts';
import { signTag } from '../../src/wire/credentials/tag.ts';
import { addCustodyLink } from '../../src/wire/credentials/capability.ts';
import { Dictionary, DictionaryWriter } from '../../src/wire/dictionary.ts';
import { formatInetAddress, NIL_ADDRESS, parseInetAddress, type IpAddress } from '../../src/wire/inet-address.ts';
import { rfc4193Address, sixPlaneAddress } from '../../src/wire/netconf/managed-addresses.ts';
import {
  decodeAuthInfo, decodeConfigRequestMetadata, encodeAuthInfo, encodeConfigRequestMetadata, standardConfigRequestMetadata,
} from '../../src/wire/netconf/metadata.ts';
import { decodeNetworkConfig, encodeNetworkConfig, type NetworkConfig } from '../../src/wire/netconf/network-config.ts';
import { ACCEPT_ALL_RULES } from '../../src/wire/rules.ts';
import { fencedAfter, hexAfter, toHex } from '../support/vectors.ts';
import { A, B, address, capability, coo, inetAddress, ipAddress, mutated, nonZeroAddress, plain, rule, tag, u16, u32, u64 } from './arbitraries.ts';

const NWID = 0x8e4df28b72000001n;
const TS = 1_700_000_000_000n;
const ip = (t: string): IpAddress => parseInetAddress(t)!;

/** The configuration described in docs/protocol/10-test-vectors.md §7. */
function vectorConfig(): NetworkConfig {
  return {
    networkId: NWID, timestamp: TS, credentialTimeMaxDelta: 1_800_000n, revision: 3n, issuedTo: B.address,
    remoteTraceTarget: 0, remoteTraceLevel: 0n, flags: NetconfFlag.enableBroadcast, multicastLimit: 32,
    type: NetworkType.private, name: 'testnet', mtu: 2800,
    com: signCom(createCom(TS, 1_800_000n, NWID, B), A),
    capabilities: [], tags: [],
    certificatesOfOwnership: [signCoo({ networkId: NWID, timestamp: TS, flags: 0n, id: 1, things: [ownedIp(ip('10.147.17.5/24'))], issuedTo: B.address }, A)],
    specialists: [],
    routes: [{ target: ip('10.147.17.0/24'), via: NIL_ADDRESS, flags: 0, metric: 0 }],
    staticIps: [ip('10.147.17.5/24')],
    rules: ACCEPT_ALL_RULES,
    dns: { domain: '', servers: [] },
    sso: { version: 0, enabled: false },
  };
}

describe('network config dictionary (07-network-config-controller.md §3, 10-test-vectors.md §7)', () => {
  const vector = hexAfter('Same dictionary, exact bytes (1130 bytes)');

  it('encodes the §7 config to the exact 1130 bytes of NetworkConfig::toDictionary', () => {
    const bytes = encodeNetworkConfig(vectorConfig());
    expect(bytes.length).toBe(1130);
    expect(toHex(bytes)).toBe(toHex(vector));
  });

  it('the rendering in the vector document shows the same text fields', () => {
    const rendering = fencedAfter('Rendering (LF shown as line breaks').split('\n').slice(0, 13).join('\n');
    expect(Buffer.from(vector.subarray(0, rendering.length)).toString('latin1')).toBe(rendering);
  });

  it('decodes the 1130 bytes back to the same config, credentials included', () => {
    const d = decodeNetworkConfig(vector);
    if (!d.ok) throw new Error(d.error);
    expect(plain(d.value)).toEqual(plain(vectorConfig()));
    expect(formatInetAddress(d.value.staticIps[0])).toBe('10.147.17.5/24');
  });

  it('applies fromDictionary defaults and clamps', () => {
    const d = decodeNetworkConfig(new DictionaryWriter().add('v', 7n).add('nwid', NWID).add('id', 'f2a3140316').add('mtu', 5n).bytes());
    if (!d.ok) throw new Error(d.error);
    expect(d.value).toMatchObject({ mtu: 1280, type: 0, multicastLimit: 0, name: '', com: undefined, rules: [] });
    const big = decodeNetworkConfig(new DictionaryWriter().add('v', 7n).add('nwid', NWID).add('id', 'f2a3140316').add('mtu', 99999n).bytes());
    expect(big.ok && big.value.mtu).toBe(10000);
    const noMtu = decodeNetworkConfig(new DictionaryWriter().add('v', 7n).add('nwid', NWID).add('id', 'f2a3140316').bytes());
    expect(noMtu.ok && noMtu.value.mtu).toBe(2800);
  });

  it('rejects what a 1.14 member rejects', () => {
    const base = (): DictionaryWriter => new DictionaryWriter().add('v', 7n);
    expect(decodeNetworkConfig(base().add('id', 'f2a3140316').bytes())).toEqual({ ok: false, error: 'netconf-missing-network-id' });
    expect(decodeNetworkConfig(base().add('nwid', NWID).bytes())).toEqual({ ok: false, error: 'netconf-missing-issued-to' });
    expect(decodeNetworkConfig(new DictionaryWriter().add('v', 5n).add('nwid', NWID).add('id', 'f2a3140316').bytes()))
      .toEqual({ ok: false, error: 'netconf-version-too-old' });
    const badCom = base().add('nwid', NWID).add('id', 'f2a3140316').add('C', Uint8Array.of(2, 0, 0)).bytes();
    expect(decodeNetworkConfig(badCom)).toEqual({ ok: false, error: 'bad-com-format' });
    const shortDns = base().add('nwid', NWID).add('id', 'f2a3140316').add('DNS', new Uint8Array(128)).bytes();
    expect(decodeNetworkConfig(shortDns)).toEqual({ ok: false, error: 'too-short' });
  });

  it('keeps capabilities and tags that parsed before a bad one, sorted by ID', () => {
    const cap = (id: number) => addCustodyLink({ networkId: NWID, timestamp: TS, id, rules: ACCEPT_ALL_RULES, maxCustodyChainLength: 1, custody: [] }, A, B.address)!;
    const tag = (id: number) => signTag({ networkId: NWID, timestamp: TS, id, value: id * 2, issuedTo: B.address }, A);
    const config: NetworkConfig = { ...vectorConfig(), capabilities: [cap(5), cap(2)], tags: [tag(9), tag(1)], specialists: [0x0000_0200_0000_0000n | 0x1122334455n] };
    const d = decodeNetworkConfig(encodeNetworkConfig(config));
    if (!d.ok) throw new Error(d.error);
    expect(d.value.capabilities.map((c) => c.id)).toEqual([2, 5]);
    expect(d.value.tags.map((t) => t.id)).toEqual([1, 9]);
    expect(d.value.specialists).toEqual([0x0000_0211_2233_4455n]);
  });

  it('SSO fields for versions 0 and 1', () => {
    const v0 = decodeNetworkConfig(encodeNetworkConfig({ ...vectorConfig(), sso: { version: 0, enabled: true, authenticationUrl: 'https://x/', authenticationExpiryTime: 5n } }));
    expect(v0.ok && v0.value.sso).toEqual({ version: 0, enabled: true, authenticationUrl: 'https://x/', authenticationExpiryTime: 5n });
    const v1sso = { version: 1 as const, enabled: true, issuerUrl: 'i', centralEndpointUrl: 'c', nonce: 'n', state: 's', clientId: 'id', provider: '' };
    const v1 = decodeNetworkConfig(encodeNetworkConfig({ ...vectorConfig(), sso: v1sso }));
    expect(v1.ok && v1.value.sso).toEqual({ ...v1sso, provider: 'default' });
  });

  it('round-trips any config 1.14 can represent', () => {
    const byId = <T extends { id: number }>(xs: T[]): T[] => [...new Map(xs.map((x) => [x.id, x])).values()].sort((a, b) => a.id - b.id);
    const config: fc.Arbitrary<NetworkConfig> = fc.record({
      networkId: u64.filter((n) => n !== 0n), timestamp: u64, credentialTimeMaxDelta: u64, revision: u64, issuedTo: nonZeroAddress,
      remoteTraceTarget: address, remoteTraceLevel: u64, flags: u64, multicastLimit: u32, type: u32,
      name: fc.string({ maxLength: 40 }).filter((n) => !n.includes('\0')), mtu: fc.integer({ min: 1280, max: 10000 }),
      com: fc.option(fc.constant(vectorConfig().com), { nil: undefined }),
      capabilities: fc.array(capability, { maxLength: 3 }).map(byId), tags: fc.array(tag, { maxLength: 4 }).map(byId),
      certificatesOfOwnership: fc.array(coo, { maxLength: 4 }), specialists: fc.array(u64, { maxLength: 4 }),
      routes: fc.array(fc.record({ target: inetAddress, via: inetAddress, flags: u16, metric: u16 }), { maxLength: 4 }),
      staticIps: fc.array(inetAddress, { maxLength: 4 }), rules: fc.array(rule, { maxLength: 10 }),
      dns: fc.record({ domain: fc.stringMatching(/^[a-z.]{0,40}$/), servers: fc.array(ipAddress, { maxLength: 4 }) }),
      sso: fc.constant({ version: 0 as const, enabled: false }),
    });
    fc.assert(fc.property(config, (c) => {
      const d = decodeNetworkConfig(encodeNetworkConfig(c));
      expect(d.ok && plain(d.value)).toEqual(plain(c));
    }), { numRuns: 100 });
  });

  it('never throws on mutated dictionaries', () => {
    fc.assert(fc.property(mutated(fc.constant(vector)), (b) => {
      expect(typeof decodeNetworkConfig(b).ok).toBe('boolean');
    }), { numRuns: 200 });
  });
});

describe('NETWORK_CONFIG_REQUEST metadata (07-network-config-controller.md §2, 10-test-vectors.md §7)', () => {
  const vector = hexAfter('Same, exact bytes (263 bytes)');

  it('1.14.1 on linux/x86_64: exact 263 bytes', () => {
    const m = standardConfigRequestMetadata({ protocolVersion: 12, majorVersion: 1, minorVersion: 14, revision: 1, osArch: 'linux/x86_64' });
    expect(toHex(encodeConfigRequestMetadata(m))).toBe(toHex(vector));
    expect(Buffer.from(vector).toString('latin1')).toBe(fencedAfter('NETWORK_CONFIG_REQUEST metadata dictionary as built by 1.14.1').trimEnd());
    expect(decodeConfigRequestMetadata(vector)).toEqual(m);
  });

  it('the join token key `a` and the 1024-byte capacity', () => {
    const m = standardConfigRequestMetadata({ protocolVersion: 11, majorVersion: 0, minorVersion: 1, revision: 0, osArch: 'x', auth: 'token:abc' });
    expect(decodeConfigRequestMetadata(encodeConfigRequestMetadata(m)).auth).toBe('token:abc');
    const long = new DictionaryWriter().add('o', 'x'.repeat(1100)).add('v', 7n).bytes();
    const d = decodeConfigRequestMetadata(long);
    expect(d.osArch.length).toBe(1021);
    expect(d.version).toBe(0n);
  });
});

describe('auth info of ERROR(NETWORK_AUTHENTICATION_REQUIRED) (07-network-config-controller.md §8)', () => {
  it('round-trips versions 0 and 1', () => {
    const v0 = encodeAuthInfo({ version: 0, authenticationUrl: 'https://sso/' });
    expect(Buffer.from(v0).toString()).toBe('aV=0000000000000000\naU=https://sso/');
    expect(decodeAuthInfo(v0)).toEqual({ version: 0, authenticationUrl: 'https://sso/' });
    const v1 = { version: 1 as const, issuerUrl: 'i', centralEndpointUrl: 'c', nonce: 'n', state: 's', clientId: 'id', provider: 'p' };
    expect(decodeAuthInfo(encodeAuthInfo(v1))).toEqual(v1);
    expect(decodeAuthInfo(new DictionaryWriter().add('aV', 2n).bytes())).toBeUndefined();
    expect(new Dictionary(encodeAuthInfo({ ...v1, provider: undefined })).has('aSSOp')).toBe(false);
  });
});

describe('managed IPv6 addresses (07-network-config-controller.md §9, 10-test-vectors.md §7)', () => {
  it('RFC4193 and 6PLANE for B on 8e4df28b72000001', () => {
    expect(formatInetAddress(rfc4193Address(NWID, B.address))).toBe('fd8e:4df2:8b72:0:199:93f2:a314:316/88');
    expect(formatInetAddress(sixPlaneAddress(NWID, B.address))).toBe('fcfc:4df2:8af2:a314:316::1/40');
  });
});

