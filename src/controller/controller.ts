// The network controller role (docs/protocol/07-network-config-controller.md §9): answers
// NETWORK_CONFIG_REQUEST from the records in its store, and keeps members current — a change to a
// member or a network pushes fresh configs to the members concerned that asked recently, and a
// member losing its authorization makes the controller send a COM revocation to the network.
//
// It is transport-free: packets leave through ControllerOutput.send(address, verb, payload), which
// the node wiring (controller-role.ts, or a root's main thread through its workers) provides.
// Everything runs synchronously on the thread that owns the store.

import { randomBytes, randomInt } from 'node:crypto';
import { formatAddress, type Address } from '../identity/address.ts';
import { parseIdentity, type Identity } from '../identity/identity.ts';
import { CONFIG_CHUNK_MAX_DATA_LENGTH, CredentialType, ErrorCode, NETWORKCONFIG_DICT_CAPACITY, RevocationFlag, Verb } from '../wire/constants.ts';
import { signRevocation } from '../wire/credentials/revocation.ts';
import { decodeConfigRequestMetadata, encodeAuthInfo, type ConfigRequestMetadata } from '../wire/netconf/metadata.ts';
import { encodeNetworkConfig } from '../wire/netconf/network-config.ts';
import { encodeError } from '../wire/verbs/error.ts';
import { encodeNetworkCredentials } from '../wire/verbs/network-credentials.ts';
import { encodeOkNetworkConfigRequest, signConfigChunks } from '../wire/verbs/network-config.ts';
import { controllerForNetwork, decodeNetworkConfigRequest } from '../wire/verbs/network-config-request.ts';
import { buildNetworkConfig } from './config-builder.ts';
import { isObject, jsonBool, jsonInt, jsonString, type JsonObject } from './json-values.ts';
import {
  applyMemberPost, applyNetworkPost, cleanMember, cleanNetwork, initMember, initNetwork, setMemberKeys,
  type MemberRecord, type NetworkRecord,
} from './records.ts';
import type { ControllerStore } from './store.ts';
import { hex64 } from '../util/hex.ts';

/** ZT_NETCONF_MIN_REQUEST_PERIOD: repeats of a (network, member) request within this are ignored, ms. */
export const MIN_REQUEST_PERIOD_MS = 1000;
/** A member that requested within this (2 × ZT_NETWORK_AUTOCONF_DELAY) is online and gets pushes, ms. */
export const MEMBER_ONLINE_MS = 120_000;
/** Network IDs tried before giving up on a random suffix (1.14's sanity limit). */
const MAX_NETWORK_ID_TRIES = 100_000;
/** Low 24 bits of a network ID: the part the controller chooses. */
const NETWORK_SUFFIX_MASK = 0xff_ffffn;
/** Member status entries are swept of members silent for MEMBER_ONLINE_MS at most this often, ms. */
const STATUS_SWEEP_INTERVAL_MS = 60_000;
/** Pushes one change may cause before the queue is cut (each push can change the member once). */
const MAX_PUSHES_PER_FLUSH = 100_000;

export interface ControllerOutput {
  send(to: Address, verb: number, payload: Uint8Array): void;
}

export type RequestOutcome =
  | 'answered' | 'not-our-network' | 'rate-limited' | 'network-not-found' | 'identity-mismatch' | 'not-authorized'
  | 'authentication-required' | 'config-too-large' | 'bad-request' | 'internal-error';

export class ControllerStats {
  /** Requests by outcome. */
  readonly requests = new Map<RequestOutcome, number>();
  pushes = 0;
  revocations = 0;
  /** Config build + sign time, sum and count, microseconds. */
  buildMicrosSum = 0;
  builds = 0;

  count(outcome: RequestOutcome): void {
    this.requests.set(outcome, (this.requests.get(outcome) ?? 0) + 1);
  }
}

interface MemberStatus {
  lastRequestMs: number;
  /** Set once the member made an authorized request: what pushes re-use. */
  metadata?: ConfigRequestMetadata;
  identity?: Identity;
}

export interface ControllerOptions {
  /** The controller's identity, with its secret (it signs everything). */
  identity: Identity;
  store: ControllerStore;
  output: ControllerOutput;
  clock?: () => number;
}

export class NetworkController {
  readonly identity: Identity;
  readonly store: ControllerStore;
  readonly stats = new ControllerStats();
  private readonly output: ControllerOutput;
  private readonly clock: () => number;
  private readonly status = new Map<string, MemberStatus>();
  private readonly pushQueue = new Map<string, { nwid: bigint; address: Address }>();
  private flushing = false;
  private lastSweepMs = 0;

  constructor(options: ControllerOptions) {
    if (!options.identity.hasPrivate) throw new Error('the controller identity needs its secret key');
    this.identity = options.identity;
    this.store = options.store;
    this.output = options.output;
    this.clock = options.clock ?? Date.now;
  }

