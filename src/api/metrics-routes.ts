// GET /metrics: a role's Prometheus registry (src/metrics/) in the text exposition format, behind
// the metrics token (metricstoken.secret, as zerotier-one 1.14 serves its /metrics;
// docs/protocol/09-local-api-and-cli.md §2).

import type { Registry } from 'prom-client';
import type { RouteProvider } from './http-listener.ts';

/** `refresh` runs before each scrape (the root gathers its packet threads' counters). */
export function metricsRoutes(registry: Registry, refresh?: () => Promise<unknown>): RouteProvider {
  return {
    name: 'metrics',
    routes: [{
      path: /^\/metrics$/, methods: ['GET'], access: 'metrics',
      handle: async () => {
        await refresh?.();
        return { status: 200, body: await registry.metrics(), contentType: registry.contentType };
      },
    }],
  };
}
