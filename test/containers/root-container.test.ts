// The root image (deploy/Dockerfile) built and run with testcontainers.
//
// The image carries the two native addons (compiled in the Dockerfile's builder stage, no
// compiler in the final image) and the root uses both: the C identity hash and batch UDP.
//
// One root: it reports healthy, runs unprivileged on a read-only root filesystem, makes a moon
// from ZTROOT_MOON_ENDPOINTS, answers SimpleLeafs on the host, relays between two of them and
// introduces them, serves /metrics only with its token, stops cleanly on SIGTERM, and a new
// container on the same volume keeps its identity, its moon and its identity cache.
//
// The compose layout (deploy/compose.yaml) without Compose: the one-shot `init-roots` container
// makes one moon for two roots on their volumes, both roots serve it, leaves relay through them,
// and a real Prometheus using deploy/prometheus/prometheus.yml scrapes both with the shared token.
//
// Docker here: tools/containers/setup.sh installs/starts the engine and builds a stand-in for
// the base image when no registry can supply it. Without any engine these tests skip. Roots sit
// on bridge networks this test creates in 198.19.0.0/16; the leaves bind the host's address on
// that bridge, so no traffic leaves the machine.

import { randomUUID } from 'node:crypto';
import { chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { SimpleLeaf } from '../../src/leaf/simple-leaf.ts';
import { World } from '../../src/world/world.ts';
import { formatAddress } from '../../src/identity/address.ts';
import { formatInetAddress, parseInetAddress } from '../../src/wire/inet-address.ts';
import { generateKeyPair } from '../../src/crypto/c25519.ts';
import { generateIdentity } from '../../src/identity/identity.ts';
import { WorldType } from '../../src/world/constants.ts';
import { startPrometheus, type PrometheusServer } from '../ops/prometheus-server.ts';
import { relayThroughRoot, waitOnline } from '../ops/root-fixture.ts';
import { missingCommand, skipGroup } from '../support/skips.ts';
import { buildImage, createNetwork, docker, ensureDocker, inspectHealth, removeImage, REPO, run, type TestNetwork } from './docker.ts';

process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';

const stage = { started: Date.now(), setupSeconds: 0, buildSeconds: 0, nativeLog: '' };
const readiness = await ensureDocker();
stage.setupSeconds = readiness.seconds;
const noDocker = skipGroup('container tests', readiness.ready ? undefined : readiness.reason);

const HOME = '/var/lib/ztroot';
const runId = randomUUID().slice(0, 8);
const image = `ztroot-test:${runId}`;

/** A root container as deploy/kubernetes runs it: fixed address, read-only root fs, no capabilities. */
class RootContainer extends GenericContainer {
  constructor(network: TestNetwork, ip: string, volume: string, logs: string[]) {
    super(image);
    this.withNetworkMode(network.name);
    this.createOpts.NetworkingConfig = { EndpointsConfig: { [network.name]: { IPAMConfig: { IPv4Address: ip } } } };
    this.hostConfig.ReadonlyRootfs = true;
    this.withDroppedCapabilities('ALL').withSecurityOpt('no-new-privileges')
      .withBindMounts([{ source: volume, target: HOME }])
      .withLogConsumer((stream: Readable) => stream.on('data', (d: Buffer) => logs.push(d.toString())))
      .withWaitStrategy(Wait.forHealthCheck())
      .withStartupTimeout(90_000);
  }
}

/** A leaf container as the README runs it: with `privileged`, root with NET_ADMIN and /dev/net/tun. */
class LeafContainer extends GenericContainer {
  constructor(network: TestNetwork, home: string, privileged: boolean, logs: string[]) {
    super(image);
    this.withNetworkMode(network.name)
      .withBindMounts([{ source: home, target: HOME }])
      .withCommand(['leaf', '--home', HOME, '--planet', `${HOME}/planet`])
      .withLogConsumer((stream: Readable) => stream.on('data', (d: Buffer) => logs.push(d.toString())))
      .withWaitStrategy(Wait.forLogMessage(/leaf started/))
      .withStartupTimeout(60_000);
    if (privileged) {
      this.withUser('0:0').withAddedCapabilities('NET_ADMIN');
      this.hostConfig.Devices = [{ PathOnHost: '/dev/net/tun', PathInContainer: '/dev/net/tun', CgroupPermissions: 'rwm' }];
    }
  }
}

async function execOk(c: StartedTestContainer, cmd: string[]): Promise<string> {
  const r = await c.exec(cmd);
  if (r.exitCode !== 0) throw new Error(`${cmd.join(' ')} exited ${r.exitCode}: ${r.output}`);
  return r.stdout;
}

async function readMoon(c: StartedTestContainer): Promise<{ world: World; base64: string }> {
  const base64 = (await execOk(c, ['sh', '-c', `base64 -w0 ${HOME}/moons.d/*.moon`])).trim();
  const decoded = World.decode(Buffer.from(base64, 'base64'));
  if (typeof decoded === 'string') throw new Error(`moon file does not decode: ${decoded}`);
  return { world: decoded.world, base64 };
}

async function health(ip: string): Promise<{ ok: boolean; address: string; worlds: string[] }> {
  const r = await fetch(`http://${ip}:9993/health`, { signal: AbortSignal.timeout(5000) });
  return await r.json() as { ok: boolean; address: string; worlds: string[] };
}

async function metricsText(c: StartedTestContainer, ip: string): Promise<string> {
  const token = (await execOk(c, ['cat', `${HOME}/metricstoken.secret`])).trim();
  const r = await fetch(`http://${ip}:9993/metrics`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) });
  expect(r.status).toBe(200);
  return r.text();
}

