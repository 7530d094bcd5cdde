// PUSH_DIRECT_PATHS received by a real SimpleLeaf over loopback: a pushed endpoint gets a HELLO
// (or an ECHO once the pusher's version is known) from the leaf, addressed to the pusher; a push from a
// peer that shares no network with us, or naming an address inside our own networks, makes it
// contact nothing. (Loopback paths are allowed here; 1.14 never takes them.)
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readAddress } from '../../src/identity/address.ts';
import { SimpleLeaf } from '../../src/leaf/simple-leaf.ts';
import { PacketOffset, Verb, VerbFlag } from '../../src/wire/constants.ts';
import { encodePushDirectPaths } from '../../src/wire/verbs/push-direct-paths.ts';
import { dearmor } from '../../src/wire/armor.ts';
import { endpointOf, VECTOR_IDENTITIES, waitUntil } from '../support/root-harness.ts';

let a: SimpleLeaf;
let b: SimpleLeaf;
const listeners: { socket: Socket; port: number; got: Uint8Array[] }[] = [];
const policy = { member: false, managedPort: -1 };

beforeAll(async () => {
  a = new SimpleLeaf({ identity: VECTOR_IDENTITIES[1], bind: ['127.0.0.1'], allowLoopbackPaths: true });
  b = new SimpleLeaf({ identity: VECTOR_IDENTITIES[2], bind: ['127.0.0.1'], allowLoopbackPaths: true });
  await a.start();
  await b.start();
  a.node.addPeer(b.identity);
  b.node.addPeer(a.identity);
  b.networks = { acceptsPushFrom: () => policy.member, insideOurNetworks: (at) => at.port === policy.managedPort };
  for (let i = 0; i < 2; i++) {
    const socket = createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
    const l = { socket, port: socket.address().port, got: [] as Uint8Array[] };
    socket.on('message', (m) => l.got.push(m));
    listeners.push(l);
  }
});

afterAll(async () => {
  for (const l of listeners) l.socket.close();
  await a?.stop();
  await b?.stop();
});

function pushFromA(ports: number[]): void {
  const peer = a.node.peers.get(b.address)!;
  const payload = encodePushDirectPaths({ paths: ports.map((port) => ({ flags: 0, address: endpointOf({ address: '127.0.0.1', port }) })) });
  a.node.sendTo(peer, a.node.transport.sockets[0], endpointOf(b.sockets[0]), Verb.PUSH_DIRECT_PATHS, payload);
}

it('ignores a push from a peer that shares no network with it', async () => {
  pushFromA([listeners[0].port]);
  await waitUntil(() => b.directPaths.counts.pushesIgnored === 1, 'the push to be refused');
  expect(b.directPaths.counts.addressesContacted).toBe(0);
});

it('contacts a pushed endpoint (HELLO or ECHO from b to a), but not one inside its own networks', async () => {
  policy.member = true;
  policy.managedPort = listeners[1].port;
  pushFromA([listeners[1].port, listeners[0].port]);
  await waitUntil(() => listeners[0].got.length > 0, 'a datagram at the pushed endpoint');
  const d = Uint8Array.from(listeners[0].got[0]);
  // HELLO while b does not know a's version; ECHO (encrypted) once it does, as b's keepalive may
  // have HELLOed a first on a slow machine: opened with a's key for b, either way
  expect(dearmor(d, a.node.peers.get(b.address)!.key).ok).toBe(true);
  expect([Verb.HELLO, Verb.ECHO]).toContain(d[PacketOffset.verb] & VerbFlag.verbMask);
  expect(readAddress(d, PacketOffset.destination)).toBe(a.address);
  expect(readAddress(d, PacketOffset.source)).toBe(b.address);
  expect(b.directPaths.counts.addressesContacted).toBe(1);
  expect(listeners[1].got).toEqual([]); // decided in the same receive, before the HELLO left
});
