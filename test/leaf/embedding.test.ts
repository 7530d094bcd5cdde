// The leaf embedded in a Node program (`ethernet: 'frames'`, the libzt-style API): two LeafNodes
// over loopback join a network of a `root --controller`, and the programs exchange Ethernet frames
// with leaf.ethernet(nwid) — unicast to a member's MAC as FRAME, broadcast as MULTICAST_FRAME to
// the subscribers the root gathers — through the same rules and COM checks a TAP's frames pass.
// Nothing touches the host's interfaces. Run once per UDP transport.

import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VirtualEthernet } from '../../src/leaf/virtual-ethernet.ts';
import { macToBytes } from '../../src/wire/mac.ts';
import { ControllerLab } from '../../tools/lab/controller-lab.ts';
import { ethernetFrame } from '../../tools/lab/ethernet.ts';
import { captureExchange } from '../controller/capture-exchange.ts';
import { startControllerRoot, type ControllerRoot } from '../controller/harness.ts';

const x = captureExchange();
const members = [...x.members.values()];

// Both UDP transports carry the same frames: the batch addon (the default where it loads) and
// plain dgram (what a leaf without the native addons uses).
describe.each(['auto', 'off'] as const)('a leaf embedded in a program: Ethernet frames without a TAP device (nativeUdp %s)', (nativeUdp) => {
  let c: ControllerRoot;
  let lab: ControllerLab;
  let eth: VirtualEthernet[];

  beforeAll(async () => {
    c = await startControllerRoot({ identity: x.controller });
    lab = await ControllerLab.create({
      root: x.controller, endpoint: c.endpoint, api: c.apiJson, planetId: 0x7a7a_0000_e4b1n, network: { name: 'embedded', subnet: '10.147.19' },
    });
    for (const identity of members) await lab.addLeaf(identity, { pingIntervalMs: 100, nativeUdp });
    eth = await lab.configured();
  });

  afterAll(async () => {
    await lab?.stop();
    await c?.stop();
    if (c) rmSync(c.home, { recursive: true, force: true });
  });

  it('a unicast frame to the other member\'s MAC arrives whole, with our MAC as its source', async () => {
    const got = new Promise<Uint8Array>((resolve) => eth[1].once('frame', resolve));
    eth[0].send(ethernetFrame(eth[1].mac, eth[0].mac, 'hello over zerotier'));
    const f = await got;
    expect(Buffer.from(f.subarray(0, 6))).toEqual(Buffer.from(macToBytes(eth[1].mac)));
    expect(Buffer.from(f.subarray(6, 12))).toEqual(Buffer.from(macToBytes(eth[0].mac)));
    expect(Buffer.from(f.subarray(14)).toString()).toBe('hello over zerotier');
  });

  it('a broadcast frame reaches the other member (gathered from the root, sent as MULTICAST_FRAME)', async () => {
    const got = new Promise<Uint8Array>((resolve) => eth[0].once('frame', resolve));
    eth[1].send(ethernetFrame(0xffff_ffff_ffff, eth[1].mac, 'to everyone'));
    const f = await got;
    expect(Buffer.from(f.subarray(0, 6)).toString('hex')).toBe('ffffffffffff');
    expect(Buffer.from(f.subarray(14)).toString()).toBe('to everyone');
  });

  it('frames with another source MAC, or too short to be Ethernet, are not sent', async () => {
    let arrived = 0;
    eth[1].on('frame', () => arrived++);
    eth[0].send(ethernetFrame(eth[1].mac, 0x02_1234_5678_9a, 'spoofed'));
    eth[0].send(new Uint8Array(5));
    const control = new Promise<Uint8Array>((resolve) => eth[1].once('frame', resolve));
    eth[0].send(ethernetFrame(eth[1].mac, eth[0].mac, 'control'));
    expect(Buffer.from((await control).subarray(14)).toString()).toBe('control');
    expect(arrived).toBe(1);
  });
});
