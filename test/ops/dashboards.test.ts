// Every query of the Grafana dashboards and of the alerting rules selects metrics and labels that
// a running root really exports: a root runs in-process on loopback, two leaves talk through it
// and a runt datagram is dropped so every labelled counter has samples, then /metrics is scraped
// and parsed.

import { createSocket } from 'node:dgram';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { SimpleLeaf } from '../../src/leaf/simple-leaf.ts';
import { analyseQuery, parseExposition, type Exported } from './exposition.ts';
import { relayThroughRoot, startRootFixture, type RootFixture } from './root-fixture.ts';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const DASHBOARDS = join(REPO, 'grafana/dashboards');
/** Labels Prometheus itself attaches to every scraped series. */
const TARGET_LABELS = new Set(['instance', 'job']);

interface Target { expr: string; refId: string; datasource?: { uid?: string } }
interface Panel { id: number; type: string; title: string; description?: string; datasource?: { type?: string; uid?: string }; targets?: Target[]; gridPos?: { h: number; w: number; x: number; y: number } }
interface Dashboard { uid: string; title: string; panels: Panel[]; templating: { list: { name: string; type: string; query?: unknown }[] } }

function loadDashboards(): { file: string; dashboard: Dashboard }[] {
  return readdirSync(DASHBOARDS).filter((f) => f.endsWith('.json')).sort()
    .map((file) => ({ file, dashboard: JSON.parse(readFileSync(join(DASHBOARDS, file), 'utf8')) as Dashboard }));
}

