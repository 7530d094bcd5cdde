// Relaying packets and fragments addressed to other nodes (03-packet.md §8,
// 08-root-behaviour.md §3.5): a header peek, the hop count raised in place, one shared-table
// lookup and one send — no crypto and no allocation per packet.

import type { Address } from '../identity/address.ts';
import { HeaderFlag, PacketOffset } from '../wire/constants.ts';
import { createDatagramPeek, incrementHopsForRelay, peekDatagram } from '../wire/packet.ts';
import type { NativeUdpTransport, RawSource } from './batch-udp.ts';
import type { Node } from './node.ts';
import { createPathLookup, ip4Text, ip6Text } from './shared-peer-table.ts';
import type { LocalSocket } from './udp.ts';

export class Relay {
  private readonly node: Node;
  private readonly peek = createDatagramPeek();
  private readonly lookup = createPathLookup();
  /** The batch transport's sendToPath, when the transport has one (no address text per packet). */
  private readonly sendToPath: NativeUdpTransport['sendToPath'] | undefined;

  constructor(node: Node) {
    this.node = node;
    this.sendToPath = (node.transport as Partial<NativeUdpTransport>).sendToPath?.bind(node.transport);
  }

  /**
   * The batch transport's fast path: relay a datagram for another node in place in the receive
   * ring (the view is valid only during this call; sending copies it). Returns false to hand
   * anything else — packets for us, beacons, junk — to receive().
   */
  fromRing(view: Uint8Array, _source: RawSource, _socket: LocalSocket): boolean {
    const peek = this.peek;
    const kind = peekDatagram(view, peek);
    if ((kind !== 'packet' && kind !== 'fragment') || peek.destination === this.node.address) return false;
    this.node.stats.datagramsIn++;
    this.node.stats.bytesIn += view.length;
    try {
      this.forward(view, kind === 'fragment', peek.destination, peek.source);
    } catch (e) {
      this.node.stats.drop('internal-error');
      this.node.log.error('relay failed', { error: (e as Error).message });
    }
    return true;
  }

  forward(d: Uint8Array, fragment: boolean, destination: Address, source: Address): void {
    if (this.node.relayMaxHops === 0) {
      this.node.stats.relayed('not-relaying');
      return this.node.stats.drop('not-relaying');
    }
    if (!incrementHopsForRelay(d, this.node.relayMaxHops)) {
      this.node.stats.relayed('hop-limit');
      return this.node.stats.drop('hop-limit');
    }
    const path = this.node.peerTable.lookup(destination, this.lookup);
    if (!path.found || !this.node.transport.sockets[path.socket]) {
      if (this.node.hooks.onRelayUnknownDestination?.(d, destination)) return void this.node.stats.relayed('to-sibling');
      this.node.stats.relayed('unknown-destination');
      return this.node.stats.drop('relay-unknown-destination');
    }
    this.node.stats.datagramsOut++;
    this.node.stats.bytesOut += d.length;
    if (this.sendToPath) this.sendToPath(path.socket, path, d);
    else this.node.transport.sendToHost(path.socket, path.family === 4 ? ip4Text(path.ip4) : ip6Text(path.ip6), path.port, d);
    this.node.stats.relayed('forwarded');
    this.node.stats.relayedBytes += d.length;
    if (!fragment) this.node.hooks.onRelayed?.(source, destination, d[PacketOffset.flags] & HeaderFlag.hopsMask);
  }
}
