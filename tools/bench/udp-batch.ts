// Forwarder benchmark: what one relayed datagram costs the relaying process with plain dgram and
// with the native batch addon (recvmmsg/sendmmsg). Three processes' worth of work on loopback:
//
//   blaster ──► forwarder ──► sink        (blaster and sink share one process)
//
// The blaster sends fixed-size datagrams at a fixed rate (or flat out); the forwarder sends each
// one on to the sink from the socket it arrived on. Over a measured window the forwarder reports
// its own CPU time (process.cpuUsage, user + system) and how many datagrams it forwarded, so
// "µs per packet" is forwarder CPU / forwarded packets; the sink counts what arrived.
//
// Forwarders:
//   dgram          bare node:dgram: socket.on('message') → socket.send (the anchor)
//   udp-transport  ztroot's UdpTransport: onDatagram → sendToHost (today's relay path)
//   native         NativeUdpTransport, same handler and calls (Buffer + IpAddress per datagram)
//   native-raw     NativeUdpTransport fast path: onRawDatagram → sendToPath (no per-datagram objects)
//   native-raw-coalesce   the same with receive coalescing on (coalesceMicros 200, as
//                  `root --udp-coalesce-us 200`): at moderate rates the blaster's datagrams come
//                  one per event-loop turn, as from many independent leaves, so this pair shows
//                  what coalescing saves per datagram
//
//   npx node tools/bench/udp-batch.ts [--seconds 3] [--rates 20000,50000,100000,max] [--size 512]
//                                     [--forwarders dgram,udp-transport,native,native-raw,native-raw-coalesce]
//
// Everything stays on 127.0.0.1 and every run stops by itself. Figures are printed, not asserted.