function queriesOf(d: Dashboard): { where: string; expr: string }[] {
  const out: { where: string; expr: string }[] = [];
  for (const p of d.panels) for (const t of p.targets ?? []) out.push({ where: `${d.uid} / ${p.title} / ${t.refId}`, expr: t.expr });
  for (const v of d.templating.list) {
    const q = typeof v.query === 'object' && v.query ? (v.query as { query?: string }).query : undefined;
    const m = q ? /^label_values\((\w+)/.exec(q) : null;
    if (m) out.push({ where: `${d.uid} / variable ${v.name}`, expr: m[1] });
  }
  return out;
}

describe('Grafana dashboards and alerting rules', () => {
  let fixture: RootFixture;
  let leaves: SimpleLeaf[] = [];
  let exported: Exported;
  const dashboards = loadDashboards();

  beforeAll(async () => {
    fixture = await startRootFixture();
    const { a, b, relayed } = await relayThroughRoot(fixture.moon, '127.0.0.1', { allowLoopbackPaths: true });
    leaves = [a, b];
    expect(relayed).toBe(true);
    // a datagram too short to be a packet: counted under ztroot_drops_total{reason}
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.send(Uint8Array.of(1, 2, 3), fixture.root.sockets[0].port, '127.0.0.1', () => r()));
    sock.close();
    const deadline = Date.now() + 10_000;
    do {
      exported = parseExposition(await fixture.scrape());
      if ((exported.labels.get('ztroot_drops_total')?.size ?? 0) > 0 && exported.labels.has('ztroot_relay_total')) break;
      await new Promise((r) => setTimeout(r, 100));
    } while (Date.now() < deadline);
  });

  afterAll(async () => {
    for (const l of leaves) await l.stop();
    await fixture?.stop();
  });

  it('finds both dashboards, with unique uids and panel ids', () => {
    expect(dashboards.map((d) => d.dashboard.uid)).toEqual(['ztroot-root-health', 'ztroot-root-traffic']);
    for (const { dashboard } of dashboards) {
      const ids = dashboard.panels.map((p) => p.id);
      expect(new Set(ids).size).toBe(ids.length);
    }
  });

  it('the scrape has samples for the labelled counters the dashboards break down', () => {
    for (const [metric, label] of [['ztroot_drops_total', 'reason'], ['ztroot_relay_total', 'outcome'], ['ztroot_packets_total', 'verb'],
      ['ztroot_event_loop_lag_seconds', 'worker'], ['ztroot_identity_validations_total', 'result']] as const) {
      expect(exported.labels.get(metric), metric).toBeDefined();
      expect([...exported.labels.get(metric)!], metric).toContain(label);
    }
    expect(exported.types.get('ztroot_identity_validation_seconds')).toBe('histogram');
    expect(exported.names.has('ztroot_identity_validation_seconds_bucket')).toBe(true);
  });

  it('every panel query uses only metrics the root exports', () => {
    const missing: string[] = [];
    let checked = 0;
    for (const { dashboard } of dashboards) {
      for (const { where, expr } of queriesOf(dashboard)) {
        const use = analyseQuery(expr);
        expect(use.metrics.length, `${where}: no metric found in ${expr}`).toBeGreaterThan(0);
        for (const m of use.metrics) {
          checked++;
          if (!exported.names.has(m)) missing.push(`${where}: ${m}`);
        }
      }
    }
    expect(missing).toEqual([]);
    expect(checked).toBeGreaterThan(30);
  });

  it('every label a query selects on or groups by exists on the metrics it uses', () => {
    const wrong: string[] = [];
    for (const { dashboard } of dashboards) {
      for (const { where, expr } of queriesOf(dashboard)) {
        const use = analyseQuery(expr);
        const labelsOf = (m: string): Set<string> => new Set([...(exported.labels.get(m) ?? []), ...TARGET_LABELS]);
        for (const { metric, label } of use.selectorLabels) {
          if (!labelsOf(metric).has(label)) wrong.push(`${where}: ${metric} has no label ${label}`);
        }
        const any = new Set(use.metrics.flatMap((m) => [...labelsOf(m)]));
        for (const label of use.groupingLabels) if (!any.has(label)) wrong.push(`${where}: grouping by ${label}, which none of ${use.metrics.join(', ')} has`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('panels use the dashboard datasource variable and describe themselves', () => {
    for (const { dashboard } of dashboards) {
      expect(dashboard.templating.list.find((v) => v.name === 'datasource')?.type).toBe('datasource');
      for (const p of dashboard.panels.filter((x) => x.type !== 'row')) {
        expect(p.datasource?.uid, p.title).toBe('${datasource}');
        expect(p.description?.length ?? 0, p.title).toBeGreaterThan(20);
        expect(p.targets?.length ?? 0, p.title).toBeGreaterThan(0);
        const g = p.gridPos!;
        expect(g.x + g.w, p.title).toBeLessThanOrEqual(24);
      }
    }
  });

  it('the dashboards cover the root\'s operating questions', () => {
    const all = dashboards.flatMap(({ dashboard }) => queriesOf(dashboard).map((q) => q.expr)).join('\n');
    for (const needle of ['ztroot_bytes_total{direction="in"', 'ztroot_bytes_total{direction="out"', 'ztroot_relayed_bytes_total',
      'sum by (reason) (rate(ztroot_drops_total', 'verb=~"HELLO|WHOIS"', 'ztroot_rendezvous_sent_total', 'ztroot_peers',
      'ztroot_identity_cache_identities', 'ztroot_validation_queue_depth', 'ztroot_identity_validation_seconds_bucket',
      'max by (instance, worker) (ztroot_event_loop_lag_seconds']) {
      expect(all, needle).toContain(needle);
    }
  });

  it('every alerting rule uses only metrics the root exports (and Prometheus\'s own up)', () => {
    const rules = parseYaml(readFileSync(join(REPO, 'deploy/prometheus/alerts.yml'), 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] };
    const missing: string[] = [];
    let count = 0;
    for (const rule of rules.groups.flatMap((g) => g.rules)) {
      const use = analyseQuery(rule.expr);
      expect(use.metrics.length, rule.alert).toBeGreaterThan(0);
      for (const m of use.metrics) if (m !== 'up' && !exported.names.has(m)) missing.push(`${rule.alert}: ${m}`);
      for (const { metric, label } of use.selectorLabels) {
        if (metric !== 'up' && !TARGET_LABELS.has(label) && !exported.labels.get(metric)?.has(label)) missing.push(`${rule.alert}: ${metric}{${label}}`);
      }
      count++;
    }
    expect(missing).toEqual([]);
    expect(count).toBe(6);
  });

  it('the provisioning files point Grafana at the dashboards and at Prometheus', () => {
    const ds = parseYaml(readFileSync(join(REPO, 'grafana/provisioning/datasources/prometheus.yaml'), 'utf8')) as { datasources: { type: string; uid: string; url: string }[] };
    expect(ds.datasources[0]).toMatchObject({ type: 'prometheus', uid: 'prometheus', url: 'http://prometheus:9090' });
    const dp = parseYaml(readFileSync(join(REPO, 'grafana/provisioning/dashboards/ztroot.yaml'), 'utf8')) as { providers: { type: string; options: { path: string } }[] };
    expect(dp.providers[0].type).toBe('file');
    expect(dp.providers[0].options.path).toBe('/etc/grafana/dashboards/ztroot');
  });
});
