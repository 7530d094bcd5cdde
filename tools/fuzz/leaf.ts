// The leaf's part of the abuse campaign (`npm run fuzz -- leaf`): a `ztroot root --controller`
// (spawned, on loopback) runs a private network; two leaves (LeafNode in this process, Ethernet
// through the embedding API, `ethernet: 'frames'`) join it and are authorized. Then member A gets
//   - every datagram category (corpus.ts) from peers it learns by their HELLOs, including the
//     network ones (leaf-corpus.ts): configs, credentials, frames and errors it must refuse;
//   - junk on its Ethernet side: runts, frames with another source MAC, frames over the MTU, to
//     random unicast and multicast destinations, broken ARP.
// It must stay up, count what it drops by reason (its node's stats: ztroot_drops_total), never hit
// an internal error, keep answering known peers, and afterwards still reach its root (ECHO) and
// carry a frame to member B. The TAP side of a `ztroot leaf` daemon is the same code path
// (NetworkPort.fromHost), fed by the TAP device instead of the program.

import { formatAddress } from '../../src/identity/address.ts';
import { generateIdentity } from '../../src/identity/identity.ts';
import type { VirtualEthernet } from '../../src/leaf/virtual-ethernet.ts';
import type { NodeStats } from '../../src/node/stats.ts';
import { createLogger } from '../../src/util/log.ts';
import { macFromAddress } from '../../src/wire/mac.ts';
import { ControllerLab } from '../lab/controller-lab.ts';
import { ethernetFrame, LAB_ETHERTYPE } from '../lab/ethernet.ts';
import type { Sample } from '../loadgen/target-stats.ts';
import { campaign, type DatagramReport } from './datagrams.ts';
import { endpoint, fixtureCapture, fixtureIdentities } from './peers.ts';
import { Rng } from './rng.ts';
import { RootTarget } from './target.ts';

export interface LeafCampaignOptions {
  /** Hostile datagrams to the leaf. */
  packets: number;
  /** Junk frames into its Ethernet side. */
  ethernetFrames: number;
  seed: number;
  /** Datagrams per second, at most. */
  rate: number;
  socketsPerCategory: number;
  progress?: (line: string) => void;
}

export interface LeafCampaignReport {
  datagrams: DatagramReport;
  ethernet: { sent: Record<string, number>; datagramsOutPerFrame: number };
  /** The leaf's drops by reason over the whole run. */
  drops: Record<string, number>;
  /** Error-level lines in the leaf's log. */
  leafLogProblems: string[];
  /** After the campaign: ECHO round trip to the root (-1: unanswered), and a frame from A reaching B. */
  after: { echoRootMs: number; frameToMember: boolean };
}

const NETWORK_MTU = 2800;

/** A node's counters as /metrics would show them (the families the campaign reads). */
function statsSamples(s: NodeStats): Sample[] {
  return [
    ...[...s.drops].map(([reason, value]) => ({ name: 'ztroot_drops_total', labels: { reason }, value })),
    { name: 'ztroot_datagrams_total', labels: { direction: 'in' }, value: s.datagramsIn },
    { name: 'ztroot_datagrams_total', labels: { direction: 'out' }, value: s.datagramsOut },
    { name: 'ztroot_bytes_total', labels: { direction: 'in' }, value: s.bytesIn },
    { name: 'ztroot_bytes_total', labels: { direction: 'out' }, value: s.bytesOut },
  ];
}

/** One junk frame from the host side, and its kind. */
function junkFrame(rng: Rng, mac: number, mtu: number): [string, Uint8Array] {
  const randomMac = (): number => rng.u32() * 256 + rng.int(256);
  switch (rng.int(7)) {
    case 0: return ['runt', rng.bytes(rng.int(14))];
    case 1: return ['foreign-source-mac', ethernetFrame(randomMac(), randomMac() & ~0x0100_0000_0000, rng.bytes(rng.int(200)))];
    case 2: return ['over-mtu', ethernetFrame(randomMac() & ~0x0100_0000_0000, mac, rng.bytes(rng.range(mtu + 1, 9000)))];
    case 3: return ['random-multicast', ethernetFrame(randomMac() | 0x0100_0000_0000, mac, rng.bytes(rng.int(300)))];
    case 4: return ['random-unicast', ethernetFrame(randomMac() & ~0x0100_0000_0000, mac, rng.bytes(rng.int(300)), rng.pick([0x0800, 0x86dd, LAB_ETHERTYPE]))];
    case 5: return ['broken-arp', ethernetFrame(0xffff_ffff_ffff, mac, rng.bytes(rng.int(40)), 0x0806)];
    default: return ['random-bytes', rng.bytes(rng.range(14, 1600))];
  }
}

