// End to end in network namespaces: the real `ztroot root` daemon on a 198.18.0.1 "public"
// address, two leaves each alone behind its own masquerading NAT router. The leaves learn paths
// as 1.14 does (only from a direct OK, never loopback, the root only at its stable endpoint),
// exchange a frame relayed by the root, follow the root's RENDEZVOUS through their NATs to a
// direct path, and then exchange frames that the root provably no longer carries (its relay
// counters stand still while the NAT routers count the packets going router to router).
//
// Skips (does not fail, and says why) only without root, iptables or a working `ip netns`. See
// tools/lab/.

import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ipv4, parseIpv4 } from '../../src/wire/inet-address.ts';
import type { LeafClient } from '../../tools/lab/leaf-client.ts';
import { startLabRoot, type LabRoot } from '../../tools/lab/lab-root.ts';
import { moonRootHome, startSiteLeaves } from '../../tools/lab/moon-lab.ts';
import { buildNatLab, type NatLab } from '../../tools/lab/nat-lab.ts';
import { NetnsLab } from '../../tools/lab/netns.ts';
import { skipWithoutNetns } from '../support/skips.ts';

const ROOT_PORT = 9993;
const ROOT_HTTP = `127.0.0.1:${ROOT_PORT}`; // TCP, inside the root's namespace
/** Generous deadlines: each wait ends as soon as its event arrives. */
const STARTUP_MS = 30_000;
const EVENT_MS = 15_000;
const DIRECT_FRAMES = 5;

const noNetns = skipWithoutNetns();

/** Matches "IP/port" for one IPv4 address and any port. */
function atIp(ip: string): RegExp {
  return new RegExp(`^${ip.replaceAll('.', '\\.')}/\\d+$`);
}