import { fork, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { NativeUdpTransport, nativeUdpAvailability } from '../../src/node/batch-udp.ts';
import { createPathLookup } from '../../src/node/shared-peer-table.ts';
import { UdpTransport } from '../../src/node/udp.ts';

const HOST = '127.0.0.1';
const SOCKET_BUFFER_BYTES = 4 << 20;
const WARMUP_MS = 1000;
/** Most datagrams the blaster sends per event-loop turn. */
const BLAST_CHUNK = 64;
const FORWARDERS = ['dgram', 'udp-transport', 'native', 'native-raw', 'native-raw-coalesce'] as const;
type ForwarderKind = (typeof FORWARDERS)[number];

interface Window { forwarded: number; cpuMicros: number; elapsedMs: number; batches?: number }
type ChildMessage =
  | { kind: 'ready'; port: number; native?: boolean }
  | { kind: 'window'; window: Window }
  | { kind: 'blasted'; sent: number; received: number; elapsedMs: number };
type ParentMessage =
  | { kind: 'mark' }
  | { kind: 'report' }
  | { kind: 'blast'; port: number; rate: number; size: number }
  | { kind: 'stop' };

const role = process.argv[2];
if (role === 'forwarder') await forwarder(process.argv[3] as ForwarderKind, Number(process.argv[4]));
else if (role === 'blaster') await blaster();
else await main();

// ------------------------------------------------------------------------------------------------
// Forwarder process
// ------------------------------------------------------------------------------------------------

async function forwarder(kind: ForwarderKind, sinkPort: number): Promise<void> {
  let forwarded = 0;
  let batchesOf: () => number = () => 0;
  let port: number;
  if (kind === 'dgram') {
    const socket = createSocket('udp4');
    socket.on('message', (m) => {
      forwarded++;
      socket.send(m, sinkPort, HOST);
    });
    await new Promise<void>((r) => socket.bind(0, HOST, () => r()));
    socket.setRecvBufferSize(SOCKET_BUFFER_BYTES);
    socket.setSendBufferSize(SOCKET_BUFFER_BYTES);
    port = socket.address().port;
  } else if (kind === 'udp-transport' || kind === 'native') {
    const t = kind === 'native' ? new NativeUdpTransport() : new UdpTransport();
    t.onDatagram((d, _from, socket) => {
      forwarded++;
      t.sendToHost(socket.index, HOST, sinkPort, d);
    });
    await t.open({ bind: [HOST], ports: [0], bufferBytes: SOCKET_BUFFER_BYTES });
    if (t instanceof NativeUdpTransport) batchesOf = () => t.stats().batches;
    port = t.sockets[0].port;
  } else {
    const t = new NativeUdpTransport(kind === 'native-raw-coalesce' ? { coalesceMicros: 200 } : {});
    const path = createPathLookup();
    path.family = 4;
    path.ip4 = 0x7f000001;
    path.port = sinkPort;
    t.onRawDatagram((view, _source, socket) => {
      forwarded++;
      t.sendToPath(socket.index, path, view);
      return true;
    });
    await t.open({ bind: [HOST], ports: [0], bufferBytes: SOCKET_BUFFER_BYTES });
    batchesOf = () => t.stats().batches;
    port = t.sockets[0].port;
  }
  let mark = { forwarded: 0, cpu: process.cpuUsage(), at: performance.now(), batches: 0 };
  process.on('message', (m: ParentMessage) => {
    if (m.kind === 'mark') {
      mark = { forwarded, cpu: process.cpuUsage(), at: performance.now(), batches: batchesOf() };
    } else if (m.kind === 'report') {
      const cpu = process.cpuUsage(mark.cpu);
      const window: Window = {
        forwarded: forwarded - mark.forwarded,
        cpuMicros: cpu.user + cpu.system,
        elapsedMs: performance.now() - mark.at,
        batches: kind.startsWith('native') ? batchesOf() - mark.batches : undefined,
      };
      send({ kind: 'window', window });
    } else if (m.kind === 'stop') {
      process.exit(0);
    }
  });
  send({ kind: 'ready', port });
}

// ------------------------------------------------------------------------------------------------
// Blaster + sink process (native batch sends and receives when the addon is built: cheaper, so
// the forwarder gets the second core; dgram otherwise)
// ------------------------------------------------------------------------------------------------

async function blaster(): Promise<void> {
  const useNative = nativeUdpAvailability().ok;
  let received = 0;
  const sinkTransport = useNative ? new NativeUdpTransport() : new UdpTransport();
  if (sinkTransport instanceof NativeUdpTransport) sinkTransport.onRawDatagram(() => { received++; return true; });
  else sinkTransport.onDatagram(() => { received++; });
  await sinkTransport.open({ bind: [HOST], ports: [0], bufferBytes: SOCKET_BUFFER_BYTES });
  const out = useNative ? new NativeUdpTransport() : new UdpTransport();
  await out.open({ bind: [HOST], ports: [0], bufferBytes: SOCKET_BUFFER_BYTES });

  let running = false;
  let sent = 0, start = 0, rate = 0, target = 0;
  let payload = new Uint8Array(0);
  let mark = { sent: 0, received: 0, at: 0 };
  const tick = (): void => {
    if (!running) return;
    const due = rate > 0 ? Math.floor(((performance.now() - start) * rate) / 1000) - sent : BLAST_CHUNK;
    const n = Math.min(due, BLAST_CHUNK);
    for (let i = 0; i < n; i++) out.sendToHost(0, HOST, target, payload);
    sent += Math.max(0, n);
    setImmediate(tick);
  };
  process.on('message', (m: ParentMessage) => {
    if (m.kind === 'blast') {
      ({ rate } = m);
      target = m.port;
      payload = new Uint8Array(m.size).fill(0x5a);
      sent = 0;
      start = performance.now();
      running = true;
      setImmediate(tick);
    } else if (m.kind === 'mark') {
      mark = { sent, received, at: performance.now() };
    } else if (m.kind === 'report') {
      running = false;
      const elapsedMs = performance.now() - mark.at, window = sent - mark.sent;
      // let the forwarder drain what is in flight before the sink is read
      setTimeout(() => send({ kind: 'blasted', sent: window, received: received - mark.received, elapsedMs }), 200);
    } else if (m.kind === 'stop') {
      void Promise.all([out.close(), sinkTransport.close()]).then(() => process.exit(0));
    }
  });
  send({ kind: 'ready', port: sinkTransport.sockets[0].port, native: useNative });
}

function send(m: ChildMessage): void {
  process.send!(m);
}

// ------------------------------------------------------------------------------------------------
// Orchestration
// ------------------------------------------------------------------------------------------------

interface Row { forwarder: ForwarderKind; rate: string; offeredPps: number; forwardedPps: number; deliveredPps: number; cpuUsPerPacket: number; cpuPercent: number; perBatch?: number }

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '3' },
      rates: { type: 'string', default: '20000,50000,100000,max' },
      size: { type: 'string', default: '512' },
      forwarders: { type: 'string', default: FORWARDERS.join(',') },
    },
  });
  const seconds = Math.min(30, Math.max(1, Number(values.seconds)));
  const size = Math.min(1472, Math.max(16, Number(values.size)));
  const rates = values.rates!.split(',').map((r) => r.trim());
  const native = nativeUdpAvailability();
  const kinds = values.forwarders!.split(',').map((k) => k.trim() as ForwarderKind)
    .filter((k) => FORWARDERS.includes(k) && (native.ok || !k.startsWith('native')));
  if (!native.ok) console.log(`native batch UDP unavailable (${native.reason}): native forwarders skipped`);

  const file = fileURLToPath(import.meta.url);
  const blast = fork(file, ['blaster'], { stdio: 'inherit' });
  const sink = await next(blast, 'ready');
  console.log(`forwarder benchmark: ${size}-byte datagrams, ${seconds} s windows after ${WARMUP_MS} ms warm-up; blaster/sink on ${sink.native ? 'native batch' : 'dgram'}; ${process.version}`);
  const rows: Row[] = [];
  try {
    for (const kind of kinds) {
      for (const rate of rates) {
        const fwd = fork(file, ['forwarder', kind, String(sink.port)], { stdio: 'inherit' });
        try {
          const ready = await next(fwd, 'ready');
          const pps = rate === 'max' ? 0 : Number(rate);
          blast.send({ kind: 'blast', port: ready.port, rate: pps, size } satisfies ParentMessage);
          await sleep(WARMUP_MS);
          fwd.send({ kind: 'mark' } satisfies ParentMessage);
          blast.send({ kind: 'mark' } satisfies ParentMessage);
          await sleep(seconds * 1000);
          fwd.send({ kind: 'report' } satisfies ParentMessage);
          const { window } = await next(fwd, 'window');
          blast.send({ kind: 'report' } satisfies ParentMessage);
          const blasted = await next(blast, 'blasted');
          const row: Row = {
            forwarder: kind,
            rate,
            offeredPps: blasted.sent / (blasted.elapsedMs / 1000),
            forwardedPps: window.forwarded / (window.elapsedMs / 1000),
            deliveredPps: blasted.received / (blasted.elapsedMs / 1000),
            cpuUsPerPacket: window.forwarded > 0 ? window.cpuMicros / window.forwarded : NaN,
            cpuPercent: (100 * window.cpuMicros) / (window.elapsedMs * 1000),
            perBatch: window.batches ? window.forwarded / window.batches : undefined,
          };
          rows.push(row);
          printRow(row);
        } finally {
          fwd.send({ kind: 'stop' } satisfies ParentMessage);
          await new Promise((r) => fwd.once('exit', r));
        }
      }
    }
  } finally {
    blast.send({ kind: 'stop' } satisfies ParentMessage);
  }
  summary(rows, rates);
}

