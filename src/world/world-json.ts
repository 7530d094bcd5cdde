// The world definition JSON that `initmoon` prints and `genmoon` signs (docs/protocol/06-idtool.md), and the
// same for private planets. Reading is as forgiving as zerotier-idtool where that is harmless
// (lenient hex, missing keys as zeros) and strict where upstream would write a broken world
// (bad identities, bad endpoints, mismatched signing keys): those become WorldError messages.

import { generateKeyPair, keyPairFromPrivate, type C25519KeyPair } from '../crypto/c25519.ts';
import { formatAddress } from '../identity/address.ts';
import { parseIdentity, type Identity } from '../identity/identity.ts';
import { toHex, unhexLenient, hex64 } from '../util/hex.ts';
import { strtoull } from '../util/strtoull.ts';
import { compareInetAddressLikeZeroTier, formatInetAddress, parseInetAddress, type InetAddress } from '../wire/inet-address.ts';
import { WORLD_ID_EARTH, WORLD_ID_MARS, WorldType } from './constants.ts';
import { World, WorldError, type WorldRoot } from './world.ts';

/** The JSON shape, keys in the order nlohmann::json prints them (sorted). */
export interface WorldJson {
  id: string;
  objtype: 'world';
  roots: { identity: string; stableEndpoints: string[] }[];
  signingKey: string;
  signingKey_SECRET: string;
  updatesMustBeSignedBy: string;
  worldType: 'moon' | 'planet';
  [extra: string]: unknown;
}

/** nlohmann::json dump(1): keys sorted, one-space indent. Followed by a newline when printed. */
export function formatWorldJson(json: Record<string, unknown>): string {
  return JSON.stringify(sortKeys(json), null, 1);
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
  }
  return v;
}

/**
 * `initmoon`: a moon whose ID is the seed's address, with the seed as its only root and a fresh
 * signing key pair that also signs the next revision.
 */
export function initMoonJson(seed: Identity, signingKey: C25519KeyPair = generateKeyPair()): WorldJson {
  return initJson('moon', formatAddress(seed.address), seed, signingKey);
}

/**
 * `initplanet`: like initmoon, but a planet with a random 64-bit ID (never Earth's or Mars's, so
 * the compiled-in planet can never replace it) unless one is given.
 */
export function initPlanetJson(seed: Identity, id?: bigint, signingKey: C25519KeyPair = generateKeyPair()): WorldJson {
  let worldId = id;
  while (worldId === undefined || worldId === 0n || worldId === WORLD_ID_EARTH || worldId === WORLD_ID_MARS) {
    worldId = BigInt('0x' + toHex(generateKeyPair().privateKey.subarray(0, 8)));
  }
  return initJson('planet', hex64(worldId), seed, signingKey);
}

function initJson(worldType: 'moon' | 'planet', id: string, seed: Identity, kp: C25519KeyPair): WorldJson {
  return {
    id,
    objtype: 'world',
    roots: [{ identity: seed.toString(false), stableEndpoints: [] }],
    signingKey: toHex(kp.publicKey),
    signingKey_SECRET: toHex(kp.privateKey),
    updatesMustBeSignedBy: toHex(kp.publicKey),
    worldType,
  };
}

/** strtoull(text, 16) as genmoon reads the ID; invalid or zero is an error. */
function parseWorldId(v: unknown): bigint {
  if (typeof v !== 'string') throw new WorldError('"id" must be a hex string');
  const id = strtoull(v, 16);
  if (id === 0n) throw new WorldError('world ID is invalid');
  return id;
}

function hexField(json: Record<string, unknown>, key: string, length: number): Uint8Array {
  const v = json[key] ?? '';
  if (typeof v !== 'string') throw new WorldError(`"${key}" must be a hex string`);
  const out = new Uint8Array(length);
  out.set(unhexLenient(v, length));
  return out;
}

function parseRoots(v: unknown): WorldRoot[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new WorldError('"roots" must be an array');
  const roots: WorldRoot[] = [];
  v.forEach((r, i) => {
    if (!r || typeof r !== 'object' || Array.isArray(r)) throw new WorldError(`roots[${i}] must be an object`);
    const rec = r as Record<string, unknown>;
    const identity = typeof rec.identity === 'string' ? parseIdentity(rec.identity) : null;
    if (!identity) throw new WorldError(`roots[${i}].identity is not a valid identity`);
    const eps = rec.stableEndpoints ?? [];
    if (!Array.isArray(eps)) throw new WorldError(`roots[${i}].stableEndpoints must be an array of "IP/port" strings`);
    const stableEndpoints: InetAddress[] = eps.map((e, k) => {
      // a root must be reachable: both the IP and a non-zero port are required
      const ep = typeof e === 'string' && e.includes('/') ? parseInetAddress(e) : null;
      if (!ep || ep.port === 0) throw new WorldError(`roots[${i}].stableEndpoints[${k}] is not IP/port: ${JSON.stringify(e)}`);
      return ep;
    });
    stableEndpoints.sort(compareInetAddressLikeZeroTier);
    roots.push({ identity: identity.publicOnly(), stableEndpoints });
  });
  roots.sort((a, b) => compareIdentities(a.identity, b.identity));
  return roots;
}

/** Identity ordering: address, then public key bytes (docs/protocol/01-identity.md §7). */
function compareIdentities(a: Identity, b: Identity): number {
  if (a.address !== b.address) return a.address < b.address ? -1 : 1;
  return Buffer.compare(a.publicKey, b.publicKey);
}

export interface BuiltWorld {
  world: World;
  signingKey: C25519KeyPair;
}

/**
 * `genmoon`: build and sign the world a JSON definition describes, at `timestampMs`.
 * Endpoints are sorted like upstream and roots by identity, so the bytes match zerotier-idtool's.
 */
export function buildWorld(json: unknown, timestampMs: bigint): BuiltWorld {
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new WorldError('world definition must be a JSON object');
  const rec = json as Record<string, unknown>;
  const id = parseWorldId(rec.id);
  const type = rec.worldType === 'moon' ? WorldType.moon : rec.worldType === 'planet' ? WorldType.planet : null;
  if (type === null) throw new WorldError('invalid worldType (must be "moon" or "planet")');
  const signingPublic = hexField(rec, 'signingKey', 64);
  const signingSecret = hexField(rec, 'signingKey_SECRET', 64);
  const updatesMustBeSignedBy = hexField(rec, 'updatesMustBeSignedBy', 64);
  const signingKey = keyPairFromPrivate(signingSecret);
  if (Buffer.compare(signingKey.publicKey, signingPublic) !== 0) {
    throw new WorldError('signingKey does not match signingKey_SECRET');
  }
  const roots = parseRoots(rec.roots);
  return { world: World.make({ type, id, timestamp: timestampMs, updatesMustBeSignedBy, roots }, signingKey), signingKey };
}

/** JSON view of an existing world (for `ztroot idtool` inspection and the API). */
export function describeWorld(w: World): Record<string, unknown> {
  return {
    id: w.idHex,
    objtype: 'world',
    worldType: w.isPlanet ? 'planet' : w.isMoon ? 'moon' : 'null',
    timestamp: Number(w.timestamp),
    updatesMustBeSignedBy: toHex(w.updatesMustBeSignedBy),
    signature: toHex(w.signature),
    roots: w.roots.map((r) => ({ identity: r.identity.toString(false), stableEndpoints: r.stableEndpoints.map(formatInetAddress) })),
  };
}