/**
 * Junk into the leaf's Ethernet side; the kinds sent. The program hands frames over directly (no
 * socket buffer to overflow), in batches of 100 with a turn of the event loop between.
 */
async function ethernetJunk(o: LeafCampaignOptions, eth: VirtualEthernet, mtu: number): Promise<Record<string, number>> {
  const rng = new Rng(o.seed + 1000);
  const sent: Record<string, number> = {};
  for (let i = 0; i < o.ethernetFrames; i++) {
    const [kind, frame] = junkFrame(rng, eth.mac, mtu);
    sent[kind] = (sent[kind] ?? 0) + 1;
    eth.send(frame);
    if (i % 100 === 99) await new Promise((r) => setImmediate(r));
  }
  return sent;
}

export async function runLeafCampaign(o: LeafCampaignOptions): Promise<LeafCampaignReport> {
  const log = o.progress ?? (() => {});
  const ids = fixtureIdentities();
  const rootId = ids[7];
  const root = await RootTarget.spawn({ identitySecret: rootId.toString(true), args: ['--controller', '--validation-threads', '1', '--workers', '1'] });
  let lab: ControllerLab | undefined;
  const opened: { close(): unknown }[] = [];
  const leafLog: string[] = [];
  try {
    const api = async (method: string, path: string, body: unknown): Promise<any> => {
      const r = await fetch(`http://${root.http}${path}`, { method, headers: { 'X-ZT1-Auth': root.authToken }, body: JSON.stringify(body) })
        .catch((e: unknown) => { throw new Error(`${method} ${path}: ${(e as Error).message} (${String((e as Error).cause)})`); });
      if (!r.ok) throw new Error(`${method} ${path}: HTTP ${r.status}`);
      return r.json();
    };
    lab = await ControllerLab.create({
      root: rootId, endpoint: endpoint(root.udp.host, root.udp.port), api, planetId: 0xab_0000_0000_0e14n,
      network: { name: 'abuse', subnet: '10.14.0', mtu: NETWORK_MTU },
    });
    const nwid = lab.nwid;
    const a = await lab.addLeaf(ids[6], { pingIntervalMs: 1000, log: createLogger('warn', (l) => { leafLog.push(l); }) });
    const b = await lab.addLeaf(generateIdentity(), { pingIntervalMs: 1000 });
    const [ethA, ethB] = await lab.configured();
    log(`leaf ${formatAddress(a.address)} on 127.0.0.1/${a.primaryPort} joined ${lab.networkId}; root pid ${root.pid}`);

    const stats = a.leaf.node.stats;
    const dropsAtStart = new Map(stats.drops);
    const datagrams = await campaign({ packets: o.packets, seed: o.seed, rate: o.rate, nativeUdp: 'auto', socketsPerCategory: o.socketsPerCategory, progress: log }, {
      udp: { host: '127.0.0.1', port: a.primaryPort }, identity: a.identity.publicOnly(), description: `leaf ${formatAddress(a.address)}`,
      extraKeyed: [], skipped: { 'capture-replay': 'captured packets authenticate only to the capture\'s own root' },
      running: () => true, rssBytes: () => Number.NaN, metrics: async () => statsSamples(stats),
      logProblems: () => leafLog.filter((l) => JSON.parse(l).level === 'error'),
      network: { nwid, controller: rootId, mtu: NETWORK_MTU },
    }, fixtureCapture().datagrams.map((d) => d.data), opened);
    log(`datagrams done; ${o.ethernetFrames} junk frames into the Ethernet side`);

    const outBefore = stats.datagramsOut;
    const sent = await ethernetJunk(o, ethA, NETWORK_MTU);
    await new Promise((r) => setTimeout(r, 1000));
    const datagramsOutPerFrame = (stats.datagramsOut - outBefore) / Math.max(1, o.ethernetFrames);

    const echoRootMs = await a.leaf.echo(rootId.address, 3000);
    let frameToMember = false;
    const marker = new Uint8Array(Buffer.from('after the campaign'));
    ethB.on('frame', (f) => { if (Buffer.from(f.subarray(14)).equals(marker)) frameToMember = true; });
    for (let i = 0; i < 10 && !frameToMember; i++) {
      ethA.send(ethernetFrame(macFromAddress(b.address, nwid), ethA.mac, marker));
      await new Promise((r) => setTimeout(r, 300));
    }
    const drops: Record<string, number> = {};
    for (const [reason, n] of stats.drops) if (n - (dropsAtStart.get(reason) ?? 0) > 0) drops[reason] = n - (dropsAtStart.get(reason) ?? 0);
    return {
      datagrams, ethernet: { sent, datagramsOutPerFrame }, drops,
      leafLogProblems: leafLog.filter((l) => JSON.parse(l).level === 'error'),
      after: { echoRootMs, frameToMember },
    };
  } finally {
    for (const s of opened) {
      try { await s.close(); } catch { /* already closed */ }
    }
    await lab?.stop();
    await root.dispose();
  }
}

