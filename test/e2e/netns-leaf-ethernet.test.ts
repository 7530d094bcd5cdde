// Ethernet between two `ztroot leaf` processes, end to end in network namespaces: a `ztroot root
// --controller` (198.18.4.1) serves the planet and runs the network; each leaf (198.18.4.2, .3)
// joins it through its local API, is authorized through the controller API, gets a TAP device
// with its managed address, and the kernel's own ping crosses the ZeroTier network — ARP as
// MULTICAST_FRAME to the subscribers the root gathered, ICMP as FRAMEs between members that
// exchanged COMs (docs/protocol/04-verbs.md §7, §10, §13, §14; 07-network-config-controller.md §9).
//
// Skips (does not fail, and says why) without root and `ip netns`, without `ping` (Debian:
// iputils-ping), or without the tap addon.

import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatAddress } from '../../src/identity/address.ts';
import type { Identity } from '../../src/identity/identity.ts';
import { ipv4, parseIpv4 } from '../../src/wire/inet-address.ts';
import { nativeAddonPath } from '../../src/util/native-addon.ts';
import { createLabNetwork, labHome, labPlanet } from '../../tools/lab/controller-lab.ts';
import { labJsonApi, startLabLeaf, startLabRoot } from '../../tools/lab/lab-root.ts';
import { NetnsLab } from '../../tools/lab/netns.ts';
import { until as untilWithin } from '../../tools/lab/until.ts';
import { VECTOR_IDENTITIES } from '../support/root-harness.ts';
import { missingCommand, skipGroup, skipWithoutNetns } from '../support/skips.ts';

const NET = '198.18.4';
const PORT = 9993;
const EVENT_MS = 30_000;

const unavailable = skipWithoutNetns() || skipGroup('leaf Ethernet end-to-end test', missingCommand('ping', 'iputils-ping') ??
  (existsSync(nativeAddonPath('tap')) ? undefined : 'the tap addon is not built (npm run build:native)'));

const until = <T>(what: string, f: () => T | undefined | false): Promise<T> => untilWithin(what, f, EVENT_MS, 250);

