// The root's Prometheus metrics. Counters live as plain numbers in NodeStats on the hot path;
// this registry turns them into metrics when Prometheus scrapes (collect callbacks), so
// nothing here runs per packet. No per-peer labels.

import client from 'prom-client';
import { formatAddress } from '../identity/address.ts';
import type { RootServer } from '../root/root-server.ts';
import { cumulativeHistogram, gauge, mirroredCounter, newRegistry, registerNodeStats } from './registry.ts';

export function createRootRegistry(root: RootServer): client.Registry {
  const registry = newRegistry();
  registerNodeStats(registry, () => root.metrics.stats);
  mirroredCounter(registry, 'ztroot_relay_total', 'Datagrams addressed to other nodes, by outcome.', ['outcome'], function* () {
    for (const [outcome, n] of root.metrics.stats.relay) yield [[outcome], n];
  });
  mirroredCounter(registry, 'ztroot_relayed_bytes_total', 'Bytes forwarded for other nodes.', [], function* () {
    yield [[], root.metrics.stats.relayedBytes];
  });
  mirroredCounter(registry, 'ztroot_packet_worker_restarts_total', 'Packet workers that exited while the root ran (a crash, or their heap ceiling) and were replaced.', [], function* () {
    yield [[], root.workerRestarts];
  });
  mirroredCounter(registry, 'ztroot_rendezvous_sent_total', 'RENDEZVOUS messages sent to introduce relayed pairs.', [], function* () {
    yield [[], root.metrics.stats.rendezvousSent];
  });
  mirroredCounter(registry, 'ztroot_native_hello_answers_total', 'OK(HELLO)s to known peers sent by the batch UDP addon itself (also in ztroot_packets_total).', [], function* () {
    yield [[], root.metrics.stats.nativeHelloAnswers];
  });
  mirroredCounter(registry, 'ztroot_identity_validations_total', 'Identity validations (memory-hard hash) by result.', ['result'], function* () {
    yield [['valid'], root.metrics.stats.validationsValid];
    yield [['invalid'], root.metrics.stats.validationsInvalid];
  });

  registry.registerMetric(cumulativeHistogram('ztroot_identity_validation_seconds',
    'Time one identity validation took in a worker thread.', () => ({
      bounds: root.metrics.stats.validationBucketsMicros.map((us) => us / 1e6),
      counts: root.metrics.stats.validationCounts,
      sum: root.metrics.stats.validationSumMicros / 1e6,
    })));

  gauge(registry, 'ztroot_peers', 'Peers currently known (heard from within the activity timeout).', () => root.metrics.peers);
  gauge(registry, 'ztroot_identity_cache_identities', 'Validated identities in the on-disk identity cache.', () => root.store.size);
  gauge(registry, 'ztroot_identity_cache_memory_entries', 'Identities held in memory in front of the on-disk cache.', () => root.store.cachedSize);
  gauge(registry, 'ztroot_validation_queue_depth', 'Identities waiting for a validation thread.', () => root.validationQueueDepth);
  gauge(registry, 'ztroot_validation_in_flight', 'Identities being validated right now.', () => root.validationInFlight);
  gauge(registry, 'ztroot_multicast_groups', 'Multicast groups with at least one live subscriber.', () => root.multicast.groupCount);
  gauge(registry, 'ztroot_reassembly_in_flight', 'Fragmented packets waiting for their remaining pieces.', () => root.metrics.reassemblyInFlight);
  gauge(registry, 'ztroot_packet_threads', 'Threads running the packet path (by default the main thread, joined by packet workers up to one per core while they are busy).', () => root.packetThreads);
  gauge(registry, 'ztroot_packet_workers', 'Packet worker threads running (by default none until the main thread is busy).', () => root.runningWorkers);
  gauge(registry, 'ztroot_worlds', 'Worlds (planet and moons) this root serves.', () => root.topology.worlds.length);

  // one series per upstream: at most four roots per world, so the labels stay few
  gauge(registry, 'ztroot_upstream_reachable', 'Whether an upstream (a root of a world this root lives in, or a sibling root) was heard within the path expiry (243 s).',
    () => root.upstreamStatus().map((u) => [[formatAddress(u.address), u.role], u.reachable ? 1 : 0]), ['upstream', 'role']);
  gauge(registry, 'ztroot_upstream_last_heard_timestamp_seconds', 'When an upstream was last heard (Unix time); absent until it answers.',
    () => root.upstreamStatus().flatMap((u) => (u.lastHeardMs === undefined ? [] : [[[formatAddress(u.address), u.role], u.lastHeardMs / 1000]])), ['upstream', 'role']);
  gauge(registry, 'ztroot_event_loop_lag_seconds', 'Event-loop delay of each thread (main and packet workers), p99 since the previous scrape.',
    () => root.metrics.eventLoopLagSeconds.map(({ worker, seconds }) => [[worker], seconds]), ['worker']);
  gauge(registry, 'ztroot_thread_heap_bytes', 'V8 heap of each thread (main and packet workers): bytes in use (state="used") and bytes the heap holds (state="total").',
    () => root.metrics.heapBytes.flatMap(({ worker, used, total }) => [[[worker, 'used'], used], [[worker, 'total'], total]]), ['worker', 'state']);
  return registry;
}
