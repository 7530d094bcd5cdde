// HELLO: a peer's identity settled, its packet checked and answered (docs/protocol/04-verbs.md §4,
// docs/protocol/08-root-behaviour.md §3.3). An identity never accepted before is admitted here: remembered
// failures, a per-source token bucket and a bounded backlog come before the key agreement, and the
// memory-hard validation runs off the packet thread. Each refused HELLO is counted once, by reason.

import { LRUCache } from 'lru-cache';
import { formatAddress, type Address } from '../identity/address.ts';
import { deserializeIdentity, type Identity } from '../identity/identity.ts';
import { agree } from '../crypto/c25519.ts';
import { dearmor } from '../wire/armor.ts';
import { Cipher, ErrorCode, PacketOffset, PROTO_VERSION_MIN, Verb } from '../wire/constants.ts';
import type { IpAddress } from '../wire/inet-address.ts';
import { encodeError } from '../wire/verbs/error.ts';
import { decodeHello, encodeOkHello, HELLO_IDENTITY_OFFSET, type HelloReveal } from '../wire/verbs/hello.ts';
import { sourceBucket } from './ip-scope.ts';
import type { NativeHelloTable } from './native-hello.ts';
import { startNativeHelloPath } from './native-hello-path.ts';
import { SOFTWARE_VERSION, type Inbound, type Node } from './node.ts';
import { Peer } from './peer.ts';
import { concatWorlds } from './sender.ts';

/**
 * New identities one thread may have waiting for validation. Beyond it a new identity is refused
 * before its key agreement: under a flood of fresh identities the thread spends at most what the
 * validation pool can absorb, and known peers keep their CPU.
 */
export const DEFAULT_VALIDATION_BACKLOG = 64;
const EMPTY = new Uint8Array(0);
/** Identities that failed validation, remembered so a repeat costs nothing. */
const FAILED_IDENTITY_MEMORY = 16384;
/** Source networks whose admission buckets are kept; a flood of sources beyond this resets them. */
const ADMISSION_BUCKETS = 65536;

interface AdmissionBucket { tokens: number; updatedMs: number }
/** How a new identity's validation ended for the HELLOs waiting on it: admitted, or a drop reason. */
type AdmissionOutcome = 'admitted' | 'validation-queue-full' | 'invalid-identity' | 'identity-collision' | 'internal-error';

export class HelloIntake {
  private readonly node: Node;
  private readonly failedIdentities = new LRUCache<string, true>({ max: FAILED_IDENTITY_MEMORY });
  private readonly pendingValidations = new Map<Address, { peer: Peer; done: Promise<AdmissionOutcome> }>();
  private readonly validationBacklog: number;
  private readonly buckets = new Map<string, AdmissionBucket>();
  /** Reused for every HELLO decoded (one packet at a time per thread). */
  private readonly reveal: HelloReveal = { packet: new Uint8Array(0), key: new Uint8Array(0) };
  /** The addon's known-peer table when the native path answers HELLOs (native-hello-path.ts). */
  readonly native: NativeHelloTable | undefined;

  constructor(node: Node) {
    this.node = node;
    this.validationBacklog = node.options.validationBacklog ?? DEFAULT_VALIDATION_BACKLOG;
    this.native = startNativeHelloPath(node);
  }

  receive(p: Uint8Array, source: Address, inbound: Inbound): void {
    const payload = p.subarray(PacketOffset.payload);
    if (payload.length < 5 || payload[0] < PROTO_VERSION_MIN) return this.node.stats.drop('old-protocol');
    // the common case, a known peer's HELLO, needs no identity decoded
    const cached = this.node.peers.get(source);
    if (cached && cached.identity.isSerializedAt(payload, HELLO_IDENTITY_OFFSET)) return this.finishHello(cached, p, inbound);
    const decodedId = deserializeIdentity(payload, HELLO_IDENTITY_OFFSET);
    if (typeof decodedId === 'string') return this.node.stats.drop('bad-payload');
    const identity = decodedId.identity;
    if (identity.address !== source) return this.node.stats.drop('hello-address-mismatch');

    const known = this.node.peers.get(source);
    if (known) {
      if (known.identity.equals(identity)) return this.finishHello(known, p, inbound);
      return this.identityCollision(identity, p, inbound);
    }
    const stored = this.node.store.get(source) ?? this.node.topology.upstreams().get(source)?.identity;
    if (stored) {
      if (!stored.equals(identity)) return this.identityCollision(identity, p, inbound);
      const peer = this.node.restorePeer(stored);
      if (peer) this.finishHello(peer, p, inbound);
      return;
    }
    this.admitNewIdentity(identity, p, inbound);
  }

  /** A different key claims a known address: if that key really sent it, say so; the first keeps it. */
  private identityCollision(identity: Identity, p: Uint8Array, inbound: Inbound): void {
    this.node.stats.drop('identity-collision');
    const key = agree(this.node.identity.privateKey!, identity.publicKey);
    if (!key) return;
    const claimant = new Peer(identity, key);
    const copy = Uint8Array.from(p);
    if (!dearmor(copy, claimant.key).ok) return;
    this.node.sendTo(claimant, inbound.socket, inbound.from, Verb.ERROR, encodeError({
      inReVerb: Verb.HELLO, inRePacketId: inbound.packetId, errorCode: ErrorCode.IDENTITY_COLLISION,
    }), Cipher.poly1305Salsa2012);
  }

