// Network membership for the simple leaf, as a 1.14 member does it (07-network-config-controller.md
// §6-§7): request the config from the controller (nwid >> 24), reassemble and verify signed
// chunks, apply a config issued to us, acknowledge pushes with OK(ECHO), follow the controller's
// errors, and exchange credentials with other members as 1.14.1 does (Membership::pushCredentials /
// addCredential): we push our COM, capabilities, tags and certificates of ownership; we keep each
// member's (RemoteCredentials) once the controller's signature and 1.14's checks pass, and apply
// the controller's revocations. On a private network a frame is accepted only from a member whose
// COM is signed by the controller, agrees with ours and is not revoked.

import { EventEmitter } from 'node:events';
import { LRUCache } from 'lru-cache';
import type { Address } from '../identity/address.ts';
import type { Identity } from '../identity/identity.ts';
import type { Inbound } from '../node/node.ts';
import { DIRECT_PATH_LIMITS } from '../node/direct-paths.ts';
import { containsAddress } from '../node/ip-scope.ts';
import type { Peer } from '../node/peer.ts';
import type { DropReason } from '../node/stats.ts';
import { ErrorCode, NetworkType, RevocationFlag, Verb } from '../wire/constants.ts';
import { verifyCustodyLink, type Capability } from '../wire/credentials/capability.ts';
import { comAgreesWith, comIsSignedByController, comTimestamp, verifyCom, type CertificateOfMembership } from '../wire/credentials/com.ts';
import { verifyCoo } from '../wire/credentials/coo.ts';
import { verifyRevocation, type Revocation } from '../wire/credentials/revocation.ts';
import { verifyTag } from '../wire/credentials/tag.ts';
import { encodeConfigRequestMetadata, standardConfigRequestMetadata } from '../wire/netconf/metadata.ts';
import { decodeNetworkConfig, type NetworkConfig } from '../wire/netconf/network-config.ts';
import { decodeError, encodeError } from '../wire/verbs/error.ts';
import type { IpAddress } from '../wire/inet-address.ts';
import type { Frame } from '../wire/verbs/frame.ts';
import { decodeNetworkCredentials, encodeNetworkCredentials } from '../wire/verbs/network-credentials.ts';
import { controllerForNetwork, encodeNetworkConfigRequest } from '../wire/verbs/network-config-request.ts';
import {
  decodeConfigChunk, decodeOkNetworkConfigRequest, encodeNetworkConfigAck, verifyConfigChunk, type ConfigChunk,
} from '../wire/verbs/network-config.ts';
import { credentialPushPayloads } from './credential-push.ts';
import { capabilityIssuedTo, RemoteCredentials } from './remote-credentials.ts';
import type { SimpleLeaf } from './simple-leaf.ts';

export type NetworkStatus = 'REQUESTING_CONFIGURATION' | 'OK' | 'ACCESS_DENIED' | 'NOT_FOUND';

/** Config request period before the first config and after it (1.14: 5 s, then 60 s). */
export const REQUEST_PERIOD_MS = { unconfigured: 5000, configured: 60_000 } as const;
/** Chunked configs being assembled at once, per network. */
const MAX_PENDING_UPDATES = 4;

interface Assembly { total: number; parts: Map<number, Uint8Array> }

export interface MemberNetwork {
  readonly nwid: bigint;
  status: NetworkStatus;
  config: NetworkConfig | undefined;
  /** Accepted COMs of other members. */
  readonly peerComs: Map<Address, CertificateOfMembership>;
  /** Other members' tags, capabilities, COOs and revocation thresholds, by member. */
  readonly remote: Map<Address, RemoteCredentials>;
  readonly assembling: Map<bigint, Assembly>;
  /** When we last pushed our credentials to each member (bounded: junk from the host names any member). */
  readonly credentialsPushedMs: LRUCache<Address, number>;
  /** When the current config arrived (a newer COM is pushed again at once). */
  configuredMs: number;
  timer: NodeJS.Timeout | undefined;
}

