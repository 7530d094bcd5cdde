// Verb payload codecs (04-verbs.md): one module per verb, and decodeVerbPayload, which picks the
// codec for a verb code. Payloads are the bytes after the 28-byte header (the verb byte is at
// offset 27), already dearmored and decompressed; a HELLO's moon region already de-obscured.
//
// Conventions of every codec here: encoders return a fresh payload; decoders never throw and
// return { ok, value } or { ok: false, error }. In decoded values, variable-length byte fields
// (frame payloads, dictionaries, world bytes, echo data) are views into the input payload — copy
// them to keep them beyond the packet buffer's life; fixed-size fields (IP addresses,
// signatures, keys) are copies. u64 fields are bigints, addresses and MACs numbers.

import { Verb, VerbFlag } from '../constants.ts';
import type { Decoded } from '../decode-result.ts';
import { decodeEcho, encodeEcho, type Echo } from './echo.ts';
import { decodeError, encodeError, type ErrorMessage } from './error.ts';
import { decodeExtFrame, encodeExtFrame, type ExtFrame } from './ext-frame.ts';
import { decodeFrame, encodeFrame, type Frame } from './frame.ts';
import { decodeHello, encodeHello, type Hello } from './hello.ts';
import { decodeMulticastFrame, encodeMulticastFrame, type MulticastFrame } from './multicast-frame.ts';
import { decodeMulticastGather, encodeMulticastGather, type MulticastGather } from './multicast-gather.ts';
import { decodeMulticastLike, encodeMulticastLike, type MulticastLike } from './multicast-like.ts';
import { decodeConfigChunk, encodeConfigChunk, type ConfigChunk } from './network-config.ts';
import { decodeNetworkConfigRequest, encodeNetworkConfigRequest, type NetworkConfigRequest } from './network-config-request.ts';
import { decodeNetworkCredentials, encodeNetworkCredentials, type NetworkCredentials } from './network-credentials.ts';
import { decodeOk, encodeOkMessage, type OkMessage } from './ok.ts';
import { decodePushDirectPaths, encodePushDirectPaths, type PushDirectPaths } from './push-direct-paths.ts';
import { decodeRendezvous, encodeRendezvous, type Rendezvous } from './rendezvous.ts';
import { decodeUserMessage, encodeUserMessage, type UserMessage } from './user-message.ts';
import { decodeWhois, encodeWhois, type Whois } from './whois.ts';

export * from './common.ts';
export * from './echo.ts';
export * from './error.ts';
export * from './ext-frame.ts';
export * from './frame.ts';
export * from './hello.ts';
export * from './multicast-frame.ts';
export * from './multicast-gather.ts';
export * from './multicast-like.ts';
export * from './network-config.ts';
export * from './network-config-request.ts';
export * from './network-credentials.ts';
export * from './ok.ts';
export * from './push-direct-paths.ts';
export * from './rendezvous.ts';
export * from './user-message.ts';
export * from './whois.ts';

export type VerbMessage =
  | { readonly verb: 'NOP' }
  | { readonly verb: 'HELLO'; readonly value: Hello }
  | { readonly verb: 'ERROR'; readonly value: ErrorMessage }
  | { readonly verb: 'OK'; readonly value: OkMessage }
  | { readonly verb: 'WHOIS'; readonly value: Whois }
  | { readonly verb: 'RENDEZVOUS'; readonly value: Rendezvous }
  | { readonly verb: 'FRAME'; readonly value: Frame }
  | { readonly verb: 'EXT_FRAME'; readonly value: ExtFrame }
  | { readonly verb: 'ECHO'; readonly value: Echo }
  | { readonly verb: 'MULTICAST_LIKE'; readonly value: MulticastLike }
  | { readonly verb: 'NETWORK_CREDENTIALS'; readonly value: NetworkCredentials }
  | { readonly verb: 'NETWORK_CONFIG_REQUEST'; readonly value: NetworkConfigRequest }
  | { readonly verb: 'NETWORK_CONFIG'; readonly value: ConfigChunk }
  | { readonly verb: 'MULTICAST_GATHER'; readonly value: MulticastGather }
  | { readonly verb: 'MULTICAST_FRAME'; readonly value: MulticastFrame }
  | { readonly verb: 'PUSH_DIRECT_PATHS'; readonly value: PushDirectPaths }
  | { readonly verb: 'USER_MESSAGE'; readonly value: UserMessage }
  /** Verbs without a codec here (ACK, QOS_MEASUREMENT, REMOTE_TRACE, PATH_NEGOTIATION_REQUEST, unassigned codes). */
  | { readonly verb: 'OTHER'; readonly code: number; readonly payload: Uint8Array };

