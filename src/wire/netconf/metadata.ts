// The small dictionaries around config requests: the metadata a member sends with
// NETWORK_CONFIG_REQUEST (docs/protocol/07-network-config-controller.md §2) and the auth-info dictionary of
// ERROR(NETWORK_AUTHENTICATION_REQUIRED) (docs/protocol/07-network-config-controller.md §8).

import {
  AUTH_INFO_DICT_CAPACITY, AuthInfoKey, MAX_CAPABILITY_RULES, MAX_NETWORK_CAPABILITIES, MAX_NETWORK_RULES, MAX_NETWORK_TAGS,
  MetadataKey, NETWORKCONFIG_METADATA_DICT_CAPACITY, NETWORKCONFIG_VERSION, RULES_ENGINE_REVISION, VENDOR_ZEROTIER,
} from '../constants.ts';
import { Dictionary, DictionaryWriter } from '../dictionary.ts';

export interface ConfigRequestMetadata {
  /** Network-config format version the member understands (7). */
  readonly version: bigint;
  readonly vendor: bigint;
  readonly protocolVersion: bigint;
  readonly majorVersion: bigint;
  readonly minorVersion: bigint;
  readonly revision: bigint;
  readonly maxNetworkRules: bigint;
  readonly maxCapabilities: bigint;
  readonly maxCapabilityRules: bigint;
  readonly maxTags: bigint;
  readonly flags: bigint;
  readonly rulesEngineRevision: bigint;
  /** Platform/arch, e.g. "linux/x86_64". */
  readonly osArch: string;
  /** Join authorization, "token:<token>"; 1.14 does not send it by default. */
  readonly auth?: string;
}

/**
 * The metadata 1.14 sends, for a node of the given versions and platform
 * (docs/protocol/07-network-config-controller.md §2).
 */
export function standardConfigRequestMetadata(v: {
  protocolVersion: number; majorVersion: number; minorVersion: number; revision: number; osArch: string; auth?: string;
}): ConfigRequestMetadata {
  return {
    version: BigInt(NETWORKCONFIG_VERSION),
    vendor: BigInt(VENDOR_ZEROTIER),
    protocolVersion: BigInt(v.protocolVersion),
    majorVersion: BigInt(v.majorVersion),
    minorVersion: BigInt(v.minorVersion),
    revision: BigInt(v.revision),
    maxNetworkRules: BigInt(MAX_NETWORK_RULES),
    maxCapabilities: BigInt(MAX_NETWORK_CAPABILITIES),
    maxCapabilityRules: BigInt(MAX_CAPABILITY_RULES),
    maxTags: BigInt(MAX_NETWORK_TAGS),
    flags: 0n,
    rulesEngineRevision: BigInt(RULES_ENGINE_REVISION),
    osArch: v.osArch,
    ...(v.auth !== undefined ? { auth: v.auth } : {}),
  };
}

/** Keys in the order Network::requestConfiguration writes them; `a` (not written by 1.14) last. */
export function encodeConfigRequestMetadata(m: ConfigRequestMetadata): Uint8Array {
  const d = new DictionaryWriter()
    .add(MetadataKey.version, m.version)
    .add(MetadataKey.vendor, m.vendor)
    .add(MetadataKey.protocolVersion, m.protocolVersion)
    .add(MetadataKey.majorVersion, m.majorVersion)
    .add(MetadataKey.minorVersion, m.minorVersion)
    .add(MetadataKey.revision, m.revision)
    .add(MetadataKey.maxNetworkRules, m.maxNetworkRules)
    .add(MetadataKey.maxCapabilities, m.maxCapabilities)
    .add(MetadataKey.maxCapabilityRules, m.maxCapabilityRules)
    .add(MetadataKey.maxTags, m.maxTags)
    .add(MetadataKey.flags, m.flags)
    .add(MetadataKey.rulesEngineRevision, m.rulesEngineRevision)
    .add(MetadataKey.osArch, m.osArch);
  if (m.auth !== undefined) d.add(MetadataKey.auth, m.auth);
  return d.bytes();
}

/**
 * Read request metadata as a 1.14 controller holds it (a 1024-byte dictionary, so anything past
 * 1023 bytes is ignored). Missing integers read as 0 (getUI's default), a missing platform as "".
 */
export function decodeConfigRequestMetadata(bytes: Uint8Array): ConfigRequestMetadata {
  const d = new Dictionary(bytes, NETWORKCONFIG_METADATA_DICT_CAPACITY);
  const u = (key: string): bigint => d.getU64(key) ?? 0n;
  const auth = d.getString(MetadataKey.auth);
  return {
    version: u(MetadataKey.version),
    vendor: u(MetadataKey.vendor),
    protocolVersion: u(MetadataKey.protocolVersion),
    majorVersion: u(MetadataKey.majorVersion),
    minorVersion: u(MetadataKey.minorVersion),
    revision: u(MetadataKey.revision),
    maxNetworkRules: u(MetadataKey.maxNetworkRules),
    maxCapabilities: u(MetadataKey.maxCapabilities),
    maxCapabilityRules: u(MetadataKey.maxCapabilityRules),
    maxTags: u(MetadataKey.maxTags),
    flags: u(MetadataKey.flags),
    rulesEngineRevision: u(MetadataKey.rulesEngineRevision),
    osArch: d.getString(MetadataKey.osArch) ?? '',
    ...(auth !== undefined ? { auth } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Auth info of ERROR(NETWORK_AUTHENTICATION_REQUIRED) (docs/protocol/07-network-config-controller.md §8)
// ---------------------------------------------------------------------------------------------

export type AuthInfo =
  | { readonly version: 0; readonly authenticationUrl?: string }
  | {
    readonly version: 1; readonly issuerUrl: string; readonly centralEndpointUrl: string; readonly nonce: string;
    readonly state: string; readonly clientId: string; readonly provider?: string;
  };

export function encodeAuthInfo(a: AuthInfo): Uint8Array {
  const d = new DictionaryWriter().add(AuthInfoKey.version, BigInt(a.version));
  if (a.version === 0) {
    if (a.authenticationUrl !== undefined) d.add(AuthInfoKey.authenticationUrl, a.authenticationUrl);
  } else {
    d.add(AuthInfoKey.issuerUrl, a.issuerUrl)
      .add(AuthInfoKey.centralEndpointUrl, a.centralEndpointUrl)
      .add(AuthInfoKey.nonce, a.nonce)
      .add(AuthInfoKey.state, a.state)
      .add(AuthInfoKey.clientId, a.clientId);
    if (a.provider !== undefined) d.add(AuthInfoKey.ssoProvider, a.provider);
  }
  return d.bytes();
}

/** As _doERROR reads it; unknown versions give undefined. A missing provider reads as "default". */
export function decodeAuthInfo(bytes: Uint8Array): AuthInfo | undefined {
  const d = new Dictionary(bytes, AUTH_INFO_DICT_CAPACITY);
  const version = d.getU64(AuthInfoKey.version) ?? 0n;
  const s = (key: string): string => d.getString(key) ?? '';
  if (version === 0n) {
    const url = d.getString(AuthInfoKey.authenticationUrl);
    return url ? { version: 0, authenticationUrl: url } : { version: 0 };
  }
  if (version === 1n) {
    return {
      version: 1, issuerUrl: s(AuthInfoKey.issuerUrl), centralEndpointUrl: s(AuthInfoKey.centralEndpointUrl),
      nonce: s(AuthInfoKey.nonce), state: s(AuthInfoKey.state), clientId: s(AuthInfoKey.clientId),
      provider: s(AuthInfoKey.ssoProvider) || 'default',
    };
  }
  return undefined;
}
