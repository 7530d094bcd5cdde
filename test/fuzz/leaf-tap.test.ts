// Junk on the TAP side of a `ztroot leaf` daemon (issue 11's bad input; the campaign's TAP part):
// in a network namespace of its own, a `ztroot root --controller` (198.18.14.1) runs a private
// network, the leaf (198.18.14.2) joins it through its local API and gets its TAP device; then
// tools/fuzz/tap-junk.py writes junk frames into the device from the host side (an AF_PACKET
// socket). Every frame reaches the leaf (the device's TX counter), the leaf stays up, logs no
// error, and still answers its API with the network configured. When the leaf exports /metrics,
// the drops show by reason there. (The same frames through the embedding API, with counters
// read directly, are in leaf-campaign.test.ts.)
//
// Skips (and says why) without root and `ip netns`, python3, or the tap addon.

import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { formatAddress } from '../../src/identity/address.ts';
import type { Identity } from '../../src/identity/identity.ts';
import { nativeAddonPath } from '../../src/util/native-addon.ts';
import { ipv4, parseIpv4 } from '../../src/wire/inet-address.ts';
import { authorize, createLabNetwork, labHome, labPlanet, type ControllerApi } from '../../tools/lab/controller-lab.ts';
import { labHttp, NODE, startLabRoot, ZTROOT_BIN } from '../../tools/lab/lab-root.ts';
import { NetnsLab } from '../../tools/lab/netns.ts';
import { fixtureIdentities } from '../../tools/fuzz/peers.ts';
import { REPO } from '../../tools/fuzz/target.ts';
import { until } from '../../tools/lab/until.ts';
import { missingCommand, skipGroup, skipWithoutNetns } from '../support/skips.ts';

const NET = '198.18.14';
const LEAF_PORT = 9994; // the root's HTTP listener has 127.0.0.1:9993 in the same namespace
const JUNK_FRAMES = 2000;

const unavailable = skipWithoutNetns() || skipGroup('leaf TAP junk test', missingCommand('python3', 'python3') ??
  (existsSync(nativeAddonPath('tap')) ? undefined : 'the tap addon is not built (npm run build:native)'));

let lab: NetnsLab | undefined;
const homes: string[] = [];
afterAll(async () => {
  const problems = await lab?.destroy();
  for (const h of homes) rmSync(h, { recursive: true, force: true });
  expect(problems ?? []).toEqual([]);
}, 30_000);

/** Waits here poll every 250 ms (each poll of the device's addresses runs `ip`). */
const wait = <T>(what: string, f: () => T | undefined | false): Promise<T> => until(what, f, 30_000, 250);

it.skipIf(unavailable)('junk frames written into the TAP device: all reach the leaf, which stays up, quiet and configured', async () => {
  const [, , , , , , leafId, rootId] = fixtureIdentities();
  lab = new NetnsLab();
  const ns = lab.namespace('abtap');
  for (const host of [1, 2]) lab.ip(ns, 'addr', 'add', `${NET}.${host}/32`, 'dev', 'lo'); // root and leaf: not loopback addresses, so paths form
  const planet = labPlanet(0xab_0000_0000_7a9n, rootId, ipv4(parseIpv4(`${NET}.1`)!, 9993));
  const home = (identity: Identity): string => {
    const h = labHome('ztroot-abtap-', identity, planet);
    homes.push(h);
    return h;
  };
  const rootHome = home(rootId);
  await startLabRoot(lab, ns, rootHome, ['--bind', `${NET}.1`, '--port', '9993', '--controller', '--workers', '0']);
  const rootToken = readFileSync(join(rootHome, 'authtoken.secret'), 'utf8').trim();
  const leafHome = home(leafId);
  const leaf = lab.spawn(ns, NODE, [ZTROOT_BIN, 'leaf', '--home', leafHome, '--bind', `${NET}.2`, '--port', String(LEAF_PORT)]);
  let out = '';
  let err = '';
  leaf.stdout!.on('data', (c: Buffer) => { out += c.toString(); });
  leaf.stderr!.on('data', (c: Buffer) => { err += c.toString(); });
  await wait(`the leaf to start:\n${err}`, () => out.includes('is running'));
  const leafToken = readFileSync(join(leafHome, 'authtoken.secret'), 'utf8').trim();
  const leafApi = (method: string, path: string, body?: unknown): any =>
    JSON.parse(labHttp(lab!, ns, method, `http://127.0.0.1:${LEAF_PORT}${path}`, leafToken, body) || 'null');

  const rootApi: ControllerApi = async (method, path, body) => JSON.parse(labHttp(lab!, ns, method, `http://127.0.0.1:9993${path}`, rootToken, body));
  const networkId = await createLabNetwork(rootApi, rootId.address, { name: 'tap-junk', subnet: '10.14.1' });
  await authorize(rootApi, networkId, leafId.address); // before it asks: configured at its first request
  leafApi('POST', `/network/${networkId}`, {});
  // configured: its TAP device is up with the managed address (`ip` is cheaper to poll than the API)
  await wait('the network configured with a TAP device', () => /^zt\S+\s+\S+\s+10\.14\.1\./m.test(lab!.ip(ns, '-br', 'addr')));
  const net = leafApi('GET', `/network/${networkId}`);
  expect(net).toMatchObject({ status: 'OK', portError: 0 });
  // frames the kernel put on the device (to the leaf's descriptor), and those its queue dropped
  const tx = (what: 'tx_packets' | 'tx_dropped'): number => Number(lab!.exec(ns, 'cat', [`/sys/class/net/${net.portDeviceName}/statistics/${what}`]).trim());
  const before = { packets: tx('tx_packets'), dropped: tx('tx_dropped') };

  const junk = JSON.parse(lab.exec(ns, 'python3', [join(REPO, 'tools/fuzz/tap-junk.py'), net.portDeviceName, net.mac.replaceAll(':', ''), String(JUNK_FRAMES), '14'])) as { sent: Record<string, number>; errors: number };
  console.log('junk written into the TAP:', junk);
  expect(junk.errors).toBe(0);
  const delivered = tx('tx_packets') - before.packets;
  expect(delivered + tx('tx_dropped') - before.dropped).toBeGreaterThanOrEqual(JUNK_FRAMES - junk.errors);
  expect(delivered).toBeGreaterThan(JUNK_FRAMES / 2); // the leaf read them
  await new Promise((r) => setTimeout(r, 500));

  expect(leaf.exitCode).toBeNull();
  expect(leafApi('GET', '/status')).toMatchObject({ address: formatAddress(leafId.address), online: true });
  expect(leafApi('GET', `/network/${networkId}`)).toMatchObject({ status: 'OK', portDeviceName: net.portDeviceName });
  const errors = err.split('\n').filter((l) => l.trim() !== '' && (!l.startsWith('{') || JSON.parse(l).level === 'error'));
  expect(errors).toEqual([]);
  // the drops by reason, where the leaf exports them
  let metrics = '';
  try {
    metrics = labHttp(lab, ns, 'GET', `http://127.0.0.1:${LEAF_PORT}/metrics`, leafToken);
  } catch { /* this leaf has no /metrics */ }
  if (metrics.includes('ztroot_drops_total')) {
    for (const reason of ['foreign-source-mac']) expect(metrics).toMatch(new RegExp(`ztroot_drops_total\\{reason="${reason}"\\} [1-9]`));
  } else console.log('the leaf exports no /metrics: drops by reason not checked here (leaf-campaign.test.ts reads them directly)');
}, 120_000);
