// Network config chunks (04-verbs.md §12, 07-network-config-controller.md §6): the payload of
// NETWORK_CONFIG (verb 0x0c) and of OK(NETWORK_CONFIG_REQUEST) after its in-re header. A
// controller splits the config dictionary into chunks and signs each one with its identity.

import type { Identity } from '../../identity/identity.ts';
import { SIGNATURE_LENGTH } from '../../crypto/c25519.ts';
import { ByteReader, ByteWriter } from '../byte-cursor.ts';
import {
  CONFIG_CHUNK_MAX_DATA_LENGTH, IN_RE_HEADER_LENGTH, NETWORKCONFIG_DICT_CAPACITY, SIGNATURE_TYPE_ED25519, Verb,
} from '../constants.ts';
import type { Decoded } from '../decode-result.ts';
import { result, writeInRe } from './common.ts';

/** The fields after the chunk data; a legacy (unsigned, single-chunk) config has none. */
export interface ChunkSignature {
  /** ConfigChunkFlag bits (0x01 fast propagate). */
  readonly flags: number;
  /** Random, non-zero, the same for every chunk of one config. */
  readonly updateId: bigint;
  /** u32: length of the assembled dictionary. */
  readonly totalLength: number;
  /** u32: byte offset of this chunk in the dictionary. */
  readonly chunkIndex: number;
  /** 96 bytes by the controller over `signedBytes` of the chunk. */
  readonly signature: Uint8Array;
}

export interface ConfigChunk {
  readonly networkId: bigint;
  /** This chunk's dictionary bytes (a view when decoded). */
  readonly data: Uint8Array;
  /** Undefined for a legacy chunk (1.14 accepts those only from the controller, as a whole config). */
  readonly signed: ChunkSignature | undefined;
  /** Decoded only: the bytes the signature covers, network ID through chunkIndex (a view). */
  readonly signedBytes?: Uint8Array;
}

/** Everything of a signed chunk but the signature, i.e. exactly the signed bytes. */
function signedPart(networkId: bigint, data: Uint8Array, flags: number, updateId: bigint, totalLength: number, chunkIndex: number): Uint8Array {
  return new ByteWriter(27 + data.length)
    .u64(networkId).u16(data.length).bytes(data)
    .u8(flags).u64(updateId).u32(totalLength).u32(chunkIndex)
    .finish();
}

/** Serialize a chunk (signed or legacy). */
export function encodeConfigChunk(c: ConfigChunk): Uint8Array {
  if (!c.signed) return new ByteWriter(10 + c.data.length).u64(c.networkId).u16(c.data.length).bytes(c.data).finish();
  const s = c.signed;
  return new ByteWriter(128 + c.data.length)
    .bytes(signedPart(c.networkId, c.data, s.flags, s.updateId, s.totalLength, s.chunkIndex))
    .u8(SIGNATURE_TYPE_ED25519).u16(SIGNATURE_LENGTH).bytes(s.signature)
    .finish();
}

export interface ChunkingOptions {
  /** Random non-zero u64 shared by all chunks of this config. */
  readonly updateId: bigint;
  readonly flags?: number;
  /** Dictionary bytes per chunk; 1.14 uses CONFIG_CHUNK_MAX_DATA_LENGTH. */
  readonly maxChunkLength?: number;
}

/**
 * Split a config dictionary into signed chunks (Node::ncSendConfig) and return each chunk's
 * payload (for NETWORK_CONFIG, or to follow an OK in-re header — see encodeOkNetworkConfigRequest).
 */
export function signConfigChunks(networkId: bigint, dictionary: Uint8Array, controller: Identity, options: ChunkingOptions): Uint8Array[] {
  const maxLength = options.maxChunkLength ?? CONFIG_CHUNK_MAX_DATA_LENGTH;
  const flags = options.flags ?? 0;
  const chunks: Uint8Array[] = [];
  for (let index = 0; index < dictionary.length; index += maxLength) {
    const data = dictionary.subarray(index, Math.min(dictionary.length, index + maxLength));
    const body = signedPart(networkId, data, flags, options.updateId, dictionary.length, index);
    const signature = controller.sign(body);
    chunks.push(new ByteWriter(body.length + 99).bytes(body).u8(SIGNATURE_TYPE_ED25519).u16(SIGNATURE_LENGTH).bytes(signature).finish());
  }
  return chunks;
}

