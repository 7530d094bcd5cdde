// bench:leaf — Ethernet over ZeroTier between two leaves in network namespaces: TCP throughput
// (iperf3) each way, CPU per megabyte carried (both leaf processes, from /proc), and ping latency
// over the network next to the same ping between the namespaces directly. A `ztroot root
// --controller` serves the planet and the network; the leaves are two `ztroot leaf` processes,
// and — when ZEROTIER_ONE names a zerotier-one binary you built yourself — two zerotier-one
// leaves and a mixed pair (ztroot leaf ↔ zerotier-one) measured in the same run, with the ratio.
// Needs root, iproute2, iptables, iperf3 and ping. Prints figures, asserts nothing; every process
// and namespace goes away at the end.
//
//   npm run bench:leaf [-- --seconds 8] [-- --profile DIR]
//   ZEROTIER_ONE=/path/to/zerotier-one npm run bench:leaf
//
// --profile DIR starts the ztroot leaves with `node --cpu-prof --cpu-prof-dir DIR` (open the
// .cpuprofile files in Chrome DevTools or speedscope).

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { parseArgs } from 'node:util';
import { generateKeyPair } from '../../src/crypto/c25519.ts';
import { formatAddress } from '../../src/identity/address.ts';
import { generateIdentity, type Identity } from '../../src/identity/identity.ts';
import { ipv4, parseIpv4 } from '../../src/wire/inet-address.ts';
import { WorldType } from '../../src/world/constants.ts';
import { World } from '../../src/world/world.ts';
import { labHttp, NODE, startLabRoot, ZTROOT_BIN } from '../lab/lab-root.ts';
import { NetnsLab, netnsUnavailableReason } from '../lab/netns.ts';

const NET = '198.18.5';
const PORT = 9993;
const TICKS_PER_SECOND = 100; // USER_HZ on Linux

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '8' }, profile: { type: 'string' } } });
const seconds = Number(values.seconds);
const profileArgs = values.profile ? ['--cpu-prof', '--cpu-prof-dir', values.profile] : [];

interface LeafKind { name: string; start(lab: NetnsLab, ns: string, home: string, ip: string): ChildProcess }

const ztrootLeaf: LeafKind = {
  name: 'ztroot',
  start: (lab, ns, home, ip) => lab.spawn(ns, NODE, [...profileArgs, ZTROOT_BIN, 'leaf', '--home', home, '--bind', ip, '--port', String(PORT), '--log-level', 'warn']),
};
const pairs: [LeafKind, LeafKind][] = [[ztrootLeaf, ztrootLeaf]];
if (process.env.ZEROTIER_ONE) {
  const bin = process.env.ZEROTIER_ONE;
  const zerotierOne: LeafKind = { name: 'zerotier-one', start: (lab, ns, home) => lab.spawn(ns, bin, ['-U', `-p${PORT}`, home]) };
  pairs.push([zerotierOne, zerotierOne], [ztrootLeaf, zerotierOne]);
}
const pairName = ([a, b]: [LeafKind, LeafKind]): string => `${a.name} ↔ ${b.name}`;

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND; // utime + stime
}

async function until<T>(what: string, f: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = f();
      if (v !== undefined) return v;
    } catch { /* not yet */ }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function pingAverageMs(lab: NetnsLab, ns: string, ip: string): number {
  const out = lab.exec(ns, 'ping', ['-c', '20', '-i', '0.1', '-q', ip]);
  const m = /= [\d.]+\/([\d.]+)\//.exec(out);
  return m ? Number(m[1]) : NaN;
}

interface Figures {
  mbps: number;
  reverseMbps: number;
  cpuPerMB: number;
  /** Ping over the network right after setup (cold: a JavaScript leaf's code not yet optimised), then after the iperf3 runs. */
  pingMs: number;
  warmPingMs: number;
  directPingMs: number;
}

/** iperf3 from `ns` to `ip` for `seconds` (-R: the server sends); Mbit/s and bytes received. */
function iperf(lab: NetnsLab, ns: string, ip: string, reverse: boolean): { mbps: number; bytes: number } {
  const r = spawnSync('ip', ['netns', 'exec', ns, 'iperf3', '-c', ip, '-t', String(seconds), '-J', ...(reverse ? ['-R'] : [])], { encoding: 'utf8', timeout: (seconds + 30) * 1000 });
  const result = JSON.parse(r.stdout) as { end: { sum_received: { bits_per_second: number; bytes: number } } };
  return { mbps: result.end.sum_received.bits_per_second / 1e6, bytes: result.end.sum_received.bytes };
}