function next<K extends ChildMessage['kind']>(child: ChildProcess, kind: K): Promise<Extract<ChildMessage, { kind: K }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${kind}' from child within 30 s`)), 30_000);
    const onMessage = (m: ChildMessage): void => {
      if (m.kind !== kind) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(m as Extract<ChildMessage, { kind: K }>);
    };
    child.on('message', onMessage);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function k(n: number): string {
  return `${(n / 1000).toFixed(1)}k`;
}

function printRow(r: Row): void {
  const batch = r.perBatch !== undefined ? `  ${r.perBatch.toFixed(1).padStart(5)}/batch` : '';
  console.log(
    `  ${r.forwarder.padEnd(22)} rate ${r.rate.padStart(7)}  offered ${k(r.offeredPps).padStart(7)} pps  forwarded ${k(r.forwardedPps).padStart(7)} pps` +
      `  delivered ${k(r.deliveredPps).padStart(7)} pps  forwarder CPU ${r.cpuUsPerPacket.toFixed(2).padStart(6)} µs/pkt (${r.cpuPercent.toFixed(0)}% of a core)${batch}`,
  );
}

function summary(rows: Row[], rates: string[]): void {
  const base = 'dgram';
  console.log(`\nforwarder CPU µs per packet (ratio = ${base} / forwarder; above 1 is cheaper than ${base})`);
  for (const rate of rates) {
    const ref = rows.find((r) => r.forwarder === base && r.rate === rate);
    const cells = rows.filter((r) => r.rate === rate).map((r) => {
      const ratio = ref && r.forwarder !== base ? ` (×${(ref.cpuUsPerPacket / r.cpuUsPerPacket).toFixed(2)})` : '';
      return `${r.forwarder} ${r.cpuUsPerPacket.toFixed(2)}${ratio}`;
    });
    console.log(`  rate ${rate.padStart(7)}: ${cells.join('  ·  ')}`);
  }
  const max = rows.filter((r) => r.rate === 'max');
  if (max.length > 0) {
    const ref = max.find((r) => r.forwarder === base);
    console.log('max forwarded pps (blaster flat out):');
    for (const r of max) {
      const ratio = ref && r !== ref ? ` (×${(r.forwardedPps / ref.forwardedPps).toFixed(2)} vs ${base})` : '';
      console.log(`  ${r.forwarder.padEnd(22)} ${k(r.forwardedPps)} pps${ratio}`);
    }
  }
}
