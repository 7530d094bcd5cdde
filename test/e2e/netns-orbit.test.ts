// `orbit` through the planet, end to end in network namespaces (docs/protocol/05-world-moons.md §6.2–§6.3):
// a planet served by one `ztroot root` (198.18.1.1), a moon served by a second `ztroot root`
// (198.18.1.2) that lives in that planet (`--planet FILE`), and two leaves that know only the
// planet. The moon root registers with the planet root by itself, so each leaf's WHOIS for the
// seed is answered and its HELLO to the seed is relayed; the leaves take the moon, then reach the
// moon root directly at its stable endpoint, and a later revision published on the moon root
// reaches them in-band. Also: a root with no planet sends nothing beyond its own listeners.
//
// Skips (does not fail, and says why) without root, `ip netns` or iptables. See tools/lab/.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, type C25519KeyPair } from '../../src/crypto/c25519.ts';
import { formatAddress } from '../../src/identity/address.ts';
import type { Identity } from '../../src/identity/identity.ts';
import { ipv4, parseIpv4 } from '../../src/wire/inet-address.ts';
import { WorldType } from '../../src/world/constants.ts';
import { World } from '../../src/world/world.ts';
import { LeafClient } from '../../tools/lab/leaf-client.ts';
import { LEAF_RUNNER, NODE, startLabRoot, type LabRoot } from '../../tools/lab/lab-root.ts';
import { NetnsLab } from '../../tools/lab/netns.ts';
import { VECTOR_IDENTITIES } from '../support/root-harness.ts';
import { skipWithoutNetns } from '../support/skips.ts';

const PORT = 9993;
const NET = '198.18.1';
const PLANET_ID = 0x1ab_0000_0000_0015n;
const STARTUP_MS = 30_000;
/** The leaves' 1.14 timers, shortened: ping check 1 s, full HELLO to upstreams with a path every 3 s. */
const LEAF_PING_MS = 1000;
const LEAF_HELLO_MS = 3000;
const EVENT_MS = 20_000;

const noNetns = skipWithoutNetns();

function world(type: WorldType, id: bigint, timestamp: bigint, root: Identity, ip: string, signer: C25519KeyPair): World {
  return World.make({
    type, id, timestamp, updatesMustBeSignedBy: signer.publicKey,
    roots: [{ identity: root.publicOnly(), stableEndpoints: [ipv4(parseIpv4(ip)!, PORT)] }],
  }, signer);
}

function writeHome(home: string, identity: Identity, files: Record<string, Uint8Array>): void {
  mkdirSync(join(home, 'moons.d'), { recursive: true, mode: 0o700 });
  writeFileSync(join(home, 'identity.secret'), identity.toString(true), { mode: 0o600 });
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(home, name), bytes);
}

