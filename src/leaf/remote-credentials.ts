// What a member knows of another member's tags, capabilities and certificates of ownership on one
// network, kept as a 1.14.1 member keeps them (its Membership; docs/protocol/07-network-config-controller.md
// §5): one of each credential ID, the newest timestamp wins, revocation thresholds by (type, ID),
// and a credential counts only while its timestamp lies within credentialTimeMaxDelta of our
// config's and above its revocation threshold. Signature checks are the caller's (they need the
// controller's identity); this module holds the bookkeeping and the questions the rules ask.

import type { Address } from '../identity/address.ts';
import { CooThingType, CredentialType, MAX_CERTIFICATES_OF_OWNERSHIP, MAX_NETWORK_CAPABILITIES, MAX_NETWORK_TAGS, NetconfFlag } from '../wire/constants.ts';
import { encodeCapability, type Capability } from '../wire/credentials/capability.ts';
import { encodeCoo, type CertificateOfOwnership } from '../wire/credentials/coo.ts';
import { encodeTag, type Tag } from '../wire/credentials/tag.ts';
import { rfc4193Address, sixPlaneAddress } from '../wire/netconf/managed-addresses.ts';
import type { NetworkConfig } from '../wire/netconf/network-config.ts';
import { macToBytes } from '../wire/mac.ts';

/** Membership::AddCredentialResult (the deferred-for-WHOIS case is a rejection here). */
export type AddResult = 'rejected' | 'new' | 'redundant';

type Kind = 'tag' | 'capability' | 'coo';
type CredentialOf<K extends Kind> = K extends 'tag' ? Tag : K extends 'capability' ? Capability : CertificateOfOwnership;

const TYPE_OF: Record<Kind, number> = { tag: CredentialType.tag, capability: CredentialType.capability, coo: CredentialType.coo };
/**
 * How many of each kind are kept per member. 1.14 keeps one per credential ID without a bound of
 * its own; a controller issues at most these many to one member, so more can only be noise.
 */
const KEPT: Record<Kind, number> = { tag: MAX_NETWORK_TAGS, capability: MAX_NETWORK_CAPABILITIES, coo: MAX_CERTIFICATES_OF_OWNERSHIP };
const ENCODE: { [K in Kind]: (c: CredentialOf<K>) => Uint8Array } = { tag: encodeTag, capability: encodeCapability, coo: encodeCoo };

/** Membership::credentialKey: the credential type in the high 32 bits, its ID in the low 32. */
function credentialKey(type: number, id: number): bigint {
  return (BigInt(type) << 32n) | BigInt(id >>> 0);
}

/** Capability::issuedTo: the last holder in the custody chain. */
export function capabilityIssuedTo(c: Capability): Address {
  let to = 0;
  for (const link of c.custody) {
    if (link.to === 0) break;
    to = link.to;
  }
  return to;
}

export class RemoteCredentials {
  readonly tag = new Map<number, Tag>();
  readonly capability = new Map<number, Capability>();
  readonly coo = new Map<number, CertificateOfOwnership>();
  /** Revocation thresholds by credentialKey. */
  private readonly revocations = new Map<bigint, bigint>();
  /** _comRevocationThreshold: COMs with a timestamp at or below this are refused. */
  comRevokedAtOrBefore = 0n;

  /**
   * _addCredImpl: an older credential than the one held is refused, the same one is redundant, a
   * revoked one is refused; only then is `verify` (signature and signer) asked.
   */
  add<K extends Kind>(kind: K, cred: CredentialOf<K>, verify: () => boolean): AddResult {
    const held = this[kind] as Map<number, CredentialOf<K>>;
    const had = held.get(cred.id);
    if (had) {
      if (had.timestamp > cred.timestamp) return 'rejected';
      if (sameBytes(ENCODE[kind](had), ENCODE[kind](cred))) return 'redundant';
    }
    const threshold = this.revocations.get(credentialKey(TYPE_OF[kind], cred.id));
    if (threshold !== undefined && threshold >= cred.timestamp) return 'rejected';
    if (!verify()) return 'rejected';
    if (!had && held.size >= KEPT[kind]) return 'rejected';
    held.set(cred.id, cred);
    return 'new';
  }

