// Packets from a node the leaf does not know yet wait for its identity (WHOIS to the root) and are
// then handled in the order they arrived, before anything that arrives after the WHOIS answer —
// even when the answer and the sender's next packet come in one receive batch (recvmmsg hands a
// loaded process several datagrams at once). 1.14 does the same: Switch::doAnythingWaitingForPeer
// runs as the identity is learned. Otherwise member credentials pushed just before a frame are
// applied after it, and the frame is refused.
//
// Three real nodes on loopback: leaf B, its root R and a member X. What R and X send to B is
// captured instead of sent, so the test hands B the datagrams in the order a batch would.

import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateKeyPair } from '../../src/crypto/c25519.ts';
import type { Identity } from '../../src/identity/identity.ts';
import { SimpleLeaf } from '../../src/leaf/simple-leaf.ts';
import type { LocalSocket } from '../../src/node/udp.ts';
import { Verb } from '../../src/wire/constants.ts';
import type { IpAddress } from '../../src/wire/inet-address.ts';
import { encodeFrame } from '../../src/wire/verbs/frame.ts';
import { WorldType } from '../../src/world/constants.ts';
import { World } from '../../src/world/world.ts';
import { endpointOf, VECTOR_IDENTITIES, waitUntil } from '../support/root-harness.ts';

const [rootId, bId, xId] = VECTOR_IDENTITIES as Identity[];
const NETWORK_ID = 0x1ab0_0000_0000_0002n;
const ETHERTYPE_EXPERIMENTAL = 0x88b5;

let root: SimpleLeaf;
let b: SimpleLeaf;
let x: SimpleLeaf;
/** Datagrams R and X sent to B, held back. */
const heldFor = new Map<SimpleLeaf, { data: Uint8Array; from: IpAddress }[]>();

/** Keep what `node` sends to B instead of sending it (its other traffic goes out). */
function holdBack(node: SimpleLeaf): void {
  const transport = node.node.transport;
  const send = transport.send.bind(transport);
  heldFor.set(node, []);
  transport.send = (socket: LocalSocket, to: IpAddress, data: Uint8Array): void => {
    if (to.port === b.sockets[0].port) heldFor.get(node)!.push({ data: Uint8Array.from(data), from: endpointOf(socket) });
    else send(socket, to, data);
  };
}

beforeAll(async () => {
  root = new SimpleLeaf({ identity: rootId, bind: ['127.0.0.1'], allowLoopbackPaths: true });
  await root.start();
  const signer = generateKeyPair();
  const planet = World.make({
    type: WorldType.planet, id: 0x7a7a_0000_0de7n, timestamp: 1n, updatesMustBeSignedBy: signer.publicKey,
    roots: [{ identity: rootId.publicOnly(), stableEndpoints: [endpointOf(root.sockets[0])] }],
  }, signer);
  b = new SimpleLeaf({ identity: bId, planet, bind: ['127.0.0.1'], allowLoopbackPaths: true });
  x = new SimpleLeaf({ identity: xId, bind: ['127.0.0.1'], allowLoopbackPaths: true });
  await b.start();
  await x.start();
  await waitUntil(() => b.online, 'B online with its root', 30_000); // validation threads start slowly on a loaded machine
  root.node.addPeer(xId.publicOnly()); // the root knows X, as it knows every node that HELLOed it
  x.node.addPeer(bId.publicOnly());
});

afterAll(async () => {
  for (const n of [x, b, root]) await n?.stop();
});

it('handles packets queued behind a WHOIS before a packet that arrives with the WHOIS answer', async () => {
  holdBack(root);
  holdBack(x);
  const frames: string[] = [];
  b.on('frame', (from, frame) => { if (from === xId.address) frames.push(Buffer.from(frame.payload).toString()); });
  const frameFromX = (text: string): { data: Uint8Array; from: IpAddress } => {
    const sent = heldFor.get(x)!;
    x.node.sendTo(x.node.peers.get(bId.address)!, x.node.transport.sockets[0], endpointOf(b.sockets[0]), Verb.FRAME,
      encodeFrame({ networkId: NETWORK_ID, etherType: ETHERTYPE_EXPERIMENTAL, payload: Buffer.from(text) }));
    return sent.pop()!;
  };
  const deliver = (d: { data: Uint8Array; from: IpAddress }): void => b.node.receive(d.data, d.from, b.node.transport.sockets[0]);

  const first = frameFromX('first');
  const second = frameFromX('second');
  deliver(first); // X unknown: held while B asks its root
  await waitUntil(() => heldFor.get(root)!.length > 0, "the root's answer to B's WHOIS");
  expect(frames).toEqual([]);
  // one receive batch: the WHOIS answer, then X's next packet
  deliver(heldFor.get(root)!.shift()!);
  deliver(second);
  await waitUntil(() => frames.length === 2, 'both frames at B');
  expect(frames).toEqual(['first', 'second']);
});
