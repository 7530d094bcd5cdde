// The root's Prometheus metrics. Counters live as plain numbers in NodeStats on the hot path;
// this registry turns them into metrics when Prometheus scrapes (collect callbacks), so
// nothing here runs per packet. No per-peer labels.

import { monitorEventLoopDelay } from 'node:perf_hooks';
import client from 'prom-client';
import type { RootServer } from '../root/root-server.ts';

/** A counter whose value is read from `source` at scrape time. */
function mirroredCounter(registry: client.Registry, name: string, help: string, labelNames: string[], source: () => Iterable<[string[], number]>): void {
  new client.Counter({
    name, help, labelNames, registers: [registry],
    collect() {
      this.reset();
      for (const [labels, value] of source()) {
        const l = Object.fromEntries(labelNames.map((n, i) => [n, labels[i]]));
        this.inc(l, value);
      }
    },
  });
}

function gauge(registry: client.Registry, name: string, help: string, read: () => number): void {
  new client.Gauge({ name, help, registers: [registry], collect() { this.set(read()); } });
}

/**
 * A histogram whose bucket counts are kept elsewhere (NodeStats): rendered at scrape time in
 * the shape prom-client's registry prints (`_bucket` with `le`, `_sum`, `_count`).
 */
function cumulativeHistogram(name: string, help: string, read: () => { bounds: number[]; counts: readonly number[]; sum: number }): client.Metric {
  const metric = {
    name, help, type: 'histogram', aggregator: 'sum',
    get: async () => {
      const { bounds, counts, sum } = read();
      const values: { metricName: string; labels: Record<string, string | number>; value: number }[] = [];
      let cumulative = 0;
      bounds.forEach((le, i) => {
        cumulative += counts[i];
        values.push({ metricName: `${name}_bucket`, labels: { le }, value: cumulative });
      });
      cumulative += counts[bounds.length] ?? 0;
      values.push({ metricName: `${name}_bucket`, labels: { le: '+Inf' }, value: cumulative });
      values.push({ metricName: `${name}_sum`, labels: {}, value: sum });
      values.push({ metricName: `${name}_count`, labels: {}, value: cumulative });
      return { name, help, type: 'histogram', aggregator: 'sum', values };
    },
    reset: () => {},
  };
  return metric as unknown as client.Metric;
}

export function createRootRegistry(root: RootServer): client.Registry {
  const registry = new client.Registry();
  const stats = root.node.stats;
  client.collectDefaultMetrics({ register: registry, prefix: 'ztroot_process_' });

  mirroredCounter(registry, 'ztroot_packets_total', 'ZeroTier packets by verb and direction (in: authenticated and addressed to this root; out: sent by it).',
    ['verb', 'direction'], function* () {
      for (const [verb, n] of stats.verbsIn) yield [[verb, 'in'], n];
      for (const [verb, n] of stats.verbsOut) yield [[verb, 'out'], n];
    });
  mirroredCounter(registry, 'ztroot_datagrams_total', 'UDP datagrams received and sent, including relayed ones.', ['direction'], function* () {
    yield [['in'], stats.datagramsIn];
    yield [['out'], stats.datagramsOut];
  });
  mirroredCounter(registry, 'ztroot_bytes_total', 'UDP payload bytes received and sent, including relayed ones.', ['direction'], function* () {
    yield [['in'], stats.bytesIn];
    yield [['out'], stats.bytesOut];
  });
  mirroredCounter(registry, 'ztroot_relay_total', 'Datagrams addressed to other nodes, by outcome.', ['outcome'], function* () {
    for (const [outcome, n] of stats.relay) yield [[outcome], n];
  });
  mirroredCounter(registry, 'ztroot_relayed_bytes_total', 'Bytes forwarded for other nodes.', [], function* () {
    yield [[], stats.relayedBytes];
  });
  mirroredCounter(registry, 'ztroot_drops_total', 'Datagrams and packets dropped, by reason.', ['reason'], function* () {
    for (const [reason, n] of stats.drops) yield [[reason], n];
  });
  mirroredCounter(registry, 'ztroot_rendezvous_sent_total', 'RENDEZVOUS messages sent to introduce relayed pairs.', [], function* () {
    yield [[], stats.rendezvousSent];
  });
  mirroredCounter(registry, 'ztroot_identity_validations_total', 'Identity validations (memory-hard hash) by result.', ['result'], function* () {
    yield [['valid'], stats.validationsValid];
    yield [['invalid'], stats.validationsInvalid];
  });

  registry.registerMetric(cumulativeHistogram('ztroot_identity_validation_seconds',
    'Time one identity validation took in a worker thread.', () => ({
      bounds: stats.validationBucketsMicros.map((us) => us / 1e6),
      counts: stats.validationCounts,
      sum: stats.validationSumMicros / 1e6,
    })));

  gauge(registry, 'ztroot_peers', 'Peers currently known (heard from within the activity timeout).', () => root.node.peers.size);
  gauge(registry, 'ztroot_identity_cache_identities', 'Validated identities in the on-disk identity cache.', () => root.store.size);
  gauge(registry, 'ztroot_identity_cache_memory_entries', 'Identities held in memory in front of the on-disk cache.', () => root.store.cachedSize);
  gauge(registry, 'ztroot_validation_queue_depth', 'Identities waiting for a validation thread.', () => root.node.validation.queueDepth);
  gauge(registry, 'ztroot_validation_in_flight', 'Identities being validated right now.', () => root.node.validation.inFlight);
  gauge(registry, 'ztroot_multicast_groups', 'Multicast groups with at least one live subscriber.', () => root.multicast.groupCount);
  gauge(registry, 'ztroot_reassembly_in_flight', 'Fragmented packets waiting for their remaining pieces.', () => root.node.reassembler.inFlight);
  gauge(registry, 'ztroot_worlds', 'Worlds (planet and moons) this root serves.', () => root.node.topology.worlds.length);

  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  new client.Gauge({
    name: 'ztroot_event_loop_lag_seconds', help: 'Event-loop delay of the packet thread over the last scrape interval (p99).',
    labelNames: ['worker'], registers: [registry],
    collect() {
      this.set({ worker: 'main' }, lag.percentile(99) / 1e9);
      lag.reset();
    },
  });
  return registry;
}
