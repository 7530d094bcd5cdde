import { describe, expect, it } from 'vitest';
import { keyPairFromPrivate } from '../../src/crypto/c25519.ts';
import { parseIdentity } from '../../src/identity/identity.ts';
import { parseInetAddress } from '../../src/wire/inet-address.ts';
import { WorldType } from '../../src/world/constants.ts';
import { DEFAULT_PLANET } from '../../src/world/default-planet.ts';
import { buildWorld, formatWorldJson, initMoonJson } from '../../src/world/world-json.ts';
import { World } from '../../src/world/world.ts';
import { c25519Sets, fencedAfter, hexAfter, readVectorJson, toHex } from '../support/vectors.ts';

interface GenmoonCase { name: string; moon_json: unknown; genmoon_stdout: string; file_name: string; file_hex: string; timestamp_ms: number }
interface InitmoonCase { name: string; initmoon_stdout: string; identity_public: string }

const moons = readVectorJson<[InitmoonCase, ...GenmoonCase[]]>('moons.json');
const planets = readVectorJson<GenmoonCase[]>('planets.json');

function decoded(bytes: Uint8Array): World {
  const d = World.decode(bytes);
  if (typeof d === 'string') throw new Error(`world did not decode: ${d}`);
  expect(d.length).toBe(bytes.length);
  return d.world;
}

describe('genmoon vectors from zerotier-idtool 1.14.1 (moons.json, planets.json)', () => {
  it.each([...moons.slice(1), ...planets].map((c) => [c.name, c as GenmoonCase] as const))('%s', (_name, c) => {
    const { world } = buildWorld(c.moon_json, BigInt(c.timestamp_ms));
    expect(toHex(world.serialize())).toBe(c.file_hex);
    expect(world.fileName).toBe(c.file_name);
    expect(world.verifySignature(world.updatesMustBeSignedBy)).toBe(true);
    const back = decoded(world.serialize());
    expect(toHex(back.serialize())).toBe(c.file_hex);
    expect(back.verifySignature(back.updatesMustBeSignedBy)).toBe(true);
  });

  it('initmoon prints the same structure, key order and formatting', () => {
    const c = moons[0];
    const seed = parseIdentity(c.identity_public)!;
    const upstream = JSON.parse(c.initmoon_stdout) as Record<string, string>;
    // reuse upstream's random signing key so the whole text must match
    const kp = keyPairFromPrivate(Buffer.from(upstream.signingKey_SECRET, 'hex'));
    expect(formatWorldJson(initMoonJson(seed, kp)) + '\n').toBe(c.initmoon_stdout);
  });
});

describe('the compiled-in default planet (10-test-vectors.md §6)', () => {
  it('decodes, re-encodes byte for byte and verifies under its own key', () => {
    const bytes = hexAfter('Compiled-in default planet');
    expect(toHex(DEFAULT_PLANET)).toBe(toHex(bytes));
    const w = decoded(bytes);
    expect(w.type).toBe(WorldType.planet);
    expect(w.id).toBe(149604618n);
    expect(w.timestamp).toBe(1644592324813n);
    expect(w.roots.map((r) => r.identity.toString().slice(0, 10))).toEqual(['cafe9efeb9', '778cde7190', '62f865ae71', 'cafe04eba9']);
    expect(w.verifySignature(w.updatesMustBeSignedBy)).toBe(true);
    expect(toHex(w.serialize())).toBe(toHex(bytes));
  });
});

describe('example moon, signed bytes and update rule (10-test-vectors.md §6)', () => {
  const set0 = c25519Sets()[0];
  const signer = keyPairFromPrivate(set0.priv1);
  const A = parseIdentity(fencedAfter('Identity A (secret form').trim())!.publicOnly();
  const B = parseIdentity(fencedAfter('Identity B (secret form').trim())!;
  const fields = {
    type: WorldType.moon,
    id: 0x8e4df28b72n,
    timestamp: 1700000000000n,
    updatesMustBeSignedBy: set0.pub1,
    roots: [{ identity: A, stableEndpoints: [parseInetAddress('10.0.0.1/9993')!, parseInetAddress('2001:db8::1/9993')!] }],
  };
  const moon = World.make(fields, signer);

  it('serializes, signs the framed body and names its file', () => {
    expect(toHex(moon.signedBytes())).toBe(toHex(hexAfter('Exact bytes that were signed')));
    expect(toHex(moon.signature)).toBe(toHex(hexAfter('Signature (96 bytes)')));
    expect(toHex(moon.serialize())).toBe(toHex(hexAfter('Serialized moon (as in a `.moon` file')));
    expect(moon.fileName).toBe('0000008e4df28b72.moon');
  });

  it('accepts a newer revision signed by the named key, rejects a wrong key or an older one', () => {
    expect(moon.shouldBeReplacedBy(World.make({ ...fields, timestamp: fields.timestamp + 1n }, signer))).toBe(true);
    const bKeys = { publicKey: B.publicKey, privateKey: B.privateKey! };
    expect(moon.shouldBeReplacedBy(World.make({ ...fields, timestamp: fields.timestamp + 1n }, bKeys))).toBe(false);
    expect(moon.shouldBeReplacedBy(World.make({ ...fields, timestamp: fields.timestamp - 1n }, signer))).toBe(false);
    expect(moon.shouldBeReplacedBy(World.make({ ...fields, timestamp: fields.timestamp }, signer))).toBe(false);
    expect(moon.shouldBeReplacedBy(World.make({ ...fields, id: fields.id + 1n, timestamp: fields.timestamp + 1n }, signer))).toBe(false);
    expect(moon.shouldBeReplacedBy(World.make({ ...fields, type: WorldType.planet, timestamp: fields.timestamp + 1n }, signer))).toBe(false);
  });
});