  now(): number {
    return this.clock();
  }

  /** Whether a network ID belongs to this controller (its top 40 bits are our address). */
  owns(nwid: bigint): boolean {
    return controllerForNetwork(nwid) === this.identity.address;
  }

  // ------------------------------------------------------------------------------------------
  // Requests (EmbeddedNetworkController::request / _request)
  // ------------------------------------------------------------------------------------------

  /** A NETWORK_CONFIG_REQUEST payload (after the verb) as it came off the wire. */
  requestFromPayload(identity: Identity, packetId: bigint, payload: Uint8Array): RequestOutcome {
    const d = decodeNetworkConfigRequest(payload);
    if (!d.ok || packetId === 0n) {
      this.stats.count('bad-request');
      return 'bad-request';
    }
    return this.request(d.value.networkId, packetId, identity, d.value.metadata);
  }

  /**
   * A NETWORK_CONFIG_REQUEST from `identity` (already authenticated by the packet's MAC). A
   * requestPacketId of 0 is an internal push. Never throws for bad input: it is counted.
   */
  request(nwid: bigint, requestPacketId: bigint, identity: Identity, metadata: Uint8Array | ConfigRequestMetadata): RequestOutcome {
    let outcome: RequestOutcome;
    try {
      outcome = this.handleRequest(nwid, requestPacketId, identity, metadata instanceof Uint8Array ? decodeConfigRequestMetadata(metadata) : metadata);
    } catch {
      // not the request's fault: decoding never throws; building, signing or sending did
      outcome = 'internal-error';
    }
    if (requestPacketId !== 0n) this.stats.count(outcome);
    this.flushPushes();
    return outcome;
  }

  private handleRequest(nwid: bigint, requestPacketId: bigint, identity: Identity, metadata: ConfigRequestMetadata): RequestOutcome {
    if (!this.owns(nwid)) return 'not-our-network';
    const now = this.now();
    this.sweepStatus(now);
    const key = statusKey(nwid, identity.address);
    let st = this.status.get(key);
    if (requestPacketId !== 0n) {
      if (st && now - st.lastRequestMs <= MIN_REQUEST_PERIOD_MS) return 'rate-limited';
      if (!st) this.status.set(key, st = { lastRequestMs: now });
      st.lastRequestMs = now;
    }

    const network = this.store.network(nwid);
    if (!network) {
      this.sendError(nwid, requestPacketId, identity.address, ErrorCode.OBJ_NOT_FOUND);
      return 'network-not-found';
    }
    const stored = this.store.member(nwid, identity.address);
    const newMember = stored === undefined;
    const member = initMember(structuredClone(stored ?? {}), now);

    const knownIdentity = jsonString(member.identity, '');
    if (knownIdentity.length > 0) {
      const known = parseIdentity(knownIdentity);
      if (!known || !known.equals(identity)) {
        this.sendError(nwid, requestPacketId, identity.address, ErrorCode.NETWORK_ACCESS_DENIED);
        return 'identity-mismatch';
      }
    } else {
      member.identity = identity.toString(false);
    }
    setMemberKeys(member, nwid, identity.address);

    let authorized = jsonBool(member.authorized, false);
    let autoType: string | undefined, autoCredential: string | null = null;
    if (!authorized && !jsonBool(network.private, true)) {
      authorized = true;
      autoType = 'public';
    } else if (!authorized && metadata.auth?.startsWith('token:') && metadata.auth.length > 6) {
      const token = metadata.auth.slice(6);
      const tokens = network.authTokens;
      const expires = isObject(tokens) && Object.hasOwn(tokens, token) ? tokens[token] : undefined;
      if (typeof expires === 'number' && (expires === 0 || expires > now)) {
        authorized = true;
        autoType = 'token';
        autoCredential = token;
      }
    }
    if (autoType) {
      member.authorized = true;
      member.lastAuthorizedTime = now;
      member.lastAuthorizedCredentialType = autoType;
      member.lastAuthorizedCredential = autoCredential;
    }

    // SSO (docs/protocol/07-network-config-controller.md §9 step 5). Our store has no identity provider, so like 1.14's file database the
    // auth info carries version 0 and no URL: a member of an SSO network gets a config only while
    // its authenticationExpiryTime (set through the API) lies in the future, or if ssoExempt.
    const sso = jsonBool(network.ssoEnabled, false) && !jsonBool(member.ssoExempt, false);
    const authenticationExpiryTime = jsonInt(member.authenticationExpiryTime, 0);
    if (sso && authenticationExpiryTime <= now) {
      this.saveMember(member);
      if (requestPacketId !== 0n) {
        this.output.send(identity.address, Verb.ERROR, encodeError({
          inReVerb: Verb.NETWORK_CONFIG_REQUEST, inRePacketId: requestPacketId, errorCode: ErrorCode.NETWORK_AUTHENTICATION_REQUIRED,
          networkId: nwid, authInfo: encodeAuthInfo({ version: 0, authenticationUrl: '' }),
        }));
      }
      return 'authentication-required';
    }

    if (!authorized) {
      this.saveMember(member);
      this.sendError(nwid, requestPacketId, identity.address, ErrorCode.NETWORK_ACCESS_DENIED);
      return 'not-authorized';
    }
    if (requestPacketId !== 0n) {
      member.vMajor = Number(metadata.majorVersion);
      member.vMinor = Number(metadata.minorVersion);
      member.vRev = Number(metadata.revision);
      member.vProto = Number(metadata.protocolVersion);
      st!.metadata = metadata;
      st!.identity = identity.publicOnly();
    }

    const started = performance.now();
    const config = buildNetworkConfig({
      nwid, network, member, newMember, identity, metadata, summary: this.store.summary(nwid)!, signer: this.identity, nowMs: now,
    });
    const dictionary = encodeNetworkConfig(jsonBool(network.ssoEnabled, false)
      ? { ...config, sso: { version: 0, enabled: true, authenticationUrl: '', authenticationExpiryTime: BigInt(Math.max(0, authenticationExpiryTime)) } }
      : config);
    this.saveMember(member);
    // a member refuses a config that does not fit its dictionary (1.14's toDictionary fails, and sends nothing)
    if (dictionary.length >= NETWORKCONFIG_DICT_CAPACITY) return 'config-too-large';
    this.sendConfig(nwid, requestPacketId, identity.address, dictionary);
    this.stats.buildMicrosSum += Math.round((performance.now() - started) * 1000);
    this.stats.builds++;
    return 'answered';
  }

