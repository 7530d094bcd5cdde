// OK (verb 0x03, docs/protocol/04-verbs.md §3): the generic in-re header and the replies a root, leaf or
// controller needs, selected by the in-re verb. Each reply's codec lives with the verb it answers.

import { ByteReader, ByteWriter } from '../byte-cursor.ts';
import { IN_RE_HEADER_LENGTH, Verb } from '../constants.ts';
import type { Decoded } from '../decode-result.ts';
import { decodeOkEcho, encodeOkEcho, type OkEcho } from './echo.ts';
import { decodeOkExtFrame, encodeOkExtFrame, type OkExtFrame } from './ext-frame.ts';
import { decodeOkHello, encodeOkHello, type OkHello } from './hello.ts';
import { decodeOkMulticastFrame, encodeOkMulticastFrame, type OkMulticastFrame } from './multicast-frame.ts';
import { decodeOkMulticastGather, encodeOkMulticastGather, type OkMulticastGather } from './multicast-gather.ts';
import {
  decodeOkNetworkConfigRequest, encodeConfigChunk, encodeOkNetworkConfigRequest, type OkNetworkConfigRequest,
} from './network-config.ts';
import { decodeOkWhois, encodeOkWhois, type OkWhois } from './whois.ts';
import { result, writeInRe } from './common.ts';

export interface OkHeader {
  readonly inReVerb: number;
  /** Exactly as seen on the wire (1.14 matches only its upper 32 bits against recent sends). */
  readonly inRePacketId: bigint;
  /** Everything after the in-re header (a view). */
  readonly body: Uint8Array;
}

export function decodeOkHeader(payload: Uint8Array): Decoded<OkHeader> {
  const r = new ByteReader(payload);
  const inReVerb = r.u8();
  const inRePacketId = r.u64();
  return result(r, { inReVerb, inRePacketId, body: r.rest() });
}

/** An OK with an arbitrary body (the per-verb encoders build the known ones). */
export function encodeOk(inReVerb: number, inRePacketId: bigint, body: Uint8Array): Uint8Array {
  const w = new ByteWriter(IN_RE_HEADER_LENGTH + body.length);
  writeInRe(w, inReVerb, inRePacketId);
  return w.bytes(body).finish();
}

export type OkMessage =
  | { readonly inRe: 'HELLO'; readonly value: OkHello }
  | { readonly inRe: 'WHOIS'; readonly value: OkWhois }
  /** Also how a member acknowledges NETWORK_CONFIG (see decodeNetworkConfigAck). */
  | { readonly inRe: 'ECHO'; readonly value: OkEcho }
  | { readonly inRe: 'EXT_FRAME'; readonly value: OkExtFrame }
  | { readonly inRe: 'NETWORK_CONFIG_REQUEST'; readonly value: OkNetworkConfigRequest }
  | { readonly inRe: 'MULTICAST_GATHER'; readonly value: OkMulticastGather }
  | { readonly inRe: 'MULTICAST_FRAME'; readonly value: OkMulticastFrame }
  /** Any other in-re verb: header and raw body. */
  | { readonly inRe: 'OTHER'; readonly value: OkHeader };

function tagged<K extends OkMessage['inRe'], V>(inRe: K, d: Decoded<V>): Decoded<OkMessage> {
  return d.ok ? { ok: true, value: { inRe, value: d.value } as OkMessage } : d;
}

/** Decode an OK payload, parsing the body according to the in-re verb. */
export function decodeOk(payload: Uint8Array): Decoded<OkMessage> {
  const header = decodeOkHeader(payload);
  if (!header.ok) return header;
  switch (header.value.inReVerb) {
    case Verb.HELLO: return tagged('HELLO', decodeOkHello(payload));
    case Verb.WHOIS: return tagged('WHOIS', decodeOkWhois(payload));
    case Verb.ECHO: return tagged('ECHO', decodeOkEcho(payload));
    case Verb.EXT_FRAME: return tagged('EXT_FRAME', decodeOkExtFrame(payload));
    case Verb.NETWORK_CONFIG_REQUEST: return tagged('NETWORK_CONFIG_REQUEST', decodeOkNetworkConfigRequest(payload));
    case Verb.MULTICAST_GATHER: return tagged('MULTICAST_GATHER', decodeOkMulticastGather(payload));
    case Verb.MULTICAST_FRAME: return tagged('MULTICAST_FRAME', decodeOkMulticastFrame(payload));
    default: return tagged('OTHER', header);
  }
}

/** Encode any OK message (the inverse of decodeOk). */
export function encodeOkMessage(m: OkMessage): Uint8Array {
  switch (m.inRe) {
    case 'HELLO': return encodeOkHello(m.value);
    case 'WHOIS': return encodeOkWhois(m.value);
    case 'ECHO': return encodeOkEcho(m.value);
    case 'EXT_FRAME': return encodeOkExtFrame(m.value);
    case 'NETWORK_CONFIG_REQUEST': return encodeOkNetworkConfigRequest(m.value.inRePacketId, encodeConfigChunk(m.value.chunk));
    case 'MULTICAST_GATHER': return encodeOkMulticastGather(m.value);
    case 'MULTICAST_FRAME': return encodeOkMulticastFrame(m.value);
    case 'OTHER': return encodeOk(m.value.inReVerb, m.value.inRePacketId, m.value.body);
  }
}