/** Members whose last credential push is remembered, per network. */
const MAX_CREDENTIAL_PUSHES = 4096;
/** Our credentials go unasked to a member we send to at most this often. */
export const CREDENTIAL_PUSH_INTERVAL_MS = 30_000;
/** ZT_PEER_CREDENTIALS_REQUEST_RATE_LIMIT: a member asking for our credentials (ERROR NEED_MEMBERSHIP_CERTIFICATE) gets them at most this often. */
const CREDENTIALS_REQUEST_INTERVAL_MS = 1000;
/** ZT_PEER_CREDENTIALS_RATE_LIMIT: NETWORK_CREDENTIALS from one node are read at most this often; the rest are dropped. */
const CREDENTIALS_RECEIVE_INTERVAL_MS = 1000;
/** Senders whose last NETWORK_CREDENTIALS time is remembered for that limit. */
const CREDENTIAL_SENDERS_REMEMBERED = 4096;
/**
 * Members whose credentials are kept per network. 1.14 keeps one Membership per node it deals with
 * (dropped with the peer); a capability's custody addresses are not signed, so a member could name
 * new holders at will: past this, credentials for members not yet known are refused.
 */
const MEMBERS_REMEMBERED = 16_384;
/** What we know of a member that showed us nothing. */
const NOTHING_SHOWN = new RemoteCredentials();

export interface MemberEvents {
  config: [nwid: bigint, config: NetworkConfig];
  status: [nwid: bigint, status: NetworkStatus];
  revocation: [nwid: bigint, target: Address];
  /** A frame on a network from a member we accept. */
  frame: [nwid: bigint, source: Address, frame: Frame];
  /** A frame refused for want of a valid COM. */
  refused: [nwid: bigint, source: Address];
  /** A NETWORK_CREDENTIALS packet dropped by the receive rate limit. */
  credentialsThrottled: [source: Address];
}

export class NetworkMember extends EventEmitter<MemberEvents> {
  readonly networks = new Map<bigint, MemberNetwork>();
  /** Credentials we refused (bad signature, wrong signer or network, old, revoked), by kind. */
  readonly rejected = { com: 0, capability: 0, tag: 0, coo: 0, revocation: 0, throttled: 0 };
  private readonly leaf: SimpleLeaf;
  private readonly credentialsReceivedMs = new Map<Address, number>();
  private readonly metadata = encodeConfigRequestMetadata(standardConfigRequestMetadata({
    protocolVersion: 12, majorVersion: 1, minorVersion: 14, revision: 1, osArch: 'linux/x86_64',
  }));

  constructor(leaf: SimpleLeaf) {
    super();
    this.leaf = leaf;
    leaf.on('packet', (peer, verb, payload, inbound) => this.onPacket(peer, verb, payload, inbound));
    leaf.networks = {
      // a member we hold a COM of, or one we just sent ours to start talking: a 1.14 member pushes
      // its paths as soon as our first frame passes its gate, before its own COM reaches us
      acceptsPushFrom: (peer) => this.sharesNetworkWith(peer.address) ||
        this.leaf.node.now() - peer.push.credentialsSentMs < DIRECT_PATH_LIMITS.trustExpirationMs,
      insideOurNetworks: (at) => this.insideOurNetworks(at),
    };
    leaf.on('frame', (source, frame, _relayed, packetId) => this.onFrame(source, frame, packetId));
  }

  join(nwid: bigint): MemberNetwork {
    let n = this.networks.get(nwid);
    if (n) return n;
    n = {
      nwid, status: 'REQUESTING_CONFIGURATION', config: undefined, peerComs: new Map(), remote: new Map(), assembling: new Map(),
      credentialsPushedMs: new LRUCache({ max: MAX_CREDENTIAL_PUSHES }), configuredMs: 0, timer: undefined,
    };
    this.networks.set(nwid, n);
    this.schedule(n, 0);
    return n;
  }

  leave(nwid: bigint): void {
    const n = this.networks.get(nwid);
    if (n?.timer) clearTimeout(n.timer);
    this.networks.delete(nwid);
  }

  close(): void {
    for (const nwid of [...this.networks.keys()]) this.leave(nwid);
  }

