// A real Prometheus (Debian's package) scrapes an in-process root on loopback with the bearer
// token, and ztroot metrics are read back through Prometheus's HTTP API; a second job with a
// wrong token gets nothing. promtool lints the exposition. Every wait is bounded; Prometheus and
// its storage are removed afterwards.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimpleLeaf } from '../../src/leaf/simple-leaf.ts';
import { missingCommand, skipGroup } from '../support/skips.ts';
import { startPrometheus, type PrometheusServer, type VectorSample } from './prometheus-server.ts';
import { METRICS_TOKEN, relayThroughRoot, startRootFixture, type RootFixture } from './root-fixture.ts';

const missing = missingCommand('prometheus', 'prometheus') ?? missingCommand('promtool', 'prometheus');
if (missing && process.env.CI) throw new Error(`${missing}: CI installs it (.ci/run)`);

const one = (pred: (v: number) => boolean) => (s: VectorSample[]): boolean => s.length === 1 && pred(Number(s[0].value[1]));

describe.skipIf(skipGroup('real Prometheus scraping a root', missing))('real Prometheus scraping a root', () => {
  let fixture: RootFixture;
  let leaves: SimpleLeaf[] = [];
  let prometheus: PrometheusServer;
  let target = '';

  beforeAll(async () => {
    fixture = await startRootFixture();
    const r = await relayThroughRoot(fixture.moon, '127.0.0.1', { allowLoopbackPaths: true });
    leaves = [r.a, r.b];
    target = `127.0.0.1:${fixture.http.port}`;
    prometheus = await startPrometheus((dir) => {
      writeFileSync(join(dir, 'token'), METRICS_TOKEN + '\n');
      writeFileSync(join(dir, 'wrong-token'), 'not-the-token\n');
      const job = (name: string, tokenFile: string): string[] => [
        `  - job_name: ${name}`,
        '    authorization:',
        '      type: Bearer',
        `      credentials_file: ${join(dir, tokenFile)}`,
        '    static_configs:',
        `      - targets: ["${target}"]`,
      ];
      return ['global:', '  scrape_interval: 1s', '  scrape_timeout: 1s', 'scrape_configs:',
        ...job('ztroot', 'token'), ...job('ztroot-wrong-token', 'wrong-token'), ''].join('\n');
    });
  });

  afterAll(async () => {
    await prometheus?.stop();
    for (const l of leaves) await l.stop();
    await fixture?.stop();
  });

  it('promtool accepts the scrape configuration', () => {
    const r = spawnSync('promtool', ['check', 'config', join(prometheus.dir, 'prometheus.yml')], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it('scrapes the root with the bearer token and answers queries on its metrics', async () => {
    const [up] = await prometheus.waitFor('up{job="ztroot"}', one((v) => v === 1), 30_000);
    expect(up.metric.instance).toBe(target);
    const [relayed] = await prometheus.waitFor('ztroot_relay_total{job="ztroot", outcome="forwarded"}', one((v) => v >= 1), 30_000);
    expect(Number(relayed.value[1])).toBeGreaterThanOrEqual(1);
    const [peers] = await prometheus.waitFor('ztroot_peers{job="ztroot"}', one((v) => v === 2), 30_000);
    expect(peers.value[1]).toBe('2');
    const [count] = await prometheus.waitFor('ztroot_identity_validation_seconds_count{job="ztroot"}', one((v) => v >= 2), 30_000);
    expect(Number(count.value[1])).toBeGreaterThanOrEqual(2);
  });

  it('a scrape with the wrong token fails (up == 0)', async () => {
    const [up] = await prometheus.waitFor('up{job="ztroot-wrong-token"}', one((v) => v === 0), 30_000);
    expect(up.value[1]).toBe('0');
    expect(await prometheus.query('ztroot_peers{job="ztroot-wrong-token"}')).toEqual([]);
  });

  it('promtool check metrics finds nothing to complain about in /metrics', async () => {
    const text = await fixture.scrape();
    const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30_000 });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
