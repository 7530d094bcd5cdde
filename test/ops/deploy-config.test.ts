// The deployment files hold together: compose.yaml (Compose schema via dclint, `docker compose
// config` where the plugin exists, and its wiring), the Prometheus configuration and alerting
// rules (promtool), and the Kubernetes manifests (parsed, with the fields that make roots
// stable, reachable, probed and scraped). No cluster or registry is needed.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { missingCommand, skipGroup } from '../support/skips.ts';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const DEPLOY = join(REPO, 'deploy');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = any;

function yamlFile(path: string): Doc {
  return parseYaml(readFileSync(path, 'utf8'), { merge: true });
}

function yamlDocs(path: string): Doc[] {
  return parseAllDocuments(readFileSync(path, 'utf8'), { merge: true }).map((d) => {
    if (d.errors.length > 0) throw new Error(`${path}: ${d.errors[0].message}`);
    return d.toJS();
  });
}

describe('deploy/compose.yaml', () => {
  const compose = yamlFile(join(DEPLOY, 'compose.yaml'));

  it('passes the Compose schema and lint (dclint; UDP ports are public on purpose)', () => {
    const r = spawnSync(join(REPO, 'node_modules/.bin/dclint'), [join(DEPLOY, 'compose.yaml'), '-q', '--disable-rule', 'no-unbound-port-interfaces'],
      { encoding: 'utf8', timeout: 60_000 });
    expect(r.stdout + r.stderr).not.toMatch(/error/i);
    expect(r.status).toBe(0);
  });

  it('is accepted by `docker compose config` where the compose plugin is installed', (ctx) => {
    const probe = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8', timeout: 30_000 });
    const why = probe.status === 0 ? undefined : 'the docker compose plugin is not installed (dclint checked the Compose schema)';
    if (skipGroup('`docker compose config` check', why)) {
      ctx.skip(why);
      return;
    }
    const r = spawnSync('docker', ['compose', '-f', join(DEPLOY, 'compose.yaml'), 'config', '--quiet'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('makes one moon for both roots before they start, and shares the metrics token with Prometheus', () => {
    const s = compose.services;
    expect(Object.keys(s).sort()).toEqual(['grafana', 'moon', 'prometheus', 'root1', 'root2']);
    const moon = s.moon;
    expect(moon.build.dockerfile).toBe('deploy/Dockerfile');
    expect(moon.command[0]).toBe('init-roots');
    expect(moon.command).toContain('--token-file');
    const homes = moon.command.filter((a: string) => a.startsWith('/homes/')).map((a: string) => a.split('=')[0]);
    expect(homes).toEqual(['/homes/root1', '/homes/root2']);
    for (const [i, name] of ['root1', 'root2'].entries()) {
      const root = s[name];
      expect(root.image).toBe(moon.image);
      expect(root.command).toEqual(['root']);
      expect(root.depends_on.moon.condition).toBe('service_completed_successfully');
      expect(root).toMatchObject({ read_only: true, cap_drop: ['ALL'] });
      const homeVolume = root.volumes.find((v: string) => v.endsWith(':/var/lib/ztroot')).split(':')[0];
      expect(moon.volumes).toContain(`${homeVolume}:${homes[i]}`);
      expect(root.ports.some((p: string) => p.endsWith(':9993/udp'))).toBe(true);
      // the moon's default endpoint for this root is the root's own compose address
      const ip = root.networks.ztroot.ipv4_address.replace('${ZTROOT_NET_PREFIX:-172.28.93}', '172.28.93');
      expect(moon.command.find((a: string) => a.startsWith(`${homes[i]}=`))).toContain(`${ip}/9993`);
    }
    const tokenVolume = moon.volumes.find((v: string) => v.endsWith(':/tokens')).split(':')[0];
    expect(s.prometheus.volumes).toContain(`${tokenVolume}:/etc/prometheus/token:ro`);
    expect(s.prometheus.volumes).toContain('./prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro');
  });

  it('provisions Grafana with the repository dashboards and datasource', () => {
    const g = compose.services.grafana;
    expect(g.volumes).toContain('../grafana/provisioning:/etc/grafana/provisioning:ro');
    expect(g.volumes).toContain('../grafana/dashboards:/etc/grafana/dashboards/ztroot:ro');
    for (const v of g.volumes.filter((x: string) => x.startsWith('../'))) expect(existsSync(join(DEPLOY, v.split(':')[0])), v).toBe(true);
  });

  it('Prometheus scrapes both roots with the token file the moon service writes', () => {
    const prom = yamlFile(join(DEPLOY, 'prometheus/prometheus.yml'));
    const job = prom.scrape_configs.find((j: Doc) => j.job_name === 'ztroot');
    expect(job.static_configs[0].targets).toEqual(['root1:9993', 'root2:9993']);
    expect(job.authorization).toEqual({ type: 'Bearer', credentials_file: '/etc/prometheus/token/metrics.token' });
    expect(compose.services.moon.command).toContain('/tokens/metrics.token');
  });
});

describe.skipIf(skipGroup('promtool checks of deploy/prometheus', missingCommand('promtool', 'prometheus')))('Prometheus configuration and alerting rules (promtool)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ztroot-promtool-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('promtool accepts prometheus.yml, with its files in place', () => {
    const syntax = spawnSync('promtool', ['check', 'config', '--syntax-only', join(DEPLOY, 'prometheus/prometheus.yml')], { encoding: 'utf8', timeout: 30_000 });
    expect(syntax.status, syntax.stdout + syntax.stderr).toBe(0);
    // the same file with the container paths pointed at real files: full check, rules included
    const text = readFileSync(join(DEPLOY, 'prometheus/prometheus.yml'), 'utf8')
      .replace('/etc/prometheus/alerts.yml', join(DEPLOY, 'prometheus/alerts.yml'))
      .replace('/etc/prometheus/token/metrics.token', join(dir, 'token'));
    writeFileSync(join(dir, 'token'), 'x');
    writeFileSync(join(dir, 'prometheus.yml'), text);
    const full = spawnSync('promtool', ['check', 'config', join(dir, 'prometheus.yml')], { encoding: 'utf8', timeout: 30_000 });
    expect(full.status, full.stdout + full.stderr).toBe(0);
    expect(full.stdout).toContain('SUCCESS: 6 rules found');
  });

  it('promtool accepts the alerting rules', () => {
    const r = spawnSync('promtool', ['check', 'rules', join(DEPLOY, 'prometheus/alerts.yml')], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it('ZtrootPacketWorkerRestarts fires on a third replacement within 15 minutes, not on one or two', () => {
    const labels = { instance: 'r1:9993', job: 'ztroot' };
    const expected = {
      exp_labels: { ...labels, severity: 'warning' },
      exp_annotations: {
        summary: 'ztroot root r1:9993 keeps replacing packet workers',
        description: "More than two packet workers exited and were replaced within 15 minutes: a crash, or a worker reaching its heap ceiling over and over. The root's log says which worker exited and with what code.",
      },
    };
    const series = (name: string, values: string): { series: string; values: string } =>
      ({ series: `${name}{instance="${labels.instance}",job="${labels.job}"}`, values });
    const tests = {
      rule_files: [join(DEPLOY, 'prometheus/alerts.yml')],
      evaluation_interval: '1m',
      tests: [
        { interval: '1m', input_series: [series('ztroot_packet_worker_restarts_total', '0 0 1 2 3 4 4 4')],
          alert_rule_test: [{ eval_time: '7m', alertname: 'ZtrootPacketWorkerRestarts', exp_alerts: [expected] }] },
        { interval: '1m', input_series: [series('ztroot_packet_worker_restarts_total', '0 0 0 1 1 1 1 1')],
          alert_rule_test: [{ eval_time: '7m', alertname: 'ZtrootPacketWorkerRestarts', exp_alerts: [] }] },
      ],
    };
    writeFileSync(join(dir, 'restarts.test.yml'), JSON.stringify(tests));
    const r = spawnSync('promtool', ['test', 'rules', join(dir, 'restarts.test.yml')], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });
});

describe('deploy/kubernetes', () => {
  const K8S = join(DEPLOY, 'kubernetes');
  const kustomization = yamlFile(join(K8S, 'kustomization.yaml'));
  const docs: Doc[] = (kustomization.resources as string[]).flatMap((f) => yamlDocs(join(K8S, f)));
  const find = (kind: string, name?: string): Doc[] => docs.filter((d) => d.kind === kind && (name === undefined || d.metadata.name === name));

  it('every resource the kustomization lists parses, with apiVersion, kind and name', () => {
    expect(kustomization.namespace).toBe('ztroot');
    expect(docs.length).toBeGreaterThanOrEqual(8);
    for (const d of docs) {
      expect(d.apiVersion, JSON.stringify(d).slice(0, 80)).toBeTruthy();
      expect(d.kind).toBeTruthy();
      expect(d.metadata?.name).toBeTruthy();
    }
  });

  const [sts] = find('StatefulSet', 'ztroot');
  const pod = sts?.spec.template.spec;
  const container = pod?.containers.find((c: Doc) => c.name === 'ztroot');

  it('a StatefulSet gives each root its own volume for identity and identity cache', () => {
    expect(sts.spec.serviceName).toBe('ztroot');
    expect(find('Service', sts.spec.serviceName)[0].spec.clusterIP).toBe('None');
    const claim = sts.spec.volumeClaimTemplates.find((t: Doc) => t.metadata.name === 'home');
    expect(claim.spec.accessModes).toEqual(['ReadWriteOnce']);
    expect(container.volumeMounts.find((m: Doc) => m.name === 'home').mountPath).toBe('/var/lib/ztroot');
    expect(container.args).toEqual(['root']);
    expect(sts.spec.selector.matchLabels).toEqual(sts.spec.template.metadata.labels);
  });

  it('runs unprivileged (the image user), with a read-only root filesystem', () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, fsGroup: 1000 });
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
  });

  it('exposes UDP 9993 and HTTP, and probes readiness and liveness on /health', () => {
    const ports = Object.fromEntries(container.ports.map((p: Doc) => [p.name, p]));
    expect(ports.zerotier).toMatchObject({ containerPort: 9993, protocol: 'UDP' });
    expect(ports.http).toMatchObject({ containerPort: 9993, protocol: 'TCP' });
    for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
      expect(container[probe].httpGet, probe).toEqual({ path: '/health', port: 'http' });
    }
    expect(container.env.find((e: Doc) => e.name === 'ZTROOT_HTTP').value).toBe('0.0.0.0:9993');
  });

  it('gives every replica its own UDP Service with externalTrafficPolicy Local', () => {
    for (let i = 0; i < sts.spec.replicas; i++) {
      const [svc] = find('Service', `ztroot-${i}`);
      expect(svc, `Service ztroot-${i}`).toBeDefined();
      expect(svc.spec.type).toBe('LoadBalancer');
      expect(svc.spec.externalTrafficPolicy).toBe('Local');
      expect(svc.spec.selector).toEqual({ 'statefulset.kubernetes.io/pod-name': `ztroot-${i}` });
      expect(svc.spec.ports).toEqual([{ name: 'zerotier', port: 9993, protocol: 'UDP', targetPort: 'zerotier' }]);
    }
  });

  it('the ServiceMonitor scrapes /metrics with the same token Secret the pods use', () => {
    const [sm] = find('ServiceMonitor', 'ztroot');
    const [metricsSvc] = find('Service').filter((s) => Object.entries(sm.spec.selector.matchLabels).every(([k, v]) => s.metadata.labels?.[k] === v));
    expect(metricsSvc.metadata.name).toBe('ztroot-metrics');
    const endpoint = sm.spec.endpoints[0];
    expect(metricsSvc.spec.ports.map((p: Doc) => p.name)).toContain(endpoint.port);
    expect(metricsSvc.spec.ports.find((p: Doc) => p.name === endpoint.port).targetPort).toBe('http');
    expect(Object.entries(metricsSvc.spec.selector).every(([k, v]) => sts.spec.template.metadata.labels[k] === v)).toBe(true);
    expect(endpoint.path).toBe('/metrics');
    const ref = container.env.find((e: Doc) => e.name === 'ZTROOT_METRICS_TOKEN').valueFrom.secretKeyRef;
    expect(endpoint.authorization).toEqual({ type: 'Bearer', credentials: { name: ref.name, key: ref.key } });
    // job="ztroot", as the alerting rules select
    expect(metricsSvc.metadata.labels[sm.spec.jobLabel]).toBe('ztroot');
  });

  it('the PrometheusRule carries exactly the rules of deploy/prometheus/alerts.yml', () => {
    const [rule] = find('PrometheusRule', 'ztroot');
    expect(rule.spec).toEqual(yamlFile(join(DEPLOY, 'prometheus/alerts.yml')));
  });

  it('world files come from an optional ConfigMap mounted where the entrypoint looks', () => {
    const worlds = pod.volumes.find((v: Doc) => v.name === 'worlds');
    expect(worlds.configMap).toEqual({ name: 'ztroot-worlds', optional: true });
    const mount = container.volumeMounts.find((m: Doc) => m.name === 'worlds');
    expect(mount.mountPath).toBe(container.env.find((e: Doc) => e.name === 'ZTROOT_WORLDS_DIR').value);
  });
});
