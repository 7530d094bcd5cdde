// The root's Prometheus metrics. Counters live as plain numbers in NodeStats on the hot path;
// this registry turns them into metrics when Prometheus scrapes (collect callbacks), so
// nothing here runs per packet. No per-peer labels.

import client from 'prom-client';
import { formatAddress } from '../identity/address.ts';
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
  client.collectDefaultMetrics({ register: registry, prefix: 'ztroot_process_' });
  // prom-client's three "*_total" gauges break the Prometheus naming rules (`promtool check
  // metrics` rejects them); the per-type gauges they add up stay.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
    registry.removeSingleMetric(`ztroot_process_${name}`);
  }

  mirroredCounter(registry, 'ztroot_packets_total', 'ZeroTier packets by verb and direction (in: authenticated and addressed to this root; out: sent by it).',
    ['verb', 'direction'], function* () {
      for (const [verb, n] of root.metrics.stats.verbsIn) yield [[verb, 'in'], n];
      for (const [verb, n] of root.metrics.stats.verbsOut) yield [[verb, 'out'], n];
    });
  mirroredCounter(registry, 'ztroot_datagrams_total', 'UDP datagrams received and sent, including relayed ones.', ['direction'], function* () {
    yield [['in'], root.metrics.stats.datagramsIn];
    yield [['out'], root.metrics.stats.datagramsOut];
  });
  mirroredCounter(registry, 'ztroot_bytes_total', 'UDP payload bytes received and sent, including relayed ones.', ['direction'], function* () {
    yield [['in'], root.metrics.stats.bytesIn];
    yield [['out'], root.metrics.stats.bytesOut];
  });
  mirroredCounter(registry, 'ztroot_relay_total', 'Datagrams addressed to other nodes, by outcome.', ['outcome'], function* () {
    for (const [outcome, n] of root.metrics.stats.relay) yield [[outcome], n];
  });
  mirroredCounter(registry, 'ztroot_relayed_bytes_total', 'Bytes forwarded for other nodes.', [], function* () {
    yield [[], root.metrics.stats.relayedBytes];
  });
  mirroredCounter(registry, 'ztroot_drops_total', 'Datagrams and packets dropped, by reason.', ['reason'], function* () {
    for (const [reason, n] of root.metrics.stats.drops) yield [[reason], n];
  });
  mirroredCounter(registry, 'ztroot_rendezvous_sent_total', 'RENDEZVOUS messages sent to introduce relayed pairs.', [], function* () {
    yield [[], root.metrics.stats.rendezvousSent];
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
  gauge(registry, 'ztroot_worlds', 'Worlds (planet and moons) this root serves.', () => root.topology.worlds.length);

  // one series per upstream: at most four roots per world, so the labels stay few
  new client.Gauge({
    name: 'ztroot_upstream_reachable', help: 'Whether an upstream (a root of a world this root lives in, or a sibling root) was heard within the path expiry (243 s).',
    labelNames: ['upstream', 'role'], registers: [registry],
    collect() {
      this.reset();
      for (const u of root.upstreamStatus()) this.set({ upstream: formatAddress(u.address), role: u.role }, u.reachable ? 1 : 0);
    },
  });
  new client.Gauge({
    name: 'ztroot_upstream_last_heard_timestamp_seconds', help: 'When an upstream was last heard (Unix time); absent until it answers.',
    labelNames: ['upstream', 'role'], registers: [registry],
    collect() {
      this.reset();
      for (const u of root.upstreamStatus()) if (u.lastHeardMs !== undefined) this.set({ upstream: formatAddress(u.address), role: u.role }, u.lastHeardMs / 1000);
    },
  });

  new client.Gauge({
    name: 'ztroot_event_loop_lag_seconds', help: 'Event-loop delay of each thread (main and packet workers), p99 since the previous scrape.',
    labelNames: ['worker'], registers: [registry],
    collect() {
      this.reset();
      for (const { worker, seconds } of root.metrics.eventLoopLagSeconds) this.set({ worker }, seconds);
    },
  });
  return registry;
}
