// Which planet a node lives in (docs: 05-world-moons.md §7): never ZeroTier's public planet unless
// a setting names it; a named planet gives way only to a newer revision of itself saved in the
// home; and which local socket a first contact leaves from.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../src/crypto/c25519.ts';
import { socketToward } from '../../src/node/ip-scope.ts';
import { choosePlanet, PUBLIC_PLANET_SETTING } from '../../src/node/topology.ts';
import { ConfigError, defaultConfig, resolveConfig } from '../../src/root/config.ts';
import { parseInetAddress, type IpAddress } from '../../src/wire/inet-address.ts';
import { DEFAULT_PLANET } from '../../src/world/default-planet.ts';
import { World } from '../../src/world/world.ts';
import { makeWorld, VECTOR_IDENTITIES } from '../support/root-harness.ts';

const EARTH = (World.decode(DEFAULT_PLANET) as { world: World }).world;
const dir = mkdtempSync(join(tmpdir(), 'ztroot-planet-choice-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const lab = makeWorld({ type: 'planet', id: 0x1ab00n, timestamp: 10n, roots: [{ identity: VECTOR_IDENTITIES[0], endpoints: [] }] });

describe('choosePlanet', () => {
  it('without a setting takes <home>/planet, and nothing when there is none: never the public planet', () => {
    expect(choosePlanet(undefined, undefined)).toBeUndefined();
    expect(choosePlanet(undefined, lab)).toBe(lab);
    expect(defaultConfig().planet).toBeUndefined();
  });

  it('"public" names the built-in public planet, which a newer saved revision of it replaces', () => {
    expect(choosePlanet(PUBLIC_PLANET_SETTING, undefined)?.id).toBe(149604618n);
    expect(choosePlanet(PUBLIC_PLANET_SETTING, lab)?.id).toBe(149604618n);
    const newerEarth = World.make({
      type: EARTH.type, id: EARTH.id, timestamp: EARTH.timestamp + 1n, updatesMustBeSignedBy: EARTH.updatesMustBeSignedBy,
      roots: EARTH.roots,
    }, generateKeyPair());
    expect(choosePlanet(PUBLIC_PLANET_SETTING, newerEarth)).toBe(newerEarth);
  });

  it('a file path names that planet; a bad file is one clear error', () => {
    const file = join(dir, 'lab.planet');
    writeFileSync(file, lab.serialize());
    expect(choosePlanet(file, undefined)?.id).toBe(0x1ab00n);
    expect(() => choosePlanet(join(dir, 'missing'), undefined)).toThrow(/cannot read it \(ENOENT\)/);
    const moonFile = join(dir, 'x.moon');
    writeFileSync(moonFile, makeWorld({ type: 'moon', id: 5n, timestamp: 1n, roots: [{ identity: VECTOR_IDENTITIES[1], endpoints: [] }] }).serialize());
    expect(() => choosePlanet(moonFile, undefined)).toThrow(/holds a moon/);
    writeFileSync(join(dir, 'junk'), 'not a world');
    expect(() => choosePlanet(join(dir, 'junk'), undefined)).toThrow(/not a world file/);
  });

  it('the root setting: a path or "public", never empty', () => {
    expect(resolveConfig({ planet: 'public' }).planet).toBe('public');
    expect(resolveConfig({ planet: '/etc/zt/planet' }).planet).toBe('/etc/zt/planet');
    expect(() => resolveConfig({ planet: ' ' })).toThrow(ConfigError);
  });
});

describe('socketToward', () => {
  const sockets = [
    { family: 4 as const, address: '127.0.0.1', index: 0 },
    { family: 4 as const, address: '198.18.0.1', index: 1 },
    { family: 6 as const, address: '::1', index: 2 },
    { family: 6 as const, address: '2001:db8::1', index: 3 },
  ];
  const to = (t: string): IpAddress => parseInetAddress(t)!;
  it('sends to other hosts from a non-loopback socket and to loopback from a loopback one', () => {
    expect(socketToward(sockets, to('198.18.0.9/9993'))?.index).toBe(1);
    expect(socketToward(sockets, to('127.0.0.1/9993'))?.index).toBe(0);
    expect(socketToward(sockets, to('2001:db8::9/9993'))?.index).toBe(3);
    expect(socketToward(sockets, to('::1/9993'))?.index).toBe(2);
    expect(socketToward(sockets.slice(0, 1), to('198.18.0.9/9993'))?.index).toBe(0);
    expect(socketToward(sockets.slice(0, 2), to('2001:db8::9/9993'))).toBeUndefined();
  });
});
