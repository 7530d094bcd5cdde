// The network configuration dictionary a controller sends a member (07-network-config-controller.md
// §3): encodeNetworkConfig writes it as NetworkConfig::toDictionary does (same keys, order and
// encodings, so a 1.14 controller's bytes are reproduced exactly), decodeNetworkConfig reads it
// as NetworkConfig::fromDictionary does.

import type { Address } from '../../identity/address.ts';
import { ByteReader, ByteWriter } from '../byte-cursor.ts';
import {
  DEFAULT_VIRTUAL_MTU, DNS_DOMAIN_LENGTH, MAX_CERTIFICATES_OF_OWNERSHIP, MAX_DNS_SERVERS, MAX_NETWORK_CAPABILITIES,
  MAX_NETWORK_ROUTES, MAX_NETWORK_RULES, MAX_NETWORK_SPECIALISTS, MAX_NETWORK_TAGS, MAX_VIRTUAL_MTU, MAX_ZT_ASSIGNED_ADDRESSES,
  MIN_VIRTUAL_MTU, NETWORK_NAME_BUFFER_LENGTH, NETWORKCONFIG_DICT_CAPACITY, NETWORKCONFIG_MIN_VERSION, NETWORKCONFIG_VERSION,
  NetconfKey, NetworkType,
} from '../constants.ts';
import type { Decoded, DecodeError } from '../decode-result.ts';
import { readCapability, writeCapability, type Capability } from '../credentials/capability.ts';
import { readCom, writeCom, type CertificateOfMembership } from '../credentials/com.ts';
import { readCoo, writeCoo, type CertificateOfOwnership } from '../credentials/coo.ts';
import { readTag, writeTag, type Tag } from '../credentials/tag.ts';
import { Dictionary, DictionaryWriter } from '../dictionary.ts';
import { NIL_ADDRESS, readInetAddress, writeInetAddress, type InetAddress } from '../inet-address.ts';
import { readRules, writeRule, type Rule } from '../rules.ts';

export interface Route {
  /** Network; the port carries the prefix bits. */
  readonly target: InetAddress;
  /** Gateway, or NIL_ADDRESS. */
  readonly via: InetAddress;
  /** u16 */
  readonly flags: number;
  /** u16 */
  readonly metric: number;
}

export interface DnsConfig {
  /** Search domain (at most 127 bytes survive a round trip through 1.14). */
  readonly domain: string;
  /** Up to MAX_DNS_SERVERS; missing slots are sent as "no address" and not returned by the decoder. */
  readonly servers: readonly InetAddress[];
}

/** SSO fields: written only for versions 0 and 1. */
export type SsoConfig =
  | { readonly version: 0; readonly enabled: boolean; readonly authenticationUrl?: string; readonly authenticationExpiryTime?: bigint }
  | {
    readonly version: 1; readonly enabled: boolean; readonly issuerUrl: string; readonly centralEndpointUrl: string;
    readonly nonce: string; readonly state: string; readonly clientId: string; readonly provider: string;
  }
  | { readonly version: bigint; readonly enabled: boolean };