/**
 * Scrape until every expected series has its value (the root gathers its packet threads'
 * counters when scraped, so one scrape may show the previous gathering), at most `ms`.
 */
async function metricsUntil(c: StartedTestContainer, ip: string, expected: Record<string, (v: number) => boolean>, ms = 10_000): Promise<string> {
  const deadline = Date.now() + ms;
  let text = '';
  while (Date.now() < deadline) {
    text = await metricsText(c, ip);
    if (Object.entries(expected).every(([series, ok]) => ok(sample(text, series)))) return text;
    await new Promise((r) => setTimeout(r, 250));
  }
  const seen = Object.keys(expected).map((series) => `${series} = ${sample(text, series)}`).join(', ');
  throw new Error(`metrics of ${ip} did not reach the expected values within ${ms} ms: ${seen}`);
}

type LogRecord = { msg?: string; [field: string]: unknown };

/** The root's structured log lines (JSON, one per line) among everything the container printed. */
function logRecords(logs: string[]): LogRecord[] {
  return logs.join('').split('\n').filter((l) => l.startsWith('{')).map((l) => {
    try {
      return JSON.parse(l) as LogRecord;
    } catch {
      return {};
    }
  });
}

/**
 * The log records once `done` holds for them (at most `ms`): the log consumer receives lines
 * asynchronously, and packet threads' lines pass through the main thread's stderr.
 */
