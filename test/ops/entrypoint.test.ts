// The container entry point's home preparation, in-process (the container tests run it for
// real): identity on first start, a moon from ZTROOT_MOON_ENDPOINTS made once, mounted worlds
// copied, the metrics token, init-roots' one moon over several homes, and the --http default.

import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { copyMountedWorlds, entrypoint, initRoots, makeMoon, orbitLine, prepareRootHome, rootArgs } from '../../deploy/docker-entrypoint.ts';
import { formatAddress } from '../../src/identity/address.ts';
import { generateIdentity, parseIdentity } from '../../src/identity/identity.ts';
import { formatInetAddress } from '../../src/wire/inet-address.ts';
import { World } from '../../src/world/world.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ztroot-entrypoint-'));
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
});
afterEach(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

function moonsIn(home: string): World[] {
  return readdirSync(join(home, 'moons.d')).filter((n) => n.endsWith('.moon')).map((n) => {
    const d = World.decode(readFileSync(join(home, 'moons.d', n)));
    if (typeof d === 'string') throw new Error(d);
    expect(n).toBe(d.world.fileName);
    return d.world;
  });
}

const identityOf = (home: string) => parseIdentity(readFileSync(join(home, 'identity.public'), 'utf8'))!;

describe('root home preparation', () => {
  it('creates the identity once and keeps it', () => {
    const home = join(dir, 'home');
    prepareRootHome(home, {});
    const secret = readFileSync(join(home, 'identity.secret'), 'utf8');
    expect(statSync(join(home, 'identity.secret')).mode & 0o777).toBe(0o600);
    prepareRootHome(home, {});
    expect(readFileSync(join(home, 'identity.secret'), 'utf8')).toBe(secret);
    expect(existsSync(join(home, 'moons.d'))).toBe(true);
    expect(moonsIn(home)).toEqual([]);
  });

  it('makes a moon from ZTROOT_MOON_ENDPOINTS on first start only, and keeps its definition secret', () => {
    const home = join(dir, 'home');
    prepareRootHome(home, { ZTROOT_MOON_ENDPOINTS: '198.51.100.7/9993, 2001:db8::7/9993' });
    const [moon] = moonsIn(home);
    const me = identityOf(home);
    expect(moon.isMoon).toBe(true);
    expect(moon.id).toBe(BigInt(me.address));
    expect(moon.roots.map((r) => r.identity.address)).toEqual([me.address]);
    expect(moon.roots[0].stableEndpoints.map(formatInetAddress).sort()).toEqual(['198.51.100.7/9993', '2001:db8::7/9993']);
    expect(moon.verifySignature(moon.updatesMustBeSignedBy)).toBe(true);
    const definition = JSON.parse(readFileSync(join(home, 'moon.json'), 'utf8')) as { signingKey_SECRET: string };
    expect(definition.signingKey_SECRET).toMatch(/^[0-9a-f]{128}$/);
    expect(statSync(join(home, 'moon.json')).mode & 0o777).toBe(0o600);
    const bytes = readFileSync(join(home, 'moons.d', moon.fileName));
    prepareRootHome(home, { ZTROOT_MOON_ENDPOINTS: '192.0.2.1/9993' });
    expect(readFileSync(join(home, 'moons.d', moon.fileName))).toEqual(bytes);
    expect(readdirSync(join(home, 'moons.d'))).toEqual([moon.fileName]);
  });

  it('rejects an empty endpoint list', () => {
    expect(() => prepareRootHome(join(dir, 'home'), { ZTROOT_MOON_ENDPOINTS: ' , ' })).toThrow(/no endpoints/);
  });

  it('copies planet and moons from the worlds directory, following ConfigMap symlinks, ignoring the rest', () => {
    const { world } = makeMoon([{ identity: generateIdentity(), endpoints: ['198.51.100.1/9993'] }]);
    const mount = join(dir, 'worlds');
    mkdirSync(join(mount, '..data'), { recursive: true });
    writeFileSync(join(mount, '..data', world.fileName), world.serialize());
    symlinkSync(join('..data', world.fileName), join(mount, world.fileName));
    writeFileSync(join(mount, 'README'), 'not a world');
    const home = join(dir, 'home');
    prepareRootHome(home, { ZTROOT_WORLDS_DIR: mount });
    expect(moonsIn(home).map((m) => m.idHex)).toEqual([world.idHex]);
    expect(copyMountedWorlds(join(dir, 'absent'), home)).toEqual([]);
  });

  it('stores ZTROOT_METRICS_TOKEN as metricstoken.secret', () => {
    const home = join(dir, 'home');
    prepareRootHome(home, { ZTROOT_METRICS_TOKEN: ' sekret-token \n' });
    expect(readFileSync(join(home, 'metricstoken.secret'), 'utf8')).toBe('sekret-token');
    expect(statSync(join(home, 'metricstoken.secret')).mode & 0o777).toBe(0o600);
  });

  it('adds --http from ZTROOT_HTTP unless the command line has one', () => {
    expect(rootArgs([], {})).toEqual(['--http', '0.0.0.0:9993']);
    expect(rootArgs(['--workers', '2'], { ZTROOT_HTTP: '127.0.0.1:8080' })).toEqual(['--workers', '2', '--http', '127.0.0.1:8080']);
    expect(rootArgs(['--http', '127.0.0.1:1'], {})).toEqual(['--http', '127.0.0.1:1']);
    expect(rootArgs(['--http=127.0.0.1:1'], {})).toEqual(['--http=127.0.0.1:1']);
  });
});

describe('init-roots', () => {
  it('makes one moon listing every root, writes it to every home, and shares one token', () => {
    const [h1, h2] = [join(dir, 'r1'), join(dir, 'r2')];
    const tokenFile = join(dir, 'tokens', 'metrics.token');
    const uid = process.getuid!(), gid = process.getgid!();
    initRoots(['--chown', `${uid}:${gid}`, '--token-file', tokenFile, `${h1}=198.51.100.1/9993`, `${h2}=198.51.100.2/9993,198.51.100.3/9993`]);
    const [m1] = moonsIn(h1);
    const [m2] = moonsIn(h2);
    expect(Buffer.from(m2.serialize())).toEqual(Buffer.from(m1.serialize()));
    const [id1, id2] = [identityOf(h1), identityOf(h2)];
    expect(m1.id).toBe(BigInt(id1.address));
    const listed = Object.fromEntries(m1.roots.map((r) => [formatAddress(r.identity.address), r.stableEndpoints.map(formatInetAddress)]));
    expect(listed).toEqual({ [formatAddress(id1.address)]: ['198.51.100.1/9993'], [formatAddress(id2.address)]: ['198.51.100.2/9993', '198.51.100.3/9993'] });
    expect(orbitLine(m1)).toBe(`zerotier-cli orbit ${m1.idHex} ${formatAddress(id1.address)}`);
    const token = readFileSync(tokenFile, 'utf8');
    expect(token).toMatch(/^[a-z0-9]{24}$/);
    expect(statSync(tokenFile).mode & 0o777).toBe(0o644);
    expect(readFileSync(join(h1, 'metricstoken.secret'), 'utf8')).toBe(token);
    expect(readFileSync(join(h2, 'metricstoken.secret'), 'utf8')).toBe(token);
    expect(existsSync(join(h1, 'moon.json'))).toBe(true);

    // a second run (compose up again) changes nothing
    const before = readFileSync(join(h1, 'moons.d', m1.fileName));
    initRoots(['--token-file', tokenFile, `${h1}=192.0.2.1/9993`, `${h2}=192.0.2.2/9993`]);
    expect(readFileSync(join(h1, 'moons.d', m1.fileName))).toEqual(before);
    expect(readFileSync(tokenFile, 'utf8')).toBe(token);
    expect(identityOf(h2).toString(false)).toBe(id2.toString(false));
  });

  it('reports bad arguments with exit status 1', async () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(await entrypoint(['init-roots'], {})).toBe(1);
    expect(await entrypoint(['init-roots', 'no-equals-sign'], {})).toBe(1);
    expect(await entrypoint(['init-roots', '--chown', 'x', `${dir}/a=198.51.100.1/9993`], {})).toBe(1);
    expect(err.mock.calls.map((c) => String(c[0])).join('')).toMatch(/no HOME=IP\/port arguments[\s\S]*expected HOME=IP\/port[\s\S]*--chown wants UID:GID/);
  });
});
