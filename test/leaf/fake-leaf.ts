// A stand-in for SimpleLeaf under NetworkMember: known peers by identity, a settable clock, sent
// packets recorded, and `push` to deliver a NETWORK_CREDENTIALS packet from a peer.

import { EventEmitter } from 'node:events';
import type { Identity } from '../../src/identity/identity.ts';
import type { SimpleLeaf } from '../../src/leaf/simple-leaf.ts';
import { Verb } from '../../src/wire/constants.ts';
import { encodeNetworkCredentials } from '../../src/wire/verbs/network-credentials.ts';

export class FakeLeaf extends EventEmitter {
  readonly address: number;
  clock = 1_000_000;
  readonly sent: { to: number; verb: number; payload: Uint8Array }[] = [];
  readonly node: {
    peers: Map<number, { address: number; identity: Identity }>; now: () => number; send: () => void;
    stats: { drops: Map<string, number>; drop(reason: string): void };
  };
  /** Direct-path trust is not under test here. */
  readonly directPaths = { trust: (): void => {} };

  constructor(self: Identity, known: Identity[]) {
    super();
    this.address = self.address;
    this.node = {
      peers: new Map([self, ...known].map((id) => [id.address, { address: id.address, identity: id.publicOnly() }])),
      now: () => this.clock,
      send: () => {},
      stats: { drops: new Map(), drop(reason) { this.drops.set(reason, (this.drops.get(reason) ?? 0) + 1); } },
    };
  }

  get asLeaf(): SimpleLeaf {
    return this as unknown as SimpleLeaf;
  }

  async sendVerb(to: number, verb: number, payload: Uint8Array): Promise<{ how: 'direct' }> {
    this.sent.push({ to, verb, payload });
    return { how: 'direct' };
  }

  /** NETWORK_CREDENTIALS from `from`, a second after the last (past the receive rate limit). */
  push(from: Identity, c: Parameters<typeof encodeNetworkCredentials>[0] | Uint8Array): void {
    this.clock += 1000;
    const payload = c instanceof Uint8Array ? c : encodeNetworkCredentials(c);
    this.emit('packet', this.node.peers.get(from.address), Verb.NETWORK_CREDENTIALS, payload, { packetId: 1n, hops: 0 });
  }
}