  private schedule(n: MemberNetwork, delayMs: number): void {
    if (n.timer) clearTimeout(n.timer);
    n.timer = setTimeout(() => {
      void this.request(n);
      this.schedule(n, n.config ? REQUEST_PERIOD_MS.configured : REQUEST_PERIOD_MS.unconfigured);
    }, delayMs);
    n.timer.unref();
  }

  /** Ask the controller now (also what the timer does). */
  async request(n: MemberNetwork): Promise<void> {
    await this.leaf.sendVerb(controllerForNetwork(n.nwid), Verb.NETWORK_CONFIG_REQUEST, encodeNetworkConfigRequest({
      networkId: n.nwid, metadata: this.metadata, haveRevision: n.config?.revision ?? 0n, haveTimestamp: n.config?.timestamp ?? 0n,
    }));
  }

  private controllerIdentity(n: MemberNetwork): Identity | undefined {
    return this.leaf.node.peers.get(controllerForNetwork(n.nwid))?.identity;
  }

  private drop(reason: DropReason): void {
    this.leaf.node.stats.drop(reason);
  }

  private onPacket(peer: Peer, verb: number, payload: Uint8Array, inbound: Inbound): void {
    if (verb === Verb.OK && payload[0] === Verb.NETWORK_CONFIG_REQUEST) {
      const ok = decodeOkNetworkConfigRequest(payload);
      if (ok.ok) this.onChunk(peer, ok.value.chunk);
      else this.drop('bad-payload');
    } else if (verb === Verb.NETWORK_CONFIG) {
      const chunk = decodeConfigChunk(payload);
      if (!chunk.ok) return this.drop('bad-payload');
      const updateId = this.onChunk(peer, chunk.value);
      if (updateId !== undefined) {
        this.leaf.node.send(peer, Verb.OK, encodeNetworkConfigAck({ inRePacketId: inbound.packetId, networkId: chunk.value.networkId, updateId }));
      }
    } else if (verb === Verb.ERROR) {
      const e = decodeError(payload);
      if (!e.ok) return this.drop('bad-payload');
      if (e.value.networkId === undefined) return;
      if (e.value.errorCode === ErrorCode.NEED_MEMBERSHIP_CERTIFICATE) {
        const asking = this.networks.get(e.value.networkId);
        if (asking) void this.pushCredentials(asking, peer.address, CREDENTIALS_REQUEST_INTERVAL_MS);
        return;
      }
      if (e.value.inReVerb !== Verb.NETWORK_CONFIG_REQUEST) return;
      const n = this.networks.get(e.value.networkId);
      if (!n) return this.drop('unknown-network');
      if (peer.address !== controllerForNetwork(n.nwid)) return this.drop('not-controller');
      if (e.value.errorCode === ErrorCode.NETWORK_ACCESS_DENIED) this.setStatus(n, 'ACCESS_DENIED');
      else if (e.value.errorCode === ErrorCode.OBJ_NOT_FOUND || e.value.errorCode === ErrorCode.UNSUPPORTED_OPERATION) this.setStatus(n, 'NOT_FOUND');
    } else if (verb === Verb.NETWORK_CREDENTIALS) {
      this.onCredentials(peer, payload);
    } else if (verb === Verb.EXT_FRAME || verb === Verb.MULTICAST_FRAME) {
      // each network's port takes its own; here only what no port will see
      if (payload.length < 8) this.drop('bad-payload');
      else if (!this.networks.has(new DataView(payload.buffer, payload.byteOffset, 8).getBigUint64(0))) this.drop('unknown-network');
    }
  }

  private setStatus(n: MemberNetwork, status: NetworkStatus): void {
    if (n.status === status) return;
    n.status = status;
    this.emit('status', n.nwid, status);
  }