describe.skipIf(noNetns)('root and two NATed leaves in network namespaces', () => {
  let lab: NetnsLab;
  let net: NatLab;
  let home: string;
  let root: LabRoot;
  let rootAddress: string;
  let leaves: LeafClient[];
  let address: string[];

  /** GET a root HTTP endpoint from inside the root's namespace (the host cannot route there). */
  function rootHttp(path: string): string {
    return root.get(path);
  }

  /** The root's relay and RENDEZVOUS counters, from one /metrics scrape (0 for series not there yet). */
  function rootCounters(): { forwarded: number; relayedBytes: number; rendezvous: number } {
    const lines = rootHttp('/metrics').split('\n');
    const value = (series: string): number => {
      const line = lines.find((l) => l.startsWith(`${series} `));
      return line === undefined ? 0 : Number(line.slice(series.length + 1));
    };
    return {
      forwarded: value('ztroot_relay_total{outcome="forwarded"}'),
      relayedBytes: value('ztroot_relayed_bytes_total'),
      rendezvous: value('ztroot_rendezvous_sent_total'),
    };
  }

  /** Poll a leaf's paths to a peer until one leads to `remoteIp` (a NAT's public address). */
  async function waitForDirectPath(leaf: LeafClient, peer: string, remoteIp: string): Promise<string> {
    const deadline = Date.now() + EVENT_MS;
    let last: unknown;
    while (Date.now() < deadline) {
      const r = await leaf.request({ cmd: 'paths', peer });
      last = r.paths;
      const hit = (r.paths as { remote: string }[]).find((p) => p.remote.startsWith(`${remoteIp}/`));
      if (hit) return hit.remote;
      await new Promise((t) => setTimeout(t, 100));
    }
    throw new Error(`${leaf.name} has no direct path to ${peer} at ${remoteIp} within ${EVENT_MS} ms (paths: ${JSON.stringify(last)})\n${leaf.describe()}`);
  }

  beforeAll(async () => {
    lab = new NetnsLab();
    net = buildNatLab(lab, 2);
    // The NAT routers count what leaves through their WAN side toward the other router and the root.
    net.sites.forEach((site, i) => {
      const other = net.sites[1 - i];
      lab.countingRule(site.nat, 'FORWARD', 'to-peer', ['-o', 'wan', '-p', 'udp', '-d', other.publicIp]);
      lab.countingRule(site.nat, 'FORWARD', 'to-root', ['-o', 'wan', '-p', 'udp', '-d', net.root.ip]);
    });

    // The root's identity and a moon naming it at its stable endpoint 198.18.0.1/9993.
    const moonRoot = moonRootHome('ztroot-e2e-', ipv4(parseIpv4(net.root.ip)!, ROOT_PORT));
    ({ home, address: rootAddress } = moonRoot);
    root = await startLabRoot(lab, net.root.ns, home, ['--bind', net.root.ip, '--port', String(ROOT_PORT)], ROOT_HTTP, STARTUP_MS);
    ({ leaves, addresses: address } = await startSiteLeaves(lab, net, moonRoot.moonFile, STARTUP_MS));
  }, 2 * STARTUP_MS + 30_000);

  afterAll(async () => {
    if (!lab) return;
    const problems = await lab.destroy();
    if (home) rmSync(home, { recursive: true, force: true });
    expect(problems).toEqual([]);
  }, 30_000);

  it('both leaves come online through their NATs and know the root only at its stable endpoint', async () => {
    for (const [i, leaf] of leaves.entries()) {
      const rootPeers = (await leaf.request({ cmd: 'paths', peer: rootAddress })).paths as { remote: string }[];
      expect(rootPeers.map((p) => p.remote), leaf.name).toEqual([`${net.root.ip}/${ROOT_PORT}`]);
      expect(rootPeers[0]).toMatchObject({ local: expect.stringMatching(atIp(net.sites[i].leafIp)) });
    }
    // The root sees each leaf at its NAT router's public address, not at the private LAN address.
    const peers = JSON.parse(rootHttp('/peers')) as { address: string; paths: { address: string }[] }[];
    for (const [i, a] of address.entries()) {
      const seen = peers.find((p) => p.address === a);
      expect(seen?.paths.map((p) => p.address.split('/')[0]), `root's view of leaf ${'AB'[i]}`).toEqual([net.sites[i].publicIp]);
    }
  });

  it('a first frame from A to B is relayed by the root, which sends RENDEZVOUS to both', async () => {
    const [a, b] = leaves;
    // B learns A's identity first (as members of a network do), so it can act on the RENDEZVOUS:
    // 1.14 ignores RENDEZVOUS about peers it does not know yet.
    expect((await b.request({ cmd: 'whois', address: address[0] })).found).toBe(true);
    const before = rootCounters();

    const sent = await a.request({ cmd: 'frame', to: address[1], text: 'hello through the root' });
    expect(sent.result).toBe('relayed');
    const got = await b.waitFor('relayed frame', (e) => e.event === 'frame' && e.text === 'hello through the root', EVENT_MS);
    expect(got).toMatchObject({ from: address[0], relayed: true });

    const toA = await a.waitFor('RENDEZVOUS', (e) => e.event === 'rendezvous', EVENT_MS);
    const toB = await b.waitFor('RENDEZVOUS', (e) => e.event === 'rendezvous', EVENT_MS);
    expect(toA).toMatchObject({ peer: address[1], address: expect.stringMatching(atIp(net.sites[1].publicIp)) });
    expect(toB).toMatchObject({ peer: address[0], address: expect.stringMatching(atIp(net.sites[0].publicIp)) });

    const after = rootCounters();
    expect(after.forwarded).toBeGreaterThanOrEqual(before.forwarded + 1);
    expect(after.relayedBytes).toBeGreaterThan(before.relayedBytes);
    expect(after.rendezvous).toBe(before.rendezvous + 2);
  });

  it('the leaves reach a direct path to each other through both NATs', async () => {
    const [a, b] = leaves;
    const aToB = await waitForDirectPath(a, address[1], net.sites[1].publicIp);
    const bToA = await waitForDirectPath(b, address[0], net.sites[0].publicIp);
    // the ports are the ones the root announced in its RENDEZVOUS
    expect(aToB).toBe(a.events.find((e) => e.event === 'rendezvous')?.address);
    expect(bToA).toBe(b.events.find((e) => e.event === 'rendezvous')?.address);
  });

  it('later frames go directly between the NAT routers and the root carries none of them', async () => {
    const [a, b] = leaves;
    const before = rootCounters();
    const routerToRouterBefore = net.sites.map((s) => lab.packetCount(s.nat, 'FORWARD', 'to-peer'));
    const routerToRootBefore = net.sites.map((s) => lab.packetCount(s.nat, 'FORWARD', 'to-root'));

    for (let n = 0; n < DIRECT_FRAMES; n++) {
      for (const [from, to, fromIndex, toIndex] of [[a, b, 0, 1], [b, a, 1, 0]] as const) {
        const text = `direct ${from.name} #${n}`;
        const since = to.events.length;
        const sent = await from.request({ cmd: 'frame', to: address[toIndex], text });
        expect(sent.result, text).toBe('direct');
        const got = await to.waitFor(`frame "${text}"`, (e) => e.event === 'frame' && e.text === text, EVENT_MS, since);
        expect(got, text).toMatchObject({ from: address[fromIndex], relayed: false });
      }
    }

    const after = rootCounters();
    expect(after.forwarded, 'datagrams the root relayed meanwhile').toBe(before.forwarded);
    expect(after.relayedBytes, 'bytes the root relayed meanwhile').toBe(before.relayedBytes);
    const routerToRouterAfter = net.sites.map((s) => lab.packetCount(s.nat, 'FORWARD', 'to-peer'));
    const routerToRootAfter = net.sites.map((s) => lab.packetCount(s.nat, 'FORWARD', 'to-root'));
    for (const i of [0, 1]) {
      expect(routerToRouterAfter[i] - routerToRouterBefore[i], `NAT ${'AB'[i]} → other NAT`).toBeGreaterThanOrEqual(DIRECT_FRAMES);
      // whatever still went to the root (a keepalive HELLO at most) cannot have carried the frames
      expect(routerToRootAfter[i] - routerToRootBefore[i], `NAT ${'AB'[i]} → root`).toBeLessThan(DIRECT_FRAMES);
    }
  });
});