describe.skipIf(unavailable)('Ethernet between two ztroot leaves', () => {
  const [rootId, id0, id1] = VECTOR_IDENTITIES;
  let lab: NetnsLab;
  const ns: Record<string, string> = {};
  const homes: string[] = [];
  let controllerApi: (method: string, path: string, body?: unknown) => any;
  const leafApis: ((method: string, path: string, body?: unknown) => any)[] = [];
  let nwid: string;
  const ips: string[] = [];

  const leafApi = (i: number, method: string, path: string, body?: unknown): any => leafApis[i](method, path, body);

  beforeAll(async () => {
    lab = new NetnsLab();
    const wan = lab.namespace('wan');
    lab.bridge(wan, 'br0');
    for (const [i, role] of ['root', 'leaf0', 'leaf1'].entries()) {
      ns[role] = lab.namespace(role);
      lab.veth({ ns: wan, ifname: `w-${role}` }, { ns: ns[role], ifname: 'eth0' });
      lab.attach(wan, `w-${role}`, 'br0');
      lab.address(ns[role], 'eth0', `${NET}.${i + 1}/24`);
    }
    const planet = labPlanet(0x1ab_0000_0000_e7e7n, rootId, ipv4(parseIpv4(`${NET}.1`)!, PORT));
    const home = (identity: Identity): string => {
      const h = labHome('ztroot-eth-', identity, planet);
      homes.push(h);
      return h;
    };
    const rootHome = home(rootId);
    await startLabRoot(lab, ns.root, rootHome, ['--bind', `${NET}.1`, '--port', String(PORT), '--controller']);
    controllerApi = labJsonApi(lab, ns.root, `http://127.0.0.1:${PORT}`, readFileSync(join(rootHome, 'authtoken.secret'), 'utf8').trim());
    for (const [i, identity] of [id0, id1].entries()) {
      const leaf = await startLabLeaf(lab, ns[`leaf${i}`], home(identity), ['--bind', `${NET}.${i + 2}`, '--port', String(PORT)], EVENT_MS);
      leafApis.push(labJsonApi(lab, ns[`leaf${i}`], `http://127.0.0.1:${PORT}`, leaf.token));
    }
    nwid = await createLabNetwork(async (m, p, b) => controllerApi(m, p, b), rootId.address, { name: 'lab-ethernet', subnet: '10.244.0' });
  }, 120_000);

  afterAll(async () => {
    if (!lab) return;
    const problems = await lab.destroy();
    for (const h of homes) rmSync(h, { recursive: true, force: true });
    expect(problems).toEqual([]);
  }, 30_000);

  it('both leaves join, are authorized, and get a TAP device with their managed address', async () => {
    for (const [i, identity] of [id0, id1].entries()) {
      expect(leafApi(i, 'POST', `/network/${nwid}`, {})).toMatchObject({ id: nwid, status: 'REQUESTING_CONFIGURATION' });
      controllerApi('POST', `/controller/network/${nwid}/member/${formatAddress(identity.address)}`, { authorized: true });
    }
    for (const i of [0, 1]) {
      const n = await until(`leaf ${i} configured`, () => {
        const got = leafApi(i, 'GET', `/network/${nwid}`);
        return got.status === 'OK' && got.portDeviceName ? got : undefined;
      });
      expect(n).toMatchObject({ name: 'lab-ethernet', portError: 0 });
      ips[i] = n.assignedAddresses[0].split('/')[0];
      const dev = lab.exec(ns[`leaf${i}`], 'ip', ['-br', 'addr', 'show', 'dev', n.portDeviceName]);
      expect(dev).toContain(n.assignedAddresses[0]);
      expect(lab.exec(ns[`leaf${i}`], 'ip', ['-br', 'link', 'show', 'dev', n.portDeviceName]).toLowerCase()).toContain(n.mac);
    }
  });

  it('the kernel\'s ping crosses the network both ways (ARP as multicast, ICMP as frames)', () => {
    for (const [from, to] of [[0, 1], [1, 0]]) {
      const r = spawnSync('ip', ['netns', 'exec', ns[`leaf${from}`], 'ping', '-c', '3', '-W', '3', ips[to]], { encoding: 'utf8', timeout: 30_000 });
      expect(r.stdout, r.stderr).toMatch(/3 packets transmitted, [1-3] received/);
    }
  });

  it('the network\'s rules apply on the members: a rule dropping ICMP stops ping until it is removed', async () => {
    const ping = (): string => spawnSync('ip', ['netns', 'exec', ns.leaf0, 'ping', '-c', '2', '-W', '2', ips[1]], { encoding: 'utf8', timeout: 30_000 }).stdout;
    const revision = (i: number): number => leafApi(i, 'GET', `/network/${nwid}`).netconfRevision;
    const before = [revision(0), revision(1)];
    controllerApi('POST', `/controller/network/${nwid}`, { rules: [
      { type: 'MATCH_ETHERTYPE', etherType: 2048 }, { type: 'MATCH_IP_PROTOCOL', ipProtocol: 1 }, { type: 'ACTION_DROP' },
      { type: 'ACTION_ACCEPT' },
    ] });
    await until('the pushed rules', () => (revision(0) > before[0] && revision(1) > before[1] ? true : undefined));
    expect(ping()).toMatch(/2 packets transmitted, 0 received/);
    controllerApi('POST', `/controller/network/${nwid}`, { rules: [{ type: 'ACTION_ACCEPT' }] });
    await until('ping again', () => (/2 packets transmitted, [12] received/.test(ping()) ? true : undefined));
  });

  it('a payload larger than the UDP MTU arrives whole (fragmented ZeroTier packets)', () => {
    const r = spawnSync('ip', ['netns', 'exec', ns.leaf0, 'ping', '-c', '2', '-W', '3', '-s', '2400', ips[1]], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stdout, r.stderr).toMatch(/2 packets transmitted, [12] received/);
  });

  it('deauthorizing a member cuts it off at once: the other member refuses its frames (revocation)', async () => {
    controllerApi('POST', `/controller/network/${nwid}/member/${formatAddress(id1.address)}`, { authorized: false });
    await new Promise((r) => setTimeout(r, 1500)); // the push and the revocation are immediate; allow the exchange
    const r = spawnSync('ip', ['netns', 'exec', ns.leaf0, 'ping', '-c', '3', '-W', '2', ips[1]], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stdout).toMatch(/3 packets transmitted, 0 received/);
  });
});
