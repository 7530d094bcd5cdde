// The node's side of the native known-peer HELLO path (native/src/hello_fast.h, native-hello.ts):
// the table is made when the node's settings are the ones the addon implements, kept up to date
// with the worlds we serve, and attached to the batch transport; what the addon did is booked
// here (peers alive on their paths, versions) and its counts folded into NodeStats.

import { Verb } from '../wire/constants.ts';
import type { NativeUdpTransport } from './batch-udp.ts';
import { NativeHelloTable, readRecord, recordAddress, RecordFlag } from './native-hello.ts';
import { SOFTWARE_VERSION, type Node } from './node.ts';
import type { LocalSocket } from './udp.ts';

/** Peers the table holds when the node keeps every peer (no peerCacheEntries). */
const DEFAULT_NATIVE_HELLO_PEERS = 16384;

/**
 * The native path's table, attached to the node's transport: only with the batch transport,
 * alwaysSalsa (its replies are cipher 1), 'authenticated' path learning, the system clock (the
 * addon keeps its own) and no onHello hook; undefined otherwise or when the addon lacks it.
 */
export function startNativeHelloPath(node: Node): NativeHelloTable | undefined {
  const o = node.options;
  const transport = node.transport as Partial<NativeUdpTransport>;
  if (!o.nativeHello || !transport.attachHello || !o.alwaysSalsa || o.pathLearning !== 'authenticated' || o.clock || o.hooks?.onHello) return undefined;
  const table = NativeHelloTable.create({
    address: node.address, protocolVersion: node.protocolVersion, version: SOFTWARE_VERSION,
    spacingMs: o.helloReplySpacingMs ?? 0, peers: o.peerCacheEntries ?? DEFAULT_NATIVE_HELLO_PEERS,
  });
  if (typeof table === 'string') {
    node.log.info('native HELLO path unavailable', { reason: table });
    return undefined;
  }
  const topology = node.topology;
  const worlds = (): void => table.setWorlds(topology.planet, topology.moons);
  worlds();
  topology.onWorldsChanged(worlds);
  transport.attachHello(table, (records, count, socket) => {
    book(node, table, records, count, socket);
    collectCounts(node, table);
  });
  node.stats.addCollector(() => collectCounts(node, table));
  return table;
}

/**
 * What the addon did for a batch: the peers it answered (or held back by the reply spacing) are
 * alive on the path they used, with the version their HELLO gave. A peer this thread cannot
 * rebuild any more goes back to the TypeScript path.
 */
function book(node: Node, table: NativeHelloTable, records: Uint8Array, count: number, socket: LocalSocket): void {
  const now = node.now();
  for (let i = 0; i < count; i++) {
    const address = recordAddress(records, i);
    const peer = node.peerFor(address);
    if (!peer) {
      table.forget(address);
      continue;
    }
    const r = readRecord(records, i);
    peer.lastReceiveMs = now;
    if (r.flags & RecordFlag.answered) peer.lastHelloReplyMs = now;
    node.notePath(peer, Verb.HELLO, { from: r.from, socket: node.transport.sockets[r.socket] ?? socket, hops: 0, packetId: 0n }, now);
    peer.noteVersion(r.version.protocol, r.version.major, r.version.minor, r.version.revision);
  }
}

/** Add what the addon counted since the last call to the node's stats. */
function collectCounts(node: Node, table: NativeHelloTable): void {
  const c = table.takeCounts();
  if (c.hellos === 0) return;
  const stats = node.stats;
  stats.datagramsIn += c.hellos;
  stats.bytesIn += c.bytesIn;
  stats.verbIn(Verb.HELLO, c.hellos);
  if (c.rateLimited > 0) stats.drop('rate-limited', c.rateLimited);
  if (c.answered > 0) {
    stats.verbOut(Verb.OK, c.answered);
    stats.nativeHelloAnswers += c.answered;
    stats.datagramsOut += c.answered;
    stats.bytesOut += c.bytesOut;
  }
}