export function formatLeafReport(r: LeafCampaignReport): string {
  return [
    `leaf campaign — ${r.datagrams.transport}, seed ${r.datagrams.seed}`,
    `  hostile datagrams ${r.datagrams.packets} in ${r.datagrams.seconds.toFixed(1)} s; known-peer probes answered during ${r.datagrams.probes.duringAnswered}/${r.datagrams.probes.duringSent}, after ${r.datagrams.probes.afterAnswered}/${r.datagrams.probes.afterSent}`,
    `  bytes back per byte: all ${r.datagrams.bytesBackPerByte.toFixed(4)}, unauthenticated ${r.datagrams.unauthenticatedAmplification.toFixed(4)}`,
    `  per category sent: ${Object.entries(r.datagrams.categories).filter(([, t]) => t.sent > 0).map(([c, t]) => `${c} ${t.sent}`).join(', ')}`,
    `  Ethernet junk: ${Object.entries(r.ethernet.sent).map(([k, v]) => `${k} ${v}`).join(', ')}; datagrams sent by the leaf per junk frame ${r.ethernet.datagramsOutPerFrame.toFixed(3)}`,
    `  leaf drops by reason: ${Object.entries(r.drops).sort((x, y) => y[1] - x[1]).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`,
    `  leaf log lines at error level: ${r.leafLogProblems.length}`,
    `  after: ECHO to the root ${r.after.echoRootMs >= 0 ? `${r.after.echoRootMs} ms` : 'UNANSWERED'}, a frame to member B ${r.after.frameToMember ? 'arrived' : 'DID NOT ARRIVE'}`,
  ].join('\n');
}

export function leafFailures(r: LeafCampaignReport): string[] {
  const f: string[] = [];
  if (r.datagrams.probes.afterAnswered < r.datagrams.probes.afterSent) f.push(`known peers answered after the campaign: ${r.datagrams.probes.afterAnswered}/${r.datagrams.probes.afterSent}`);
  if (r.datagrams.unauthenticatedAmplification > 1) f.push(`unauthenticated sources got back ${r.datagrams.unauthenticatedAmplification.toFixed(3)} bytes per byte`);
  if ((r.drops['internal-error'] ?? 0) > 0) f.push(`${r.drops['internal-error']} packets hit an internal error (an exception in the leaf)`);
  if (r.leafLogProblems.length > 0) f.push(`${r.leafLogProblems.length} error lines in the leaf's log`);
  if (r.after.echoRootMs < 0) f.push('the leaf no longer reaches its root');
  if (!r.after.frameToMember) f.push('a frame from the leaf no longer reaches another member');
  return f;
}