export interface NetworkConfig {
  readonly networkId: bigint;
  /** Issue time, controller clock, ms. */
  readonly timestamp: bigint;
  /** ms */
  readonly credentialTimeMaxDelta: bigint;
  readonly revision: bigint;
  readonly issuedTo: Address;
  /** 0 if none */
  readonly remoteTraceTarget: Address;
  readonly remoteTraceLevel: bigint;
  /** NetconfFlag bits */
  readonly flags: bigint;
  readonly multicastLimit: number;
  /** NetworkType */
  readonly type: number;
  readonly name: string;
  readonly mtu: number;
  readonly com: CertificateOfMembership | undefined;
  readonly capabilities: readonly Capability[];
  readonly tags: readonly Tag[];
  readonly certificatesOfOwnership: readonly CertificateOfOwnership[];
  /** u64 each: SpecialistFlag bits | 40-bit address */
  readonly specialists: readonly bigint[];
  readonly routes: readonly Route[];
  /** Managed IPs; the port carries the prefix bits. */
  readonly staticIps: readonly InetAddress[];
  readonly rules: readonly Rule[];
  readonly dns: DnsConfig;
  readonly sso: SsoConfig;
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

function blob(write: (w: ByteWriter) => void): Uint8Array {
  const w = new ByteWriter(512);
  write(w);
  return w.finish();
}

function writeDns(w: ByteWriter, dns: DnsConfig): void {
  const domain = new Uint8Array(DNS_DOMAIN_LENGTH);
  domain.set(utf8.encode(dns.domain).subarray(0, DNS_DOMAIN_LENGTH));
  w.bytes(domain);
  for (let i = 0; i < MAX_DNS_SERVERS; i++) writeInetAddress(w, dns.servers[i] ?? NIL_ADDRESS);
}

/** The dictionary bytes, exactly as NetworkConfig::toDictionary lays them out (version 7). */
export function encodeNetworkConfig(c: NetworkConfig): Uint8Array {
  const d = new DictionaryWriter();
  d.add(NetconfKey.version, BigInt(NETWORKCONFIG_VERSION));
  d.add(NetconfKey.networkId, c.networkId);
  d.add(NetconfKey.timestamp, c.timestamp);
  d.add(NetconfKey.credentialTimeMaxDelta, c.credentialTimeMaxDelta);
  d.add(NetconfKey.revision, c.revision);
  d.addAddress(NetconfKey.issuedTo, c.issuedTo);
  d.addAddress(NetconfKey.remoteTraceTarget, c.remoteTraceTarget);
  d.add(NetconfKey.remoteTraceLevel, c.remoteTraceLevel);
  d.add(NetconfKey.flags, c.flags);
  d.add(NetconfKey.multicastLimit, BigInt(c.multicastLimit));
  d.add(NetconfKey.type, BigInt(c.type));
  d.add(NetconfKey.name, c.name);
  d.add(NetconfKey.mtu, BigInt(c.mtu));
  if (c.com) d.add(NetconfKey.com, blob((w) => writeCom(w, c.com!)));
  if (c.capabilities.length > 0) d.add(NetconfKey.capabilities, blob((w) => c.capabilities.forEach((x) => writeCapability(w, x))));
  if (c.tags.length > 0) d.add(NetconfKey.tags, blob((w) => c.tags.forEach((x) => writeTag(w, x))));
  if (c.certificatesOfOwnership.length > 0) {
    d.add(NetconfKey.certificatesOfOwnership, blob((w) => c.certificatesOfOwnership.forEach((x) => writeCoo(w, x))));
  }
  if (c.specialists.length > 0) d.add(NetconfKey.specialists, blob((w) => c.specialists.forEach((s) => w.u64(s))));
  if (c.routes.length > 0) {
    d.add(NetconfKey.routes, blob((w) => {
      for (const r of c.routes) {
        writeInetAddress(w, r.target);
        writeInetAddress(w, r.via);
        w.u16(r.flags).u16(r.metric);
      }
    }));
  }
  if (c.staticIps.length > 0) d.add(NetconfKey.staticIps, blob((w) => c.staticIps.forEach((ip) => writeInetAddress(w, ip))));
  if (c.rules.length > 0) d.add(NetconfKey.rules, blob((w) => c.rules.forEach((r) => writeRule(w, r))));
  d.add(NetconfKey.dns, blob((w) => writeDns(w, c.dns)));
  const sso = c.sso;
  if (sso.version === 0) {
    d.add(NetconfKey.ssoVersion, 0n);
    d.add(NetconfKey.ssoEnabled, sso.enabled);
    if (sso.enabled) {
      if (sso.authenticationUrl) d.add(NetconfKey.authenticationUrl, sso.authenticationUrl);
      d.add(NetconfKey.authenticationExpiryTime, sso.authenticationExpiryTime ?? 0n);
    }
  } else if (sso.version === 1) {
    d.add(NetconfKey.ssoVersion, 1n);
    d.add(NetconfKey.ssoEnabled, sso.enabled);
    d.add(NetconfKey.issuerUrl, sso.issuerUrl);
    d.add(NetconfKey.centralEndpointUrl, sso.centralEndpointUrl);
    d.add(NetconfKey.nonce, sso.nonce);
    d.add(NetconfKey.state, sso.state);
    d.add(NetconfKey.clientId, sso.clientId);
    d.add(NetconfKey.ssoProvider, sso.provider);
  }
  return d.bytes();
}

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

/** Read items from a blob until it ends or `max` items; on a parse error, the items before it and the error. */
function readList<T>(bytes: Uint8Array | undefined, read: (r: ByteReader) => T, max: number): { items: T[]; error: DecodeError | undefined } {
  const items: T[] = [];
  if (!bytes) return { items, error: undefined };
  const r = new ByteReader(bytes);
  while (r.remaining > 0 && items.length < max) {
    const item = read(r);
    if (r.failed) break;
    items.push(item);
  }
  return { items, error: r.error };
}

/** Up to 127 bytes as 1.14's fixed-size string buffers hold them, cut at a NUL. */
function cString(bytes: Uint8Array, bufferLength: number): string {
  const cut = bytes.subarray(0, bufferLength - 1);
  const nul = cut.indexOf(0);
  return utf8Decoder.decode(nul < 0 ? cut : cut.subarray(0, nul));
}

/** 1.14's SSO string buffers, bytes incl. the NUL (NetworkConfig.hpp). */
const SsoBufferLength = { url: 2048, nonce: 128, state: 256, clientId: 256, provider: 64 } as const;

function readDns(bytes: Uint8Array): { dns: DnsConfig; error: DecodeError | undefined } {
  // 1.14 copies the 128 domain bytes without a bounds check; a short blob reads as zeros here.
  const domainBytes = new Uint8Array(DNS_DOMAIN_LENGTH);
  domainBytes.set(bytes.subarray(0, DNS_DOMAIN_LENGTH));
  const r = new ByteReader(bytes, DNS_DOMAIN_LENGTH);
  if (bytes.length < DNS_DOMAIN_LENGTH) r.fail('too-short');
  const servers: InetAddress[] = [];
  for (let i = 0; i < MAX_DNS_SERVERS && !r.failed; i++) {
    const server = readInetAddress(r);
    if (server.family !== 0) servers.push(server);
  }
  return { dns: { domain: cString(domainBytes, DNS_DOMAIN_LENGTH), servers }, error: r.error };
}

function readSso(d: Dictionary): SsoConfig {
  const version = d.getU64(NetconfKey.ssoVersion) ?? 0n;
  const enabled = d.getBool(NetconfKey.ssoEnabled) ?? false;
  const str = (key: string, bufferLength: number): string => {
    const v = d.get(key);
    return v === undefined ? '' : cString(v, bufferLength);
  };
  if (version === 0n) {
    if (!enabled) return { version: 0, enabled };
    return {
      version: 0, enabled,
      authenticationUrl: str(NetconfKey.authenticationUrl, SsoBufferLength.url),
      authenticationExpiryTime: d.getU64(NetconfKey.authenticationExpiryTime) ?? 0n,
    };
  }
  if (version === 1n) {
    if (!enabled) return { version: 1, enabled, issuerUrl: '', centralEndpointUrl: '', nonce: '', state: '', clientId: '', provider: '' };
    return {
      version: 1, enabled,
      issuerUrl: str(NetconfKey.issuerUrl, SsoBufferLength.url),
      centralEndpointUrl: str(NetconfKey.centralEndpointUrl, SsoBufferLength.url),
      nonce: str(NetconfKey.nonce, SsoBufferLength.nonce),
      state: str(NetconfKey.state, SsoBufferLength.state),
      clientId: str(NetconfKey.clientId, SsoBufferLength.clientId),
      provider: str(NetconfKey.ssoProvider, SsoBufferLength.provider) || 'default',
    };
  }
  return { version, enabled };
}

const byId = <T extends { readonly id: number }>(a: T, b: T): number => a.id - b.id;

/**
 * Parse a network config dictionary as a 1.14 member does. Fails like fromDictionary: no
 * network ID or no issued-to address, a format version below 6, or a COM, COO, route, static IP,
 * rule or DNS blob that does not parse. Capabilities and tags that fail to parse are dropped
 * from the first failing one on (1.14 catches those), and both lists are sorted by ID.
 */
export function decodeNetworkConfig(bytes: Uint8Array, capacity = NETWORKCONFIG_DICT_CAPACITY): Decoded<NetworkConfig> {
  return decodeNetworkConfigDictionary(new Dictionary(bytes, capacity));
}

export function decodeNetworkConfigDictionary(d: Dictionary): Decoded<NetworkConfig> {
  const networkId = d.getU64(NetconfKey.networkId) ?? 0n;
  if (networkId === 0n) return { ok: false, error: 'netconf-missing-network-id' };
  const issuedTo = Number((d.getU64(NetconfKey.issuedTo) ?? 0n) & 0xff_ffff_ffffn);
  if (issuedTo === 0) return { ok: false, error: 'netconf-missing-issued-to' };
  if ((d.getU64(NetconfKey.version) ?? 0n) < BigInt(NETWORKCONFIG_MIN_VERSION)) return { ok: false, error: 'netconf-version-too-old' };

  let error: DecodeError | undefined;
  const keep = <T>(x: { items: T[]; error: DecodeError | undefined }): T[] => {
    error ??= x.error;
    return x.items;
  };

  let com: CertificateOfMembership | undefined;
  const comBytes = d.get(NetconfKey.com);
  if (comBytes) {
    const r = new ByteReader(comBytes);
    com = readCom(r);
    error ??= r.error;
  }
  const capabilities = readList(d.get(NetconfKey.capabilities), readCapability, MAX_NETWORK_CAPABILITIES).items.sort(byId);
  const tags = readList(d.get(NetconfKey.tags), readTag, MAX_NETWORK_TAGS).items.sort(byId);
  const coos = keep(readList(d.get(NetconfKey.certificatesOfOwnership), readCoo, Number.MAX_SAFE_INTEGER))
    .slice(0, MAX_CERTIFICATES_OF_OWNERSHIP);

  const specialists: bigint[] = [];
  const specialistBytes = d.get(NetconfKey.specialists);
  if (specialistBytes) {
    const r = new ByteReader(specialistBytes);
    while (r.remaining >= 8) {
      const s = r.u64();
      if (specialists.length < MAX_NETWORK_SPECIALISTS) specialists.push(s);
    }
  }

  const routes = keep(readList(d.get(NetconfKey.routes), (r): Route => ({
    target: readInetAddress(r), via: readInetAddress(r), flags: r.u16(), metric: r.u16(),
  }), MAX_NETWORK_ROUTES));
  const staticIps = keep(readList(d.get(NetconfKey.staticIps), readInetAddress, MAX_ZT_ASSIGNED_ADDRESSES));

  let rules: Rule[] = [];
  const ruleBytes = d.get(NetconfKey.rules);
  if (ruleBytes) {
    const r = new ByteReader(ruleBytes);
    rules = readRules(r, MAX_NETWORK_RULES);
    error ??= r.error;
  }

  let dns: DnsConfig = { domain: '', servers: [] };
  const dnsBytes = d.get(NetconfKey.dns);
  if (dnsBytes) {
    const parsed = readDns(dnsBytes);
    dns = parsed.dns;
    error ??= parsed.error;
  }
  if (error) return { ok: false, error };

  // 1.14 reads the MTU into an unsigned int, then clamps it.
  const mtu = Number((d.getU64(NetconfKey.mtu) ?? BigInt(DEFAULT_VIRTUAL_MTU)) & 0xffff_ffffn);
  return {
    ok: true,
    value: {
      networkId,
      timestamp: d.getU64(NetconfKey.timestamp) ?? 0n,
      credentialTimeMaxDelta: d.getU64(NetconfKey.credentialTimeMaxDelta) ?? 0n,
      revision: d.getU64(NetconfKey.revision) ?? 0n,
      issuedTo,
      remoteTraceTarget: Number((d.getU64(NetconfKey.remoteTraceTarget) ?? 0n) & 0xff_ffff_ffffn),
      remoteTraceLevel: d.getU64(NetconfKey.remoteTraceLevel) ?? 0n,
      flags: d.getU64(NetconfKey.flags) ?? 0n,
      multicastLimit: Number((d.getU64(NetconfKey.multicastLimit) ?? 0n) & 0xffff_ffffn),
      type: Number((d.getU64(NetconfKey.type) ?? BigInt(NetworkType.private)) & 0xffff_ffffn),
      name: cString(d.get(NetconfKey.name) ?? new Uint8Array(0), NETWORK_NAME_BUFFER_LENGTH),
      mtu: Math.min(MAX_VIRTUAL_MTU, Math.max(MIN_VIRTUAL_MTU, mtu)),
      com,
      capabilities,
      tags,
      certificatesOfOwnership: coos,
      specialists,
      routes,
      staticIps,
      rules,
      dns,
      sso: readSso(d),
    },
  };
}
