// The root accepts root.cpp's encrypted HELLO ("extended armor") as well as 1.14's plain one.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PacketOffset, Verb } from '../../src/wire/constants.ts';
import { cryptField } from '../../src/wire/crypt-field.ts';
import { applyExtendedArmor } from '../../src/wire/extended-armor.ts';
import { newPacket, readPacketId } from '../../src/wire/packet.ts';
import { decodeOkHello, encodeHelloWithCryptFieldOffset } from '../../src/wire/verbs/hello.ts';
import { RawPeer, startTestRoot, VECTOR_IDENTITIES, type TestRoot } from '../support/root-harness.ts';


let root: TestRoot;
let leaf: RawPeer;

beforeAll(async () => {
  root = await startTestRoot({ identity: VECTOR_IDENTITIES[0] });
  leaf = await RawPeer.open(VECTOR_IDENTITIES[6]);
});
afterAll(async () => {
  await leaf.close();
  await root.stop();
});

function encryptedHello(): { wire: Uint8Array; id: bigint } {
  const key = leaf.keyWith(root.identity);
  const { payload, cryptFieldOffset } = encodeHelloWithCryptFieldOffset({
    protocolVersion: 11, majorVersion: 1, minorVersion: 99, revision: 0, timestamp: BigInt(Date.now()),
    identity: leaf.identity.publicOnly(), destination: root.endpoint, planet: { id: 0n, timestamp: 0n }, moons: [],
  });
  const p = newPacket({ id: new Uint8Array(randomBytes(8)), destination: root.identity.address, source: leaf.address, verb: Verb.HELLO, payload });
  if (cryptFieldOffset !== undefined) cryptField(p, PacketOffset.payload + cryptFieldOffset, p.length, key.salsaKey);
  return { wire: applyExtendedArmor(p, key, root.identity.publicKey), id: readPacketId(p) };
}

it('answers an extended-armor HELLO with OK(HELLO) quoting its packet ID', async () => {
  let reply;
  for (let attempt = 0; attempt < 40 && !reply; attempt++) {
    const { wire, id } = encryptedHello();
    leaf.sendRaw(root.endpoint, wire);
    reply = await leaf.reply(root.identity, id, { timeoutMs: 400 }).catch(() => undefined); // first one waits for validation
  }
  expect(reply).toBeDefined();
  const ok = decodeOkHello(reply!.payload);
  expect(ok.ok && ok.value.inRePacketId).toBeTruthy();
  expect(root.root.node.peers.has(leaf.address)).toBe(true);
});

it('drops an extended-armor HELLO whose inner MAC is wrong, and counts it', async () => {
  const before = root.root.node.stats.drops.get('bad-mac') ?? 0;
  const { wire } = encryptedHello();
  wire[PacketOffset.payload + 3] ^= 0xff;
  leaf.sendRaw(root.endpoint, wire);
  const deadline = Date.now() + 3000;
  while ((root.root.node.stats.drops.get('bad-mac') ?? 0) === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  expect(root.root.node.stats.drops.get('bad-mac') ?? 0).toBe(before + 1);

});
