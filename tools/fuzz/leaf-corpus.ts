// Hostile datagrams for a leaf's networks (issue 11's bad input): valid-MAC packets from peers the
// leaf knows that carry network configs, credentials and frames it must refuse — for networks it
// has not joined, from peers that are not the controller or not members, badly signed, malformed,
// oversized. With the controller's secret (a campaign that set up the controller itself), some come
// "from the controller" with signatures that do not verify or configs that do not decode.

import type { Identity } from '../../src/identity/identity.ts';
import { Cipher, Verb } from '../../src/wire/constants.ts';
import { createCom, signCom } from '../../src/wire/credentials/com.ts';
import { signRevocation } from '../../src/wire/credentials/revocation.ts';
import { markFragmentedIfNeeded, splitPacket } from '../../src/wire/fragment.ts';
import { newPacket } from '../../src/wire/packet.ts';
import type { PeerKey } from '../../src/wire/peer-key.ts';
import { encodeError } from '../../src/wire/verbs/error.ts';
import { encodeExtFrame } from '../../src/wire/verbs/ext-frame.ts';
import { encodeFrame } from '../../src/wire/verbs/frame.ts';
import { encodeMulticastFrame } from '../../src/wire/verbs/multicast-frame.ts';
import { encodeNetworkCredentials } from '../../src/wire/verbs/network-credentials.ts';
import { encodeOkNetworkConfigRequest, signConfigChunks } from '../../src/wire/verbs/network-config.ts';
import { armor } from '../../src/wire/armor.ts';
import { keyBetween } from './peers.ts';
import type { Rng } from './rng.ts';

/** The network the leaf under attack has joined. */
export interface NetworkContext {
  nwid: bigint;
  /** The controller's identity; with its secret, packets can come from it (see above). */
  controller: Identity;
  mtu: number;
}

export interface Keyed { identity: Identity; key: PeerKey }

/** A packet from `from` to `to`, armored (fragmented when longer than one datagram). */
function sealed(rng: Rng, from: Keyed, to: Identity, verb: number, payload: Uint8Array): Uint8Array[] {
  const p = newPacket({ id: rng.bytes(8), destination: to.address, source: from.identity.address, verb, payload });
  markFragmentedIfNeeded(p);
  armor(p, from.key, rng.chance(0.8) ? Cipher.poly1305Salsa2012 : Cipher.poly1305None);
  try {
    return splitPacket(p).map((d) => Uint8Array.from(d));
  } catch {
    return [p]; // more than 7 pieces: whole (loopback carries it)
  }
}

export class LeafCorpus {
  private readonly leaf: Identity;
  private readonly net: NetworkContext;
  /** The controller as a sender, when its secret is known. */
  private readonly asController: Keyed | undefined;

  constructor(leaf: Identity, net: NetworkContext) {
    this.leaf = leaf;
    this.net = net;
    this.asController = net.controller.hasPrivate ? { identity: net.controller, key: keyBetween(net.controller, leaf) } : undefined;
  }

  private otherNetwork(rng: Rng): bigint {
    return (BigInt(rng.u32()) << 32n) | BigInt(rng.u32());
  }

  private someNetwork(rng: Rng): bigint {
    return rng.chance(0.5) ? this.net.nwid : this.otherNetwork(rng);
  }

