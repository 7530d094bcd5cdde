// `ztroot idtool …`: the commands of zerotier-idtool with the same arguments, outputs and file
// names (docs/protocol/06-idtool.md), plus initplanet/genplanet for private planets, rotatekey for world key
// rotation and inspect for reading world files.

import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { generateKeyPair } from '../crypto/c25519.ts';
import { formatAddress, isReservedAddress } from '../identity/address.ts';
import { generateIdentity, parseIdentity, type Identity } from '../identity/identity.ts';
import { writeFileAtomic, writeSecretFileAtomic } from '../util/atomic-file.ts';
import { toHex, unhexLenient } from '../util/hex.ts';
import { WorldType } from '../world/constants.ts';
import { buildWorld, describeWorld, formatWorldJson, initMoonJson, initPlanetJson, type WorldJson } from '../world/world-json.ts';
import { World, WorldError } from '../world/world.ts';

/** Where command output goes; tests pass their own. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  cwd: string;
  now(): number;
  /** Whether stderr is a terminal (progress lines overwrite each other there). */
  errIsTty: boolean;
}

export const processIo: CliIo = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
  cwd: process.cwd(),
  now: () => Date.now(),
  errIsTty: process.stderr.isTTY === true,
};

/** A failure with the one line to print on stderr; exit status 1. */
export class CliError extends Error {}

const EOL = '\n';

/**
 * getIdFromArg: a literal identity if it is longer than 32 characters and has ':' at index 10,
 * otherwise the path of a file holding one. Null when it cannot be read or parsed.
 */
function identityFromArg(arg: string, io: CliIo): Identity | null {
  if (arg.length > 32 && arg[10] === ':') return parseIdentity(arg);
  try {
    return parseIdentity(readFileSync(resolve(io.cwd, arg), 'utf8'));
  } catch {
    return null;
  }
}

function readIdentityArg(arg: string, io: CliIo): Identity {
  const id = identityFromArg(arg, io);
  if (!id) throw new CliError(`Identity argument invalid or file unreadable: ${arg}`);
  return id;
}

function writeOut(path: string, data: string | Uint8Array, io: CliIo, secret: boolean): void {
  const full = resolve(io.cwd, path);
  try {
    if (secret) writeSecretFileAtomic(full, data);
    else writeFileAtomic(full, data);
  } catch {
    throw new CliError(`Error writing to ${path}`);
  }
}

/** Parse a vanity prefix: hex, masked to 40 bits, 4 bits per character (at most 40). */
export function parseVanity(text: string): { value: number; bits: number } {
  if (!/^[0-9a-fA-F]{1,10}$/.test(text)) throw new CliError(`vanity prefix must be 1 to 10 hex digits: ${text}`);
  const bits = 4 * text.length;
  const value = Number.parseInt(text, 16);
  const lowest = value * 2 ** (40 - bits);
  const topByteFixed = bits >= 8;
  if ((topByteFixed && isReservedAddress(lowest) && lowest !== 0) || (bits === 40 && value === 0)) {
    throw new CliError(`vanity prefix ${text} can never be an address (reserved)`);
  }
  return { value, bits };
}

export interface GenerateArgs {
  secretFile?: string;
  publicFile?: string;
  vanity?: string;
  /** Source of new identities (tests substitute a deterministic one). */
  generate?: () => Identity;
}

export function cmdGenerate(args: GenerateArgs, io: CliIo): number {
  const generate = args.generate ?? generateIdentity;
  let id: Identity;
  if (args.vanity !== undefined) {
    const { value, bits } = parseVanity(args.vanity);
    const target = formatAddress(value * 2 ** (40 - bits));
    for (let tries = 1; ; tries++) {
      id = generate();
      if (Math.floor(id.address / 2 ** (40 - bits)) === value) {
        io.err(`${io.errIsTty ? '\r' : ''}vanity address: found ${formatAddress(id.address)} !${EOL}`);
        break;
      }
      const line = `vanity address: tried ${formatAddress(id.address)} looking for first ${bits} bits of ${target}`;
      io.err(io.errIsTty ? `\r${line} (${tries} tried)` : line + EOL);
    }
  } else {
    id = generate();
  }
  if (args.secretFile === undefined) {
    io.out(id.toString(true));
    return 0;
  }
  writeOut(args.secretFile, id.toString(true), io, true);
  io.out(`${args.secretFile} written${EOL}`);
  if (args.publicFile !== undefined) {
    writeOut(args.publicFile, id.toString(false), io, false);
    io.out(`${args.publicFile} written${EOL}`);
  }
  return 0;
}

export function cmdValidate(arg: string, io: CliIo): number {
  const id = readIdentityArg(arg, io);
  if (!id.locallyValidate()) throw new CliError(`${arg} FAILED validation.`);
  io.out(`${arg} is a valid identity${EOL}`);
  return 0;
}

export function cmdGetpublic(arg: string, io: CliIo): number {
  io.out(readIdentityArg(arg, io).toString(false));
  return 0;
}

function readFileArg(path: string, io: CliIo): Uint8Array {
  try {
    return readFileSync(resolve(io.cwd, path));
  } catch {
    throw new CliError(`${path} is not readable`);
  }
}

export function cmdSign(idArg: string, file: string, io: CliIo): number {
  const id = readIdentityArg(idArg, io);
  if (!id.hasPrivate) throw new CliError(`${idArg} does not contain a private key (must use private to sign)`);
  const data = readFileArg(file, io);
  io.out(toHex(id.sign(data)));
  return 0;
}

/** Upstream decodes at most 4096 bytes of signature hex. */
const VERIFY_MAX_SIGNATURE_BYTES = 4096;
/** Upstream treats a decoded signature of this many bytes or fewer as invalid outright. */
const VERIFY_MIN_SIGNATURE_BYTES = 6;