describe.skipIf(noNetns)('orbit a ztroot moon through a ztroot planet', () => {
  const [planetRootId, moonRootId] = VECTOR_IDENTITIES;
  const planetSigner = generateKeyPair(), moonSigner = generateKeyPair();
  const moonId = BigInt(moonRootId.address);
  const planet = world(WorldType.planet, PLANET_ID, 1000n, planetRootId, `${NET}.1`, planetSigner);
  const moon1 = world(WorldType.moon, moonId, 2000n, moonRootId, `${NET}.2`, moonSigner);
  let lab: NetnsLab;
  const ns: Record<string, string> = {};
  const homes: string[] = [];
  let planetRoot: LabRoot;
  let moonRoot: LabRoot;
  const leaves: LeafClient[] = [];
  const moonAddress = formatAddress(moonRootId.address);
  let planetFile: string;

  beforeAll(async () => {
    lab = new NetnsLab();
    const wan = lab.namespace('wan');
    lab.bridge(wan, 'br0');
    for (const [i, role] of ['planet', 'moon', 'leaf0', 'leaf1'].entries()) {
      ns[role] = lab.namespace(role);
      lab.veth({ ns: wan, ifname: `w-${role}` }, { ns: ns[role], ifname: 'eth0' });
      lab.attach(wan, `w-${role}`, 'br0');
      lab.address(ns[role], 'eth0', `${NET}.${i + 1}/24`);
    }
    const planetHome = mkdtempSync(join(tmpdir(), 'ztroot-planet-'));
    const moonHome = mkdtempSync(join(tmpdir(), 'ztroot-moon-'));
    homes.push(planetHome, moonHome);
    writeHome(planetHome, planetRootId, { planet: planet.serialize() });
    writeHome(moonHome, moonRootId, { [`moons.d/${moon1.fileName}`]: moon1.serialize() });
    planetFile = join(moonHome, 'lab.planet');
    writeFileSync(planetFile, planet.serialize());

    planetRoot = await startLabRoot(lab, ns.planet, planetHome, ['--bind', `${NET}.1`, '--port', String(PORT)]);
    moonRoot = await startLabRoot(lab, ns.moon, moonHome, ['--bind', `${NET}.2`, '--port', String(PORT), '--planet', planetFile]);
    for (const i of [0, 1]) {
      const child = lab.spawn(ns[`leaf${i}`], NODE, [
        LEAF_RUNNER, '--bind', `${NET}.${3 + i}`, '--planet', planetFile, '--orbit', `${moonId.toString(16)}/${moonAddress}`,
        '--ping-ms', String(LEAF_PING_MS), '--hello-ms', String(LEAF_HELLO_MS),
      ]);
      leaves.push(new LeafClient(`leaf ${i}`, child));
    }
    for (const leaf of leaves) await leaf.waitFor('ready', (e) => e.event === 'ready', STARTUP_MS);
  }, 3 * STARTUP_MS);

  afterAll(async () => {
    if (!lab) return;
    const problems = await lab.destroy();
    for (const h of homes) rmSync(h, { recursive: true, force: true });
    expect(problems).toEqual([]);
  }, 30_000);

  it('the moon root registers with the planet root and reports it as an answering upstream', async () => {
    const deadline = Date.now() + EVENT_MS;
    let health: { upstreams: { address: string; role: string; reachable: boolean; path: string | null }[] };
    do {
      health = JSON.parse(moonRoot.get('/health'));
      if (health.upstreams[0]?.reachable) break;
      await new Promise((r) => setTimeout(r, 200));
    } while (Date.now() < deadline);
    expect(health.upstreams).toEqual([expect.objectContaining({
      address: formatAddress(planetRootId.address), role: 'PLANET', reachable: true, path: `${NET}.1/${PORT}`,
    })]);
    const planetPeers = JSON.parse(planetRoot.get('/peers')) as { address: string; paths: { address: string }[] }[];
    expect(planetPeers.find((p) => p.address === moonAddress)?.paths.map((p) => p.address)).toEqual([`${NET}.2/${PORT}`]);
    expect(moonRoot.get('/metrics')).toMatch(new RegExp(`ztroot_upstream_reachable\\{upstream="${formatAddress(planetRootId.address)}",role="PLANET"\\} 1`));
  });

  it('each leaf, knowing only the planet, fetches the moon from its seed through the planet root', async () => {
    for (const leaf of leaves) {
      const w = await leaf.waitFor('the moon', (e) => e.event === 'world' && e.id === moon1.idHex, EVENT_MS);
      expect(w.timestamp).toBe('2000');
    }
  });

  it('then reaches the moon root directly at its stable endpoint', async () => {
    for (const leaf of leaves) {
      const deadline = Date.now() + EVENT_MS;
      let paths: { remote: string }[] = [];
      while (Date.now() < deadline) {
        paths = (await leaf.request({ cmd: 'paths', peer: moonAddress })).paths as { remote: string }[];
        if (paths.length > 0) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(paths.map((p) => p.remote), leaf.name).toEqual([`${NET}.2/${PORT}`]);
    }
  });

  it('a new revision of the moon published on the moon root reaches the leaves in-band', async () => {
    const since = leaves.map((l) => l.events.length);
    const moon2 = world(WorldType.moon, moonId, 3000n, moonRootId, `${NET}.2`, moonSigner);
    writeFileSync(join(moonRoot.home, 'moons.d', moon2.fileName), moon2.serialize());
    moonRoot.child.kill('SIGHUP');
    for (const [i, leaf] of leaves.entries()) {
      const w = await leaf.waitFor('moon revision 3000', (e) => e.event === 'world' && e.id === moon2.idHex && e.timestamp === '3000', EVENT_MS, since[i]);
      expect(w).toBeTruthy();
    }
  });
});

describe.skipIf(noNetns)('a root with no planet contacts nobody', () => {
  let lab: NetnsLab;
  const homes: string[] = [];

  afterAll(async () => {
    if (!lab) return;
    const problems = await lab.destroy();
    for (const h of homes) rmSync(h, { recursive: true, force: true });
    expect(problems).toEqual([]);
  }, 30_000);

  /** UDP datagrams the root's namespace sent anywhere but loopback during `ms`, counted by iptables. */
  async function outboundDuring(args: string[], files: Record<string, Uint8Array>, ms: number): Promise<number> {
    lab ??= new NetnsLab();
    const home = mkdtempSync(join(tmpdir(), 'ztroot-guard-'));
    homes.push(home);
    const root = lab.namespace(`guard${homes.length}`), sink = lab.namespace(`sink${homes.length}`);
    // a default route, so any datagram the root tries to send anywhere leaves its socket and is counted
    lab.veth({ ns: root, ifname: 'eth0' }, { ns: sink, ifname: 'eth0' });
    lab.address(root, 'eth0', '198.19.0.1/24');
    lab.address(sink, 'eth0', '198.19.0.2/24');
    lab.defaultRoute(root, '198.19.0.2');
    lab.countingRule(root, 'OUTPUT', 'udp-out', ['-p', 'udp', '!', '-o', 'lo']);
    writeHome(home, VECTOR_IDENTITIES[2], files);
    const r = await startLabRoot(lab, root, home, ['--port', String(PORT), ...args]);
    await new Promise((res) => setTimeout(res, ms));
    const n = lab.packetCount(root, 'OUTPUT', 'udp-out');
    r.child.kill('SIGTERM');
    return n;
  }

  it('sends no datagram beyond its own listeners over three ping checks (the public planet is never a default)', async () => {
    expect(await outboundDuring([], {}, 16_000)).toBe(0);
  }, 60_000);

  it('(control) with a planet whose root is elsewhere, the same count is not zero', async () => {
    const signer = generateKeyPair();
    const elsewhere = world(WorldType.planet, PLANET_ID, 1n, VECTOR_IDENTITIES[3], '198.19.0.77', signer);
    expect(await outboundDuring([], { planet: elsewhere.serialize() }, 2_000)).toBeGreaterThan(0);
  }, 60_000);
});
