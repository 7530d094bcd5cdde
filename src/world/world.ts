// Worlds: signed lists of root servers. A planet (type 1) defines the primary roots; moons
// (type 127) add user-run roots. Binary format, signature and replacement rule follow
// docs/protocol/05-world-moons.md §1–§3.

import { sign, SIGNATURE_LENGTH, verify, C25519_PUBLIC_KEY_LENGTH, type C25519KeyPair } from '../crypto/c25519.ts';
import { deserializeIdentity, type Identity } from '../identity/identity.ts';
import { decodeInetAddress, encodeInetAddress, type InetAddress } from '../wire/inet-address.ts';
import {
  WORLD_MAX_ROOTS, WORLD_MAX_SERIALIZED_LENGTH, WORLD_MAX_STABLE_ENDPOINTS_PER_ROOT, WORLD_OFFSET,
  WORLD_SIGN_FRAME_LENGTH, WORLD_SIGN_PREFIX_BYTE, WORLD_SIGN_SUFFIX_BYTE, WorldType,
} from './constants.ts';
import { hex64 } from '../util/hex.ts';

export interface WorldRoot {
  readonly identity: Identity;
  readonly stableEndpoints: readonly InetAddress[];
}

export interface WorldFields {
  readonly type: WorldType;
  readonly id: bigint;
  /** Milliseconds since the epoch; doubles as the revision number. */
  readonly timestamp: bigint;
  readonly updatesMustBeSignedBy: Uint8Array;
  readonly roots: readonly WorldRoot[];
}

/** Thrown when building a world that breaks the format's limits (callers show the message). */
export class WorldError extends Error {}

export type WorldDecodeError = 'too-short' | 'bad-type' | 'too-many-roots' | 'too-many-endpoints' | 'bad-identity' | 'bad-endpoint' | 'too-long';

const U64_MAX = 0xffff_ffff_ffff_ffffn;

export class World implements WorldFields {
  readonly type: WorldType;
  readonly id: bigint;
  readonly timestamp: bigint;
  readonly updatesMustBeSignedBy: Uint8Array;
  readonly signature: Uint8Array;
  readonly roots: readonly WorldRoot[];

  constructor(fields: WorldFields, signature: Uint8Array) {
    this.type = fields.type;
    this.id = fields.id;
    this.timestamp = fields.timestamp;
    this.updatesMustBeSignedBy = fields.updatesMustBeSignedBy;
    this.roots = fields.roots;
    this.signature = signature;
  }

  /** World::make: check the limits, then sign the body with `signWith`. */
  static make(fields: WorldFields, signWith: C25519KeyPair): World {
    checkLimits(fields);
    const world = new World(fields, sign(signWith.privateKey, signedBytes(fields)));
    if (world.serialize().length > WORLD_MAX_SERIALIZED_LENGTH) {
      throw new WorldError(`world is larger than ${WORLD_MAX_SERIALIZED_LENGTH} bytes`);
    }
    return world;
  }

  get isPlanet(): boolean {
    return this.type === WorldType.planet;
  }
  get isMoon(): boolean {
    return this.type === WorldType.moon;
  }

  /** Bytes of a `.moon` file, a `planet` file or the world section of OK(HELLO). */
  serialize(): Uint8Array {
    return encode(this, this.signature);
  }

  /** The exact bytes the signature covers. */
  signedBytes(): Uint8Array {
    return signedBytes(this);
  }

  /** True if `signerPublicKey` signed this revision. */
  verifySignature(signerPublicKey: Uint8Array): boolean {
    return verify(signerPublicKey, this.signedBytes(), this.signature);
  }

  /**
   * World::shouldBeReplacedBy: same ID and type, strictly newer, and signed by the key this
   * revision names for the next one (docs/protocol/05-world-moons.md §3).
   */
  shouldBeReplacedBy(candidate: World): boolean {
    return candidate.id === this.id && candidate.type === this.type && candidate.timestamp > this.timestamp &&
      candidate.verifySignature(this.updatesMustBeSignedBy);
  }

  /** `%016llx.moon`: the name both genmoon and a node's moons.d use. */
  get fileName(): string {
    return `${this.idHex}.moon`;
  }
  get idHex(): string {
    return hex64(this.id);
  }

  /** Parse one world from the start of `bytes`; extra bytes after it are ignored. */
  static decode(bytes: Uint8Array): { world: World; length: number } | WorldDecodeError {
    return decode(bytes);
  }
}

