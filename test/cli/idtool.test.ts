import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CliError, cmdGenerate, cmdGenmoon, cmdGenplanet, cmdGetpublic, cmdInitmoon, cmdInitplanet, cmdInspect, cmdRotatekey,
  cmdSign, cmdValidate, cmdVerify, parseVanity, type CliIo,
} from '../../src/cli/idtool.ts';
import { parseIdentity } from '../../src/identity/identity.ts';
import { World } from '../../src/world/world.ts';
import { readVectorJson, toHex } from '../support/vectors.ts';
import { runZtroot, tempDir } from '../support/cli.ts';

interface IdentitiesJson { identities: { secret: string; public: string; address: string }[] }
interface SignatureCase { identity: string; message_hex: string; signature_hex: string; verifies: boolean }
interface GenmoonCase { name: string; moon_json: Record<string, unknown>; genmoon_stdout: string; file_name: string; file_hex: string; timestamp_ms: number }

const ids = readVectorJson<IdentitiesJson>('identities.json').identities;
const signatures = readVectorJson<SignatureCase[]>('signatures.json');
const moons = readVectorJson<GenmoonCase[]>('moons.json');

class TestIo implements CliIo {
  stdout = '';
  stderr = '';
  errIsTty = false;
  readonly cwd: string;
  private readonly time: number;
  constructor(cwd: string, time = 1795310571840) {
    this.cwd = cwd;
    this.time = time;
  }
  out(t: string): void { this.stdout += t; }
  err(t: string): void { this.stderr += t; }
  now(): number { return this.time; }
}

/** Run a command function and capture what it printed, or the one-line error it raised. */
function run(io: TestIo, fn: () => number): { code: number; stdout: string; error?: string } {
  try {
    return { code: fn(), stdout: io.stdout };
  } catch (e) {
    if (e instanceof CliError) return { code: 1, stdout: io.stdout, error: e.message };
    throw e;
  }
}

let dir: string;
beforeAll(() => {
  dir = tempDir();
  writeFileSync(join(dir, 'id0.secret'), ids[0].secret);
  writeFileSync(join(dir, 'id0.public'), ids[0].public);
});

describe('generate', () => {
  it('prints a secret identity without newline when given no files', () => {
    const io = new TestIo(dir);
    expect(run(io, () => cmdGenerate({}, io)).code).toBe(0);
    expect(io.stdout).toMatch(/^[0-9a-f]{10}:0:[0-9a-f]{128}:[0-9a-f]{128}$/);
    expect(parseIdentity(io.stdout)!.locallyValidate()).toBe(true);
  });
  it('writes identity.secret (0600) and identity.public and reports both', () => {
    const io = new TestIo(dir);
    cmdGenerate({ secretFile: 'g.secret', publicFile: 'g.public' }, io);
    expect(io.stdout).toBe('g.secret written\ng.public written\n');
    const secret = readFileSync(join(dir, 'g.secret'), 'utf8');
    const pub = readFileSync(join(dir, 'g.public'), 'utf8');
    expect(statSync(join(dir, 'g.secret')).mode & 0o777).toBe(0o600);
    expect(parseIdentity(secret)!.toString(false)).toBe(pub);
    expect(pub.endsWith('\n')).toBe(false);
  });
  it('keeps generating until the vanity prefix matches, with upstream-style progress lines', () => {
    // identities.json in order: b26b78eaca, b308830a73, 8190a332f4, ... — the first "81" is the third
    const queue = ids.map((i) => parseIdentity(i.secret)!);
    const io = new TestIo(dir);
    cmdGenerate({ vanity: '81', generate: () => queue.shift()! }, io);
    expect(io.stdout).toBe(ids[2].secret);
    expect(io.stderr).toBe(
      'vanity address: tried b26b78eaca looking for first 8 bits of 8100000000\n' +
      'vanity address: tried b308830a73 looking for first 8 bits of 8100000000\n' +
      'vanity address: found 8190a332f4 !\n');
  });
  it('rejects malformed or impossible vanity prefixes', () => {
    expect(() => parseVanity('xyz')).toThrow(CliError);
    expect(() => parseVanity('ff')).toThrow(/reserved/);
    expect(() => parseVanity('0000000000')).toThrow(/reserved/);
    expect(parseVanity('0f')).toEqual({ value: 15, bits: 8 });
  });
  it('reports a secret file it cannot write', () => {
    const io = new TestIo(dir);
    expect(run(io, () => cmdGenerate({ secretFile: 'no/such/dir/x.secret' }, io)).error).toBe('Error writing to no/such/dir/x.secret');
  });
});

