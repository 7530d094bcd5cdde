// End to end over loopback: three embedded leaves ('frames' Ethernet) on a private network of a
// `root --controller`, whose rules accept a frame only between members with the same "team" tag
// (MATCH_TAGS_DIFFERENCE 0), the tags set per member through the controller API. The members push
// their tags to each other (NETWORK_CREDENTIALS), so A and B (team 1) talk while C (team 2) is
// dropped by the receiver's rules. Then a TEE rule sends copies of A→B frames to C (from A as
// sender, from B as receiver), a WATCH rule's truncated copies are acknowledged, and a REDIRECT
// rule sends them to C instead of B.

import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatAddress } from '../../src/identity/address.ts';
import { generateIdentity } from '../../src/identity/identity.ts';
import type { LeafNode } from '../../src/leaf/leaf-node.ts';
import type { VirtualEthernet } from '../../src/leaf/virtual-ethernet.ts';
import { Verb } from '../../src/wire/constants.ts';
import { ControllerLab } from '../../tools/lab/controller-lab.ts';
import { ethernetFrame, LAB_ETHERTYPE } from '../../tools/lab/ethernet.ts';
import { until } from '../../tools/lab/until.ts';
import { captureExchange } from '../controller/capture-exchange.ts';
import { startControllerRoot, type ControllerRoot } from '../controller/harness.ts';

const x = captureExchange();
const TEAM = 100;