  /** Network::handleConfigChunk: returns the update ID when the chunk was accepted. */
  private onChunk(peer: Peer, chunk: ConfigChunk): bigint | undefined {
    const n = this.networks.get(chunk.networkId);
    if (!n) return this.dropped('unknown-network');
    if (peer.address !== controllerForNetwork(n.nwid)) return this.dropped('not-controller');
    const controller = this.controllerIdentity(n);
    if (!chunk.signed || !controller || !verifyConfigChunk(chunk, controller)) return this.dropped('bad-signature');
    const s = chunk.signed;
    let a = n.assembling.get(s.updateId);
    if (!a) {
      if (n.assembling.size >= MAX_PENDING_UPDATES) n.assembling.delete(n.assembling.keys().next().value!);
      a = { total: s.totalLength, parts: new Map() };
      n.assembling.set(s.updateId, a);
    }
    if (a.total !== s.totalLength) return this.dropped('bad-config');
    a.parts.set(s.chunkIndex, Uint8Array.from(chunk.data));
    const have = [...a.parts.values()].reduce((sum, p) => sum + p.length, 0);
    if (have < a.total) return s.updateId;
    n.assembling.delete(s.updateId);
    const whole = new Uint8Array(a.total);
    for (const [at, part] of a.parts) whole.set(part, at);
    const config = decodeNetworkConfig(whole);
    if (!config.ok || config.value.issuedTo !== this.leaf.address || config.value.networkId !== n.nwid) return this.dropped('bad-config');
    n.config = config.value;
    n.configuredMs = this.leaf.node.now();
    for (const m of n.remote.values()) m.clean(config.value);
    this.setStatus(n, 'OK');
    this.emit('config', n.nwid, config.value);
    return s.updateId;
  }

  /** Count a drop; undefined, for the chunk handler's "not accepted". */
  private dropped(reason: DropReason): undefined {
    this.drop(reason);
    return undefined;
  }

  /** _doNETWORK_CREDENTIALS: each credential goes to the network it names, kept under the member it was issued to. */
  private onCredentials(peer: Peer, payload: Uint8Array): void {
    const now = this.leaf.node.now();
    if (now - (this.credentialsReceivedMs.get(peer.address) ?? -Infinity) < CREDENTIALS_RECEIVE_INTERVAL_MS) {
      this.rejected.throttled++;
      this.emit('credentialsThrottled', peer.address);
      return;
    }
    if (this.credentialsReceivedMs.size >= CREDENTIAL_SENDERS_REMEMBERED) this.credentialsReceivedMs.clear();
    this.credentialsReceivedMs.set(peer.address, now);
    const c = decodeNetworkCredentials(payload);
    if (!c.ok) return this.drop('bad-payload');
    for (const com of c.value.coms) {
      const nwid = com.qualifiers.find((q) => q.id === 1n)?.value;
      const n = nwid === undefined ? undefined : this.networks.get(nwid);
      if (n) this.addCom(n, peer, com);
      else this.drop('unknown-network');
    }
    for (const cap of c.value.capabilities) this.addRemote(cap.networkId, capabilityIssuedTo(cap), 'capability', cap, (n) => this.capabilityChainValid(n, cap));
    for (const tag of c.value.tags) {
      this.addRemote(tag.networkId, tag.issuedTo, 'tag', tag, (n, controller) => tag.signedBy === controllerForNetwork(n.nwid) && verifyTag(tag, controller));
    }
    for (const rev of c.value.revocations) this.addRevocation(peer.address, rev);
    for (const coo of c.value.certificatesOfOwnership) {
      this.addRemote(coo.networkId, coo.issuedTo, 'coo', coo, (n, controller) => coo.signedBy === controllerForNetwork(n.nwid) && verifyCoo(coo, controller));
    }
  }

  /** What member `address` showed us on the network (an empty record when nothing). */
  remoteOf(n: MemberNetwork, address: Address): RemoteCredentials {
    return n.remote.get(address) ?? NOTHING_SHOWN;
  }

  private remoteFor(n: MemberNetwork, address: Address): RemoteCredentials {
    let m = n.remote.get(address);
    if (!m) {
      m = new RemoteCredentials();
      n.remote.set(address, m);
    }
    return m;
  }