async function measure(pair: [LeafKind, LeafKind]): Promise<Figures> {
  const lab = new NetnsLab();
  const homes: string[] = [];
  try {
    const wan = lab.namespace('wan');
    lab.bridge(wan, 'br0');
    const ns: string[] = [];
    for (const [i, role] of ['root', 'leafa', 'leafb'].entries()) {
      ns.push(lab.namespace(role));
      lab.veth({ ns: wan, ifname: `w-${role}` }, { ns: ns[i], ifname: 'eth0' });
      lab.attach(wan, `w-${role}`, 'br0');
      lab.address(ns[i], 'eth0', `${NET}.${i + 1}/24`);
    }
    const rootId = generateIdentity();
    const signer = generateKeyPair();
    const planet = World.make({
      type: WorldType.planet, id: 0x1ab_0000_0000_bec4n, timestamp: 1n, updatesMustBeSignedBy: signer.publicKey,
      roots: [{ identity: rootId.publicOnly(), stableEndpoints: [ipv4(parseIpv4(`${NET}.1`)!, PORT)] }],
    }, signer);
    const home = (identity?: Identity): string => {
      const h = mkdtempSync(join(tmpdir(), 'ztroot-bench-leaf-'));
      homes.push(h);
      mkdirSync(join(h, 'moons.d'));
      if (identity) writeFileSync(join(h, 'identity.secret'), identity.toString(true), { mode: 0o600 });
      writeFileSync(join(h, 'planet'), planet.serialize());
      return h;
    };
    const rootHome = home(rootId);
    await startLabRoot(lab, ns[0], rootHome, ['--bind', `${NET}.1`, '--port', String(PORT), '--controller', '--log-level', 'warn']);
    const rootToken = readFileSync(join(rootHome, 'authtoken.secret'), 'utf8').trim();
    const controller = (method: string, path: string, body?: unknown): any =>
      JSON.parse(labHttp(lab, ns[0], method, `http://127.0.0.1:${PORT}${path}`, rootToken, body) || 'null');
    const nwid = controller('POST', `/controller/network/${formatAddress(rootId.address)}______`, {
      name: 'bench', private: true, v4AssignMode: { zt: true },
      routes: [{ target: '10.245.0.0/24' }], ipAssignmentPools: [{ ipRangeStart: '10.245.0.10', ipRangeEnd: '10.245.0.20' }],
    }).id as string;

    const leaves: { pid: number; ip: string }[] = [];
    for (const i of [1, 2]) {
      const h = home();
      const kind = pair[i - 1];
      const child = kind.start(lab, ns[i], h, `${NET}.${i + 1}`);
      const token = await until(`${kind.name} ${i} to start`, () => readFileSync(join(h, 'authtoken.secret'), 'utf8').trim() || undefined);
      const address = await until('its identity', () => readFileSync(join(h, 'identity.public'), 'utf8').slice(0, 10) || undefined);
      const leafApi = (method: string, path: string, body?: unknown): any =>
        JSON.parse(labHttp(lab, ns[i], method, `http://127.0.0.1:${PORT}${path}`, token, body) || 'null');
      await until('the local API', () => leafApi('GET', '/status'));
      leafApi('POST', `/network/${nwid}`, {});
      controller('POST', `/controller/network/${nwid}/member/${address}`, { authorized: true });
      const n = await until(`${kind.name} ${i} configured`, () => {
        const got = leafApi('GET', `/network/${nwid}`);
        return got.status === 'OK' && got.portDeviceName && got.assignedAddresses.length > 0 ? got : undefined;
      });
      leaves.push({ pid: child.pid!, ip: n.assignedAddresses[0].split('/')[0] });
    }
    await until('ping over the network', () => (/ 0% packet loss/.test(lab.exec(ns[1], 'ping', ['-c', '1', '-W', '2', leaves[1].ip])) ? true : undefined));
    const pingMs = pingAverageMs(lab, ns[1], leaves[1].ip);
    const directPingMs = pingAverageMs(lab, ns[1], `${NET}.3`);

    const server = lab.spawn(ns[2], 'iperf3', ['-s']);
    await new Promise((r) => setTimeout(r, 500));
    const cpuBefore = leaves.map((l) => cpuSeconds(l.pid));
    const forward = iperf(lab, ns[1], leaves[1].ip, false);
    const reverse = iperf(lab, ns[1], leaves[1].ip, true);
    const cpuAfter = leaves.map((l) => cpuSeconds(l.pid));
    server.kill();
    const warmPingMs = pingAverageMs(lab, ns[1], leaves[1].ip);
    const mb = (forward.bytes + reverse.bytes) / 1e6;
    const cpu = cpuAfter.reduce((s, v, k) => s + v - cpuBefore[k], 0);
    return { mbps: forward.mbps, reverseMbps: reverse.mbps, cpuPerMB: cpu / mb, pingMs, warmPingMs, directPingMs };
  } finally {
    await lab.destroy();
    for (const h of homes) rmSync(h, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const reason = netnsUnavailableReason() ??
    (spawnSync('iperf3', ['--version']).error ? 'iperf3 is not installed (Debian package iperf3)' : undefined) ??
    (spawnSync('ping', ['-V']).error ? 'ping is not installed (Debian package iputils-ping)' : undefined);
  if (reason) {
    console.log(`bench:leaf cannot run here: ${reason}`);
    process.exitCode = 2;
    return;
  }
  if (!process.env.ZEROTIER_ONE) console.log('(set ZEROTIER_ONE=/path/to/zerotier-one to measure zerotier-one 1.14 leaves in the same run)');
  const rows: ({ name: string } & Figures)[] = [];
  for (const p of pairs) rows.push({ name: pairName(p), ...(await measure(p)) });
  const base = rows.find((x) => x.name === 'zerotier-one ↔ zerotier-one');
  console.log(`\nEthernet between two leaves over ZeroTier (iperf3 ${seconds} s TCP each way: first leaf → second, then second → first; CPU of both leaf processes over both runs)`);
  for (const x of rows) {
    const ratio = base && x !== base ? `  ×${(x.mbps / base.mbps).toFixed(2)}/×${(x.reverseMbps / base.reverseMbps).toFixed(2)} throughput, ×${(x.cpuPerMB / base.cpuPerMB).toFixed(2)} CPU/MB vs zerotier-one` : '';
    console.log(`  ${x.name.padEnd(28)} ${x.mbps.toFixed(0).padStart(5)} / ${x.reverseMbps.toFixed(0).padStart(5)} Mbit/s  ${(x.cpuPerMB * 1000).toFixed(2).padStart(6)} ms CPU/MB  ping ${x.pingMs.toFixed(2)} ms, after traffic ${x.warmPingMs.toFixed(2)} ms (direct ${x.directPingMs.toFixed(2)} ms)${ratio}`);
  }
}

await main();