  /**
   * A HELLO from an identity we have never accepted. Cheapest checks first: remembered failures,
   * the per-source admission gate and this thread's validation backlog, then key agreement and
   * the MAC, and only then the memory-hard validation (off this thread). Repeats while it runs
   * share one validation; each HELLO refused is counted once, by reason.
   */
  private admitNewIdentity(identity: Identity, p: Uint8Array, inbound: Inbound): void {
    const fingerprint = `${identity.address}:${Buffer.from(identity.publicKey).toString('hex')}`;
    if (this.failedIdentities.has(fingerprint)) return this.node.stats.drop('invalid-identity');
    let pending = this.pendingValidations.get(identity.address);
    if (pending && !pending.peer.identity.equals(identity)) return this.node.stats.drop('identity-collision');
    if (!pending) {
      if (!this.admit(inbound.from)) return this.node.stats.drop('admission-limited');
      if (this.pendingValidations.size >= this.validationBacklog) return this.node.stats.drop('validation-queue-full');
      const key = agree(this.node.identity.privateKey!, identity.publicKey);
      if (!key) return this.node.stats.drop('invalid-identity');
      const peer = new Peer(identity, key);
      if (!dearmor(Uint8Array.from(p), peer.key).ok) return this.node.stats.drop('bad-mac');
      const done = this.node.validation.submit(identity).then((outcome): AdmissionOutcome => {
        this.pendingValidations.delete(identity.address);
        if (outcome === 'queue-full' || outcome === 'closed') return 'validation-queue-full';
        this.node.stats.validation(outcome.valid, outcome.micros);
        if (!outcome.valid) {
          this.failedIdentities.set(fingerprint, true);
          this.node.log.debug('identity failed validation', { address: formatAddress(identity.address) });
          return 'invalid-identity';
        }
        return this.node.store.put(identity, this.node.now()) === 'collision' ? 'identity-collision' : 'admitted';
      }).catch((e: unknown): AdmissionOutcome => {
        // the cache could not be written (disk full, read-only home): refuse, never crash
        this.pendingValidations.delete(identity.address);
        this.node.log.error('identity admission failed', { error: (e as Error).message });
        return 'internal-error';
      });
      pending = { peer, done };
      this.pendingValidations.set(identity.address, pending);
    } else if (!dearmor(Uint8Array.from(p), pending.peer.key).ok) {
      return this.node.stats.drop('bad-mac');
    }
    const candidate = pending.peer;
    void pending.done.then((outcome) => {
      if (outcome !== 'admitted') return void this.node.stats.drop(outcome);
      try {
        const peer = this.node.peers.get(identity.address) ?? this.node.addPeer(identity, candidate);
        if (peer && peer.identity.equals(identity)) this.finishHello(peer, p, inbound);
      } catch (e) {
        this.node.stats.drop('internal-error');
        this.node.log.error('HELLO after validation failed', { error: (e as Error).message });
      }
    });
  }

  /** Token bucket per source /24 or /48 for identities we have never seen. */
  private admit(from: IpAddress): boolean {
    const cfg = this.node.options.admission ?? { burst: 16, refillMs: 500 };
    const now = this.node.now();
    const k = sourceBucket(from);
    let b = this.buckets.get(k);
    if (!b) {
      if (this.buckets.size > ADMISSION_BUCKETS) this.buckets.clear();
      b = { tokens: cfg.burst, updatedMs: now };
      this.buckets.set(k, b);
    }
    b.tokens = Math.min(cfg.burst, b.tokens + (now - b.updatedMs) / cfg.refillMs);
    b.updatedMs = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Verify, decode and answer a HELLO from a peer whose identity is settled. */
  private finishHello(peer: Peer, p: Uint8Array, inbound: Inbound): void {
    if (!dearmor(p, peer.key).ok) return this.node.stats.drop('bad-mac');
    this.reveal.packet = p;
    this.reveal.key = peer.key.salsaKey;
    const decoded = decodeHello(p.subarray(PacketOffset.payload), peer.identity, this.reveal);
    this.reveal.packet = EMPTY;
    if (!decoded.ok) return this.node.stats.drop('bad-payload');
    const hello = decoded.value;
    const now = this.node.now();
    this.node.stats.verbIn(Verb.HELLO);
    peer.lastReceiveMs = now;
    // the native path may have answered this peer since this thread last booked it
    const lastReply = this.native ? Math.max(peer.lastHelloReplyMs, this.native.lastReply(peer.address) ?? -Infinity) : peer.lastHelloReplyMs;
    if (now - lastReply >= (this.node.options.helloReplySpacingMs ?? 0)) {
      peer.lastHelloReplyMs = now;
      const worlds = this.node.topology.updatesFor(hello.planet, hello.moons);
      this.node.reply(peer, inbound, Verb.OK, encodeOkHello({
        inRePacketId: inbound.packetId,
        timestamp: hello.timestamp,
        protocolVersion: this.node.protocolVersion,
        majorVersion: SOFTWARE_VERSION.major,
        minorVersion: SOFTWARE_VERSION.minor,
        revision: SOFTWARE_VERSION.revision,
        externalAddress: hello.protocolVersion < 5 ? { ...inbound.from, port: 0 } : inbound.from,
        worlds: concatWorlds(worlds),
      }));
    } else {
      this.node.stats.drop('rate-limited');
    }
    // After the reply, as 1.14 does: a root learns the path; under 'ok-only' an unknown path is
    // not learned from a HELLO but confirmed with a HELLO of our own (its OK teaches it).
    this.node.notePath(peer, Verb.HELLO, inbound, now);
    // recorded after the reply, so the first OK(HELLO) to a new peer is Salsa20 as in 1.14
    peer.noteVersion(hello.protocolVersion, hello.majorVersion, hello.minorVersion, hello.revision);
    this.node.hooks.onHello?.(peer, hello, inbound);
    // from now on the native path answers it (an upstream's paths follow rules it does not know)
    if (this.native && !this.node.topology.isUpstream(peer.address)) this.native.register(peer);
  }
}