  /** Network::addCredential for a tag, capability or COO: our network, a member, checked as 1.14 does. */
  private addRemote<K extends 'tag' | 'capability' | 'coo'>(
    nwid: bigint, issuedTo: Address, kind: K, cred: Parameters<RemoteCredentials['add']>[1] & { networkId: bigint },
    verify: (n: MemberNetwork, controller: Identity) => boolean,
  ): void {
    const n = this.networks.get(nwid);
    const controller = n && this.controllerIdentity(n);
    if (!n || !controller || issuedTo === 0 || issuedTo === this.leaf.address) {
      this.rejected[kind]++;
      return;
    }
    const had = n.remote.get(issuedTo);
    if (!had && n.remote.size >= MEMBERS_REMEMBERED) {
      this.rejected[kind]++;
      return;
    }
    const m = had ?? new RemoteCredentials();
    const result = m.add(kind, cred as never, () => verify(n, controller));
    if (result === 'rejected') this.rejected[kind]++;
    else n.remote.set(issuedTo, m); // only members with a credential that checked out are remembered
  }

  /**
   * Capability::verify: the first custody link from the network's controller, each further one
   * from the previous holder, every signature good (a signer we do not know fails it: 1.14 would
   * ask WHOIS and judge it on a later push).
   */
  private capabilityChainValid(n: MemberNetwork, cap: Capability): boolean {
    if (cap.custody.length === 0 || cap.custody[0].from !== controllerForNetwork(n.nwid)) return false;
    for (const [i, link] of cap.custody.entries()) {
      if (link.to === 0 || link.from === 0 || (i > 0 && link.from !== cap.custody[i - 1].to)) return false;
      const signer = this.leaf.node.peers.get(link.from)?.identity;
      if (!signer || !verifyCustodyLink(cap, i, signer)) return false;
    }
    return true;
  }

  /**
   * Network::addCredential(Revocation): signed by the network's controller, applied to its target;
   * a new one flagged fast-propagate goes on to the other members we know, as 1.14 does.
   */
  private addRevocation(sentFrom: Address, rev: Revocation): void {
    const n = this.networks.get(rev.networkId);
    const controller = n && this.controllerIdentity(n);
    if (!n || !controller || rev.signedBy !== controllerForNetwork(n.nwid) || !verifyRevocation(rev, controller)) {
      this.rejected.revocation++;
      return;
    }
    if (!n.remote.has(rev.target) && n.remote.size >= MEMBERS_REMEMBERED) {
      this.rejected.revocation++;
      return;
    }
    const result = this.remoteFor(n, rev.target).revoke(rev.credentialType, rev.credentialId, rev.threshold);
    if (result === 'rejected') {
      this.rejected.revocation++;
      return;
    }
    this.emit('revocation', n.nwid, rev.target);
    if (result !== 'new' || (rev.flags & RevocationFlag.fastPropagate) === 0n) return;
    const payload = encodeNetworkCredentials({ revocations: [rev] });
    for (const member of new Set([...n.remote.keys(), ...n.peerComs.keys()])) {
      if (member !== sentFrom && member !== rev.signedBy && member !== this.leaf.address) void this.leaf.sendVerb(member, Verb.NETWORK_CREDENTIALS, payload).catch(() => {});
    }
  }

  /**
   * A member's COM, pushed or carried inline in an EXT_FRAME / MULTICAST_FRAME: kept when the
   * controller signed it, it was issued to that member, it agrees with ours and is not revoked.
   */
  addCom(n: MemberNetwork, peer: Peer, com: CertificateOfMembership): void {
    if (!n.config?.com) return this.drop('unknown-network');
    const controller = this.controllerIdentity(n);
    const ts = comTimestamp(com) ?? 0n;
    if (!controller || !comIsSignedByController(com) || !verifyCom(com, controller)) {
      this.rejected.com++;
      return this.drop('bad-signature');
    }
    if (ts <= this.remoteOf(n, peer.address).comRevokedAtOrBefore || !comAgreesWith(n.config.com, com, peer.identity)) {
      this.rejected.com++;
      return this.drop('credential-mismatch');
    }
    const had = n.peerComs.get(peer.address);
    if (!had || (comTimestamp(had) ?? 0n) <= ts) n.peerComs.set(peer.address, com);
  }

