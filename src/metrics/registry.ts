// What every role's Prometheus registry is made of: Node's process metrics, counters and gauges
// read at scrape time (collect callbacks) from plain numbers kept elsewhere, so nothing here runs
// per packet, and the node series every role has (packets, datagrams, bytes, drops) from NodeStats.

import client from 'prom-client';
import type { NodeStats } from '../node/stats.ts';

/** A registry with Node's process metrics under `ztroot_process_`. */
export function newRegistry(): client.Registry {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'ztroot_process_' });
  // prom-client's three "*_total" gauges break the Prometheus naming rules (`promtool check
  // metrics` rejects them); the per-type gauges they add up stay.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
    registry.removeSingleMetric(`ztroot_process_${name}`);
  }
  return registry;
}

/** A counter whose value is read from `source` at scrape time: [label values, value] pairs. */
export function mirroredCounter(registry: client.Registry, name: string, help: string, labelNames: string[], source: () => Iterable<[string[], number]>): void {
  new client.Counter({
    name, help, labelNames, registers: [registry],
    collect() {
      this.reset();
      for (const [labels, value] of source()) this.inc(Object.fromEntries(labelNames.map((n, i) => [n, labels[i]])), value);
    },
  });
}

/** A gauge read at scrape time: one value, or [label values, value] pairs. */
export function gauge(registry: client.Registry, name: string, help: string, read: () => number): void;
export function gauge(registry: client.Registry, name: string, help: string, read: () => Iterable<[string[], number]>, labelNames: string[]): void;
export function gauge(registry: client.Registry, name: string, help: string, read: () => number | Iterable<[string[], number]>, labelNames: string[] = []): void {
  new client.Gauge({
    name, help, labelNames, registers: [registry],
    collect() {
      const v = read();
      if (typeof v === 'number') return void this.set(v);
      this.reset();
      for (const [labels, value] of v) this.set(Object.fromEntries(labelNames.map((n, i) => [n, labels[i]])), value);
    },
  });
}

/**
 * A histogram whose bucket counts are kept elsewhere (NodeStats): rendered at scrape time in
 * the shape prom-client's registry prints (`_bucket` with `le`, `_sum`, `_count`).
 */
export function cumulativeHistogram(name: string, help: string, read: () => { bounds: number[]; counts: readonly number[]; sum: number }): client.Metric {
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

/** The series of the node core every role runs on, from its NodeStats (read at scrape time). */
export function registerNodeStats(registry: client.Registry, stats: () => NodeStats): void {
  mirroredCounter(registry, 'ztroot_packets_total', 'ZeroTier packets by verb and direction (in: authenticated and addressed to this node; out: sent by it).',
    ['verb', 'direction'], function* () {
      for (const [verb, n] of stats().verbsIn) yield [[verb, 'in'], n];
      for (const [verb, n] of stats().verbsOut) yield [[verb, 'out'], n];
    });
  mirroredCounter(registry, 'ztroot_datagrams_total', 'UDP datagrams received and sent, including relayed ones.', ['direction'], function* () {
    yield [['in'], stats().datagramsIn];
    yield [['out'], stats().datagramsOut];
  });
  mirroredCounter(registry, 'ztroot_bytes_total', 'UDP payload bytes received and sent, including relayed ones.', ['direction'], function* () {
    yield [['in'], stats().bytesIn];
    yield [['out'], stats().bytesOut];
  });
  mirroredCounter(registry, 'ztroot_drops_total', 'Datagrams and packets dropped, by reason.', ['reason'], function* () {
    for (const [reason, n] of stats().drops) yield [[reason], n];
  });
}