describe('validate and getpublic', () => {
  it('validates literals and files, printing the argument as given', () => {
    const io = new TestIo(dir);
    cmdValidate('id0.public', io);
    cmdValidate(ids[1].secret, io);
    expect(io.stdout).toBe(`id0.public is a valid identity\n${ids[1].secret} is a valid identity\n`);
  });
  it('fails an identity whose proof of work does not hold', () => {
    const bad = ids[0].public.replace(/.$/, (c) => (c === '0' ? '1' : '0'));
    expect(run(new TestIo(dir), () => cmdValidate(bad, new TestIo(dir))).error).toBe(`${bad} FAILED validation.`);
  });
  it('reports unreadable files and unparseable literals', () => {
    expect(run(new TestIo(dir), () => cmdValidate('missing.public', new TestIo(dir))).error)
      .toBe('Identity argument invalid or file unreadable: missing.public');
    expect(run(new TestIo(dir), () => cmdGetpublic('zzzz:0:00', new TestIo(dir))).error)
      .toBe('Identity argument invalid or file unreadable: zzzz:0:00');
  });
  it.each(ids.map((i) => [i.address, i] as const))('getpublic of %s matches zerotier-idtool', (_a, i) => {
    const io = new TestIo(dir);
    cmdGetpublic(i.secret, io);
    expect(io.stdout).toBe(i.public);
  });
});

describe('sign and verify against signatures.json', () => {
  it.each(signatures.map((s, n) => [n, s] as const))('case %i', (n, s) => {
    const msgFile = `msg${n}.bin`;
    writeFileSync(join(dir, msgFile), Buffer.from(s.message_hex, 'hex'));
    const pub = parseIdentity(s.identity)!.toString(false);
    if (s.verifies) {
      const io = new TestIo(dir);
      cmdSign(s.identity, msgFile, io);
      expect(io.stdout).toBe(s.signature_hex); // Ed25519 is deterministic: same bytes as zerotier-idtool
    }
    const io = new TestIo(dir);
    const r = run(io, () => cmdVerify(pub, msgFile, s.signature_hex, io));
    if (s.verifies) expect(r.stdout).toBe(`${msgFile} signature valid\n`);
    else expect(r.error).toBe(`${msgFile} signature check FAILED`);
  });
  it('takes the signature from a file when it is not a valid literal', () => {
    const s = signatures[0];
    writeFileSync(join(dir, 'm.bin'), Buffer.from(s.message_hex, 'hex'));
    writeFileSync(join(dir, 'm.sig'), s.signature_hex + '\n');
    const io = new TestIo(dir);
    cmdVerify(ids[0].public, 'm.bin', 'm.sig', io);
    expect(io.stdout).toBe('m.bin signature valid\n');
  });
  it('refuses to sign without a private key and reports unreadable files', () => {
    expect(run(new TestIo(dir), () => cmdSign('id0.public', 'm.bin', new TestIo(dir))).error)
      .toBe('id0.public does not contain a private key (must use private to sign)');
    expect(run(new TestIo(dir), () => cmdSign('id0.secret', 'nope.bin', new TestIo(dir))).error).toBe('nope.bin is not readable');
    expect(run(new TestIo(dir), () => cmdVerify('id0.public', 'm.bin', '0011', new TestIo(dir))).error).toBe('m.bin signature check FAILED');
  });
});

