// The datagram campaign: hostile datagrams of every category (corpus.ts) from many loopback
// source addresses at a bounded rate against a running `ztroot root`, while two known peers keep
// asking (HELLO, WHOIS) and must keep being answered. The report: process alive, log problems,
// drops by reason, bytes back per byte sent for each category (and all unauthenticated ones
// together), RSS before and after, probes answered during and after.
//
// The root is one this campaign spawns (runDatagramCampaign: it holds the capture's moon-root
// secret, so captured packets authenticate, and reads the root's log and /proc), or one already
// running anywhere (runLiveDatagramCampaign: only its public identity is known, so the campaign
// registers its own identities with real HELLOs first, and sees what the outside sees — answers,
// bytes back — plus /metrics when given its URL and token).

import { createSocket, type Socket } from 'node:dgram';
import { Identity, parseIdentity } from '../../src/identity/identity.ts';
import { readFileSync, existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { counter, RootTarget } from './target.ts';
import { CATEGORIES, CATEGORY_NAMES, Corpus, NETWORK_CATEGORIES, type Category } from './corpus.ts';
import type { NetworkContext } from './leaf-corpus.ts';
import { endpoint, fixtureCapture, fixtureIdentities, KeyedPeer } from './peers.ts';
import { Rng } from './rng.ts';
import { scrapeMetrics, type Sample } from '../loadgen/target-stats.ts';

export interface DatagramCampaignOptions {
  /** Hostile datagrams to send (fragment scenarios count each piece). */
  packets: number;
  seed: number;
  /** Datagrams per second, at most. */
  rate: number;
  /** `--native-udp` of the spawned root. */
  nativeUdp: 'on' | 'off' | 'auto';
  /** Packet workers of the spawned root (default: its own default, one and more while busy). */
  workers?: number;
  /** Source sockets per category, each on its own 127.c.k.1 (its own /24). */
  socketsPerCategory: number;
  /** Share of each category (default: equal). */
  weights?: Partial<Record<Category, number>>;
  /** Print progress lines. */
  progress?: (line: string) => void;
}

export interface CategoryTotals {
  sent: number; bytesSent: number; datagramsBack: number; bytesBack: number;
  /** Of what came back: packets the root itself sent (source = root), and others' packets it relayed (or fragments). */
  fromRoot: number; relayed: number;
}

export interface DatagramReport {
  /** The spawned root's UDP transport, or "live target HOST:PORT". */
  transport: string;
  seed: number;
  packets: number;
  seconds: number;
  /** The process is running (a live target: it still answers known peers after the run). */
  alive: boolean;
  /** Error-level or non-JSON log lines; null when the log cannot be seen (a live target). */
  logProblems: string[] | null;
  drops: Record<string, number>;
  relay: Record<string, number>;
  categories: Record<string, CategoryTotals>;
  /** Bytes that came back to unauthenticated categories' sockets ÷ bytes they sent. */
  unauthenticatedAmplification: number;
  /** NaN when not visible (a live target without --metrics-url). */
  rssStartBytes: number;
  rssEndBytes: number;
  rssMaxBytes: number;
  /** Bytes that came back to all hostile sockets ÷ bytes they sent. */
  bytesBackPerByte: number;
  /** Categories not sent, and why. */
  skipped: Partial<Record<Category, string>>;
  reassemblyInFlight: number;
  probes: { duringSent: number; duringAnswered: number; afterSent: number; afterAnswered: number };
  root: { datagramsIn: number; datagramsOut: number; bytesIn: number; bytesOut: number };
  /** OK(HELLO)s the root's batch UDP addon sent itself during the run (native HELLO path). */
  nativeHelloAnswers: number;
}

/** What the campaign knows of the node it attacks. */
export interface CampaignTarget {
  udp: { host: string; port: number };
  /** Its public identity. */
  identity: Identity;
  description: string;
  /** Identities registered with it besides the campaign's own (the capture's leaves, when captured packets authenticate). */
  extraKeyed: Identity[];
  /** undefined when it cannot be seen from here. */
  running(): boolean | undefined;
  rssBytes(): number;
  metrics(): Promise<Sample[]>;
  logProblems(): string[] | null;
  /** Categories that cannot reach this target, with the reason. */
  skipped: Partial<Record<Category, string>>;
  /** The network a leaf target has joined (enables the network categories). */
  network?: NetworkContext;
}

/** One hostile source: a socket on its own loopback /24, counting what comes back. */
interface Source { socket: Socket; category: Category }

async function bindSource(address: string): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, address, () => resolve());
  });
  s.on('error', () => { /* ENOBUFS on send: a lost datagram, as on a real network */ });
  return s;
}

