// The network controller's Prometheus metrics: requests by outcome, pushes, revocations, build
// time, and the size of the database. Read from the controller's counters at scrape time; no
// per-network or per-member labels.

import type client from 'prom-client';
import type { NetworkController } from '../controller/controller.ts';
import { gauge, mirroredCounter as counter } from './registry.ts';

export function registerControllerMetrics(registry: client.Registry, controller: NetworkController): void {
  const s = controller.stats;
  counter(registry, 'ztroot_controller_config_requests_total', 'NETWORK_CONFIG_REQUESTs by outcome (answered, or why not)', ['outcome'],
    () => [...s.requests].map(([outcome, n]) => [[outcome], n]));
  counter(registry, 'ztroot_controller_config_pushes_total', 'Configs pushed to members after a change', [], () => [[[], s.pushes]]);
  counter(registry, 'ztroot_controller_revocations_sent_total', 'COM revocations sent to members', [], () => [[[], s.revocations]]);
  counter(registry, 'ztroot_controller_config_build_seconds_total', 'Time spent building and signing configs', [], () => [[[], s.buildMicrosSum / 1e6]]);
  counter(registry, 'ztroot_controller_config_builds_total', 'Configs built and signed', [], () => [[[], s.builds]]);
  gauge(registry, 'ztroot_controller_networks', 'Networks in the controller database', () => controller.store.networkIds().length);
  gauge(registry, 'ztroot_controller_members', 'Members of all networks', () => controller.store.networkIds().reduce((n, id) => n + controller.counts(id).total, 0));
  gauge(registry, 'ztroot_controller_authorized_members', 'Authorized members of all networks',
    () => controller.store.networkIds().reduce((n, id) => n + controller.counts(id).authorized, 0));
}
