// Direct paths between `ztroot leaf` processes behind NATs, end to end in network namespaces. A
// `ztroot root --controller` on the "WAN" (198.18.8.1) serves the planet and the network; four
// leaves with TAP devices, started without --bind (they bind every local address, IPv4 and IPv6,
// on the primary and a random secondary port, as zerotier-one does), join it:
// - leaf0 and leaf1 each sit alone behind their own home-router NAT. Their first pings cross the
//   root (relayed); then RENDEZVOUS and PUSH_DIRECT_PATHS of the NATs' outside addresses give them
//   a direct path through both NATs, which /peer shows, and pings no longer touch the root;
// - leaf2 and leaf3 sit behind the SAME NAT on one LAN (which also carries IPv6). The root sees
//   them only at the NAT's outside address, which cannot reach back in (no hairpinning), so only
//   PUSH_DIRECT_PATHS of their LAN addresses gives them direct paths: one per address family, at
//   the LAN addresses (docs/protocol/04-verbs.md §15).
//
// Skips (does not fail, and says why) without root and `ip netns`, without `ping`, or without
// the tap addon.

import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatAddress } from '../../src/identity/address.ts';
import type { Identity } from '../../src/identity/identity.ts';
import { ipv4, parseIpv4 } from '../../src/wire/inet-address.ts';
import { nativeAddonPath } from '../../src/util/native-addon.ts';
import { authorize, createLabNetwork, labHome, labPlanet } from '../../tools/lab/controller-lab.ts';
import { labJsonApi, startLabLeaf, startLabRoot, type LabRoot } from '../../tools/lab/lab-root.ts';
import { addSharedLanSite, type SharedLanSite } from '../../tools/lab/nat-lab.ts';
import { NetnsLab } from '../../tools/lab/netns.ts';
import { until as untilWithin } from '../../tools/lab/until.ts';
import { VECTOR_IDENTITIES } from '../support/root-harness.ts';
import { missingCommand, skipGroup, skipWithoutNetns } from '../support/skips.ts';

const WAN = '198.18.8';
const PORT = 9993;
/** Generous deadlines: each wait ends as soon as its event arrives. */
const EVENT_MS = 30_000;

const unavailable = skipWithoutNetns() || skipGroup('leaf paths end-to-end test', missingCommand('ping', 'iputils-ping') ??
  (existsSync(nativeAddonPath('tap')) ? undefined : 'the tap addon is not built (npm run build:native)'));

const until = <T>(what: string, f: () => T | undefined | false): Promise<T> => untilWithin(what, f, EVENT_MS, 250);

interface PathJson { address: string; active: boolean; expired: boolean; preferred: boolean }

