// Known answer: the configs the 1.14.1 controller of the lab capture sent its two members,
// rebuilt by our config builder from the same records at the same timestamps. ZeroTier's
// signatures are deterministic, so the dictionaries (COM and COO signatures included) must be
// byte for byte what 1.14.1 sent.

import { describe, expect, it } from 'vitest';
import { buildNetworkConfig } from '../../src/controller/config-builder.ts';
import type { JsonObject } from '../../src/controller/json-values.ts';
import { initMember, setMemberKeys } from '../../src/controller/records.ts';
import type { NetworkSummary } from '../../src/controller/store.ts';
import { Verb } from '../../src/wire/constants.ts';
import { formatInetAddress } from '../../src/wire/inet-address.ts';
import { comAgreesWith, comIsSignedByController, verifyCom } from '../../src/wire/credentials/com.ts';
import { verifyCoo } from '../../src/wire/credentials/coo.ts';
import { decodeConfigRequestMetadata } from '../../src/wire/netconf/metadata.ts';
import { decodeNetworkConfig, encodeNetworkConfig, type NetworkConfig } from '../../src/wire/netconf/network-config.ts';
import { decodeNetworkConfigRequest } from '../../src/wire/verbs/network-config-request.ts';
import { decodeConfigChunk, signConfigChunks, verifyConfigChunk } from '../../src/wire/verbs/network-config.ts';
import { captureExchange, isOkConfig, type ControllerPacket } from './capture-exchange.ts';

const NWID = 0x67960034a23505e0n;

interface SentConfig { packet: ControllerPacket; dictionary: Uint8Array; config: NetworkConfig; updateId: bigint }

function sentConfigs(): SentConfig[] {
  const x = captureExchange();
  return x.packets.filter((p) => p.source === x.controller.address && (isOkConfig(p) || p.verb === Verb.NETWORK_CONFIG)).map((packet) => {
    const chunk = decodeConfigChunk(isOkConfig(packet) ? packet.payload.subarray(9) : packet.payload);
    if (!chunk.ok || !chunk.value.signed) throw new Error('captured chunk does not decode');
    expect(verifyConfigChunk(chunk.value, x.controller)).toBe(true);
    expect(chunk.value.signed.totalLength).toBe(chunk.value.data.length);
    const config = decodeNetworkConfig(chunk.value.data);
    if (!config.ok) throw new Error(config.error);
    return { packet, dictionary: chunk.value.data, config: config.value, updateId: chunk.value.signed.updateId };
  });
}

/** The member record as it stood before its first successful request: authorized through the API, no IP yet. */
function memberBefore(address: number): JsonObject {
  const m = initMember({}, 0);
  setMemberKeys(m, NWID, address);
  m.authorized = true;
  return m;
}

function summaryWith(ips: string[]): NetworkSummary {
  return { allocatedIps: new Map(ips.map((ip) => [ip, 1])), activeBridges: new Set(), authorizedCount: 2 };
}

describe('config builder against the 1.14.1 capture', () => {
  const x = captureExchange();
  const sent = sentConfigs();
  const metadata = (() => {
    const req = x.packets.find((p) => p.verb === Verb.NETWORK_CONFIG_REQUEST)!;
    const d = decodeNetworkConfigRequest(req.payload);
    if (!d.ok) throw new Error(d.error);
    return decodeConfigRequestMetadata(d.value.metadata);
  })();

  it('finds two answered requests and two pushes, one per member each', () => {
    expect(sent.map((s) => [isOkConfig(s.packet) ? 'OK' : 'NETWORK_CONFIG', s.packet.destination.toString(16)])).toEqual([
      ['OK', '99dfbd68a5'], ['NETWORK_CONFIG', '99dfbd68a5'], ['OK', '83918796b6'], ['NETWORK_CONFIG', '83918796b6'],
    ]);
  });

  for (const [i, label] of [[0, 'b answered'], [1, 'b pushed'], [2, 'a answered'], [3, 'a pushed']] as const) {
    it(`rebuilds the config sent to ${label} byte for byte`, () => {
      const s = sent[i];
      const identity = x.members.get(s.packet.destination)!;
      const member = memberBefore(identity.address);
      // the push follows the answer, after the request saved the assigned IP
      if (i === 1) member.ipAssignments = ['10.147.17.31'];
      if (i === 3) member.ipAssignments = ['10.147.17.32'];
      const allocated = i >= 2 ? ['10.147.17.31', ...(i === 3 ? ['10.147.17.32'] : [])] : i === 1 ? ['10.147.17.31'] : [];
      const ours = buildNetworkConfig({
        nwid: NWID, network: structuredClone(x.network) as JsonObject, member, newMember: false, identity: identity.publicOnly(),
        metadata, summary: summaryWith(allocated), signer: x.controller, nowMs: Number(s.config.timestamp),
      });
      expect(ours.staticIps.map(formatInetAddress)).toEqual(s.config.staticIps.map(formatInetAddress));
      expect(member.ipAssignments).toEqual([i <= 1 ? '10.147.17.31' : '10.147.17.32']);
      expect(Buffer.from(encodeNetworkConfig(ours)).toString('latin1')).toBe(Buffer.from(s.dictionary).toString('latin1'));

      // the same chunk bytes given the captured update ID
      const [chunk] = signConfigChunks(NWID, encodeNetworkConfig(ours), x.controller, { updateId: s.updateId });
      const captured = isOkConfig(s.packet) ? s.packet.payload.subarray(9) : s.packet.payload;
      expect(Buffer.from(chunk).toString('hex')).toBe(Buffer.from(captured).toString('hex'));
    });
  }

  it('issues COMs and COOs that verify under the controller key and that the other member accepts', () => {
    const controllerPublic = x.controller.publicOnly();
    const byMember = new Map(sent.filter((s) => isOkConfig(s.packet)).map((s) => [s.packet.destination, s.config]));
    for (const [address, config] of byMember) {
      expect(verifyCom(config.com!, controllerPublic)).toBe(true);
      expect(comIsSignedByController(config.com!)).toBe(true);
      expect(verifyCoo(config.certificatesOfOwnership[0], controllerPublic)).toBe(true);
      for (const [other, otherConfig] of byMember) {
        if (other === address) continue;
        expect(comAgreesWith(otherConfig.com!, config.com!, x.members.get(address)!.publicOnly())).toBe(true);
      }
    }
  });
});
