// Network membership for the simple leaf, as a 1.14 member does it (07-network-config-controller.md
// §6-§7): request the config from the controller (nwid >> 24), reassemble and verify signed
// chunks, apply a config issued to us, acknowledge pushes with OK(ECHO), follow the controller's
// errors, and on private networks exchange COMs with other members — a frame is accepted only
// from a member whose COM is signed by the controller, agrees with ours and is not revoked.

import { EventEmitter } from 'node:events';
import type { Address } from '../identity/address.ts';
import type { Identity } from '../identity/identity.ts';
import type { Inbound } from '../node/node.ts';
import type { Peer } from '../node/peer.ts';
import type { DropReason } from '../node/stats.ts';
import { CredentialType, ErrorCode, NetworkType, Verb } from '../wire/constants.ts';
import { comAgreesWith, comIsSignedByController, comTimestamp, verifyCom, type CertificateOfMembership } from '../wire/credentials/com.ts';
import { verifyRevocation } from '../wire/credentials/revocation.ts';
import { encodeConfigRequestMetadata, standardConfigRequestMetadata } from '../wire/netconf/metadata.ts';
import { decodeNetworkConfig, type NetworkConfig } from '../wire/netconf/network-config.ts';
import { decodeError } from '../wire/verbs/error.ts';
import type { Frame } from '../wire/verbs/frame.ts';
import { decodeNetworkCredentials, encodeNetworkCredentials } from '../wire/verbs/network-credentials.ts';
import { controllerForNetwork, encodeNetworkConfigRequest } from '../wire/verbs/network-config-request.ts';
import {
  decodeConfigChunk, decodeOkNetworkConfigRequest, encodeNetworkConfigAck, verifyConfigChunk, type ConfigChunk,
} from '../wire/verbs/network-config.ts';
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
  /** COM revocation thresholds by member (COMs older than this are refused). */
  readonly revokedBefore: Map<Address, bigint>;
  readonly assembling: Map<bigint, Assembly>;
  timer: NodeJS.Timeout | undefined;
}

export interface MemberEvents {
  config: [nwid: bigint, config: NetworkConfig];
  status: [nwid: bigint, status: NetworkStatus];
  revocation: [nwid: bigint, target: Address];
  /** A frame on a network from a member we accept. */
  frame: [nwid: bigint, source: Address, frame: Frame];
  /** A frame refused for want of a valid COM. */
  refused: [nwid: bigint, source: Address];
}

export class NetworkMember extends EventEmitter<MemberEvents> {
  readonly networks = new Map<bigint, MemberNetwork>();
  private readonly leaf: SimpleLeaf;
  private readonly metadata = encodeConfigRequestMetadata(standardConfigRequestMetadata({
    protocolVersion: 12, majorVersion: 1, minorVersion: 14, revision: 1, osArch: 'linux/x86_64',
  }));

  constructor(leaf: SimpleLeaf) {
    super();
    this.leaf = leaf;
    leaf.on('packet', (peer, verb, payload, inbound) => this.onPacket(peer, verb, payload, inbound));
    leaf.on('frame', (source, frame) => this.onFrame(source, frame));
  }

  join(nwid: bigint): MemberNetwork {
    let n = this.networks.get(nwid);
    if (n) return n;
    n = { nwid, status: 'REQUESTING_CONFIGURATION', config: undefined, peerComs: new Map(), revokedBefore: new Map(), assembling: new Map(), timer: undefined };
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
      if (e.value.inReVerb !== Verb.NETWORK_CONFIG_REQUEST || e.value.networkId === undefined) return;
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
    this.setStatus(n, 'OK');
    this.emit('config', n.nwid, config.value);
    return s.updateId;
  }

  /** Count a drop; undefined, for the chunk handler's "not accepted". */
  private dropped(reason: DropReason): undefined {
    this.drop(reason);
    return undefined;
  }

  private onCredentials(peer: Peer, payload: Uint8Array): void {
    const c = decodeNetworkCredentials(payload);
    if (!c.ok) return this.drop('bad-payload');
    for (const com of c.value.coms) {
      const nwid = com.qualifiers.find((q) => q.id === 1n)?.value;
      const n = nwid === undefined ? undefined : this.networks.get(nwid);
      if (!n?.config?.com) {
        this.drop('unknown-network');
        continue;
      }
      const controller = this.controllerIdentity(n);
      if (!controller || !comIsSignedByController(com) || !verifyCom(com, controller)) {
        this.drop('bad-signature');
        continue;
      }
      if (!comAgreesWith(n.config.com, com, peer.identity)) {
        this.drop('credential-mismatch');
        continue;
      }
      const ts = comTimestamp(com) ?? 0n;
      if (ts < (n.revokedBefore.get(peer.address) ?? 0n)) {
        this.drop('credential-mismatch');
        continue;
      }
      const had = n.peerComs.get(peer.address);
      if (!had || (comTimestamp(had) ?? 0n) <= ts) n.peerComs.set(peer.address, com);
    }
    for (const rev of c.value.revocations) {
      const n = this.networks.get(rev.networkId);
      if (!n) {
        this.drop('unknown-network');
        continue;
      }
      const controller = this.controllerIdentity(n);
      if (!controller || rev.signedBy !== controller.address || !verifyRevocation(rev, controller)) {
        this.drop('bad-signature');
        continue;
      }
      if (rev.credentialType !== CredentialType.com) continue;
      n.revokedBefore.set(rev.target, rev.threshold);
      const com = n.peerComs.get(rev.target);
      if (com && (comTimestamp(com) ?? 0n) < rev.threshold) n.peerComs.delete(rev.target);
      this.emit('revocation', n.nwid, rev.target);
    }
  }

  /** Whether frames from `source` are accepted on the network (public, or a valid COM). */
  accepts(n: MemberNetwork, source: Address): boolean {
    if (!n.config) return false;
    if (n.config.type === NetworkType.public) return true;
    return n.peerComs.has(source);
  }

  private onFrame(source: Address, frame: Frame): void {
    const n = this.networks.get(frame.networkId);
    if (!n) return this.drop('unknown-network');
    if (this.accepts(n, source)) this.emit('frame', n.nwid, source, frame);
    else {
      this.drop('not-member');
      this.emit('refused', n.nwid, source);
    }
  }

  /** Our COM to a member (as 1.14 pushes credentials before talking), then a frame. */
  async sendFrame(to: Address, frame: Frame): Promise<'direct' | 'relayed' | 'unreachable'> {
    const n = this.networks.get(frame.networkId);
    if (n?.config?.com) await this.leaf.sendVerb(to, Verb.NETWORK_CREDENTIALS, encodeNetworkCredentials({ coms: [n.config.com] }));
    return this.leaf.sendFrame(to, frame);
  }
}