type WithValue = Extract<VerbMessage, { value: unknown }>;

function tagged<K extends WithValue['verb']>(verb: K, d: Decoded<Extract<WithValue, { verb: K }>['value']>): Decoded<VerbMessage> {
  return d.ok ? { ok: true, value: { verb, value: d.value } as VerbMessage } : d;
}

/**
 * Decode the payload of a packet with the given verb code (the compressed flag, if passed, is
 * ignored). Never throws: malformed payloads give `{ ok: false, error }`.
 */
export function decodeVerbPayload(verb: number, payload: Uint8Array): Decoded<VerbMessage> {
  const code = verb & VerbFlag.verbMask;
  switch (code) {
    case Verb.NOP: return { ok: true, value: { verb: 'NOP' } };
    case Verb.HELLO: return tagged('HELLO', decodeHello(payload));
    case Verb.ERROR: return tagged('ERROR', decodeError(payload));
    case Verb.OK: return tagged('OK', decodeOk(payload));
    case Verb.WHOIS: return tagged('WHOIS', decodeWhois(payload));
    case Verb.RENDEZVOUS: return tagged('RENDEZVOUS', decodeRendezvous(payload));
    case Verb.FRAME: return tagged('FRAME', decodeFrame(payload));
    case Verb.EXT_FRAME: return tagged('EXT_FRAME', decodeExtFrame(payload));
    case Verb.ECHO: return tagged('ECHO', decodeEcho(payload));
    case Verb.MULTICAST_LIKE: return tagged('MULTICAST_LIKE', decodeMulticastLike(payload));
    case Verb.NETWORK_CREDENTIALS: return tagged('NETWORK_CREDENTIALS', decodeNetworkCredentials(payload));
    case Verb.NETWORK_CONFIG_REQUEST: return tagged('NETWORK_CONFIG_REQUEST', decodeNetworkConfigRequest(payload));
    case Verb.NETWORK_CONFIG: return tagged('NETWORK_CONFIG', decodeConfigChunk(payload));
    case Verb.MULTICAST_GATHER: return tagged('MULTICAST_GATHER', decodeMulticastGather(payload));
    case Verb.MULTICAST_FRAME: return tagged('MULTICAST_FRAME', decodeMulticastFrame(payload));
    case Verb.PUSH_DIRECT_PATHS: return tagged('PUSH_DIRECT_PATHS', decodePushDirectPaths(payload));
    case Verb.USER_MESSAGE: return tagged('USER_MESSAGE', decodeUserMessage(payload));
    default: return { ok: true, value: { verb: 'OTHER', code, payload } };
  }
}

/** The verb code of a message (OTHER carries its own). */
export function verbCodeOf(m: VerbMessage): number {
  return m.verb === 'OTHER' ? m.code : Verb[m.verb];
}

/**
 * Encode any decoded message back to its payload (the inverse of decodeVerbPayload). A HELLO comes
 * out with its moon region in plaintext; PUSH_DIRECT_PATHS records of unknown address types are
 * dropped (they cannot be re-encoded).
 */
export function encodeVerbMessage(m: VerbMessage): Uint8Array {
  switch (m.verb) {
    case 'NOP': return new Uint8Array(0);
    case 'HELLO': return encodeHello(m.value);
    case 'ERROR': return encodeError(m.value);
    case 'OK': return encodeOkMessage(m.value);
    case 'WHOIS': return encodeWhois(m.value);
    case 'RENDEZVOUS': {
      const { flags, peer, address } = m.value;
      return address ? encodeRendezvous({ flags, peer, address }) : new Uint8Array(0);
    }
    case 'FRAME': return encodeFrame(m.value);
    case 'EXT_FRAME': return encodeExtFrame(m.value);
    case 'ECHO': return encodeEcho(m.value);
    case 'MULTICAST_LIKE': return encodeMulticastLike(m.value);
    case 'NETWORK_CREDENTIALS': return encodeNetworkCredentials(m.value);
    case 'NETWORK_CONFIG_REQUEST': return encodeNetworkConfigRequest(m.value);
    case 'NETWORK_CONFIG': return encodeConfigChunk(m.value);
    case 'MULTICAST_GATHER': return encodeMulticastGather(m.value);
    case 'MULTICAST_FRAME': return encodeMulticastFrame(m.value);
    case 'PUSH_DIRECT_PATHS':
      return encodePushDirectPaths({
        paths: m.value.paths.flatMap((p) => (p.address ? [{ flags: p.flags, address: p.address, extension: p.extension }] : [])),
      });
    case 'USER_MESSAGE': return encodeUserMessage(m.value);
    case 'OTHER': return m.payload.slice();
  }
}
