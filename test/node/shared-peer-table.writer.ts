// Worker for the torn-read test: writes consistent (port, IPv4) pairs as fast as it can.
import { parentPort, workerData } from 'node:worker_threads';
import { SharedPeerTable } from '../../src/node/shared-peer-table.ts';

const { buffer, addresses, seed, rounds } = workerData as { buffer: SharedArrayBuffer; addresses: number[]; seed: number; rounds: number };
const t = new SharedPeerTable(buffer);
const ip = new Uint8Array(4);
for (let r = 0; r < rounds; r++) {
  const a = addresses[(r * 31 + seed) % addresses.length];
  const port = 1 + ((r * 7 + seed * 13) % 60000);
  ip[0] = 10; ip[1] = port >> 8; ip[2] = port & 255; ip[3] = 1;
  t.notePath(a, ip, port, seed, r);
}
parentPort!.postMessage('done');
