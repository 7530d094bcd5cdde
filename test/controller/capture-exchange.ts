// The controller exchange in the 1.14.1 lab capture (test/fixtures/zerotier-1.14.1/capture-moon-lab.json):
// every packet between the controller `r` and its members `a` and `b`, dearmored with the hosts'
// secrets, with the config requests, answers, pushes and errors picked out.

import { readFileSync } from 'node:fs';
import { parseIdentity, type Identity } from '../../src/identity/identity.ts';
import { parseCaptureJson } from '../../src/wire/capture.ts';
import { uncompressPacket } from '../../src/wire/compression.ts';
import { PacketOffset, Verb } from '../../src/wire/constants.ts';
import { Keyring } from '../../src/wire/keyring.ts';
import { classifyDatagram, packetDestination, packetSource, packetVerb, readPacketId } from '../../src/wire/packet.ts';
import { fixturePath } from '../support/vectors.ts';

export interface ControllerPacket {
  /** Index of the datagram in the capture. */
  readonly index: number;
  /** Seconds since the capture began. */
  readonly t: number;
  readonly source: number;
  readonly destination: number;
  readonly packetId: bigint;
  readonly verb: number;
  /** After the verb byte. */
  readonly payload: Uint8Array;
}

export interface CaptureExchange {
  readonly controller: Identity;
  readonly members: Map<number, Identity>;
  readonly network: Record<string, unknown>;
  readonly memberRecords: Record<string, Record<string, unknown>>;
  /** Every decrypted packet between the controller and a member, in capture order. */
  readonly packets: ControllerPacket[];
}

let cached: CaptureExchange | undefined;

export function captureExchange(): CaptureExchange {
  if (cached) return cached;
  const parsed = parseCaptureJson(readFileSync(fixturePath('capture-moon-lab.json'), 'utf8'));
  if (!parsed.ok) throw new Error(parsed.error);
  const keyring = new Keyring();
  const byName = new Map<string, Identity>();
  for (const h of parsed.capture.hosts) {
    const id = parseIdentity(h.identitySecret);
    if (!id) throw new Error(`bad identity for ${h.name}`);
    keyring.add(id);
    byName.set(h.name, id);
  }
  const controller = byName.get('r')!;
  const members = new Map([byName.get('a')!, byName.get('b')!].map((i) => [i.address, i]));
  const packets: ControllerPacket[] = [];
  parsed.capture.datagrams.forEach((d, index) => {
    if (classifyDatagram(d.data) !== 'packet') return;
    const p = Uint8Array.from(d.data);
    if (!keyring.dearmor(p).ok) return;
    const u = uncompressPacket(p);
    if (!u.ok) return;
    const source = packetSource(u.packet), destination = packetDestination(u.packet);
    if (source !== controller.address && destination !== controller.address) return;
    packets.push({
      index, t: d.t, source, destination, packetId: readPacketId(u.packet), verb: packetVerb(u.packet),
      payload: u.packet.subarray(PacketOffset.payload),
    });
  });
  cached = {
    controller, members, packets,
    network: parsed.capture.extra.network as Record<string, unknown>,
    memberRecords: parsed.capture.extra.members as Record<string, Record<string, unknown>>,
  };
  return cached;
}

export const isOkConfig = (p: ControllerPacket): boolean => p.verb === Verb.OK && p.payload[0] === Verb.NETWORK_CONFIG_REQUEST;