  /**
   * Whether frames from `source` are accepted on the network (public, or a valid COM). Like 1.14's
   * Network::gate, a yes also marks the peer trusted, which lets us push it our direct paths.
   */
  accepts(n: MemberNetwork, source: Address): boolean {
    if (!n.config) return false;
    const com = n.config.type === NetworkType.public ? undefined : n.peerComs.get(source);
    const ok = n.config.type === NetworkType.public || (com !== undefined && (comTimestamp(com) ?? 0n) > this.remoteOf(n, source).comRevokedAtOrBefore);
    const peer = ok ? this.leaf.node.peers.get(source) : undefined;
    if (peer) this.leaf.directPaths.trust(peer);
    return ok;
  }

  /** A configured network we are in has `address` as a member we accept, or as its controller. */
  sharesNetworkWith(address: Address): boolean {
    for (const n of this.networks.values()) {
      if (!n.config) continue;
      if (n.config.type === NetworkType.public || n.peerComs.has(address) || controllerForNetwork(n.nwid) === address) return true;
    }
    return false;
  }

  /** An address inside one of our networks' managed addresses (1.14 never uses one as a physical path). */
  insideOurNetworks(at: IpAddress): boolean {
    for (const n of this.networks.values()) {
      for (const ip of n.config?.staticIps ?? []) if (ip.family !== 0 && containsAddress(ip, at)) return true;
    }
    return false;
  }

  /**
   * Network::gate on a frame: true when it is accepted; otherwise the sender is told
   * ERROR(NEED_MEMBERSHIP_CERTIFICATE), in reply to that packet, so that it pushes its COM now
   * rather than at its next scheduled push.
   */
  gate(n: MemberNetwork, source: Address, inReVerb: number, inRePacketId: bigint): boolean {
    if (this.accepts(n, source)) return true;
    const peer = this.leaf.node.peers.get(source);
    if (peer) {
      this.leaf.node.send(peer, Verb.ERROR, encodeError({ inReVerb, inRePacketId, errorCode: ErrorCode.NEED_MEMBERSHIP_CERTIFICATE, networkId: n.nwid }));
    }
    this.drop('not-member');
    this.emit('refused', n.nwid, source);
    return false;
  }

  /**
   * The NETWORK_CREDENTIALS payloads due to a member (Membership::pushCredentials): ours, unless it
   * had them less than `minIntervalMs` ago and our config has not changed since. Marks them sent.
   */
  credentialsDue(n: MemberNetwork, to: Address, minIntervalMs = CREDENTIAL_PUSH_INTERVAL_MS): Uint8Array[] {
    if (!n.config) return [];
    const now = this.leaf.node.now();
    const last = n.credentialsPushedMs.get(to) ?? -Infinity;
    if (now - last < minIntervalMs && last >= n.configuredMs) return [];
    n.credentialsPushedMs.set(to, now);
    return credentialPushPayloads(n.config);
  }

  /** Our credentials to a member when they are due (credentialsDue). Never rejects. */
  async pushCredentials(n: MemberNetwork, to: Address, minIntervalMs = CREDENTIAL_PUSH_INTERVAL_MS): Promise<void> {
    for (const payload of this.credentialsDue(n, to, minIntervalMs)) {
      await this.leaf.sendVerb(to, Verb.NETWORK_CREDENTIALS, payload).catch(() => {});
    }
  }

  private onFrame(source: Address, frame: Frame, packetId: bigint): void {
    const n = this.networks.get(frame.networkId);
    if (!n) return this.drop('unknown-network');
    if (this.gate(n, source, Verb.FRAME, packetId)) this.emit('frame', n.nwid, source, frame);
  }

  /** A frame to a member, our credentials first when it has not had them lately (a 1.14 member of a private network drops frames from members it has no COM for). */
  async sendFrame(to: Address, frame: Frame): Promise<'direct' | 'relayed' | 'unreachable'> {
    const n = this.networks.get(frame.networkId);
    if (n) await this.pushCredentials(n, to);
    return this.leaf.sendFrame(to, frame);
  }
}