  /** NETWORK_CONFIG and OK(NETWORK_CONFIG_REQUEST): random, for unknown networks, signed by the wrong key, lying. */
  config(rng: Rng, k: Keyed): Uint8Array[] {
    const signer = rng.chance(0.5) ? k.identity : this.net.controller;
    const nwid = this.someNetwork(rng);
    const dictionary = rng.bytes(rng.range(1, 3000));
    let chunks = signConfigChunks(nwid, dictionary, signer.hasPrivate ? signer : k.identity, { updateId: BigInt(rng.u32()) + 1n });
    const chunk = Uint8Array.from(rng.pick(chunks));
    switch (rng.int(4)) {
      case 0: chunk[rng.int(chunk.length)] ^= 1 << rng.int(8); break; // signature or body broken
      case 1: chunks = [rng.bytes(rng.int(200))]; break; // not a chunk
      default: break;
    }
    const body = chunks.length === 1 && chunks[0].length < 200 ? chunks[0] : chunk;
    const from = this.asController && rng.chance(0.4) ? this.asController : k;
    const asOk = rng.chance(0.3);
    return sealed(rng, from, this.leaf, asOk ? Verb.OK : Verb.NETWORK_CONFIG, asOk ? encodeOkNetworkConfigRequest(BigInt(rng.u32()), body) : body);
  }

  /** NETWORK_CREDENTIALS: COMs and revocations signed by the sender (forged), for unknown networks, or random. */
  credentials(rng: Rng, k: Keyed): Uint8Array[] {
    if (rng.chance(0.15)) return sealed(rng, k, this.leaf, Verb.NETWORK_CREDENTIALS, rng.bytes(rng.int(400)));
    const coms = Array.from({ length: rng.range(1, 3) }, () => {
      return signCom(createCom(BigInt(Date.now()), 7_200_000n, this.someNetwork(rng), k.identity), k.identity);
    });
    const revocations = rng.chance(0.3) ? [signRevocation({
      id: rng.u32(), networkId: this.someNetwork(rng), credentialId: 0, threshold: BigInt(Date.now()), flags: 0n,
      target: rng.pick([this.leaf.address, k.identity.address]), credentialType: 1,
    }, k.identity)] : [];
    const payload = encodeNetworkCredentials({ coms, revocations });
    return sealed(rng, k, this.leaf, Verb.NETWORK_CREDENTIALS, rng.chance(0.2) ? payload.subarray(0, rng.int(payload.length)) : payload);
  }

  /** FRAME, EXT_FRAME, MULTICAST_FRAME: unknown networks, from a non-member, oversized, malformed. */
  frames(rng: Rng, k: Keyed): Uint8Array[] {
    const networkId = this.someNetwork(rng);
    const size = rng.chance(0.25) ? rng.range(this.net.mtu + 1, 9000) : rng.int(1500);
    const payload = rng.bytes(size);
    const etherType = rng.pick([0x0800, 0x0806, 0x86dd, 0x88b5, rng.int(0x10000)]);
    const mac = (): number => rng.u32() * 256 + rng.int(256);
    let body: Uint8Array;
    let verb: number;
    switch (rng.int(3)) {
      case 0: verb = Verb.FRAME; body = encodeFrame({ networkId, etherType, payload }); break;
      case 1: verb = Verb.EXT_FRAME; body = encodeExtFrame({ networkId, flags: 0, destinationMac: mac(), sourceMac: mac(), etherType, payload }); break;
      default: verb = Verb.MULTICAST_FRAME; body = encodeMulticastFrame({ networkId, flags: 0, group: { mac: 0xffff_ffff_ffff, adi: 0 }, etherType, payload }); break;
    }
    if (rng.chance(0.15)) body = body.subarray(0, rng.int(Math.min(body.length, 40))); // malformed: cut short
    return sealed(rng, k, this.leaf, verb, body);
  }

  /** ERROR(NETWORK_CONFIG_REQUEST) for networks: from a non-controller, or for networks not joined. */
  errors(rng: Rng, k: Keyed): Uint8Array[] {
    const from = this.asController && rng.chance(0.5) ? this.asController : k;
    const nwid = from === k ? this.net.nwid : this.otherNetwork(rng);
    return sealed(rng, from, this.leaf, Verb.ERROR, encodeError({ inReVerb: Verb.NETWORK_CONFIG_REQUEST, inRePacketId: BigInt(rng.u32()), errorCode: rng.pick([6, 7, 5]), networkId: nwid }));
  }
}