describe('tag rules, TEE and REDIRECT between three members of a root --controller network', () => {
  let c: ControllerRoot;
  let lab: ControllerLab;
  let leaves: LeafNode[];
  let eth: VirtualEthernet[];
  /** Text of every frame each member's program received, with the frame's destination MAC. */
  const got: { text: string; to: number }[][] = [[], [], []];
  let nwid: bigint;
  let nwHex: string;
  const sameTeamRules = (before: unknown[] = []): unknown[] => [
    ...before, { type: 'MATCH_TAGS_DIFFERENCE', id: TEAM, value: 0 }, { type: 'ACTION_ACCEPT' }, { type: 'ACTION_DROP' },
  ];

  async function setRules(rules: unknown[]): Promise<void> {
    const before = leaves.map((l) => l.member.networks.get(nwid)!.config!.revision);
    await c.api('POST', `/controller/network/${nwHex}`, { rules });
    await until('the new rules at every member', () => leaves.every((l, i) => l.member.networks.get(nwid)!.config!.revision > before[i]));
  }

  beforeAll(async () => {
    c = await startControllerRoot({ identity: x.controller });
    lab = await ControllerLab.create({
      root: x.controller, endpoint: c.endpoint, api: c.apiJson, planetId: 0x7a7a_0000_7a95n,
      network: { name: 'teams', subnet: '10.147.21', rules: sameTeamRules() },
    });
    ({ nwid, networkId: nwHex, leaves } = lab);
    for (const [i, identity] of [...x.members.values(), generateIdentity()].entries()) {
      await lab.addLeaf(identity, { pingIntervalMs: 100 }, { tags: [[TEAM, i < 2 ? 1 : 2]] });
    }
    eth = await lab.configured();
    for (const [i, e] of eth.entries()) {
      e.on('frame', (f: Uint8Array) => {
        if (((f[12] << 8) | f[13]) !== LAB_ETHERTYPE) return;
        got[i].push({ text: Buffer.from(f.subarray(14)).toString(), to: Number(BigInt('0x' + Buffer.from(f.subarray(0, 6)).toString('hex'))) });
      });
    }
    for (const [i, leaf] of leaves.entries()) expect(leaf.member.networks.get(nwid)!.config!.tags.map((t) => [t.id, t.value])).toEqual([[TEAM, i < 2 ? 1 : 2]]);
  }, 60_000);

  afterAll(async () => {
    await lab?.stop();
    await c?.stop();
    if (c) rmSync(c.home, { recursive: true, force: true });
  });

  const received = (i: number, text: string): boolean => got[i].some((g) => g.text === text);

  it('members of the same team talk both ways, each holding the other\'s tag', async () => {
    eth[0].send(ethernetFrame(eth[1].mac, eth[0].mac, 'a to b'));
    await until('B gets A\'s frame', () => received(1, 'a to b'));
    eth[1].send(ethernetFrame(eth[0].mac, eth[1].mac, 'b to a'));
    await until('A gets B\'s frame', () => received(0, 'b to a'));
    const n0 = leaves[0].member.networks.get(nwid)!;
    expect(leaves[0].member.remoteOf(n0, leaves[1].address).getTag(n0.config!, TEAM)?.value).toBe(1);
  });

  it('a member of another team is dropped by the receiver\'s rules, once it has shown its tag', async () => {
    const droppedBefore = leaves[0].frames.dropped.inbound;
    eth[2].send(ethernetFrame(eth[0].mac, eth[2].mac, 'c to a'));
    await until('A\'s rules drop C\'s frame', () => leaves[0].frames.dropped.inbound > droppedBefore);
    const n0 = leaves[0].member.networks.get(nwid)!;
    expect(leaves[0].member.remoteOf(n0, leaves[2].address).getTag(n0.config!, TEAM)?.value).toBe(2);
    // A, now holding C's tag, does not even send to C
    const aDropped = leaves[0].frames.dropped.outbound;
    eth[0].send(ethernetFrame(eth[2].mac, eth[0].mac, 'a to c'));
    await until('A\'s rules drop its frame to C', () => leaves[0].frames.dropped.outbound > aDropped);
    expect(received(0, 'c to a') || received(2, 'a to c')).toBe(false);
  });

  it('a TEE rule copies A→B frames to C, from A (outbound) and from B (inbound), and C takes them whatever their MAC', async () => {
    const C = formatAddress(leaves[2].address);
    await setRules(sameTeamRules([{ type: 'ACTION_TEE', address: C, length: 0, flags: 0 }]));
    // the first copies may meet C before A's and B's credentials do (1.14 pushes none with a
    // copy): C asks for them and later copies pass, so send until C holds both and has a copy
    let k = 0;
    const nC = leaves[2].member.networks.get(nwid)!;
    await until('a copy at C, and C holding A\'s and B\'s COMs', () => {
      eth[0].send(ethernetFrame(eth[1].mac, eth[0].mac, `teed ${k++}`));
      return got[2].some((g) => g.text.startsWith('teed')) && leaves[2].member.accepts(nC, leaves[0].address) && leaves[2].member.accepts(nC, leaves[1].address);
    });
    expect(got[2].find((g) => g.text.startsWith('teed'))!.to).toBe(eth[1].mac);
    await until('B gets the frames too', () => received(1, 'teed 0'));
    const last = `teed last`;
    eth[0].send(ethernetFrame(eth[1].mac, eth[0].mac, last));
    // two copies: A's (TEE outbound) and B's (TEE inbound)
    await until('two copies of one frame at C', () => got[2].filter((g) => g.text === last).length === 2);
  });

  it('a WATCH rule\'s copies ask for an ACK: C answers A with OK(EXT_FRAME)', async () => {
    const C = formatAddress(leaves[2].address);
    await setRules(sameTeamRules([{ type: 'ACTION_WATCH', address: C, length: 8, flags: 0 }]));
    // (A drops the OK as 1.14 does, expecting no reply: count what C sends)
    let acks = 0;
    const node = leaves[2].leaf.node;
    const send = node.send.bind(node);
    node.send = ((peer, verb, payload, ...rest) => {
      if (peer.address === leaves[0].address && verb === Verb.OK && payload[0] === Verb.EXT_FRAME) acks++;
      return send(peer, verb, payload, ...rest);
    }) as typeof node.send;
    let k = 0;
    await until('an OK(EXT_FRAME) from C', () => {
      eth[0].send(ethernetFrame(eth[1].mac, eth[0].mac, `watched ${k++}`));
      return acks > 0;
    });
    // the copies carry the first 8 bytes of the payload only
    expect(got[2].some((g) => g.text === 'watched ')).toBe(true);
  });

  it('a REDIRECT rule sends A→B frames to C instead of B', async () => {
    const C = formatAddress(leaves[2].address);
    await setRules(sameTeamRules([{ type: 'ACTION_REDIRECT', address: C, flags: 0 }]));
    const text = 'redirected';
    eth[0].send(ethernetFrame(eth[1].mac, eth[0].mac, text));
    await until('the frame at C', () => received(2, text));
    eth[1].send(ethernetFrame(eth[0].mac, eth[1].mac, 'b to a, redirected too'));
    await until('B\'s frame to A at C', () => received(2, 'b to a, redirected too'));
    expect(received(1, text) || received(0, 'b to a, redirected too')).toBe(false);
  });
});