function labelled(samples: readonly Sample[], name: string, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples) if (s.name === name && s.value > 0) out[s.labels[label]] = (out[s.labels[label]] ?? 0) + s.value;
  return out;
}

/** Spawn a root as the lab capture's moon root `r` and run the campaign against it. */
export async function runDatagramCampaign(o: DatagramCampaignOptions): Promise<DatagramReport> {
  const capture = fixtureCapture();
  const hosts = Object.fromEntries(capture.hosts.map((h) => [h.name, parseIdentity(h.identitySecret)!]));
  const rootId = hosts.r;
  const moonName = String(capture.extra.moon_file_name);
  const moonHex = String(capture.extra.moon_file_hex);
  const args = ['--native-udp', o.nativeUdp, '--log-level', 'info'];
  if (o.workers !== undefined) args.push('--workers', String(o.workers));
  const target = await RootTarget.spawn({ identitySecret: rootId.toString(true), args, files: { [`moons.d/${moonName}`]: Buffer.from(moonHex, 'hex') } });
  const opened: { close(): unknown }[] = [];
  try {
    const transport = target.logLines().find((l) => typeof l.msg === 'string' && l.msg.startsWith('UDP transport'))?.msg ?? 'unknown';
    return await campaign(o, {
      udp: target.udp, identity: rootId, description: transport, extraKeyed: [hosts.a, hosts.b], skipped: {},
      running: () => target.running, rssBytes: () => target.rssBytes(), metrics: () => target.metrics(), logProblems: () => target.logProblems(),
    }, capture.datagrams.map((d) => d.data), opened);
  } finally {
    for (const s of opened) {
      try { await s.close(); } catch { /* already closed */ }
    }
    await target.dispose();
  }
}

export interface LiveTargetOptions {
  /** HOST:PORT of its UDP socket (an IPv6 host in brackets: [::1]:9993). */
  target: string;
  /** Its identity.public: a file, or the identity itself. */
  targetIdentity: string;
  /** Its /metrics and the token, to read drop counters and RSS. */
  metricsUrl?: string;
  metricsToken?: string;
}

/** Parse HOST:PORT (IPv6 in brackets). */
export function parseHostPort(text: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  const port = Number(m?.[2]);
  if (!m || !isIP(m[1]) || !Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`--target must be IP:PORT or [IPv6]:PORT, got ${JSON.stringify(text)}`);
  return { host: m[1], port };
}

/** The campaign against a root that is already running: it knows only the root's public identity. */
export async function runLiveDatagramCampaign(o: DatagramCampaignOptions & LiveTargetOptions): Promise<DatagramReport> {
  const udp = parseHostPort(o.target);
  const text = existsSync(o.targetIdentity) ? readFileSync(o.targetIdentity, 'utf8') : o.targetIdentity;
  const identity = parseIdentity(text.trim());
  if (!identity) throw new Error(`--target-identity: not an identity (a file holding identity.public, or the identity itself): ${JSON.stringify(o.targetIdentity.slice(0, 80))}`);
  const metrics = async (): Promise<Sample[]> => (o.metricsUrl ? scrapeMetrics(o.metricsUrl, o.metricsToken ?? '') : []);
  const rss = { last: Number.NaN };
  const opened: { close(): unknown }[] = [];
  try {
    return await campaign(o, {
      udp, identity: identity.publicOnly(), description: `live target ${o.target}`, extraKeyed: [],
      skipped: { 'capture-replay': 'captured packets authenticate only to the capture\'s own root' },
      running: () => undefined,
      rssBytes: () => rss.last,
      metrics: async () => {
        const m = await metrics();
        rss.last = m.length > 0 ? counter(m, 'ztroot_process_process_resident_memory_bytes') : Number.NaN;
        return m;
      },
      logProblems: () => null,
    }, fixtureCapture().datagrams.map((d) => d.data), opened);
  } finally {
    for (const s of opened) {
      try { await s.close(); } catch { /* already closed */ }
    }
  }
}