  private sendConfig(nwid: bigint, requestPacketId: bigint, to: Address, dictionary: Uint8Array): void {
    let updateId = new DataView(randomBytes(8).buffer).getBigUint64(0);
    if (updateId === 0n) updateId = 1n;
    const chunks = signConfigChunks(nwid, dictionary, this.identity, { updateId, maxChunkLength: CONFIG_CHUNK_MAX_DATA_LENGTH });
    for (const chunk of chunks) {
      if (requestPacketId !== 0n) this.output.send(to, Verb.OK, encodeOkNetworkConfigRequest(requestPacketId, chunk));
      else this.output.send(to, Verb.NETWORK_CONFIG, chunk);
    }
  }

  /** Node::ncSendError: only in answer to a real request. */
  private sendError(nwid: bigint, requestPacketId: bigint, to: Address, errorCode: number): void {
    if (requestPacketId === 0n) return;
    this.output.send(to, Verb.ERROR, encodeError({ inReVerb: Verb.NETWORK_CONFIG_REQUEST, inRePacketId: requestPacketId, errorCode, networkId: nwid }));
  }

  /** Forget members that stopped asking: they get no pushes, and their repeat limit has long passed. */
  private sweepStatus(now: number): void {
    if (now - this.lastSweepMs < STATUS_SWEEP_INTERVAL_MS) return;
    this.lastSweepMs = now;
    for (const [key, st] of this.status) if (!this.online(st, now)) this.status.delete(key);
  }

  /** Members that asked within MEMBER_ONLINE_MS (as of the last sweep, at most a minute stale). */
  get trackedMembers(): number {
    return this.status.size;
  }

  // ------------------------------------------------------------------------------------------
  // Change notification (DB listeners: onNetworkUpdate / onNetworkMemberUpdate / onNetworkMemberDeauthorize)
  // ------------------------------------------------------------------------------------------

  private online(st: MemberStatus | undefined, now: number): boolean {
    return st !== undefined && now - st.lastRequestMs < MEMBER_ONLINE_MS;
  }

  private saveMember(member: MemberRecord): void {
    const r = this.store.saveMember(cleanMember(member));
    if (r.changed) this.memberChanged(r.old, r.record);
  }

  private memberChanged(old: MemberRecord | undefined, now: MemberRecord | undefined): void {
    const rec = now ?? old!;
    const nwid = BigInt('0x' + jsonString(rec.nwid, '0'));
    const address = Number.parseInt(jsonString(rec.id, '0'), 16);
    if (now) this.schedulePush(nwid, address);
    if (old && jsonBool(old.authorized, false) && !(now && jsonBool(now.authorized, false))) this.revoke(nwid, address);
  }

  private schedulePush(nwid: bigint, address: Address): void {
    const st = this.status.get(statusKey(nwid, address));
    if (this.online(st, this.now()) && st!.metadata) this.pushQueue.set(statusKey(nwid, address), { nwid, address });
  }