function checkLimits(f: WorldFields): void {
  if (f.type !== WorldType.planet && f.type !== WorldType.moon) throw new WorldError('world type must be planet or moon');
  if (f.id <= 0n || f.id > U64_MAX) throw new WorldError('world ID must be a non-zero 64-bit value');
  if (f.timestamp < 0n || f.timestamp > U64_MAX) throw new WorldError('world timestamp must fit 64 bits');
  if (f.updatesMustBeSignedBy.length !== C25519_PUBLIC_KEY_LENGTH) throw new WorldError('updatesMustBeSignedBy must be a 64-byte public key');
  if (f.roots.length > WORLD_MAX_ROOTS) throw new WorldError(`a world has at most ${WORLD_MAX_ROOTS} roots (got ${f.roots.length})`);
  for (const r of f.roots) {
    if (r.stableEndpoints.length > WORLD_MAX_STABLE_ENDPOINTS_PER_ROOT) {
      throw new WorldError(`root ${r.identity.toString().slice(0, 10)} has ${r.stableEndpoints.length} stable endpoints; at most ${WORLD_MAX_STABLE_ENDPOINTS_PER_ROOT} are allowed`);
    }
  }
}

/** Serialize; with `signature` null, produce the framed form that is signed instead. */
function encode(f: WorldFields, signature: Uint8Array | null): Uint8Array {
  const parts: Uint8Array[] = [];
  const forSign = signature === null;
  if (forSign) parts.push(new Uint8Array(WORLD_SIGN_FRAME_LENGTH).fill(WORLD_SIGN_PREFIX_BYTE));
  const head = new Uint8Array(WORLD_OFFSET.signature);
  const dv = new DataView(head.buffer);
  head[WORLD_OFFSET.type] = f.type;
  dv.setBigUint64(WORLD_OFFSET.id, f.id);
  dv.setBigUint64(WORLD_OFFSET.timestamp, f.timestamp);
  head.set(f.updatesMustBeSignedBy, WORLD_OFFSET.updatesMustBeSignedBy);
  parts.push(head);
  if (!forSign) parts.push(signature);
  parts.push(Uint8Array.of(f.roots.length));
  for (const r of f.roots) {
    parts.push(r.identity.serialize(false));
    parts.push(Uint8Array.of(r.stableEndpoints.length));
    for (const ep of r.stableEndpoints) parts.push(encodeInetAddress(ep));
  }
  if (f.type === WorldType.moon) parts.push(new Uint8Array(2)); // attached dictionary: none
  if (forSign) parts.push(new Uint8Array(WORLD_SIGN_FRAME_LENGTH).fill(WORLD_SIGN_SUFFIX_BYTE));
  return concat(parts);
}

function signedBytes(f: WorldFields): Uint8Array {
  return encode(f, null);
}

function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function decode(b: Uint8Array): { world: World; length: number } | WorldDecodeError {
  // Like the reference, parse within the maximum world buffer: nothing beyond it is read.
  if (b.length > WORLD_MAX_SERIALIZED_LENGTH) b = b.subarray(0, WORLD_MAX_SERIALIZED_LENGTH);
  if (b.length < WORLD_OFFSET.roots) return 'too-short';
  const type = b[WORLD_OFFSET.type];
  if (type !== WorldType.null && type !== WorldType.planet && type !== WorldType.moon) return 'bad-type';
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const id = dv.getBigUint64(WORLD_OFFSET.id);
  const timestamp = dv.getBigUint64(WORLD_OFFSET.timestamp);
  const updatesMustBeSignedBy = b.slice(WORLD_OFFSET.updatesMustBeSignedBy, WORLD_OFFSET.signature);
  const signature = b.slice(WORLD_OFFSET.signature, WORLD_OFFSET.signature + SIGNATURE_LENGTH);
  const rootCount = b[WORLD_OFFSET.rootCount];
  if (rootCount > WORLD_MAX_ROOTS) return 'too-many-roots';
  let p = WORLD_OFFSET.roots;
  const roots: WorldRoot[] = [];
  for (let r = 0; r < rootCount; r++) {
    const id = deserializeIdentity(b, p);
    if (typeof id === 'string') return id === 'too-short' ? 'too-short' : 'bad-identity';
    p += id.length;
    if (p >= b.length) return 'too-short';
    const epCount = b[p++];
    if (epCount > WORLD_MAX_STABLE_ENDPOINTS_PER_ROOT) return 'too-many-endpoints';
    const stableEndpoints: InetAddress[] = [];
    for (let e = 0; e < epCount; e++) {
      const ep = decodeInetAddress(b, p);
      if (!ep.ok) return ep.error === 'too-short' ? 'too-short' : 'bad-endpoint';
      p += ep.length;
      stableEndpoints.push(ep.value);
    }
    roots.push({ identity: id.identity.publicOnly(), stableEndpoints });
  }
  if (type === WorldType.moon) {
    if (p + 2 > b.length) return 'too-short';
    p += 2 + dv.getUint16(p);
    if (p > b.length) return 'too-short';
  }
  return { world: new World({ type: type as WorldType, id, timestamp, updatesMustBeSignedBy, roots }, signature), length: p };
}