async function logRecordsWhen(logs: string[], done: (records: LogRecord[]) => boolean, ms = 10_000): Promise<LogRecord[]> {
  const deadline = Date.now() + ms;
  while (!done(logRecords(logs)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  return logRecords(logs);
}

/** Asks the image's own modules which backends load here (the answer of node -e, as JSON). */
const BACKENDS_SCRIPT = `
import { nativeIdentityHashAvailability } from '/app/src/identity/native-identity-hash.ts';
import { identityHashImplementation } from '/app/src/identity/memory-hard-hash.ts';
import { nativeUdpAvailability } from '/app/src/node/batch-udp.ts';
console.log(JSON.stringify({ identityHash: nativeIdentityHashAvailability(), implementation: identityHashImplementation(), batchUdp: nativeUdpAvailability() }));
`;

// Run as the image's entrypoint runs: the stripped-sources hook first, then our TypeScript. The
// image carries the stripped copies, so Node's own type stripper never loads.
const STRIPPED_SCRIPT = `
await import('/app/src/util/hex.ts');
await import('/app/src/root/root-server.ts');
console.log(JSON.stringify({ typeStripperLoaded: process.moduleLoadList.some((m) => m.includes('amaro')) }));
`;

function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line ? Number(line.slice(series.length + 1)) : NaN;
}

describe.skipIf(noDocker)('ztroot image', () => {
  beforeAll(async () => {
    const t = Date.now();
    stage.nativeLog = (await buildImage(image)).nativeLog;
    stage.buildSeconds = (Date.now() - t) / 1000;
  }, 10 * 60_000);

  afterAll(async () => {
    await removeImage(image);
    console.info(`container stage: engine and base image ${stage.setupSeconds.toFixed(1)} s, image build ${stage.buildSeconds.toFixed(1)} s, `
      + `all container tests ${((Date.now() - stage.started) / 1000).toFixed(1)} s`);
  }, 5 * 60_000);

  describe('one root', () => {
    const volume = `ztroot-test-home-${runId}`;
    let network: TestNetwork;
    let rootIp: string;
    let container: StartedTestContainer | undefined;
    const logs: string[] = [];
    let leaves: SimpleLeaf[] = [];
    let address = '';
    let moon: World;
    let moonBase64 = '';

    const startRoot = (): Promise<StartedTestContainer> =>
      new RootContainer(network, rootIp, volume, logs)
        .withName(`ztroot-test-root-${runId}-${Date.now() % 100000}`)
        .withEnvironment({ ZTROOT_MOON_ENDPOINTS: `${rootIp}/9993` })
        .start();

    beforeAll(async () => {
      network = await createNetwork(`ztroot-test-${runId}`);
      rootIp = network.ip(10);
      const t = Date.now();
      container = await startRoot();
      console.info(`first start to healthy: ${((Date.now() - t) / 1000).toFixed(1)} s`);
    }, 3 * 60_000);

    afterAll(async () => {
      for (const l of leaves) await l.stop();
      if (container) await container.stop({ timeout: 10_000 }).catch(() => undefined);
      if (network) await run('docker', ['network', 'rm', network.name], { timeoutMs: 60_000 });
      await run('docker', ['volume', 'rm', '-f', volume], { timeoutMs: 60_000 });
    }, 3 * 60_000);

    it('runs as the unprivileged user and reports healthy to Docker', async () => {
      expect(await inspectHealth(container!.getId())).toMatchObject({ status: 'healthy', running: true });
      expect((await execOk(container!, ['id', '-u'])).trim()).toBe('1000');
      const h = await health(rootIp);
      expect(h.ok).toBe(true);
      address = h.address;
      expect(address).toMatch(/^[0-9a-f]{10}$/);
    });

    it('carries the native addons, no compiler, and the root uses the native identity hash and batch UDP', async () => {
      const why = `native stage of the image build:\n${stage.nativeLog.slice(-3000)}`;
      // every addon native/binding.gyp defines (all build on Linux), and nothing else
      const targets = [...readFileSync(join(REPO, 'native/binding.gyp'), 'utf8').matchAll(/"target_name":\s*"([^"]+)"/g)].map((m) => `${m[1]}.node`);
      expect(targets).toEqual(expect.arrayContaining(['batch_udp.node', 'identity_hash.node']));
      expect((await execOk(container!, ['ls', '/app/native/build/Release'])).trim().split('\n'), why).toEqual(targets.sort());
      // the runtime image is the slim base: the toolchain stayed in the builder stage
      expect((await container!.exec(['sh', '-c', 'command -v cc gcc g++ make'])).stdout.trim()).toBe('');
      // the addons load and pass their checks (the identity hash's known-answer self-test)
      const backends = JSON.parse(await execOk(container!, ['node', '--input-type=module', '-e', BACKENDS_SCRIPT])) as unknown;
      expect(backends, why).toEqual({ identityHash: { ok: true }, implementation: 'native', batchUdp: { ok: true } });
      const stripped = JSON.parse(await execOk(container!, ['node', '--import', '/app/src/boot/stripped-sources.js', '--input-type=module', '-e', STRIPPED_SCRIPT])) as unknown;
      expect(stripped).toEqual({ typeStripperLoaded: false });
      // and the running root says it uses them: once at start, and once per packet thread
      const started = (r: LogRecord[]): LogRecord | undefined => r.find((x) => x.msg === 'root started');
      const transports = (r: LogRecord[]): LogRecord[] => r.filter((x) => x.msg?.startsWith('UDP transport'));
      const records = await logRecordsWhen(logs, (r) => started(r) !== undefined && transports(r).length >= Number(started(r)!.packetThreads));
      expect(started(records)?.identityHash, why).toBe('native');
      expect(transports(records).length).toBe(Number(started(records)?.packetThreads));
      for (const t of transports(records)) expect(t.msg, why).toBe('UDP transport: native batch (recvmmsg/sendmmsg)');
      // and, once started, hands back the binary's start-up pages (the file_pages addon works in the image)
      const released = (await logRecordsWhen(logs, (r) => r.some((x) => x.msg === 'start-up memory released'))).find((x) => x.msg === 'start-up memory released');
      expect(Number(released?.filePagesReleased), why).toBeGreaterThan(4 * 2 ** 20);
    });

    it('made a moon for itself from ZTROOT_MOON_ENDPOINTS and printed its orbit line', async () => {
      ({ world: moon, base64: moonBase64 } = await readMoon(container!));
      expect(moon.isMoon).toBe(true);
      expect(moon.idHex).toBe(`000000${address}`);
      expect(moon.roots.map((r) => formatAddress(r.identity.address))).toEqual([address]);
      expect(moon.roots[0].stableEndpoints.map(formatInetAddress)).toEqual([`${rootIp}/9993`]);
      expect((await health(rootIp)).worlds).toEqual([moon.idHex]);
      expect(logs.join('')).toContain(`zerotier-cli orbit ${moon.idHex} ${address}`);
    });

    it('answers leaves on the host, relays a frame between two of them and introduces them', async () => {
      const r = await relayThroughRoot(moon, network.gateway);
      leaves = [r.a, r.b];
      expect(r.relayed).toBe(true);
      await metricsUntil(container!, rootIp, {
        'ztroot_relay_total{outcome="forwarded"}': (v) => v >= 1,
        'ztroot_peers': (v) => v === 2,
        'ztroot_rendezvous_sent_total': (v) => v >= 2,
        'ztroot_identity_cache_identities': (v) => v === 2,
      });
    });

    it('serves /metrics only with the token, /health without one', async () => {
      const r = await fetch(`http://${rootIp}:9993/metrics`, { signal: AbortSignal.timeout(5000) });
      expect(r.status).toBe(401);
      const wrong = await fetch(`http://${rootIp}:9993/metrics`, { headers: { authorization: 'Bearer wrong' }, signal: AbortSignal.timeout(5000) });
      expect(wrong.status).toBe(401);
      expect((await health(rootIp)).ok).toBe(true);
    });

    it('stops cleanly on SIGTERM; a new container on the same volume keeps identity, moon and identity cache', async () => {
      const [a] = leaves;
      for (const l of leaves) await l.stop();
      leaves = [];
      const id = container!.getId();
      const t = Date.now();
      await container!.stop({ timeout: 10_000, remove: false });
      const stopSeconds = (Date.now() - t) / 1000;
      const state = await inspectHealth(id);
      expect(state.running).toBe(false);
      expect(state.exitCode).toBe(0); // the root (PID 1) handled SIGTERM itself: no SIGKILL
      expect(stopSeconds).toBeLessThan(9);
      await docker(['rm', id]);
      container = undefined;

      container = await startRoot();
      expect((await health(rootIp)).address).toBe(address);
      expect((await readMoon(container)).base64).toBe(moonBase64);
      await metricsUntil(container, rootIp, { 'ztroot_identity_cache_identities': (v) => v === 2, 'ztroot_peers': (v) => v === 0 });

      // a new leaf asks for leaf a, which is gone: only the identity cache on the volume knows it
      const c = new SimpleLeaf({ moons: [moon], bind: [network.gateway], pingIntervalMs: 500 });
      leaves = [c];
      await c.start();
      await waitOnline(c, 20_000);
      const found = await c.whois(a.address, 10_000);
      expect(found?.toString(false)).toBe(a.identity.toString(false));
      expect((await inspectHealth(container.getId())).status).toBe('healthy');
    });
  });

  describe('compose layout: one moon over two roots, scraped by Prometheus', () => {
    const volumes = { root1: `ztroot-test-r1-${runId}`, root2: `ztroot-test-r2-${runId}`, token: `ztroot-test-token-${runId}` };
    let network: TestNetwork;
    const ips = { root1: '', root2: '' };
    const roots: StartedTestContainer[] = [];
    const logs: string[] = [];
    let initLog = '';
    let leaves: SimpleLeaf[] = [];
    let prometheus: PrometheusServer | undefined;

    beforeAll(async () => {
      network = await createNetwork(`ztroot-test-compose-${runId}`);
      ips.root1 = network.ip(11);
      ips.root2 = network.ip(12);
      // the compose "moon" service: same command, run as root, writing into both volumes
      const compose = parseYaml(readFileSync(join(REPO, 'deploy/compose.yaml'), 'utf8'), { merge: true }) as { services: Record<string, { command: string[]; user?: string }> };
      const command = compose.services.moon.command.map((a) => a
        .replace('${ZTROOT_ROOT1_ENDPOINTS:-172.28.93.11/9993}', `${ips.root1}/9993`)
        .replace('${ZTROOT_ROOT2_ENDPOINTS:-172.28.93.12/9993}', `${ips.root2}/9993`));
      expect(command.join(' ')).not.toContain('$');
      const init = await new GenericContainer(image)
        .withName(`ztroot-test-init-${runId}`)
        .withUser(compose.services.moon.user ?? '0:0')
        .withNetworkMode('none')
        .withBindMounts([
          { source: volumes.root1, target: '/homes/root1' }, { source: volumes.root2, target: '/homes/root2' }, { source: volumes.token, target: '/tokens' },
        ])
        .withCommand(command)
        .withLogConsumer((s: Readable) => s.on('data', (d: Buffer) => { initLog += d.toString(); }))
        .withWaitStrategy(Wait.forOneShotStartup())
        .withStartupTimeout(60_000)
        .start();
      await init.stop({ timeout: 5000 });
      for (const name of ['root1', 'root2'] as const) {
        roots.push(await new RootContainer(network, ips[name], volumes[name], logs).withName(`ztroot-test-${name}-${runId}`).withCommand(['root']).start());
      }
    }, 3 * 60_000);

    afterAll(async () => {
      await prometheus?.stop();
      for (const l of leaves) await l.stop();
      for (const c of roots) await c.stop({ timeout: 10_000 }).catch(() => undefined);
      await run('docker', ['rm', '-f', `ztroot-test-init-${runId}`], { timeoutMs: 60_000 });
      if (network) await run('docker', ['network', 'rm', network.name], { timeoutMs: 60_000 });
      await run('docker', ['volume', 'rm', '-f', ...Object.values(volumes)], { timeoutMs: 60_000 });
    }, 3 * 60_000);

    it('both roots serve the same moon, which lists both at their endpoints', async () => {
      const [m1, m2] = [await readMoon(roots[0]), await readMoon(roots[1])];
      expect(m1.base64).toBe(m2.base64);
      const [h1, h2] = [await health(ips.root1), await health(ips.root2)];
      expect(h1.worlds).toEqual([m1.world.idHex]);
      expect(h2.worlds).toEqual([m1.world.idHex]);
      const listed = Object.fromEntries(m1.world.roots.map((r) => [formatAddress(r.identity.address), r.stableEndpoints.map(formatInetAddress)]));
      expect(listed).toEqual({ [h1.address]: [`${ips.root1}/9993`], [h2.address]: [`${ips.root2}/9993`] });
      expect(m1.world.idHex).toBe(`000000${h1.address}`);
      expect(initLog).toContain(`zerotier-cli orbit ${m1.world.idHex} ${h1.address}`);
      for (const c of roots) expect((await inspectHealth(c.getId())).status).toBe('healthy');
    });

    it('leaves of the moon relay a frame through the roots', async () => {
      const { world } = await readMoon(roots[0]);
      const r = await relayThroughRoot(world, network.gateway);
      leaves = [r.a, r.b];
      expect(r.relayed).toBe(true);
      // whichever root the leaves picked forwarded it
      const deadline = Date.now() + 10_000;
      let forwarded = 0;
      while (forwarded < 1 && Date.now() < deadline) {
        const texts = await Promise.all([metricsText(roots[0], ips.root1), metricsText(roots[1], ips.root2)]);
        forwarded = texts.reduce((n, t) => n + (sample(t, 'ztroot_relay_total{outcome="forwarded"}') || 0), 0);
        if (forwarded < 1) await new Promise((r) => setTimeout(r, 250));
      }
      expect(forwarded).toBeGreaterThanOrEqual(1);
    });

    const noPrometheus = !noDocker && skipGroup('Prometheus scraping the root containers', missingCommand('prometheus', 'prometheus'));
    it.skipIf(noPrometheus)('Prometheus with deploy/prometheus/prometheus.yml scrapes both roots with the shared token', async () => {
      const token = (await execOk(roots[0], ['cat', `${HOME}/metricstoken.secret`])).trim();
      expect((await execOk(roots[1], ['cat', `${HOME}/metricstoken.secret`])).trim()).toBe(token);
      prometheus = await startPrometheus((dir) => {
        writeFileSync(join(dir, 'metrics.token'), token);
        const config = parseYaml(readFileSync(join(REPO, 'deploy/prometheus/prometheus.yml'), 'utf8')) as {
          global: Record<string, string>; rule_files: string[];
          scrape_configs: { job_name: string; authorization: { credentials_file: string }; static_configs: { targets: string[] }[] }[];
        };
        // the compose configuration as it is, with container paths and service names swapped for this host
        config.global.scrape_interval = '1s';
        config.global.scrape_timeout = '1s';
        config.rule_files = [join(REPO, 'deploy/prometheus/alerts.yml')];
        const job = config.scrape_configs.find((j) => j.job_name === 'ztroot')!;
        job.authorization.credentials_file = join(dir, 'metrics.token');
        job.static_configs[0].targets = job.static_configs[0].targets.map((t) => t.replace('root1', ips.root1).replace('root2', ips.root2));
        return stringifyYaml(config);
      });
      const worlds = await prometheus.waitFor('ztroot_worlds{job="ztroot"} == 1', (s) => s.length === 2, 30_000);
      expect(worlds.map((s) => s.metric.instance).sort()).toEqual([`${ips.root1}:9993`, `${ips.root2}:9993`]);
      const up = await prometheus.query('up{job="ztroot"} == 1');
      expect(up.length).toBe(2);
    }, 60_000);
  });
  describe('leaves: ztroot leaf in containers, on the network of a root --controller container', () => {
    // the README's leaf container: `--user 0 --cap-add NET_ADMIN --device /dev/net/tun`; a third
    // leaf without them stays up and says why its network has no Ethernet
    let network: TestNetwork;
    const dirs: string[] = [];
    const started: StartedTestContainer[] = [];
    const logs: string[] = [];
    let root: StartedTestContainer;
    let rootIp = '';
    let token = '';
    let nwid = '';
    const leaves: Record<'a' | 'b' | 'c', { container: StartedTestContainer; address: string }> = {} as never;

    const homeDir = (files: Record<string, Uint8Array | string>, owner?: number): string => {
      const dir = mkdtempSync(join(tmpdir(), 'ztroot-ct-home-'));
      dirs.push(dir);
      mkdirSync(join(dir, 'moons.d'));
      for (const [name, data] of Object.entries(files)) writeFileSync(join(dir, name), data, { mode: 0o600 });
      if (owner !== undefined) for (const f of ['', 'moons.d', ...Object.keys(files)]) chownSync(join(dir, f), owner, owner);
      return dir;
    };
    const api = async (method: string, path: string, body?: unknown): Promise<any> => {
      const r = await fetch(`http://${rootIp}:9993${path}`, {
        method, headers: { 'X-ZT1-Auth': token }, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(10_000),
      });
      expect(r.status, `${method} ${path}`).toBe(200);
      return r.json();
    };
    const cli = (c: StartedTestContainer, ...args: string[]) => execOk(c, ['ztroot', 'cli', `-D${HOME}`, ...args]);
    const leafContainer = (name: string, home: string, privileged: boolean): GenericContainer =>
      new LeafContainer(network, home, privileged, logs).withName(`ztroot-test-leaf-${name}-${runId}`);
    const until = async <T>(what: string, f: () => Promise<T | undefined>, ms = 30_000): Promise<T> => {
      const deadline = Date.now() + ms;
      for (;;) {
        const v = await f().catch(() => undefined);
        if (v !== undefined) return v;
        if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms\n${logs.join('').slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    };

    beforeAll(async () => {
      network = await createNetwork(`ztroot-test-leaf-${runId}`);
      rootIp = network.ip(20);
      const rootId = generateIdentity();
      const signer = generateKeyPair();
      const planet = World.make({
        type: WorldType.planet, id: 0x7a7a_0000_0c7an, timestamp: 1n, updatesMustBeSignedBy: signer.publicKey,
        roots: [{ identity: rootId.publicOnly(), stableEndpoints: [parseInetAddress(`${rootIp}/9993`)!] }],
      }, signer);
      const rootHome = homeDir({ 'identity.secret': rootId.toString(true), planet: planet.serialize() }, 1000);
      root = await new RootContainer(network, rootIp, rootHome, logs)
        .withName(`ztroot-test-ctl-${runId}`)
        .withCommand(['root', '--controller', '--allow-management-from', network.subnet])
        .start();
      started.push(root);
      token = (await execOk(root, ['cat', `${HOME}/authtoken.secret`])).trim();
      const controller = (await health(rootIp)).address;
      const created = await api('POST', `/controller/network/${controller}______`, {
        name: 'containers', private: true, v4AssignMode: { zt: true },
        ipAssignmentPools: [{ ipRangeStart: '10.147.20.10', ipRangeEnd: '10.147.20.250' }], routes: [{ target: '10.147.20.0/24' }],
      });
      nwid = created.id as string;
      for (const [name, privileged] of [['a', true], ['b', true], ['c', false]] as const) {
        const container = await leafContainer(name, homeDir({ planet: planet.serialize() }, privileged ? undefined : 1000), privileged).start();
        started.push(container);
        const info = await until(`leaf ${name} online`, async () => {
          const line = (await cli(container, 'info')).trim();
          return line.endsWith('ONLINE') ? line : undefined;
        });
        leaves[name] = { container, address: info.split(' ')[2] };
        expect(await cli(container, 'join', nwid)).toContain('200 join OK');
        await api('POST', `/controller/network/${nwid}/member/${leaves[name].address}`, { authorized: true });
      }
    }, 4 * 60_000);

    afterAll(async () => {
      for (const c of started.reverse()) await c.stop({ timeout: 10_000 }).catch(() => undefined);
      if (network) await run('docker', ['network', 'rm', network.name], { timeoutMs: 60_000 });
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }, 3 * 60_000);

    const assigned = (name: 'a' | 'b' | 'c') => until(`leaf ${name} gets its address`, async () => {
      const ip = (await cli(leaves[name].container, 'get', nwid, 'ip4')).trim();
      return /^10\.147\.20\.\d+$/.test(ip) ? ip : undefined;
    });

    it('with NET_ADMIN and /dev/net/tun: a TAP device named as 1.14 names it, with the member MAC, the MTU and the address (no ip program in the image)', async () => {
      expect((await leaves.a.container.exec(['sh', '-c', 'command -v ip'])).stdout.trim()).toBe('');
      const ip = await assigned('a');
      const net = JSON.parse(await cli(leaves.a.container, '-j', 'listnetworks')).find((n: { id: string }) => n.id === nwid);
      expect(net).toMatchObject({ status: 'OK', portError: 0, mtu: 2800 });
      const device = net.portDeviceName as string;
      expect(device).toMatch(/^zt[a-z2-7]{8}$/);
      expect((await execOk(leaves.a.container, ['cat', `/sys/class/net/${device}/address`])).trim()).toBe(net.mac);
      expect((await execOk(leaves.a.container, ['cat', `/sys/class/net/${device}/mtu`])).trim()).toBe('2800');
      const addrs = JSON.parse(await execOk(leaves.a.container, ['node', '-e', 'console.log(JSON.stringify(require("os").networkInterfaces()))'])) as Record<string, { address: string }[]>;
      expect(addrs[device]?.map((a) => a.address)).toContain(ip);
    });

    it('two such leaves carry UDP between their ZeroTier addresses', async () => {
      const [ipA, ipB] = [await assigned('a'), await assigned('b')];
      const listen = execOk(leaves.b.container, ['node', '-e',
        "const s=require('dgram').createSocket('udp4');s.bind(7777);s.on('message',(m,r)=>{console.log(m+' from '+r.address);process.exit(0)});setTimeout(()=>process.exit(3),30000)"]);
      await new Promise((r) => setTimeout(r, 500));
      const send = leaves.a.container.exec(['node', '-e',
        `const s=require('dgram').createSocket('udp4');let i=0;setInterval(()=>s.send('hello '+i++,7777,'${ipB}'),300);setTimeout(()=>process.exit(0),30000)`]);
      expect((await listen).trim()).toMatch(new RegExp(`^hello \\d+ from ${ipA.replaceAll('.', '\\.')}$`));
      void send.catch(() => undefined);
    }, 60_000);

    it('without the capability: the leaf stays up, the network is configured and says its port failed', async () => {
      await assigned('c');
      const net = JSON.parse(await cli(leaves.c.container, '-j', 'listnetworks')).find((n: { id: string }) => n.id === nwid);
      expect(net).toMatchObject({ status: 'OK', portError: -1, portDeviceName: '' });
      expect((await inspectHealth(leaves.c.container.getId())).running).toBe(true);
    });
  });
});