  private networkChanged(nwid: bigint): void {
    const now = this.now();
    for (const [key, st] of this.status) {
      if (st.metadata && this.online(st, now) && key.startsWith(hex64(nwid))) {
        this.pushQueue.set(key, { nwid, address: st.identity!.address });
      }
    }
  }

  /** A COM revocation for `target` to every online member of the network (fast propagate). */
  private revoke(nwid: bigint, target: Address): void {
    const now = this.now();
    const revocation = signRevocation({
      id: randomInt(0, 2 ** 32), networkId: nwid, credentialId: 0, threshold: BigInt(now), flags: RevocationFlag.fastPropagate,
      target, credentialType: CredentialType.com,
    }, this.identity);
    const payload = encodeNetworkCredentials({ revocations: [revocation] });
    const prefix = hex64(nwid);
    for (const [key, st] of this.status) {
      if (key.startsWith(prefix) && this.online(st, now)) {
        this.output.send(Number.parseInt(key.slice(17), 16), Verb.NETWORK_CREDENTIALS, payload);
        this.stats.revocations++;
      }
    }
  }

  /** Send the pushes that changes queued (each one may queue another; bounded). */
  private flushPushes(): void {
    if (this.flushing) return;
    this.flushing = true;
    try {
      for (let n = 0; n < MAX_PUSHES_PER_FLUSH && this.pushQueue.size > 0; n++) {
        const [key, p] = this.pushQueue.entries().next().value!;
        this.pushQueue.delete(key);
        const st = this.status.get(key);
        if (!st?.metadata || !st.identity) continue;
        this.stats.pushes++;
        try {
          this.handleRequest(p.nwid, 0n, st.identity, st.metadata);
        } catch { /* a push that cannot be built is skipped; the member's next request retries */ }
      }
      this.pushQueue.clear();
    } finally {
      this.flushing = false;
    }
  }

  // ------------------------------------------------------------------------------------------
  // API operations (07-network-config-controller.md §11): each is one store write, acknowledged after it is durable
  // ------------------------------------------------------------------------------------------

  /** A new network ID: our address, then 24 random bits that are not all zero and not in use. */
  newNetworkId(): bigint | undefined {
    const prefix = BigInt(this.identity.address) << 24n;
    for (let i = 0; i < MAX_NETWORK_ID_TRIES; i++) {
      let nwid = prefix | (BigInt(randomInt(0, 2 ** 24)) & NETWORK_SUFFIX_MASK);
      if ((nwid & NETWORK_SUFFIX_MASK) === 0n) nwid |= 1n;
      if (!this.store.hasNetwork(nwid)) return nwid;
    }
    return undefined;
  }

  /** networkUpdateFromPostData: create or update. */
  postNetwork(nwid: bigint, body: JsonObject): NetworkRecord {
    const network = initNetwork(structuredClone(this.store.network(nwid) ?? {}), this.now());
    applyNetworkPost(network, body);
    network.id = hex64(nwid);
    network.nwid = hex64(nwid);
    const r = this.store.saveNetwork(cleanNetwork(network));
    if (r.changed) {
      this.networkChanged(nwid);
      this.flushPushes();
    }
    return r.record;
  }

  deleteNetwork(nwid: bigint): NetworkRecord | undefined {
    const members = this.store.members(nwid);
    const old = this.store.deleteNetwork(nwid);
    if (old) for (const m of members) if (jsonBool(m.authorized, false)) this.revoke(nwid, Number.parseInt(jsonString(m.id, '0'), 16));
    return old;
  }

  /** Create or update a member; undefined if the network does not exist. */
  postMember(nwid: bigint, address: Address, body: JsonObject): MemberRecord | undefined {
    if (!this.store.hasNetwork(nwid)) return undefined;
    const member = initMember(structuredClone(this.store.member(nwid, address) ?? {}), this.now());
    applyMemberPost(member, body, this.now());
    setMemberKeys(member, nwid, address);
    const r = this.store.saveMember(cleanMember(member));
    if (r.changed) {
      this.memberChanged(r.old, r.record);
      this.flushPushes();
    }
    return r.record;
  }

  deleteMember(nwid: bigint, address: Address): MemberRecord | undefined {
    const old = this.store.deleteMember(nwid, address);
    if (old) this.memberChanged(old, undefined);
    return old;
  }

  /** Members and authorized members of a network. */
  counts(nwid: bigint): { total: number; authorized: number } {
    return { total: this.store.memberCount(nwid), authorized: this.store.summary(nwid)?.authorizedCount ?? 0 };
  }

}

function statusKey(nwid: bigint, address: Address): string {
  return `${hex64(nwid)}/${formatAddress(address)}`;
}

