// NETWORK_CONFIG_REQUEST (verb 0x0b, docs/protocol/04-verbs.md §12): a member asks the controller (address
// nwid >> 24) for the network's configuration. The controller answers with OK(in-re 0x0b)
// carrying config chunks (config-chunk.ts) or with an ERROR (error.ts).

import { ByteReader, ByteWriter } from '../byte-cursor.ts';
import type { Decoded } from '../decode-result.ts';
import { result } from './common.ts';

export interface NetworkConfigRequest {
  readonly networkId: bigint;
  /**
   * Metadata dictionary bytes (07-network-config-controller.md §2; parse with Dictionary); a view
   * when decoded. Empty if absent.
   */
  readonly metadata: Uint8Array;
  /** Revision and timestamp of the config the member already has (0 if none); absent from old senders. */
  readonly haveRevision?: bigint;
  readonly haveTimestamp?: bigint;
}

export function encodeNetworkConfigRequest(m: NetworkConfigRequest): Uint8Array {
  const w = new ByteWriter(26 + m.metadata.length);
  w.u64(m.networkId).u16(m.metadata.length).bytes(m.metadata);
  w.u64(m.haveRevision ?? 0n).u64(m.haveTimestamp ?? 0n);
  return w.finish();
}

/** Only the network ID is required; the metadata and the revision/timestamp pair are read when present. */
export function decodeNetworkConfigRequest(payload: Uint8Array): Decoded<NetworkConfigRequest> {
  const r = new ByteReader(payload);
  const networkId = r.u64();
  const metadata = r.remaining >= 2 ? r.view(r.u16()) : new Uint8Array(0);
  const m: NetworkConfigRequest = { networkId, metadata };
  if (r.remaining >= 16) return result(r, { ...m, haveRevision: r.u64(), haveTimestamp: r.u64() });
  return result(r, m);
}

/** The controller's address for a network: its top 40 bits (docs/protocol/04-verbs.md §12). */
export function controllerForNetwork(networkId: bigint): number {
  return Number((networkId >> 24n) & 0xff_ffff_ffffn);
}
