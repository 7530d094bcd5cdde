// The root's per-packet work without the network (npm run bench:packet-path): a node core fed
// datagrams directly, replies going to a transport that only counts them. CPU per known-peer
// HELLO (dearmor, decode, OK(HELLO) encode and armor, path update), per WHOIS and per ECHO,
// next to the bare cost of the crypto it must do for each, so what remains is overhead to cut —
// with the TypeScript armor and, when it is built, the C addon's (native/src/packet_crypto.c).
// Rates are per second of this process's CPU time (µs each = CPU µs), steadier on a shared machine.
//
//   npm run bench:packet-path [-- --peers 1000] [--cpu-prof]      BENCH_SECONDS=1 by default

import { parseArgs } from 'node:util';
import { IdentityStore } from '../../src/node/identity-store.ts';
import { Node } from '../../src/node/node.ts';
import { Topology } from '../../src/node/topology.ts';
import type { DatagramTransport, LocalSocket } from '../../src/node/udp.ts';
import type { IdentityValidator } from '../../src/node/validation-pool.ts';
import { armor, dearmor, useArmor, type ArmorImplementation } from '../../src/wire/armor.ts';
import { Cipher } from '../../src/wire/constants.ts';
import { parseInetAddress } from '../../src/wire/inet-address.ts';
import { nativeArmorAvailability } from '../../src/wire/native-armor.ts';
import { PeerKey } from '../../src/wire/peer-key.ts';
import { echoPacket, helloPacket, whoisPacket } from '../loadgen/packets.ts';
import { loadOrCreatePeerKeys, loadOrCreatePeers, loadOrCreateRootIdentity, peerIdentity } from '../loadgen/key-material.ts';
import { measure, report } from './harness.ts';

const { values: flags } = parseArgs({ options: { peers: { type: 'string', default: '1000' } } });
const PEERS = Number(flags.peers);

/** A transport that counts what the node sends and never touches the network. */
class CountingTransport implements DatagramTransport {
  readonly sockets: LocalSocket[] = [{ index: 0, address: '127.0.0.1', port: 9993, family: 4 }];
  readonly sendErrors = 0;
  sent = 0;
  bytes = 0;
  onDatagram(): void {}
  async open(): Promise<void> {}
  send(_socket: LocalSocket, _to: unknown, data: Uint8Array): void {
    this.sent++;
    this.bytes += data.length;
  }
  sendToHost(): void {}
  socketFor(): LocalSocket {
    return this.sockets[0];
  }
  async close(): Promise<void> {}
}

const noValidation: IdentityValidator = { submit: async () => 'closed', queueDepth: 0, inFlight: 0, close: async () => {} };

const root = await loadOrCreateRootIdentity();
const peers = await loadOrCreatePeers(Math.max(PEERS, 1000));
const keys = await loadOrCreatePeerKeys(peers, root.publicOnly());
const store = new IdentityStore(':memory:');
const transport = new CountingTransport();
const node = new Node({
  identity: root, transport, topology: new Topology(root.address), store, validation: noValidation,
  relayMaxHops: 3, protocolVersion: 11, pathLearning: 'authenticated', alwaysSalsa: true, peerCacheEntries: 16_384,
});
const via = parseInetAddress('127.0.0.1/9993')!;
const socket = transport.sockets[0];
const hellos: Uint8Array[] = [], whois: Uint8Array[] = [], echoes: Uint8Array[] = [];
const from = Array.from({ length: PEERS }, (_, i) => parseInetAddress(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/${20000 + (i % 40000)}`)!);
for (let i = 0; i < PEERS; i++) {
  const id = peerIdentity(peers, i);
  const key = new PeerKey(keys.subarray(48 * i, 48 * i + 48));
  store.put(id);
  node.addPeer(id);
  hellos.push(helloPacket({ identity: id, key, to: root.address, via, protocolVersion: 12 }).bytes);
  whois.push(whoisPacket(id.address, root.address, key, peers.addresses[(i * 7919) % PEERS]).bytes);
  echoes.push(echoPacket(id.address, root.address, key).bytes);
}

/** Feed each packet in turn (a fresh copy: the node decrypts in place); `fed` counts the calls. */
let fed = 0;
function feeder(packets: Uint8Array[]): () => void {
  let k = 0;
  const copy = new Uint8Array(2048);
  return () => {
    const p = packets[k];
    copy.set(p);
    node.receive(copy.subarray(0, p.length), from[k], socket);
    k = k + 1 === packets.length ? 0 : k + 1;
    fed++;
  };
}

/** Measure a feeder, and warn when most requests went unanswered (the figure would be a drop rate). */
function answered(name: string, packets: Uint8Array[]): ReturnType<typeof measure> {
  const sent0 = transport.sent, fed0 = fed;
  const m = measure(name, feeder(packets), { clock: 'cpu' });
  if (transport.sent - sent0 < 0.5 * (fed - fed0)) process.stderr.write(`warning: ${name}: far fewer replies than requests (reply spacing?)\n`);
  return m;
}

// the floor: the crypto any implementation does per HELLO (MAC check of the request, armor of the reply)
const key0 = new PeerKey(keys.subarray(0, 48));
const reply = new Uint8Array(hellos[0].length + 40);
reply.set(hellos[0]);
const scratch = new Uint8Array(hellos[0].length);
const nativeArmor = nativeArmorAvailability();
const implementations: ArmorImplementation[] = nativeArmor.ok ? ['js', 'native'] : ['js'];
for (const which of implementations) {
  useArmor(which);
  const label = which === 'js' ? 'TypeScript armor' : 'native armor';
  const floor = measure('floor: Poly1305 check + Salsa20/12 armor of a reply', () => {
    scratch.set(hellos[0]);
    dearmor(scratch, key0);
    armor(reply.subarray(0, 110), key0, Cipher.poly1305Salsa2012);
  }, { clock: 'cpu' });
  const rows = [
    floor,
    answered(`known-peer HELLO → OK(HELLO) (${PEERS} peers)`, hellos),
    answered('WHOIS → OK(WHOIS)', whois),
    answered('ECHO → OK(ECHO)', echoes),
  ];
  report(`root packet path in one thread, no network, ${label} (${transport.sent} replies sent so far)`, rows, rows[0].name);
  for (const r of rows) console.log(`  ${r.name.padEnd(44)} ${(1e6 / r.opsPerSec).toFixed(2)} µs each`);
}
if (!nativeArmor.ok) console.log(`\n(native armor not measured: ${nativeArmor.reason})`);
store.close();
