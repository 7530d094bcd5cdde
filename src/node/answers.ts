// ECHO and WHOIS answers (04-verbs.md §3, §5), which every role gives.

import type { Identity } from '../identity/identity.ts';
import { Verb } from '../wire/constants.ts';
import { decodeEcho, encodeOkEcho } from '../wire/verbs/echo.ts';
import { decodeWhois, encodeOkWhois } from '../wire/verbs/whois.ts';
import type { Inbound, Node } from './node.ts';
import type { Peer } from './peer.ts';

export function answerEcho(node: Node, peer: Peer, payload: Uint8Array, inbound: Inbound, now: number): void {
  if (now - peer.lastEchoReplyMs < (node.options.echoReplySpacingMs ?? 0)) return node.stats.drop('rate-limited');
  peer.lastEchoReplyMs = now;
  const echo = decodeEcho(payload);
  if (!echo.ok) return node.stats.drop('bad-payload');
  node.reply(peer, inbound, Verb.OK, encodeOkEcho({ inRePacketId: inbound.packetId, payload: echo.value.payload }));
}

/** Every requested identity we hold — peers, the cache and ourselves — in one OK(WHOIS). */
export function answerWhois(node: Node, peer: Peer, payload: Uint8Array, inbound: Inbound, maxAddresses = 64): void {
  const req = decodeWhois(payload);
  if (!req.ok) return node.stats.drop('bad-payload');
  const found: Identity[] = [];
  for (const a of req.value.addresses.slice(0, maxAddresses)) {
    const id = a === node.address ? node.identity.publicOnly() : (node.peers.get(a)?.identity ?? node.store.get(a));
    if (id) found.push(id);
  }
  if (found.length === 0) return;
  node.reply(peer, inbound, Verb.OK, encodeOkWhois({ inRePacketId: inbound.packetId, identities: found }));
}
