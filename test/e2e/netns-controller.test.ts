// End to end in network namespaces: `ztroot root --controller` (with its packet workers) on a
// 198.18.0.1 "public" address, two leaves each behind its own masquerading NAT. The leaves join a
// private network the test creates through the controller API, are refused, get authorized
// through the API, receive configs with pool addresses, exchange network frames (each accepting
// the other's COM), and a deauthorized leaf's COM is revoked at the other one.
//
// Skips (does not fail, and says why) without root, iptables or a working `ip netns`. See tools/lab/.

import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ipv4, parseIpv4 } from '../../src/wire/inet-address.ts';
import type { LeafClient } from '../../tools/lab/leaf-client.ts';
import { labJsonApi, startLabRoot, type LabRoot } from '../../tools/lab/lab-root.ts';
import { moonRootHome, startSiteLeaves } from '../../tools/lab/moon-lab.ts';
import { buildNatLab, type NatLab } from '../../tools/lab/nat-lab.ts';
import { NetnsLab } from '../../tools/lab/netns.ts';
import { skipWithoutNetns } from '../support/skips.ts';


const ROOT_PORT = 9993;
const ROOT_HTTP = `127.0.0.1:${ROOT_PORT}`;
const STARTUP_MS = 30_000;
/** A refused member asks again every 5 s (1.14's period), so waits for a config allow two rounds. */
const EVENT_MS = 20_000;

const noNetns = skipWithoutNetns();

describe.skipIf(noNetns)('root --controller and two NATed members in network namespaces', () => {
  let lab: NetnsLab;
  let net: NatLab;
  let home: string;
  let root: LabRoot;
  /** The controller API, called from inside the root's namespace. */
  let api: (method: string, path: string, body?: unknown) => any;
  let nwid: string;
  let leaves: LeafClient[] = [];
  let address: string[];

  /**
   * A wait that, when it times out, says what the root printed, what the leaf saw and what every
   * leaf counted (drops by reason, verbs in and out), for failures seen only on loaded machines.
   */
  const explained = <T>(leaf: LeafClient, wait: Promise<T>): Promise<T> => wait.catch(async (e: unknown) => {
    const counts = await Promise.all(leaves.map((l) => l.request({ cmd: 'stats' }, 5000).then(
      (s) => `${l.name}: ${JSON.stringify(s)}`, (err: unknown) => `${l.name}: no stats (${(err as Error).message.split('\n')[0]})`)));
    throw new Error(`${(e as Error).message}\n--- root output (tail) ---\n${root.output().slice(-4000)}\n--- ${leaf.name} events ---\n` +
      `${leaf.events.map((x) => JSON.stringify(x)).join('\n').slice(-4000)}\n--- counters ---\n${counts.join('\n')}`);
  });

  const networkEvent = (leaf: LeafClient, status: string, since = 0) =>
    explained(leaf, leaf.waitFor(`network ${status}`, (e) => e.event === 'network' && e.network === nwid && e.status === status, EVENT_MS, since));

  beforeAll(async () => {
    lab = new NetnsLab();
    net = buildNatLab(lab, 2);
    const moonRoot = moonRootHome('ztroot-e2e-ctl-', ipv4(parseIpv4(net.root.ip)!, ROOT_PORT));
    home = moonRoot.home;
    root = await startLabRoot(lab, net.root.ns, home, ['--controller', '--bind', net.root.ip, '--port', String(ROOT_PORT), '--workers', '2'], ROOT_HTTP, STARTUP_MS);
    api = labJsonApi(lab, net.root.ns, `http://${ROOT_HTTP}`, readFileSync(join(home, 'authtoken.secret'), 'utf8').trim());
    ({ leaves, addresses: address } = await startSiteLeaves(lab, net, moonRoot.moonFile, STARTUP_MS));
    nwid = api('POST', `/controller/network/${moonRoot.address}______`, {
      name: 'natlab', private: true, v4AssignMode: { zt: true },
      routes: [{ target: '10.147.30.0/24' }], ipAssignmentPools: [{ ipRangeStart: '10.147.30.10', ipRangeEnd: '10.147.30.99' }],
    }).id;
  }, 2 * STARTUP_MS + 30_000);

  afterAll(async () => {
    if (!lab) return;
    const problems = await lab.destroy();
    if (home) rmSync(home, { recursive: true, force: true });
    expect(problems).toEqual([]);
  }, 30_000);

  it('refuses the members until the API authorizes them, then configures both with pool addresses', async () => {
    for (const leaf of leaves) await leaf.request({ cmd: 'join', network: nwid });
    for (const leaf of leaves) await networkEvent(leaf, 'ACCESS_DENIED');
    expect(Object.keys(api('GET', `/controller/network/${nwid}/member`)).sort()).toEqual([...address].sort());
    for (const a of address) expect(api('POST', `/controller/network/${nwid}/member/${a}`, { authorized: true }).authorized).toBe(true);
    const ips: string[] = [];
    for (const leaf of leaves) {
      const ok = await networkEvent(leaf, 'OK');
      expect(ok.name).toBe('natlab');
      ips.push(...(ok.ips as string[]));
    }
    expect(ips).toHaveLength(2);
    for (const ip of ips) expect(ip).toMatch(/^10\.147\.30\.\d+\/24$/);
    expect(ips[0]).not.toBe(ips[1]);
  });

  it('carries network frames between the members, each accepting the other\'s COM', async () => {
    for (const [from, to] of [[0, 1], [1, 0]] as const) {
      const text = `member ${'AB'[from]} to ${'AB'[to]}`;
      const since = leaves[to].events.length;
      await leaves[from].request({ cmd: 'netframe', network: nwid, to: address[to], text });
      const got = await explained(leaves[to], leaves[to].waitFor(text, (e) => e.event === 'netframe' && e.text === text, EVENT_MS, since));
      expect(got.from).toBe(address[from]);
    }
  });

  it('revokes a deauthorized member at the other, which then refuses its frames', async () => {
    const since = leaves[0].events.length;
    api('POST', `/controller/network/${nwid}/member/${address[1]}`, { authorized: false });
    const rev = await explained(leaves[0], leaves[0].waitFor('revocation', (e) => e.event === 'revocation', EVENT_MS, since));
    expect(rev.target).toBe(address[1]);
    await leaves[1].request({ cmd: 'netframe', network: nwid, to: address[0], text: 'after deauthorization' });
    const refused = await leaves[0].waitFor('refused frame', (e) => e.event === 'refused', EVENT_MS, since);
    expect(refused.from).toBe(address[1]);
  });
});