export function cmdVerify(idArg: string, file: string, signature: string, io: CliIo): number {
  const id = readIdentityArg(idArg, io);
  const data = readFileArg(file, io);
  const check = (hex: string): boolean => {
    const sig = unhexLenient(hex.trim(), VERIFY_MAX_SIGNATURE_BYTES);
    return sig.length >= VERIFY_MIN_SIGNATURE_BYTES && id.verify(data, sig);
  };
  let ok = check(signature);
  if (!ok && existsSync(resolve(io.cwd, signature))) {
    // not a valid literal: the argument may name a file holding the hex
    ok = check(readFileSync(resolve(io.cwd, signature), 'utf8'));
  }
  if (!ok) throw new CliError(`${file} signature check FAILED`);
  io.out(`${file} signature valid${EOL}`);
  return 0;
}

function readSeed(arg: string, io: CliIo): Identity {
  const id = identityFromArg(arg, io);
  if (!id) throw new CliError(`${arg} is not a valid identity`);
  return id;
}

export function cmdInitmoon(arg: string, io: CliIo): number {
  io.out(formatWorldJson(initMoonJson(readSeed(arg, io))) + EOL);
  return 0;
}

export function cmdInitplanet(arg: string, worldId: string | undefined, io: CliIo): number {
  let id: bigint | undefined;
  if (worldId !== undefined) {
    if (!/^(0x)?[0-9a-fA-F]{1,16}$/.test(worldId)) throw new CliError(`world ID must be 1 to 16 hex digits: ${worldId}`);
    id = BigInt('0x' + worldId.replace(/^0x/, ''));
    if (id === 0n) throw new CliError('world ID must not be zero');
  }
  io.out(formatWorldJson(initPlanetJson(readSeed(arg, io), id)) + EOL);
  return 0;
}

function readWorldJson(file: string, io: CliIo): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(resolve(io.cwd, file), 'utf8');
  } catch {
    throw new CliError(`cannot read ${file}`);
  }
  try {
    const json = JSON.parse(text) as unknown;
    if (!json || typeof json !== 'object' || Array.isArray(json)) throw new Error('not an object');
    return json as Record<string, unknown>;
  } catch (e) {
    throw new CliError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
}

function build(file: string, json: Record<string, unknown>, io: CliIo, overrides: Partial<WorldJson> = {}): World {
  try {
    return buildWorld({ ...json, ...overrides }, BigInt(io.now())).world;
  } catch (e) {
    if (e instanceof WorldError) {
      if (e.message === 'world ID is invalid') throw new CliError(`ID in ${file} is invalid`);
      throw new CliError(`${file}: ${e.message}`);
    }
    throw e;
  }
}

/** planets are written as `planet` (what a node's home directory expects), moons as `<id>.moon`. */
function worldFileName(world: World, planetAsPlanetFile: boolean): string {
  return planetAsPlanetFile && world.type === WorldType.planet ? 'planet' : world.fileName;
}

function writeWorld(world: World, name: string, io: CliIo, note = ''): void {
  writeOut(name, world.serialize(), io, false);
  io.out(`wrote ${name} (signed world with timestamp ${world.timestamp}${note})${EOL}`);
}

/** genmoon: exactly like zerotier-idtool, including `<id>.moon` for a planet definition. */
export function cmdGenmoon(file: string, io: CliIo): number {
  const world = build(file, readWorldJson(file, io), io);
  writeWorld(world, worldFileName(world, false), io);
  return 0;
}

/** genplanet: a planet definition written as `planet`, ready for a node's home directory. */
export function cmdGenplanet(file: string, io: CliIo): number {
  const json = readWorldJson(file, io);
  if (json.worldType !== 'planet') throw new CliError(`${file}: worldType must be "planet" for genplanet (use genmoon for moons)`);
  const world = build(file, json, io);
  writeWorld(world, worldFileName(world, true), io);
  return 0;
}

/**
 * rotatekey: sign a new revision with the current signing key that names a fresh key for every
 * later revision, then store the fresh key pair in the definition (the old one is kept under
 * previousSigningKey for reference). Nodes holding the previous revision accept the new one
 * because the key they trust signed it.
 */
export function cmdRotatekey(file: string, io: CliIo): number {
  const json = readWorldJson(file, io);
  const next = generateKeyPair();
  const world = build(file, json, io, { updatesMustBeSignedBy: toHex(next.publicKey) });
  const rotated = {
    ...json,
    previousSigningKey: json.signingKey,
    previousSigningKey_SECRET: json.signingKey_SECRET,
    signingKey: toHex(next.publicKey),
    signingKey_SECRET: toHex(next.privateKey),
    updatesMustBeSignedBy: toHex(next.publicKey),
  };
  writeWorld(world, worldFileName(world, true), io, '; later revisions must be signed by the new key');
  writeOut(file, formatWorldJson(rotated) + EOL, io, true);
  io.out(`updated ${file} with the new signing key${EOL}`);
  return 0;
}

/** inspect: decode a .moon or planet file and print it as JSON, with its signature status. */
export function cmdInspect(file: string, io: CliIo): number {
  const bytes = readFileArg(file, io);
  const decoded = World.decode(bytes);
  if (typeof decoded === 'string') throw new CliError(`${file} is not a world file (${decoded})`);
  const { world, length } = decoded;
  const view = {
    ...describeWorld(world),
    fileName: worldFileName(world, true),
    selfSigned: world.verifySignature(world.updatesMustBeSignedBy),
    ...(length !== bytes.length ? { trailingBytes: bytes.length - length } : {}),
  };
  io.out(JSON.stringify(view, null, 1) + EOL);
  return 0;
}