/** The campaign against any target; what it opens is pushed to `opened` for the caller to close. */
export async function campaign(o: DatagramCampaignOptions, target: CampaignTarget, captured: Uint8Array[], opened: { close(): unknown }[]): Promise<DatagramReport> {
  const log = o.progress ?? (() => {});
  const rootId = target.identity;
  const via = endpoint(target.udp.host, target.udp.port);
  const ids = fixtureIdentities();
  const transport = target.description;
  log(`target ${target.udp.host}/${target.udp.port}, ${transport}`);
  const loopback = /^127\./.test(target.udp.host);
  const metricsBefore = await target.metrics();

  // identities the root knows: four for valid-MAC junk, the two capture leaves (so captured
  // packets authenticate), and two probes that must keep being answered
  const keyedPeers: KeyedPeer[] = [];
  for (const id of [...ids.slice(0, 4), ...target.extraKeyed]) {
    const p = await KeyedPeer.open(id, rootId, via);
    opened.push(p);
    keyedPeers.push(p);
  }
  const probes = [await KeyedPeer.open(ids[4], rootId, via), await KeyedPeer.open(ids[5], rootId, via)];
  opened.push(...probes);
  await Promise.all([...keyedPeers, ...probes].map((p) => p.register()));
  log(`registered ${keyedPeers.length + probes.length} identities`);

  const capture = fixtureCapture();
  const corpus = new Corpus({
    root: rootId, via, captured, captureHosts: capture.hosts.map((h) => parseIdentity(h.identitySecret)!), network: target.network,
    keyed: keyedPeers.slice(0, 4).map((p) => ({ identity: p.identity, key: p.key })),
  });

  const totals = Object.fromEntries(CATEGORY_NAMES.map((c) => [c, { sent: 0, bytesSent: 0, datagramsBack: 0, bytesBack: 0, fromRoot: 0, relayed: 0 }])) as Record<Category, CategoryTotals>;
  const sources: Source[][] = [];
  for (const [ci, category] of CATEGORY_NAMES.entries()) {
    const list: Source[] = [];
    for (let k = 0; k < o.socketsPerCategory; k++) {
      // on loopback each socket has its own /24 (per-source limits see many sources); elsewhere one address
      const socket = await bindSource(loopback ? `127.${16 + ci}.${k + 1}.1` : (isIP(target.udp.host) === 6 ? '::' : '0.0.0.0'));
      socket.on('message', (m) => {
        const t = totals[category];
        t.datagramsBack++;
        t.bytesBack += m.length;
        if (m.length >= 28 && m[13] !== 0xff && m.readUIntBE(13, 5) === rootId.address) t.fromRoot++;
        else t.relayed++;
      });
      opened.push(socket);
      list.push({ socket, category });
    }
    sources.push(list);
  }

  const skipped: Partial<Record<Category, string>> = { ...target.skipped };
  if (!target.network) for (const c of NETWORK_CATEGORIES) skipped[c] = 'needs a leaf joined to a network (npm run fuzz -- leaf)';
  const weights = CATEGORY_NAMES.map((c) => (skipped[c] ? 0 : o.weights?.[c] ?? 1));
  const weightSum = weights.reduce((a, b) => a + b, 0);
  const pickCategory = (rng: Rng): number => {
    let x = rng.int(weightSum * 1000) / 1000;
    for (let i = 0; i < weights.length; i++) if ((x -= weights[i]) < 0) return i;
    return weights.length - 1;
  };

  const rssStart = target.rssBytes();
  let rssMax = rssStart;
  const rng = new Rng(o.seed);
  const port = target.udp.port;
  const started = Date.now();
  let sent = 0;
  // probes: WHOIS every 200 ms and HELLO every 600 ms (past the root's 250 ms HELLO reply spacing), alternating peers
  const during = { sent: 0, answered: 0 };
  let tick = 0;
  const probeTimer = setInterval(() => {
    const p = probes[tick % 2];
    const q = tick % 3 === 0 ? p.hello(2000) : p.whois(rootId.address, 2000);
    tick++;
    during.sent++;
    void q.then((ok) => { if (ok) during.answered++; });
  }, 200);
  const rssTimer = setInterval(() => {
    if (target.running() === undefined) void target.metrics().then(() => { rssMax = Math.max(rssMax, target.rssBytes()); }, () => {});
    else rssMax = Math.max(rssMax, target.rssBytes() || 0);
  }, 1000);
  let lastReport = started;

  try {
    // credit refills at `rate` and is capped at 20 ms of traffic: a campaign starved of CPU sends
    // less, never a catch-up burst that would block this event loop (and the probes)
    let credit = 0;
    let lastTick = Date.now();
    while (sent < o.packets) {
      if (target.running() === false) break;
      const now = Date.now();
      credit = Math.min(credit + ((now - lastTick) / 1000) * o.rate, o.rate / 50 + 1);
      lastTick = now;
      while (credit >= 1 && sent < o.packets) {
        const ci = pickCategory(rng);
        const category = CATEGORY_NAMES[ci];
        const src = rng.pick(sources[ci]);
        for (const d of corpus.generate(rng, category)) {
          src.socket.send(d, port, target.udp.host);
          totals[category].sent++;
          totals[category].bytesSent += d.length;
          sent++;
          credit--;
        }
      }
      if (Date.now() - lastReport >= 5000) {
        lastReport = Date.now();
        log(`${sent} / ${o.packets} sent, probes ${during.answered}/${during.sent} answered, rss ${MiB(target.rssBytes())}`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    clearInterval(probeTimer);
  }
  const seconds = (Date.now() - started) / 1000;
  // let the last datagrams and answers land, then ask again: known peers must still be answered
  await new Promise((r) => setTimeout(r, 2500));
  clearInterval(rssTimer);
  const after = { sent: 0, answered: 0 };
  for (const p of probes) {
    for (let attempt = 0; attempt < 2; attempt++) {
      after.sent += 2;
      if (await p.whois(rootId.address, 3000)) after.answered++;
      if (await p.whois(ids[0].address, 3000)) after.answered++;
    }
    after.sent++;
    if (await p.hello(3000)) after.answered++;
    await new Promise((r) => setTimeout(r, 300));
  }
  const alive = target.running() ?? after.answered > 0;
  const samples = alive ? await target.metrics() : [];
  const rssEnd = target.rssBytes();
  const delta = (name: string, label: string): Record<string, number> => {
    const before = labelled(metricsBefore, name, label);
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(labelled(samples, name, label))) if (v - (before[k] ?? 0) > 0) out[k] = v - (before[k] ?? 0);
    return out;
  };
  const since = (name: string, labels: Record<string, string> = {}): number => counter(samples, name, labels) - counter(metricsBefore, name, labels);
  const allSent = CATEGORY_NAMES.reduce((n, c) => n + totals[c].bytesSent, 0);
  const allBack = CATEGORY_NAMES.reduce((n, c) => n + totals[c].bytesBack, 0);
  const unauth = CATEGORY_NAMES.filter((c) => !CATEGORIES[c].authenticated);
  const unauthSent = unauth.reduce((n, c) => n + totals[c].bytesSent, 0);
  const unauthBack = unauth.reduce((n, c) => n + totals[c].bytesBack, 0);
  return {
    transport, seed: o.seed, packets: sent, seconds, alive,
    logProblems: target.logProblems(),
    drops: delta('ztroot_drops_total', 'reason'),
    relay: delta('ztroot_relay_total', 'outcome'),
    categories: totals,
    unauthenticatedAmplification: unauthSent === 0 ? 0 : unauthBack / unauthSent,
    rssStartBytes: rssStart, rssEndBytes: rssEnd, rssMaxBytes: Number.isNaN(rssStart) ? Number.NaN : Math.max(rssMax, rssEnd || 0),
    bytesBackPerByte: allSent === 0 ? 0 : allBack / allSent,
    skipped,
    reassemblyInFlight: counter(samples, 'ztroot_reassembly_in_flight'),
    probes: { duringSent: during.sent, duringAnswered: during.answered, afterSent: after.sent, afterAnswered: after.answered },
    root: {
      datagramsIn: since('ztroot_datagrams_total', { direction: 'in' }),
      datagramsOut: since('ztroot_datagrams_total', { direction: 'out' }),
      bytesIn: since('ztroot_bytes_total', { direction: 'in' }),
      bytesOut: since('ztroot_bytes_total', { direction: 'out' }),
    },
    nativeHelloAnswers: since('ztroot_native_hello_answers_total'),
  };
}

const MiB = (b: number): string => (Number.isNaN(b) ? 'n/a' : `${(b / 2 ** 20).toFixed(1)} MiB`);

/** The report as text. */
export function formatDatagramReport(r: DatagramReport): string {
  const lines = [
    `datagram campaign — ${r.transport}, seed ${r.seed}`,
    `  sent ${r.packets} hostile datagrams in ${r.seconds.toFixed(1)} s (${Math.round(r.packets / r.seconds)}/s)`,
    `  process alive: ${r.alive ? 'yes' : 'NO'}; log problems (error level or not JSON): ${r.logProblems?.length ?? 'not visible'}`,
    `  RSS start ${MiB(r.rssStartBytes)}, end ${MiB(r.rssEndBytes)}, max ${MiB(r.rssMaxBytes)}; reassembly in flight at end ${r.reassemblyInFlight}`,
    `  known-peer probes answered: during ${r.probes.duringAnswered}/${r.probes.duringSent}, after ${r.probes.afterAnswered}/${r.probes.afterSent}`,
    r.root.datagramsIn > 0
      ? `  root: datagrams in ${r.root.datagramsIn} (the rest lost in the kernel's socket buffers), out ${r.root.datagramsOut}; bytes out/in ${(r.root.bytesOut / Math.max(1, r.root.bytesIn)).toFixed(3)}`
      : '  root: counters not visible (no /metrics)',
    `  OK(HELLO)s sent by the native HELLO path: ${r.nativeHelloAnswers}`,
    `  bytes back per byte sent: all hostile sources ${r.bytesBackPerByte.toFixed(4)}, unauthenticated sources ${r.unauthenticatedAmplification.toFixed(4)}`,
    '  category             auth   sent       bytes back/sent  datagrams back (root\'s own / relayed)',
    ...CATEGORY_NAMES.map((c) => {
      const t = r.categories[c];
      return `  ${c.padEnd(20)} ${CATEGORIES[c].authenticated ? 'yes ' : 'no  '}  ${String(t.sent).padEnd(10)} ${(t.bytesSent ? t.bytesBack / t.bytesSent : 0).toFixed(4).padEnd(16)} ${t.datagramsBack} (${t.fromRoot} / ${t.relayed})`;
    }),
    `  drops by reason: ${Object.entries(r.drops).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`,
    `  relay outcomes: ${Object.entries(r.relay).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`,
  ];
  for (const [c, why] of Object.entries(r.skipped)) lines.push(`  not sent: ${c} (${why})`);
  for (const p of (r.logProblems ?? []).slice(0, 10)) lines.push(`  problem: ${p.slice(0, 300)}`);
  return lines.join('\n');
}

/** What makes a campaign fail: the process died, logged an error, or stopped answering known peers. */
export function datagramFailures(r: DatagramReport): string[] {
  const f: string[] = [];
  if (!r.alive) f.push('the root process exited');
  if (r.logProblems && r.logProblems.length > 0) f.push(`${r.logProblems.length} problem lines in the root's log`);
  if (r.probes.afterAnswered < r.probes.afterSent) f.push(`known peers answered after the campaign: ${r.probes.afterAnswered}/${r.probes.afterSent}`);
  if (r.probes.duringAnswered === 0) f.push('no known-peer probe was answered during the campaign');
  if (r.unauthenticatedAmplification > 1) f.push(`unauthenticated sources got back ${r.unauthenticatedAmplification.toFixed(3)} bytes per byte sent`);
  return f;
}
