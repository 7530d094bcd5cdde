// CI gate for the leaf's part of the campaign (tools/fuzz/leaf.ts; issue 11's bad input): a leaf
// joined to a private network of a spawned `root --controller` gets hostile datagrams of every
// category — network configs, credentials, frames and errors it must refuse among them — and junk
// on its Ethernet side. It must count each kind by reason, hit no internal error, log no error,
// keep answering known peers, and afterwards still reach its root and carry a frame to a member.

import { expect, it } from 'vitest';
import { formatLeafReport, leafFailures, runLeafCampaign } from '../../tools/fuzz/leaf.ts';

it('a leaf on a network: 10k hostile datagrams and 2.5k junk frames, counted by reason; it stays up and still carries frames', async () => {
  const r = await runLeafCampaign({ packets: 10_000, ethernetFrames: 2500, seed: 14, rate: 4000, socketsPerCategory: 4 });
  console.log(formatLeafReport(r));
  expect(leafFailures(r)).toEqual([]);
  for (const c of ['network-config', 'network-credentials', 'network-frames', 'network-errors', 'verb-malformed', 'random'] as const) {
    expect(r.datagrams.categories[c].sent, c).toBeGreaterThan(300);
  }
  for (const reason of [
    'unknown-network', 'not-controller', 'bad-signature', 'bad-config', 'not-member', 'bad-payload', 'bad-mac', // from peers
    'frame-too-short', 'foreign-source-mac', 'frame-too-big', 'whois-limited', // from the Ethernet side
  ]) expect(r.drops[reason] ?? 0, reason).toBeGreaterThan(0);
  // junk from the host side costs the network little: a WHOIS or a GATHER now and then, no storm
  expect(r.ethernet.datagramsOutPerFrame).toBeLessThan(2);
}, 120_000);