  /**
   * Membership::addCredential(Revocation), once verified. As in 1.14, revoking a capability, tag
   * or COO also raises the COM threshold to the same value.
   */
  revoke(credentialType: number, credentialId: number, threshold: bigint): AddResult {
    if (credentialType === CredentialType.com) {
      if (threshold <= this.comRevokedAtOrBefore) return 'redundant';
      this.comRevokedAtOrBefore = threshold;
      return 'new';
    }
    if (credentialType !== CredentialType.capability && credentialType !== CredentialType.tag && credentialType !== CredentialType.coo) return 'rejected';
    const key = credentialKey(credentialType, credentialId);
    if ((this.revocations.get(key) ?? 0n) >= threshold) return 'redundant';
    this.revocations.set(key, threshold);
    this.comRevokedAtOrBefore = threshold;
    return 'new';
  }

  /** _isCredentialTimestampValid. */
  private valid(config: NetworkConfig, type: number, c: { id: number; timestamp: bigint }): boolean {
    const delta = c.timestamp >= config.timestamp ? c.timestamp - config.timestamp : config.timestamp - c.timestamp;
    if (delta > config.credentialTimeMaxDelta) return false;
    const threshold = this.revocations.get(credentialKey(type, c.id));
    return threshold === undefined || c.timestamp > threshold;
  }

  /** Membership::getTag: the member's tag `id`, if it holds a valid one. */
  getTag(config: NetworkConfig, id: number): Tag | undefined {
    const t = this.tag.get(id);
    return t && this.valid(config, CredentialType.tag, t) ? t : undefined;
  }

  /** Membership::CapabilityIterator: the member's valid capabilities. */
  capabilities(config: NetworkConfig): Capability[] {
    return [...this.capability.values()].filter((c) => this.valid(config, CredentialType.capability, c));
  }

  /**
   * Membership::hasCertificateOfOwnershipFor (an IP as 4 or 16 bytes, or a MAC): a valid COO of the
   * member's covers it, or (IPv6, NDP emulation on) it lies in the prefix of our own 6PLANE (/40)
   * or RFC4193 (/88) address, as 1.14 checks it.
   */
  owns(config: NetworkConfig, thing: { ip: Uint8Array } | { mac: number }): boolean {
    for (const c of this.coo.values()) if (this.valid(config, CredentialType.coo, c) && cooOwns(c, thing)) return true;
    return 'ip' in thing && ndpEmulated(config, thing.ip);
  }

  /** Membership::clean: forget what no longer counts under `config`. */
  clean(config: NetworkConfig): void {
    for (const [id, t] of this.tag) if (!this.valid(config, CredentialType.tag, t)) this.tag.delete(id);
    for (const [id, c] of this.capability) if (!this.valid(config, CredentialType.capability, c)) this.capability.delete(id);
    for (const [id, c] of this.coo) if (!this.valid(config, CredentialType.coo, c)) this.coo.delete(id);
  }
}

/** Membership::_isV6NDPEmulated: the first of our 6PLANE / RFC4193 addresses we hold decides. */
function ndpEmulated(config: NetworkConfig, ip: Uint8Array): boolean {
  if (ip.length !== 16 || (config.flags & NetconfFlag.ipv6NdpEmulation) === 0n) return false;
  for (const ours of [sixPlaneAddress(config.networkId, config.issuedTo), rfc4193Address(config.networkId, config.issuedTo)]) {
    if (config.staticIps.some((a) => a.family === 6 && 'ip' in a && a.ip.every((b, i) => b === ours.ip[i]))) {
      return ip.subarray(0, ours.port / 8).every((b, i) => b === ours.ip[i]);
    }
  }
  return false;
}

/** CertificateOfOwnership::owns: a thing of the right type whose value starts with these bytes. */
export function cooOwns(c: CertificateOfOwnership, thing: { ip: Uint8Array } | { mac: number }): boolean {
  const [type, bytes] = 'mac' in thing
    ? [CooThingType.mac, macToBytes(thing.mac)]
    : [thing.ip.length === 4 ? CooThingType.ipv4 : CooThingType.ipv6, thing.ip];
  return c.things.some((t) => t.type === type && bytes.every((b, i) => t.value[i] === b));
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