describe.skipIf(unavailable)('direct paths between ztroot leaves behind NATs', () => {
  const [rootId, ...leafIds] = VECTOR_IDENTITIES;
  let lab: NetnsLab;
  let root: LabRoot;
  let rootNs: string;
  const sites: SharedLanSite[] = [];
  /** Namespace, LAN addresses and local API of each leaf. */
  const leaves: { ns: string; ip: string; ip6?: string; api: (method: string, path: string, body?: unknown) => any; identity: Identity }[] = [];
  const homes: string[] = [];
  let nwid: string;
  const zt: string[] = [];

  const leafApi = (i: number, method: string, path: string, body?: unknown): any => leaves[i].api(method, path, body);
  /** leaf i's paths to leaf j, from its /peer. */
  const pathsTo = (i: number, j: number): PathJson[] =>
    (leafApi(i, 'GET', '/peer') as { address: string; paths: PathJson[] }[]).find((p) => p.address === formatAddress(leaves[j].identity.address))?.paths ?? [];
  const ping = (from: number, to: number, count = 3): string =>
    spawnSync('ip', ['netns', 'exec', leaves[from].ns, 'ping', '-c', String(count), '-i', '0.3', '-W', '3', zt[to]], { encoding: 'utf8', timeout: 30_000 }).stdout;
  /** Packets the root relayed so far (its /metrics). */
  const relayed = (): number => {
    const line = root.get('/metrics').split('\n').find((l) => l.startsWith('ztroot_relay_total{outcome="forwarded"} '));
    return line ? Number(line.split(' ')[1]) : 0;
  };

  beforeAll(async () => {
    const t0 = Date.now();
    lab = new NetnsLab();
    const wanNs = lab.namespace('wan');
    lab.bridge(wanNs, 'br0');
    rootNs = lab.namespace('root');
    lab.veth({ ns: wanNs, ifname: 'w-root' }, { ns: rootNs, ifname: 'eth0' });
    lab.attach(wanNs, 'w-root', 'br0');
    lab.address(rootNs, 'eth0', `${WAN}.1/24`);
    const wan = { ns: wanNs, bridge: 'br0' };
    sites.push(addSharedLanSite(lab, wan, 'natA', `${WAN}.2/24`, '198.19.1', 1));
    sites.push(addSharedLanSite(lab, wan, 'natB', `${WAN}.3/24`, '198.19.2', 1));
    sites.push(addSharedLanSite(lab, wan, 'natC', `${WAN}.4/24`, '198.19.3', 2, '2001:2:0:3'));

    const planet = labPlanet(0x1ab_0000_0000_9a75n, rootId, ipv4(parseIpv4(`${WAN}.1`)!, PORT));
    const home = (identity: Identity): string => {
      const h = labHome('ztroot-paths-', identity, planet);
      homes.push(h);
      return h;
    };
    const rootHome = home(rootId);
    root = await startLabRoot(lab, rootNs, rootHome, ['--bind', `${WAN}.1`, '--port', String(PORT), '--controller']);
    const rootApi = labJsonApi(lab, rootNs, `http://127.0.0.1:${PORT}`, readFileSync(join(rootHome, 'authtoken.secret'), 'utf8').trim());
    const controllerApi = async (method: string, path: string, body?: unknown): Promise<any> => rootApi(method, path, body);
    const hosts = sites.flatMap((s) => s.hosts);
    leaves.push(...await Promise.all(hosts.map(async (host, i) => {
      const identity = leafIds[i];
      const leaf = await startLabLeaf(lab, host.ns, home(identity), ['--port', String(PORT)], EVENT_MS);
      return { ...host, api: labJsonApi(lab, host.ns, `http://127.0.0.1:${PORT}`, leaf.token), identity };
    })));
    nwid = await createLabNetwork(controllerApi, rootId.address, { name: 'lab-paths', subnet: '10.245.0' });
    for (const [i, leaf] of leaves.entries()) {
      // authorized before it asks: its first request gets the config, no 5-s retry
      await authorize(controllerApi, nwid, leaf.identity.address);
      leafApi(i, 'POST', `/network/${nwid}`, {});
    }
    for (const i of leaves.keys()) {
      const n = await until(`leaf ${i} configured`, () => {
        const got = leafApi(i, 'GET', `/network/${nwid}`);
        return got.status === 'OK' && got.portDeviceName && got.assignedAddresses.length > 0 ? got : undefined;
      });
      zt[i] = n.assignedAddresses[0].split('/')[0];
    }
    console.log(`lab, root and 4 configured leaves in ${Date.now() - t0} ms`);
  }, 120_000);

  afterAll(async () => {
    if (!lab) return;
    const problems = await lab.destroy();
    for (const h of homes) rmSync(h, { recursive: true, force: true });
    expect(problems).toEqual([]);
  }, 30_000);

  it('the leaves bind every local address, IPv4 and IPv6, on the primary and a random secondary port, as zerotier-one does', () => {
    const { listeningOn, secondaryPort } = leafApi(2, 'GET', '/status').config.settings;
    expect(secondaryPort).toBeGreaterThanOrEqual(20000);
    for (const port of [PORT, secondaryPort]) {
      expect(listeningOn).toContain(`${leaves[2].ip}/${port}`);
      expect(listeningOn).toContain(`${leaves[2].ip6}/${port}`);
    }
    // what the root saw it as: its NAT's outside address (pushed to members along with its own)
    const surfaces: string[] = leafApi(0, 'GET', '/status').config.settings.surfaceAddresses;
    expect(surfaces.some((a) => a.startsWith(`${sites[0].publicIp}/`))).toBe(true);
  });

  it('two leaves behind separate NATs ping through the root first, then over a direct path through both NATs', async () => {
    expect(pathsTo(0, 1)).toEqual([]);
    const before = relayed();
    expect(ping(0, 1)).toMatch(/3 packets transmitted, [1-3] received/);
    expect(relayed()).toBeGreaterThan(before); // the first packets went through the root
    for (const [i, j] of [[0, 1], [1, 0]]) {
      const direct = await until(`leaf ${i}'s direct path to leaf ${j}`, () => {
        const p = pathsTo(i, j).find((x) => x.address.startsWith(`${sites[j].publicIp}/`));
        return p ?? undefined;
      });
      expect(direct).toMatchObject({ active: true, expired: false });
    }
    const quiet = relayed();
    expect(ping(0, 1, 5)).toMatch(/5 packets transmitted, 5 received/);
    expect(ping(1, 0, 5)).toMatch(/5 packets transmitted, 5 received/);
    expect(relayed()).toBe(quiet); // the root carried none of them
  });

  it('two leaves behind the same NAT get direct LAN paths, IPv4 and IPv6, only from PUSH_DIRECT_PATHS', async () => {
    expect(ping(2, 3)).toMatch(/3 packets transmitted, [1-3] received/);
    for (const [i, j] of [[2, 3], [3, 2]]) {
      const lan = await until(`leaf ${i}'s LAN paths to leaf ${j}`, () => {
        const paths = pathsTo(i, j);
        // at either of its ports: it pushes its primary and its secondary port, and the first to answer wins
        const v4 = paths.find((p) => p.address.startsWith(`${leaves[j].ip}/`));
        const v6 = paths.find((p) => p.address.startsWith(`${leaves[j].ip6}/`));
        return v4 && v6 ? paths : undefined;
      });
      // never at the NAT's outside address (which cannot reach back in), never loopback
      expect(lan.map((p) => p.address).filter((a) => !a.startsWith('198.19.3.') && !a.startsWith('2001:2:0:3::'))).toEqual([]);
    }
    const quiet = relayed();
    expect(ping(2, 3, 5)).toMatch(/5 packets transmitted, 5 received/);
    expect(relayed()).toBe(quiet);
  });
});
