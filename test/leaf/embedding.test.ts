// The leaf embedded in a Node program (`ethernet: 'frames'`, the libzt-style API): two LeafNodes
// over loopback join a network of a `root --controller`, and the programs exchange Ethernet frames
// with leaf.ethernet(nwid) — unicast to a member's MAC as FRAME, broadcast as MULTICAST_FRAME to
// the subscribers the root gathers — through the same rules and COM checks a TAP's frames pass.
// Nothing touches the host's interfaces. Run once per UDP transport.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../src/crypto/c25519.ts';
import { formatAddress } from '../../src/identity/address.ts';
import { LeafNode } from '../../src/leaf/leaf-node.ts';
import type { VirtualEthernet } from '../../src/leaf/virtual-ethernet.ts';
import { macToBytes } from '../../src/wire/mac.ts';
import { World } from '../../src/world/world.ts';
import { WorldType } from '../../src/world/constants.ts';
import { captureExchange } from '../controller/capture-exchange.ts';
import { startControllerRoot, type ControllerRoot } from '../controller/harness.ts';

const x = captureExchange();
const members = [...x.members.values()];
const ETHERTYPE_EXPERIMENTAL = 0x88b5;

function ethernet(destination: number, source: number, text: string): Uint8Array {
  const payload = Buffer.from(text);
  const f = new Uint8Array(14 + payload.length);
  f.set(macToBytes(destination), 0);
  f.set(macToBytes(source), 6);
  f[12] = ETHERTYPE_EXPERIMENTAL >> 8;
  f[13] = ETHERTYPE_EXPERIMENTAL & 0xff;
  f.set(payload, 14);
  return f;
}

async function until<T>(what: string, f: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

// Both UDP transports carry the same frames: the batch addon (the default where it loads) and
// plain dgram (what a leaf without the native addons uses).
describe.each(['auto', 'off'] as const)('a leaf embedded in a program: Ethernet frames without a TAP device (nativeUdp %s)', (nativeUdp) => {
  let c: ControllerRoot;
  const leaves: LeafNode[] = [];
  const homes: string[] = [];
  const eth: VirtualEthernet[] = [];
  let nwid: bigint;

  beforeAll(async () => {
    c = await startControllerRoot({ identity: x.controller });
    const signer = generateKeyPair();
    const planet = World.make({
      type: WorldType.planet, id: 0x7a7a_0000_e4b1n, timestamp: 1n, updatesMustBeSignedBy: signer.publicKey,
      roots: [{ identity: x.controller.publicOnly(), stableEndpoints: [c.endpoint] }],
    }, signer);
    const created = await c.api('POST', `/controller/network/${formatAddress(x.controller.address)}______`, {
      name: 'embedded', private: true, v4AssignMode: { zt: true },
      routes: [{ target: '10.147.19.0/24' }], ipAssignmentPools: [{ ipRangeStart: '10.147.19.10', ipRangeEnd: '10.147.19.20' }],
    });
    nwid = BigInt('0x' + created.json.id);
    for (const identity of members) {
      const home = mkdtempSync(join(tmpdir(), 'ztroot-embed-'));
      homes.push(home);
      writeFileSync(join(home, 'identity.secret'), identity.toString(true), { mode: 0o600 });
      writeFileSync(join(home, 'planet'), planet.serialize());
      const leaf = new LeafNode({ home, bind: ['127.0.0.1'], port: 0, allowLoopbackPaths: true, pingIntervalMs: 100, ethernet: 'frames', nativeUdp });
      await leaf.start();
      leaves.push(leaf);
      leaf.join(nwid);
      await c.api('POST', `/controller/network/${created.json.id}/member/${formatAddress(identity.address)}`, { authorized: true });
    }
    for (const leaf of leaves) eth.push(await until('the network configured', () => leaf.ethernet(nwid)));
  });

  afterAll(async () => {
    for (const l of leaves) await l.stop();
    await c?.stop();
    for (const h of homes) rmSync(h, { recursive: true, force: true });
    if (c) rmSync(c.home, { recursive: true, force: true });
  });

  it('a unicast frame to the other member\'s MAC arrives whole, with our MAC as its source', async () => {
    const got = new Promise<Uint8Array>((resolve) => eth[1].once('frame', resolve));
    eth[0].send(ethernet(eth[1].mac, eth[0].mac, 'hello over zerotier'));
    const f = await got;
    expect(Buffer.from(f.subarray(0, 6))).toEqual(Buffer.from(macToBytes(eth[1].mac)));
    expect(Buffer.from(f.subarray(6, 12))).toEqual(Buffer.from(macToBytes(eth[0].mac)));
    expect(Buffer.from(f.subarray(14)).toString()).toBe('hello over zerotier');
  });

  it('a broadcast frame reaches the other member (gathered from the root, sent as MULTICAST_FRAME)', async () => {
    const got = new Promise<Uint8Array>((resolve) => eth[0].once('frame', resolve));
    eth[1].send(ethernet(0xffff_ffff_ffff, eth[1].mac, 'to everyone'));
    const f = await got;
    expect(Buffer.from(f.subarray(0, 6)).toString('hex')).toBe('ffffffffffff');
    expect(Buffer.from(f.subarray(14)).toString()).toBe('to everyone');
  });

  it('frames with another source MAC, or too short to be Ethernet, are not sent', async () => {
    let arrived = 0;
    eth[1].on('frame', () => arrived++);
    eth[0].send(ethernet(eth[1].mac, 0x02_1234_5678_9a, 'spoofed'));
    eth[0].send(new Uint8Array(5));
    const control = new Promise<Uint8Array>((resolve) => eth[1].once('frame', resolve));
    eth[0].send(ethernet(eth[1].mac, eth[0].mac, 'control'));
    expect(Buffer.from((await control).subarray(14)).toString()).toBe('control');
    expect(arrived).toBe(1);
  });
});