/**
 * Decode a chunk, applying the structural checks of Network::handleConfigChunk: a signed chunk
 * must fit its total (chunkIndex + length <= total), the total must be below the dictionary
 * capacity (`capacity`, default 1.14 x86-64's), and the signature must be type 1 of 96 bytes.
 * Signature validity is verifyConfigChunk's job (it needs the controller's identity).
 */
export function decodeConfigChunk(bytes: Uint8Array, capacity = NETWORKCONFIG_DICT_CAPACITY): Decoded<ConfigChunk> {
  const r = new ByteReader(bytes);
  const networkId = r.u64();
  const data = r.view(r.u16());
  if (r.failed) return result(r, { networkId, data, signed: undefined });
  if (r.remaining === 0) {
    if (data.length >= capacity) r.fail('bad-chunk-range');
    return result(r, { networkId, data, signed: undefined });
  }
  const flags = r.u8();
  const updateId = r.u64();
  const totalLength = r.u32();
  const chunkIndex = r.u32();
  const signedBytes = bytes.subarray(0, r.offset);
  const signatureType = r.u8();
  const signatureLength = r.u16();
  if (!r.failed) {
    if (chunkIndex + data.length > totalLength || totalLength >= capacity) r.fail('bad-chunk-range');
    else if (signatureType !== SIGNATURE_TYPE_ED25519) r.fail('bad-signature-type');
    else if (signatureLength !== SIGNATURE_LENGTH) r.fail('bad-signature-length');
  }
  const signature = r.copy(SIGNATURE_LENGTH);
  return result(r, { networkId, data, signed: { flags, updateId, totalLength, chunkIndex, signature }, signedBytes });
}

/** Check a decoded signed chunk against the controller's identity. */
export function verifyConfigChunk(chunk: ConfigChunk, controller: Identity): boolean {
  const s = chunk.signed;
  if (!s) return false;
  const signed = chunk.signedBytes ?? signedPart(chunk.networkId, chunk.data, s.flags, s.updateId, s.totalLength, s.chunkIndex);
  return controller.verify(signed, s.signature);
}

// ---------------------------------------------------------------------------------------------
// OK(NETWORK_CONFIG_REQUEST): in-re header + chunk
// ---------------------------------------------------------------------------------------------

export interface OkNetworkConfigRequest {
  readonly inRePacketId: bigint;
  readonly chunk: ConfigChunk;
}

/** Prefix an encoded chunk payload (from signConfigChunks or encodeConfigChunk) with the OK in-re header. */
export function encodeOkNetworkConfigRequest(inRePacketId: bigint, chunkPayload: Uint8Array): Uint8Array {
  const w = new ByteWriter(IN_RE_HEADER_LENGTH + chunkPayload.length);
  writeInRe(w, Verb.NETWORK_CONFIG_REQUEST, inRePacketId);
  return w.bytes(chunkPayload).finish();
}

export function decodeOkNetworkConfigRequest(payload: Uint8Array, capacity?: number): Decoded<OkNetworkConfigRequest> {
  const r = new ByteReader(payload);
  r.skip(1);
  const inRePacketId = r.u64();
  if (r.failed) return { ok: false, error: 'too-short' };
  const chunk = decodeConfigChunk(payload.subarray(IN_RE_HEADER_LENGTH), capacity);
  return chunk.ok ? { ok: true, value: { inRePacketId, chunk: chunk.value } } : chunk;
}

// ---------------------------------------------------------------------------------------------
// The member's acknowledgement of a NETWORK_CONFIG: OK with in-re verb ECHO (a 1.14 quirk)
// ---------------------------------------------------------------------------------------------

export interface NetworkConfigAck {
  /** The NETWORK_CONFIG packet's ID. */
  readonly inRePacketId: bigint;
  readonly networkId: bigint;
  readonly updateId: bigint;
}

/** OK(in-re ECHO, pid) + u64 nwid + u64 config update ID, as _doNETWORK_CONFIG sends it. */
export function encodeNetworkConfigAck(ack: NetworkConfigAck): Uint8Array {
  const w = new ByteWriter(IN_RE_HEADER_LENGTH + 16);
  writeInRe(w, Verb.ECHO, ack.inRePacketId);
  return w.u64(ack.networkId).u64(ack.updateId).finish();
}

/** Read an OK(ECHO) body as a config acknowledgement (the caller decides whether it expected one). */
export function decodeNetworkConfigAck(payload: Uint8Array): Decoded<NetworkConfigAck> {
  const r = new ByteReader(payload);
  r.skip(1);
  const inRePacketId = r.u64();
  const networkId = r.u64();
  const updateId = r.u64();
  return result(r, { inRePacketId, networkId, updateId });
}
