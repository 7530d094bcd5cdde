// The ceiling for pure Node: the least a UDP relay for ZeroTier packets can do. For every
// datagram it reads the source address (bytes 13..17) and remembers where it came from, then
// either forwards it to where the destination (bytes 8..12) was last heard, with the hop count
// bumped, or — when the destination is this forwarder's own address — sends it straight back
// with the addresses swapped (the ceiling for request/response: a reply per request, no crypto).
// No armor, no verbs, no limits: a baseline, not a root.
//
//   npx node tools/bench/forwarder.ts --port 9994 --address 89e92ceee5 [--bind 127.0.0.1]
//
// Prints {"listening":{"address","port"}} once bound. A datagram of exactly "STATS" is answered
// with counters as JSON, and SIGTERM/SIGINT print them and exit.

import { createSocket } from 'node:dgram';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    bind: { type: 'string', default: '127.0.0.1' },
    address: { type: 'string', default: '0000000001' },
  },
});

const self = Number.parseInt(values.address!, 16);
const selfHi = Math.floor(self / 2 ** 32);
const selfLo = self >>> 0;
const socket = createSocket(values.bind!.includes(':') ? 'udp6' : 'udp4');
/** ZeroTier address (40 bits as a number) → where it was last heard. */
const paths = new Map<number, { address: string; port: number }>();
const stats = { received: 0, forwarded: 0, reflected: 0, unknownDestination: 0, tooShort: 0, paths: 0 };
const STATS_REQUEST = 'STATS';

function address(d: Buffer, o: number): number {
  return d[o] * 2 ** 32 + d.readUInt32BE(o + 1);
}

socket.on('message', (d, rinfo) => {
  stats.received++;
  if (d.length === STATS_REQUEST.length && d.toString('latin1') === STATS_REQUEST) {
    stats.paths = paths.size;
    socket.send(JSON.stringify(stats), rinfo.port, rinfo.address);
    return;
  }
  if (d.length < 28 || d[13] === 0xff) {
    stats.tooShort++;
    return;
  }
  const source = address(d, 13);
  const known = paths.get(source);
  if (!known || known.port !== rinfo.port || known.address !== rinfo.address) paths.set(source, { address: rinfo.address, port: rinfo.port });
  if (d[8] === selfHi && d.readUInt32BE(9) === selfLo) {
    // request for "the root": answer in place, destination ⇄ source
    const tmp = Buffer.from(d.subarray(8, 13));
    d.copy(d, 8, 13, 18);
    tmp.copy(d, 13);
    socket.send(d, rinfo.port, rinfo.address);
    stats.reflected++;
    return;
  }
  const to = paths.get(address(d, 8));
  if (!to) {
    stats.unknownDestination++;
    return;
  }
  d[18] = (d[18] & 0xf8) | Math.min(7, (d[18] & 7) + 1);
  socket.send(d, to.port, to.address);
  stats.forwarded++;
});

socket.bind(Number(values.port), values.bind, () => {
  const a = socket.address();
  process.stdout.write(`${JSON.stringify({ listening: { address: a.address, port: a.port } })}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    stats.paths = paths.size;
    process.stdout.write(`${JSON.stringify({ stats })}\n`);
    socket.close(() => process.exit(0));
  });
}