describe('initmoon / genmoon / genplanet / rotatekey / inspect', () => {
  it('genmoon reproduces every moons.json file and its stdout line', () => {
    for (const c of moons.slice(1)) {
      const d = tempDir();
      writeFileSync(join(d, 'moon.json'), JSON.stringify(c.moon_json));
      const io = new TestIo(d, c.timestamp_ms);
      cmdGenmoon('moon.json', io);
      expect(io.stdout).toBe(c.genmoon_stdout);
      expect(toHex(readFileSync(join(d, c.file_name)))).toBe(c.file_hex);
    }
  });
  it('initmoon output signs into a moon whose root is the seed', () => {
    const io = new TestIo(dir);
    cmdInitmoon('id0.public', io);
    const json = JSON.parse(io.stdout) as { id: string; roots: { identity: string; stableEndpoints: string[] }[] };
    expect(json.id).toBe(ids[0].address);
    json.roots[0].stableEndpoints = ['198.18.0.1/9993'];
    writeFileSync(join(dir, 'mine.json'), JSON.stringify(json));
    const gen = new TestIo(dir);
    cmdGenmoon('mine.json', gen);
    const w = World.decode(readFileSync(join(dir, `000000${ids[0].address}.moon`)));
    expect(typeof w === 'object' && w.world.verifySignature(w.world.updatesMustBeSignedBy)).toBe(true);
  });
  it('initplanet + genplanet write ./planet with a non-Earth ID', () => {
    const d = tempDir();
    const io = new TestIo(d);
    cmdInitplanet(ids[1].public, undefined, io);
    const json = JSON.parse(io.stdout) as { id: string; worldType: string };
    expect(json.worldType).toBe('planet');
    expect(BigInt('0x' + json.id)).not.toBe(149604618n);
    writeFileSync(join(d, 'planet.json'), io.stdout);
    const gen = new TestIo(d);
    cmdGenplanet('planet.json', gen);
    expect(gen.stdout).toMatch(/^wrote planet \(signed world with timestamp \d+\)\n$/);
    const w = World.decode(readFileSync(join(d, 'planet')));
    expect(typeof w === 'object' && w.world.isPlanet).toBe(true);
    expect(run(new TestIo(d), () => cmdGenplanet('planet.json', new TestIo(d))).code).toBe(0);
  });
  it('rotatekey hands update rights to a new key that the next genmoon uses', () => {
    const d = tempDir();
    writeFileSync(join(d, 'moon.json'), JSON.stringify(moons[1].moon_json));
    const old = World.decode(Buffer.from(moons[1].file_hex, 'hex'));
    if (typeof old === 'string') throw new Error(old);
    cmdRotatekey('moon.json', new TestIo(d, moons[1].timestamp_ms + 1000));
    const rotated = World.decode(readFileSync(join(d, moons[1].file_name)));
    if (typeof rotated === 'string') throw new Error(rotated);
    expect(old.world.shouldBeReplacedBy(rotated.world)).toBe(true);
    expect(statSync(join(d, 'moon.json')).mode & 0o777).toBe(0o600);
    const json = JSON.parse(readFileSync(join(d, 'moon.json'), 'utf8')) as Record<string, string>;
    expect(json.updatesMustBeSignedBy).toBe(json.signingKey);
    expect(json.previousSigningKey).toBe(moons[1].moon_json.signingKey);
    cmdGenmoon('moon.json', new TestIo(d, moons[1].timestamp_ms + 2000));
    const next = World.decode(readFileSync(join(d, moons[1].file_name)));
    if (typeof next === 'string') throw new Error(next);
    expect(rotated.world.shouldBeReplacedBy(next.world)).toBe(true);
    expect(old.world.shouldBeReplacedBy(next.world)).toBe(false); // the old key no longer signs
  });
  it('inspect prints a world file as JSON', () => {
    const d = tempDir();
    writeFileSync(join(d, 'x.moon'), Buffer.from(moons[2].file_hex, 'hex'));
    const io = new TestIo(d);
    cmdInspect('x.moon', io);
    const v = JSON.parse(io.stdout) as { worldType: string; selfSigned: boolean; roots: { stableEndpoints: string[] }[] };
    expect(v.worldType).toBe('moon');
    expect(v.selfSigned).toBe(true);
    expect(v.roots[0].stableEndpoints).toEqual(['198.18.0.1/9993', '2001:db8::1/9993']);
    expect(run(new TestIo(d), () => cmdInspect('moon.json', new TestIo(d))).error).toMatch(/cannot read|not readable/);
  });

  describe('bad world definitions get one clear line', () => {
    const base = moons[2].moon_json as Record<string, unknown> & { roots: Record<string, unknown>[] };
    const cases: [string, unknown, RegExp][] = [
      ['malformed JSON', '{"id": ', /^bad\.json is not valid JSON/],
      ['zero ID', { ...base, id: '0' }, /^ID in bad\.json is invalid$/],
      ['bad worldType', { ...base, worldType: 'comet' }, /invalid worldType/],
      ['bad identity', { ...base, roots: [{ identity: 'nope', stableEndpoints: [] }] }, /roots\[0\]\.identity is not a valid identity/],
      ['endpoint without port', { ...base, roots: [{ ...base.roots[0], stableEndpoints: ['198.18.0.1'] }] }, /roots\[0\]\.stableEndpoints\[0\] is not IP\/port/],
      ['endpoint not an IP', { ...base, roots: [{ ...base.roots[0], stableEndpoints: ['example.com/9993'] }] }, /is not IP\/port/],
      ['five roots', { ...base, roots: Array(5).fill(base.roots[0]) }, /at most 4 roots/],
      ['33 endpoints', { ...base, roots: [{ ...base.roots[0], stableEndpoints: Array.from({ length: 33 }, (_, i) => `198.18.0.${i + 1}/9993`) }] }, /at most 32 are allowed/],
      ['mismatched signing key', { ...base, signingKey: '00'.repeat(64) }, /signingKey does not match signingKey_SECRET/],
    ];
    it.each(cases)('%s', (_name, content, message) => {
      const d = tempDir();
      writeFileSync(join(d, 'bad.json'), typeof content === 'string' ? content : JSON.stringify(content));
      const io = new TestIo(d);
      const r = run(io, () => cmdGenmoon('bad.json', io));
      expect(r.code).toBe(1);
      expect(r.error).toMatch(message);
      expect(r.error).not.toMatch(/\n/);
    });
    it('a missing definition file', () => {
      expect(run(new TestIo(dir), () => cmdGenmoon('absent.json', new TestIo(dir))).error).toBe('cannot read absent.json');
    });
    it('initmoon of something that is not an identity', () => {
      expect(run(new TestIo(dir), () => cmdInitmoon('absent.public', new TestIo(dir))).error).toBe('absent.public is not a valid identity');
    });
  });
});

describe('the ztroot binary (spawned)', () => {
  it('exits 0 with output on stdout for a good command', () => {
    const r = runZtroot(['idtool', 'getpublic', ids[2].secret], dir);
    expect(r).toMatchObject({ status: 0, stdout: ids[2].public, stderr: '' });
  });
  it('exits 1 with one line on stderr and no stack trace for bad input', () => {
    for (const args of [
      ['idtool', 'validate', 'nope.public'],
      ['idtool', 'genmoon', 'nope.json'],
      ['idtool', 'validate'],
      ['idtool', 'frobnicate'],
      ['idtool', 'initplanet', ids[0].public, 'xyz'],
    ]) {
      const r = runZtroot(args, dir);
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stderr.trim().split('\n').length, r.stderr).toBe(1);
      expect(r.stderr).not.toMatch(/at .*\.ts:\d+/);
    }
  });
});
